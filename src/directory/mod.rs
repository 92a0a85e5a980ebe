//! The served directory: contacts merged from every source into a numbered generation,
//! and the immutable, indexed snapshot the LDAP server answers from. Everything here is
//! pure, but for the reading and writing of a directory's image (`image`).

pub mod books;
pub mod dn;
pub mod fallback;
pub mod filter;
pub mod image;
pub mod index;
pub mod lookup;
pub mod matching;
pub mod merge;
pub mod object_classes;
pub mod order;
pub mod patch;
pub mod plan;
pub mod schema;
pub mod served;

pub use filter::{Filter, FilterError, FilterLimits};
pub use served::{Builder, Directory, EntryRef};

pub use schema::Attr;

use crate::contacts::Contact;
use serde::{Deserialize, Serialize};

/// A contact as published in a generation: `uid` is stable across generations and
/// makes the DN (`uid=<uid>,<base_dn>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServedContact {
    pub uid: String,
    /// Name of the source it came from (`internal`, `external`, a directory source...).
    pub source: String,
    pub contact: Contact,
}

/// What a merge produced: the contacts to serve, in served order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Generation {
    pub number: u64,
    /// Seconds since the Unix epoch.
    pub created: u64,
    pub contacts: Vec<ServedContact>,
}

/// How many contacts `warm_contacts` is given at a time.
pub const WARM_CONTACTS: usize = 16;

/// Reads a byte of every string of a few contacts at once, so that their cache
/// misses overlap rather than come one after the other as the contacts are gone
/// through: after a merge, contacts are in served order but their strings lie
/// where they were read, all over memory. For passes over every contact.
pub fn warm_contacts(batch: &[ServedContact]) {
    let first = |s: &str| u32::from(s.as_bytes().first().copied().unwrap_or(0));
    let mut sum = 0u32;
    for c in batch {
        sum = c
            .contact
            .text_fields()
            .iter()
            .fold(sum, |n, f| n.wrapping_add(first(f)));
        sum = sum.wrapping_add(first(&c.uid));
        sum = sum.wrapping_add(c.contact.phones.first().map_or(0, |p| p.kind as u32));
    }
    for c in batch {
        for p in &c.contact.phones {
            sum = sum.wrapping_add(first(&p.number));
        }
    }
    std::hint::black_box(sum);
}

/// FNV-1a of a string: stable across releases and machines, unlike std's hasher,
/// so it can name things that outlive a process (uids) as well as key lookups.
pub fn stable_hash(s: &str) -> u64 {
    hash_more(FNV_START, s.bytes())
}

pub const FNV_START: u64 = 0xcbf2_9ce4_8422_2325;

/// Continues an FNV-1a hash with more bytes.
pub fn hash_more(h: u64, bytes: impl IntoIterator<Item = u8>) -> u64 {
    bytes
        .into_iter()
        .fold(h, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// A map keyed by 64-bit hashes: the keys are used as they are, not hashed again.
pub type HashKeyed<V> =
    std::collections::HashMap<u64, V, std::hash::BuildHasherDefault<PassThrough>>;

#[derive(Default)]
pub struct PassThrough(u64);

impl std::hash::Hasher for PassThrough {
    fn write(&mut self, bytes: &[u8]) {
        self.0 = hash_more(self.0, bytes.iter().copied());
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
    fn finish(&self) -> u64 {
        // Spread the bits the table uses for buckets and for its control bytes.
        self.0.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(26)
    }
}

/// A fast hash of bytes, eight at a time, for comparisons within one process
/// (it may change between releases, unlike `stable_hash`).
pub fn quick_hash(h: u64, bytes: &[u8]) -> u64 {
    let mix = |h: u64, v: u64| (h ^ v).wrapping_mul(0x0000_0100_0000_01b3).rotate_left(29);
    let mut chunks = bytes.chunks_exact(8);
    let mut h = mix(h, bytes.len() as u64);
    for c in &mut chunks {
        h = mix(
            h,
            u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]),
        );
    }
    let mut tail = [0u8; 8];
    tail[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    mix(h, u64::from_le_bytes(tail))
}

/// A hash of everything a contact serves, to tell whether it changed.
pub fn contact_hash(c: &crate::contacts::Contact) -> u64 {
    fields_hash(
        c.text_fields(),
        c.cn.iter().map(String::as_str),
        c.phones.iter().map(|p| (p.kind, p.number.as_str())),
        crate::codec::details_and_photo(c),
    )
}

/// `contact_hash` of a contact as its record holds it, without reading it into
/// a `Contact`.
pub fn parts_hash(c: &crate::codec::Parts) -> u64 {
    fields_hash(c.text, c.common_names(), c.phones(), c.details_and_photo())
}

/// Every field a contact serves: a change in any of them is a change of the
/// contact (and its entry is built again).
fn fields_hash<'a>(
    text: [&str; 8],
    cn: impl Iterator<Item = &'a str>,
    phones: impl Iterator<Item = (crate::contacts::PhoneKind, &'a str)>,
    details: impl Iterator<Item = (u8, &'a [u8])>,
) -> u64 {
    let mut h = FNV_START;
    for f in text {
        h = quick_hash(h, f.as_bytes());
    }
    for v in cn {
        h = quick_hash(h, v.as_bytes());
    }
    // Each list starts with a mark no text can hold (0xff is never in UTF-8), so
    // that a value cannot pass for one of another list: a fax number moved to the
    // postal code is a change.
    h = quick_hash(h, &[0xff, 1]);
    for (kind, number) in phones {
        h = quick_hash(h, &[kind as u8]);
        h = quick_hash(h, number.as_bytes());
    }
    h = quick_hash(h, &[0xff, 2]);
    for (tag, value) in details {
        h = quick_hash(h, &[tag]);
        h = quick_hash(h, value);
    }
    h
}

/// How values match beyond OpenLDAP's rules. Unconfigured (the default), exactly
/// OpenLDAP's: telephoneNumberMatch ignores spaces and hyphens, caseIgnoreMatch
/// keeps accents.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MatchRules {
    /// Country code without `+` or `00`, e.g. `49`.
    pub country_code: Option<String>,
    /// National trunk prefix, e.g. `0`.
    pub trunk_prefix: Option<String>,
    /// Directory strings match without diacritics and with the common
    /// transliterations (`matching::fold_accents`).
    pub fold_accents: bool,
    /// What an incoming call's lookup that finds nothing answers (`fallback`).
    /// The index does not depend on it.
    pub fallback: Fallback,
}

/// Caller-ID fallback: when a search for a caller's number finds nobody.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Fallback {
    /// Nothing, as OpenLDAP.
    #[default]
    None,
    /// The one entry whose number ends with the caller's last N digits.
    LastDigits(u8),
    /// The company entry whose number shares the longest prefix with the
    /// caller's, a direct-dial extension of up to four digits away.
    MainLine,
}
