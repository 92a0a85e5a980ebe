//! Whether a node's external contacts are this node's: compared by the snapshot's
//! content hash, then its origin and time.

use serde::{Deserialize, Serialize};

/// What is known of a node's external snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotId {
    pub hash: String,
    pub count: u64,
    /// The node whose import it is.
    pub origin: String,
    /// When it was imported, seconds since the Unix epoch.
    pub created: u64,
}

impl From<&crate::store::snapshot::SnapshotMeta> for SnapshotId {
    fn from(m: &crate::store::snapshot::SnapshotMeta) -> SnapshotId {
        SnapshotId {
            hash: m.hash.clone(),
            count: m.count,
            origin: m.origin.clone(),
            created: m.created,
        }
    }
}

/// A node's external contacts compared with this node's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sync {
    /// The same contacts.
    InSync,
    /// An older import than this node's, or none: a push brings it up to date.
    Behind,
    /// A newer import than this node's.
    Ahead,
    /// Other contacts of the same age, or imported from elsewhere (each node
    /// imported its own list).
    Diverged,
    /// The node did not answer.
    Unknown,
}

impl Sync {
    pub fn words(self) -> &'static str {
        match self {
            Sync::InSync => "in sync",
            Sync::Behind => "behind",
            Sync::Ahead => "ahead",
            Sync::Diverged => "diverged",
            Sync::Unknown => "unreachable",
        }
    }
}

/// Compares the node's snapshot (`theirs`) with this node's (`ours`).
pub fn compare(ours: Option<&SnapshotId>, theirs: Option<&SnapshotId>) -> Sync {
    match (ours, theirs) {
        (None, None) => Sync::InSync,
        (Some(_), None) => Sync::Behind,
        (None, Some(_)) => Sync::Ahead,
        (Some(o), Some(t)) if o.hash == t.hash => Sync::InSync,
        (Some(o), Some(t)) if o.origin != t.origin || o.created == t.created => Sync::Diverged,
        (Some(o), Some(t)) if t.created < o.created => Sync::Behind,
        _ => Sync::Ahead,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(hash: &str, origin: &str, created: u64) -> SnapshotId {
        SnapshotId {
            hash: hash.into(),
            count: 1,
            origin: origin.into(),
            created,
        }
    }

    #[test]
    fn comparison() {
        let ours = id("h1", "a", 100);
        assert_eq!(
            compare(Some(&ours), Some(&id("h1", "a", 100))),
            Sync::InSync
        );
        // The same contacts imported at another time are the same contacts.
        assert_eq!(compare(Some(&ours), Some(&id("h1", "b", 50))), Sync::InSync);
        assert_eq!(compare(Some(&ours), None), Sync::Behind);
        assert_eq!(compare(None, Some(&ours)), Sync::Ahead);
        assert_eq!(compare(None, None), Sync::InSync);
        assert_eq!(compare(Some(&ours), Some(&id("h0", "a", 90))), Sync::Behind);
        assert_eq!(compare(Some(&ours), Some(&id("h2", "a", 110))), Sync::Ahead);
        assert_eq!(
            compare(Some(&ours), Some(&id("h2", "a", 100))),
            Sync::Diverged
        );
        assert_eq!(
            compare(Some(&ours), Some(&id("h2", "b", 90))),
            Sync::Diverged
        );
    }
}
