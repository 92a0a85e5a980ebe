//! The n-gram index: for each bigram and trigram of the normalised names and numbers,
//! the ascending ids of the entries holding it; and, for what phones send most, the
//! first two and three characters of each value as grams of their own, so that a
//! prefix search does not have to check every entry that merely contains its letters.
//!
//! Grams are hashed into a fixed number of buckets (so the index needs no hash map,
//! and is built with two counting passes rather than a sort); two grams sharing a
//! bucket only widen a candidate list. The index only ever narrows a search: every
//! candidate is checked against the whole filter.

/// Lists of entry ids per bucket, laid out one after the other (CSR).
pub struct GramIndex {
    bits: u32,
    /// `offsets[b]..offsets[b + 1]` are bucket b's ids in `ids`.
    offsets: Vec<u32>,
    ids: Vec<u32>,
}

fn hash(chars: &[char]) -> u32 {
    // Multiply-xorshift of the code points; the length tells bigrams from trigrams.
    let mut h = 0x9e37_79b9u32.wrapping_mul(chars.len() as u32 + 1);
    for c in chars {
        h = (h ^ *c as u32).wrapping_mul(0x85eb_ca6b);
        h ^= h >> 13;
    }
    h.wrapping_mul(0xc2b2_ae35)
}

impl GramIndex {
    /// Buckets for `entries` entries: about 16 per entry, between 2^12 and 2^22.
    fn bits_for(entries: usize) -> u32 {
        let want = (entries.max(1) * 16).next_power_of_two().trailing_zeros();
        want.clamp(12, 22)
    }

    fn bucket(&self, chars: &[char]) -> usize {
        (hash(chars) >> (32 - self.bits)) as usize
    }

    /// Builds the index of `entries` entries; `grams(id, strings)` pushes the
    /// normalised strings of an entry to index.
    pub fn build(
        entries: usize,
        mut strings_of: impl FnMut(u32, &mut Vec<char>, &mut dyn FnMut(&[char])),
    ) -> GramIndex {
        let bits = Self::bits_for(entries);
        let mut index = GramIndex {
            bits,
            offsets: vec![0; (1usize << bits) + 1],
            ids: Vec::new(),
        };
        let mut buckets: Vec<u32> = Vec::with_capacity(256);
        let mut chars: Vec<char> = Vec::with_capacity(64);
        // Pass 1: count each entry once per bucket.
        for id in 0..entries as u32 {
            index.entry_buckets(id, &mut strings_of, &mut chars, &mut buckets);
            for b in &buckets {
                index.offsets[*b as usize + 1] += 1;
            }
        }
        for b in 1..index.offsets.len() {
            index.offsets[b] += index.offsets[b - 1];
        }
        let total = index.offsets[index.offsets.len() - 1] as usize;
        index.ids = vec![0; total];
        // Pass 2: fill; ids come in ascending order, so every list is sorted.
        let mut next: Vec<u32> = index.offsets[..index.offsets.len() - 1].to_vec();
        for id in 0..entries as u32 {
            index.entry_buckets(id, &mut strings_of, &mut chars, &mut buckets);
            for b in &buckets {
                let slot = &mut next[*b as usize];
                index.ids[*slot as usize] = id;
                *slot += 1;
            }
        }
        index
    }

    fn entry_buckets(
        &self,
        id: u32,
        strings_of: &mut impl FnMut(u32, &mut Vec<char>, &mut dyn FnMut(&[char])),
        chars: &mut Vec<char>,
        buckets: &mut Vec<u32>,
    ) {
        buckets.clear();
        let mut add = |s: &[char]| {
            for w in s.windows(2) {
                buckets.push(self.bucket(w) as u32);
            }
            for w in s.windows(3) {
                buckets.push(self.bucket(w) as u32);
            }
            for n in [2, 3] {
                if let Some(head) = s.get(..n) {
                    buckets.push(self.bucket(&anchored(head)) as u32);
                }
            }
        };
        strings_of(id, chars, &mut add);
        buckets.sort_unstable();
        buckets.dedup();
    }

    /// The candidate lists for an assertion string: one per trigram (per bigram for a
    /// two-character string). `None` when the string is too short to narrow anything.
    pub fn lists(&self, s: &str) -> Option<Vec<&[u32]>> {
        let chars: Vec<char> = s.chars().collect();
        let n = if chars.len() >= 3 { 3 } else { 2 };
        if chars.len() < n {
            return None;
        }
        Some(
            chars
                .windows(n)
                .map(|w| {
                    let b = self.bucket(w);
                    &self.ids[self.offsets[b] as usize..self.offsets[b + 1] as usize]
                })
                .collect(),
        )
    }

    /// Like `lists`, plus the list of values starting with `s` (its first two or
    /// three characters), which narrows prefix searches the most.
    pub fn prefix_lists(&self, s: &str) -> Option<Vec<&[u32]>> {
        let mut lists = self.lists(s)?;
        let chars: Vec<char> = s.chars().take(3).collect();
        let b = self.bucket(&anchored(&chars));
        lists.push(&self.ids[self.offsets[b] as usize..self.offsets[b + 1] as usize]);
        Some(lists)
    }

    pub fn bytes(&self) -> usize {
        (self.offsets.len() + self.ids.len()) * 4
    }
}

/// Marks the start of a value: no normalised text holds this character.
const START: char = '\u{1}';

fn anchored(head: &[char]) -> Vec<char> {
    let mut v = Vec::with_capacity(head.len() + 1);
    v.push(START);
    v.extend_from_slice(head);
    v
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
        let index = GramIndex::build(names.len(), |id, chars, add| {
            chars.clear();
            chars.extend(names[id as usize].chars());
            add(chars);
        });
        let lists = index.lists("lov").unwrap();
        assert!(lists.iter().all(|l| l.contains(&1)));
        assert!(index.lists("a").is_none());
        assert!(index.lists("ur").unwrap()[0].contains(&0));
    }
}
