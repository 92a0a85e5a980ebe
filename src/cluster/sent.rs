//! The snapshots this node pushed that a node still holds, kept so that the next
//! push to that node sends only their changes (`delta`): in `data/cluster/sent/`,
//! as hard links to the files pushed (a copy where a link cannot be made), each
//! named by its source and hash. Those no node holds any more are removed.

use super::records::{Held, Records};
use crate::home::Home;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn dir(home: &Home) -> PathBuf {
    home.data_dir().join("cluster").join("sent")
}

/// Where the snapshot `hash` of `source` is kept.
pub fn path(home: &Home, source: &str, hash: &str) -> PathBuf {
    dir(home).join(format!("{source}-{}.snap", hash.get(..16).unwrap_or(hash)))
}

/// Keeps the file of a snapshot about to be pushed (read under the imports'
/// lock: it is the snapshot of that hash). A failure only costs the next push
/// its changes: it then sends the snapshot whole.
pub fn keep(home: &Home, source: &str, hash: &str, file: &Path) {
    let to = path(home, source, hash);
    if to.exists() {
        return;
    }
    let kept = std::fs::create_dir_all(dir(home)).and_then(|()| {
        std::fs::hard_link(file, &to).or_else(|_| std::fs::copy(file, &to).map(drop))
    });
    if let Err(e) = kept {
        tracing::warn!(
            "cannot keep {} for the next push's changes: {e}",
            to.display()
        );
    }
}

/// Removes the kept snapshots no node holds.
pub fn prune(home: &Home, records: &Records) {
    let held: BTreeSet<PathBuf> = records
        .values()
        .flat_map(|r| &r.holds)
        .map(|Held { source, hash }| path(home, source, hash))
        .collect();
    let Ok(entries) = std::fs::read_dir(dir(home)) else {
        return;
    };
    for e in entries.flatten() {
        if !held.contains(&e.path()) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}
