//! The directory sources received from another node (Cluster Replication), as
//! the merge serves them, kept apart from the node's own in
//! `data/sources/received/`: one file per snapshot (`<source>-<hash>.snap`) and
//! `manifest.json`, which names the files of the last push received, their
//! priorities, and the external snapshot that came with them. Replacing the
//! manifest (written aside, synced, renamed) is what replaces the received
//! sources, all at once. A received source is served under its origin's name
//! (its contacts' uids are the origin's: `corp-u5`), unless this node syncs a
//! directory source of that name itself: then its own sync decides those
//! contacts, and the received one is kept but not served (the merge says so).

use crate::config::Config;
use crate::directory::merge::Source;
use crate::home::Home;
use crate::store::snapshot;
use color_eyre::eyre::{Result, eyre};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// What the last push received brought, besides the files themselves.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The hash naming that push's snapshots together (`sync::combined`).
    pub hash: String,
    /// The node that pushed it.
    pub sender: String,
    /// The external snapshot stored with it, while it is the node's external one.
    pub external: Option<Entry>,
    /// The directory sources received, in the order they came.
    pub sources: Vec<Entry>,
}

/// One received snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub source: String,
    /// The priority the origin merges it with; None: this node's own.
    pub priority: Option<i32>,
    pub hash: String,
    pub count: u64,
}

/// Where received directory sources are kept.
pub fn received_dir(home: &Home) -> PathBuf {
    home.sources_dir().join("received")
}

pub fn manifest_path(home: &Home) -> PathBuf {
    received_dir(home).join("manifest.json")
}

/// The file of a received directory source's snapshot: a name of its own for
/// each snapshot, so that storing a new one replaces nothing in use.
pub fn file_of(home: &Home, source: &str, hash: &str) -> PathBuf {
    let short = hash.get(..16).unwrap_or(hash);
    received_dir(home).join(format!("{source}-{short}.snap"))
}

/// The manifest of the last push received; an empty one when there was none.
pub fn read_manifest(home: &Home) -> Result<Manifest> {
    let path = manifest_path(home);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
            eyre!(
                "{} is damaged ({e}); push to this node again to replace it",
                path.display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Manifest::default()),
        Err(e) => Err(eyre!("cannot read {}: {e}", path.display())),
    }
}

/// Replaces the manifest: written aside, synced, renamed.
pub fn write_manifest(home: &Home, manifest: &Manifest) -> std::io::Result<()> {
    use std::io::Write;
    let path = manifest_path(home);
    let tmp = path.with_extension("json.tmp");
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&serde_json::to_vec_pretty(manifest).map_err(std::io::Error::other)?)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written?;
    if let Some(dir) = path.parent()
        && let Ok(d) = std::fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Whether this node syncs a directory source of that name itself (then its own
/// sync decides those contacts, not a received one).
pub fn own_source(config: &Config, name: &str) -> bool {
    config.modules.contains(crate::sources::MODULE) && config.sources.iter().any(|s| s.name == name)
}

/// The priority the external contacts are merged with: the origin's when they
/// are the ones a push brought, else this node's `[ucm] priority`.
pub fn external_priority(config: &Config, manifest: &Manifest, hash: &str) -> i32 {
    manifest
        .external
        .as_ref()
        .filter(|e| e.hash == hash)
        .and_then(|e| e.priority)
        .unwrap_or(config.ucm.priority)
}

/// What the merge takes of the received directory sources: the sources served
/// (under their origin's names and priorities), the names of those whose file is
/// missing, and a note for each one not served because this node syncs its own.
/// A damaged file or manifest stops the merge.
pub fn merge_sources(
    home: &Home,
    config: &Config,
) -> Result<(Vec<Source>, Vec<String>, Vec<String>)> {
    let manifest = read_manifest(home)?;
    let (mut served, mut missing, mut notes) = (Vec::new(), Vec::new(), Vec::new());
    for e in manifest.sources {
        if own_source(config, &e.source) {
            notes.push(format!(
                "the directory source {} received from {} is not served: this node syncs its own {}",
                e.source, manifest.sender, e.source
            ));
            continue;
        }
        match snapshot::read(&file_of(home, &e.source, &e.hash)) {
            Ok(Some((_, contacts))) => served.push(Source {
                name: e.source,
                priority: e
                    .priority
                    .unwrap_or(crate::sources::settings::DEFAULT_PRIORITY),
                contacts,
            }),
            Ok(None) => missing.push(e.source),
            Err(e) => return Err(eyre!("{e}; the previous generation keeps serving")),
        }
    }
    Ok((served, missing, notes))
}

/// The names of the received directory sources this node serves.
pub fn served_names(home: &Home, config: &Config) -> Vec<String> {
    read_manifest(home)
        .map(|m| m.sources)
        .unwrap_or_default()
        .into_iter()
        .filter(|e| !own_source(config, &e.source))
        .map(|e| e.source)
        .collect()
}
