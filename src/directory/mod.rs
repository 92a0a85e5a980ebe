//! The served directory: contacts merged from every source into a numbered generation,
//! and the immutable, indexed snapshot the LDAP server answers from. Everything here is pure.

pub mod filter;
pub mod index;
pub mod matching;
pub mod merge;
pub mod object_classes;
pub mod schema;
pub mod served;

pub use filter::{Filter, FilterError, FilterLimits};
pub use served::{Builder, Directory, EntryRef};

pub use schema::Attr;

use crate::contacts::Contact;
use serde::{Deserialize, Serialize};

/// A contact as published in a generation: `uid` is stable across generations and
/// makes the DN (`uid=<uid>,<base_dn>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServedContact {
    pub uid: String,
    /// Name of the source it came from (`internal`, `external`, a directory source...).
    pub source: String,
    pub contact: Contact,
}

/// What a merge produced: the contacts to serve, in served order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Generation {
    pub number: u64,
    /// Seconds since the Unix epoch.
    pub created: u64,
    pub contacts: Vec<ServedContact>,
}

/// FNV-1a of a string: stable across releases and machines, unlike std's hasher,
/// so it can name things that outlive a process (uids) as well as key lookups.
pub fn stable_hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// How telephone numbers match. Unconfigured (the default), exactly OpenLDAP's
/// telephoneNumberMatch: spaces and hyphens are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NumberRules {
    /// Country code without `+` or `00`, e.g. `49`.
    pub country_code: Option<String>,
    /// National trunk prefix, e.g. `0`.
    pub trunk_prefix: Option<String>,
}
