//! The merge: contacts from every source become the contacts a generation serves.
//!
//! - Each contact's `uid` (and so its DN) is derived from its source and its id in that
//!   source, so it stays the same from one generation to the next.
//! - Within a source nothing is merged: two contacts with the same name are two entries.
//! - The same person coming from several sources is served once. Two contacts of two
//!   sources are the same person (`[merge] fold = "name-and-contact"`, the default)
//!   when they have the same global id (a vCard UID or directory GUID: 8 characters
//!   or more); or the same personal name (without case, accents or word order:
//!   "Haddad, Jean-Luc" is "Jean-Luc Haddad") and a number or e-mail address in
//!   common; or a number in common when one of them has no personal name at all.
//!   Different names that share a number or an e-mail address are two people, both
//!   served with their own numbers ("kept apart"). A number several contacts of one
//!   source share (a switchboard) and a short extension never identify anyone.
//!   `fold = "id"` folds by global id only, `"off"` never.
//! - A folded entry's uid is one of its members' own, chosen without regard to
//!   priorities: the one served before if any, else the smallest; so flipping
//!   priorities does not change a DN, and a folded entry keeps the DN it had.
//! - Two contacts whose uids are equal ignoring case (DNs compare that way) would be
//!   one DN: the later one is skipped.
//! - For each field, the source with the lower priority number wins; fields it
//!   leaves empty are filled from the others, kind of number by kind of number. Two
//!   different non-empty values are a conflict, counted in the report.
//! - Served order is alphabetical by common name (case-insensitive), then uid, so a
//!   phone that stops at its size limit shows the first names in order.

use super::matching::canonical_number;
use super::{FNV_START, HashKeyed, MatchRules, contact_hash, hash_more, quick_hash};
use crate::contacts::Contact;
use crate::directory::ServedContact;
use serde::{Deserialize, Serialize};

/// The contacts of one source.
pub struct Source {
    /// Short name, used as the uid prefix: `int` for internal contacts.
    pub name: String,
    /// Lower wins when the same person comes from several sources.
    pub priority: i32,
    pub contacts: Vec<Contact>,
}

/// What changed from the previous generation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Changes {
    pub added: usize,
    pub updated: usize,
    pub removed: usize,
}

/// When contacts of two sources are taken for one person (`[merge] fold`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fold {
    /// The same global id; the same personal name with a number or e-mail address
    /// in common; a number in common when one has no personal name.
    #[default]
    NameAndContact,
    /// The same global id only.
    Id,
    /// Never: every contact of every source is an entry.
    Off,
}

impl Fold {
    pub const NAMES: [&'static str; 3] = ["name-and-contact", "id", "off"];

    pub fn parse(s: &str) -> Option<Fold> {
        match s {
            "name-and-contact" => Some(Fold::NameAndContact),
            "id" => Some(Fold::Id),
            "off" => Some(Fold::Off),
            _ => None,
        }
    }
}

/// What the merge did with each source, and with duplicates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeStats {
    pub sources: Vec<SourceCount>,
    /// Contacts folded into a contact of a preferred source.
    pub duplicates: usize,
    /// Fields where folded contacts disagreed (the preferred source's value is served).
    pub conflicts: usize,
    /// The first few conflicts, for the report.
    pub conflict_examples: Vec<String>,
    /// Pairs of contacts of two sources that share a number or an e-mail address
    /// but not a name: both are served.
    #[serde(default)]
    pub kept_apart: usize,
    /// Contacts skipped because their uid is another's (ignoring case).
    #[serde(default)]
    pub skipped: usize,
    /// The first few folds, kept-apart pairs and skipped contacts, by name.
    #[serde(default)]
    pub fold_examples: Vec<String>,
    #[serde(default)]
    pub apart_examples: Vec<String>,
    #[serde(default)]
    pub skipped_examples: Vec<String>,
}

/// Every fold, kept-apart pair and skipped contact of a merge, by name (at most
/// `LISTED` of each): for the job history.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergeLog {
    pub folds: Vec<String>,
    pub apart: Vec<String>,
    pub skipped: Vec<String>,
}

/// How many of each kind a merge's log lists.
pub const LISTED: usize = 100_000;
/// How many of each kind the report shows.
const EXAMPLES: usize = 20;

impl MergeLog {
    fn note(list: &mut Vec<String>, examples: &mut Vec<String>, line: impl FnOnce() -> String) {
        if list.len() < LISTED {
            let line = line();
            if examples.len() < EXAMPLES {
                examples.push(line.clone());
            }
            list.push(line);
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceCount {
    pub name: String,
    pub priority: i32,
    /// Contacts the source gave.
    pub contacts: usize,
    /// Entries it is served as (the others were folded or had no name nor number).
    pub served: usize,
}

const CONFLICT_EXAMPLES: usize = 20;

/// A DN-safe uid for a contact id of a source.
pub fn uid(source: &str, id: &str) -> String {
    let safe = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
    if safe {
        format!("{source}-{id}")
    } else {
        let hash = super::stable_hash(id);
        format!("{source}-h{hash:016x}")
    }
}

/// A number as a key: the hash of its reverse-lookup form, else of its digits
/// (with `+`); `None` for extensions and the like (fewer than 6 digits).
fn number_key(number: &str, rules: &MatchRules) -> Option<u64> {
    // The digits, on the stack: this runs for every number of every merge.
    let mut buf = [0u8; 64];
    let mut n = 0;
    for b in number.bytes().filter(u8::is_ascii_digit) {
        if n == buf.len() {
            return number_key_long(number, rules);
        }
        buf[n] = b;
        n += 1;
    }
    if n < 6 {
        return None;
    }
    let digits = &buf[..n];
    let h = hash_more(FNV_START, *b"tel:");
    let plus = number.trim_start().starts_with('+');
    // The same form as `canonical_number`, hashed without building it.
    let (sign, rest) = match (&rules.country_code, &rules.trunk_prefix) {
        (Some(cc), Some(trunk)) => {
            let international = if plus {
                Some(digits)
            } else {
                digits.strip_prefix(b"00")
            };
            match international {
                Some(rest) => match rest.strip_prefix(cc.as_bytes()) {
                    Some(national) => (None, national),
                    None => (Some(b'+'), rest),
                },
                None => (
                    None,
                    digits.strip_prefix(trunk.as_bytes()).unwrap_or(digits),
                ),
            }
        }
        _ => (plus.then_some(b'+'), digits),
    };
    Some(hash_more(h, sign.into_iter().chain(rest.iter().copied())))
}

/// [`number_key`] for numbers of more than 64 digits.
fn number_key_long(number: &str, rules: &MatchRules) -> Option<u64> {
    let h = hash_more(FNV_START, *b"tel:");
    Some(match canonical_number(number, rules) {
        Some(c) => hash_more(h, c.bytes()),
        None => {
            let plus = number.trim_start().starts_with('+').then_some(b'+');
            hash_more(
                h,
                plus.into_iter()
                    .chain(number.bytes().filter(u8::is_ascii_digit)),
            )
        }
    })
}

/// Numbers a contact may be recognised by (the first few).
const KEY_NUMBERS: usize = 4;
/// Numbers of a contact looked at for keys and for shared numbers.
const SCANNED_NUMBERS: usize = 8;

/// The keys a contact may be recognised by, strongest first, as hashes.
struct Keys {
    id: Option<u64>,
    numbers: [u64; SCANNED_NUMBERS],
    n_numbers: usize,
    mail: Option<u64>,
    /// Its personal name (`name_key`).
    name: Option<u64>,
}

impl Keys {
    fn numbers(&self) -> &[u64] {
        &self.numbers[..self.n_numbers]
    }

    /// Keeps the first few numbers that no other contact of the source shares.
    fn without_shared(mut self, shared: &HashKeyed<()>) -> Keys {
        let mut kept = 0;
        for i in 0..self.n_numbers {
            let n = self.numbers[i];
            if kept < KEY_NUMBERS && !shared.contains_key(&n) {
                self.numbers[kept] = n;
                kept += 1;
            }
        }
        self.n_numbers = kept;
        self
    }
}

/// The numbers that more than one contact of a source has. A sort, not a map of
/// every number: a million contacts have two million numbers, and few are shared.
fn shared_numbers(all: &[Keys]) -> HashKeyed<()> {
    let mut numbers: Vec<u64> = Vec::with_capacity(all.len() * 2);
    for k in all {
        let mine = k.numbers();
        // A number a contact lists twice (work and mobile) is still its own.
        for (i, n) in mine.iter().enumerate() {
            if !mine[..i].contains(n) {
                numbers.push(*n);
            }
        }
    }
    numbers.sort_unstable();
    let mut shared = HashKeyed::default();
    for pair in numbers.windows(2) {
        if pair[0] == pair[1] {
            shared.insert(pair[0], ());
        }
    }
    shared
}

fn keys(c: &Contact, rules: &MatchRules) -> Keys {
    let id = c.id.trim();
    let mail = c.email.trim();
    let mut k = Keys {
        id: (id.chars().count() >= 8).then(|| hash_more(hash_more(FNV_START, *b"id:"), id.bytes())),
        numbers: [0; SCANNED_NUMBERS],
        n_numbers: 0,
        mail: (!mail.is_empty()).then(|| mail_key(mail)),
        name: name_key(c),
    };
    for p in &c.phones {
        if k.n_numbers == SCANNED_NUMBERS {
            break;
        }
        if let Some(h) = number_key(&p.number, rules) {
            k.numbers[k.n_numbers] = h;
            k.n_numbers += 1;
        }
    }
    k
}

fn mail_key(mail: &str) -> u64 {
    let h = hash_more(FNV_START, *b"mail:");
    if mail.is_ascii() {
        hash_more(h, mail.bytes().map(|b| b.to_ascii_lowercase()))
    } else {
        hash_more(h, mail.to_lowercase().bytes())
    }
}

/// A personal name as folding compares it: its words, lowercased and without
/// accents, in any order ("Haddad, Jean-Luc" is "Jean-Luc Haddad"). From the given
/// name and surname, else the display name, else the first common name given, unless
/// it is the company's; None for a contact with no personal name (a company, a bare
/// number).
pub(crate) fn name_key(c: &Contact) -> Option<u64> {
    let (given, surname) = (c.given_name.trim(), c.surname.trim());
    let company = c.company.trim();
    let text = if !given.is_empty() || !surname.is_empty() {
        format!("{given} {surname}")
    } else {
        let display = c.display_name.trim();
        let name = if display.is_empty() {
            c.cn.iter().map(|v| v.trim()).find(|v| !v.is_empty())?
        } else {
            display
        };
        if name.eq_ignore_ascii_case(company) {
            return None;
        }
        name.to_string()
    };
    use unicode_normalization::UnicodeNormalization;
    let plain: String = text
        .nfkd()
        .filter(|ch| !unicode_normalization::char::is_combining_mark(*ch))
        .flat_map(char::to_lowercase)
        .collect();
    let mut words: Vec<&str> = plain
        .split(|ch: char| !ch.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() {
        return None;
    }
    words.sort_unstable();
    let mut h = hash_more(FNV_START, *b"name:");
    for w in words {
        h = hash_more(hash_more(h, w.bytes()), [0]);
    }
    Some(h)
}

/// `f` over every item, on every core for long lists; results in order.
pub(crate) fn par_map<T: Sync, U: Send>(items: &[T], f: impl Fn(&T) -> U + Sync) -> Vec<U> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads < 2 || items.len() < 20_000 {
        return items.iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let parts: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(|| part.iter().map(&f).collect::<Vec<U>>()))
            .collect();
        let mut out = Vec::with_capacity(items.len());
        for part in parts {
            match part.join() {
                Ok(mut done) => out.append(&mut done),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        out
    })
}

/// The bit of a source's rank in an entry's ranks: the ranks of the sources
/// folded into it, one bit each (the 64th and later sources share the last bit).
fn rank_bit(rank: usize) -> u64 {
    1 << rank.min(63)
}

/// Entries by key; a key may lead to several entries (people kept apart).
#[derive(Default)]
struct Postings {
    first: HashKeyed<u32>,
    more: HashKeyed<Vec<u32>>,
}

impl Postings {
    fn add(&mut self, key: u64, at: usize) {
        let at = at as u32;
        match self.first.entry(key) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(at);
            }
            std::collections::hash_map::Entry::Occupied(o) if *o.get() != at => {
                let more = self.more.entry(key).or_default();
                if !more.contains(&at) {
                    more.push(at);
                }
            }
            std::collections::hash_map::Entry::Occupied(_) => {}
        }
    }

    fn get(&self, key: u64) -> impl Iterator<Item = usize> + '_ {
        self.first
            .get(&key)
            .into_iter()
            .chain(self.more.get(&key).into_iter().flatten())
            .map(|at| *at as usize)
    }
}

#[derive(Default)]
struct Index {
    ids: Postings,
    numbers: Postings,
    mails: Postings,
}

/// What two contacts were found to share.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shared {
    Id,
    Number(u64),
    Mail,
}

/// The entry a contact is folded into, and the entries it shares a number or an
/// e-mail address with but not a name.
struct Found {
    fold: Option<(usize, Shared)>,
    apart: Vec<(usize, Shared)>,
}

impl Index {
    /// The entry of another source this contact is the same person as (`names`:
    /// each entry's personal name).
    fn find(
        &self,
        k: &Keys,
        ranks: &[u64],
        names: &[Option<u64>],
        rank: usize,
        fold: Fold,
    ) -> Found {
        let free = |at: &usize| ranks[*at] & rank_bit(rank) == 0;
        let mut found = Found {
            fold: None,
            apart: Vec::new(),
        };
        if fold == Fold::Off {
            return found;
        }
        if let Some(at) = k.id.and_then(|id| self.ids.get(id).find(|a| free(a))) {
            found.fold = Some((at, Shared::Id));
            return found;
        }
        if fold == Fold::Id {
            return found;
        }
        let apart = |at: usize, shared: Shared, found: &mut Found| {
            if !found.apart.iter().any(|(a, _)| *a == at) {
                found.apart.push((at, shared));
            }
        };
        for n in k.numbers() {
            for at in self.numbers.get(*n).filter(|a| free(a)) {
                // A contact without a personal name is whoever has its number.
                let same = match (k.name, names[at]) {
                    (Some(a), Some(b)) => a == b,
                    _ => true,
                };
                if same && found.fold.is_none() {
                    found.fold = Some((at, Shared::Number(*n)));
                } else if !same {
                    apart(at, Shared::Number(*n), &mut found);
                }
            }
        }
        if let Some(m) = k.mail {
            for at in self.mails.get(m).filter(|a| free(a)) {
                let same = k.name.is_some() && k.name == names[at];
                if same && found.fold.is_none() {
                    found.fold = Some((at, Shared::Mail));
                } else if !same {
                    apart(at, Shared::Mail, &mut found);
                }
            }
        }
        if let Some((at, _)) = found.fold {
            found.apart.retain(|(a, _)| *a != at);
        }
        found
    }

    fn add(&mut self, k: &Keys, at: usize, fold: Fold) {
        if fold == Fold::Off {
            return;
        }
        if let Some(id) = k.id {
            self.ids.add(id, at);
        }
        if fold == Fold::Id {
            return;
        }
        for n in k.numbers() {
            self.numbers.add(*n, at);
        }
        if let Some(m) = k.mail {
            self.mails.add(m, at);
        }
    }
}

/// What two contacts share, in words.
fn shared_words(shared: Shared, c: &Contact, rules: &MatchRules) -> String {
    match shared {
        Shared::Id => format!("id {}", c.id.trim()),
        Shared::Number(key) => c
            .phones
            .iter()
            .find(|p| number_key(&p.number, rules) == Some(key))
            .map_or_else(String::new, |p| {
                format!("{} {}", p.kind.as_str(), p.number.trim())
            }),
        Shared::Mail => format!("e-mail {}", c.email.trim()),
    }
}

/// A contact as the merge's log names it: "Jean-Luc Haddad (int-1)".
fn label(c: &Contact, uid: &str) -> String {
    format!("{} ({uid})", c.common_name())
}

/// Fills an empty text field from the other side's; notes a field both give differently.
fn fill_text(
    name: &'static str,
    mine: &mut String,
    theirs: &str,
    conflicts: &mut Vec<&'static str>,
) {
    if mine.trim().is_empty() {
        theirs.clone_into(mine);
    } else if !theirs.trim().is_empty() && !mine.trim().eq_ignore_ascii_case(theirs.trim()) {
        conflicts.push(name);
    }
}

/// Fills `into`'s empty fields from `from`; returns the fields that disagree.
fn fill(into: &mut Contact, from: &Contact, rules: &MatchRules) -> Vec<&'static str> {
    let mut conflicts = Vec::new();
    let fields: [(&'static str, &mut String, &String); 7] = [
        ("given name", &mut into.given_name, &from.given_name),
        ("surname", &mut into.surname, &from.surname),
        ("display name", &mut into.display_name, &from.display_name),
        ("company", &mut into.company, &from.company),
        ("department", &mut into.department, &from.department),
        ("title", &mut into.title, &from.title),
        ("e-mail", &mut into.email, &from.email),
    ];
    if into.cn.is_empty() {
        into.cn.clone_from(&from.cn);
    }
    for (name, mine, theirs) in fields {
        fill_text(name, mine, theirs, &mut conflicts);
    }
    for d in crate::contacts::Detail::ALL {
        fill_text(
            d.words(),
            into.detail_mut(d),
            from.detail(d),
            &mut conflicts,
        );
    }
    if into.photo.is_empty() {
        into.photo.clone_from(&from.photo);
    }
    for kind in crate::contacts::PhoneKind::ALL {
        let theirs: Vec<_> = from
            .phones
            .iter()
            .filter(|p| p.kind == kind)
            .cloned()
            .collect();
        if theirs.is_empty() {
            continue;
        }
        let mine: Vec<Option<u64>> = into
            .phones
            .iter()
            .filter(|p| p.kind == kind)
            .map(|p| number_key(&p.number, rules))
            .collect();
        if mine.is_empty() {
            into.phones.extend(theirs);
        } else if theirs
            .iter()
            .any(|p| !mine.contains(&number_key(&p.number, rules)))
        {
            conflicts.push(kind.as_str());
        }
    }
    conflicts
}

/// Merges sources into served contacts, in served order, and says what it did.
/// `previous` is what the current generation serves: a folded entry keeps the uid
/// it was served under.
pub fn merge(
    mut sources: Vec<Source>,
    rules: &MatchRules,
    fold: Fold,
    previous: &Fingerprints,
) -> (Vec<ServedContact>, MergeStats, MergeLog) {
    sources.sort_by_key(|s| s.priority);
    let total: usize = sources.iter().map(|s| s.contacts.len()).sum();
    let mut stats = MergeStats::default();
    let mut log = MergeLog::default();
    let mut entries: Vec<ServedContact> = Vec::with_capacity(total);
    let mut ranks: Vec<u64> = Vec::with_capacity(total);
    let mut names: Vec<Option<u64>> = Vec::with_capacity(total);
    let mut index = Index::default();
    // Every uid taken, ignoring case.
    let mut uids: HashKeyed<()> = HashKeyed::default();
    uids.reserve(total);
    let served_before = |uid: &str| previous.contains_key(&quick_hash(FNV_START, uid.as_bytes()));
    // Of two uids for one entry: the one served before, else the smaller.
    let better = |a: &str, b: &str| (!served_before(a), a) < (!served_before(b), b);
    let n_sources = sources.len();
    for (rank, source) in sources.into_iter().enumerate() {
        let all_keys = par_map(&source.contacts, |c| keys(c, rules));
        // Numbers several contacts of this source share identify none of them.
        let shared = shared_numbers(&all_keys);
        // No later source looks the last one's contacts up.
        let last = rank + 1 == n_sources;
        let mut count = SourceCount {
            name: source.name.clone(),
            priority: source.priority,
            contacts: source.contacts.len(),
            served: 0,
        };
        for (contact, k) in source.contacts.into_iter().zip(all_keys) {
            if !contact.is_servable() {
                continue;
            }
            let own_uid = uid(&source.name, &contact.id);
            let lower = quick_hash(FNV_START, own_uid.to_lowercase().as_bytes());
            if uids.insert(lower, ()).is_some() {
                stats.skipped += 1;
                MergeLog::note(&mut log.skipped, &mut stats.skipped_examples, || {
                    format!(
                        "{}: skipped, its uid is another contact's (ids differing only in case are one DN)",
                        label(&contact, &own_uid)
                    )
                });
                continue;
            }
            let k = k.without_shared(&shared);
            let found = index.find(&k, &ranks, &names, rank, fold);
            for (at, what) in &found.apart {
                stats.kept_apart += 1;
                let entry = &entries[*at];
                MergeLog::note(&mut log.apart, &mut stats.apart_examples, || {
                    format!(
                        "{} and {}: different names sharing {}; both served",
                        label(&entry.contact, &entry.uid),
                        label(&contact, &own_uid),
                        shared_words(*what, &contact, rules)
                    )
                });
            }
            match found.fold {
                Some((at, what)) => {
                    let entry = &mut entries[at];
                    stats.duplicates += 1;
                    MergeLog::note(&mut log.folds, &mut stats.fold_examples, || {
                        let how = match (what, k.name.is_some() && names[at].is_some()) {
                            (Shared::Id, _) => "the same",
                            (_, true) => "the same name and",
                            (_, false) => "no personal name on one side,",
                        };
                        format!(
                            "{} and {}: one person ({how} {})",
                            label(&entry.contact, &entry.uid),
                            label(&contact, &own_uid),
                            shared_words(what, &contact, rules)
                        )
                    });
                    let differ = fill(&mut entry.contact, &contact, rules);
                    ranks[at] |= rank_bit(rank);
                    if names[at].is_none() {
                        names[at] = name_key(&entry.contact);
                    }
                    stats.conflicts += differ.len();
                    if !differ.is_empty() && stats.conflict_examples.len() < CONFLICT_EXAMPLES {
                        stats.conflict_examples.push(format!(
                            "{} ({}): {} from {} kept over {}",
                            entry.contact.common_name(),
                            entry.uid,
                            differ.join(", "),
                            entry.source,
                            source.name
                        ));
                    }
                    if better(&own_uid, &entry.uid) {
                        entry.uid = own_uid;
                    }
                    if !last {
                        index.add(&k, at, fold);
                    }
                }
                None => {
                    count.served += 1;
                    if !last {
                        index.add(&k, entries.len(), fold);
                    }
                    names.push(k.name);
                    entries.push(ServedContact {
                        uid: own_uid,
                        source: source.name.clone(),
                        contact,
                    });
                    ranks.push(rank_bit(rank));
                }
            }
        }
        stats.sources.push(count);
    }
    drop((names, uids, index));
    // Served order is by lowercase name, then uid. Small keys are sorted, not the
    // contacts: the first 16 bytes of the name and of the uid order almost every
    // pair without reading either (many people share a name).
    drop(ranks);
    let names = par_map(&entries, |e| e.contact.common_name().to_lowercase());
    let mut order: Vec<SortKey> = names
        .iter()
        .zip(&entries)
        .enumerate()
        .map(|(i, (name, e))| SortKey {
            name: prefix(name),
            uid: prefix(&e.uid),
            at: i as u32,
            long_name: name.len() > 16,
        })
        .collect();
    order.sort_unstable_by(|a, b| {
        let (x, y) = (a.at as usize, b.at as usize);
        a.name
            .cmp(&b.name)
            .then_with(|| match a.long_name || b.long_name {
                true => names[x].cmp(&names[y]),
                // Equal first 16 bytes of names no longer than that: equal names.
                false => std::cmp::Ordering::Equal,
            })
            .then_with(|| a.uid.cmp(&b.uid))
            .then_with(|| entries[x].uid.cmp(&entries[y].uid))
    });
    drop(names);
    let order: Vec<u32> = order.into_iter().map(|k| k.at).collect();
    permute(&mut entries, &order);
    (entries, stats, log)
}

/// Puts `items[order[k]]` at `k`, in place: each cycle of the permutation is
/// followed with swaps, so that a million contacts are not moved into new memory.
fn permute<T>(items: &mut [T], order: &[u32]) {
    let mut placed = vec![false; items.len()];
    for start in 0..items.len() {
        let mut at = start;
        // Position `at` holds the item that belongs where the cycle will end.
        while !placed[at] {
            placed[at] = true;
            let from = order[at] as usize;
            if from == start {
                break;
            }
            items.swap(at, from);
            at = from;
        }
    }
}

/// What served order sorts by, for one entry.
struct SortKey {
    name: u128,
    uid: u128,
    at: u32,
    long_name: bool,
}

/// The first 16 bytes of a string as a number that sorts as the string does
/// (strings hold no NUL byte).
fn prefix(s: &str) -> u128 {
    let mut bytes = [0u8; 16];
    for (b, n) in bytes.iter_mut().zip(s.bytes()) {
        *b = n;
    }
    u128::from_be_bytes(bytes)
}

/// What a generation served, as hashes: uid -> contact. Enough to count changes
/// without holding the previous generation's contacts.
pub type Fingerprints = HashKeyed<u64>;

pub fn fingerprint(s: &ServedContact) -> (u64, u64) {
    (
        quick_hash(FNV_START, s.uid.as_bytes()),
        contact_hash(&s.contact),
    )
}

/// `fingerprint` of a served contact as a generation file holds it.
pub fn record_fingerprint(uid: &str, contact: &crate::codec::Parts) -> (u64, u64) {
    (
        quick_hash(FNV_START, uid.as_bytes()),
        super::parts_hash(contact),
    )
}

/// How many of the previous generation's entries `next` no longer serves.
pub fn removed(previous: &Fingerprints, next: &[ServedContact]) -> usize {
    let kept = next
        .iter()
        .filter(|s| previous.contains_key(&quick_hash(FNV_START, s.uid.as_bytes())))
        .count();
    previous.len().saturating_sub(kept)
}

/// Counts what a new generation adds, changes and removes compared with the
/// previous one, and which of its contacts (positions in `next`) are new or
/// changed: the others serve exactly what they served.
pub fn changes(previous: &Fingerprints, next: &[ServedContact]) -> (Changes, Vec<u32>) {
    let mut changes = Changes::default();
    let mut fresh = Vec::new();
    let mut seen = 0;
    for (i, s) in next
        .chunks(super::WARM_CONTACTS)
        .flat_map(|batch| {
            super::warm_contacts(batch);
            batch
        })
        .enumerate()
    {
        let (uid, content) = fingerprint(s);
        match previous.get(&uid) {
            None => {
                changes.added += 1;
                fresh.push(i as u32);
            }
            Some(old) => {
                seen += 1;
                if *old != content {
                    changes.updated += 1;
                    fresh.push(i as u32);
                }
            }
        }
    }
    changes.removed = previous.len().saturating_sub(seen);
    (changes, fresh)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contacts::{Detail, Phone, PhoneKind};

    /// A merge with the default fold and no previous generation.
    fn run(sources: Vec<Source>, rules: &MatchRules) -> (Vec<ServedContact>, MergeStats) {
        let (served, stats, _) = merge(sources, rules, Fold::default(), &Fingerprints::default());
        (served, stats)
    }

    fn person(id: &str, given: &str, sur: &str, number: &str, email: &str) -> Contact {
        Contact {
            id: id.into(),
            given_name: given.into(),
            surname: sur.into(),
            email: email.into(),
            phones: vec![Phone {
                kind: PhoneKind::Work,
                number: number.into(),
            }],
            ..Contact::default()
        }
    }

    #[test]
    fn a_change_in_any_served_field_is_a_change() {
        let served = |c: Contact| ServedContact {
            uid: format!("ext-{}", c.id),
            source: "ext".into(),
            contact: c,
        };
        let base = person(
            "1",
            "Ada",
            "Lovelace",
            "+44 20 7946 0001",
            "ada@example.org",
        );
        let mut previous = Fingerprints::default();
        let (uid, content) = fingerprint(&served(base.clone()));
        previous.insert(uid, content);
        let mut edits: Vec<Contact> = Detail::ALL
            .into_iter()
            .map(|d| {
                let mut c = base.clone();
                *c.detail_mut(d) = "changed".into();
                c
            })
            .collect();
        edits.push(Contact {
            photo: vec![0xff, 0xd8],
            ..base.clone()
        });
        edits.push(Contact {
            cn: vec!["Augusta Ada King".into()],
            ..base.clone()
        });
        edits.push(Contact {
            title: "Countess".into(),
            ..base.clone()
        });
        for edit in edits {
            let (changes, fresh) = changes(&previous, &[served(edit.clone())]);
            assert_eq!((changes.updated, fresh), (1, vec![0]), "{edit:?}");
        }
        let (same, fresh) = changes(&previous, &[served(base.clone())]);
        assert_eq!((same.updated, same.added, fresh.len()), (0, 0, 0));
        // A value that moves from one list to another: a fax number that was a
        // postal code, a common name that was a number.
        let moves = [
            (
                vec![("Fax", "10115")],
                Contact {
                    postal_code: "10115".into(),
                    ..base.clone()
                },
            ),
            (
                vec![],
                Contact {
                    cn: vec![
                        char::from(PhoneKind::Work as u8).to_string(),
                        "+44 20 7946 0001".into(),
                    ],
                    phones: Vec::new(),
                    ..base.clone()
                },
            ),
        ];
        for (more, moved) in moves {
            let mut from = base.clone();
            from.phones.extend(more.into_iter().map(|(_, n)| Phone {
                kind: PhoneKind::Fax,
                number: n.into(),
            }));
            let mut before = Fingerprints::default();
            let (uid, content) = fingerprint(&served(from));
            before.insert(uid, content);
            let (changes, _) = changes(&before, &[served(moved.clone())]);
            assert_eq!(changes.updated, 1, "{moved:?}");
        }
    }

    #[test]
    fn number_keys_match_the_canonical_form() {
        let german = MatchRules {
            country_code: Some("49".into()),
            trunk_prefix: Some("0".into()),
            ..MatchRules::default()
        };
        let numbers = [
            "+49 30 1234567",
            "0049 30 1234567",
            "030 1234567",
            "301234567",
            "+44 20 7946 0001",
            "0044 20 7946 0001",
            "12345",
            " +1 (555) 010-0100 ",
            "0800 1234567",
        ];
        for rules in [&german, &MatchRules::default()] {
            for n in numbers {
                let long = if n.bytes().filter(u8::is_ascii_digit).count() < 6 {
                    None
                } else {
                    number_key_long(n, rules)
                };
                assert_eq!(number_key(n, rules), long, "{n}");
            }
        }
        assert_eq!(
            number_key("+49 30 1234567", &german),
            number_key("030 1234567", &german)
        );
        let many = "1".repeat(100);
        assert_eq!(number_key(&many, &german), number_key_long(&many, &german));
    }

    #[test]
    fn uids_are_stable_and_dn_safe() {
        assert_eq!(uid("int", "42"), "int-42");
        assert_eq!(uid("ext", "a,b=c"), uid("ext", "a,b=c"));
        assert!(uid("ext", "a,b=c").starts_with("ext-h"));
        assert_ne!(uid("ext", "a,b=c"), uid("ext", "a,b=d"));
    }

    #[test]
    fn same_names_stay_two_entries_and_order_is_alphabetical() {
        let (served, _) = run(
            vec![Source {
                name: "int".into(),
                priority: 0,
                contacts: vec![
                    person("2", "John", "Smith", "1", ""),
                    person("1", "ada", "Lovelace", "2", ""),
                    person("3", "John", "Smith", "3", ""),
                    Contact {
                        id: "4".into(),
                        ..Contact::default()
                    },
                ],
            }],
            &MatchRules::default(),
        );
        let names: Vec<(String, String)> = served
            .iter()
            .map(|s| (s.contact.common_name(), s.uid.clone()))
            .collect();
        assert_eq!(
            names,
            vec![
                ("ada Lovelace".into(), "int-1".into()),
                ("John Smith".into(), "int-2".into()),
                ("John Smith".into(), "int-3".into()),
            ]
        );
    }

    #[test]
    fn a_folded_entry_keeps_the_winners_details_and_fills_the_others() {
        let mut ext = person("b", "Alan", "Turing", "+44 20 7946 0002", "");
        ext.street = "Bletchley Park".into();
        ext.locality = "Milton Keynes".into();
        ext.photo = vec![1, 2, 3];
        let mut int = person("2", "Alan", "Turing", "+44-20-7946-0002", "");
        int.street = "Sherwood Drive".into();
        int.postal_code = "MK3 6EB".into();
        int.country = "GB".into();
        let (served, _) = run(
            vec![
                Source {
                    name: "ext".into(),
                    priority: 20,
                    contacts: vec![ext],
                },
                Source {
                    name: "int".into(),
                    priority: 10,
                    contacts: vec![int],
                },
            ],
            &MatchRules::default(),
        );
        assert_eq!(served.len(), 1);
        let c = &served[0].contact;
        assert_eq!(
            (
                c.street.as_str(),
                c.locality.as_str(),
                c.postal_code.as_str()
            ),
            ("Sherwood Drive", "Milton Keynes", "MK3 6EB")
        );
        assert_eq!(
            (c.country.as_str(), c.photo.as_slice()),
            ("GB", &[1u8, 2, 3][..])
        );
    }

    #[test]
    fn the_same_person_from_two_sources_is_one_entry_filled_from_both() {
        let mut ada_ext = person(
            "a",
            "Ada",
            "Lovelace",
            "+44 20 7946 0001",
            "ada@example.org",
        );
        ada_ext.company = "Analytical Engines".into();
        ada_ext.title = "Countess".into();
        let mut ada_int = person("1", "Ada", "King", "+44 20 7946 0099", "ADA@example.org");
        ada_int.title = "Programmer".into();
        let (served, stats) = run(
            vec![
                Source {
                    name: "ext".into(),
                    priority: 10,
                    contacts: vec![
                        ada_ext,
                        person("b", "Alan", "Turing", "+44 20 7946 0002", ""),
                        person("c", "Grace", "Hopper", "+1 202 555 0103", ""),
                        // A switchboard number shared within the source identifies no one.
                        person("d", "Reception", "ACME", "+49 30 1234567", ""),
                        person("e", "Sales", "ACME", "+49 30 1234567", ""),
                    ],
                },
                Source {
                    name: "int".into(),
                    priority: 0,
                    contacts: vec![
                        ada_int,
                        person("2", "Alan", "Turing", "+44-20-7946-0002", ""),
                        person("3", "Bob", "Builder", "+49 30 1234567", ""),
                    ],
                },
            ],
            &MatchRules::default(),
        );
        let names: Vec<(String, &str)> = served
            .iter()
            .map(|s| (s.contact.common_name(), s.uid.as_str()))
            .collect();
        // Ada King and Ada Lovelace share an e-mail address, not a name: two entries.
        // Alan Turing is one person with one number in two forms: one entry, under
        // the smaller of his two uids.
        assert_eq!(
            names,
            [
                ("Ada King".to_string(), "int-1"),
                ("Ada Lovelace".to_string(), "ext-a"),
                ("Alan Turing".to_string(), "ext-b"),
                ("Bob Builder".to_string(), "int-3"),
                ("Grace Hopper".to_string(), "ext-c"),
                ("Reception ACME".to_string(), "ext-d"),
                ("Sales ACME".to_string(), "ext-e"),
            ]
        );
        assert_eq!(served[0].contact.title, "Programmer");
        assert_eq!(served[1].contact.company, "Analytical Engines");
        assert_eq!(stats.duplicates, 1);
        assert_eq!(stats.kept_apart, 1);
        assert!(
            stats.apart_examples[0].contains("Ada King (int-1) and Ada Lovelace (ext-a)"),
            "{stats:?}"
        );
        assert!(
            stats.fold_examples[0].contains("Alan Turing (int-2) and Alan Turing (ext-b)"),
            "{stats:?}"
        );
        assert_eq!(stats.sources[0].name, "int");
        assert_eq!((stats.sources[1].contacts, stats.sources[1].served), (5, 4));
    }

    fn source(name: &str, priority: i32, contacts: Vec<Contact>) -> Source {
        Source {
            name: name.into(),
            priority,
            contacts,
        }
    }

    fn with_phone(mut c: Contact, kind: PhoneKind, number: &str) -> Contact {
        c.phones.push(Phone {
            kind,
            number: number.into(),
        });
        c
    }

    /// The served names, each with its numbers.
    fn served_names(served: &[ServedContact]) -> Vec<(String, Vec<String>)> {
        served
            .iter()
            .map(|s| {
                let numbers = s.contact.phones.iter().map(|p| p.number.clone()).collect();
                (s.contact.common_name(), numbers)
            })
            .collect()
    }

    #[test]
    fn different_people_sharing_a_number_or_a_mailbox_are_all_served() {
        use PhoneKind::*;
        let rules = MatchRules::default();
        // A shared home phone: a couple, one in each list.
        let anna = with_phone(
            person("1", "Anna", "Berg", "+49 30 1000001", ""),
            Home,
            "+49 30 5550000",
        );
        let boris = with_phone(
            person("x1", "Boris", "Berg", "+49 30 2000002", ""),
            Home,
            "+49 30 5550000",
        );
        // A reassigned mobile: the old owner internal, the new one external.
        let carl = with_phone(
            person("2", "Carl", "Alt", "+49 30 1000002", ""),
            Mobile,
            "+49 171 1234567",
        );
        let dana = person("x2", "Dana", "Neu", "+49 171 1234567", "");
        // A team mailbox.
        let eve = person("3", "Eve", "Sales", "+49 30 1000003", "sales@acme.example");
        let frank = person(
            "x3",
            "Frank",
            "Sales",
            "+49 30 2000003",
            "Sales@acme.example",
        );
        // A company's main line, one person per list.
        let gina = person("4", "Gina", "Main", "+49 30 1234000", "");
        let hugo = person("x4", "Hugo", "Main", "+49 30 1234000", "");
        let (served, stats) = run(
            vec![
                source("int", 10, vec![anna, carl, eve, gina]),
                source("ext", 20, vec![boris, dana, frank, hugo]),
            ],
            &rules,
        );
        assert_eq!(
            served_names(&served),
            [
                (
                    "Anna Berg".to_string(),
                    vec!["+49 30 1000001".to_string(), "+49 30 5550000".to_string()]
                ),
                (
                    "Boris Berg".to_string(),
                    vec!["+49 30 2000002".to_string(), "+49 30 5550000".to_string()]
                ),
                (
                    "Carl Alt".to_string(),
                    vec!["+49 30 1000002".to_string(), "+49 171 1234567".to_string()]
                ),
                ("Dana Neu".to_string(), vec!["+49 171 1234567".to_string()]),
                ("Eve Sales".to_string(), vec!["+49 30 1000003".to_string()]),
                (
                    "Frank Sales".to_string(),
                    vec!["+49 30 2000003".to_string()]
                ),
                ("Gina Main".to_string(), vec!["+49 30 1234000".to_string()]),
                ("Hugo Main".to_string(), vec!["+49 30 1234000".to_string()]),
            ]
        );
        assert_eq!((stats.duplicates, stats.kept_apart), (0, 4), "{stats:?}");
        assert!(
            stats
                .apart_examples
                .iter()
                .any(|l| l.contains("Anna Berg (int-1) and Boris Berg (ext-x1)")
                    && l.contains("home +49 30 5550000")),
            "{stats:?}"
        );
        assert!(
            stats
                .apart_examples
                .iter()
                .any(|l| l.contains("e-mail Sales@acme.example")),
            "{stats:?}"
        );
    }

    #[test]
    fn the_same_person_is_folded_once_whatever_the_order_of_the_name() {
        let rules = MatchRules::default();
        let mut int = person("1", "Jean-Luc", "Haddad", "+33 1 44 55 66 77", "");
        int.title = "Directeur".into();
        let mut ext = person("x1", "", "", "+33 1 44 55 66 77", "jl@haddad.example");
        ext.display_name = "HADDAD, Jean-Luc".into();
        let mut dir = person(
            "u9",
            "Jean-Luc",
            "Haddád",
            "+33 6 00 00 00 01",
            "jl@haddad.example",
        );
        dir.company = "Haddad SA".into();
        // Only a company and the number: no personal name, so whoever has it.
        let mut desk = person("d1", "", "", "+33 1 44 55 66 77", "");
        desk.company = "Haddad SA".into();
        let (served, stats) = run(
            vec![
                source("int", 10, vec![int]),
                source("ext", 20, vec![ext]),
                source("corp", 30, vec![dir]),
                source("desk", 40, vec![desk]),
            ],
            &rules,
        );
        assert_eq!(served.len(), 1, "{:?}", served_names(&served));
        assert_eq!(stats.duplicates, 3, "{stats:?}");
        let c = &served[0].contact;
        assert_eq!(
            (c.given_name.as_str(), c.title.as_str()),
            ("Jean-Luc", "Directeur")
        );
        assert_eq!(c.email, "jl@haddad.example");
        assert_eq!(c.company, "Haddad SA");
    }

    #[test]
    fn fold_id_folds_by_global_id_only_and_off_never() {
        let rules = MatchRules::default();
        let uuid = "urn:uuid:6f1c7c7e-0001";
        let sources = || {
            vec![
                source(
                    "int",
                    10,
                    vec![person("1", "Ada", "Lovelace", "+44 20 7946 0001", "")],
                ),
                source(
                    "ext",
                    20,
                    vec![
                        person("x1", "Ada", "Lovelace", "+44 20 7946 0001", ""),
                        person(uuid, "Ada", "King", "+44 20 7946 0002", ""),
                    ],
                ),
                source(
                    "corp",
                    30,
                    vec![person(uuid, "Augusta", "King", "+44 20 7946 0003", "")],
                ),
            ]
        };
        let count = |fold| {
            merge(sources(), &rules, fold, &Fingerprints::default())
                .0
                .len()
        };
        assert_eq!(count(Fold::NameAndContact), 2);
        assert_eq!(count(Fold::Id), 3);
        assert_eq!(count(Fold::Off), 4);
    }

    #[test]
    fn a_folded_entry_keeps_its_dn_whichever_source_wins() {
        let rules = MatchRules::default();
        let sources = |int_priority| {
            vec![
                source(
                    "int",
                    int_priority,
                    vec![person("1", "Ada", "Lovelace", "+44 20 7946 0001", "")],
                ),
                source(
                    "ext",
                    20,
                    vec![person("x1", "Ada", "Lovelace", "+44 20 7946 0001", "")],
                ),
            ]
        };
        let uid_of = |int_priority, previous: &Fingerprints| {
            let (served, _, _) = merge(sources(int_priority), &rules, Fold::default(), previous);
            assert_eq!(served.len(), 1);
            served[0].uid.clone()
        };
        let none = Fingerprints::default();
        assert_eq!(uid_of(10, &none), "ext-x1");
        assert_eq!(
            uid_of(30, &none),
            "ext-x1",
            "flipping priorities keeps the DN"
        );
        // Served before as int-1 (before the external list held her): kept.
        let before: Fingerprints = [(quick_hash(FNV_START, b"int-1"), 0)].into_iter().collect();
        assert_eq!(uid_of(10, &before), "int-1");
        assert_eq!(uid_of(30, &before), "int-1");
    }

    #[test]
    fn ids_equal_but_for_case_are_one_dn_and_the_later_ones_are_skipped() {
        let (served, stats) = run(
            vec![source(
                "ext",
                20,
                vec![
                    person("d1", "First", "One", "+49 30 1", ""),
                    person("d1", "Second", "One", "+49 30 2", ""),
                    person("D1", "Third", "One", "+49 30 3", ""),
                    person("d2", "Fourth", "One", "+49 30 4", ""),
                ],
            )],
            &MatchRules::default(),
        );
        assert_eq!(served.len(), 2);
        assert_eq!(served[0].contact.given_name, "First");
        assert_eq!(stats.skipped, 2);
        assert!(
            stats.skipped_examples[1].contains("Third One (ext-D1)"),
            "{stats:?}"
        );
    }

    #[test]
    fn a_number_one_contact_lists_twice_still_identifies_it_in_later_sources() {
        let mut ada = person("a", "Ada", "Lovelace", "+44 20 7946 0001", "");
        ada.phones.push(Phone {
            kind: PhoneKind::Mobile,
            number: "+44 20 7946 0001".into(),
        });
        let source = |name: &str, priority, contacts| Source {
            name: name.into(),
            priority,
            contacts,
        };
        let (served, stats) = run(
            vec![
                source(
                    "int",
                    0,
                    vec![person("1", "Bob", "Builder", "+49 30 1", "")],
                ),
                source("ext", 1, vec![ada]),
                source("dir", 2, vec![person("x", "", "", "+44-20-7946-0001", "")]),
            ],
            &MatchRules::default(),
        );
        assert_eq!(served.len(), 2, "{served:?}");
        assert_eq!(stats.duplicates, 1);
        assert_eq!(served[0].contact.given_name, "Ada");
    }

    #[test]
    fn a_permutation_is_applied_in_place() {
        let mut rng = fastrand::Rng::with_seed(5);
        for n in [0, 1, 2, 7, 100] {
            let mut order: Vec<u32> = (0..n).collect();
            rng.shuffle(&mut order);
            let items: Vec<String> = (0..n).map(|i| format!("item {i}")).collect();
            let mut permuted = items.clone();
            permute(&mut permuted, &order);
            let expected: Vec<String> = order.iter().map(|i| items[*i as usize].clone()).collect();
            assert_eq!(permuted, expected, "{order:?}");
        }
    }

    #[test]
    fn global_ids_match_before_numbers_and_mail() {
        let uuid = "urn:uuid:6f1c7c7e-0001";
        let mut a = person(uuid, "Ada", "Lovelace", "1", "");
        a.company = "A".into();
        let b = person(uuid, "Augusta", "King", "2", "other@example.org");
        let (served, stats) = run(
            vec![
                Source {
                    name: "ext".into(),
                    priority: 1,
                    contacts: vec![a],
                },
                Source {
                    name: "dir".into(),
                    priority: 2,
                    contacts: vec![b],
                },
            ],
            &MatchRules::default(),
        );
        assert_eq!(served.len(), 1);
        assert_eq!(stats.duplicates, 1);
        assert_eq!(served[0].contact.email, "other@example.org");
    }

    #[test]
    fn changes_count_added_updated_removed() {
        let rules = MatchRules::default();
        let (a, _) = run(
            vec![Source {
                name: "int".into(),
                priority: 0,
                contacts: vec![
                    person("1", "A", "A", "1", ""),
                    person("2", "B", "B", "2", ""),
                ],
            }],
            &rules,
        );
        let (b, _) = run(
            vec![Source {
                name: "int".into(),
                priority: 0,
                contacts: vec![
                    person("2", "B", "Bee", "2", ""),
                    person("3", "C", "C", "3", ""),
                ],
            }],
            &rules,
        );
        let before: Fingerprints = a.iter().map(fingerprint).collect();
        assert_eq!(
            changes(&before, &b),
            (
                Changes {
                    added: 1,
                    updated: 1,
                    removed: 1
                },
                // B changed its surname; C is new.
                vec![0, 1]
            )
        );
    }

    #[test]
    fn served_order_is_by_lowercase_name_then_uid() {
        // Names sharing their first 16 bytes and more, names of exactly 16 bytes,
        // many people of one name, ids of any length.
        let names = [
            "Ada",
            "ada",
            "Alexandra-Katharina Müller",
            "Alexandra-Katharina Meyer",
            "Alexandra-Katharin",
            "abcdefghijklmnop",
            "abcdefghijklmnopq",
            "Zoë",
            "zoe",
        ];
        let mut rng = fastrand::Rng::with_seed(7);
        let contacts: Vec<Contact> = (0..600)
            .map(|i| {
                let id = "9".repeat(rng.usize(1..30)) + &i.to_string();
                let mut c = person(&id, "", "", &format!("+1 555 {i:07}"), "");
                c.display_name = names[rng.usize(..names.len())].to_string();
                c
            })
            .collect();
        let (served, _) = run(
            vec![Source {
                name: "ext".into(),
                priority: 0,
                contacts,
            }],
            &MatchRules::default(),
        );
        let keys: Vec<(String, String)> = served
            .iter()
            .map(|s| (s.contact.common_name().to_lowercase(), s.uid.clone()))
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        assert_eq!(keys.len(), 600);
    }
}
