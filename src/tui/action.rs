//! The shell's messages: what the terminal, the tick and finished effects feed
//! into `App::update`. Plain data; this file imports no screen, so that screens,
//! the model and the effect runner all depend on it and not on each other.

use crate::config::Config;
use crate::control::Status;
use crate::directory::lookup::Found;
use crate::store::Job;
use chrono::{DateTime, Local};
use crossterm::event::KeyEvent;

/// Why work the shell asked for did not happen, worded for the message line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// The application server did not answer in time.
    #[error("not answering within {secs} s (hung?); Stop ends it")]
    Hung { secs: u64 },
    /// A guard of the job held it: nothing was published; says how to force it.
    #[error("{0}")]
    Held(String),
    /// The application server refused it, with its reason.
    #[error("{0}")]
    Refused(String),
    /// The work failed, here or in the server.
    #[error("{0}")]
    Failed(String),
}

impl From<color_eyre::Report> for Failure {
    fn from(e: color_eyre::Report) -> Failure {
        Failure::Failed(format!("{e:#}"))
    }
}

impl From<crate::config::ConfigError> for Failure {
    fn from(e: crate::config::ConfigError) -> Failure {
        Failure::Failed(e.to_string())
    }
}

impl From<crate::ops::OpsError> for Failure {
    fn from(e: crate::ops::OpsError) -> Failure {
        match e.held() {
            Some(why) => Failure::Held(why.to_string()),
            None => Failure::Failed(e.to_string()),
        }
    }
}

impl From<crate::control::CallError> for Failure {
    fn from(e: crate::control::CallError) -> Failure {
        Failure::Failed(e.to_string())
    }
}

/// Log text read from an offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub text: String,
    /// Where the next read starts.
    pub offset: u64,
    /// The text replaces what is shown (first read, or a rotated log).
    pub restart: bool,
}

/// Results and events the loop feeds in.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Key(KeyEvent),
    /// Any other terminal event that needs a redraw (resize, focus).
    Redraw,
    /// The slow tick: the clock moves, status and logs are refreshed.
    Tick(DateTime<Local>),
    Status(Result<Option<Box<Status>>, Failure>),
    Config(Result<Box<Config>, Failure>),
    Jobs(Result<Vec<Job>, Failure>),
    JobErrors(i64, Result<Vec<(String, String)>, Failure>),
    Found {
        seq: u64,
        result: Result<Found, Failure>,
    },
    /// Internal contacts found in the store (the server is stopped), and how
    /// long the search took in microseconds.
    FoundInternal {
        seq: u64,
        result: Result<(Vec<crate::contacts::Contact>, u64), Failure>,
    },
    PhoneFound {
        seq: u64,
        result: Result<Found, Failure>,
    },
    Log(Result<Chunk, Failure>),
    /// Long or short work finished: a line for the message bar.
    Done {
        result: Result<String, Failure>,
    },
    /// An internal contact read for editing.
    ContactLoaded(Result<Box<crate::contacts::Contact>, Failure>),
    /// A directory source's test: its preview, or why it failed.
    SourceTested(Result<Box<crate::sources::sync::SyncReport>, Failure>),
    /// A directory source's form was saved (or refused with the reason).
    SourceSaved(Result<String, Failure>),
    /// The UCM form was saved (or refused with the reason).
    Saved(Result<String, Failure>),
    /// The cluster's nodes checked.
    Cluster(Result<Box<crate::cluster::status::ClusterStatus>, Failure>),
    /// A node's progress in the running push.
    ClusterProgress {
        node: String,
        text: String,
    },
    /// SIGHUP, SIGTERM: leave now.
    Quit,
}
