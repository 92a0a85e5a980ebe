//! The node's jobs, one function each, under both front ends: the CLI's verbs and
//! the shell's effects call these and only show what they return, worded by
//! [`words`]. A job is asked of the running application server (which runs it
//! after any job it is running, so that nothing of either is lost), or run here
//! when the server is stopped; the caller learns which from the report.

pub mod checklist;
pub mod jobs;
pub mod settings;
pub mod words;

use crate::control::CallError;
use crate::home::Home;
use std::time::Duration;

/// Imports and merges of a million contacts take seconds; this is for a hung server.
pub const JOB_TIMEOUT: Duration = Duration::from_secs(600);
/// A sync of a large directory takes a while; this is for a hung server.
pub const SYNC_TIMEOUT: Duration = Duration::from_secs(3600);

#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    /// The job failed, in the server or here; nothing of it was applied.
    #[error("{what} failed: {message}")]
    Failed { what: String, message: String },
    #[error("unexpected reply from the application server: {0}")]
    Unexpected(String),
    #[error(transparent)]
    Call(#[from] CallError),
}

impl OpsError {
    /// Why a guard of the job held it, when one did (nothing was published; the
    /// reason says how to force it).
    pub fn held(&self) -> Option<&str> {
        match self {
            OpsError::Failed { message, .. } if message.starts_with("held:") => Some(message),
            _ => None,
        }
    }

    fn failed(what: impl Into<String>, message: impl Into<String>) -> OpsError {
        OpsError::Failed {
            what: what.into(),
            message: message.into(),
        }
    }
}

/// Runs `f` here, off the async threads; its failure is `what` failing, with what
/// to do when the disk holding the home is full.
async fn here<T: Send + 'static>(
    home: &Home,
    what: &str,
    f: impl FnOnce(&Home) -> color_eyre::Result<T> + Send + 'static,
) -> Result<T, OpsError> {
    let h = home.clone();
    match tokio::task::spawn_blocking(move || f(&h)).await {
        Ok(Ok(t)) => Ok(t),
        Ok(Err(e)) => Err(OpsError::failed(
            what,
            home.explain_failure(format!("{e:#}")),
        )),
        Err(e) => Err(OpsError::failed(what, format!("the task failed: {e}"))),
    }
}
