//! A sync: read the directory, apply the policy for entries gone from it, and
//! replace the source's snapshot (atomically) with the time each contact was last
//! seen. A failed or held sync leaves the previous contacts in place; the merge
//! that follows serves them.

use super::fetch::{self, Fetched};
use super::settings::{Policy, SourceSettings};
use super::{seen_path, snapshot_path};
use crate::config::Config;
use crate::contacts::Contact;
use crate::directory::merge::Changes;
use crate::home::Home;
use crate::jobs::progress::Progress;
use crate::jobs::{self, EntryError, Fingerprints, now};
use crate::store::snapshot::{self, SnapshotMeta};
use color_eyre::eyre::{Result, WrapErr, eyre};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::Instant;

/// Seconds since the epoch each contact id was last seen in the directory.
pub type Seen = HashMap<String, u64>;

#[derive(Debug, Clone, Copy, Default)]
pub struct SyncOptions {
    /// Report what would change; apply nothing.
    pub dry_run: bool,
    /// Apply even an empty result.
    pub force: bool,
    /// How many contacts the report shows.
    pub preview: usize,
}

/// What a sync did (or, dry or held, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncReport {
    pub source: String,
    pub uri: String,
    /// Entries read from the directory.
    pub read: usize,
    pub skipped: usize,
    /// Contacts in the new snapshot.
    pub contacts: usize,
    /// Contacts gone from the directory and kept by the policy.
    pub kept: usize,
    pub changes: Changes,
    pub held: Option<String>,
    pub dry_run: bool,
    pub millis: u64,
    pub errors: Vec<EntryError>,
    /// The first contacts read.
    pub preview: Vec<Contact>,
}

impl SyncReport {
    /// Whether the sync changed the source's contacts (applied, with a change).
    pub fn changed(&self) -> bool {
        self.held.is_none() && !self.dry_run && self.changes != Changes::default()
    }
}

/// The settings of the source called `name`, or an error naming those there are.
pub fn find<'a>(config: &'a Config, name: &str) -> Result<&'a SourceSettings> {
    config
        .sources
        .iter()
        .find(|s| s.name == name)
        .ok_or_else(|| {
            let names: Vec<&str> = config.sources.iter().map(|s| s.name.as_str()).collect();
            if names.is_empty() {
                eyre!("no directory source {name:?}: there is none yet (sop sources add)")
            } else {
                eyre!(
                    "no directory source {name:?}; the sources are: {}",
                    names.join(", ")
                )
            }
        })
}

/// The contacts to keep after a sync: those read now, and those gone from the
/// directory that the policy keeps. Returns them, when each was last seen, and
/// how many were kept though gone.
pub fn apply_policy(
    policy: Policy,
    now: u64,
    read: Vec<Contact>,
    previous: Vec<Contact>,
    seen: &Seen,
) -> (Vec<Contact>, Seen, usize) {
    let mut next: Seen = read.iter().map(|c| (c.id.clone(), now)).collect();
    let mut contacts = read;
    let mut kept = 0;
    for old in previous {
        if next.contains_key(&old.id) {
            continue;
        }
        let last = seen.get(&old.id).copied().unwrap_or(now);
        let keep = match policy {
            Policy::Remove => false,
            Policy::Keep => true,
            Policy::Age(hours) => now.saturating_sub(last) < u64::from(hours) * 3600,
        };
        if keep {
            next.insert(old.id.clone(), last);
            contacts.push(old);
            kept += 1;
        }
    }
    (contacts, next, kept)
}

fn read_seen(home: &Home, name: &str) -> Seen {
    std::fs::read(seen_path(home, name))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

fn write_seen(home: &Home, name: &str, seen: &Seen) -> Result<()> {
    use std::io::Write;
    let path = seen_path(home, name);
    let tmp = path.with_extension("seen-tmp");
    let written = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&serde_json::to_vec(seen).map_err(std::io::Error::other)?)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)
    })();
    written.wrap_err_with(|| format!("cannot write {}", path.display()))
}

/// Syncs one source now (or, dry, says what it would change). Blocking.
pub fn sync(
    home: &Home,
    config: &Config,
    name: &str,
    options: SyncOptions,
    progress: &Progress,
) -> Result<SyncReport> {
    let started = Instant::now();
    let s = find(config, name)?;
    let _lock = jobs::lock_sources(home)?;
    let path = snapshot_path(home, name);
    let (previous_meta, previous) = match snapshot::read(&path)? {
        Some((m, c)) => (Some(m), c),
        None => (None, Vec::new()),
    };
    progress.set("fetching", 0, 0);
    let Fetched {
        contacts: read,
        read: entries,
        skipped,
        errors,
    } = fetch::fetch(home, s, progress)?;
    progress.check()?;
    let mut report = SyncReport {
        source: s.name.clone(),
        uri: s.uri.clone(),
        read: entries,
        skipped,
        errors,
        dry_run: options.dry_run,
        preview: read.iter().take(options.preview).cloned().collect(),
        ..SyncReport::default()
    };
    let old = Fingerprints::of(&previous);
    let at = now();
    let (contacts, seen, kept) = apply_policy(s.policy, at, read, previous, &read_seen(home, name));
    report.changes = jobs::changes(&old, &contacts);
    report.contacts = contacts.len();
    report.kept = kept;
    if entries == 0 && !old.is_empty() && !options.force {
        report.held = Some(format!(
            "the search returned no entry (base DN {}, filter {}); the previous contacts stay (--force applies it)",
            s.base_dn, s.filter
        ));
    }
    if report.held.is_some() || options.dry_run {
        report.millis = started.elapsed().as_millis() as u64;
        return Ok(report);
    }
    progress.set("saving", 0, 0);
    write_seen(home, name, &seen)?;
    snapshot::write(
        &path,
        SnapshotMeta {
            source: s.name.clone(),
            created: at,
            origin: config.node.name.clone(),
            url: s.uri.clone(),
            ..previous_meta.unwrap_or_default()
        },
        &contacts,
    )
    .wrap_err("saving the synced contacts failed; the previous contacts stay")?;
    report.millis = started.elapsed().as_millis() as u64;
    Ok(report)
}

/// Runs a sync as a job, recorded in the history with its counts and entry
/// errors (a dry run is not recorded). Returns the job id (0 for a dry run).
pub fn run_job(
    home: &Home,
    config: &Config,
    name: &str,
    options: SyncOptions,
    progress: &Progress,
) -> Result<(i64, SyncReport)> {
    let started = now();
    let result = sync(home, config, name, options, progress);
    if options.dry_run {
        return result.map(|r| (0, r));
    }
    let (status, counts, message, errors) = match &result {
        Ok(r) => (
            if r.held.is_some() { "held" } else { "ok" },
            serde_json::json!({
                "source": r.source,
                "read": r.read,
                "parsed": r.read,
                "skipped": r.skipped,
                "imported": r.contacts,
                "kept": r.kept,
                "added": r.changes.added,
                "updated": r.changes.updated,
                "removed": r.changes.removed,
                "millis": r.millis,
            }),
            r.held.clone().unwrap_or_default(),
            r.errors.as_slice(),
        ),
        Err(e) => (
            "failed",
            serde_json::json!({ "source": name }),
            format!("{name}: {e:#}; the previous contacts stay"),
            &[][..],
        ),
    };
    let id = jobs::record_job(home, "sync", started, status, &counts, message, errors)?;
    result.map(|r| (id, r))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn c(id: &str) -> Contact {
        Contact {
            id: id.into(),
            display_name: id.into(),
            ..Contact::default()
        }
    }

    #[test]
    fn policies_over_several_syncs() {
        let hour = 3600;
        let first = vec![c("a"), c("b")];
        let (list, seen, _) = apply_policy(Policy::Age(2), 0, first, Vec::new(), &Seen::new());
        // b is gone an hour later: kept, seen at 0.
        let (list, seen, kept) = apply_policy(Policy::Age(2), hour, vec![c("a")], list, &seen);
        assert_eq!((list.len(), kept, seen["b"]), (2, 1, 0));
        // Two hours after it was last seen it goes.
        let (list, _, kept) = apply_policy(Policy::Age(2), 2 * hour, vec![c("a")], list, &seen);
        assert_eq!((list.len(), kept), (1, 0));
        let (list, _, _) = apply_policy(Policy::Keep, 9 * hour, vec![], vec![c("x")], &seen);
        assert_eq!(list.len(), 1);
        let (list, _, _) = apply_policy(Policy::Remove, 0, vec![c("a")], vec![c("x")], &seen);
        assert_eq!(list, vec![c("a")]);
    }
}
