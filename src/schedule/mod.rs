//! Cron schedules and the scheduler that decides when the node's jobs run.
//!
//! [`CronSpec`] is a schedule read from the text an admin types. [`Scheduler`]
//! is plain data: given the time, it says which job to start, so that the
//! UCM's import and merge never overlap and run once per tick. The server owns
//! the clock and the running jobs; nothing here sleeps or spawns.

mod cron;
mod field;
pub mod scheduler;
mod spec;

pub use cron::Cron;
pub use field::Unit;
pub use scheduler::{JobKind, JobView, Scheduler};
pub use spec::CronSpec;

/// Why a cron spec was refused. Each message names the field, the value and
/// what would be accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CronError {
    #[error(
        "the schedule is empty; expected 5 fields (minute hour day month weekday), e.g. `0 23 * * *`"
    )]
    Empty,
    #[error(
        "`{spec}`: expected 5 fields (minute hour day month weekday), 6 or 7 with seconds first; got {got}"
    )]
    FieldCount { spec: String, got: usize },
    #[error("{unit} {value} is out of range {min}-{max}")]
    OutOfRange {
        unit: Unit,
        value: u32,
        min: u32,
        max: u32,
    },
    #[error("{unit} `{value}` is not valid: {problem}")]
    Field {
        unit: Unit,
        value: String,
        problem: String,
    },
    #[error("unknown shorthand `{0}`; expected @yearly, @monthly, @weekly, @daily or @hourly")]
    Shorthand(String),
    #[error("`{spec}` never fires (no such date, or only in past years)")]
    Never { spec: String },
    #[error("`{spec}` is not accepted: {reason}")]
    Rejected { spec: String, reason: String },
}

/// Where the scheduler gets the time. The server uses [`SystemClock`]; tests
/// use a clock they move by hand.
#[cfg(test)]
mod spec_tests;
#[cfg(test)]
mod test_zone;
