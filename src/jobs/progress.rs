//! Where a long job is, and its cancellation.

use color_eyre::eyre::{Result, eyre};
use serde::{Deserialize, Serialize};

/// Where a long job is, for `sop server status` and the shell.
#[derive(Debug, Default)]
pub struct Progress {
    state: std::sync::Mutex<ProgressState>,
    cancelled: std::sync::atomic::AtomicBool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressState {
    pub stage: String,
    pub done: u64,
    /// 0 when unknown.
    pub total: u64,
}

impl Progress {
    pub fn set(&self, stage: &str, done: u64, total: u64) {
        if let Ok(mut s) = self.state.lock() {
            *s = ProgressState {
                stage: stage.to_string(),
                done,
                total,
            };
        }
    }

    pub fn get(&self) -> ProgressState {
        self.state.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Asks the running job to stop at its next step; nothing it did is applied.
    pub fn cancel(&self) {
        self.cancelled
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Clears a cancellation, for the next job.
    pub fn reset(&self) {
        self.cancelled
            .store(false, std::sync::atomic::Ordering::Relaxed);
        self.set("", 0, 0);
    }

    /// An error when the job was cancelled.
    pub fn check(&self) -> Result<()> {
        if self.cancelled.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(eyre!("cancelled; nothing was applied"));
        }
        Ok(())
    }
}
