//! A rollback holds: the generation it made current stays served until an import
//! or a sync changes one of the imported lists (or a merge is forced). Without
//! this, the next scheduled merge would publish the bad import again.

use crate::home::Home;
use crate::store::snapshot;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pin {
    /// The generation the rollback made current.
    pub generation: u64,
    /// The rollback's job.
    pub job: i64,
    /// Each imported list (its snapshot file's name) and its content hash then.
    pub lists: BTreeMap<String, String>,
}

fn path(home: &Home) -> PathBuf {
    home.data_dir().join("rollback.json")
}

/// The imported lists as they are now: each snapshot file of the sources folder
/// (the UCM's external contacts, each directory source) and of the directory
/// sources received from another node (`received/<file>`), and its content hash.
pub fn lists(home: &Home) -> BTreeMap<String, String> {
    let in_dir = |dir: PathBuf, prefix: &'static str| {
        std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "snap"))
            .filter_map(move |p| {
                let name = format!("{prefix}{}", p.file_name()?.to_str()?);
                let hash = snapshot::read_meta(&p).ok().flatten().map(|m| m.hash);
                Some((name, hash.unwrap_or_default()))
            })
    };
    in_dir(home.sources_dir(), "")
        .chain(in_dir(super::received::received_dir(home), "received/"))
        .collect()
}

/// The rollback in force, if any.
pub fn read(home: &Home) -> Option<Pin> {
    let text = std::fs::read_to_string(path(home)).ok()?;
    serde_json::from_str(&text).ok()
}

/// Holds the generation a rollback made current, against the lists as they are.
pub fn write(home: &Home, generation: u64, job: i64) -> std::io::Result<()> {
    let pin = Pin {
        generation,
        job,
        lists: lists(home),
    };
    let text = serde_json::to_string_pretty(&pin).map_err(std::io::Error::other)?;
    let tmp = path(home).with_extension("tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path(home))
}

/// Releases the rollback: the next merge publishes anew.
pub fn clear(home: &Home) {
    let _ = std::fs::remove_file(path(home));
}

impl Pin {
    /// What a merge says while it holds.
    pub fn kept(&self) -> String {
        format!(
            "rollback kept: the imported lists have not changed since the rollback (job {}), \
             so generation {} stays served; an import or sync that changes them, or \
             sop ucm merge --force, publishes anew",
            self.job, self.generation
        )
    }
}
