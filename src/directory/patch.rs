//! A directory made from the one served, when a merge changed few of its entries:
//! the entries that stay are copied as they are (not normalised again), their
//! places in the index lists move with them, and only the new and changed entries
//! are normalised and indexed. At a million entries, that is a fraction of a
//! second's work where building takes several seconds of every core.
//!
//! A patched directory serves what one built from its generation serves (the
//! tests compare them search by search); only the bitmaps of dense keys may hold a
//! few blocks more (`GramIndex::patch`), so after `MAX_PATCHES` patches in a row
//! the directory is built whole again.

use super::Generation;
use super::index::{GONE, Numbers, merge_into_iter};
use super::served::{Builder, Directory};
use std::ops::Range;

/// A patch is made when at most one contact in this many is new or changed, and
/// at most one entry in this many of the directory before is gone or changed.
const SHARE: usize = 16;

/// Patches in a row before the directory is built whole again.
pub const MAX_PATCHES: u32 = 16;

/// Whether a patch can pay for a generation of `entries` contacts of which
/// `changed` are new or changed (the entries gone are counted once known).
pub fn pays(entries: usize, changed: usize) -> bool {
    changed <= entries / SHARE
}

/// What the new directory is made of, in its order.
enum Piece {
    /// Entries of the old directory that stay, one after the other.
    Stay(Range<u32>),
    /// A contact of the generation that is new or changed.
    Fresh(usize),
}

/// The directory of `generation`, made from `old`, the directory of the
/// generation before it; `fresh` are the positions of the contacts that are new
/// or changed since (`merge::changes`), ascending. None when building pays
/// better: many changes, many patches in a row, or contacts that do not stay in
/// the order they had.
pub fn patch(old: &Directory, generation: &Generation, fresh: &[u32]) -> Option<Directory> {
    let contacts = &generation.contacts;
    let (n, m) = (old.len(), contacts.len());
    let most = n / SHARE;
    if old.patched >= MAX_PATCHES || !pays(m, fresh.len()) || !fresh.is_sorted() {
        return None;
    }
    // Each staying contact is the next old entry with its uid (uids are unique in
    // a generation): the entries between are gone, or changed.
    let mut moved = vec![GONE; n];
    let mut pieces = Vec::new();
    let mut fresh_at = fresh.iter().copied().peekable();
    let (mut j, mut gone) = (0u32, 0usize);
    for (i, c) in contacts.iter().enumerate() {
        if fresh_at.next_if_eq(&(i as u32)).is_some() {
            pieces.push(Piece::Fresh(i));
            continue;
        }
        while (j as usize) < n && old.entry(j).uid() != c.uid {
            j += 1;
            gone += 1;
            if gone > most {
                return None;
            }
        }
        if j as usize == n {
            return None;
        }
        moved[j as usize] = i as u32;
        match pieces.last_mut() {
            Some(Piece::Stay(r)) if r.end == j => r.end += 1,
            _ => pieces.push(Piece::Stay(j..j + 1)),
        }
        j += 1;
    }
    if fresh_at.next().is_some() || gone + (n - j as usize) > most {
        return None;
    }
    let mut b = Builder::new(generation.number, &old.base_dn, &old.rules);
    b.reserve_like(old, fresh.len());
    for piece in pieces {
        match piece {
            Piece::Stay(ids) => b.copy_run(old, ids),
            Piece::Fresh(i) => b.push(&contacts[i]),
        }
    }
    let mut dir = b.unindexed();
    dir.patched = old.patched + 1;
    let (mut keys, mut numbers, mut uids) = (Vec::new(), Vec::new(), Vec::new());
    for &id in fresh {
        dir.entry_keys(id, &mut |key| keys.push((key, id)));
        dir.entry_number_keys(id, &mut numbers);
        uids.push((dir.uid_hash(id), id));
    }
    keys.sort_unstable();
    keys.dedup();
    dir.by_uid = moved_pairs(old.by_uid.iter().copied(), &moved, uids);
    let old_numbers = old
        .numbers
        .keys
        .iter()
        .copied()
        .zip(old.numbers.ids.iter().copied());
    let (number_keys, number_ids) = moved_pairs(old_numbers, &moved, numbers)
        .into_iter()
        .unzip();
    dir.numbers = Numbers {
        keys: number_keys,
        ids: number_ids,
    };
    dir.index = old.index.patch(&moved, &keys, fresh, m as u32);
    Some(dir)
}

/// Sorted (key, entry) pairs of the old directory, with their entries moved and
/// those gone left out, and the new entries' pairs among them.
fn moved_pairs(
    old: impl Iterator<Item = (u64, u32)>,
    moved: &[u32],
    mut fresh: Vec<(u64, u32)>,
) -> Vec<(u64, u32)> {
    fresh.sort_unstable();
    fresh.dedup();
    let mut out = Vec::with_capacity(old.size_hint().0 + fresh.len());
    let staying = old
        .map(|(key, id)| (key, moved[id as usize]))
        .filter(|(_, id)| *id != GONE);
    merge_into_iter(&mut out, staying, fresh.into_iter());
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::directory::index::Posting;
    use crate::directory::merge::{self, Fingerprints};
    use crate::directory::{MatchRules, ServedContact};
    use std::collections::HashMap;

    fn served(contacts: Vec<crate::contacts::Contact>, prefix: &str) -> Vec<ServedContact> {
        contacts
            .into_iter()
            .map(|mut contact| {
                contact.id = format!("{prefix}{}", contact.id);
                ServedContact {
                    uid: merge::uid("t", &contact.id),
                    source: "t".into(),
                    contact,
                }
            })
            .collect()
    }

    fn generation(number: u64, contacts: Vec<ServedContact>) -> Generation {
        Generation {
            number,
            created: 0,
            contacts,
        }
    }

    /// What `merge::changes` says of `next` against `previous`.
    fn fresh(previous: &Generation, next: &Generation) -> Vec<u32> {
        let mut f = Fingerprints::default();
        for s in &previous.contacts {
            let (uid, content) = merge::fingerprint(s);
            f.insert(uid, content);
        }
        merge::changes(&f, &next.contacts).1
    }

    /// A generation changed the ways merges change one: contacts changed where they
    /// are (first, last, at block edges, elsewhere), a photo added, gone, new ones
    /// first, in between and last, one renamed to another place.
    fn changed(g: &Generation, number: u64, seed: u64) -> Generation {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut contacts = g.contacts.clone();
        let len = contacts.len();
        let edit = |i: usize, contacts: &mut Vec<ServedContact>, rng: &mut fastrand::Rng| {
            let c = &mut contacts[i].contact;
            match rng.u8(0..4) {
                0 => c.surname = format!("{}son", c.surname),
                1 => c.phones.truncate(1),
                2 => c.photo = vec![0xff, 0xd8, rng.u8(..)],
                _ => c.street = format!("Ring {}", rng.u32(1..99)),
            }
        };
        for i in [0, 31, 32, 33, 63, 64, len / 2, len - 1] {
            edit(i, &mut contacts, &mut rng);
        }
        for _ in 0..20 {
            let i = rng.usize(0..contacts.len());
            edit(i, &mut contacts, &mut rng);
        }
        let mut moved = contacts.remove(len / 3);
        moved.contact.given_name = "Zoe".into();
        contacts.insert(len / 5, moved);
        for i in [len - 3, 100, 101, 102, 5] {
            contacts.remove(i);
        }
        let mut new = served(
            crate::bench::phonebook::generate(12, seed),
            &format!("n{seed}-"),
        );
        new[3].contact.photo = vec![1, 2, 3];
        let last = new.pop().unwrap();
        contacts.insert(0, new.pop().unwrap());
        for s in new {
            let at = rng.usize(0..contacts.len());
            contacts.insert(at, s);
        }
        contacts.push(last);
        generation(number, contacts)
    }

    /// Every key of every entry of `dir`, with its entries, ascending.
    fn holders(dir: &Directory) -> HashMap<u64, Vec<u32>> {
        let mut out: HashMap<u64, Vec<u32>> = HashMap::new();
        for id in 0..dir.len() as u32 {
            dir.entry_keys(id, &mut |key| {
                let ids = out.entry(key).or_default();
                if ids.last() != Some(&id) {
                    ids.push(id);
                }
            });
        }
        out
    }

    /// `patched` serves what `built` (the same generation, built) serves: the
    /// same entries, lookups by uid and number, and index lists; its dense keys'
    /// bitmaps hold at least every block with a holder.
    fn assert_serves_as(patched: &Directory, built: &Directory) {
        assert_eq!(patched.len(), built.len());
        assert_eq!(patched.generation, built.generation);
        assert_eq!(patched.text, built.text);
        assert_eq!(patched.blobs, built.blobs);
        assert_eq!(patched.values, built.values);
        assert_eq!(patched.heads, built.heads);
        assert_eq!(patched.by_uid, built.by_uid);
        assert_eq!(patched.numbers.keys, built.numbers.keys);
        assert_eq!(patched.numbers.ids, built.numbers.ids);
        let entries = built.len() as u32;
        let all = holders(built);
        for (key, ids) in &all {
            match patched.index.get(*key) {
                Posting::List(list) => assert_eq!(list, ids.as_slice(), "{key:x}"),
                Posting::Without { ids: lacking } => {
                    let without: Vec<u32> = (0..entries).filter(|id| !ids.contains(id)).collect();
                    assert_eq!(lacking, without.as_slice(), "{key:x}");
                }
                Posting::Dense { blocks } => {
                    assert_eq!(blocks.len(), entries.div_ceil(32 * 32) as usize);
                    for id in ids {
                        let block = id / 32;
                        assert!(blocks[(block / 32) as usize] & 1 << (block % 32) != 0);
                    }
                }
                Posting::Empty => assert!(ids.is_empty(), "{key:x}: {} hold it", ids.len()),
            }
        }
        // A key no entry holds any more is gone, or dense with no holder to find.
        for key in &patched.index.keys {
            if !all.contains_key(key) {
                assert!(matches!(patched.index.get(*key), Posting::Dense { .. }));
            }
        }
        for case in crate::bench::shapes::matrix(built, 11, 2) {
            let filter = crate::directory::lookup::parse(&case.filter, built).unwrap();
            let found: Vec<u32> = patched.search(&filter).collect();
            assert_eq!(
                found,
                built.search(&filter).collect::<Vec<_>>(),
                "{}",
                case.filter
            );
        }
    }

    #[test]
    fn a_patched_directory_serves_what_a_built_one_serves() {
        let rules = MatchRules {
            country_code: Some("49".into()),
            trunk_prefix: Some("0".into()),
            ..MatchRules::default()
        };
        let first = generation(1, served(crate::bench::phonebook::generate(6_000, 5), ""));
        let mut dir = Directory::build(&first, "dc=x", &rules);
        let mut previous = first;
        // Patched from a patched one too.
        for number in 2..5 {
            let next = changed(&previous, number, number);
            let fresh = fresh(&previous, &next);
            assert!(fresh.len() > 30, "{}", fresh.len());
            let patched = patch(&dir, &next, &fresh).expect("a few changes are patched");
            assert_eq!(patched.patched, number as u32 - 1);
            assert_serves_as(&patched, &Directory::build(&next, "dc=x", &rules));
            (dir, previous) = (patched, next);
        }
    }

    #[test]
    fn many_changes_or_patches_or_another_order_are_built() {
        let rules = MatchRules::default();
        let first = generation(1, served(crate::bench::phonebook::generate(2_000, 8), ""));
        let dir = Directory::build(&first, "dc=x", &rules);
        let mut next = first.clone();
        next.number = 2;
        // Two contacts that stay swap places.
        next.contacts.swap(10, 20);
        assert!(fresh(&first, &next).is_empty());
        assert!(patch(&dir, &next, &[]).is_none());
        // More than one in 16 changed.
        let mut next = first.clone();
        for s in next.contacts.iter_mut().step_by(15) {
            s.contact.title = "Boss".into();
        }
        assert!(patch(&dir, &next, &fresh(&first, &next)).is_none());
        // One in 20 changed where they are: each counted once.
        let mut next = first.clone();
        next.number = 2;
        for s in next.contacts.iter_mut().step_by(20) {
            s.contact.title = "Boss".into();
        }
        let patched = patch(&dir, &next, &fresh(&first, &next)).unwrap();
        assert_serves_as(&patched, &Directory::build(&next, "dc=x", &rules));
        // Gone, as many.
        let mut next = first.clone();
        next.contacts.drain(100..240);
        assert!(patch(&dir, &next, &fresh(&first, &next)).is_none());
        next.contacts = first.contacts[..1_900].to_vec();
        let patched = patch(&dir, &next, &[]).unwrap();
        assert_serves_as(&patched, &Directory::build(&next, "dc=x", &rules));
        let mut tired = patched;
        tired.patched = MAX_PATCHES;
        assert!(patch(&tired, &next, &[]).is_none());
    }
}
