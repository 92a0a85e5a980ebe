//! Whether a node's imported contacts are this node's: compared by their content
//! hash, then their origin and time.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What is known of a node's imported contacts: one snapshot, or several taken as
/// one (`combined`).
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

/// One imported snapshot as a push names it: its source (`ext`, a directory
/// source), the priority it is merged with (None: the receiver's own `[ucm]
/// priority`, as pushes before directory sources travelled), and what it holds.
pub type Named<'a> = (&'a str, Option<i32>, &'a SnapshotId);

/// Several imported snapshots taken as one, for "in sync": the external contacts
/// alone keep their own id (nodes of the previous version compare it); else the
/// hash is the SHA-256 of every snapshot's source, priority and hash, by source,
/// the count their sum, the time the newest one's, and the origin the
/// nodes whose imports they are (`a`, or `a+c` when a node serves a sync of its
/// own beside another's imports: diverged, never behind). None when there is none.
pub fn combined<'a>(parts: impl IntoIterator<Item = Named<'a>>) -> Option<SnapshotId> {
    let mut parts: Vec<Named> = parts.into_iter().collect();
    // By source: the order sources are listed in does not change what is served.
    parts.sort_by(|a, b| a.0.cmp(b.0));
    match parts.as_slice() {
        [] => return None,
        [(source, _, id)] if *source == crate::ucm::import::EXTERNAL => return Some((*id).clone()),
        _ => {}
    }
    let mut hash = Sha256::new();
    for (source, priority, id) in &parts {
        let priority = priority.map_or_else(|| "-".to_string(), |p| p.to_string());
        hash.update(format!("{source}\t{priority}\t{}\n", id.hash));
    }
    let mut origins: Vec<&str> = parts.iter().map(|(_, _, id)| id.origin.as_str()).collect();
    origins.sort_unstable();
    origins.dedup();
    Some(SnapshotId {
        hash: hash.finalize().iter().map(|b| format!("{b:02x}")).collect(),
        count: parts.iter().map(|(_, _, id)| id.count).sum(),
        origin: origins.join("+"),
        created: parts.iter().map(|(_, _, id)| id.created).max().unwrap_or(0),
    })
}

/// A node's imported contacts compared with this node's.
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
#[allow(clippy::unwrap_used)]
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

    #[test]
    fn several_snapshots_as_one() {
        let ext = id("h1", "a", 100);
        let corp = id("h2", "a", 200);
        assert_eq!(combined([]), None);
        // The external contacts alone are named as before.
        assert_eq!(combined([("ext", Some(20), &ext)]), Some(ext.clone()));
        let both = combined([("ext", Some(20), &ext), ("corp", Some(30), &corp)]).unwrap();
        assert_eq!(
            (both.count, both.created, both.origin.as_str()),
            (2, 200, "a")
        );
        assert_eq!(both.hash.len(), 64);
        // Another priority, another source name or another snapshot: another id.
        // A node serving a sync of its own beside another's import is diverged,
        // however old either is: a push does not change its own.
        let own = id("h3", "c", 150);
        let mixed = combined([("ext", Some(20), &ext), ("corp", Some(30), &own)]).unwrap();
        assert_eq!((mixed.origin.as_str(), mixed.created), ("a+c", 150));
        assert_eq!(compare(Some(&both), Some(&mixed)), Sync::Diverged);
        for other in [
            combined([("ext", Some(20), &ext), ("corp", Some(31), &corp)]),
            combined([("ext", Some(20), &ext), ("hr", Some(30), &corp)]),
            combined([("ext", Some(20), &ext), ("corp", Some(30), &ext)]),
            combined([("corp", Some(30), &corp)]),
        ] {
            assert_ne!(other.unwrap().hash, both.hash);
        }
    }
}
