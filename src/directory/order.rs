//! The directory in the order of sort keys, for server-side sorting (RFC 2891) and
//! virtual list views: every entry sorted once per generation and per set of keys,
//! then any window or any subset of it in that order without sorting again.
//!
//! An entry sorts by the least of its values of each key's attribute, as they are
//! normalised for matching (RFC 2891 2.2, as OpenLDAP's sssvlv); an entry without
//! the attribute sorts after those with it (before them when the key is reversed);
//! entries equal on every key keep the order they are served in.

use super::filter::Filter;
use super::schema::Attr;
use super::served::Directory;
use std::cmp::Ordering;
use std::sync::{Arc, Mutex};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SortKey {
    pub attr: Attr,
    pub reverse: bool,
}

/// Every entry of a directory in the order of some sort keys.
pub struct Order {
    keys: Vec<SortKey>,
    /// Entry ids, in order.
    ids: Vec<u32>,
    /// For each entry id, its position in `ids`.
    rank: Vec<u32>,
}

/// How many orders a directory keeps: a client asking for many different keys
/// costs sorting again, not memory.
const KEPT: usize = 4;

/// From how many entries sorting a subset sorts the whole directory once instead
/// (and keeps it): a tenth of a second for 100,000 entries.
const SORT_WHOLE_FROM: usize = 20_000;

/// The orders computed for one directory, newest last.
#[derive(Default)]
pub struct Orders(Mutex<Vec<Arc<Order>>>);

impl Order {
    pub fn ids(&self) -> &[u32] {
        &self.ids
    }

    /// Puts `ids` (entries of the same directory) in this order.
    pub fn sort(&self, ids: &mut [u32]) {
        ids.sort_unstable_by_key(|id| self.rank.get(*id as usize).copied());
    }
}

/// The entries that match a filter, in the order of some sort keys.
#[derive(Clone)]
pub enum View {
    /// Every entry of the directory: its kept order.
    Whole(Arc<Order>),
    /// Some entries, sorted.
    Some(Arc<[u32]>),
}

impl View {
    pub fn ids(&self) -> &[u32] {
        match self {
            View::Whole(order) => order.ids(),
            View::Some(ids) => ids,
        }
    }
}

impl Directory {
    /// The entries that match `filter`, in the order of `keys`; None when more
    /// than `max` match and it is not the whole directory (whose order is kept
    /// once, where a view of some entries is sorted for its caller).
    pub fn view(&self, filter: &Filter, keys: &[SortKey], max: usize) -> Option<View> {
        if self.matches_every_entry(filter) {
            return Some(View::Whole(self.order(keys)));
        }
        let mut ids: Vec<u32> = self.search(filter).take(max.saturating_add(1)).collect();
        if ids.len() > max {
            return None;
        }
        self.sort_ids(keys, &mut ids);
        Some(View::Some(ids.into()))
    }

    /// The value an entry sorts by for `attr`: its least normalised value. Object
    /// classes and photos are not sort keys: they sort as absent.
    pub fn sort_value(&self, id: u32, attr: Attr) -> Option<&str> {
        if attr == Attr::ObjectClass || attr.is_binary() {
            return None;
        }
        self.entry(id).norms(attr).min()
    }

    /// Orders two entries by `keys`, then by their place in the directory.
    pub fn compare(&self, keys: &[SortKey], a: u32, b: u32) -> Ordering {
        keys.iter()
            .map(|k| compare_values(self.sort_value(a, k.attr), self.sort_value(b, k.attr), k))
            .find(|o| o.is_ne())
            .unwrap_or_else(|| a.cmp(&b))
    }

    /// Every entry in the order of `keys`: sorted on first use, then kept with
    /// this directory.
    pub fn order(&self, keys: &[SortKey]) -> Arc<Order> {
        if let Some(found) = self.kept_order(keys) {
            return found;
        }
        let mut ids: Vec<u32> = (0..self.len() as u32).collect();
        self.sort_by_values(keys, &mut ids);
        let mut rank = vec![0; ids.len()];
        for (at, id) in ids.iter().enumerate() {
            rank[*id as usize] = at as u32;
        }
        let order = Arc::new(Order {
            keys: keys.to_vec(),
            ids,
            rank,
        });
        let mut kept = self.orders.0.lock().unwrap_or_else(|e| e.into_inner());
        if !kept.iter().any(|o| o.keys == keys) {
            if kept.len() >= KEPT {
                kept.remove(0);
            }
            kept.push(order.clone());
        }
        order
    }

    fn kept_order(&self, keys: &[SortKey]) -> Option<Arc<Order>> {
        let kept = self.orders.0.lock().unwrap_or_else(|e| e.into_inner());
        kept.iter().find(|o| o.keys == keys).cloned()
    }

    /// Puts some entries in the order of `keys`: by the kept order when there is
    /// one, or when they are many (the order is then kept for the next time).
    pub fn sort_ids(&self, keys: &[SortKey], ids: &mut [u32]) {
        match self.kept_order(keys) {
            Some(order) => order.sort(ids),
            None if ids.len() >= SORT_WHOLE_FROM && ids.len() >= self.len() / 8 => {
                self.order(keys).sort(ids);
            }
            None => self.sort_by_values(keys, ids),
        }
    }

    fn sort_by_values(&self, keys: &[SortKey], ids: &mut [u32]) {
        // Every key's value is read once, before sorting (the entries' values are
        // spread over memory, and names share their first key often).
        let k = keys.len();
        let values: Vec<Option<&str>> = ids
            .iter()
            .flat_map(|id| keys.iter().map(|key| self.sort_value(*id, key.attr)))
            .collect();
        let mut at: Vec<u32> = (0..ids.len() as u32).collect();
        at.sort_unstable_by(|a, b| {
            let (a, b) = (*a as usize, *b as usize);
            let x = &values[a * k..a * k + k];
            let y = &values[b * k..b * k + k];
            x.iter()
                .zip(y)
                .zip(keys)
                .map(|((x, y), key)| compare_values(*x, *y, key))
                .find(|o| o.is_ne())
                .unwrap_or_else(|| ids[a].cmp(&ids[b]))
        });
        let sorted: Vec<u32> = at.iter().map(|a| ids[*a as usize]).collect();
        ids.copy_from_slice(&sorted);
    }

    /// The first place in `view` (entries in the order of `keys`) whose value of the
    /// first key comes at or after `value` in that order (`value` as a client typed
    /// it: it is normalised here); `view.len()` when none does.
    pub fn position_of(&self, keys: &[SortKey], view: &[u32], value: &str) -> usize {
        let Some(first) = keys.first() else {
            return 0;
        };
        let mut norm = super::matching::normalize(first.attr.rule(), value);
        if super::filter::folds(first.attr, self.rules()) {
            norm = super::matching::fold_accents(&norm);
        }
        view.partition_point(|id| {
            compare_values(self.sort_value(*id, first.attr), Some(&norm), first).is_lt()
        })
    }
}

/// Two values of one key; absent sorts last, and a reversed key reverses both.
fn compare_values(x: Option<&str>, y: Option<&str>, key: &SortKey) -> Ordering {
    let o = match (x, y) {
        (Some(x), Some(y)) => x.cmp(y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    };
    if key.reverse { o.reverse() } else { o }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn key(name: &str, reverse: bool) -> SortKey {
        SortKey {
            attr: Attr::from_name(name).unwrap(),
            reverse,
        }
    }

    #[test]
    fn an_order_is_the_sort_of_every_entry_and_subsets_keep_it() {
        let dir = crate::bench::phonebook::directory(2_000, 7);
        for keys in [
            vec![key("sn", false), key("givenName", false)],
            vec![key("telephoneNumber", true)],
            vec![key("mobile", false), key("cn", true)],
        ] {
            let order = dir.order(&keys);
            assert_eq!(order.ids().len(), 2_000);
            for pair in order.ids().windows(2) {
                assert!(dir.compare(&keys, pair[0], pair[1]).is_lt(), "{keys:?}");
            }
            // A subset sorted by rank is the subset in the same order.
            let mut some: Vec<u32> = (0..2_000).rev().filter(|id| id % 7 == 0).collect();
            order.sort(&mut some);
            let expected: Vec<u32> = order
                .ids()
                .iter()
                .copied()
                .filter(|id| id % 7 == 0)
                .collect();
            assert_eq!(some, expected);
            // The same keys give the same order, without sorting again.
            assert!(Arc::ptr_eq(&order, &dir.order(&keys)));
        }
    }

    #[test]
    fn a_value_is_found_where_it_would_sort() {
        let dir = crate::bench::phonebook::directory(2_000, 7);
        let keys = [key("sn", false)];
        let order = dir.order(&keys);
        let ids = order.ids();
        let some = dir.sort_value(ids[700], Attr::Sn).unwrap().to_string();
        let at = dir.position_of(&keys, ids, &some.to_uppercase());
        assert_eq!(dir.sort_value(ids[at], Attr::Sn), Some(some.as_str()));
        assert!(at == 0 || dir.sort_value(ids[at - 1], Attr::Sn).unwrap() < some.as_str());
        assert_eq!(dir.position_of(&keys, ids, "\u{10ffff}"), 2_000);
        assert_eq!(dir.position_of(&keys, ids, ""), 0);
    }
}
