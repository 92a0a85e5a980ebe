//! The shell's messages: what the terminal, the tick and finished effects feed
//! into `App::update`. Plain data; this file imports no screen, so that screens,
//! the model and the effect runner all depend on it and not on each other.

use crate::config::Config;
use crate::control::Status;
use crate::directory::lookup::Found;
use crate::store::Job;
use chrono::{DateTime, Local};
use crossterm::event::KeyEvent;

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
    Status(Result<Option<Box<Status>>, String>),
    Config(Result<Box<Config>, String>),
    Jobs(Result<Vec<Job>, String>),
    JobErrors(i64, Result<Vec<(String, String)>, String>),
    Found {
        seq: u64,
        result: Result<Found, String>,
    },
    /// Internal contacts found in the store (the server is stopped), and how
    /// long the search took in microseconds.
    FoundInternal {
        seq: u64,
        result: Result<(Vec<crate::contacts::Contact>, u64), String>,
    },
    PhoneFound {
        seq: u64,
        result: Result<Found, String>,
    },
    Log(Result<Chunk, String>),
    /// Long or short work finished: a line for the message bar.
    Done {
        result: Result<String, String>,
    },
    /// An internal contact read for editing.
    ContactLoaded(Result<Box<crate::contacts::Contact>, String>),
    /// A directory source's test: its preview, or why it failed.
    SourceTested(Result<Box<crate::sources::sync::SyncReport>, String>),
    /// A directory source's form was saved (or refused with the reason).
    SourceSaved(Result<String, String>),
    /// The UCM form was saved (or refused with the reason).
    Saved(Result<String, String>),
    /// The cluster's nodes checked.
    Cluster(Result<Box<crate::cluster::status::ClusterStatus>, String>),
    /// A node's progress in the running push.
    ClusterProgress {
        node: String,
        text: String,
    },
    /// SIGHUP, SIGTERM: leave now.
    Quit,
}
