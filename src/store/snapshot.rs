//! The contacts a source last imported (the UCM's external contacts, a directory
//! source, a snapshot pushed by another node of the cluster): one file per source,
//! replaced atomically (written aside, synced, renamed), with a CRC-32 and a
//! SHA-256 of its contacts that names the snapshot across nodes.
//!
//! File format: `SOPSNAP2\n`, a u32 length and the JSON of `SnapshotMeta`, a u64
//! count and the contacts (see `codec`), then the CRC-32 of everything before it.
//! `SOPSNAP1\n` files (contacts without extra fields) are still read.

use crate::codec::{Reader, checked_body, write_checked, write_contact};
use crate::contacts::Contact;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;

const MAGIC: &[u8; 9] = b"SOPSNAP2\n";
/// Snapshots written before contacts had extra fields; still read.
const MAGIC_1: &[u8; 9] = b"SOPSNAP1\n";

/// What is known of a snapshot besides its contacts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotMeta {
    /// The source's name (`external`, a directory source's name).
    pub source: String,
    /// Seconds since the Unix epoch.
    pub created: u64,
    /// The node that imported it.
    pub origin: String,
    /// Where it came from (without credentials).
    pub url: String,
    pub count: u64,
    /// SHA-256 of the contacts, hex: equal on two nodes means the same contacts.
    pub hash: String,
    /// HTTP validators of the fetched document, for conditional requests.
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("{path}: {source}")]
    Io { path: String, source: io::Error },
    #[error("{path} is damaged ({reason}); import again to replace it")]
    Damaged { path: String, reason: String },
}

fn io_err(path: &Path) -> impl Fn(io::Error) -> SnapshotError + '_ {
    move |source| SnapshotError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// What `verify` finds in a snapshot file.
pub struct Verified {
    pub meta: SnapshotMeta,
    /// Contacts in the file.
    pub count: u64,
    /// The hash of its contacts (to compare with `meta.hash`).
    pub hash: String,
}

/// Checks a snapshot file's bytes whole without keeping its contacts: its
/// checksum, that every contact reads, and the hash of its contacts, summed over
/// their records as written (each contact has one written form). A reason in
/// words when it is damaged.
pub fn verify(bytes: &[u8]) -> Result<Verified, &'static str> {
    if !bytes.starts_with(MAGIC) {
        // Format 1 stores contacts in another form than the hash's: read them.
        if !bytes.starts_with(MAGIC_1) {
            return Err("not a snapshot file");
        }
        let body = checked_body(bytes).ok_or("checksum mismatch")?;
        let mut r = Reader::format1(&body[MAGIC.len()..]);
        let (meta, count) = meta_and_count(&mut r)?;
        let mut contacts = Vec::new();
        for _ in 0..count {
            contacts.push(r.contact().ok_or("inconsistent content")?);
        }
        return match r.buf.is_empty() {
            true => Ok(Verified {
                meta,
                count,
                hash: content_hash(&contacts),
            }),
            false => Err("trailing bytes"),
        };
    }
    let body = checked_body(bytes).ok_or("checksum mismatch")?;
    let mut r = Reader::new(&body[MAGIC.len()..]);
    let (meta, count) = meta_and_count(&mut r)?;
    let records = r.buf;
    for _ in 0..count {
        r.contact_parts().ok_or("inconsistent content")?;
    }
    if !r.buf.is_empty() {
        return Err("trailing bytes");
    }
    Ok(Verified {
        meta,
        count,
        hash: hex(&Sha256::digest(records)),
    })
}

/// A snapshot's meta and count, read from the start of its body.
fn meta_and_count(r: &mut Reader) -> Result<(SnapshotMeta, u64), &'static str> {
    let meta = (|| {
        let n = r.u32()? as usize;
        serde_json::from_slice::<SnapshotMeta>(r.take(n)?).ok()
    })()
    .ok_or("unreadable header")?;
    Ok((meta, r.u64().ok_or("no count")?))
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SHA-256 (hex) of contacts as a snapshot stores them.
pub fn content_hash(contacts: &[Contact]) -> String {
    struct HashWriter(Sha256);
    impl Write for HashWriter {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.update(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let mut h = HashWriter(Sha256::new());
    for c in contacts {
        // Writing into a hasher cannot fail.
        let _ = write_contact(&mut h, c);
    }
    hex(&h.0.finalize())
}

/// Replaces the snapshot at `path`; `meta`'s count and hash are filled in.
pub fn write(
    path: &Path,
    mut meta: SnapshotMeta,
    contacts: &[Contact],
) -> Result<SnapshotMeta, SnapshotError> {
    meta.count = contacts.len() as u64;
    meta.hash = content_hash(contacts);
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    let tmp = path.with_extension("tmp");
    write_checked(&tmp, |out| {
        out.write_all(MAGIC)?;
        let json = serde_json::to_vec(&meta).map_err(io::Error::other)?;
        out.write_all(&(json.len() as u32).to_le_bytes())?;
        out.write_all(&json)?;
        out.write_all(&meta.count.to_le_bytes())?;
        for c in contacts {
            write_contact(out, c)?;
        }
        Ok(())
    })
    .map_err(io_err(&tmp))?;
    fs::rename(&tmp, path).map_err(io_err(path))?;
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))?;
    Ok(meta)
}

/// Reads a snapshot; `None` when there is none yet.
pub fn read(path: &Path) -> Result<Option<(SnapshotMeta, Vec<Contact>)>, SnapshotError> {
    read_with(
        path,
        |count| Vec::with_capacity(count.min(10_000_000) as usize),
        Vec::push,
    )
}

/// Reads a snapshot contact by contact into what `start(count)` makes, with
/// `each`, without holding all the contacts at once; `None` when there is none.
pub fn read_with<T>(
    path: &Path,
    start: impl FnOnce(u64) -> T,
    mut each: impl FnMut(&mut T, Contact),
) -> Result<Option<(SnapshotMeta, T)>, SnapshotError> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err(path)(e)),
    };
    let damaged = |reason: &str| SnapshotError::Damaged {
        path: path.display().to_string(),
        reason: reason.to_string(),
    };
    if !bytes.starts_with(MAGIC) && !bytes.starts_with(MAGIC_1) {
        return Err(damaged("not a snapshot file"));
    }
    let body = checked_body(&bytes).ok_or_else(|| damaged("checksum mismatch"))?;
    let mut r = if bytes.starts_with(MAGIC_1) {
        Reader::format1(&body[MAGIC.len()..])
    } else {
        Reader::new(&body[MAGIC.len()..])
    };
    let (meta, count) = meta_and_count(&mut r).map_err(damaged)?;
    let mut into = start(count);
    for _ in 0..count {
        each(
            &mut into,
            r.contact().ok_or_else(|| damaged("inconsistent content"))?,
        );
    }
    if !r.buf.is_empty() {
        return Err(damaged("trailing bytes"));
    }
    Ok(Some((meta, into)))
}

/// Where the parts of a snapshot file lie: the JSON of its meta and each contact's
/// record, as byte ranges of the file (for `cluster::delta`, which sends a node
/// only the records it lacks). None for a damaged file or one of format 1.
pub struct Layout<'a> {
    pub bytes: &'a [u8],
    pub meta_json: std::ops::Range<usize>,
    pub records: Vec<std::ops::Range<usize>>,
}

pub fn layout(bytes: &[u8]) -> Option<Layout<'_>> {
    if !bytes.starts_with(MAGIC) {
        return None;
    }
    let body = checked_body(bytes)?;
    let mut r = Reader::new(&body[MAGIC.len()..]);
    let at = |r: &Reader| body.len() - r.buf.len();
    let n = r.u32()? as usize;
    let meta_start = at(&r);
    r.take(n)?;
    let meta_json = meta_start..at(&r);
    let count = r.u64()?;
    let mut records = Vec::with_capacity(count.min(10_000_000) as usize);
    for _ in 0..count {
        let start = at(&r);
        r.contact()?;
        records.push(start..at(&r));
    }
    r.buf.is_empty().then_some(Layout {
        bytes,
        meta_json,
        records,
    })
}

/// A snapshot file made of a meta's JSON and `count` contact records, as
/// `write` makes it (its checksum at its end).
pub fn assemble(meta_json: &[u8], count: u64, records: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(meta_json.len() as u32).to_le_bytes());
    out.extend_from_slice(meta_json);
    out.extend_from_slice(&count.to_le_bytes());
    records(&mut out);
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Reads only what a snapshot says of itself, not its contacts, and without
/// checking them (a quick look, for status views); `None` when there is none.
pub fn read_meta(path: &Path) -> Result<Option<SnapshotMeta>, SnapshotError> {
    use std::io::Read;
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err(path)(e)),
    };
    let damaged = |reason: &str| SnapshotError::Damaged {
        path: path.display().to_string(),
        reason: reason.to_string(),
    };
    let mut head = [0u8; MAGIC.len() + 4];
    file.read_exact(&mut head)
        .map_err(|_| damaged("not a snapshot file"))?;
    let (magic, len) = head.split_at(MAGIC.len());
    if magic != MAGIC && magic != MAGIC_1 {
        return Err(damaged("not a snapshot file"));
    }
    let len = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
    if len > 1 << 20 {
        return Err(damaged("unreadable header"));
    }
    let mut json = vec![0u8; len];
    file.read_exact(&mut json)
        .map_err(|_| damaged("unreadable header"))?;
    serde_json::from_slice(&json)
        .map(Some)
        .map_err(|_| damaged("unreadable header"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::contacts::{Phone, PhoneKind};

    #[test]
    fn round_trip_and_damage_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("external.snap");
        assert!(read(&path).unwrap().is_none());
        let contacts = vec![Contact {
            id: "u-1".into(),
            given_name: "Zoë".into(),
            surname: "Ångström".into(),
            phones: vec![Phone {
                kind: PhoneKind::Mobile,
                number: "+46 70 123 45 67".into(),
            }],
            ..Contact::default()
        }];
        let meta = SnapshotMeta {
            source: "external".into(),
            origin: "node-a".into(),
            ..SnapshotMeta::default()
        };
        let written = write(&path, meta, &contacts).unwrap();
        assert_eq!(written.count, 1);
        assert_eq!(written.hash.len(), 64);
        assert_eq!(read_meta(&path).unwrap().unwrap(), written);
        let (m, c) = read(&path).unwrap().unwrap();
        assert_eq!((m, c), (written.clone(), contacts.clone()));
        let mut other = contacts.clone();
        other[0].surname = "Angstrom".into();
        assert_ne!(content_hash(&other), written.hash);

        let mut bytes = fs::read(&path).unwrap();
        let n = bytes.len();
        bytes[n / 2] ^= 1;
        fs::write(&path, &bytes).unwrap();
        assert!(matches!(read(&path), Err(SnapshotError::Damaged { .. })));
    }

    /// `verify` finds the hash `write` gave, from the records as written (common
    /// names, details and a photo included), and refuses a record that does not
    /// read even when the checksum is right.
    #[test]
    fn verify_hashes_records_as_written_and_reads_each() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ldap.snap");
        let mut c = Contact {
            id: "u-2".into(),
            cn: vec!["Bob Marley".into(), "Robert Nesta Marley".into()],
            display_name: "Marley, Bob".into(),
            street: "56 Hope Road".into(),
            country: "JM".into(),
            photo: vec![0xff, 0xd8, 0xff],
            ..Contact::default()
        };
        c.phones.push(Phone {
            kind: PhoneKind::Work,
            number: "+1 876 927 9152".into(),
        });
        let contacts = vec![c, Contact::default()];
        let meta = SnapshotMeta {
            source: "ldap".into(),
            ..SnapshotMeta::default()
        };
        let written = write(&path, meta, &contacts).unwrap();
        let bytes = fs::read(&path).unwrap();
        let found = verify(&bytes).unwrap();
        assert_eq!(found.meta, written);
        assert_eq!((found.count, found.hash), (2, content_hash(&contacts)));
        // The street's first byte made invalid UTF-8, under a right checksum.
        let at = bytes.windows(4).position(|w| w == b"56 H").unwrap();
        let mut bad = bytes[..bytes.len() - 4].to_vec();
        bad[at] = 0xff;
        let crc = crc32fast::hash(&bad);
        bad.extend_from_slice(&crc.to_le_bytes());
        assert_eq!(verify(&bad).err(), Some("inconsistent content"));
        let mut flipped = bytes.clone();
        flipped[at] ^= 1;
        assert_eq!(verify(&flipped).err(), Some("checksum mismatch"));
    }
}
