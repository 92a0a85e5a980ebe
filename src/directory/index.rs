//! The index: for each key, the ascending ids of the entries holding it. A key is
//! an attribute with what a filter asks of it: presence, a short whole value, a
//! gram of one to three bytes anywhere in a value, at its start or at its end, or
//! the phonetic code of a word (approximate match). Every served attribute has its
//! own keys, so that `(sn=ma*)` is not answered from the given names; grams of one
//! to three bytes make what phones type first (one to three characters) exact.
//!
//! Keys are 64-bit hashes, kept whole and sorted, and found through a table of
//! their top bits: every key has a list of its own, and a key that no entry holds
//! is known to be absent, so that a search that finds nothing is answered at once
//! (but for the dense keys of a patched directory, see `GramIndex::patch`).
//! The lists are built with two counting passes rather than a sort.
//!
//! A list is kept only where it narrows a search. A key that fewer than one entry
//! in `DENSE` holds has its list; a key that all but fewer than one in `DENSE` hold
//! has the list of the entries without it (presence of `cn`, the `+` that starts
//! numbers); a key in between has no list but a bitmap of the blocks of `BLOCK`
//! entries that hold it: a search for it checks the entries of those blocks in
//! order and finds a match among every few. Entries are served in name order, so
//! the holders of a key derived from names (a given name's last letter) can be
//! neighbours: the bitmap skips the blocks in between. The starts of values
//! (heads), the most clustered, always have a list, or that of the entries
//! without them.

use std::sync::atomic::{AtomicU32, Ordering};

use super::schema::Attr;

/// What the key asks of an attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Present = 0,
    /// A whole value of at most `WHOLE_MAX` bytes (longer ones: grams).
    Whole = 1,
    Any = 2,
    Head = 3,
    Tail = 4,
    /// The phonetic code of one word.
    Approx = 5,
    /// A number's reverse-lookup form (`Numbers` only).
    Canonical = 6,
}

/// Values up to this many bytes have a key of their own: an equality assertion
/// this short is answered exactly (an extension `201`, a department `IT`).
pub const WHOLE_MAX: usize = 5;

/// Grams are one to this many bytes.
pub const GRAM_MAX: usize = 3;

/// A key of up to three bytes, as its parts laid side by side and mixed.
#[inline]
pub fn gram_key(attr: Attr, kind: Kind, bytes: &[u8]) -> u64 {
    let mut k = attr as u64 | (kind as u64) << 5 | (bytes.len() as u64) << 8 | 1 << 11;
    for (i, b) in bytes.iter().take(GRAM_MAX).enumerate() {
        k |= u64::from(*b) << (16 + 8 * i);
    }
    let key = mix(k) & !ALWAYS_LISTED;
    // Entries are served in the order of their names, so the entries whose name,
    // given name or mail starts with the same letters are neighbours: checking
    // entries in order would cross half the directory before the first of them.
    // Heads always have their list.
    if kind == Kind::Head {
        key | ALWAYS_LISTED
    } else {
        key
    }
}

/// A bit of the key: the key has a list however dense it is.
const ALWAYS_LISTED: u64 = 1 << 3;

/// A key of any length, as a hash.
#[inline]
pub fn hashed_key(attr: Attr, kind: Kind, bytes: &[u8]) -> u64 {
    mix(super::quick_hash(attr as u64 | (kind as u64) << 5, bytes)) & !ALWAYS_LISTED
}

/// splitmix64's finaliser: every bit of the key moves every bit of the hash.
#[inline]
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Calls `add` with every key of one value of an entry (repeats included: the
/// index counts an entry once per key).
pub fn value_keys(attr: Attr, norm: &str, approx: bool, add: &mut dyn FnMut(u64)) {
    let b = norm.as_bytes();
    add(hashed_key(attr, Kind::Present, b""));
    if b.is_empty() {
        return;
    }
    if b.len() <= WHOLE_MAX && !attr.is_number() {
        add(hashed_key(attr, Kind::Whole, b));
    }
    for n in 1..=GRAM_MAX.min(b.len()) {
        add(gram_key(attr, Kind::Head, &b[..n]));
        add(gram_key(attr, Kind::Tail, &b[b.len() - n..]));
        for w in b.windows(n) {
            add(gram_key(attr, Kind::Any, w));
        }
    }
    if approx {
        super::matching::approx_codes(norm, |code| {
            add(hashed_key(attr, Kind::Approx, code.as_bytes()))
        });
    }
}

/// What a key's list is.
const POSITIVE: u32 = 0;
const WITHOUT: u32 = 1;
const BLOCKS: u32 = 2;

/// A key is dense when at least one entry in `DENSE` holds it and one lacks it.
const DENSE: u64 = 32;
/// Lists this short are always kept, whatever the density.
const SHORT: u32 = 64;

/// Entries per bit of a dense key's bitmap.
const BLOCK: u32 = 32;

/// Words of a dense key's bitmap for `entries` entries.
fn bitmap_words(entries: u32) -> u32 {
    entries.div_ceil(BLOCK * 32)
}

pub struct GramIndex {
    /// Every key, ascending.
    pub(super) keys: Vec<u64>,
    /// `offsets[k]..offsets[k + 1]` are the ids of `keys[k]` in `ids`.
    pub(super) offsets: Vec<u32>,
    /// What each key's list is (`POSITIVE`, `WITHOUT`, `BLOCKS`).
    pub(super) tags: Vec<u32>,
    pub(super) ids: Vec<u32>,
    /// The keys whose top `bits` bits are `p` are `keys[starts[p]..starts[p + 1]]`:
    /// one or two keys each.
    bits: u32,
    starts: Vec<u32>,
}

/// The entries a key gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Posting<'a> {
    /// No entry holds the key.
    Empty,
    /// The entries holding the key.
    List(&'a [u32]),
    /// Every entry but these holds the key.
    Without { ids: &'a [u32] },
    /// Too many entries hold it, and too many lack it, for a list to help: the
    /// blocks of `BLOCK` entries that hold it, a bit each.
    Dense { blocks: &'a [u32] },
}

impl Posting<'_> {
    /// About how many entries the key gives, to start from the most selective.
    pub fn estimate(&self, entries: u32) -> u32 {
        match self {
            Posting::Empty => 0,
            Posting::List(ids) => ids.len() as u32,
            Posting::Without { ids } => entries.saturating_sub(ids.len() as u32),
            Posting::Dense { .. } => entries / 2,
        }
    }
}

/// One half of the entries as the first pass saw them: the keys in the order they
/// were met (a key's number is its place here), how many entries hold each, and
/// the keys of each entry by number, each once, so that the second pass neither
/// makes the keys again nor looks them up.
struct Half {
    range: std::ops::Range<u32>,
    keys: Vec<u64>,
    counts: Vec<u32>,
    /// `held[ends[i]..ends[i + 1]]`: the numbers of the keys of entry
    /// `range.start + i`, seven bits a byte (the keys met first, the most
    /// common, take one byte: about two bytes a number rather than four).
    held: Vec<u8>,
    ends: Vec<usize>,
    /// The bitmaps of the keys foretold dense (`foretell_dense`), one after the
    /// other, for this half's entries: their numbers are not kept in `held`.
    dense: Vec<u32>,
}

const UNSEEN: u32 = u32::MAX;

/// Entries whose keys foretell how much room the keys of the rest will take.
const PROBE: usize = 4096;

/// Sampled entries that foretell which keys are dense (`foretell_dense`).
const SAMPLE: u32 = 4096;

/// Directories of fewer entries have no keys foretold dense.
const FORETELL_FROM: u32 = 1 << 16;

/// The keys that entries sampled all over the directory say are dense, sorted:
/// held by between 2 and 30 of every 32 sampled, far from where a build would
/// give them a list. Their entries' blocks are marked as they are met in the first
/// pass (`gather`), rather than their numbers kept for the second. A key foretold
/// wrongly keeps a bitmap (which answers the same as a list, more slowly).
/// Heads, which always have a list, are never foretold.
fn foretell_dense(entries: u32, keys_of: &impl Fn(u32, &mut dyn FnMut(u64))) -> Vec<u64> {
    let sampled = entries.min(SAMPLE);
    if sampled == 0 {
        return Vec::new();
    }
    let step = entries / sampled;
    // Keys are hashes already.
    let mut counts: super::HashKeyed<u32> = Default::default();
    let mut keys = Vec::new();
    for i in 0..sampled {
        keys.clear();
        keys_of(i * step, &mut |key| keys.push(key));
        keys.sort_unstable();
        keys.dedup();
        for key in &keys {
            *counts.entry(*key).or_default() += 1;
        }
    }
    let (low, high) = (sampled * 2 / 32, sampled * 30 / 32);
    let mut dense: Vec<u64> = counts
        .into_iter()
        .filter(|(key, n)| key & ALWAYS_LISTED == 0 && (low.max(1)..=high).contains(n))
        .map(|(key, _)| key)
        .collect();
    dense.sort_unstable();
    dense
}

/// The keys of the entries of `range`, numbered, and how many entries hold each;
/// the blocks of `entries` holding each key of `dense` are marked instead.
fn gather(
    range: std::ops::Range<u32>,
    keys_of: &(impl Fn(u32, &mut dyn FnMut(u64)) + Sync),
    dense: &[u64],
    entries: u32,
) -> Half {
    let mut seen = Seen::with_bits(8);
    seen.make_room(dense.len());
    for (d, key) in dense.iter().enumerate() {
        seen.slot(*key).dense = d as u32 + 1;
    }
    let words = bitmap_words(entries) as usize;
    let mut bitmaps = vec![0u32; dense.len() * words];
    let mut held = Vec::new();
    let mut ends = Vec::with_capacity(range.len() + 1);
    ends.push(0);
    let mut keys = Vec::with_capacity(1024);
    for id in range.clone() {
        // The keys of one entry are made first and their slots asked for, so that
        // the cache misses of a hundred keys overlap.
        keys.clear();
        keys_of(id, &mut |key| keys.push(key));
        seen.make_room(keys.len());
        for key in &keys {
            prefetch(&seen.slots[seen.home(*key)]);
        }
        for key in &keys {
            let slot = seen.slot(*key);
            if slot.last != id {
                let before = slot.last;
                slot.last = id;
                slot.count += 1;
                if slot.dense == 0 {
                    put_number(&mut held, slot.number - 1);
                } else if before == UNSEEN || before / BLOCK != id / BLOCK {
                    let (block, d) = (id / BLOCK, slot.dense as usize - 1);
                    bitmaps[d * words + (block / 32) as usize] |= 1 << (block % 32);
                }
            }
        }
        ends.push(held.len());
        // Room for the whole half, as the first entries foretell it: growing by
        // doubling would copy the numbers again and again into new memory.
        if ends.len() == PROBE + 1 {
            let whole = held.len() * range.len() / PROBE;
            held.reserve((whole + whole / 8).saturating_sub(held.len()));
        }
    }
    let (keys, counts) = seen.numbered();
    Half {
        range,
        keys,
        counts,
        held,
        ends,
        dense: bitmaps,
    }
}

/// The keys met so far, each with its number: a table of slots found from the
/// key's top bits and the next ones after, at most half full.
struct Seen {
    slots: Vec<Slot>,
    bits: u32,
    len: usize,
}

/// A key, its number plus one (0: an empty slot), the entry that last had it, and
/// how many entries did, side by side: one cache line for all.
#[derive(Clone, Copy, Default)]
struct Slot {
    key: u64,
    number: u32,
    last: u32,
    count: u32,
    /// For a key foretold dense, its place in the list of them plus one, else 0.
    dense: u32,
}

impl Seen {
    fn with_bits(bits: u32) -> Seen {
        Seen {
            slots: vec![Slot::default(); 1 << bits],
            bits,
            len: 0,
        }
    }

    /// Where the search for `key` starts.
    #[inline]
    fn home(&self, key: u64) -> usize {
        (key >> (64 - self.bits)) as usize
    }

    /// The slot of `key`, taken for it (numbered next) if it had none.
    #[inline]
    fn slot(&mut self, key: u64) -> &mut Slot {
        let mask = self.slots.len() - 1;
        let mut at = self.home(key);
        while self.slots[at].number != 0 && self.slots[at].key != key {
            at = (at + 1) & mask;
        }
        if self.slots[at].number == 0 {
            self.len += 1;
            self.slots[at] = Slot {
                key,
                number: self.len as u32,
                last: UNSEEN,
                count: 0,
                dense: 0,
            };
        }
        &mut self.slots[at]
    }

    /// Doubles the table until `more` new keys leave it at most half full.
    fn make_room(&mut self, more: usize) {
        while (self.len + more) * 2 > self.slots.len() {
            let old = std::mem::replace(self, Seen::with_bits(self.bits + 1));
            for s in old.slots.into_iter().filter(|s| s.number != 0) {
                let mask = self.slots.len() - 1;
                let mut at = self.home(s.key);
                while self.slots[at].number != 0 {
                    at = (at + 1) & mask;
                }
                self.slots[at] = s;
            }
            self.len = old.len;
        }
    }

    /// Every key by its number, and how many entries hold each.
    fn numbered(self) -> (Vec<u64>, Vec<u32>) {
        let mut keys = vec![0; self.len];
        let mut counts = vec![0; self.len];
        for s in self.slots.into_iter().filter(|s| s.number != 0) {
            keys[s.number as usize - 1] = s.key;
            counts[s.number as usize - 1] = s.count;
        }
        (keys, counts)
    }
}

/// Appends `n`, seven bits a byte, low bits first; the high bit of a byte says
/// that another follows.
fn put_number(out: &mut Vec<u8>, mut n: u32) {
    while n >= 0x80 {
        out.push(n as u8 | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Calls `f` with each number `put_number` wrote in `bytes`.
#[inline]
fn numbers(bytes: &[u8], mut f: impl FnMut(u32)) {
    let (mut n, mut shift) = (0u32, 0);
    for &b in bytes {
        n |= u32::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            f(n);
            (n, shift) = (0, 0);
        } else {
            shift += 7;
        }
    }
}

/// Writes the list of each key for the entries of `half`: `starts[k]` is where
/// this half's part of key k's list begins in `ids`, and `place[n]` is the key of
/// the half's key number n. For a `WITHOUT` key, the ids of the half that lack it
/// are written.
fn fill(
    index: &GramIndex,
    half: &Half,
    place: &[u32],
    starts: impl Iterator<Item = u32>,
    ids: &[AtomicU32],
) {
    // Per key: the entry that last had it, and where its next id goes.
    let first = half.range.start;
    let mut state: Vec<(u32, u32)> = starts.map(|at| (UNSEEN, at)).collect();
    let put = |at: &mut u32, id: u32| {
        ids[*at as usize].store(id, Ordering::Relaxed);
        *at += 1;
    };
    let mut found: Vec<usize> = Vec::with_capacity(1024);
    for (i, id) in half.range.clone().enumerate() {
        // The states of one entry's keys are asked for first, so that their cache
        // misses overlap.
        found.clear();
        numbers(&half.held[half.ends[i]..half.ends[i + 1]], |n| {
            let k = place[n as usize] as usize;
            prefetch(&state[k]);
            found.push(k);
        });
        for &k in &found {
            let s = &mut state[k];
            match index.tags[k] {
                POSITIVE => put(&mut s.1, id),
                WITHOUT => {
                    let from = if s.0 == UNSEEN { first } else { s.0 + 1 };
                    for gap in from..id {
                        put(&mut s.1, gap);
                    }
                }
                // The block's bit is set once, by the first of its entries holding
                // the key. Both threads set bits of the one bitmap (a word may hold
                // both halves).
                _ if s.0 != UNSEEN && s.0 / BLOCK == id / BLOCK => {}
                _ => {
                    let word = index.offsets[k] + id / (BLOCK * 32);
                    ids[word as usize].fetch_or(1 << (id / BLOCK % 32), Ordering::Relaxed);
                }
            }
            s.0 = id;
        }
    }
    // The entries after the last one holding a `WITHOUT` key lack it too.
    for (k, s) in state.iter_mut().enumerate() {
        if index.tags[k] == WITHOUT {
            let from = if s.0 == UNSEEN { first } else { s.0 + 1 };
            for gap in from..half.range.end {
                put(&mut s.1, gap);
            }
        }
    }
}

impl GramIndex {
    pub fn empty() -> GramIndex {
        GramIndex::build(0, |_, _| {})
    }

    /// An index from its parts (as an image holds them), if they are consistent.
    pub(super) fn from_parts(
        keys: Vec<u64>,
        offsets: Vec<u32>,
        tags: Vec<u32>,
        ids: Vec<u32>,
    ) -> Option<GramIndex> {
        let sound = keys.windows(2).all(|w| w[0] < w[1])
            && offsets.len() == keys.len() + 1
            && tags.len() == keys.len()
            && tags.iter().all(|t| *t <= BLOCKS)
            && offsets.first() == Some(&0)
            && offsets.windows(2).all(|w| w[0] <= w[1])
            && offsets.last().is_some_and(|n| *n as usize == ids.len());
        sound.then(|| GramIndex::with_starts(keys, offsets, tags, ids))
    }

    /// Adds the table of the keys' top bits.
    fn with_starts(keys: Vec<u64>, offsets: Vec<u32>, tags: Vec<u32>, ids: Vec<u32>) -> GramIndex {
        let bits = keys.len().max(2).next_power_of_two().trailing_zeros();
        let mut starts = Vec::with_capacity((1 << bits) + 1);
        let mut k = 0;
        for p in 0..=(1u64 << bits) {
            while k < keys.len() && keys[k] >> (64 - bits) < p {
                k += 1;
            }
            starts.push(k as u32);
        }
        GramIndex {
            keys,
            offsets,
            tags,
            ids,
            bits,
            starts,
        }
    }

    /// Builds the index of `entries` entries; `keys_of(id, add)` calls `add` with
    /// each key of the entry (see `value_keys`).
    ///
    /// Two passes, each on two threads taking half of the entries: the first makes
    /// each entry's keys, numbers and counts them, and keeps each entry's numbers
    /// (about 2 bytes per key of each entry, until the index is built); the
    /// second writes the lists from those numbers (each thread its own part of
    /// every list).
    pub fn build(entries: usize, keys_of: impl Fn(u32, &mut dyn FnMut(u64)) + Sync) -> GramIndex {
        GramIndex::build_foretelling(entries, keys_of, FORETELL_FROM)
    }

    /// `build`, with keys foretold dense from `from` entries on.
    fn build_foretelling(
        entries: usize,
        keys_of: impl Fn(u32, &mut dyn FnMut(u64)) + Sync,
        from: u32,
    ) -> GramIndex {
        let mid = (entries / 2) as u32;
        let end = entries as u32;
        let dense = match end >= from {
            true => foretell_dense(end, &keys_of),
            false => Vec::new(),
        };
        let (low, high) = std::thread::scope(|scope| {
            let worker = scope.spawn(|| gather(0..mid, &keys_of, &dense, end));
            let high = gather(mid..end, &keys_of, &dense, end);
            let low = worker
                .join()
                .unwrap_or_else(|_| gather(0..mid, &keys_of, &dense, end));
            (low, high)
        });
        let mut keys: Vec<u64> = low.keys.iter().chain(&high.keys).copied().collect();
        keys.sort_unstable();
        keys.dedup();
        // Each half's key numbers as places in `keys`, and how many of its
        // entries hold each key.
        let places = |half: &Half| -> (Vec<u32>, Vec<u32>) {
            let mut holding = vec![0; keys.len()];
            let place = (half.keys.iter().zip(&half.counts))
                .map(|(key, count)| {
                    let k = keys.partition_point(|x| x < key);
                    holding[k] = *count;
                    k as u32
                })
                .collect();
            (place, holding)
        };
        let (low_place, low_holding) = places(&low);
        let (high_place, high_holding) = places(&high);
        // Each key's tag, and how many ids each half writes into its list.
        let mut tags = Vec::with_capacity(keys.len());
        let mut low_len = Vec::with_capacity(keys.len());
        let mut offsets = Vec::with_capacity(keys.len() + 1);
        let mut total = 0u32;
        for (k, key) in keys.iter().enumerate() {
            let (tag, in_low, in_high) = match dense.binary_search(key) {
                Ok(_) => (BLOCKS, bitmap_words(end), 0),
                Err(_) => Self::decide(*key, low_holding[k], high_holding[k], mid, end - mid),
            };
            tags.push(tag);
            low_len.push(in_low);
            offsets.push(total);
            total += in_low + in_high;
        }
        offsets.push(total);
        drop((low_holding, high_holding));
        let mut index = GramIndex::with_starts(keys, offsets, tags, Vec::new());
        let ids: Vec<AtomicU32> = (0..total).map(|_| AtomicU32::new(0)).collect();
        std::thread::scope(|scope| {
            let (ids, index) = (&ids, &index);
            let starts = &index.offsets[..index.keys.len()];
            let (low, low_place) = (&low, &low_place);
            scope.spawn(move || fill(index, low, low_place, starts.iter().copied(), ids));
            let seconds = starts.iter().zip(&low_len).map(|(at, n)| at + n);
            fill(index, &high, &high_place, seconds, ids);
        });
        index.ids = ids.into_iter().map(AtomicU32::into_inner).collect();
        // The bitmaps of the keys foretold dense, from both halves.
        let words = bitmap_words(end) as usize;
        for (d, key) in dense.iter().enumerate() {
            if let Some(k) = index.find(*key) {
                let at = index.offsets[k] as usize;
                let bitmap = &mut index.ids[at..at + words];
                let halves = low.dense[d * words..].iter().zip(&high.dense[d * words..]);
                for (word, (a, b)) in bitmap.iter_mut().zip(halves) {
                    *word = a | b;
                }
            }
        }
        index
    }

    /// The index of a directory patched from this one's (`patch`): `moved[id]` is
    /// where old entry `id` is now (ascending, or `GONE`), `fresh` the keys of
    /// the new and changed entries as (key, entry), sorted, `fresh_ids` those
    /// entries, ascending, and `entries` how many there are now.
    ///
    /// The lists are those a build makes. A key keeps its kind of list, which a
    /// build might choose otherwise for a key near a threshold (either answers
    /// the same). A dense key's bitmap may have a few blocks more than a build's:
    /// which entries of an old block hold the key is not known, so the block sets
    /// every new block its staying entries moved to (two at most, but for new
    /// entries put between them); a dense key whose holders are all gone keeps
    /// its bitmap, and a search for it checks those blocks, finding nothing.
    pub(super) fn patch(
        &self,
        moved: &[u32],
        fresh: &[(u64, u32)],
        fresh_ids: &[u32],
        entries: u32,
    ) -> GramIndex {
        let old_entries = moved.len() as u32;
        // The new blocks the staying entries of each old block moved to.
        let blocks: Vec<Option<(u32, u32)>> = moved
            .chunks(BLOCK as usize)
            .map(|ids| {
                let first = ids.iter().find(|id| **id != GONE)?;
                let last = ids.iter().rev().find(|id| **id != GONE)?;
                Some((first / BLOCK, last / BLOCK))
            })
            .collect();
        let words = bitmap_words(entries) as usize;
        let mut keys = Vec::with_capacity(self.keys.len() + fresh.len() / 4);
        let mut tags = Vec::with_capacity(keys.capacity());
        let mut offsets = Vec::with_capacity(keys.capacity() + 1);
        let mut ids: Vec<u32> = Vec::with_capacity(self.ids.len() + fresh.len());
        let (mut k, mut f) = (0, 0);
        while k < self.keys.len() || f < fresh.len() {
            let key = match (self.keys.get(k), fresh.get(f)) {
                (Some(a), Some((b, _))) => *a.min(b),
                (Some(a), None) => *a,
                (None, Some((b, _))) => *b,
                (None, None) => break,
            };
            let old = (self.keys.get(k) == Some(&key)).then(|| {
                k += 1;
                k - 1
            });
            let from = f;
            while fresh.get(f).is_some_and(|(x, _)| *x == key) {
                f += 1;
            }
            let holders: Vec<u32> = fresh[from..f].iter().map(|(_, id)| *id).collect();
            let tag = match old {
                Some(k) => self.tags[k],
                None => Self::decide(key, holders.len() as u32, 0, entries, 0).0,
            };
            let list = old.map_or(&[][..], |k| {
                &self.ids[self.offsets[k] as usize..self.offsets[k + 1] as usize]
            });
            let start = ids.len();
            let kept = match tag {
                POSITIVE => {
                    merge_into(&mut ids, staying(list, moved), &holders);
                    ids.len() > start
                }
                WITHOUT => {
                    let lacking = fresh_ids
                        .iter()
                        .copied()
                        .filter(|id| holders.binary_search(id).is_err());
                    match old {
                        Some(_) => merge_into_iter(&mut ids, staying(list, moved), lacking),
                        // A key of new entries only: every other entry lacks it.
                        None => merge_into_iter(
                            &mut ids,
                            (0..entries).filter(|id| fresh_ids.binary_search(id).is_err()),
                            lacking,
                        ),
                    }
                    ids.len() - start < entries as usize
                }
                _ => {
                    ids.resize(start + words, 0);
                    let bitmap = &mut ids[start..];
                    let mut set = |block: u32| bitmap[(block / 32) as usize] |= 1 << (block % 32);
                    for (w, word) in list.iter().enumerate() {
                        let mut bits = *word;
                        while bits != 0 {
                            let block = w as u32 * 32 + bits.trailing_zeros();
                            bits &= bits - 1;
                            if block * BLOCK >= old_entries {
                                break;
                            }
                            if let Some((lo, hi)) = blocks[block as usize] {
                                (lo..=hi).for_each(&mut set);
                            }
                        }
                    }
                    for id in &holders {
                        set(id / BLOCK);
                    }
                    ids[start..].iter().any(|w| *w != 0)
                }
            };
            if !kept {
                ids.truncate(start);
                continue;
            }
            keys.push(key);
            tags.push(tag);
            offsets.push(start as u32);
        }
        offsets.push(ids.len() as u32);
        GramIndex::with_starts(keys, offsets, tags, ids)
    }

    /// A key's tag from how many entries of each half hold it, and how many ids
    /// each half writes into its list.
    fn decide(
        key: u64,
        low: u32,
        high: u32,
        low_entries: u32,
        high_entries: u32,
    ) -> (u32, u32, u32) {
        let entries = u64::from(low_entries + high_entries);
        let holding = u64::from(low + high);
        let lacking = entries - holding;
        let listed = key & ALWAYS_LISTED != 0;
        if holding <= u64::from(SHORT)
            || holding * DENSE < entries
            || (listed && holding <= lacking)
        {
            (POSITIVE, low, high)
        } else if lacking <= u64::from(SHORT) || lacking * DENSE < entries || listed {
            (WITHOUT, low_entries - low, high_entries - high)
        } else {
            (BLOCKS, bitmap_words(low_entries + high_entries), 0)
        }
    }

    /// Where `key` is in `keys`, if an entry holds it.
    #[inline]
    fn find(&self, key: u64) -> Option<usize> {
        let p = (key >> (64 - self.bits)) as usize;
        let (from, to) = (self.starts[p] as usize, self.starts[p + 1] as usize);
        self.keys[from..to]
            .iter()
            .position(|k| *k == key)
            .map(|i| from + i)
    }

    /// The entries of a key.
    pub fn get(&self, key: u64) -> Posting<'_> {
        let Some(k) = self.find(key) else {
            return Posting::Empty;
        };
        let list = &self.ids[self.offsets[k] as usize..self.offsets[k + 1] as usize];
        match self.tags[k] {
            POSITIVE if list.is_empty() => Posting::Empty,
            POSITIVE => Posting::List(list),
            WITHOUT => Posting::Without { ids: list },
            _ => Posting::Dense { blocks: list },
        }
    }

    /// How many ids the lists hold, how many keys there are, and how many keys are
    /// too dense for a list (for benchmarks).
    pub fn stats(&self) -> (usize, usize, usize) {
        let dense = self.tags.iter().filter(|t| **t == BLOCKS).count();
        (self.ids.len(), self.keys.len(), dense)
    }
}

/// Where an entry of a patched directory went when it is gone (`GramIndex::patch`).
pub(super) const GONE: u32 = u32::MAX;

/// The new places of the entries of `list` that stay (`GramIndex::patch`).
fn staying<'a>(list: &'a [u32], moved: &'a [u32]) -> impl Iterator<Item = u32> + 'a {
    list.iter()
        .map(|id| moved[*id as usize])
        .filter(|id| *id != GONE)
}

/// `merge_into_iter`, with nothing to merge when `b` is empty (most lists).
fn merge_into(out: &mut Vec<u32>, a: impl Iterator<Item = u32>, b: &[u32]) {
    if b.is_empty() {
        out.extend(a);
    } else {
        merge_into_iter(out, a, b.iter().copied());
    }
}

/// Appends the ascending items of `a` and of `b` in ascending order.
pub(super) fn merge_into_iter<T: Ord>(
    out: &mut Vec<T>,
    a: impl Iterator<Item = T>,
    b: impl Iterator<Item = T>,
) {
    let (mut a, mut b) = (a.peekable(), b.peekable());
    loop {
        let next = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) if x <= y => a.next(),
            (Some(_), Some(_)) | (None, Some(_)) => b.next(),
            (Some(_), None) => a.next(),
            (None, None) => break,
        };
        out.extend(next);
    }
}

/// Equality on numbers, whatever their length: the key of every number's
/// normalised text and reverse-lookup form, with its entry, sorted. An incoming
/// call is one binary search per attribute.
#[derive(Default)]
pub struct Numbers {
    pub(super) keys: Vec<u64>,
    /// `ids[i]` holds `keys[i]`; ascending among equal keys.
    pub(super) ids: Vec<u32>,
}

impl Numbers {
    /// From (key, entry) pairs in any order.
    pub fn build(mut pairs: Vec<(u64, u32)>) -> Numbers {
        pairs.sort_unstable();
        pairs.dedup();
        let (keys, ids) = pairs.into_iter().unzip();
        Numbers { keys, ids }
    }

    pub fn key(attr: Attr, kind: Kind, value: &str) -> u64 {
        hashed_key(attr, kind, value.as_bytes())
    }

    pub fn get(&self, attr: Attr, kind: Kind, value: &str) -> Posting<'_> {
        let key = Numbers::key(attr, kind, value);
        let from = self.keys.partition_point(|k| *k < key);
        let to = from + self.keys[from..].partition_point(|k| *k == key);
        match &self.ids[from..to] {
            [] => Posting::Empty,
            ids => Posting::List(ids),
        }
    }
}

/// Asks the processor to bring `at` into cache (a hint: nothing waits for it).
#[inline(always)]
pub(super) fn prefetch<T>(at: &T) {
    super::served::prefetch((at as *const T).cast());
}

/// The first position of `ids[from..]` whose id is at least `min` (galloping from
/// `from`, then a binary search).
#[inline]
fn gallop(ids: &[u32], from: usize, min: u32) -> usize {
    let rest = &ids[from..];
    let mut step = 1;
    while step < rest.len() && rest[step] < min {
        step *= 2;
    }
    let window = &rest[..rest.len().min(step + 1)];
    from + window.partition_point(|id| *id < min)
}

/// A lazy, ascending sequence of candidate ids that can skip ahead.
pub enum Cursor<'a> {
    All {
        next: u32,
        end: u32,
    },
    List {
        ids: &'a [u32],
        pos: usize,
    },
    /// The ids below `end` of the blocks whose bit is set (see `Posting::Dense`).
    Blocks {
        words: &'a [u32],
        end: u32,
    },
    /// The ids below `end` that are not in `ids`.
    Without {
        ids: &'a [u32],
        pos: usize,
        end: u32,
    },
    And(Vec<Cursor<'a>>),
    Or(Vec<(Cursor<'a>, Option<u32>)>),
    /// The ids below `end` that the inner cursor does not give.
    Not(Box<Cursor<'a>>, u32),
}

impl Cursor<'_> {
    pub fn none() -> Cursor<'static> {
        Cursor::List { ids: &[], pos: 0 }
    }

    /// The smallest id >= `min`, if any.
    pub fn seek(&mut self, min: u32) -> Option<u32> {
        match self {
            Cursor::All { next, end } => {
                *next = (*next).max(min);
                (*next < *end).then_some(*next)
            }
            Cursor::List { ids, pos } => {
                *pos = gallop(ids, *pos, min);
                ids.get(*pos).copied()
            }
            Cursor::Blocks { words, end } => {
                if min >= *end {
                    return None;
                }
                let block = min / BLOCK;
                let mut w = (block / 32) as usize;
                let mut bits = words.get(w)? & (u32::MAX << (block % 32));
                while bits == 0 {
                    w += 1;
                    bits = *words.get(w)?;
                }
                let found = w as u32 * 32 + bits.trailing_zeros();
                let at = if found == block { min } else { found * BLOCK };
                (at < *end).then_some(at)
            }
            Cursor::Without { ids, pos, end } => {
                *pos = gallop(ids, *pos, min);
                // `min` is in the list: skip the run of consecutive ids it starts.
                // Ids are distinct and ascending: the run is where `rest[k]` is
                // `min + k`, a prefix of `rest`, found by galloping.
                let mut at = min;
                if ids.get(*pos) == Some(&min) {
                    let rest = &ids[*pos..];
                    let mut k = 0usize;
                    let mut step = 1usize;
                    while k + step < rest.len() && rest[k + step] == min + (k + step) as u32 {
                        k += step;
                        step *= 2;
                    }
                    while step > 1 {
                        step /= 2;
                        if k + step < rest.len() && rest[k + step] == min + (k + step) as u32 {
                            k += step;
                        }
                    }
                    *pos += k + 1;
                    at = min + k as u32 + 1;
                }
                (at < *end).then_some(at)
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
            Cursor::Not(inner, end) => {
                let mut at = min;
                while at < *end {
                    match inner.seek(at) {
                        Some(got) if got == at => at += 1,
                        _ => return Some(at),
                    }
                }
                None
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
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
    fn cursors_intersect_unite_and_complement_in_order() {
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
        let runs = [0, 1, 2, 3, 7, 8, 10, 11, 12, 13, 14, 15, 16, 17, 18];
        let expected: Vec<u32> = (0..22).filter(|i| !runs.contains(i)).collect();
        assert_eq!(
            ids(Cursor::Without {
                ids: &runs,
                pos: 0,
                end: 22
            }),
            expected
        );
        let not = Cursor::Not(Box::new(Cursor::List { ids: &runs, pos: 0 }), 22);
        assert_eq!(ids(not), expected);
        let everything: Vec<u32> = (0..1000).collect();
        assert_eq!(
            ids(Cursor::Without {
                ids: &everything,
                pos: 0,
                end: 1000
            }),
            Vec::<u32>::new()
        );
    }

    #[test]
    fn keys_are_exact_and_dense_keys_have_no_list() {
        // 200 entries: "a0".."a199"; every one has "a" at its start.
        let names: Vec<String> = (0..200).map(|i| format!("a{i}")).collect();
        let index = GramIndex::build(names.len(), |id, add| {
            value_keys(Attr::Sn, &names[id as usize], false, add)
        });
        let get = |kind, s: &str| index.get(gram_key(Attr::Sn, kind, s.as_bytes()));
        assert_eq!(get(Kind::Head, "a"), Posting::Without { ids: &[] });
        assert_eq!(get(Kind::Head, "b"), Posting::Empty);
        assert_eq!(get(Kind::Any, "a19").estimate(200), 11, "a19, a190..a199");
        // "1" is in 119 names out of 200: neither list would narrow much.
        let Posting::Dense { blocks } = get(Kind::Any, "1") else {
            panic!("{:?}", get(Kind::Any, "1"));
        };
        // Blocks of 32 entries: a0..a31 hold "1" (a1, a10..a19...), as every block.
        assert_eq!(blocks, [0b111_1111], "seven blocks, each with a \"1\"");
        let mut names = Cursor::Blocks {
            words: blocks,
            end: 200,
        };
        assert_eq!(names.seek(0), Some(0));
        assert_eq!(names.seek(199), Some(199));
        assert_eq!(names.seek(200), None);
        let sparse = [0b100, 0, 1];
        let mut c = Cursor::Blocks {
            words: &sparse,
            end: 3000,
        };
        assert_eq!(c.seek(0), Some(64));
        assert_eq!(c.seek(70), Some(70));
        assert_eq!(c.seek(96), Some(2048));
        assert_eq!(c.seek(2080), None);
        assert_eq!(
            index.get(gram_key(Attr::Cn, Kind::Head, b"a")),
            Posting::Empty,
            "another attribute's key"
        );
        assert_eq!(
            index.get(hashed_key(Attr::Sn, Kind::Whole, b"a7")),
            Posting::List(&[7])
        );
    }

    /// Every key gives exactly the entries holding it, however many keys there are
    /// (more than entries: no two keys share a list), and a key nobody holds gives
    /// nothing.
    #[test]
    fn every_key_gives_exactly_its_entries() {
        let mut rng = fastrand::Rng::with_seed(5);
        let values: Vec<String> = (0..3_000)
            .map(|_| {
                let len = rng.usize(1..12);
                (0..len).map(|_| rng.alphanumeric()).collect::<String>()
            })
            .collect();
        let keys_of = |id: u32, add: &mut dyn FnMut(u64)| {
            value_keys(Attr::Sn, &values[id as usize].to_lowercase(), true, add)
        };
        for from in [u32::MAX, 0] {
            every_key_gives_its_entries(
                &GramIndex::build_foretelling(values.len(), keys_of, from),
                values.len() as u32,
                keys_of,
            );
        }
    }

    fn every_key_gives_its_entries(
        index: &GramIndex,
        entries: u32,
        keys_of: impl Fn(u32, &mut dyn FnMut(u64)),
    ) {
        use std::collections::{BTreeMap, BTreeSet};
        let mut holders: BTreeMap<u64, BTreeSet<u32>> = BTreeMap::new();
        for id in 0..entries {
            keys_of(id, &mut |k| {
                holders.entry(k).or_default().insert(id);
            });
        }
        assert!(
            holders.len() > 2 * entries as usize,
            "{} keys",
            holders.len()
        );
        let end = entries;
        let mut dense = 0;
        for (key, expected) in &holders {
            let mut cursor = match index.get(*key) {
                Posting::Empty => panic!("{key:x}: no entry"),
                Posting::List(ids) => Cursor::List { ids, pos: 0 },
                Posting::Without { ids } => Cursor::Without { ids, pos: 0, end },
                Posting::Dense { blocks } => {
                    // Exactly the blocks of the holders.
                    let got: BTreeSet<u32> = ids(Cursor::Blocks { words: blocks, end })
                        .into_iter()
                        .map(|id| id / BLOCK)
                        .collect();
                    let wanted: BTreeSet<u32> = expected.iter().map(|id| id / BLOCK).collect();
                    assert_eq!(got, wanted, "{key:x}");
                    dense += 1;
                    continue;
                }
            };
            let mut got = BTreeSet::new();
            let mut at = 0;
            while let Some(id) = cursor.seek(at) {
                got.insert(id);
                at = id + 1;
            }
            assert_eq!(&got, expected, "key {key:x}");
        }
        assert!(dense > 10, "{dense} dense keys");
        for absent in ["#", "\u{e9}\u{e9}\u{e9}", "zzzzzzzzzzzzzzzzzz"] {
            assert_eq!(
                index.get(hashed_key(Attr::Sn, Kind::Whole, absent.as_bytes())),
                Posting::Empty
            );
        }
    }
}
