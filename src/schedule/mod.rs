//! Cron schedules and the scheduler that decides when the node's jobs run.
//!
//! [`CronSpec`] is a schedule read from the text an admin types. [`Scheduler`]
//! is plain data: given the time, it says which job to start, which tick to
//! skip and which to queue, so that jobs never overlap. The caller owns the
//! clock and the running jobs; nothing here sleeps or spawns.
//!
//! A runner drives it in one loop: sleep until [`Scheduler::next_wake`] (or a
//! message), then carry out what [`Scheduler::due`] returns: start the job of a
//! [`Decision::Start`], log the others. When a job ends, [`Scheduler::finished`]
//! may start the job that waited for it. [`Scheduler::run_now`] and
//! [`Scheduler::cancel`] answer an admin's request; [`Scheduler::status`] is
//! what the shell shows.

mod field;
mod scheduler;
mod spec;
mod status;

pub use field::Unit;
pub use scheduler::{Cancel, Decision, Outcome, Scheduler, SkipReason};
pub use spec::CronSpec;
pub use status::{JobState, JobStatus, LastRun};

use chrono::{DateTime, Utc};

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
pub trait Clock {
    fn now(&self) -> DateTime<Utc>;
}

/// The system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

#[cfg(test)]
mod scheduler_tests;
#[cfg(test)]
mod spec_tests;
#[cfg(test)]
mod test_zone;
