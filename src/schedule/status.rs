//! What the scheduler shows about each job: its state, next run and last run.

use super::Outcome;
use chrono::{DateTime, FixedOffset, Utc};
use std::fmt;

/// One finished run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastRun {
    /// The tick it ran for; `None` when run by hand.
    pub tick: Option<DateTime<Utc>>,
    pub started: DateTime<Utc>,
    pub finished: DateTime<Utc>,
    pub outcome: Outcome,
}

/// Whether a job runs, waits for another job to end, or neither.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobState {
    Idle,
    Queued,
    Running {
        since: DateTime<Utc>,
        /// A cancel was asked for and the job has not ended yet.
        cancelling: bool,
    },
}

/// A job's status, for the shell and the control socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobStatus {
    pub name: String,
    /// The cron spec as the admin typed it.
    pub spec: String,
    pub state: JobState,
    /// The next tick, in the scheduler's time zone; `None` if it never fires again.
    pub next: Option<DateTime<FixedOffset>>,
    pub last: Option<LastRun>,
    /// When the last run ended, in the scheduler's time zone.
    pub last_finished: Option<DateTime<FixedOffset>>,
}

impl JobStatus {
    /// "never run", or how and when the last run ended.
    pub fn last_text(&self) -> String {
        let Some(last) = &self.last else {
            return "never run".to_string();
        };
        let at = match &self.last_finished {
            Some(local) => local.format("%Y-%m-%d %H:%M"),
            None => last.finished.fixed_offset().format("%Y-%m-%d %H:%M"),
        };
        let seconds = (last.finished - last.started).num_seconds().max(0);
        match &last.outcome {
            Outcome::Ok(summary) if summary.is_empty() => format!("ok at {at} ({seconds} s)"),
            Outcome::Ok(summary) => format!("ok at {at} ({seconds} s): {summary}"),
            Outcome::Failed(error) => format!("failed at {at} ({seconds} s): {error}"),
            Outcome::Cancelled => format!("cancelled at {at} ({seconds} s)"),
        }
    }

    /// The next run as "2026-11-23 23:00 +01:00", or "none".
    pub fn next_text(&self) -> String {
        match &self.next {
            Some(next) => next.format("%Y-%m-%d %H:%M %:z").to_string(),
            None => "none".to_string(),
        }
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            JobState::Idle => "idle",
            JobState::Queued => "waiting for another job",
            JobState::Running {
                cancelling: true, ..
            } => "cancelling",
            JobState::Running { .. } => "running",
        };
        write!(
            f,
            "{} ({}): {state}; next {}; last {}",
            self.name,
            self.spec,
            self.next_text(),
            self.last_text()
        )
    }
}
