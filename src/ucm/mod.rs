//! Unified Communication Model: the sources of contacts and their merge into the
//! served directory. Today the one source is the node's internal contacts.

use crate::directory::merge::{self, Changes, Source};
use crate::directory::{Builder, Directory, NumberRules};
use crate::home::Home;
use crate::store::generations::{self, Loaded};
use crate::store::{Job, Store};
use color_eyre::eyre::{Result, WrapErr};
use serde::{Deserialize, Serialize};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// The sample phone book a new node serves.
pub const SAMPLE: &str = include_str!("../../assets/sample-phonebook.csv");

/// What a merge did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeReport {
    pub generation: u64,
    pub contacts: usize,
    pub changes: Changes,
    pub millis: u64,
    /// Problems met while reading the previous generation (it still merged).
    pub problems: Vec<String>,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

pub fn open_store(home: &Home) -> Result<Store> {
    Store::open(&home.store_file()).wrap_err("cannot open the node's store")
}

/// Merges every source into a new generation and publishes it. Blocking.
pub fn merge(home: &Home) -> Result<MergeReport> {
    let started = Instant::now();
    let started_at = now();
    let dir = home.generations_dir();
    let lock = generations::lock(&dir)?;
    let mut store = open_store(home)?;
    let internal = store.all()?;
    let (previous, problems) = match generations::load_current(&dir) {
        Ok(Some(Loaded {
            generation,
            problems,
        })) => (generation.contacts, problems),
        Ok(None) => (Vec::new(), Vec::new()),
        Err(e) => (Vec::new(), vec![e.to_string()]),
    };
    let served = merge::merge(vec![Source {
        name: "int".to_string(),
        priority: 0,
        contacts: internal,
    }]);
    let changes = merge::changes(&previous, &served);
    drop(previous);
    let generation = generations::publish(&dir, &lock, served, started_at)
        .wrap_err("publishing the new generation failed; the previous one keeps serving")?;
    let report = MergeReport {
        generation: generation.number,
        contacts: generation.contacts.len(),
        changes,
        millis: started.elapsed().as_millis() as u64,
        problems,
    };
    let counts = serde_json::json!({
        "generation": report.generation,
        "contacts": report.contacts,
        "added": changes.added,
        "updated": changes.updated,
        "removed": changes.removed,
    });
    store.record_job(&Job {
        id: 0,
        kind: "merge".to_string(),
        started: started_at as i64,
        finished: now() as i64,
        status: "ok".to_string(),
        counts: counts.to_string(),
        message: report.problems.join("; "),
    })?;
    Ok(report)
}

/// Builds the directory from the current generation (an empty one when there is
/// none yet). Also returns problems met on the way (a damaged newest generation).
pub fn load_directory(
    home: &Home,
    base_dn: &str,
    rules: &NumberRules,
) -> Result<(Directory, Vec<String>)> {
    let loaded = generations::load_current_with(
        &home.generations_dir(),
        |number, _| Builder::new(number, base_dn, rules),
        |b, c| b.push(&c),
    )?;
    match loaded {
        Some(Loaded {
            generation,
            problems,
        }) => Ok((generation.finish(), problems)),
        None => Ok((Directory::empty(base_dn), Vec::new())),
    }
}

/// On a new node: the sample phone book as internal contacts, and its first generation.
pub fn seed_sample(home: &Home) -> Result<()> {
    let mut store = open_store(home)?;
    if store.count()? > 0 || generations::current_number(&home.generations_dir()).is_some() {
        return Ok(());
    }
    let sample = crate::sources::csv::import(SAMPLE.as_bytes())?;
    store.import(&sample.contacts, false)?;
    drop(store);
    merge(home)?;
    Ok(())
}
