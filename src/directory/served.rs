//! The served directory: an immutable snapshot of one generation, compact in memory,
//! with an n-gram index on names and numbers.
//!
//! Every string lives in one arena; an entry is a run of values, each naming its
//! attribute and spans of the arena for its raw text (what is served), its
//! normalised text (what is matched) and, for numbers, its reverse-lookup form.
//! Binary values (photos) live in an arena of their own, and are only ever served
//! or found present. Entry ids are positions in served order.
//!
//! A search spends most of its time waiting for memory: the candidates of a
//! search lie all over a directory much larger than the processor's caches. So
//! candidates are taken from the index a batch ahead of checking them, and that
//! batch's values and text are prefetched meanwhile (`Lookahead`).

use super::filter::{Filter, Truth, Values};
use super::index::{self, Cursor, GramIndex, Kind, Numbers};
use super::matching;
use super::order::Orders;
use super::schema::Attr;
use super::{Generation, MatchRules, ServedContact};
use crate::contacts::{Detail, PhoneKind};
use std::sync::Arc;

/// At most how many candidates are fetched into cache together (see `Lookahead`).
const BATCH: usize = 16;

/// Candidate ids in two batches: the one being checked, and the next one, whose
/// entries are on their way into cache meanwhile (see `Directory::prefetch`), so
/// that checking rarely waits for memory.
struct Lookahead<'a> {
    dir: &'a Directory,
    cursor: Cursor<'a>,
    /// The smallest id not yet taken from the cursor.
    at: u32,
    batches: [[u32; BATCH]; 2],
    lens: [usize; 2],
    /// The batch being checked, and the position in it.
    current: usize,
    pos: usize,
    /// How many ids the next batch takes: few at first, for a search that stops
    /// after a few entries; doubles up to `BATCH`.
    want: usize,
}

impl<'a> Lookahead<'a> {
    /// Candidates from `at` on, the first batch already on its way.
    fn new(dir: &'a Directory, cursor: Cursor<'a>, at: u32) -> Lookahead<'a> {
        let mut ahead = Lookahead {
            dir,
            cursor,
            at,
            batches: [[0; BATCH]; 2],
            lens: [0; 2],
            current: 0,
            pos: 0,
            want: 4,
        };
        ahead.fill(0);
        ahead.fill(1);
        ahead
    }

    /// Takes the next batch of candidates into `slot` and starts fetching them.
    fn fill(&mut self, slot: usize) {
        let end = self.dir.len() as u32;
        let mut len = 0;
        while len < self.want && self.at < end {
            let Some(id) = self.cursor.seek(self.at) else {
                self.at = end;
                break;
            };
            self.batches[slot][len] = id;
            len += 1;
            self.at = id + 1;
        }
        self.lens[slot] = len;
        self.want = (self.want * 2).min(BATCH);
        self.dir.prefetch(&self.batches[slot][..len]);
    }

    fn next(&mut self) -> Option<u32> {
        if self.pos == self.lens[self.current] {
            if self.lens[self.current ^ 1] == 0 {
                return None;
            }
            self.current ^= 1;
            self.pos = 0;
            self.fill(self.current ^ 1);
        }
        let id = self.batches[self.current][self.pos];
        self.pos += 1;
        Some(id)
    }
}

/// Every contact is one of these.
pub const OBJECT_CLASSES: [&str; 4] = ["top", "person", "organizationalPerson", "inetOrgPerson"];

#[derive(Debug, Clone, Copy, Default)]
struct Span {
    start: u32,
    len: u32,
}

/// One value of an entry, in 12 bytes so that an entry's values share few cache
/// lines: its raw text (what is served) starts at `start` (in `blobs` for a binary
/// attribute, with no other form); its normalised text
/// (what is matched) is the raw text, or follows it when it differs; its
/// reverse-lookup form, if any, comes next. Values are at most 65535 bytes; the
/// last byte is padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Value {
    pub(super) start: u32,
    pub(super) raw_len: u16,
    pub(super) norm_len: u16,
    /// 0 when there is no reverse-lookup form.
    pub(super) canonical_len: u8,
    pub(super) attr: Attr,
    pub(super) norm_apart: bool,
}

const _: () = assert!(std::mem::size_of::<Value>() == 12);

impl Value {
    fn raw(&self) -> Span {
        Span {
            start: self.start,
            len: u32::from(self.raw_len),
        }
    }

    fn norm(&self) -> Span {
        if self.norm_apart {
            Span {
                start: self.start + u32::from(self.raw_len),
                len: u32::from(self.norm_len),
            }
        } else {
            self.raw()
        }
    }

    fn canonical(&self) -> Span {
        let norm = self.norm();
        let after = if self.norm_apart {
            norm.start + norm.len
        } else {
            self.start + u32::from(self.raw_len)
        };
        Span {
            start: after,
            len: u32::from(self.canonical_len),
        }
    }
}

/// The text of a span (empty if it lies outside `text`).
fn str_of(text: &str, s: Span) -> &str {
    text.get(s.start as usize..(s.start + s.len) as usize)
        .unwrap_or_default()
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character.
fn clamp(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Where an entry lies, side by side so that one read brings it all: entry i's
/// values are `values[heads[i].values..heads[i + 1].values]` (the first is its
/// uid), its text is `text[heads[i].text..heads[i + 1].text]`, and `present` has
/// a bit (`1 << attr as u32`) for each of its attributes, so that an assertion on
/// an attribute it lacks is answered without looking at its values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Head {
    pub(super) values: u32,
    pub(super) present: u32,
    pub(super) text: u32,
}

/// Its fields are the image's too (`image`).
pub struct Directory {
    pub(super) generation: u64,
    pub(super) base_dn: String,
    /// `,<base_dn>`: what follows `uid=<uid>` in every DN.
    pub(super) dn_suffix: String,
    pub(super) rules: MatchRules,
    pub(super) text: String,
    /// The values of binary attributes (photos).
    pub(super) blobs: Vec<u8>,
    pub(super) values: Vec<Value>,
    /// Per entry; the last head only ends the values and the text.
    pub(super) heads: Vec<Head>,
    /// (hash of the case-folded uid, entry id), sorted: reads by DN.
    pub(super) by_uid: Vec<(u64, u32)>,
    pub(super) index: GramIndex,
    pub(super) numbers: Numbers,
    /// Sorted views, computed on first use (`order`).
    pub(super) orders: Orders,
    /// The other phone books served with this one (`books`), by name.
    pub(super) books: Vec<(String, Arc<Directory>)>,
    /// How many patches (`patch`) made it from the last directory built whole.
    pub(super) patched: u32,
}

/// Collects entries one by one, so that a generation never needs to be held whole
/// in memory beside the directory it becomes.
pub struct Builder {
    generation: u64,
    base_dn: String,
    rules: MatchRules,
    text: String,
    blobs: Vec<u8>,
    values: Vec<Value>,
    heads: Vec<Head>,
    /// Reused for normalising, so that building allocates per contact, not per value.
    scratch: String,
    /// Reused for each contact's common name.
    cn: String,
}

/// Entries whose size foretells the room the rest of a part takes (a multiple of
/// `WARM_CONTACTS`).
const FORETELL: usize = 1024;

impl Builder {
    pub fn new(generation: u64, base_dn: &str, rules: &MatchRules) -> Builder {
        Builder {
            generation,
            base_dn: base_dn.to_string(),
            rules: rules.clone(),
            text: String::new(),
            blobs: Vec::new(),
            values: Vec::new(),
            heads: vec![Head::default()],
            scratch: String::new(),
            cn: String::new(),
        }
    }

    fn span(&mut self, s: &str) -> Span {
        let start = self.text.len() as u32;
        self.text.push_str(s);
        Span {
            start,
            len: s.len() as u32,
        }
    }

    fn push_value(&mut self, attr: Attr, raw: &str) {
        let raw = clamp(raw.trim(), u16::MAX as usize);
        if raw.is_empty() {
            return;
        }
        let start = self.span(raw).start;
        let mut norm = std::mem::take(&mut self.scratch);
        matching::normalize_into(attr.rule(), raw, &mut norm);
        if super::filter::folds(attr, &self.rules) {
            norm = matching::fold_accents(&norm);
        }
        let norm_apart = norm != raw;
        let norm_len = if norm_apart {
            self.span(clamp(&norm, u16::MAX as usize)).len
        } else {
            raw.len() as u32
        };
        self.scratch = norm;
        let canonical_len = match attr.is_number() {
            true => matching::canonical_number(raw, &self.rules)
                .filter(|c| c.len() <= usize::from(u8::MAX))
                .map_or(0, |c| self.span(&c).len),
            false => 0,
        };
        self.values.push(Value {
            start,
            raw_len: raw.len() as u16,
            norm_len: norm_len as u16,
            canonical_len: canonical_len as u8,
            attr,
            norm_apart,
        });
    }

    /// A binary value: its bytes, at most 65535 (longer ones are not served).
    fn push_binary(&mut self, attr: Attr, bytes: &[u8]) {
        if bytes.is_empty() || bytes.len() > usize::from(u16::MAX) {
            return;
        }
        self.values.push(Value {
            start: self.blobs.len() as u32,
            raw_len: bytes.len() as u16,
            norm_len: 0,
            canonical_len: 0,
            attr,
            norm_apart: false,
        });
        self.blobs.extend_from_slice(bytes);
    }

    /// Makes room for `entries` entries like the `done` ones it holds, and an
    /// eighth more: filled by doubling, the text and values would be copied again
    /// and again into new memory.
    fn foretell(&mut self, done: usize, entries: usize) {
        if done == 0 {
            return;
        }
        let room = |len: usize| {
            let whole = len * entries / done;
            (whole + whole / 8).saturating_sub(len)
        };
        self.text.reserve(room(self.text.len()));
        self.blobs.reserve(room(self.blobs.len()));
        self.values.reserve(room(self.values.len()));
        self.heads.reserve(room(self.heads.len()));
    }

    /// Puts the entries `later` collected after this builder's.
    pub fn append(&mut self, later: Builder) {
        let text_shift = self.text.len() as u32;
        let blob_shift = self.blobs.len() as u32;
        let value_shift = self.values.len() as u32;
        self.text.push_str(&later.text);
        self.blobs.extend_from_slice(&later.blobs);
        self.values.extend(later.values.into_iter().map(|mut v| {
            v.start += if v.attr.is_binary() {
                blob_shift
            } else {
                text_shift
            };
            v
        }));
        // This builder's last head only ends its values and text: `later`'s first replaces it.
        self.heads.pop();
        self.heads.extend(later.heads.into_iter().map(|h| Head {
            values: h.values + value_shift,
            present: h.present,
            text: h.text + text_shift,
        }));
    }

    /// Copies entry `id` of `dir` (built with the same rules): its values as they
    /// are, without normalising them again.
    pub fn copy_entry(&mut self, dir: &Directory, id: u32) {
        self.copy_run(dir, id..id + 1);
    }

    /// Copies the entries `ids` of `dir` (built with the same rules), their text
    /// at once.
    pub(super) fn copy_run(&mut self, dir: &Directory, ids: std::ops::Range<u32>) {
        let (Some(first), Some(end)) = (
            dir.heads.get(ids.start as usize),
            dir.heads.get(ids.end as usize),
        ) else {
            return;
        };
        let text_shift = self.text.len() as i64 - i64::from(first.text);
        let value_shift = self.values.len() as i64 - i64::from(first.values);
        self.text.push_str(
            dir.text
                .get(first.text as usize..end.text as usize)
                .unwrap_or_default(),
        );
        for v in &dir.values[first.values as usize..end.values as usize] {
            let mut v = *v;
            if v.attr.is_binary() {
                let bytes = dir.raw_bytes(&v);
                v.start = self.blobs.len() as u32;
                self.blobs.extend_from_slice(bytes);
            } else {
                v.start = (i64::from(v.start) + text_shift) as u32;
            }
            self.values.push(v);
        }
        let shift = |h: &Head| Head {
            values: (i64::from(h.values) + value_shift) as u32,
            present: h.present,
            text: (i64::from(h.text) + text_shift) as u32,
        };
        self.heads.pop();
        self.heads.extend(
            dir.heads[ids.start as usize..ids.end as usize]
                .iter()
                .map(shift),
        );
        self.heads.push(Head {
            present: 0,
            ..shift(end)
        });
    }

    /// Makes room for what `dir` holds and `more` entries besides.
    pub(super) fn reserve_like(&mut self, dir: &Directory, more: usize) {
        self.text.reserve(dir.text.len() + more * 256);
        self.blobs.reserve(dir.blobs.len());
        self.values.reserve(dir.values.len() + more * 32);
        self.heads.reserve(dir.heads.len() + more);
    }

    /// Values are pushed in `Attr` order, which lookups rely on.
    pub fn push(&mut self, s: &ServedContact) {
        let c = &s.contact;
        self.push_value(Attr::Uid, &s.uid);
        let mut cn = std::mem::take(&mut self.cn);
        c.common_name_into(&mut cn);
        if c.cn.is_empty() {
            self.push_value(Attr::Cn, &cn);
        } else {
            for v in c.given_common_names() {
                self.push_value(Attr::Cn, v);
            }
        }
        // person requires sn: a contact without a surname is served with its cn.
        let sn = if c.surname.trim().is_empty() {
            &cn
        } else {
            &c.surname
        };
        self.push_value(Attr::Sn, sn);
        self.cn = cn;
        self.push_value(Attr::GivenName, &c.given_name);
        self.push_value(Attr::DisplayName, &c.display_name);
        self.push_value(Attr::O, &c.company);
        self.push_value(Attr::Ou, &c.department);
        self.push_value(Attr::Title, &c.title);
        for (attr, detail) in [
            (Attr::Description, Detail::Description),
            (Attr::Street, Detail::Street),
            (Attr::L, Detail::Locality),
            (Attr::PostalCode, Detail::PostalCode),
            (Attr::St, Detail::State),
        ] {
            self.push_value(attr, c.detail(detail));
        }
        // `c` holds two-letter codes only (its syntax in OpenLDAP's schema): a
        // country given by its name is served as `co`.
        let country = match crate::contacts::is_country_code(&c.country) {
            true => Attr::C,
            false => Attr::Co,
        };
        self.push_value(country, &c.country);
        self.push_value(Attr::Mail, &c.email);
        for (attr, kind) in [
            (Attr::TelephoneNumber, PhoneKind::Work),
            (Attr::Mobile, PhoneKind::Mobile),
            (Attr::HomePhone, PhoneKind::Home),
            (Attr::IpPhone, PhoneKind::IpPhone),
            (Attr::OtherTelephone, PhoneKind::Other),
            (Attr::FacsimileTelephoneNumber, PhoneKind::Fax),
            (Attr::Pager, PhoneKind::Pager),
        ] {
            for n in c.numbers(kind) {
                self.push_value(attr, n);
            }
        }
        self.push_binary(Attr::JpegPhoto, &c.photo);
        let first = self.heads.last().map_or(0, |h| h.values as usize);
        debug_assert!(self.values[first..].is_sorted_by_key(|v| v.attr));
        let mask = self.values[first..]
            .iter()
            .fold(1u32 << Attr::ObjectClass as u32, |m, v| {
                m | 1 << v.attr as u32
            });
        if let Some(head) = self.heads.last_mut() {
            head.present = mask;
        }
        self.heads.push(Head {
            values: self.values.len() as u32,
            present: 0,
            text: self.text.len() as u32,
        });
    }

    /// The directory of the entries collected, indexed.
    pub fn finish(self) -> Directory {
        let mut dir = self.unindexed();
        let entries = dir.len();
        let mut by_uid: Vec<(u64, u32)> = (0..entries as u32)
            .map(|id| (dir.uid_hash(id), id))
            .collect();
        by_uid.sort_unstable();
        dir.by_uid = by_uid;
        let (index, numbers) = std::thread::scope(|scope| {
            let numbers = scope.spawn(|| dir.number_keys());
            let index = GramIndex::build(entries, |id, add| dir.entry_keys(id, add));
            let numbers = numbers
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p));
            (index, numbers)
        });
        dir.index = index;
        dir.numbers = numbers;
        dir
    }

    /// The directory of the entries collected, with no index yet.
    pub(super) fn unindexed(mut self) -> Directory {
        self.text.shrink_to_fit();
        self.blobs.shrink_to_fit();
        self.values.shrink_to_fit();
        Directory {
            generation: self.generation,
            dn_suffix: format!(",{}", self.base_dn),
            base_dn: self.base_dn,
            rules: self.rules,
            text: self.text,
            blobs: self.blobs,
            values: self.values,
            heads: self.heads,
            by_uid: Vec::new(),
            index: GramIndex::empty(),
            numbers: Numbers::default(),
            orders: Orders::default(),
            books: Vec::new(),
            patched: 0,
        }
    }
}

/// One entry of the directory.
#[derive(Clone, Copy)]
pub struct EntryRef<'a> {
    dir: &'a Directory,
    values: &'a [Value],
    present: u32,
}

impl<'a> EntryRef<'a> {
    pub fn uid(&self) -> &'a str {
        self.values
            .first()
            .map(|v| self.dir.str(v.raw()))
            .unwrap_or_default()
    }

    fn uid_norm(&self) -> &'a str {
        self.values
            .first()
            .map(|v| self.dir.str(v.norm()))
            .unwrap_or_default()
    }

    /// `uid=<uid>,<base_dn>`.
    pub fn dn(&self) -> String {
        let [a, b, c] = self.dn_parts();
        format!("{a}{b}{c}")
    }

    /// The DN in pieces, for writing without building it (uids are DN-safe by
    /// construction, see `merge::uid`).
    pub fn dn_parts(&self) -> [&'a str; 3] {
        ["uid=", self.uid(), self.dir.dn_suffix.as_str()]
    }

    /// Raw values of one text attribute (none for a binary one: see `Group::raws`).
    pub fn values(&self, attr: Attr) -> impl Iterator<Item = &'a str> + Clone + 'a {
        let dir = self.dir;
        let classes: &'static [&'static str] = if attr == Attr::ObjectClass {
            &OBJECT_CLASSES
        } else {
            &[]
        };
        classes.iter().copied().chain(
            self.values
                .iter()
                .filter(move |v| v.attr == attr && !attr.is_binary())
                .map(move |v| dir.str(v.raw())),
        )
    }

    /// Values of one text attribute as normalised for matching.
    pub fn norms(&self, attr: Attr) -> impl Iterator<Item = &'a str> + 'a {
        let dir = self.dir;
        self.values
            .iter()
            .filter(move |v| v.attr == attr && !attr.is_binary())
            .map(move |v| dir.str(v.norm()))
    }

    /// The entry's attributes in order, each with its values: what the encoder
    /// writes from. Lengths are known without reading the text.
    pub fn groups(&self) -> impl Iterator<Item = Group<'a>> + 'a {
        let dir = self.dir;
        let mut rest = self.values;
        let classes = Group {
            attr: Attr::ObjectClass,
            dir,
            values: &[],
        };
        std::iter::once(classes).chain(std::iter::from_fn(move || {
            let attr = rest.first()?.attr;
            let len = rest.iter().take_while(|v| v.attr == attr).count();
            let (values, tail) = rest.split_at(len);
            rest = tail;
            Some(Group { attr, dir, values })
        }))
    }
}

/// One attribute of an entry and its raw values.
#[derive(Clone, Copy)]
pub struct Group<'a> {
    pub attr: Attr,
    dir: &'a Directory,
    /// Empty for `objectClass`, whose values are `OBJECT_CLASSES`.
    values: &'a [Value],
}

impl<'a> Group<'a> {
    /// Byte lengths of the raw values.
    pub fn lens(&self) -> impl Iterator<Item = usize> + 'a {
        let classes: &'static [&'static str] = if self.attr == Attr::ObjectClass {
            &OBJECT_CLASSES
        } else {
            &[]
        };
        classes
            .iter()
            .map(|c| c.len())
            .chain(self.values.iter().map(|v| usize::from(v.raw_len)))
    }

    /// The raw values as bytes.
    pub fn raws(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let classes: &'static [&'static str] = if self.attr == Attr::ObjectClass {
            &OBJECT_CLASSES
        } else {
            &[]
        };
        let dir = self.dir;
        classes
            .iter()
            .map(|c| c.as_bytes())
            .chain(self.values.iter().map(move |v| dir.raw_bytes(v)))
    }
}

impl Values for EntryRef<'_> {
    fn any(&self, attr: Attr, mut f: impl FnMut(&str, Option<&str>) -> bool) -> bool {
        if self.present & (1 << attr as u32) == 0 {
            return false;
        }
        if attr == Attr::ObjectClass {
            return ["top", "person", "organizationalperson", "inetorgperson"]
                .iter()
                .any(|c| f(c, None));
        }
        // Values are in attribute order (see `Builder::push`): stop past `attr`.
        let from = self.values.partition_point(|v| v.attr < attr);
        self.values[from..]
            .iter()
            .take_while(|v| v.attr == attr)
            .any(|v| {
                if attr.is_binary() {
                    return f("", None);
                }
                let canonical = (v.canonical_len > 0).then(|| self.dir.str(v.canonical()));
                f(self.dir.str(v.norm()), canonical)
            })
    }

    fn any_raw(&self, attr: Attr, f: impl FnMut(&str) -> bool) -> bool {
        self.values(attr).any(f)
    }
}

impl Directory {
    /// Every number's keys for equality: its text and its reverse-lookup form.
    fn number_keys(&self) -> Numbers {
        let mut pairs = Vec::new();
        for id in 0..self.len() as u32 {
            self.entry_number_keys(id, &mut pairs);
        }
        Numbers::build(pairs)
    }

    /// The keys of entry `id`'s numbers for equality, with the entry.
    pub(super) fn entry_number_keys(&self, id: u32, pairs: &mut Vec<(u64, u32)>) {
        for v in self.entry_values(id).iter().filter(|v| v.attr.is_number()) {
            let norm = self.str(v.norm());
            pairs.push((Numbers::key(v.attr, Kind::Whole, norm), id));
            if v.canonical_len > 0 {
                let c = self.str(v.canonical());
                pairs.push((Numbers::key(v.attr, Kind::Canonical, c), id));
            }
        }
    }

    /// The hash entry `id` is found by in `by_uid`.
    pub(super) fn uid_hash(&self, id: u32) -> u64 {
        super::stable_hash(self.entry(id).uid_norm())
    }

    /// Calls `add` with every key of entry `id` in the index (see `index::value_keys`).
    pub(super) fn entry_keys(&self, id: u32, add: &mut dyn FnMut(u64)) {
        let values = self.entry_values(id);
        let cn = values.iter().find(|v| v.attr == Attr::Cn);
        for v in values {
            // Binary values are found present, never by their bytes.
            if v.attr.is_binary() {
                add(index::hashed_key(v.attr, Kind::Present, b""));
                continue;
            }
            let norm = self.str(v.norm());
            let approx = v.attr.has_approx();
            // A display name that is the common name (most are) has the common
            // name's keys: it costs no list of its own.
            let attr = match v.attr {
                Attr::DisplayName if cn.is_some_and(|c| self.str(c.norm()) == norm) => {
                    add(index::hashed_key(v.attr, Kind::Present, b""));
                    Attr::Cn
                }
                attr => attr,
            };
            index::value_keys(attr, norm, approx, add);
        }
    }

    /// Builds the directory of a generation, on every core for large ones (see
    /// `collect`).
    pub fn build(generation: &Generation, base_dn: &str, rules: &MatchRules) -> Directory {
        Directory::collect(generation, base_dn, rules).finish()
    }

    /// The entries of a generation, ready to be indexed (`Builder::finish`), which
    /// needs the generation no more: each core collects the entries of one part,
    /// and the parts are put end to end.
    pub fn collect(generation: &Generation, base_dn: &str, rules: &MatchRules) -> Builder {
        let contacts = &generation.contacts;
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let part = if contacts.len() < 50_000 || threads < 2 {
            contacts.len().max(1)
        } else {
            contacts.len().div_ceil(threads)
        };
        // The first part has room for every part, the others for their own: they
        // are put after it without moving it.
        let collect = |part: &[ServedContact], room: usize| {
            let mut b = Builder::new(generation.number, base_dn, rules);
            for (i, batch) in part.chunks(super::WARM_CONTACTS).enumerate() {
                super::warm_contacts(batch);
                for c in batch {
                    b.push(c);
                }
                if (i + 1) * super::WARM_CONTACTS == FORETELL {
                    b.foretell(FORETELL, room);
                }
            }
            b
        };
        let mut parts = std::thread::scope(|scope| {
            let handles: Vec<_> = contacts
                .chunks(part)
                .enumerate()
                .map(|(i, p)| {
                    let room = if i == 0 { contacts.len() } else { p.len() };
                    scope.spawn(move || collect(p, room))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect::<Vec<Builder>>()
        })
        .into_iter();
        let mut b = parts
            .next()
            .unwrap_or_else(|| Builder::new(generation.number, base_dn, rules));
        for later in parts {
            b.append(later);
        }
        b
    }

    pub fn empty(base_dn: &str) -> Directory {
        Builder::new(0, base_dn, &MatchRules::default()).finish()
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }
    pub fn len(&self) -> usize {
        self.heads.len() - 1
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn base_dn(&self) -> &str {
        &self.base_dn
    }
    pub fn rules(&self) -> &MatchRules {
        &self.rules
    }

    fn bytes(&self, s: Span) -> &[u8] {
        self.text
            .as_bytes()
            .get(s.start as usize..(s.start + s.len) as usize)
            .unwrap_or_default()
    }

    fn str(&self, s: Span) -> &str {
        str_of(&self.text, s)
    }

    /// A value's raw bytes, from the arena its attribute keeps values in.
    fn raw_bytes(&self, v: &Value) -> &[u8] {
        if v.attr.is_binary() {
            let start = v.start as usize;
            self.blobs
                .get(start..start + usize::from(v.raw_len))
                .unwrap_or_default()
        } else {
            self.bytes(v.raw())
        }
    }

    fn entry_values(&self, id: u32) -> &[Value] {
        let i = id as usize;
        match (self.heads.get(i), self.heads.get(i + 1)) {
            (Some(a), Some(b)) => &self.values[a.values as usize..b.values as usize],
            _ => &[],
        }
    }

    pub fn entry(&self, id: u32) -> EntryRef<'_> {
        EntryRef {
            dir: self,
            values: self.entry_values(id),
            present: self.heads.get(id as usize).map_or(0, |h| h.present),
        }
    }

    /// The entry with this uid (case-insensitive).
    pub fn find_uid(&self, uid: &str) -> Option<u32> {
        let key = matching::normalize(Attr::Uid.rule(), uid);
        let hash = super::stable_hash(&key);
        let at = self.by_uid.partition_point(|(h, _)| *h < hash);
        self.by_uid[at..]
            .iter()
            .take_while(|(h, _)| *h == hash)
            .map(|(_, id)| *id)
            .find(|id| self.entry(*id).uid_norm() == key)
    }

    pub fn matches(&self, filter: &Filter, id: u32) -> bool {
        filter.eval(&self.entry(id)) == Truth::True
    }

    /// Ids of matching entries, ascending, lazily.
    pub fn search<'a>(&'a self, filter: &'a Filter) -> impl Iterator<Item = u32> + 'a {
        self.search_from(filter, None)
    }

    /// Ids of matching entries after `after`, ascending, lazily.
    pub fn search_from<'a>(
        &'a self,
        filter: &'a Filter,
        after: Option<u32>,
    ) -> impl Iterator<Item = u32> + 'a {
        let at = after.map_or(0, |a| a.saturating_add(1));
        let mut candidates = Lookahead::new(self, self.plan(filter).cursor, at);
        std::iter::from_fn(move || {
            loop {
                let id = candidates.next()?;
                if self.matches(filter, id) {
                    return Some(id);
                }
            }
        })
    }

    /// Asks the processor to bring into cache the lines that checking and writing
    /// these entries will read (their values and text), without waiting for them:
    /// their misses overlap one another and the work on earlier entries.
    fn prefetch(&self, ids: &[u32]) {
        for id in ids {
            let i = *id as usize;
            let (Some(a), Some(b)) = (self.heads.get(i), self.heads.get(i + 1)) else {
                continue;
            };
            if let Some(values) = self.values.get(a.values as usize..b.values as usize) {
                prefetch_lines(values);
            }
            if let Some(text) = self.text.as_bytes().get(a.text as usize..b.text as usize) {
                prefetch_lines(text);
            }
        }
    }

    /// How many ids the index holds, how many keys it has, and how many keys are
    /// too dense for a list (for benchmarks).
    pub fn index_stats(&self) -> (usize, usize, usize) {
        self.index.stats()
    }

    /// How many candidates the index gives and how many of them match, until
    /// `limit` matched: how exact the index is for a filter (for benchmarks).
    pub fn precision(&self, filter: &Filter, limit: usize) -> (usize, usize) {
        let mut cursor = self.plan(filter).cursor;
        let (mut at, mut candidates, mut matched) = (0u32, 0, 0);
        while let Some(id) = cursor.seek(at) {
            at = id + 1;
            candidates += 1;
            if self.matches(filter, id) {
                matched += 1;
                if matched == limit {
                    break;
                }
            }
        }
        (candidates, matched)
    }
}

/// At most how many cache lines of one range are prefetched: a normal entry's
/// text takes a few; an entry of unusual size is not worth more.
const PREFETCH_LINES: usize = 32;

/// Prefetches the cache lines of `items` (a hint: nothing is read, nothing waits).
#[inline]
fn prefetch_lines<T>(items: &[T]) {
    let start = items.as_ptr().cast::<u8>();
    let len = std::mem::size_of_val(items).min(PREFETCH_LINES * 64);
    let first = start as usize & !63;
    let mut line = start.wrapping_sub(start as usize - first);
    while (line as usize) < start as usize + len {
        prefetch(line);
        line = line.wrapping_add(64);
    }
}

/// Asks the processor to bring the cache line holding `at` into its caches. Only
/// on x86-64; elsewhere, a search just waits for its reads.
#[inline(always)]
#[allow(unsafe_code)]
pub(super) fn prefetch(at: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint: it never faults, and it changes nothing the
    // program can observe but how soon a later read of that line completes.
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(at.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = at;
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn phonebook(count: usize) -> Generation {
        Generation {
            number: 7,
            created: 0,
            contacts: crate::bench::phonebook::generate(count, 3)
                .into_iter()
                .map(|contact| ServedContact {
                    uid: crate::directory::merge::uid("t", &contact.id),
                    source: "t".into(),
                    contact,
                })
                .collect(),
        }
    }

    #[test]
    fn a_search_finds_what_checking_every_entry_finds() {
        let dir = Directory::build(&phonebook(5_000), "dc=x", &MatchRules::default());
        for text in [
            "(|(cn=an*)(sn=an*)(givenName=an*))",
            "(|(telephoneNumber=*12*)(mobile=*12*)(homePhone=*12*))",
            // Candidates the index gives that the filter then rejects.
            "(&(cn=*an*)(!(mobile=*1*)))",
            "(&(objectClass=person)(sn=*e*))",
            "(cn=*)",
            "(cn=nobody at all)",
        ] {
            let filter = crate::directory::lookup::parse(text, &dir).unwrap();
            let all: Vec<u32> = (0..dir.len() as u32)
                .filter(|id| dir.matches(&filter, *id))
                .collect();
            assert_eq!(dir.search(&filter).collect::<Vec<_>>(), all, "{text}");
            for after in [0, 1, all.len() / 2, all.len().saturating_sub(1)] {
                let Some(&from) = all.get(after) else {
                    continue;
                };
                let rest: Vec<u32> = dir.search_from(&filter, Some(from)).collect();
                assert_eq!(rest, all[after + 1..], "{text} after {from}");
            }
        }
    }

    #[test]
    fn a_directory_built_on_every_core_is_the_one_built_on_one() {
        let generation = phonebook(52_000);
        let rules = MatchRules::default();
        let parallel = Directory::build(&generation, "dc=x", &rules);
        let mut one = Builder::new(7, "dc=x", &rules);
        for c in &generation.contacts {
            one.push(c);
        }
        let one = one.finish();
        assert_eq!(parallel.len(), one.len());
        assert_eq!(parallel.text, one.text);
        assert_eq!(parallel.blobs, one.blobs);
        assert_eq!(parallel.heads, one.heads);
        assert_eq!(parallel.by_uid, one.by_uid);
        for id in (0..one.len() as u32).step_by(97) {
            for attr in Attr::ALL {
                let a: Vec<&str> = parallel.entry(id).values(attr).collect();
                let b: Vec<&str> = one.entry(id).values(attr).collect();
                assert_eq!(a, b, "entry {id} {attr:?}");
            }
        }
    }
}
