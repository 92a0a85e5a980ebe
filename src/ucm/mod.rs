//! Unified Communication Model: the sources of contacts (the node's internal
//! contacts, the external contacts imported from a URL) and their merge into the
//! served directory.

pub mod fetch;
pub mod import;
pub mod pin;
pub mod received;

/// The merge's name for the node's internal contacts: their uids are `int-<id>`.
pub const INTERNAL_SOURCE: &str = "int";

use crate::config::Config;
use crate::directory::merge::{self, Changes, MergeStats, Source};
use crate::directory::{Builder, Directory, MatchRules, image, patch};
use crate::home::Home;
use crate::store::generations::{self, Loaded};
use crate::store::snapshot;
use crate::store::{Job, Store};
use color_eyre::eyre::{Result, WrapErr, eyre};
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// The sample phone book a new node serves.
pub const SAMPLE: &str = include_str!("../../assets/sample-phonebook.csv");

/// What a merge did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeReport {
    pub generation: u64,
    pub contacts: usize,
    pub changes: Changes,
    /// Per-source counts, duplicates folded and conflicts.
    pub stats: MergeStats,
    pub millis: u64,
    /// Problems met while reading the previous generation or a source (it still merged).
    pub problems: Vec<String>,
    /// Its job in the history (`sop jobs show`), with every fold by name.
    #[serde(default)]
    pub job: i64,
    /// Published nothing: a rollback holds (why, and what releases it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept: Option<String>,
}

/// How a merge runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeOptions {
    /// Publish even what the removal guard holds (a source that served contacts
    /// and has none on disk), and start an empty store where the store is missing.
    #[serde(default)]
    pub force: bool,
}

/// Which of `names` a uid (`<source>-<id>`) belongs to: the longest that prefixes it.
fn source_of(uid: &str, names: &[&str]) -> Option<usize> {
    names
        .iter()
        .enumerate()
        .filter(|(_, n)| {
            uid.len() > n.len() && uid.starts_with(**n) && uid.as_bytes()[n.len()] == b'-'
        })
        .max_by_key(|(_, n)| n.len())
        .map(|(i, _)| i)
}

pub use crate::jobs::progress::{Progress, ProgressState};
pub(crate) use crate::jobs::{lock_sources, now};
use crate::store::node::open_or_create_store;
pub use crate::store::node::{check_store, open_store};

/// What each `[[phonebooks]]` holds (its sources are named as the merge names
/// them: `int`, `ext`, a directory source's name).
pub fn book_specs(config: &Config) -> Vec<crate::directory::books::BookSpec> {
    config
        .phonebooks
        .iter()
        .map(|b| crate::directory::books::BookSpec {
            name: b.name.clone(),
            base_dn: b.base_dn.clone(),
            sources: b.sources.clone(),
        })
        .collect()
}

/// Merges every source into a new generation and publishes it, while no server
/// runs; then saves the image of its directory, so that the next start reads it
/// instead of building it (as a server does after its own merges). Blocking.
pub fn merge(home: &Home, config: &Config, options: MergeOptions) -> Result<MergeReport> {
    let (report, dir) = merge_and_build(home, config, options, None)?;
    if let Some(dir) = dir
        && let Err(e) = save_image(home, &dir)
    {
        tracing::warn!("{e:#}");
    }
    Ok(report)
}

/// Merges and publishes, then builds the directory to serve from the generation
/// in memory, rather than reading back the file just written. No directory when
/// a rollback holds (`report.kept`): nothing was published.
///
/// `served` is the directory served now, if any (else the image of the
/// generation served, if there is one): when it is that of the generation merged
/// before and few contacts changed, the new directory is patched from it
/// (`directory::patch`) rather than built.
pub fn merge_and_build(
    home: &Home,
    config: &Config,
    options: MergeOptions,
    served: Option<&Directory>,
) -> Result<(MergeReport, Option<Directory>)> {
    let (base_dn, rules) = (&config.ldap.base_dn, &config.matching);
    // With no server, the image of the generation served: opened now, as writing
    // the new generation removes it.
    let image_file = match served {
        None => image_file(home),
        Some(_) => None,
    };
    merge_then(
        home,
        config,
        options,
        |g, before, fresh| {
            let image = match (image_file, before) {
                (Some((generation, file)), Some(before))
                    if generation == before && patch::pays(g.contacts.len(), fresh.len()) =>
                {
                    read_image_file(home, generation, &file, base_dn, rules)
                }
                _ => None,
            };
            served
                .or(image.as_ref())
                .filter(|d| {
                    Some(d.generation()) == before && d.base_dn() == base_dn && d.rules() == rules
                })
                .and_then(|d| {
                    let patched = patch::patch(d, g, fresh)?;
                    tracing::info!(
                        generation = g.number,
                        from = d.generation(),
                        changed = fresh.len(),
                        "patched the directory"
                    );
                    Some(patched)
                })
                .map_or_else(
                    || Built::Collected(Box::new(Directory::collect(g, base_dn, rules))),
                    |d| Built::Patched(Box::new(d)),
                )
        },
        |built| match built {
            Built::Patched(dir) => *dir,
            Built::Collected(b) => (*b).finish(),
        },
    )
}

/// A new directory as made beside the writing of its generation: patched whole,
/// or its entries collected, to be indexed.
enum Built {
    Patched(Box<Directory>),
    Collected(Box<Builder>),
}

/// Merges and publishes; `beside` runs on the new generation while it is written
/// (with the number of the generation before it, if any, and the positions of the
/// contacts that are new or changed since), and `then` on what it made, once the
/// generation's contacts are let go (at a million contacts, their memory serves
/// `then` rather than the system's fresh pages). While a rollback holds,
/// publishes nothing and says so (`report.kept`).
fn merge_then<B: Send, T>(
    home: &Home,
    config: &Config,
    options: MergeOptions,
    beside: impl FnOnce(&crate::directory::Generation, Option<u64>, &[u32]) -> B + Send,
    then: impl FnOnce(B) -> T,
) -> Result<(MergeReport, Option<T>)> {
    let started = Instant::now();
    let started_at = now();
    let dir = home.generations_dir();
    let lock = generations::lock(&dir)?;
    let mut store = if options.force {
        open_or_create_store(home)?
    } else {
        open_store(home)?
    };
    match pin::read(home) {
        Some(p) if !options.force && p.lists == pin::lists(home) => {
            let kept = p.kept();
            let job = store.record_job(&Job {
                id: 0,
                kind: "merge".to_string(),
                started: started_at as i64,
                finished: now() as i64,
                status: "kept".to_string(),
                counts: serde_json::json!({ "generation": p.generation }).to_string(),
                message: kept.clone(),
            })?;
            tracing::info!("{kept}");
            let report = MergeReport {
                generation: p.generation,
                contacts: 0,
                changes: Changes::default(),
                stats: MergeStats::default(),
                millis: started.elapsed().as_millis() as u64,
                problems: Vec::new(),
                job,
                kept: Some(kept),
            };
            return Ok((report, None));
        }
        Some(_) => pin::clear(home),
        None => {}
    }
    let internal = store.all()?;
    let mut sources = vec![Source {
        name: INTERNAL_SOURCE.to_string(),
        priority: config.ucm.internal_priority,
        contacts: internal,
    }];
    // The directory sources received from another node (cluster::imported).
    let manifest = received::read_manifest(home)
        .map_err(|e| eyre!("{e}; the previous generation keeps serving"))?;
    let received_names = received::served_names(home, config);
    // What each source served in the current generation, for the guard.
    let names: Vec<&str> = [INTERNAL_SOURCE, import::EXTERNAL]
        .into_iter()
        .chain(config.sources.iter().map(|s| s.name.as_str()))
        .chain(received_names.iter().map(String::as_str))
        .collect();
    // The external contacts and what the current generation serves are read at once.
    let (external, (previous, served_by, before, mut problems)) = std::thread::scope(|scope| {
        let external = scope.spawn(|| snapshot::read(&import::snapshot_path(home)));
        // Each contact's fingerprint from its record, without reading it whole.
        let previous = match generations::load_current_records(
            &dir,
            |number, _| {
                (
                    merge::Fingerprints::default(),
                    vec![0usize; names.len()],
                    number,
                )
            },
            |(f, served_by, _), c| {
                if let Some(i) = source_of(c.uid, &names) {
                    served_by[i] += 1;
                }
                let (uid, content) = merge::record_fingerprint(c.uid, &c.contact);
                f.insert(uid, content);
            },
            |(f, served_by, _), (later, later_served, _)| {
                f.extend(later);
                for (n, m) in served_by.iter_mut().zip(later_served) {
                    *n += m;
                }
            },
        ) {
            Ok(Some(Loaded {
                generation: (f, served_by, number),
                problems,
            })) => (f, served_by, Some(number), problems),
            Ok(None) => (merge::Fingerprints::default(), Vec::new(), None, Vec::new()),
            Err(e) => (
                merge::Fingerprints::default(),
                Vec::new(),
                None,
                vec![e.to_string()],
            ),
        };
        (external.join(), previous)
    });
    let mut missing = Vec::new();
    match external.map_err(|_| eyre!("reading the external contacts failed"))? {
        // The origin's priority when a push brought them.
        Ok(Some((meta, contacts))) => sources.push(Source {
            name: import::EXTERNAL.to_string(),
            priority: received::external_priority(config, &manifest, &meta.hash),
            contacts,
        }),
        Ok(None) => missing.push(import::EXTERNAL.to_string()),
        // A damaged snapshot must not empty the directory: stop here.
        Err(e) => return Err(eyre!("{e}; the previous generation keeps serving")),
    }
    let (synced, not_synced) = crate::sources::merge_sources(home, config)?;
    sources.extend(synced);
    missing.extend(not_synced);
    let (received, lost, not_served) = received::merge_sources(home, config)?;
    sources.extend(received);
    missing.extend(lost);
    problems.extend(not_served);
    // The removal guard: a source that served contacts and has none on disk now
    // lost its files; publishing would silently drop all of its contacts.
    let vanished: Vec<String> = missing
        .iter()
        .filter_map(|name| {
            let i = names.iter().position(|n| n == name)?;
            let count = *served_by.get(i)?;
            (count > 0).then(|| format!("{name} ({count} served now)"))
        })
        .collect();
    if !vanished.is_empty() && !options.force {
        let message = format!(
            "held: the imported contacts of {} are missing from {}, and publishing would \
             remove all of them; nothing was published. Import them again (sop ucm import, \
             sop sources sync NAME, or for those received from another node sop cluster push \
             there) or restore the folder from a backup; or publish without them with sop ucm \
             merge --force",
            vanished.join(", "),
            home.sources_dir().display()
        );
        record_held(&mut store, started_at, &message)?;
        return Err(eyre!(message));
    }
    let read = started.elapsed();
    let (served, stats, log) =
        merge::merge(sources, &config.matching, config.merge.fold, &previous);
    let merged = started.elapsed();
    // The removal guard of imports, for what the merge itself would remove: more
    // than the configured share of the served entries, beyond what the imports,
    // syncs and deletions since the last merge removed, is held.
    let removed = merge::removed(&previous, &served);
    let expected = store.removed_since_merge()?;
    let unexpected = removed.saturating_sub(expected);
    let share = unexpected * 100 / previous.len().max(1);
    if !options.force && share > config.ucm.max_removal_percent as usize {
        let message = format!(
            "held: publishing would remove {removed} of the {} served entries, {unexpected} \
             ({share}%, over [ucm] max_removal_percent = {}) more than the imports and \
             deletions since the last merge removed; nothing was published. Check the \
             contacts (sop contacts list, sop jobs), restore the store from a backup, or \
             publish with sop ucm merge --force",
            previous.len(),
            config.ucm.max_removal_percent
        );
        record_held(&mut store, started_at, &message)?;
        return Err(eyre!(message));
    }
    let generation = crate::directory::Generation {
        number: generations::next_number(&dir, &lock)?,
        created: started_at,
        contacts: served,
    };
    // Written, and meanwhile compared with the previous generation and built.
    let (written, extra) = std::thread::scope(|scope| {
        let built = scope.spawn(|| {
            let (changes, fresh) = merge::changes(&previous, &generation.contacts);
            let t = Instant::now();
            (beside(&generation, before, &fresh), t.elapsed(), changes)
        });
        let t = Instant::now();
        let written = generations::write(&dir, &lock, &generation).map(|()| t.elapsed());
        (written, built.join())
    });
    drop(previous);
    let contacts = generation.contacts.len();
    let number = generation.number;
    // A million contacts take a while to free: not before the report, and beside
    // what `then` does.
    let freed = std::thread::Builder::new()
        .name("sop-free".to_string())
        .spawn(move || drop(generation));
    drop(freed);
    let write_time =
        written.wrap_err("publishing the new generation failed; the previous one keeps serving")?;
    let (extra, build_time, changes) =
        extra.map_err(|_| eyre!("building the new directory failed"))?;
    let t = Instant::now();
    let extra = then(extra);
    let build_time = build_time + t.elapsed();
    tracing::info!(
        read_ms = read.as_millis() as u64,
        merge_ms = (merged - read).as_millis() as u64,
        write_ms = write_time.as_millis() as u64,
        build_ms = build_time.as_millis() as u64,
        "merge phases"
    );
    let mut report = MergeReport {
        generation: number,
        contacts,
        changes,
        stats,
        millis: started.elapsed().as_millis() as u64,
        problems,
        job: 0,
        kept: None,
    };
    let counts = serde_json::json!({
        "generation": report.generation,
        "contacts": report.contacts,
        "added": changes.added,
        "updated": changes.updated,
        "removed": changes.removed,
        "duplicates": report.stats.duplicates,
        "kept_apart": report.stats.kept_apart,
        "skipped": report.stats.skipped,
        "conflicts": report.stats.conflicts,
        "sources": report.stats.sources,
    });
    // Every fold, pair kept apart and skipped contact, by name, with the job.
    let details: Vec<(String, String)> = [
        ("folded", &log.folds),
        ("kept apart", &log.apart),
        ("skipped", &log.skipped),
    ]
    .into_iter()
    .flat_map(|(what, lines)| lines.iter().map(move |l| (what.to_string(), l.clone())))
    .collect();
    report.job = store.record_job_with_errors(
        &Job {
            id: 0,
            kind: "merge".to_string(),
            started: started_at as i64,
            finished: now() as i64,
            status: "ok".to_string(),
            counts: counts.to_string(),
            message: report.problems.join("; "),
        },
        &details,
    )?;
    log_merge(&log, &report);
    Ok((report, Some(extra)))
}

/// How many lines of each kind a merge writes to the server log.
const LOGGED: usize = 1000;

/// The merge's folds, pairs kept apart and skipped contacts, in the server log.
/// Records a merge that the removal guard held.
fn record_held(store: &mut Store, started_at: u64, message: &str) -> Result<()> {
    store.record_job(&Job {
        id: 0,
        kind: "merge".to_string(),
        started: started_at as i64,
        finished: now() as i64,
        status: "held".to_string(),
        counts: "{}".to_string(),
        message: message.to_string(),
    })?;
    Ok(())
}

fn log_merge(log: &merge::MergeLog, report: &MergeReport) {
    let stats = &report.stats;
    for (what, lines, count) in [
        ("folded", &log.folds, stats.duplicates),
        ("kept apart", &log.apart, stats.kept_apart),
        ("skipped", &log.skipped, stats.skipped),
    ] {
        for line in lines.iter().take(LOGGED) {
            tracing::info!(generation = report.generation, "merge {what}: {line}");
        }
        if count > LOGGED {
            tracing::info!(
                generation = report.generation,
                "merge {what}: {} more (sop jobs show {})",
                count - LOGGED,
                report.job
            );
        }
    }
}

/// Serves the generation before the current one again. Returns its number.
pub fn rollback(home: &Home) -> Result<u64> {
    let dir = home.generations_dir();
    let lock = generations::lock(&dir)?;
    let started = now();
    let number = generations::rollback(&dir, &lock)?;
    let job = open_store(home)?.record_job(&Job {
        id: 0,
        kind: "rollback".to_string(),
        started: started as i64,
        finished: now() as i64,
        status: "ok".to_string(),
        counts: serde_json::json!({ "generation": number }).to_string(),
        message: String::new(),
    })?;
    pin::write(home, number, job).wrap_err("cannot keep the rollback for the next merges")?;
    Ok(number)
}

/// The next `n` times a cron spec fires after `after`, in local time.
pub fn next_runs(
    spec: &crate::schedule::Cron,
    after: chrono::DateTime<chrono::Local>,
    n: usize,
) -> Vec<chrono::DateTime<chrono::Local>> {
    spec.upcoming(&after, n)
}

/// Builds the directory from the current generation (an empty one when there is
/// none yet). Also returns problems met on the way (a damaged newest generation).
pub fn load_directory(
    home: &Home,
    base_dn: &str,
    rules: &MatchRules,
) -> Result<(Directory, Vec<String>)> {
    if let Some(dir) = read_image(home, base_dn, rules) {
        return Ok((dir, Vec::new()));
    }
    let loaded = generations::load_current_with(
        &home.generations_dir(),
        |number, _| Builder::new(number, base_dn, rules),
        |b, c| b.push(&c),
        |b, later| b.append(later),
    )?;
    match loaded {
        Some(Loaded {
            generation,
            problems,
        }) => Ok((generation.finish(), problems)),
        None => match published_before(home) {
            Some(generation) => Err(eyre!(
                "no generation to serve in {}: the files are missing, though this node \
                 published generation {generation}. Restore the folder from a backup, or \
                 publish a new generation from the store and the imported contacts with \
                 sop ucm merge",
                home.generations_dir().display()
            )),
            None => Ok((Directory::empty(base_dn), Vec::new())),
        },
    }
}

/// The generation the last merge published, by the job history, when the store
/// exists (it is not created here).
fn published_before(home: &Home) -> Option<u64> {
    if !home.store_file().exists() {
        return None;
    }
    Store::open(&home.store_file())
        .ok()?
        .last_published()
        .ok()?
}

/// The directory of the current generation read from its image, when there is a
/// sound one made from that very file with these settings.
fn read_image(home: &Home, base_dn: &str, rules: &MatchRules) -> Option<Directory> {
    let (generation, file) = image_file(home)?;
    read_image_file(home, generation, &file, base_dn, rules)
}

/// The current generation's number and its image, opened, if it has one.
fn image_file(home: &Home) -> Option<(u64, std::fs::File)> {
    let gens = home.generations_dir();
    let generation = generations::current_number(&gens)?;
    let file = std::fs::File::open(generations::image_of(&gens, generation)).ok()?;
    Some((generation, file))
}

/// `read_image` from the image `file` of generation `generation`.
fn read_image_file(
    home: &Home,
    generation: u64,
    file: &std::fs::File,
    base_dn: &str,
    rules: &MatchRules,
) -> Option<Directory> {
    let gens = home.generations_dir();
    let path = generations::image_of(&gens, generation);
    let expected = image::Expected {
        generation,
        source: generations::source_of(&gens, generation).ok()?,
        base_dn,
        rules,
    };
    match image::read(file, &expected) {
        Ok(dir) => {
            tracing::info!("read the directory from {}", path.display());
            Some(dir)
        }
        Err(e) => {
            tracing::warn!(
                "{}: not used ({e}); building the directory from its generation",
                path.display()
            );
            // Saved again once built.
            let _ = std::fs::remove_file(&path);
            None
        }
    }
}

/// One image written at a time.
static SAVING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Saves the image of `dir`, when it serves the current generation and has none,
/// so that the next start reads it instead of building it. Says where, or why not.
pub fn save_image(home: &Home, dir: &Directory) -> Result<Option<std::path::PathBuf>> {
    let _one_at_a_time = SAVING.lock().unwrap_or_else(|p| p.into_inner());
    let gens = home.generations_dir();
    let generation = dir.generation();
    if generation == 0 || generations::current_number(&gens) != Some(generation) {
        return Ok(None);
    }
    let path = generations::image_of(&gens, generation);
    let source = generations::source_of(&gens, generation)
        .wrap_err_with(|| format!("cannot read generation {generation}"))?;
    let expected = image::Expected {
        generation,
        source,
        base_dn: dir.base_dn(),
        rules: dir.rules(),
    };
    if std::fs::File::open(&path).is_ok_and(|f| image::is_of(&f, &expected)) {
        return Ok(None);
    }
    let need = image::size(dir);
    // As much room is left as the image takes, and more, for the next generation:
    // the image is only a faster start.
    if home
        .free_bytes()
        .is_some_and(|free| free < 2 * need + (64 << 20))
    {
        return Err(eyre!(
            "not saving {} ({} MiB): too little free space; the next start builds the \
             directory instead",
            path.display(),
            need >> 20
        ));
    }
    let tmp = path.with_extension("dir.tmp");
    let written = (|| -> std::io::Result<()> {
        let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&tmp)?);
        image::write(dir, source, &mut out)?;
        out.into_inner().map_err(|e| e.into_error())?;
        std::fs::rename(&tmp, &path)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(eyre!("cannot save {}: {e}", path.display()));
    }
    generations::remove_images_but(&gens, generation);
    Ok(Some(path))
}

/// On a new node: the sample phone book as internal contacts, and its first generation.
pub fn seed_sample(home: &Home) -> Result<()> {
    let mut store = open_store(home)?;
    if store.count()? > 0 || generations::current_number(&home.generations_dir()).is_some() {
        return Ok(());
    }
    let sample = crate::formats::csv::read(SAMPLE)?;
    store.add_sample(&sample.contacts)?;
    drop(store);
    let config = Config::load(&home.config_file()).unwrap_or_else(|_| Config::defaults());
    merge(home, &config, MergeOptions::default())?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_uid_belongs_to_the_longest_source_name_that_prefixes_it() {
        let names = ["int", "ext", "corp", "corp-int"];
        assert_eq!(source_of("int-1", &names), Some(0));
        assert_eq!(source_of("corp-int-1000", &names), Some(3));
        assert_eq!(source_of("corp-1000", &names), Some(2));
        assert_eq!(source_of("corp", &names), None);
        assert_eq!(source_of("interior-1", &names), None);
    }
}
