//! `sop cluster receive`: a node takes the imported contacts pushed by another
//! node on its standard input, checks them, stores them (the external snapshot as
//! the file the UCM import writes, the directory sources apart from its own, see
//! `imported`), all or none, and merges them with its internal contacts. A push
//! that is damaged, truncated or lies about itself is refused before anything is
//! stored; the same push twice changes nothing.

use super::state::{self, NodeState};
use super::{delta, wire};
use crate::config::Config;
use crate::control::{self, CallError, Reply, Request};
use crate::home::Home;
use crate::store::snapshot;
use crate::ucm::import::{EXTERNAL, snapshot_path};
use crate::ucm::received;
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

/// A received snapshot written aside, and where it goes.
struct Aside {
    part: wire::Part,
    tmp: PathBuf,
    dest: PathBuf,
}

fn remove_all(aside: &[Aside]) {
    for a in aside {
        let _ = std::fs::remove_file(&a.tmp);
    }
}

/// Checks the push and stores every snapshot in it, all or none; returns its hash
/// when it replaced the node's imported contacts, None when the node had them
/// already (and merged them).
///
/// Each snapshot is written aside and checked whole first: nothing is replaced
/// until all are (a full disk, a damaged one: the node keeps what it had). Then,
/// under the imports' lock, the directory sources' files take their places (new
/// names: nothing in use is replaced), the manifest naming them replaces the
/// previous one, and the external snapshot replaces the node's (the previous
/// manifest is put back if that fails).
fn store(home: &Home, config: &Config, bytes: &[u8]) -> Result<Option<String>> {
    let (header, body) = wire::decode(bytes, limit(config))?;
    // Names are checked before any is used in a path (a base to rebuild from).
    for part in &header.parts {
        if part.source != EXTERNAL {
            crate::sources::settings::check_name(&part.source).map_err(|e| {
                eyre!(
                    "the push names a directory source {:?}, which this node cannot take (a \
                     source takes {e}); nothing was stored",
                    part.source
                )
            })?;
        }
    }
    let (header, body) = whole(home, header, body, limit(config))?;
    let parts = wire::split(&header, &body);
    let dir = home.sources_dir();
    let received = received::received_dir(home);
    std::fs::create_dir_all(&received)
        .wrap_err_with(|| format!("cannot create {}", received.display()))?;
    let pid = std::process::id();
    let mut aside = Vec::new();
    for (part, bytes) in parts {
        let (tmp, dest) = if part.source == EXTERNAL {
            (
                dir.join(format!("{EXTERNAL}.received-{pid}.tmp")),
                snapshot_path(home),
            )
        } else {
            (
                received.join(format!("{}.received-{pid}.tmp", part.source)),
                received::file_of(home, &part.source, &part.hash),
            )
        };
        aside.push(Aside {
            part: part.clone(),
            tmp: tmp.clone(),
            dest,
        });
        let checked = check(bytes, &part).and_then(|()| {
            write_synced(&tmp, bytes).wrap_err_with(|| {
                format!(
                    "cannot store the snapshot in {} (disk full?); the node keeps what it had",
                    dir.display()
                )
            })
        });
        if let Err(e) = checked {
            remove_all(&aside);
            return Err(e);
        }
    }
    let _one_import = crate::jobs::lock_sources(home)?;
    // A damaged manifest is replaced, as a damaged snapshot would be.
    let previous = received::read_manifest(home).unwrap_or_default();
    let current = snapshot::read_meta(&snapshot_path(home)).ok().flatten();
    let external = aside.iter().find(|a| a.part.source == EXTERNAL);
    let had = previous.hash == header.hash
        && external.is_none_or(|e| current.as_ref().is_some_and(|c| c.hash == e.part.hash))
        && previous
            .sources
            .iter()
            .all(|e| received::file_of(home, &e.source, &e.hash).exists());
    if had {
        remove_all(&aside);
        let merged = merged_hash(home) == header.hash;
        return Ok(if merged || !config.cluster.merge_on_receive {
            None
        } else {
            // Stored before, but its merge did not finish: merge again.
            Some(header.hash)
        });
    }
    let entry = |p: &wire::Part| received::Entry {
        source: p.source.clone(),
        priority: p.priority,
        hash: p.hash.clone(),
        count: p.count,
    };
    let manifest = received::Manifest {
        hash: header.hash.clone(),
        sender: header.sender.clone(),
        // Without external contacts in the push, the node keeps its own.
        external: match external {
            Some(e) => Some(entry(&e.part)),
            None => previous.external.clone(),
        },
        sources: aside
            .iter()
            .filter(|a| a.part.source != EXTERNAL)
            .map(|a| entry(&a.part))
            .collect(),
    };
    let keeps = |e: String| eyre!("{e}; the node keeps what it had");
    for a in aside.iter().filter(|a| a.part.source != EXTERNAL) {
        if let Err(e) = std::fs::rename(&a.tmp, &a.dest) {
            remove_all(&aside);
            return Err(keeps(format!("cannot store {}: {e}", a.dest.display())));
        }
    }
    if let Err(e) = received::write_manifest(home, &manifest) {
        remove_all(&aside);
        remove_unlisted(home, &[&previous]);
        return Err(keeps(format!(
            "cannot replace {} (disk full?): {e}",
            received::manifest_path(home).display()
        )));
    }
    if let Some(e) = external
        && let Err(err) = std::fs::rename(&e.tmp, &e.dest)
    {
        remove_all(&aside);
        let restored = received::write_manifest(home, &previous);
        remove_unlisted(home, &[&previous]);
        return Err(keeps(format!(
            "cannot replace {}: {err}{}",
            e.dest.display(),
            match restored {
                Ok(()) => String::new(),
                Err(r) => format!(" (nor put back the previous manifest: {r})"),
            }
        )));
    }
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    // The previous push's files stay until the next one: a merge that read the
    // previous manifest a moment ago still finds them.
    remove_unlisted(home, &[&manifest, &previous]);
    tracing::info!(
        hash = header.hash,
        count = header.count,
        origin = header.origin,
        sender = header.sender,
        sources = manifest.sources.len(),
        "received imported contacts"
    );
    // In the history as an import: the merge that follows expects the contacts
    // replaced to go (the origin's imports were guarded).
    let replaced_external = match (external, &current) {
        (Some(e), Some(c)) if c.hash != e.part.hash => c.count,
        _ => 0,
    };
    let replaced_sources: u64 = previous
        .sources
        .iter()
        .filter(|old| !manifest.sources.contains(old))
        .map(|old| old.count)
        .sum();
    let counts = serde_json::json!({
        "imported": header.count,
        "removed": replaced_external + replaced_sources,
        "origin": header.origin,
        "sources": manifest.sources.iter().map(|e| e.source.as_str()).collect::<Vec<_>>(),
    });
    let started = crate::jobs::now();
    let message = format!("received from {}", header.sender);
    crate::jobs::record_job(home, "import", started, "ok", &counts, message, &[])?;
    Ok(Some(header.hash))
}

/// Removes the received directory sources' files that `manifest` does not name.
fn remove_unlisted(home: &Home, manifests: &[&received::Manifest]) {
    let keep: Vec<PathBuf> = manifests
        .iter()
        .flat_map(|m| &m.sources)
        .map(|e| received::file_of(home, &e.source, &e.hash))
        .collect();
    let Ok(entries) = std::fs::read_dir(received::received_dir(home)) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        if path.extension().is_some_and(|x| x == "snap") && !keep.contains(&path) {
            let _ = std::fs::remove_file(&path);
        }
    }
}

/// The push's snapshots whole: each one sent as its changes (`delta`) is
/// rebuilt from the snapshot of that hash this node holds, then checked with the
/// others. A node without it says so (`delta::NO_BASE`), and nothing is stored.
fn whole(
    home: &Home,
    header: wire::Header,
    body: Vec<u8>,
    limit: u64,
) -> Result<(wire::Header, Vec<u8>)> {
    if header.parts.iter().all(|p| p.base.is_none()) {
        return Ok((header, body));
    }
    let mut parts = Vec::new();
    let mut out = Vec::new();
    for (mut part, bytes) in wire::split(&header, &body) {
        match part.base.take() {
            None => out.extend_from_slice(bytes),
            Some(base) => {
                let file = base_file(home, &part.source, &base).ok_or_else(|| {
                    eyre!(
                        "{}: {} {}; nothing was stored",
                        delta::NO_BASE,
                        part.source,
                        base.get(..12).unwrap_or(&base)
                    )
                })?;
                let room = limit.saturating_sub(out.len() as u64);
                let rebuilt = delta::apply(&file, bytes, room).map_err(|e| {
                    eyre!(
                        "{}: {} ({e}); nothing was stored",
                        delta::NO_BASE,
                        part.source
                    )
                })?;
                part.bytes = rebuilt.len() as u64;
                out.extend_from_slice(&rebuilt);
            }
        }
        if out.len() as u64 > limit {
            return Err(wire::WireError::TooLarge(out.len() as u64, limit).into());
        }
        parts.push(part);
    }
    Ok((header.with_whole(parts), out))
}

/// The file of the snapshot `hash` of `source` this node holds: its external
/// snapshot, or a directory source received earlier.
fn base_file(home: &Home, source: &str, hash: &str) -> Option<Vec<u8>> {
    let own = (source == EXTERNAL).then(|| snapshot_path(home));
    own.into_iter()
        .chain([received::file_of(home, source, hash)])
        .filter_map(|path| std::fs::read(path).ok())
        .find(|bytes| {
            // Whole (its checksum) and of that hash, read from the same bytes.
            snapshot::layout(bytes)
                .and_then(|l| {
                    serde_json::from_slice::<snapshot::SnapshotMeta>(&bytes[l.meta_json]).ok()
                })
                .is_some_and(|m| m.hash == hash)
        })
}

fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = std::fs::File::create(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Checks a received snapshot file whole: its checksum, that every contact reads,
/// and that its contacts are the ones the push names (without keeping them: at a
/// million contacts, holding them would cost more than the check).
fn check(bytes: &[u8], part: &wire::Part) -> Result<()> {
    let damaged =
        |why: String| eyre!("the snapshot is damaged in transit ({why}); nothing was stored");
    let found = snapshot::verify(bytes).map_err(|e| damaged(e.to_string()))?;
    let meta = &found.meta;
    if meta.source != part.source {
        return Err(damaged(format!(
            "it holds the source {:?}, announced as {:?}",
            meta.source, part.source
        )));
    }
    if found.hash != meta.hash || found.hash != part.hash {
        return Err(damaged(
            "its contacts do not match its content hash".to_string(),
        ));
    }
    if meta.origin != part.origin || meta.created != part.created {
        return Err(damaged(format!(
            "its header names the import of {} at {}, its contacts the import of {} at {}",
            part.origin, part.created, meta.origin, meta.created
        )));
    }
    if found.count != part.count || meta.count != part.count {
        return Err(damaged(format!(
            "{} contacts announced, {} received",
            part.count, found.count
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
    use crate::cluster::imported;
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
        let part = wire::Part::of(EXTERNAL, None, &meta, 0);
        let read = |path: &Path| std::fs::read(path).unwrap();
        check(&read(&path), &part).unwrap();
        let mut other = part.clone();
        other.hash = snapshot::content_hash(&contacts(2));
        let e = check(&read(&path), &other).unwrap_err().to_string();
        assert!(e.contains("do not match its content hash"), "{e}");
        let mut more = part.clone();
        more.count = 4;
        let e = check(&read(&path), &more).unwrap_err().to_string();
        assert!(e.contains("4 contacts announced, 3 received"), "{e}");
        // Another source's snapshot is not external contacts.
        let meta = SnapshotMeta {
            source: "ldap".into(),
            ..SnapshotMeta::default()
        };
        let meta = snapshot::write(&path, meta, &contacts(3)).unwrap();
        let e = check(&read(&path), &wire::Part::of(EXTERNAL, None, &meta, 0))
            .unwrap_err()
            .to_string();
        assert!(e.contains("nothing was stored"), "{e}");
    }

    /// A push of snapshots of `sources` (name, contacts), as `a` pushes them;
    /// `damage` flips a byte in the file of that source.
    fn push(sources: &[(&str, usize)], damage: Option<&str>) -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let (mut parts, mut body) = (Vec::new(), Vec::new());
        for (source, n) in sources {
            let path = dir.path().join(format!("{source}.snap"));
            let meta = SnapshotMeta {
                source: source.to_string(),
                origin: "a".into(),
                created: 100,
                ..SnapshotMeta::default()
            };
            let meta = snapshot::write(&path, meta, &contacts(*n)).unwrap();
            let mut bytes = std::fs::read(&path).unwrap();
            if damage == Some(*source) {
                let n = bytes.len();
                bytes[n / 2] ^= 1;
            }
            parts.push(wire::Part::of(source, Some(25), &meta, bytes.len() as u64));
            body.extend(bytes);
        }
        wire::encode(&wire::Header::of(parts, "a"), &body).unwrap()
    }

    /// Every file under `dir`, with its bytes.
    fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let path = e.path();
            if path.is_dir() {
                out.extend(files(&path));
            } else if path.file_name().is_some_and(|n| n != ".lock") {
                out.push((path.clone(), std::fs::read(&path).unwrap()));
            }
        }
        out.sort();
        out
    }

    #[test]
    fn every_snapshot_of_a_push_is_stored_or_none() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::new(dir.path());
        std::fs::create_dir_all(home.data_dir()).unwrap();
        crate::store::node::open_or_create_store(&home).unwrap();
        let config = Config::defaults();
        let hash = store(&home, &config, &push(&[("ext", 3), ("corp", 5)], None))
            .unwrap()
            .unwrap();
        let manifest = received::read_manifest(&home).unwrap();
        assert_eq!(manifest.hash, hash);
        assert_eq!(manifest.sender, "a");
        assert_eq!(manifest.external.as_ref().unwrap().priority, Some(25));
        let corp = &manifest.sources[0];
        assert_eq!(
            (corp.source.as_str(), corp.priority, corp.count),
            ("corp", Some(25), 5)
        );
        assert!(received::file_of(&home, "corp", &corp.hash).exists());
        assert_eq!(
            snapshot::read_meta(&snapshot_path(&home))
                .unwrap()
                .unwrap()
                .count,
            3
        );
        // Served as the origin serves them: this node's imported contacts are named
        // as the push named them.
        let (received, missing, notes) = received::merge_sources(&home, &config).unwrap();
        assert_eq!((received.len(), received[0].priority), (1, 25));
        assert!(missing.is_empty() && notes.is_empty());
        assert_eq!(
            imported::identity(&home, &config).unwrap().unwrap().hash,
            hash
        );

        // A newer push with one damaged snapshot: nothing of it is stored.
        let before = files(&home.sources_dir());
        for (sources, damage) in [
            (&[("ext", 4), ("corp", 6), ("hr", 2)][..], "hr"),
            (&[("ext", 4), ("corp", 6)][..], "ext"),
        ] {
            let e = store(&home, &config, &push(sources, Some(damage)))
                .unwrap_err()
                .to_string();
            assert!(e.contains("nothing was stored"), "{e}");
            assert_eq!(files(&home.sources_dir()), before);
        }
        // A source name the node cannot take is refused too.
        let e = store(&home, &config, &push(&[("ext", 4), ("Corp-x", 6)], None))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("\"Corp-x\"") && e.contains("nothing was stored"),
            "{e}"
        );
        assert_eq!(files(&home.sources_dir()), before);

        // The next push without corp: hr comes; corp's file stays for a merge that
        // read the previous manifest, and goes with the push after.
        store(&home, &config, &push(&[("ext", 4), ("hr", 2)], None)).unwrap();
        let manifest = received::read_manifest(&home).unwrap();
        assert_eq!(manifest.sources.len(), 1);
        assert_eq!(manifest.sources[0].source, "hr");
        let snaps = || -> Vec<String> {
            files(&received::received_dir(&home))
                .into_iter()
                .filter(|(p, _)| p.extension().is_some_and(|x| x == "snap"))
                .map(|(p, _)| p.file_name().unwrap().to_string_lossy().into_owned())
                .collect()
        };
        assert_eq!(snaps().len(), 2, "{:?}", snaps());
        assert!(
            snaps().iter().any(|f| f.starts_with("corp-")),
            "{:?}",
            snaps()
        );
        store(&home, &config, &push(&[("ext", 4), ("hr", 3)], None)).unwrap();
        assert!(
            !snaps().iter().any(|f| f.starts_with("corp-")),
            "{:?}",
            snaps()
        );
        assert_eq!(snaps().len(), 2, "{:?}", snaps());
    }

    #[test]
    fn a_push_of_version_2_is_one_external_snapshot_merged_with_the_nodes_priority() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::new(dir.path());
        std::fs::create_dir_all(home.data_dir()).unwrap();
        crate::store::node::open_or_create_store(&home).unwrap();
        let config = Config::defaults();
        // What a node of the previous version sends: the header describes the
        // external snapshot itself, and lists no parts.
        let scratch = tempfile::tempdir().unwrap();
        let path = scratch.path().join("ext.snap");
        let meta = SnapshotMeta {
            source: EXTERNAL.into(),
            origin: "old".into(),
            created: 100,
            ..SnapshotMeta::default()
        };
        let meta = snapshot::write(&path, meta, &contacts(4)).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let header = wire::Header {
            version: 2,
            hash: meta.hash.clone(),
            count: 4,
            origin: "old".into(),
            created: 100,
            sender: "old".into(),
            bytes: bytes.len() as u64,
            parts: Vec::new(),
        };
        let hash = store(&home, &config, &wire::encode(&header, &bytes).unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(hash, meta.hash);
        assert_eq!(std::fs::read(snapshot_path(&home)).unwrap(), bytes);
        let manifest = received::read_manifest(&home).unwrap();
        assert!(manifest.sources.is_empty());
        assert_eq!(
            received::external_priority(&config, &manifest, &meta.hash),
            config.ucm.priority
        );
        // Named as that node names it: in sync with it.
        let id = imported::identity(&home, &config).unwrap().unwrap();
        assert_eq!(
            (id.hash, id.count, id.origin.as_str()),
            (meta.hash, 4, "old")
        );
    }
}
