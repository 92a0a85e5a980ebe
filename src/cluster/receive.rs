//! `sop cluster receive`: a node takes a snapshot pushed by another node on its
//! standard input, checks it, stores it as its external contacts (the file the UCM
//! import writes, replaced atomically) and merges it with its internal contacts.
//! A snapshot that is damaged, truncated or lies about itself is refused before
//! anything is stored; the same snapshot twice changes nothing.

use super::state::{self, NodeState};
use super::wire;
use crate::config::Config;
use crate::control::{self, CallError, Reply, Request};
use crate::home::Home;
use crate::store::snapshot;
use crate::ucm::import::{EXTERNAL, snapshot_path};
use color_eyre::eyre::{Result, WrapErr, eyre};
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A merge of a million contacts takes seconds; this is for a hung server.
const MERGE_TIMEOUT: Duration = Duration::from_secs(600);

/// The answer of `sop cluster receive`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Received {
    /// The snapshot replaced the node's external contacts (false: it had them).
    pub changed: bool,
    /// The generation the merge published, when one ran now.
    pub merged: Option<u64>,
    /// What happened about the merge, in words.
    pub merge: String,
    /// The node's state afterwards.
    pub state: NodeState,
}

/// The largest snapshot a node takes: four times the largest list it imports.
fn limit(config: &Config) -> u64 {
    config.ucm.max_size_bytes.saturating_mul(4)
}

/// Reads a pushed snapshot from `input` and applies it.
pub async fn receive(home: &Home, config: &Config, input: impl Read) -> Result<Received> {
    let limit = limit(config);
    let mut bytes = Vec::new();
    input
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .wrap_err("cannot read the snapshot from standard input")?;
    if bytes.len() as u64 > limit {
        return Err(eyre!(
            "the snapshot is over {limit} bytes (4 x [ucm] max_size_mib); nothing was stored"
        ));
    }
    let (h, c) = (home.clone(), config.clone());
    let changed = tokio::task::spawn_blocking(move || store(&h, &c, &bytes))
        .await
        .map_err(|_| eyre!("storing the snapshot stopped unexpectedly"))??;
    let (merged, merge) = merge(home, config, changed.as_ref()).await?;
    Ok(Received {
        changed: changed.is_some(),
        merged,
        merge,
        state: state::local(home, config).await,
    })
}

/// Checks the snapshot and stores it; returns its hash when it replaced the
/// external contacts, None when the node had them already (and merged them).
fn store(home: &Home, config: &Config, bytes: &[u8]) -> Result<Option<String>> {
    let (header, body) = wire::decode(bytes, limit(config))?;
    let path = snapshot_path(home);
    let dir = home.sources_dir();
    std::fs::create_dir_all(&dir).wrap_err_with(|| format!("cannot create {}", dir.display()))?;
    let tmp = dir.join(format!("{EXTERNAL}.received-{}.tmp", std::process::id()));
    let checked = write_synced(&tmp, &body)
        .wrap_err_with(|| {
            format!(
                "cannot store the snapshot in {} (disk full?); the node keeps what it had",
                dir.display()
            )
        })
        .and_then(|()| check(&tmp, &header));
    if let Err(e) = checked {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    let _one_import = crate::jobs::lock_sources(home)?;
    let current = state::external(home).ok().flatten();
    if current.as_ref().is_some_and(|c| c.hash == header.hash) {
        let _ = std::fs::remove_file(&tmp);
        let merged = merged_hash(home) == header.hash;
        return Ok(if merged || !config.cluster.merge_on_receive {
            None
        } else {
            // Stored before, but its merge did not finish: merge again.
            Some(header.hash)
        });
    }
    if let Err(e) = std::fs::rename(&tmp, &path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).wrap_err_with(|| {
            format!(
                "cannot replace {}; the node keeps what it had",
                path.display()
            )
        });
    }
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    tracing::info!(
        hash = header.hash,
        count = header.count,
        origin = header.origin,
        sender = header.sender,
        "received external contacts"
    );
    // In the history as an import: the merge that follows expects the external
    // contacts it had to go (the origin's import was guarded).
    let counts = serde_json::json!({
        "imported": header.count,
        "removed": current.as_ref().map_or(0, |c| c.count),
        "origin": header.origin,
    });
    let started = crate::jobs::now();
    let message = format!("received from {}", header.sender);
    crate::jobs::record_job(home, "import", started, "ok", &counts, message, &[])?;
    Ok(Some(header.hash))
}

fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = std::fs::File::create(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Checks a received snapshot file whole: its checksum, and that its contacts
/// are the ones the header names.
fn check(path: &Path, header: &wire::Header) -> Result<()> {
    let damaged =
        |why: String| eyre!("the snapshot is damaged in transit ({why}); nothing was stored");
    let (meta, contacts) = snapshot::read(path)
        .map_err(|e| damaged(e.to_string()))?
        .ok_or_else(|| damaged("empty".to_string()))?;
    if meta.source != EXTERNAL {
        return Err(damaged(format!("it holds the source {:?}", meta.source)));
    }
    let hash = snapshot::content_hash(&contacts);
    if hash != meta.hash || hash != header.hash {
        return Err(damaged(
            "its contacts do not match its content hash".to_string(),
        ));
    }
    if meta.origin != header.origin || meta.created != header.created {
        return Err(damaged(format!(
            "its header names the import of {} at {}, its contacts the import of {} at {}",
            header.origin, header.created, meta.origin, meta.created
        )));
    }
    if contacts.len() as u64 != header.count || meta.count != header.count {
        return Err(damaged(format!(
            "{} contacts announced, {} received",
            header.count,
            contacts.len()
        )));
    }
    Ok(())
}

/// Where the hash of the external snapshot last merged after a receive is kept.
fn merged_marker(home: &Home) -> PathBuf {
    home.sources_dir().join(format!("{EXTERNAL}.merged"))
}

fn merged_hash(home: &Home) -> String {
    std::fs::read_to_string(merged_marker(home))
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// Merges now when the node does so on receive: through its running server (after
/// any job it is running, so that nothing of either is lost), else in this process.
async fn merge(
    home: &Home,
    config: &Config,
    changed: Option<&String>,
) -> Result<(Option<u64>, String)> {
    let Some(hash) = changed else {
        return Ok((
            None,
            "nothing to merge: the node had this snapshot".to_string(),
        ));
    };
    if !config.cluster.merge_on_receive {
        return Ok((
            None,
            format!(
                "merged at the node's merge cron ({})",
                config.ucm.merge_cron
            ),
        ));
    }
    let request = Request::Merge { force: false };
    let generation = match control::call(&home.socket(), &request, MERGE_TIMEOUT).await {
        Ok(Reply::Merged(report)) => report.generation,
        Ok(Reply::Error { message }) => {
            return Err(eyre!("stored, but the merge failed: {message}"));
        }
        Ok(other) => return Err(eyre!("unexpected reply from the server: {other:?}")),
        Err(CallError::NotRunning(_)) => {
            let (h, c) = (home.clone(), config.clone());
            tokio::task::spawn_blocking(move || crate::ucm::merge(&h, &c, Default::default()))
                .await
                .map_err(|_| eyre!("the merge stopped unexpectedly"))?
                .wrap_err("stored, but the merge failed")?
                .generation
        }
        Err(e) => return Err(eyre!("stored, but the merge could not run: {e}")),
    };
    let marker = merged_marker(home);
    let _ = std::fs::write(&marker, hash);
    Ok((
        Some(generation),
        format!("merged into generation {generation}"),
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::contacts::Contact;
    use crate::store::snapshot::SnapshotMeta;

    fn contacts(n: usize) -> Vec<Contact> {
        (0..n)
            .map(|i| Contact {
                id: format!("x{i}"),
                display_name: format!("Person {i}"),
                ..Contact::default()
            })
            .collect()
    }

    #[test]
    fn a_snapshot_must_be_what_its_header_says() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ext.snap");
        let meta = SnapshotMeta {
            source: EXTERNAL.into(),
            origin: "a".into(),
            ..SnapshotMeta::default()
        };
        let meta = snapshot::write(&path, meta, &contacts(3)).unwrap();
        let header = wire::Header::of(&meta, "a", 0);
        check(&path, &header).unwrap();
        let mut other = header.clone();
        other.hash = snapshot::content_hash(&contacts(2));
        let e = check(&path, &other).unwrap_err().to_string();
        assert!(e.contains("do not match its content hash"), "{e}");
        let mut more = header.clone();
        more.count = 4;
        let e = check(&path, &more).unwrap_err().to_string();
        assert!(e.contains("4 contacts announced, 3 received"), "{e}");
        // Another source's snapshot is not external contacts.
        let meta = SnapshotMeta {
            source: "ldap".into(),
            ..SnapshotMeta::default()
        };
        let meta = snapshot::write(&path, meta, &contacts(3)).unwrap();
        let e = check(&path, &wire::Header::of(&meta, "a", 0))
            .unwrap_err()
            .to_string();
        assert!(e.contains("nothing was stored"), "{e}");
    }
}
