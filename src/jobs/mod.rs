//! What every job of the node shares (imports, syncs, merges, received pushes):
//! its progress, the lock that runs one import at a time, its record in the
//! history with the entries it skipped, and what it changed.

pub mod priority;
pub mod progress;

use crate::contacts::Contact;
use crate::directory::merge::Changes;
use crate::home::Home;
use color_eyre::eyre::{Result, WrapErr};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

/// Maps over the ids of a list: a fast hash with a random seed, so that a list
/// cannot be made of ids that all collide.
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Holds the lock of the sources folder: one import at a time, across processes.
pub fn lock_sources(home: &Home) -> Result<nix::fcntl::Flock<std::fs::File>> {
    let dir = home.sources_dir();
    std::fs::create_dir_all(&dir).wrap_err_with(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join(".lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .wrap_err_with(|| format!("cannot open {}", path.display()))?;
    nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusive)
        .map_err(|(_, e)| e)
        .wrap_err_with(|| format!("cannot lock {}", path.display()))
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// An entry of the list that was not imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryError {
    /// Where it is: "line 12", "entry 3 (line 40)".
    pub position: String,
    pub reason: String,
}

/// Records a job that ran from `started` to now, with its counts and the entries
/// it skipped. Returns its id.
pub fn record_job(
    home: &Home,
    kind: &str,
    started: u64,
    status: &str,
    counts: &serde_json::Value,
    message: String,
    errors: &[EntryError],
) -> Result<i64> {
    let errors: Vec<(String, String)> = errors
        .iter()
        .map(|e| (e.position.clone(), e.reason.clone()))
        .collect();
    let id = crate::store::node::open_store(home)?.record_job_with_errors(
        &crate::store::Job {
            id: 0,
            kind: kind.to_string(),
            started: started as i64,
            finished: now() as i64,
            status: status.to_string(),
            counts: counts.to_string(),
            message,
        },
        &errors,
    )?;
    Ok(id)
}

/// What the current external contacts are, enough to count what an import
/// changes: the hash of each id, with the hash of its contact.
#[derive(Default)]
pub struct Fingerprints {
    by_id: FastMap<u64, u64>,
}

impl Fingerprints {
    /// With room for `contacts` contacts.
    pub fn with_capacity(contacts: usize) -> Fingerprints {
        Fingerprints {
            by_id: FastMap::with_capacity_and_hasher(contacts, Default::default()),
        }
    }

    pub fn of(contacts: &[Contact]) -> Fingerprints {
        let mut f = Fingerprints::default();
        for c in contacts {
            f.add(c);
        }
        f
    }

    pub fn add(&mut self, c: &Contact) {
        self.by_id.insert(
            crate::directory::stable_hash(&c.id),
            crate::directory::contact_hash(c),
        );
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

/// What replacing `old` by `new` (by id) adds, updates and removes.
pub fn changes(old: &Fingerprints, new: &[Contact]) -> Changes {
    let mut out = Changes::default();
    let mut kept = 0;
    for c in new {
        match old.by_id.get(&crate::directory::stable_hash(&c.id)) {
            None => out.added += 1,
            Some(hash) => {
                kept += 1;
                if *hash != crate::directory::contact_hash(c) {
                    out.updated += 1;
                }
            }
        }
    }
    out.removed = old.len().saturating_sub(kept);
    out
}

/// The counts of a job in a few words: "+3 ~1 -0, 1200 contacts, 2 skipped".
pub fn counts(job: &crate::store::Job) -> String {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(&job.counts)
    else {
        return String::new();
    };
    let n = |k: &str| map.get(k).and_then(serde_json::Value::as_u64);
    let mut parts = Vec::new();
    match (n("added"), n("updated"), n("removed")) {
        (Some(a), Some(u), Some(r)) => parts.push(format!("+{a} ~{u} -{r}")),
        (None, None, Some(r)) => parts.push(format!("-{r}")),
        _ => {}
    }
    for (key, label) in [
        ("contacts", "contacts"),
        ("imported", "imported"),
        ("skipped", "skipped"),
        ("generation", "gen"),
    ] {
        match n(key) {
            Some(0) if key == "skipped" => {}
            Some(v) if key == "generation" => parts.push(format!("{label} {v}")),
            Some(v) => parts.push(format!("{v} {label}")),
            None => {}
        }
    }
    parts.join(", ")
}
