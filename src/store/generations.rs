//! Published generations of the served directory, one file each, and the `current`
//! pointer to the one that serves.
//!
//! Publishing is atomic: generation N is written to a temporary file, synced and
//! renamed to `gen-N.bin`; only then is `current` replaced (written aside, synced,
//! renamed). A crash at any point leaves `current` naming a complete generation.
//! Each file ends with a CRC-32 of its content, so a damaged file is detected, reported
//! and the previous complete generation is used instead.
//!
//! File format (little-endian): `SOPGEN2\n`, number u64, created u64, count u64, then
//! per contact its strings (u32 length + UTF-8) uid, source, id, given name, surname,
//! display name, company, department, title, email, a u8 count of numbers, each a u8
//! kind and a string, a u8 count of extra fields, each a u8 tag and a string (1 a
//! common name; 2 description, 3 street, 4 l, 5 postalCode, 6 st, 7 country; 8 the
//! photo's bytes); then the CRC-32 (u32) of everything before it. Files written
//! before the details existed are read as they are; `SOPGEN1\n` files (contacts
//! without extra fields) are still read.

use crate::codec::{Parts, Reader, checked_body, write_checked, write_contact, write_str};
use crate::directory::{Generation, ServedContact};
use nix::fcntl::{Flock, FlockArg};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"SOPGEN2\n";
/// Generations written before contacts had extra fields; still read.
const MAGIC_1: &[u8; 8] = b"SOPGEN1\n";
/// Generations kept for rollback besides the current one.
const KEEP: usize = 3;

#[derive(Debug, thiserror::Error)]
pub enum GenerationError {
    #[error("{path}: {source}")]
    Io { path: String, source: io::Error },
    #[error("{path}: damaged generation file: {reason}")]
    Damaged { path: String, reason: String },
    #[error("no earlier complete generation to roll back to")]
    NothingToRollBack,
}

fn io_err(path: &Path) -> impl Fn(io::Error) -> GenerationError + '_ {
    move |source| GenerationError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn file_of(dir: &Path, number: u64) -> PathBuf {
    dir.join(format!("gen-{number:08}.bin"))
}

/// The image of generation `number`'s directory (see `directory::image`).
pub fn image_of(dir: &Path, number: u64) -> PathBuf {
    dir.join(format!("gen-{number:08}.dir"))
}

/// Generation `number`'s file as an image names it: its length and the CRC at its end.
pub fn source_of(dir: &Path, number: u64) -> io::Result<crate::directory::image::Source> {
    use std::os::unix::fs::FileExt;
    let file = File::open(file_of(dir, number))?;
    let len = file.metadata()?.len();
    let mut crc = [0u8; 4];
    file.read_exact_at(&mut crc, len.saturating_sub(4))?;
    Ok(crate::directory::image::Source {
        len,
        crc: u32::from_le_bytes(crc),
    })
}

/// Removes the images of every generation but `keep`.
pub fn remove_images_but(dir: &Path, keep: u64) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let number = name
            .to_str()
            .and_then(|n| n.strip_prefix("gen-")?.strip_suffix(".dir"))
            .and_then(|n| n.parse::<u64>().ok());
        if number.is_some_and(|n| n != keep) {
            let _ = fs::remove_file(e.path());
        }
    }
}

/// Holds the publish lock of a generations folder: one publish at a time, across
/// processes.
pub struct PublishLock {
    _lock: Flock<File>,
}

pub fn lock(dir: &Path) -> Result<PublishLock, GenerationError> {
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    let path = dir.join("publish.lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io_err(&path))?;
    let lock =
        Flock::lock(file, FlockArg::LockExclusive).map_err(|(_, e)| GenerationError::Io {
            path: path.display().to_string(),
            source: io::Error::from(e),
        })?;
    Ok(PublishLock { _lock: lock })
}

/// The numbers of the complete-looking generation files, oldest first.
pub fn list(dir: &Path) -> Result<Vec<u64>, GenerationError> {
    let mut numbers = Vec::new();
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(numbers),
        Err(e) => return Err(io_err(dir)(e)),
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if let Some(n) = name
            .strip_prefix("gen-")
            .and_then(|s| s.strip_suffix(".bin"))
            .and_then(|s| s.parse().ok())
        {
            numbers.push(n);
        }
    }
    numbers.sort_unstable();
    Ok(numbers)
}

/// The number `current` names, if any.
pub fn current_number(dir: &Path) -> Option<u64> {
    fs::read_to_string(dir.join("current"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Writes the next generation and makes it current. The caller holds `lock`.
pub fn publish(
    dir: &Path,
    lock: &PublishLock,
    contacts: Vec<ServedContact>,
    created: u64,
) -> Result<Generation, GenerationError> {
    let generation = Generation {
        number: next_number(dir, lock)?,
        created,
        contacts,
    };
    write(dir, lock, &generation)?;
    Ok(generation)
}

/// The number the next published generation takes.
pub fn next_number(dir: &Path, _lock: &PublishLock) -> Result<u64, GenerationError> {
    let last = list(dir)?.last().copied().unwrap_or(0);
    Ok(last.max(current_number(dir).unwrap_or(0)) + 1)
}

/// Writes a generation numbered by `next_number` and makes it current.
pub fn write(
    dir: &Path,
    _lock: &PublishLock,
    generation: &Generation,
) -> Result<(), GenerationError> {
    let number = generation.number;
    let path = file_of(dir, number);
    let tmp = dir.join(format!("gen-{number:08}.tmp"));
    write_checked(&tmp, |out| write_generation(out, generation)).map_err(io_err(&tmp))?;
    fs::rename(&tmp, &path).map_err(io_err(&path))?;
    sync_dir(dir)?;
    point_current(dir, number)?;
    prune(dir, number);
    Ok(())
}

fn point_current(dir: &Path, number: u64) -> Result<(), GenerationError> {
    let tmp = dir.join("current.tmp");
    let mut f = File::create(&tmp).map_err(io_err(&tmp))?;
    writeln!(f, "{number}").map_err(io_err(&tmp))?;
    f.sync_all().map_err(io_err(&tmp))?;
    let current = dir.join("current");
    fs::rename(&tmp, &current).map_err(io_err(&current))?;
    sync_dir(dir)
}

fn sync_dir(dir: &Path) -> Result<(), GenerationError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

/// Removes leftovers of interrupted publishes and generations beyond the few kept.
fn prune(dir: &Path, current: u64) {
    if let Ok(numbers) = list(dir) {
        let older: Vec<u64> = numbers.into_iter().filter(|n| *n < current).collect();
        for n in &older[..older.len().saturating_sub(KEEP)] {
            let _ = fs::remove_file(file_of(dir, *n));
        }
    }
    // The image of the generation that served until now: the new one gets its own.
    remove_images_but(dir, current);
    if let Ok(entries) = fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().ends_with(".tmp") {
                let _ = fs::remove_file(e.path());
            }
        }
    }
}

/// What loading found: the generation and, when the newest could not be used, why.
pub struct Loaded<T = Generation> {
    pub generation: T,
    pub problems: Vec<String>,
}

/// Loads the current generation, or the newest complete one before it when the
/// current one is damaged or missing. `None` when there is no generation at all.
pub fn load_current(dir: &Path) -> Result<Option<Loaded>, GenerationError> {
    load_current_with(dir, new_generation, push_contact, join_generations)
}

/// Like `load_current`, but hands the contacts one by one to `push` on the value
/// `start(number, created)` made, so that they need not be held all at once. A
/// large generation is read in parts on every core, each part into its own value;
/// `join(first, later)` puts the later part's contacts after the first's.
pub fn load_current_with<T: Send>(
    dir: &Path,
    start: impl Fn(u64, u64) -> T + Sync,
    push: impl Fn(&mut T, ServedContact) + Sync,
    join: impl Fn(&mut T, T),
) -> Result<Option<Loaded<T>>, GenerationError> {
    load_current_each(dir, start, Whole(push), join)
}

/// A served contact as the generation file holds it, borrowed from its bytes.
pub struct Record<'a> {
    pub uid: &'a str,
    pub source: &'a str,
    pub contact: Parts<'a>,
}

/// Like `load_current_with`, but hands each contact to `push` as its record,
/// without reading it into strings of its own (to look at every contact of a
/// large generation once, for less than reading it).
pub fn load_current_records<T: Send>(
    dir: &Path,
    start: impl Fn(u64, u64) -> T + Sync,
    push: impl Fn(&mut T, Record<'_>) + Sync,
    join: impl Fn(&mut T, T),
) -> Result<Option<Loaded<T>>, GenerationError> {
    load_current_each(dir, start, Borrowed(push), join)
}

/// How a contact read from a generation file is handed over.
trait Each<T>: Sync {
    fn each(&self, into: &mut T, r: &mut Reader<'_>) -> Option<()>;
}

/// As a `ServedContact` of its own.
struct Whole<F>(F);

impl<T, F: Fn(&mut T, ServedContact) + Sync> Each<T> for Whole<F> {
    fn each(&self, into: &mut T, r: &mut Reader<'_>) -> Option<()> {
        let uid = r.string()?;
        let source = r.string()?;
        let contact = r.contact()?;
        (self.0)(
            into,
            ServedContact {
                uid,
                source,
                contact,
            },
        );
        Some(())
    }
}

/// As its record.
struct Borrowed<F>(F);

impl<T, F: Fn(&mut T, Record<'_>) + Sync> Each<T> for Borrowed<F> {
    fn each(&self, into: &mut T, r: &mut Reader<'_>) -> Option<()> {
        let uid = r.str()?;
        let source = r.str()?;
        let contact = r.contact_parts()?;
        (self.0)(
            into,
            Record {
                uid,
                source,
                contact,
            },
        );
        Some(())
    }
}

fn load_current_each<T: Send>(
    dir: &Path,
    start: impl Fn(u64, u64) -> T + Sync,
    push: impl Each<T>,
    join: impl Fn(&mut T, T),
) -> Result<Option<Loaded<T>>, GenerationError> {
    let mut candidates = list(dir)?;
    if candidates.is_empty() {
        return Ok(None);
    }
    let current = current_number(dir);
    // The current one first, then older ones, newest first. Never a newer one: a
    // file newer than `current` was not published (or was rolled back).
    candidates.retain(|n| current.is_none_or(|c| *n <= c));
    let mut problems = Vec::new();
    if let Some(c) = current {
        if !candidates.contains(&c) {
            problems.push(format!("current generation {c} is missing"));
        }
    }
    for n in candidates.into_iter().rev() {
        match read_with(&file_of(dir, n), &start, &push, &join) {
            Ok(generation) => {
                return Ok(Some(Loaded {
                    generation,
                    problems,
                }));
            }
            Err(e) => problems.push(e.to_string()),
        }
    }
    Err(GenerationError::Damaged {
        path: dir.display().to_string(),
        reason: format!("no complete generation: {}", problems.join("; ")),
    })
}

/// Points `current` to the complete generation before it. Returns its number.
pub fn rollback(dir: &Path, lock: &PublishLock) -> Result<u64, GenerationError> {
    let _ = lock;
    let current = current_number(dir).unwrap_or(u64::MAX);
    for n in list(dir)?.into_iter().rev().filter(|n| *n < current) {
        if read(&file_of(dir, n)).is_ok() {
            point_current(dir, n)?;
            return Ok(n);
        }
    }
    Err(GenerationError::NothingToRollBack)
}

/// Reads and checks one generation file.
pub fn read(path: &Path) -> Result<Generation, GenerationError> {
    read_with(
        path,
        &new_generation,
        &Whole(push_contact),
        &join_generations,
    )
}

/// A generation's contacts read whole: an empty generation, each contact pushed,
/// the parts read at once put end to end.
fn new_generation(number: u64, created: u64) -> Generation {
    Generation {
        number,
        created,
        contacts: Vec::new(),
    }
}

fn push_contact(g: &mut Generation, c: ServedContact) {
    g.contacts.push(c);
}

fn join_generations(g: &mut Generation, later: Generation) {
    g.contacts.extend(later.contacts);
}

/// Contacts from this many on are read in two parts at once.
const PARALLEL_FROM: u64 = 50_000;

fn read_with<T: Send>(
    path: &Path,
    start: &(impl Fn(u64, u64) -> T + Sync),
    push: &impl Each<T>,
    join: &impl Fn(&mut T, T),
) -> Result<T, GenerationError> {
    let bytes = fs::read(path).map_err(io_err(path))?;
    let damaged = |reason: &str| GenerationError::Damaged {
        path: path.display().to_string(),
        reason: reason.to_string(),
    };
    if bytes.len() < MAGIC.len() + 28 || (&bytes[..8] != MAGIC && &bytes[..8] != MAGIC_1) {
        return Err(damaged("not a generation file (bad header)"));
    }
    let Some(body) = checked_body(&bytes) else {
        return Err(damaged("checksum mismatch (truncated or corrupted)"));
    };
    let mut r = if &bytes[..8] == MAGIC_1 {
        Reader::format1(&body[8..])
    } else {
        Reader::new(&body[8..])
    };
    let parsed = (|| -> Option<T> {
        let number = r.u64()?;
        let created = r.u64()?;
        let count = r.u64()?;
        // Contacts are read one after the other: skipping the first half (lengths
        // only) finds where the second half starts, for a second thread to read it.
        let read = |mut r: Reader<'_>, n: u64, to_end: bool| -> Option<T> {
            let mut out = start(number, created);
            for _ in 0..n {
                push.each(&mut out, &mut r)?;
            }
            (!to_end || r.buf.is_empty()).then_some(out)
        };
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        if count < PARALLEL_FROM || cores < 2 {
            return read(r, count, true);
        }
        let first = count / 2;
        let mut second = r.clone();
        for _ in 0..first {
            second.skip_served()?;
        }
        let (head, tail) = std::thread::scope(|scope| {
            let later = scope.spawn(|| read(second, count - first, true));
            (read(r, first, false), later.join().ok().flatten())
        });
        let mut out = head?;
        join(&mut out, tail?);
        Some(out)
    })();
    parsed.ok_or_else(|| damaged("inconsistent content"))
}

fn write_generation(out: &mut impl Write, g: &Generation) -> io::Result<()> {
    out.write_all(MAGIC)?;
    out.write_all(&g.number.to_le_bytes())?;
    out.write_all(&g.created.to_le_bytes())?;
    out.write_all(&(g.contacts.len() as u64).to_le_bytes())?;
    for batch in g.contacts.chunks(crate::directory::WARM_CONTACTS) {
        crate::directory::warm_contacts(batch);
        for s in batch {
            write_str(out, &s.uid)?;
            write_str(out, &s.source)?;
            write_contact(out, &s.contact)?;
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::codec::Crc32Writer;

    fn served(n: usize) -> Vec<ServedContact> {
        crate::bench::phonebook::generate(n, 3)
            .into_iter()
            .map(|c| ServedContact {
                uid: format!("int-{}", c.id),
                source: "internal".into(),
                contact: c,
            })
            .collect()
    }

    /// Each contact handed over as its record has the fingerprint it has when read
    /// whole: common names, every kind of number, details and a photo included.
    #[test]
    fn records_fingerprint_as_contacts_read_whole() {
        use crate::contacts::{Phone, PhoneKind};
        use crate::directory::merge::{fingerprint, record_fingerprint};
        let dir = tempfile::tempdir().unwrap();
        let lock = lock(dir.path()).unwrap();
        let mut contacts = served(300);
        for (i, s) in contacts.iter_mut().enumerate() {
            s.contact.cn = (0..i % 3).map(|k| format!("Name {k} of {i}")).collect();
            s.contact
                .phones
                .extend(PhoneKind::ALL.iter().take(i % 8).map(|kind| Phone {
                    kind: *kind,
                    number: format!("+49 30 {i:05}"),
                }));
            s.contact.street = format!("Straße {i}");
            s.contact.photo = vec![i as u8; i % 4];
        }
        publish(dir.path(), &lock, contacts, 10).unwrap();
        let whole: Vec<(u64, u64)> = load_current(dir.path())
            .unwrap()
            .unwrap()
            .generation
            .contacts
            .iter()
            .map(fingerprint)
            .collect();
        let records = load_current_records(
            dir.path(),
            |_, _| Vec::new(),
            |v, r| v.push(record_fingerprint(r.uid, &r.contact)),
            |v, later| v.extend(later),
        )
        .unwrap()
        .unwrap()
        .generation;
        assert_eq!(records, whole);
        assert_eq!(records.len(), 300);
        // Contacts that differ in a common name or a number differ.
        let distinct: std::collections::HashSet<_> = records.iter().map(|f| f.1).collect();
        assert_eq!(distinct.len(), 300);
    }

    #[test]
    fn publish_then_load_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let lock = lock(dir.path()).unwrap();
        let g1 = publish(dir.path(), &lock, served(50), 10).unwrap();
        assert_eq!(g1.number, 1);
        let g2 = publish(dir.path(), &lock, served(60), 20).unwrap();
        assert_eq!(g2.number, 2);
        let loaded = load_current(dir.path()).unwrap().unwrap();
        assert_eq!(loaded.generation, g2);
        assert!(loaded.problems.is_empty());
        assert_eq!(rollback(dir.path(), &lock).unwrap(), 1);
        assert_eq!(load_current(dir.path()).unwrap().unwrap().generation, g1);
    }

    #[test]
    fn a_large_generation_read_in_two_parts_keeps_every_contact_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let lock = lock(dir.path()).unwrap();
        let n = PARALLEL_FROM as usize + 1;
        let g = publish(dir.path(), &lock, served(n), 10).unwrap();
        assert_eq!(load_current(dir.path()).unwrap().unwrap().generation, g);
        // Counted from the parts, as a merge counts the served contacts.
        let counted = load_current_with(dir.path(), |_, _| 0usize, |n, _| *n += 1, |n, m| *n += m);
        assert_eq!(counted.unwrap().unwrap().generation, n);
    }

    #[test]
    fn an_interrupted_publish_leaves_the_previous_generation() {
        let dir = tempfile::tempdir().unwrap();
        let lock = lock(dir.path()).unwrap();
        let g1 = publish(dir.path(), &lock, served(30), 10).unwrap();
        // Killed while writing: a temp file, never renamed.
        fs::write(dir.path().join("gen-00000002.tmp"), b"SOPGEN1\npartial").unwrap();
        // Killed after the rename, before `current` moved: a complete but unpublished file.
        let g2 = Generation {
            number: 2,
            created: 11,
            contacts: served(31),
        };
        let mut bytes = Vec::new();
        let mut w = Crc32Writer::new(&mut bytes);
        write_generation(&mut w, &g2).unwrap();
        let (_, crc) = w.finish();
        bytes.extend_from_slice(&crc.to_le_bytes());
        fs::write(file_of(dir.path(), 2), &bytes).unwrap();
        fs::write(dir.path().join("current.tmp"), b"2").unwrap();
        assert_eq!(load_current(dir.path()).unwrap().unwrap().generation, g1);
        // The next publish goes past the leftovers and cleans them.
        let g3 = publish(dir.path(), &lock, served(32), 12).unwrap();
        assert_eq!(g3.number, 3);
        assert!(!dir.path().join("gen-00000002.tmp").exists());
    }

    #[test]
    fn a_damaged_current_generation_falls_back_and_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let lock = lock(dir.path()).unwrap();
        let g1 = publish(dir.path(), &lock, served(30), 10).unwrap();
        publish(dir.path(), &lock, served(40), 11).unwrap();
        let path = file_of(dir.path(), 2);
        let bytes = fs::read(&path).unwrap();
        fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        let loaded = load_current(dir.path()).unwrap().unwrap();
        assert_eq!(loaded.generation, g1);
        assert!(
            loaded.problems[0].contains("checksum mismatch"),
            "{:?}",
            loaded.problems
        );
        // A pointer to a missing file also falls back.
        fs::write(dir.path().join("current"), "9\n").unwrap();
        let loaded = load_current(dir.path()).unwrap().unwrap();
        assert!(
            loaded.problems[0].contains("missing"),
            "{:?}",
            loaded.problems
        );
    }
}
