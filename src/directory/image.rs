//! The directory saved as it is in memory, beside the generation it was built from,
//! so that a server start reads it back instead of building it again: at a million
//! contacts, reading is a fraction of building (normalising every value and
//! indexing every gram).
//!
//! An image is only a faster way to the same directory: it names the generation
//! file it was built from (number, length and CRC), the base DN, the number rules
//! and the release that wrote it, and any difference, or any damage, means the
//! directory is built from the generation as before.
//!
//! File format (little-endian): `SOPDIR2\n`; a header (u32 length, then the release
//! string, generation u64, the generation file's length u64 and CRC u32, base DN,
//! country code and trunk prefix as u32-length strings, the fold of accents, how
//! many patches made the directory since it was built whole (u32), and the sizes of the
//! eleven sections below as u64 counts), followed by its CRC-32; then the
//! sections, each followed by its CRC-32: the text (bytes), the values (12 bytes
//! each), the heads (12), the uid table (12), the index keys (8), offsets (4),
//! tags (4) and ids (4), the number keys (8) and their ids (4), the binary values
//! (bytes). Images of format 1 (`SOPDIR1\n`, before binary values) are not read:
//! the directory is built again.

use super::MatchRules;
use super::index::{GramIndex, Numbers};
use super::schema::Attr;
use super::served::{Directory, Head, Value};
use crate::codec::Reader;
use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::FileExt;

const MAGIC: &[u8; 8] = b"SOPDIR2\n";
/// Images made before binary values: built again.
const MAGIC_1: &[u8; 8] = b"SOPDIR1\n";
/// Images written by another release are not read: what normalising and indexing
/// produce may differ between releases.
/// In the header when names were indexed without their accents.
const FOLD: &str = "fold_accents";
const RELEASE: &str = concat!(env!("CARGO_PKG_VERSION"), "/9");
/// Arrays are encoded and decoded this many bytes at a time.
const CHUNK: usize = 1 << 20;

/// The generation file an image was built from: its length and the CRC at its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Source {
    pub len: u64,
    pub crc: u32,
}

/// What an image must have been made from to be used.
pub struct Expected<'a> {
    pub generation: u64,
    pub source: Source,
    pub base_dn: &'a str,
    pub rules: &'a MatchRules,
}

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("{0}")]
    Io(#[from] io::Error),
    /// A sound image of something else: another generation, release or setting.
    #[error("made for {0}")]
    Stale(String),
    #[error("damaged: {0}")]
    Damaged(&'static str),
}

/// The sizes of an image's sections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Sizes {
    text: u64,
    values: u64,
    heads: u64,
    by_uid: u64,
    keys: u64,
    offsets: u64,
    tags: u64,
    ids: u64,
    number_keys: u64,
    number_ids: u64,
    blobs: u64,
}

impl Sizes {
    fn of(dir: &Directory) -> Sizes {
        Sizes {
            text: dir.text.len() as u64,
            values: dir.values.len() as u64,
            heads: dir.heads.len() as u64,
            by_uid: dir.by_uid.len() as u64,
            keys: dir.index.keys.len() as u64,
            offsets: dir.index.offsets.len() as u64,
            tags: dir.index.tags.len() as u64,
            ids: dir.index.ids.len() as u64,
            number_keys: dir.numbers.keys.len() as u64,
            number_ids: dir.numbers.ids.len() as u64,
            blobs: dir.blobs.len() as u64,
        }
    }

    fn counts(&self) -> [u64; SECTIONS] {
        [
            self.text,
            self.values,
            self.heads,
            self.by_uid,
            self.keys,
            self.offsets,
            self.tags,
            self.ids,
            self.number_keys,
            self.number_ids,
            self.blobs,
        ]
    }

    /// Bytes of each section, CRC included, in file order.
    fn bytes(&self) -> [u64; SECTIONS] {
        let mut out = self.counts();
        for (n, size) in out.iter_mut().zip([1, 12, 12, 12, 8, 4, 4, 4, 8, 4, 1]) {
            *n = *n * size + 4;
        }
        out
    }
}

const SECTIONS: usize = 11;

/// How many bytes the image of `dir` takes, about.
pub fn size(dir: &Directory) -> u64 {
    Sizes::of(dir).bytes().iter().sum::<u64>() + 4096
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn header(dir: &Directory, source: Source) -> Vec<u8> {
    let mut h = Vec::new();
    put_str(&mut h, RELEASE);
    h.extend_from_slice(&dir.generation.to_le_bytes());
    h.extend_from_slice(&source.len.to_le_bytes());
    h.extend_from_slice(&source.crc.to_le_bytes());
    put_str(&mut h, &dir.base_dn);
    put_str(&mut h, dir.rules.country_code.as_deref().unwrap_or(""));
    put_str(&mut h, dir.rules.trunk_prefix.as_deref().unwrap_or(""));
    put_str(&mut h, if dir.rules.fold_accents { FOLD } else { "" });
    h.extend_from_slice(&dir.patched.to_le_bytes());
    for n in Sizes::of(dir).counts() {
        h.extend_from_slice(&n.to_le_bytes());
    }
    h
}

/// Writes `items` encoded `size` bytes each by `put`, then their CRC.
fn put_array<T>(
    out: &mut impl Write,
    items: &[T],
    size: usize,
    put: impl Fn(&T, &mut Vec<u8>),
) -> io::Result<()> {
    let mut crc = crc32fast::Hasher::new();
    let mut buf = Vec::with_capacity(CHUNK);
    for part in items.chunks(CHUNK / size) {
        buf.clear();
        for item in part {
            put(item, &mut buf);
        }
        crc.update(&buf);
        out.write_all(&buf)?;
    }
    out.write_all(&crc.finalize().to_le_bytes())
}

fn put_value(v: &Value, out: &mut Vec<u8>) {
    out.extend_from_slice(&v.start.to_le_bytes());
    out.extend_from_slice(&v.raw_len.to_le_bytes());
    out.extend_from_slice(&v.norm_len.to_le_bytes());
    out.extend_from_slice(&[v.canonical_len, v.attr as u8, u8::from(v.norm_apart), 0]);
}

fn get_value(b: &[u8]) -> Option<Value> {
    Some(Value {
        start: u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
        raw_len: u16::from_le_bytes([b[4], b[5]]),
        norm_len: u16::from_le_bytes([b[6], b[7]]),
        canonical_len: b[8],
        attr: *Attr::ALL.get(usize::from(b[9]))?,
        norm_apart: flag(b[10])?,
    })
    .filter(|_| b[11] == 0)
}

fn flag(b: u8) -> Option<bool> {
    match b {
        0 => Some(false),
        1 => Some(true),
        _ => None,
    }
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from(u32_at(b, at)) | u64::from(u32_at(b, at + 4)) << 32
}

/// Writes the image of `dir`, built from the generation file `source`.
pub fn write(dir: &Directory, source: Source, out: &mut impl Write) -> io::Result<()> {
    let header = header(dir, source);
    out.write_all(MAGIC)?;
    out.write_all(&(header.len() as u32).to_le_bytes())?;
    out.write_all(&header)?;
    out.write_all(&crc32fast::hash(&header).to_le_bytes())?;
    out.write_all(dir.text.as_bytes())?;
    out.write_all(&crc32fast::hash(dir.text.as_bytes()).to_le_bytes())?;
    put_array(out, &dir.values, 12, put_value)?;
    put_array(out, &dir.heads, 12, |h, buf| {
        buf.extend_from_slice(&h.values.to_le_bytes());
        buf.extend_from_slice(&h.present.to_le_bytes());
        buf.extend_from_slice(&h.text.to_le_bytes());
    })?;
    put_array(out, &dir.by_uid, 12, |(hash, id), buf| {
        buf.extend_from_slice(&hash.to_le_bytes());
        buf.extend_from_slice(&id.to_le_bytes());
    })?;
    let u32s = |n: &u32, buf: &mut Vec<u8>| buf.extend_from_slice(&n.to_le_bytes());
    let u64s = |n: &u64, buf: &mut Vec<u8>| buf.extend_from_slice(&n.to_le_bytes());
    put_array(out, &dir.index.keys, 8, u64s)?;
    put_array(out, &dir.index.offsets, 4, u32s)?;
    put_array(out, &dir.index.tags, 4, u32s)?;
    put_array(out, &dir.index.ids, 4, u32s)?;
    put_array(out, &dir.numbers.keys, 8, u64s)?;
    put_array(out, &dir.numbers.ids, 4, u32s)?;
    out.write_all(&dir.blobs)?;
    out.write_all(&crc32fast::hash(&dir.blobs).to_le_bytes())
}

/// Reads `count` items of `size` bytes from `at` in `file`, decoded by `get`, and
/// checks the CRC that follows them.
fn get_array<T>(
    file: &File,
    at: u64,
    count: u64,
    size: usize,
    get: impl Fn(&[u8]) -> Option<T>,
) -> Result<Vec<T>, ImageError> {
    let mut out = Vec::with_capacity(count as usize);
    let mut crc = crc32fast::Hasher::new();
    let mut buf = vec![0u8; CHUNK / size * size];
    let (mut pos, mut left) = (at, count as usize);
    while left > 0 {
        let n = left.min(CHUNK / size);
        let bytes = &mut buf[..n * size];
        file.read_exact_at(bytes, pos)?;
        crc.update(bytes);
        for item in bytes.chunks_exact(size) {
            out.push(get(item).ok_or(ImageError::Damaged("a value out of range"))?);
        }
        pos += bytes.len() as u64;
        left -= n;
    }
    let mut stored = [0u8; 4];
    file.read_exact_at(&mut stored, pos)?;
    if u32::from_le_bytes(stored) != crc.finalize() {
        return Err(ImageError::Damaged("checksum mismatch"));
    }
    Ok(out)
}

/// Reads `len` bytes from `at` in `file` and checks the CRC that follows them.
fn get_bytes(file: &File, at: u64, len: u64) -> Result<Vec<u8>, ImageError> {
    let mut bytes = vec![0u8; len as usize + 4];
    file.read_exact_at(&mut bytes, at)?;
    let stored = bytes.split_off(len as usize);
    if u32_at(&stored, 0) != crc32fast::hash(&bytes) {
        return Err(ImageError::Damaged("checksum mismatch"));
    }
    Ok(bytes)
}

/// What an image's header says beyond what is expected of it, once checked.
struct Header {
    sizes: Sizes,
    /// The directory's patches since it was built whole.
    patched: u32,
    /// Where the first section starts.
    start: u64,
}

fn read_header(file: &File, expected: &Expected<'_>) -> Result<Header, ImageError> {
    let bad = || ImageError::Damaged("bad header");
    let mut head = [0u8; 12];
    file.read_exact_at(&mut head, 0)?;
    if &head[..8] == MAGIC_1 {
        return Err(ImageError::Stale("an earlier image format".to_string()));
    }
    if &head[..8] != MAGIC {
        return Err(ImageError::Damaged("not a directory image"));
    }
    let header_len = u64::from(u32_at(&head, 8));
    if header_len > 1 << 20 {
        return Err(bad());
    }
    let mut header = vec![0u8; header_len as usize + 4];
    file.read_exact_at(&mut header, 12)?;
    let (header, crc) = header.split_at(header_len as usize);
    if crc32fast::hash(header) != u32_at(crc, 0) {
        return Err(ImageError::Damaged("header checksum mismatch"));
    }
    let mut r = Reader::new(header);
    let release = r.string().ok_or_else(bad)?;
    if release != RELEASE {
        return Err(ImageError::Stale(format!("release {release}")));
    }
    let (generation, len, crc) = (|| Some((r.u64()?, r.u64()?, r.u32()?)))().ok_or_else(bad)?;
    if generation != expected.generation || (Source { len, crc }) != expected.source {
        return Err(ImageError::Stale(format!(
            "generation {generation} as it was then"
        )));
    }
    let (base_dn, country, trunk, fold) =
        (|| Some((r.string()?, r.string()?, r.string()?, r.string()?)))().ok_or_else(bad)?;
    let rules = MatchRules {
        country_code: (!country.is_empty()).then_some(country),
        trunk_prefix: (!trunk.is_empty()).then_some(trunk),
        fold_accents: fold == FOLD,
        // Not in the index: as configured now.
        fallback: expected.rules.fallback,
    };
    if base_dn != expected.base_dn || &rules != expected.rules {
        return Err(ImageError::Stale(
            "another base DN or other matching rules".to_string(),
        ));
    }
    let patched = r.u32().ok_or_else(bad)?;
    let mut n = [0u64; SECTIONS];
    for n in &mut n {
        *n = r.u64().ok_or_else(bad)?;
    }
    let sizes = Sizes {
        text: n[0],
        values: n[1],
        heads: n[2],
        by_uid: n[3],
        keys: n[4],
        offsets: n[5],
        tags: n[6],
        ids: n[7],
        number_keys: n[8],
        number_ids: n[9],
        blobs: n[10],
    };
    // No section counts more items than the file has bytes: the sums cannot overflow.
    let file_len = file.metadata()?.len();
    if n.iter().any(|count| *count > file_len) {
        return Err(ImageError::Damaged("bad sizes"));
    }
    let start = 12 + header_len + 4;
    let end = sizes
        .bytes()
        .iter()
        .try_fold(start, |at, n| at.checked_add(*n))
        .ok_or(ImageError::Damaged("bad sizes"))?;
    if end != file_len {
        return Err(ImageError::Damaged("truncated or too long"));
    }
    Ok(Header {
        sizes,
        patched,
        start,
    })
}

/// Is `file` a complete-looking image of what `expected` says? Its header only is read.
pub fn is_of(file: &File, expected: &Expected<'_>) -> bool {
    read_header(file, expected).is_ok()
}

/// Reads an image, if it is one of what `expected` says, in two parts at once (the
/// entries on one core, the index on the other).
pub fn read(file: &File, expected: &Expected<'_>) -> Result<Directory, ImageError> {
    let Header {
        sizes,
        patched,
        start,
    } = read_header(file, expected)?;
    let bytes = sizes.bytes();
    let mut at = [start; SECTIONS];
    for i in 1..SECTIONS {
        at[i] = at[i - 1] + bytes[i - 1];
    }

    let entries = || -> Result<_, ImageError> {
        let text = get_bytes(file, at[0], sizes.text)?;
        let text = String::from_utf8(text).map_err(|_| ImageError::Damaged("text not UTF-8"))?;
        let values = get_array(file, at[1], sizes.values, 12, get_value)?;
        let heads = get_array(file, at[2], sizes.heads, 12, |b| {
            Some(Head {
                values: u32_at(b, 0),
                present: u32_at(b, 4),
                text: u32_at(b, 8),
            })
        })?;
        let by_uid = get_array(file, at[3], sizes.by_uid, 12, |b| {
            Some((u64_at(b, 0), u32_at(b, 8)))
        })?;
        let blobs = get_bytes(file, at[10], sizes.blobs)?;
        Ok((text, blobs, values, heads, by_uid))
    };
    let index = || -> Result<_, ImageError> {
        let u32s = |b: &[u8]| Some(u32_at(b, 0));
        let u64s = |b: &[u8]| Some(u64_at(b, 0));
        let keys = get_array(file, at[4], sizes.keys, 8, u64s)?;
        let offsets = get_array(file, at[5], sizes.offsets, 4, u32s)?;
        let tags = get_array(file, at[6], sizes.tags, 4, u32s)?;
        let ids = get_array(file, at[7], sizes.ids, 4, u32s)?;
        let number_keys = get_array(file, at[8], sizes.number_keys, 8, u64s)?;
        let number_ids = get_array(file, at[9], sizes.number_ids, 4, u32s)?;
        let index = GramIndex::from_parts(keys, offsets, tags, ids)
            .ok_or(ImageError::Damaged("inconsistent tables"))?;
        let numbers = Numbers {
            keys: number_keys,
            ids: number_ids,
        };
        Ok((index, numbers))
    };
    let (entries, index) = std::thread::scope(|scope| {
        let worker = scope.spawn(index);
        let entries = entries();
        (entries, worker.join().unwrap_or_else(|_| index()))
    });
    let (text, blobs, values, heads, by_uid) = entries?;
    let (index, numbers) = index?;
    // What lookups slice by: every entry's values and text, every key's list.
    let heads_sound = heads.first().is_some_and(|h| h.values == 0 && h.text == 0)
        && heads
            .windows(2)
            .all(|w| w[0].values <= w[1].values && w[0].text <= w[1].text)
        && heads
            .last()
            .is_some_and(|h| h.values as usize == values.len() && h.text as usize == text.len())
        // Binary values are read by their spans alone: each must lie in its arena.
        && values
            .iter()
            .filter(|v| v.attr.is_binary())
            .all(|v| v.start as usize + usize::from(v.raw_len) <= blobs.len());
    let index_sound = numbers.keys.len() == numbers.ids.len() && numbers.keys.is_sorted();
    if !heads_sound || !index_sound {
        return Err(ImageError::Damaged("inconsistent tables"));
    }
    Ok(Directory {
        generation: expected.generation,
        dn_suffix: format!(",{}", expected.base_dn),
        base_dn: expected.base_dn.to_string(),
        rules: expected.rules.clone(),
        text,
        blobs,
        values,
        heads,
        by_uid,
        index,
        numbers,
        orders: Default::default(),
        books: Vec::new(),
        patched,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::contacts::{Contact, Phone, PhoneKind};
    use crate::directory::{Generation, ServedContact};

    fn directory(rules: &MatchRules) -> Directory {
        let contacts = (0..500)
            .map(|i| ServedContact {
                uid: format!("u{i}"),
                source: "int".to_string(),
                contact: Contact {
                    id: format!("{i}"),
                    given_name: format!("Zoë{i}"),
                    surname: format!("Müller {}", i % 7),
                    company: "ACME".to_string(),
                    phones: vec![Phone {
                        kind: PhoneKind::Work,
                        number: format!("030 {i:07}"),
                    }],
                    locality: format!("Köln {}", i % 3),
                    country: if i % 2 == 0 { "DE" } else { "Deutschland" }.to_string(),
                    photo: if i % 50 == 0 {
                        vec![0xff, 0xd8, i as u8, 0xff, 0xd9]
                    } else {
                        Vec::new()
                    },
                    ..Contact::default()
                },
            })
            .collect();
        let generation = Generation {
            number: 7,
            created: 0,
            contacts,
        };
        Directory::build(&generation, "dc=example,dc=com", rules)
    }

    const SOURCE: Source = Source { len: 1234, crc: 42 };

    fn saved(dir: &Directory) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        write(
            dir,
            SOURCE,
            &mut std::io::BufWriter::new(file.as_file_mut()),
        )
        .unwrap();
        file
    }

    fn expected<'a>(base_dn: &'a str, rules: &'a MatchRules) -> Expected<'a> {
        Expected {
            generation: 7,
            source: SOURCE,
            base_dn,
            rules,
        }
    }

    fn answers(dir: &Directory, filter: &str) -> Vec<String> {
        let filter = crate::directory::lookup::parse(filter, dir).unwrap();
        let mut dns: Vec<String> = dir.search(&filter).map(|id| dir.entry(id).dn()).collect();
        dns.sort();
        dns
    }

    #[test]
    fn an_image_reads_back_as_the_directory_it_was_made_of() {
        let rules = MatchRules {
            country_code: Some("49".to_string()),
            trunk_prefix: Some("0".to_string()),
            ..MatchRules::default()
        };
        let dir = directory(&rules);
        let file = saved(&dir);
        let len = file.as_file().metadata().unwrap().len();
        assert!(len <= size(&dir) && len + 4096 > size(&dir), "{len}");
        let back = read(file.as_file(), &expected("dc=example,dc=com", &rules)).unwrap();
        assert_eq!(back.generation, 7);
        assert_eq!(back.text, dir.text);
        assert_eq!(back.blobs, dir.blobs);
        assert!(!back.blobs.is_empty());
        assert_eq!(back.values, dir.values);
        assert_eq!(back.heads, dir.heads);
        assert_eq!(back.by_uid, dir.by_uid);
        assert_eq!(back.index.keys, dir.index.keys);
        assert_eq!(back.index.offsets, dir.index.offsets);
        assert_eq!(back.index.ids, dir.index.ids);
        assert_eq!(back.index.tags, dir.index.tags);
        assert_eq!(back.numbers.keys, dir.numbers.keys);
        assert_eq!(back.numbers.ids, dir.numbers.ids);
        for filter in [
            "(sn=müller 3*)",
            "(telephoneNumber=*0000012*)",
            "(cn=zoë4*)",
            "(jpegPhoto=*)",
            "(l=köln 1)",
            "(co=deutsch*)",
            "(c=de)",
        ] {
            let want = answers(&dir, filter);
            assert!(!want.is_empty(), "{filter}");
            assert_eq!(answers(&back, filter), want, "{filter}");
        }
        assert_eq!(
            answers(&back, "(telephoneNumber=+49300000012)"),
            vec!["uid=u12,dc=example,dc=com"]
        );
        assert_eq!(back.find_uid("U12"), dir.find_uid("u12"));
        assert!(back.find_uid("u12").is_some());
    }

    #[test]
    fn an_image_of_something_else_is_not_read() {
        let rules = MatchRules::default();
        let dir = directory(&rules);
        let file = saved(&dir);
        let other_rules = MatchRules {
            country_code: Some("33".to_string()),
            trunk_prefix: None,
            ..MatchRules::default()
        };
        let folded = MatchRules {
            fold_accents: true,
            ..MatchRules::default()
        };
        let cases = [
            Expected {
                generation: 8,
                ..expected("dc=example,dc=com", &rules)
            },
            Expected {
                source: Source { len: 1234, crc: 43 },
                ..expected("dc=example,dc=com", &rules)
            },
            expected("dc=other,dc=com", &rules),
            expected("dc=example,dc=com", &other_rules),
            // Names indexed with their accents are not those of fold_accents.
            expected("dc=example,dc=com", &folded),
        ];
        for case in cases {
            assert!(!is_of(file.as_file(), &case));
            let err = read(file.as_file(), &case).err().unwrap();
            assert!(matches!(err, ImageError::Stale(_)), "{err}");
        }
        // An image of the format before binary values.
        let mut old = std::fs::read(file.path()).unwrap();
        old[..8].copy_from_slice(MAGIC_1);
        std::fs::write(file.path(), &old).unwrap();
        let err = read(file.as_file(), &expected("dc=example,dc=com", &rules))
            .err()
            .unwrap();
        assert!(matches!(err, ImageError::Stale(_)), "{err}");
    }

    #[test]
    fn a_damaged_image_is_not_read() {
        let rules = MatchRules::default();
        let dir = directory(&rules);
        let good = std::fs::read(saved(&dir).path()).unwrap();
        let want = expected("dc=example,dc=com", &rules);
        // A byte changed in the header and in each section, then the file cut short.
        let mut at = vec![20];
        let mut section = 12 + u64::from(u32_at(&good, 8)) + 4;
        for n in Sizes::of(&dir).bytes() {
            at.push((section + n / 2) as usize);
            section += n;
        }
        for at in at {
            let mut bad = good.clone();
            bad[at] ^= 0x10;
            let file = tempfile::NamedTempFile::new().unwrap();
            std::fs::write(file.path(), &bad).unwrap();
            let err = read(file.as_file(), &want).err().unwrap();
            assert!(matches!(err, ImageError::Damaged(_)), "byte {at}: {err}");
        }
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), &good[..good.len() - 1]).unwrap();
        let err = read(file.as_file(), &want).err().unwrap();
        assert!(matches!(err, ImageError::Damaged(_)), "{err}");
        // A sound header that counts absurdly many items in its last section: refused before anything
        // is allocated or summed.
        let header_len = u32_at(&good, 8) as usize;
        for count in [u64::MAX / 2, u64::MAX / 4 + 1, 1 << 40] {
            let mut bad = good.clone();
            let ids_count = 12 + header_len - 8;
            bad[ids_count..ids_count + 8].copy_from_slice(&count.to_le_bytes());
            let crc = crc32fast::hash(&bad[12..12 + header_len]);
            bad[12 + header_len..12 + header_len + 4].copy_from_slice(&crc.to_le_bytes());
            std::fs::write(file.path(), &bad).unwrap();
            let err = read(file.as_file(), &want).err().unwrap();
            assert!(matches!(err, ImageError::Damaged("bad sizes")), "{err}");
        }
    }
}
