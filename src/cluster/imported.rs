//! The imported contacts a push carries and a node serves: the UCM's external
//! contacts and every directory source's, this node's own and those received from
//! another node, each with the priority it is merged with.
//!
//! Received directory sources are kept apart from the node's own, in
//! `data/sources/received/`: one file per snapshot (`<source>-<hash>.snap`) and
//! `manifest.json`, which names the files of the last push received, their
//! priorities, and the external snapshot that came with them. Replacing the
//! manifest (written aside, synced, renamed) is what replaces the received
//! sources, all at once. A received source is served under its origin's name
//! (its contacts' uids are the origin's: `corp-u5`), unless this node syncs a
//! directory source of that name itself: then its own sync decides those
//! contacts, and the received one is kept but not served (the merge says so).

use super::sync::{self, SnapshotId};
use crate::config::Config;
use crate::directory::merge::Source;
use crate::home::Home;
use crate::store::snapshot::{self, SnapshotMeta};
use crate::ucm::import::{self, EXTERNAL};
use color_eyre::eyre::{Result, eyre};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

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

/// One imported snapshot of this node, as it serves it.
#[derive(Debug, Clone)]
pub struct Part {
    /// `ext`, or a directory source's name.
    pub source: String,
    pub priority: i32,
    pub path: PathBuf,
    pub meta: SnapshotMeta,
    /// Received from another node (else this node's own import or sync).
    pub received: bool,
}

impl Part {
    /// What to do when its file is damaged.
    pub fn remedy(&self) -> String {
        if self.received {
            "push to this node again from its origin".to_string()
        } else if self.source == EXTERNAL {
            "import again to replace it (sop ucm import --force)".to_string()
        } else {
            format!("sync it again (sop sources sync {})", self.source)
        }
    }
}

fn meta(path: &Path) -> Result<Option<SnapshotMeta>> {
    snapshot::read_meta(path).map_err(|e| eyre!("{e}"))
}

/// This node's imported snapshots, as it serves them: the external contacts, its
/// own directory sources (while the module is installed), then the directory
/// sources received and not shadowed by its own. Only what the files say of
/// themselves is read, not their contacts.
pub fn parts(home: &Home, config: &Config) -> Result<Vec<Part>> {
    let manifest = read_manifest(home)?;
    let mut out = Vec::new();
    let path = import::snapshot_path(home);
    if let Some(m) = meta(&path)? {
        out.push(Part {
            source: EXTERNAL.to_string(),
            priority: external_priority(config, &manifest, &m.hash),
            path,
            meta: m,
            received: false,
        });
    }
    if config.modules.contains(crate::sources::MODULE) {
        for s in &config.sources {
            let path = crate::sources::snapshot_path(home, &s.name);
            if let Some(m) = meta(&path)? {
                out.push(Part {
                    source: s.name.clone(),
                    priority: s.priority,
                    path,
                    meta: m,
                    received: false,
                });
            }
        }
    }
    for e in manifest.sources {
        if own_source(config, &e.source) {
            continue;
        }
        let path = file_of(home, &e.source, &e.hash);
        if let Some(m) = meta(&path)? {
            out.push(Part {
                priority: e
                    .priority
                    .unwrap_or(crate::sources::settings::DEFAULT_PRIORITY),
                source: e.source,
                path,
                meta: m,
                received: true,
            });
        }
    }
    Ok(out)
}

/// This node's imported contacts named as one (`sync::combined`), as a push from
/// this node names them; None when it has none.
pub fn identity(home: &Home, config: &Config) -> Result<Option<SnapshotId>> {
    let parts = parts(home, config)?;
    let ids: Vec<SnapshotId> = parts.iter().map(|p| SnapshotId::from(&p.meta)).collect();
    Ok(sync::combined(
        parts
            .iter()
            .zip(&ids)
            .map(|(p, id)| (p.source.as_str(), Some(p.priority), id)),
    ))
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
