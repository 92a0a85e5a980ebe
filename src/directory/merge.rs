//! The merge: contacts from every source become the contacts a generation serves.
//!
//! - Each contact's `uid` (and so its DN) is derived from its source and its id in that
//!   source, so it stays the same from one generation to the next.
//! - Within a source nothing is merged: two contacts with the same name are two entries.
//! - The same person coming from several sources is served once. Two contacts of two
//!   sources are the same person when they have the same global id (a vCard UID or
//!   directory GUID: 8 characters or more), else a number in common, else the same
//!   e-mail address. A number several contacts of one source share (a switchboard)
//!   and a short extension never identify anyone.
//! - For each field, the source with the lower priority number wins; fields it
//!   leaves empty are filled from the others, kind of number by kind of number. Two
//!   different non-empty values are a conflict, counted in the report.
//! - Served order is alphabetical by common name (case-insensitive), then uid, so a
//!   phone that stops at its size limit shows the first names in order.

use super::matching::canonical_number;
use super::{FNV_START, HashKeyed, NumberRules, contact_hash, hash_more, quick_hash};
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
fn number_key(number: &str, rules: &NumberRules) -> Option<u64> {
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
fn number_key_long(number: &str, rules: &NumberRules) -> Option<u64> {
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

fn keys(c: &Contact, rules: &NumberRules) -> Keys {
    let id = c.id.trim();
    let mail = c.email.trim();
    let mut k = Keys {
        id: (id.chars().count() >= 8).then(|| hash_more(hash_more(FNV_START, *b"id:"), id.bytes())),
        numbers: [0; SCANNED_NUMBERS],
        n_numbers: 0,
        mail: (!mail.is_empty()).then(|| {
            let h = hash_more(FNV_START, *b"mail:");
            if mail.is_ascii() {
                hash_more(h, mail.bytes().map(|b| b.to_ascii_lowercase()))
            } else {
                hash_more(h, mail.to_lowercase().bytes())
            }
        }),
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

#[derive(Default)]
struct Index {
    ids: HashKeyed<usize>,
    numbers: HashKeyed<usize>,
    mails: HashKeyed<usize>,
}

impl Index {
    /// The entry of another source this contact is the same person as.
    fn find(&self, k: &Keys, ranks: &[u64], rank: usize) -> Option<usize> {
        let free = |at: &usize| ranks[*at] & rank_bit(rank) == 0;
        if let Some(at) =
            k.id.as_ref()
                .and_then(|id| self.ids.get(id))
                .filter(|a| free(a))
        {
            return Some(*at);
        }
        if let Some(at) = k
            .numbers()
            .iter()
            .filter_map(|n| self.numbers.get(n))
            .find(|a| free(a))
        {
            return Some(*at);
        }
        k.mail
            .as_ref()
            .and_then(|m| self.mails.get(m))
            .filter(|a| free(a))
            .copied()
    }

    fn add(&mut self, k: Keys, at: usize) {
        if let Some(id) = k.id {
            self.ids.entry(id).or_insert(at);
        }
        for n in k.numbers() {
            self.numbers.entry(*n).or_insert(at);
        }
        if let Some(m) = k.mail {
            self.mails.entry(m).or_insert(at);
        }
    }
}

/// Fills `into`'s empty fields from `from`; returns the fields that disagree.
fn fill(into: &mut Contact, from: &Contact, rules: &NumberRules) -> Vec<&'static str> {
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
    for (name, mine, theirs) in fields {
        if mine.trim().is_empty() {
            mine.clone_from(theirs);
        } else if !theirs.trim().is_empty() && !mine.trim().eq_ignore_ascii_case(theirs.trim()) {
            conflicts.push(name);
        }
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
pub fn merge(mut sources: Vec<Source>, rules: &NumberRules) -> (Vec<ServedContact>, MergeStats) {
    sources.sort_by_key(|s| s.priority);
    let total: usize = sources.iter().map(|s| s.contacts.len()).sum();
    let mut stats = MergeStats::default();
    let mut entries: Vec<ServedContact> = Vec::with_capacity(total);
    let mut ranks: Vec<u64> = Vec::with_capacity(total);
    let mut index = Index::default();
    // Every source's keys but the last one's.
    let indexed = total - sources.last().map_or(0, |s| s.contacts.len());
    index.ids.reserve(indexed);
    index.numbers.reserve(indexed * 2);
    index.mails.reserve(indexed);
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
            let k = k.without_shared(&shared);
            match index.find(&k, &ranks, rank) {
                Some(at) => {
                    let entry = &mut entries[at];
                    let differ = fill(&mut entry.contact, &contact, rules);
                    ranks[at] |= rank_bit(rank);
                    stats.duplicates += 1;
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
                    if !last {
                        index.add(k, at);
                    }
                }
                None => {
                    count.served += 1;
                    if !last {
                        index.add(k, entries.len());
                    }
                    entries.push(ServedContact {
                        uid: uid(&source.name, &contact.id),
                        source: source.name.clone(),
                        contact,
                    });
                    ranks.push(rank_bit(rank));
                }
            }
        }
        stats.sources.push(count);
    }
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
    (entries, stats)
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

/// Counts what a new generation adds, changes and removes compared with the previous one.
pub fn changes(previous: &Fingerprints, next: &[ServedContact]) -> Changes {
    let mut changes = Changes::default();
    let mut seen = 0;
    for s in next.chunks(super::WARM_CONTACTS).flat_map(|batch| {
        super::warm_contacts(batch);
        batch
    }) {
        let (uid, content) = fingerprint(s);
        match previous.get(&uid) {
            None => changes.added += 1,
            Some(old) => {
                seen += 1;
                if *old != content {
                    changes.updated += 1;
                }
            }
        }
    }
    changes.removed = previous.len().saturating_sub(seen);
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contacts::{Phone, PhoneKind};

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
    fn number_keys_match_the_canonical_form() {
        let german = NumberRules {
            country_code: Some("49".into()),
            trunk_prefix: Some("0".into()),
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
        for rules in [&german, &NumberRules::default()] {
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
        let (served, _) = merge(
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
            &NumberRules::default(),
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
        let (served, stats) = merge(
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
            &NumberRules::default(),
        );
        let uids: Vec<&str> = served.iter().map(|s| s.uid.as_str()).collect();
        assert_eq!(uids, ["int-1", "int-2", "int-3", "ext-c", "ext-d", "ext-e"]);
        let ada = &served[0].contact;
        assert_eq!(ada.surname, "King", "the preferred source wins");
        assert_eq!(ada.company, "Analytical Engines", "gaps are filled");
        assert_eq!(ada.title, "Programmer");
        assert_eq!(ada.phones.len(), 1);
        assert_eq!(stats.duplicates, 2);
        assert_eq!(stats.conflicts, 3, "surname, title, work number: {stats:?}");
        assert_eq!(stats.sources[0].name, "int");
        assert_eq!((stats.sources[1].contacts, stats.sources[1].served), (5, 3));
        assert!(stats.conflict_examples[0].contains("from int kept over ext"));
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
        let (served, stats) = merge(
            vec![
                source(
                    "int",
                    0,
                    vec![person("1", "Bob", "Builder", "+49 30 1", "")],
                ),
                source("ext", 1, vec![ada]),
                source("dir", 2, vec![person("x", "", "", "+44-20-7946-0001", "")]),
            ],
            &NumberRules::default(),
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
        let (served, stats) = merge(
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
            &NumberRules::default(),
        );
        assert_eq!(served.len(), 1);
        assert_eq!(stats.duplicates, 1);
        assert_eq!(served[0].contact.email, "other@example.org");
    }

    #[test]
    fn changes_count_added_updated_removed() {
        let rules = NumberRules::default();
        let (a, _) = merge(
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
        let (b, _) = merge(
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
            Changes {
                added: 1,
                updated: 1,
                removed: 1
            }
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
        let (served, _) = merge(
            vec![Source {
                name: "ext".into(),
                priority: 0,
                contacts,
            }],
            &NumberRules::default(),
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
