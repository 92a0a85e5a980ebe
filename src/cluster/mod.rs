//! Cluster Replication: this node pushes its imported contacts (the external ones
//! and every directory source's, `imported`) to the other nodes over SSH, and
//! shows whether each node's phones see what it sees.
//!
//! The transport is the system's `ssh` client in batch mode running `sop` on the
//! node: `sop cluster receive` takes a snapshot on its standard input, `sop cluster
//! state` says what the node serves. Both answer one JSON object on standard output.

pub use crate::config::cluster as config;
pub mod delta;
pub mod imported;
pub mod push;
pub mod receive;
pub mod records;
pub mod sent;
pub mod ssh;
pub mod state;
pub mod status;
pub mod sync;
pub mod wire;

/// The module that enables the cluster commands.
pub const MODULE: &str = "cluster";
