//! The n-gram index: for each bigram and trigram of the normalised names and numbers,
//! the ascending ids of the entries holding it; and, for what phones send most, the
//! first two and three characters of each value as grams of their own, so that a
//! prefix search does not have to check every entry that merely contains its letters.
//!
//! Grams are hashed into a fixed number of buckets (so the index needs no hash map,
//! and is built with two counting passes rather than a sort); two grams sharing a
//! bucket only widen a candidate list. The index only ever narrows a search: every
//! candidate is checked against the whole filter.

use std::sync::atomic::{AtomicU32, Ordering};

/// Lists of entry ids per bucket, laid out one after the other (CSR).
pub struct GramIndex {
    pub(super) bits: u32,
    /// `offsets[b]..offsets[b + 1]` are bucket b's ids in `ids`.
    pub(super) offsets: Vec<u32>,
    pub(super) ids: Vec<u32>,
}

/// A gram of up to three bytes of normalised UTF-8 (grams are taken on bytes: a
/// substring of a value is a substring of its bytes too), with its length and
/// whether it is anchored at the start of a value.
#[inline]
fn key(gram: &[u8], anchored: bool) -> u32 {
    let mut k = (gram.len() as u32) << 24 | u32::from(anchored) << 27;
    for (i, b) in gram.iter().enumerate() {
        k |= u32::from(*b) << (8 * i);
    }
    k
}

#[inline]
fn bucket(bits: u32, key: u32) -> usize {
    (key.wrapping_mul(0x9e37_79b1) >> (32 - bits)) as usize
}

/// Calls `f` with the bucket of every gram of an entry (repeats included).
fn each_bucket(
    bits: u32,
    id: u32,
    strings_of: &impl Fn(u32, &mut dyn FnMut(&[u8], bool)),
    mut f: impl FnMut(usize),
) {
    let mut add = |s: &[u8], start_only: bool| {
        if !start_only {
            for w in s.windows(2) {
                f(bucket(bits, key(w, false)));
            }
            for w in s.windows(3) {
                f(bucket(bits, key(w, false)));
            }
        }
        for n in [2, 3] {
            if let Some(head) = s.get(..n) {
                f(bucket(bits, key(head, true)));
            }
        }
    };
    strings_of(id, &mut add);
}

/// Calls `first(id, &mut state[b].1)` once for each bucket `b` an entry `id` of
/// `range` has a gram in; `state[b].0` is the entry that last had bucket b.
fn each_first(
    bits: u32,
    range: std::ops::Range<u32>,
    strings_of: &(impl Fn(u32, &mut dyn FnMut(&[u8], bool)) + Sync),
    state: &mut [(u32, u32)],
    mut first: impl FnMut(u32, &mut u32),
) {
    let mut buckets = Vec::with_capacity(256);
    for id in range {
        buckets.clear();
        each_bucket(bits, id, strings_of, |b| buckets.push(b));
        // Every bucket's state read first, with no read waiting for another: their
        // cache misses overlap instead of following one another.
        let sum = buckets
            .iter()
            .fold(0u32, |sum, b| sum.wrapping_add(state[*b].1));
        std::hint::black_box(sum);
        for b in &buckets {
            let s = &mut state[*b];
            if s.0 != id {
                s.0 = id;
                first(id, &mut s.1);
            }
        }
    }
}

/// For each bucket, how many entries of `range` have a gram in it.
fn count(
    bits: u32,
    range: std::ops::Range<u32>,
    strings_of: &(impl Fn(u32, &mut dyn FnMut(&[u8], bool)) + Sync),
) -> Vec<u32> {
    // Per bucket, side by side so that a gram costs one cache miss: the entry that
    // last had it, and the count.
    let mut state = vec![(u32::MAX, 0u32); 1usize << bits];
    each_first(bits, range, strings_of, &mut state, |_, n| *n += 1);
    state.into_iter().map(|(_, n)| n).collect()
}

/// Writes the ids of the entries in `range` into their buckets' lists: `starts[b]`
/// is where in `ids` the part of bucket b's list that these entries fill begins.
/// Ids come in ascending order: lists are sorted. Threads filling other parts of
/// the same lists write other places of `ids`.
fn fill(
    bits: u32,
    range: std::ops::Range<u32>,
    strings_of: &(impl Fn(u32, &mut dyn FnMut(&[u8], bool)) + Sync),
    starts: impl Iterator<Item = u32>,
    ids: &[AtomicU32],
) {
    // Per bucket: the entry that last had it, and where its next id goes.
    let mut state: Vec<(u32, u32)> = starts.map(|at| (u32::MAX, at)).collect();
    debug_assert_eq!(state.len(), 1usize << bits);
    each_first(bits, range, strings_of, &mut state, |id, at| {
        ids[*at as usize].store(id, Ordering::Relaxed);
        *at += 1;
    });
}

impl GramIndex {
    /// Buckets for `entries` entries: sixteen per entry, between 2^12 and 2^20.
    /// The number of distinct grams is bounded by the names and digits people use
    /// (some tens of thousands), not by the number of entries: 2^20 buckets keep
    /// collisions rare (a rare gram sharing a bucket with a common one would make
    /// its searches check many entries) while the tables stay a few megabytes.
    fn bits_for(entries: usize) -> u32 {
        let want = (entries.max(1) * 16).next_power_of_two().trailing_zeros();
        want.clamp(12, 20)
    }

    #[inline]
    fn bucket(&self, key: u32) -> usize {
        bucket(self.bits, key)
    }

    fn list(&self, bucket: usize) -> &[u32] {
        &self.ids[self.offsets[bucket] as usize..self.offsets[bucket + 1] as usize]
    }

    /// Builds the index of `entries` entries; `strings_of(id, add)` calls `add` with
    /// each normalised string of the entry to index (and whether only its start is
    /// new, its grams being those of a string already added for the entry).
    ///
    /// Two passes over the entries, each on two threads taking half of the entries:
    /// counting, then filling (each thread its own part of every list). No
    /// temporary copy of the grams.
    pub fn build(
        entries: usize,
        strings_of: impl Fn(u32, &mut dyn FnMut(&[u8], bool)) + Sync,
    ) -> GramIndex {
        let bits = Self::bits_for(entries);
        let buckets = 1usize << bits;
        let mid = (entries / 2) as u32;
        let end = entries as u32;
        let (low, high) = std::thread::scope(|scope| {
            let worker = scope.spawn(|| count(bits, 0..mid, &strings_of));
            let high = count(bits, mid..end, &strings_of);
            let low = worker
                .join()
                .unwrap_or_else(|_| count(bits, 0..mid, &strings_of));
            (low, high)
        });
        let mut offsets = Vec::with_capacity(buckets + 1);
        let mut total = 0u32;
        for (a, b) in low.iter().zip(&high) {
            offsets.push(total);
            total += a + b;
        }
        offsets.push(total);
        // Each bucket's list: the ids of the first half of the entries, then those of
        // the second; each thread fills its half of every list. Relaxed atomic
        // stores are plain stores; the scope's end orders them before any read.
        let ids: Vec<AtomicU32> = (0..total).map(|_| AtomicU32::new(0)).collect();
        std::thread::scope(|scope| {
            let (strings_of, ids, offsets) = (&strings_of, &ids, &offsets[..buckets]);
            scope.spawn(move || fill(bits, 0..mid, strings_of, offsets.iter().copied(), ids));
            let seconds = offsets.iter().zip(&low).map(|(at, n)| at + n);
            fill(bits, mid..end, strings_of, seconds, ids);
        });
        let ids = ids.into_iter().map(AtomicU32::into_inner).collect();
        GramIndex { bits, offsets, ids }
    }

    /// The candidate lists for an assertion string: one per trigram (per bigram for a
    /// two-byte string). `None` when the string is too short to narrow anything.
    pub fn lists(&self, s: &str) -> Option<Vec<&[u32]>> {
        let bytes = s.as_bytes();
        let n = if bytes.len() >= 3 { 3 } else { 2 };
        if bytes.len() < n {
            return None;
        }
        Some(
            bytes
                .windows(n)
                .map(|w| self.list(self.bucket(key(w, false))))
                .collect(),
        )
    }

    /// The candidate lists for values starting with `s`: the list of values whose
    /// first two or three bytes are those of `s` and, when `s` is longer, the lists
    /// of its trigrams.
    pub fn prefix_lists(&self, s: &str) -> Option<Vec<&[u32]>> {
        let bytes = s.as_bytes();
        if bytes.len() < 2 {
            return None;
        }
        let head = &bytes[..bytes.len().min(3)];
        let mut lists = vec![self.list(self.bucket(key(head, true)))];
        if bytes.len() > 3 {
            lists.extend(self.lists(s)?);
        }
        Some(lists)
    }
}

/// A lazy, ascending sequence of candidate ids that can skip ahead.
pub enum Cursor<'a> {
    All { next: u32, end: u32 },
    List { ids: &'a [u32], pos: usize },
    And(Vec<Cursor<'a>>),
    Or(Vec<(Cursor<'a>, Option<u32>)>),
}

impl Cursor<'_> {
    /// Do two unstarted cursors walk the very same lists?
    pub fn same_lists(&self, other: &Cursor<'_>) -> bool {
        match (self, other) {
            (Cursor::List { ids: a, pos: 0 }, Cursor::List { ids: b, pos: 0 }) => {
                std::ptr::eq(a.as_ptr(), b.as_ptr()) && a.len() == b.len()
            }
            (Cursor::And(a), Cursor::And(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same_lists(y))
            }
            _ => false,
        }
    }

    /// The smallest id >= `min`, if any.
    pub fn seek(&mut self, min: u32) -> Option<u32> {
        match self {
            Cursor::All { next, end } => {
                *next = (*next).max(min);
                (*next < *end).then_some(*next)
            }
            Cursor::List { ids, pos } => {
                // Gallop from the current position, then binary search.
                let rest = &ids[*pos..];
                let mut step = 1;
                while step < rest.len() && rest[step] < min {
                    step *= 2;
                }
                let window = &rest[..rest.len().min(step + 1)];
                *pos += window.partition_point(|id| *id < min);
                ids.get(*pos).copied()
            }
            Cursor::And(parts) => {
                let mut target = min;
                'outer: loop {
                    for part in parts.iter_mut() {
                        let got = part.seek(target)?;
                        if got > target {
                            target = got;
                            continue 'outer;
                        }
                    }
                    return Some(target);
                }
            }
            Cursor::Or(parts) => {
                let mut best: Option<u32> = None;
                for (part, head) in parts.iter_mut() {
                    if head.is_none_or(|h| h < min) {
                        *head = part.seek(min);
                    }
                    if let Some(h) = *head {
                        best = Some(best.map_or(h, |b| b.min(h)));
                    }
                }
                best
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ids(mut c: Cursor<'_>) -> Vec<u32> {
        let mut out = Vec::new();
        let mut at = 0;
        while let Some(id) = c.seek(at) {
            out.push(id);
            at = id + 1;
        }
        out
    }

    #[test]
    fn cursors_intersect_and_unite_in_order() {
        let a = [1, 3, 5, 7, 9, 11];
        let b = [3, 4, 5, 11, 12];
        let and = Cursor::And(vec![
            Cursor::List { ids: &a, pos: 0 },
            Cursor::List { ids: &b, pos: 0 },
        ]);
        assert_eq!(ids(and), vec![3, 5, 11]);
        let or = Cursor::Or(vec![
            (Cursor::List { ids: &a, pos: 0 }, None),
            (Cursor::List { ids: &b, pos: 0 }, None),
        ]);
        assert_eq!(ids(or), vec![1, 3, 4, 5, 7, 9, 11, 12]);
        assert_eq!(ids(Cursor::All { next: 0, end: 3 }), vec![0, 1, 2]);
    }

    #[test]
    fn index_finds_entries_by_gram() {
        let names = ["alan turing", "ada lovelace", "grace hopper"];
        let index = GramIndex::build(names.len(), |id, add| {
            add(names[id as usize].as_bytes(), false)
        });
        let lists = index.lists("lov").unwrap();
        assert!(lists.iter().all(|l| l.contains(&1)));
        assert!(index.lists("a").is_none());
        assert!(index.lists("ur").unwrap()[0].contains(&0));
    }
}
