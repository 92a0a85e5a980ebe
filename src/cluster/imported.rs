//! The imported contacts a push carries and a node serves: the UCM's external
//! contacts and every directory source's, this node's own and those received from
//! another node (`ucm::received`), each with the priority it is merged with.

use super::sync::{self, SnapshotId};
use crate::config::Config;
use crate::home::Home;
use crate::store::snapshot::{self, SnapshotMeta};
use crate::ucm::import::{self, EXTERNAL};
use crate::ucm::received::{external_priority, file_of, own_source, read_manifest};
use color_eyre::eyre::{Result, eyre};
use std::path::{Path, PathBuf};

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
