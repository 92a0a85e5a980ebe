//! Importing the external contacts: fetch the list, read it, check it is safe to
//! apply, and replace the external snapshot. An import that is not a contact list,
//! that yields no contact, or that would remove too many contacts is held with its
//! reason and the previous contacts stay; `force` applies it anyway.

use super::{Progress, fetch, now};
use crate::config::Config;
use crate::contacts::Contact;
use crate::directory::merge::Changes;
use crate::home::Home;
pub use crate::jobs::{EntryError, Fingerprints, changes, record_job};
use crate::store::snapshot::{self, SnapshotMeta};
use color_eyre::eyre::{Result, WrapErr, eyre};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// Maps over the ids of a list: a fast hash with a random seed, so that a list
/// cannot be made of ids that all collide.
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
type FastSet<K> = HashSet<K, foldhash::fast::RandomState>;
use std::time::Instant;

/// The source name of the UCM's external contacts (and their uid prefix).
pub const EXTERNAL: &str = "ext";

#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    /// Report what would change; apply nothing.
    pub dry_run: bool,
    /// Apply even what the guards would hold.
    pub force: bool,
}

/// What an import did (or, held or dry, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    pub url: String,
    pub format: String,
    pub fetched_bytes: u64,
    /// Contacts read from the list.
    pub parsed: usize,
    /// Contacts in the new snapshot.
    pub imported: usize,
    pub skipped: usize,
    pub changes: Changes,
    /// The list had not changed since the last import: nothing was done.
    pub unchanged: bool,
    /// Why the import was not applied, when it was held.
    pub held: Option<String>,
    pub dry_run: bool,
    pub millis: u64,
    /// The first entries that were skipped, with their reasons.
    pub errors: Vec<EntryError>,
    /// What the reader noticed without skipping anything (encoding, ignored columns).
    #[serde(default)]
    pub warnings: Vec<String>,
    /// Contacts of the sample phone book removed by this first import.
    #[serde(default)]
    pub sample_removed: usize,
}

impl ImportReport {
    /// Did it change the external contacts (not held, not a dry run, not the list
    /// already imported)?
    pub fn applied(&self) -> bool {
        self.held.is_none() && !self.dry_run && !self.unchanged
    }
}

/// How many entry errors a report and a job keep.
const MAX_ERRORS: usize = 1000;

pub fn snapshot_path(home: &Home) -> std::path::PathBuf {
    home.sources_dir().join(format!("{EXTERNAL}.snap"))
}

/// What was fetched: the bytes and what names them.
struct Fetched {
    bytes: Vec<u8>,
    name: String,
    content_type: Option<String>,
    etag: Option<String>,
    last_modified: Option<String>,
}

/// The URL's credentials from `[ucm] credentials_file` (`user:password`), if any.
fn credentials(home: &Home, config: &Config) -> Result<Option<fetch::Credentials>> {
    let path = home.path(&config.ucm.credentials_file);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).wrap_err_with(|| format!("cannot read {}", path.display())),
    };
    let line = text.lines().next().unwrap_or_default();
    let Some((user, password)) = line.split_once(':') else {
        return Err(eyre!(
            "{} must hold one line user:password ([ucm] credentials_file)",
            path.display()
        ));
    };
    Ok(Some(fetch::Credentials {
        user: user.to_string(),
        password: password.to_string(),
    }))
}

/// Fetches the list; `None` when it has not changed since `previous`.
fn fetch_list(
    home: &Home,
    config: &Config,
    previous: Option<&SnapshotMeta>,
    progress: &Progress,
) -> Result<Option<Fetched>> {
    let options = fetch::FetchOptions {
        deadline: config.ucm.fetch_timeout,
        max_bytes: config.ucm.max_size_bytes,
        ca_file: config.ucm.ca_file.as_ref().map(|f| home.path(f)),
        credentials: credentials(home, config)?,
        previous: previous.map(|m| fetch::Validators {
            etag: m.etag.clone(),
            last_modified: m.last_modified.clone(),
        }),
        ..fetch::FetchOptions::default()
    };
    let mut report = |done: u64, total: Option<u64>| {
        progress.set("fetching", done, total.unwrap_or(0));
    };
    match fetch::fetch(&config.ucm.url, &options, &mut report)? {
        fetch::Fetched::Unchanged => Ok(None),
        fetch::Fetched::Document(d) => Ok(Some(Fetched {
            bytes: d.body,
            name: d.file_name.unwrap_or_default(),
            content_type: d.content_type,
            etag: d.validators.etag,
            last_modified: d.validators.last_modified,
        })),
    }
}

/// Reads the fetched list into contacts and entry errors, or says why it is not a
/// contact list.
fn parse(
    f: &Fetched,
    mapping: &crate::formats::mapping::Mapping,
) -> std::result::Result<crate::formats::ReadList, String> {
    crate::formats::read_mapped(&f.name, f.content_type.as_deref(), &f.bytes, mapping)
        .map_err(|e| e.to_string())
}

/// Gives every contact without an id one derived from its name and first number,
/// so that it keeps its id (and DN) from one import to the next; a second contact
/// with the same name and number gets `-2`, and so on.
pub fn derive_ids(contacts: &mut [Contact]) {
    // The hash of `<lowercase common name>|<digits of the first number>`, taken
    // without building that string, on every core; `None` for contacts with an id.
    let bases = crate::directory::merge::par_map(contacts, |c| {
        if !c.id.trim().is_empty() {
            return None;
        }
        let h = crate::directory::stable_hash(&c.common_name().to_lowercase());
        let first = c.phones.first().map_or("", |p| p.number.as_str());
        let digits = first.bytes().filter(u8::is_ascii_digit);
        Some(crate::directory::hash_more(
            h,
            std::iter::once(b'|').chain(digits),
        ))
    });
    // Ids taken, by hash: two different ids sharing a 64-bit hash would only make
    // the second contact of a name and number skip to the next suffix.
    let mut taken: FastSet<u64> =
        FastSet::with_capacity_and_hasher(contacts.len(), foldhash::fast::RandomState::default());
    taken.extend(
        contacts
            .iter()
            .filter(|c| !c.id.trim().is_empty())
            .map(|c| crate::directory::stable_hash(c.id.trim())),
    );
    let mut seen: FastMap<u64, usize> = FastMap::default();
    for (c, base) in contacts.iter_mut().zip(bases) {
        let Some(base) = base else {
            if c.id.trim().len() != c.id.len() {
                c.id = c.id.trim().to_string();
            }
            continue;
        };
        let n = seen.entry(base).or_insert(0);
        loop {
            *n += 1;
            let id = match *n {
                1 => format!("h{base:016x}"),
                n => format!("h{base:016x}-{n}"),
            };
            if taken.insert(crate::directory::stable_hash(&id)) {
                c.id = id;
                break;
            }
        }
    }
}

/// The guards: why this import should not be applied, if it should not.
fn hold_reason(
    config: &Config,
    old: &Fingerprints,
    parsed: usize,
    changes: &Changes,
) -> Option<String> {
    if parsed == 0 {
        return Some("the list has no contact; the previous contacts stay".to_string());
    }
    let share = changes.removed * 100 / old.len().max(1);
    if !old.is_empty() && share > config.ucm.max_removal_percent as usize {
        return Some(format!(
            "it would remove {} of the {} external contacts ({share}%, over [ucm] max_removal_percent = {}); check the list, or apply it with --force",
            changes.removed,
            old.len(),
            config.ucm.max_removal_percent
        ));
    }
    None
}

/// Imports the external contacts now. Blocking.
pub fn import(
    home: &Home,
    config: &Config,
    options: ImportOptions,
    progress: &Progress,
) -> Result<ImportReport> {
    let started = Instant::now();
    if config.ucm.url.is_empty() {
        return Err(eyre!(
            "no URL to import from: set one with sop ucm set --url URL ([ucm] url)"
        ));
    }
    let path = snapshot_path(home);
    let _lock = super::lock_sources(home)?;
    // The current contacts as fingerprints: all an import compares with.
    let previous = snapshot::read_with(
        &path,
        |count| Fingerprints::with_capacity(count.min(10_000_000) as usize),
        |f, c| f.add(&c),
    )?;
    let (old_meta, old) = match previous {
        Some((m, c)) => (Some(m), c),
        None => (None, Fingerprints::default()),
    };
    progress.set("fetching", 0, 0);
    let mut report = ImportReport {
        url: config.ucm.url.clone(),
        dry_run: options.dry_run,
        ..ImportReport::default()
    };
    let has_credentials = home.path(&config.ucm.credentials_file).exists();
    if let Some(warning) = crate::validate::cleartext_credentials(&config.ucm.url, has_credentials)
    {
        tracing::warn!("{warning}");
        report.warnings.push(warning);
    }
    let previous = if options.force {
        None
    } else {
        old_meta.as_ref()
    };
    let fetched = match fetch_list(home, config, previous, progress)? {
        Some(f) => f,
        None => {
            report.unchanged = true;
            report.imported = old.len();
            report.millis = started.elapsed().as_millis() as u64;
            return Ok(report);
        }
    };
    report.fetched_bytes = fetched.bytes.len() as u64;
    progress.check()?;
    progress.set("reading", 0, 0);
    let list = match parse(&fetched, &config.ucm.mapping) {
        Ok(p) => p,
        Err(why) => {
            report.held = Some(format!("{why}; the previous contacts stay"));
            report.millis = started.elapsed().as_millis() as u64;
            return Ok(report);
        }
    };
    let parsed_at = started.elapsed();
    report.format = list.describe();
    report.parsed = list.contacts.len();
    report.skipped = list.skipped_count;
    report.warnings.extend(list.warnings);
    report.errors = list
        .skipped
        .into_iter()
        .take(MAX_ERRORS)
        .map(|s| EntryError {
            position: s.position.to_string(),
            reason: s.reason,
        })
        .collect();
    let mut contacts = list.contacts;
    derive_ids(&mut contacts);
    report.changes = changes(&old, &contacts);
    report.imported = contacts.len();
    let compared_at = started.elapsed();
    if !options.force {
        report.held = hold_reason(config, &old, report.parsed, &report.changes);
    }
    if report.held.is_some() || options.dry_run {
        report.millis = started.elapsed().as_millis() as u64;
        return Ok(report);
    }
    progress.check()?;
    progress.set("saving", 0, 0);
    snapshot::write(
        &path,
        SnapshotMeta {
            source: EXTERNAL.to_string(),
            created: now(),
            origin: config.node.name.clone(),
            url: config.ucm.url.clone(),
            etag: fetched.etag,
            last_modified: fetched.last_modified,
            ..SnapshotMeta::default()
        },
        &contacts,
    )
    .wrap_err("saving the imported contacts failed; the previous contacts stay")?;
    // A million contacts take a while to free: not before the report.
    let freed = std::thread::Builder::new()
        .name("sop-free".to_string())
        .spawn(move || drop(contacts));
    drop(freed);
    tracing::info!(
        fetch_and_read_ms = parsed_at.as_millis() as u64,
        compare_ms = (compared_at - parsed_at).as_millis() as u64,
        save_ms = (started.elapsed() - compared_at).as_millis() as u64,
        "import phases"
    );
    report.millis = started.elapsed().as_millis() as u64;
    Ok(report)
}

/// Runs an import as a job: recorded in the history with its counts and entry
/// errors (a dry run is not recorded). Returns the job id (0 for a dry run).
pub fn run_job(
    home: &Home,
    config: &Config,
    options: ImportOptions,
    progress: &Progress,
) -> Result<(i64, ImportReport)> {
    let started = now();
    let mut result = import(home, config, options, progress);
    if options.dry_run {
        return result.map(|r| (0, r));
    }
    // The node's first import replaces the sample phone book.
    if let Ok(r) = &mut result {
        if r.held.is_none() && !r.unchanged {
            r.sample_removed = super::open_store(home)?.remove_sample()?;
        }
    }
    let (status, counts, message, errors) = match &result {
        Ok(r) => (
            if r.held.is_some() {
                "held"
            } else if r.unchanged {
                "unchanged"
            } else {
                "ok"
            },
            {
                let mut counts = serde_json::json!({
                    "fetched_bytes": r.fetched_bytes,
                    "parsed": r.parsed,
                    "imported": r.imported,
                    "skipped": r.skipped,
                    "added": r.changes.added,
                    "updated": r.changes.updated,
                    "removed": r.changes.removed,
                    "millis": r.millis,
                    "format": r.format,
                });
                if !r.warnings.is_empty() {
                    counts["warnings"] = serde_json::json!(r.warnings);
                }
                if r.sample_removed > 0 {
                    counts["sample_removed"] = serde_json::json!(r.sample_removed);
                }
                counts
            },
            r.held.clone().unwrap_or_default(),
            r.errors.as_slice(),
        ),
        Err(e) => (
            "failed",
            serde_json::json!({}),
            format!("{e:#}; the previous contacts stay"),
            &[][..],
        ),
    };
    let id = record_job(home, "import", started, status, &counts, message, errors)?;
    result.map(|r| (id, r))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::contacts::{Phone, PhoneKind};

    fn c(id: &str, name: &str, number: &str) -> Contact {
        Contact {
            id: id.into(),
            display_name: name.into(),
            phones: vec![Phone {
                kind: PhoneKind::Work,
                number: number.into(),
            }],
            ..Contact::default()
        }
    }

    #[test]
    fn derived_ids_are_stable_and_unique() {
        let mut a = vec![
            c("", "Ada", "+44 1"),
            c("", "Ada", "+44 1"),
            c("x1", "Bob", "2"),
        ];
        let mut b = vec![
            c("x1", "Bob", "2"),
            c("", "Ada", "+44-1"),
            c("", "Ada", "+441"),
        ];
        derive_ids(&mut a);
        derive_ids(&mut b);
        // The id of a contact without one, as every earlier release derived it.
        let key = "ada|441";
        assert_eq!(
            a[0].id,
            format!("h{:016x}", crate::directory::stable_hash(key))
        );
        assert_eq!(a[1].id, format!("{}-2", a[0].id));
        assert_eq!(a[0].id, b[1].id);
        assert_eq!(a[1].id, b[2].id);
        assert_ne!(a[0].id, a[1].id);
        assert_eq!(a[2].id, "x1");
    }

    #[test]
    fn guards_hold_empty_lists_and_mass_removals() {
        let config = Config::defaults();
        let old: Vec<Contact> = (0..10).map(|i| c(&i.to_string(), "A", "1")).collect();
        let new: Vec<Contact> = (0..4).map(|i| c(&i.to_string(), "A", "1")).collect();
        let old = Fingerprints::of(&old);
        let ch = changes(&old, &new);
        assert_eq!(ch.removed, 6);
        let why = hold_reason(&config, &old, new.len(), &ch).unwrap();
        assert!(
            why.contains("remove 6 of the 10 external contacts (60%"),
            "{why}"
        );
        assert!(hold_reason(&config, &old, 0, &Changes::default()).is_some());
        let fine: Vec<Contact> = (0..6).map(|i| c(&i.to_string(), "A", "1")).collect();
        assert!(hold_reason(&config, &old, 6, &changes(&old, &fine)).is_none());
        let none = Fingerprints::default();
        assert!(hold_reason(&config, &none, 3, &changes(&none, &fine)).is_none());
    }
}
