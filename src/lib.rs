//! `sop`: the admin shell and application server of a telephony node.
//!
//! A node serves its phone book to IP desk phones over LDAP. The library holds
//! everything; `src/main.rs` only parses the command line and dispatches.

pub mod bench;
pub mod cli;
pub mod cluster;
pub mod codec;
pub mod config;
pub mod contacts;
pub mod control;
pub mod directory;
pub mod export;
pub mod formats;
pub mod home;
pub mod jobs;
pub mod ldap;
pub mod logs;
pub mod modules;
pub mod node;
pub mod ops;
pub mod phones;
pub mod schedule;
pub mod server;
pub mod sources;
pub mod store;
pub mod tui;
pub mod ucm;
pub mod validate;
