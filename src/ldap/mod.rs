//! The LDAP phone book server: read-only LDAP v3 (tolerant of v2 binds).
//!
//! Transport (`listener`, `limiter`, `connection`, `tls`, `frame`) moves bytes and
//! enforces limits, and `slow_lane` answers costly requests on a thread apart; handling
//! (`session`, `search`, `rootdse`, `paging`) decides answers as plain functions over
//! an immutable directory snapshot.

pub mod access;
pub mod connection;
pub mod encode;
pub mod frame;
pub mod limiter;
pub mod listener;
pub mod paging;
pub mod policy;
pub mod rootdse;
pub mod search;
pub mod session;
pub mod slow_lane;
pub mod tls;
pub mod vlv;
