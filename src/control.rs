//! The control socket: one JSON request per line, one JSON reply per line, over a
//! Unix socket in the node's home (mode 0600). The CLI verbs and the shell use it.

use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "request", rename_all = "snake_case")]
pub enum Request {
    Status,
    /// Serve the generation the store now points to.
    Reload,
    /// Merge every source into a new generation, publish it and serve it.
    Merge {
        /// Publish even what the removal guard holds.
        #[serde(default)]
        force: bool,
    },
    /// Sync bundles: apply config.toml's modules and settings without a restart.
    Sync,
    /// Import the external contacts (after any running job).
    Import {
        dry_run: bool,
        force: bool,
    },
    /// Sync a directory source, then merge and serve (after any running job).
    SyncSource {
        name: String,
    },
    /// Stop the running import at its next step.
    Cancel,
    /// Search the served directory with an LDAP filter, as the shell does.
    Search {
        filter: String,
        limit: usize,
    },
    /// List the served directory in order, a window of it, as a phone browses it.
    Browse {
        filter: String,
        sort: Vec<String>,
        from: crate::directory::lookup::From,
        limit: usize,
    },
    Shutdown,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reply", rename_all = "snake_case")]
pub enum Reply {
    Status(Status),
    Reloaded {
        generation: u64,
        contacts: usize,
    },
    Merged(crate::ucm::MergeReport),
    Synced {
        changes: Vec<String>,
    },
    Imported {
        job: i64,
        report: crate::ucm::import::ImportReport,
    },
    /// A directory source synced (and, unless held, merged and served).
    SourceSynced {
        job: i64,
        report: crate::sources::sync::SyncReport,
        /// The merge that followed (none when the sync was held).
        merged: Option<crate::ucm::MergeReport>,
    },
    Found(crate::directory::lookup::Found),
    Ok,
    Error {
        message: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    pub node: String,
    pub version: String,
    pub pid: u32,
    /// Seconds since the Unix epoch.
    pub started: u64,
    pub uptime_secs: u64,
    pub listen: Vec<String>,
    pub ldaps_listen: Vec<String>,
    pub base_dn: String,
    pub generation: u64,
    /// How long building the served generation took.
    pub generation_load_ms: u64,
    pub contacts: usize,
    pub connections: usize,
    /// Every bundle of the catalog's modules, and its state.
    pub bundles: Vec<BundleStatus>,
    /// The UCM's import and merge: crons, next runs, running or waiting.
    pub jobs: Vec<crate::schedule::JobView>,
    /// Where the running job is.
    pub progress: crate::ucm::ProgressState,
    /// Server log lines that could not be written (a full disk, a closed terminal).
    #[serde(default)]
    pub log_lines_dropped: u64,
    /// Access log lines that could not be written or queued.
    #[serde(default)]
    pub access_lines_dropped: u64,
    /// `[[phonebooks]]` served beside the main phone book.
    #[serde(default)]
    pub phonebooks: Vec<PhonebookStatus>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhonebookStatus {
    pub name: String,
    pub base_dn: String,
    pub contacts: usize,
    /// Seen only by phones that bind with its own DN.
    pub bind_dn: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BundleStatus {
    pub name: String,
    pub module: String,
    /// "running", "stopped" or "not installed".
    pub state: String,
}

/// Why the server could not be asked.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("the application server is not running (no control socket at {0})")]
    NotRunning(String),
    #[error("the application server does not answer on {0} within {1} s (hung?)")]
    Timeout(String, u64),
    #[error("control socket {0}: {1}")]
    Io(String, std::io::Error),
    #[error("control socket {0}: unreadable reply: {1}")]
    BadReply(String, String),
}

/// Sends one request and waits for its reply.
pub async fn call(socket: &Path, request: &Request, timeout: Duration) -> Result<Reply, CallError> {
    let shown = socket.display().to_string();
    let exchange = async {
        let stream = UnixStream::connect(socket)
            .await
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused => {
                    CallError::NotRunning(shown.clone())
                }
                _ => CallError::Io(shown.clone(), e),
            })?;
        let (read, mut write) = stream.into_split();
        let mut line = serde_json::to_string(request)
            .map_err(|e| CallError::BadReply(shown.clone(), e.to_string()))?;
        line.push('\n');
        write
            .write_all(line.as_bytes())
            .await
            .map_err(|e| CallError::Io(shown.clone(), e))?;
        let mut reply = String::new();
        BufReader::new(read)
            .read_line(&mut reply)
            .await
            .map_err(|e| CallError::Io(shown.clone(), e))?;
        serde_json::from_str(&reply).map_err(|e| CallError::BadReply(shown.clone(), e.to_string()))
    };
    match tokio::time::timeout(timeout, exchange).await {
        Ok(r) => r,
        Err(_) => Err(CallError::Timeout(shown, timeout.as_secs())),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn wire_format_is_one_tagged_json_object() {
        assert_eq!(
            serde_json::to_string(&Request::Status).unwrap(),
            r#"{"request":"status"}"#
        );
        let r: Reply = serde_json::from_str(r#"{"reply":"error","message":"x"}"#).unwrap();
        assert_eq!(
            r,
            Reply::Error {
                message: "x".into()
            }
        );
    }
}
