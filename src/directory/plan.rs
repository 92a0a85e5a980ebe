//! The plan of a search: which entries to check for a filter, taken from the index.
//!
//! A plan's candidates are always a superset of the matches (every candidate is
//! then checked against the whole filter). A plan is *exact* when its candidates
//! are the matches themselves: a short assertion answered by one key, presence,
//! and what AND, OR and NOT make of exact plans. Only an exact plan can be
//! complemented, which is how NOT finds its entries without checking the whole
//! directory.
//!
//! AND walks its terms together (each skips to the others' next candidate),
//! starting from the most selective; OR merges its terms' candidates in served
//! order; both stop when the search has what it wants.

use super::filter::Filter;
use super::index::{Cursor, GRAM_MAX, Kind, Posting, WHOLE_MAX, gram_key, hashed_key};
use super::matching;
use super::schema::Attr;
use super::served::{Directory, OBJECT_CLASSES};

pub struct Plan<'a> {
    pub cursor: Cursor<'a>,
    pub exact: bool,
    /// About how many candidates the cursor gives.
    estimate: u32,
}

/// At most how many keys of one assertion are walked together: the most
/// selective ones narrow enough.
const KEYS_WALKED: usize = 3;

impl<'a> Plan<'a> {
    fn all(dir: &Directory, exact: bool) -> Plan<'a> {
        let end = dir.len() as u32;
        Plan {
            cursor: Cursor::All { next: 0, end },
            exact,
            estimate: end,
        }
    }

    fn empty() -> Plan<'a> {
        Plan {
            cursor: Cursor::none(),
            exact: true,
            estimate: 0,
        }
    }

    fn one(id: u32) -> Plan<'a> {
        Plan {
            cursor: Cursor::All {
                next: id,
                end: id + 1,
            },
            exact: true,
            estimate: 1,
        }
    }

    fn is_all(&self) -> bool {
        matches!(self.cursor, Cursor::All { next: 0, end } if end == self.estimate)
    }

    fn is_empty(&self) -> bool {
        self.exact && self.estimate == 0
    }

    fn of(dir: &'a Directory, p: Posting<'a>) -> Plan<'a> {
        let end = dir.len() as u32;
        match p {
            Posting::Empty => Plan::empty(),
            Posting::List(ids) => Plan {
                cursor: Cursor::List { ids, pos: 0 },
                exact: true,
                estimate: ids.len() as u32,
            },
            Posting::Without { ids: [] } => Plan::all(dir, true),
            Posting::Without { ids } => Plan {
                cursor: Cursor::Without { ids, pos: 0, end },
                exact: true,
                estimate: end.saturating_sub(ids.len() as u32),
            },
            Posting::Dense { blocks } => Plan {
                cursor: Cursor::Blocks { words: blocks, end },
                exact: false,
                estimate: end / 2,
            },
        }
    }

    /// Entries holding every one of these keys (a superset of the matches).
    fn every(dir: &'a Directory, mut postings: Vec<Posting<'a>>) -> Plan<'a> {
        let end = dir.len() as u32;
        if postings.contains(&Posting::Empty) {
            return Plan::empty();
        }
        postings.sort_by_key(|p| p.estimate(end));
        postings.truncate(KEYS_WALKED);
        let mut plans: Vec<Plan<'a>> = postings.into_iter().map(|p| Plan::of(dir, p)).collect();
        let mut plan = match plans.len() {
            0 => Plan::all(dir, false),
            1 => plans.remove(0),
            _ => Plan {
                estimate: plans[0].estimate,
                cursor: Cursor::And(plans.into_iter().map(|p| p.cursor).collect()),
                exact: false,
            },
        };
        plan.exact = false;
        plan
    }
}

impl Directory {
    /// Whether every entry matches a filter, known from the index alone (such as
    /// `(objectClass=person)`, which phones browsing the whole phone book send).
    pub fn matches_every_entry(&self, f: &Filter) -> bool {
        let plan = self.plan(f);
        plan.exact && plan.is_all()
    }

    /// Candidates for a filter: a superset of its matches.
    pub(super) fn plan<'a>(&'a self, f: &Filter) -> Plan<'a> {
        match f {
            Filter::True => Plan::all(self, true),
            Filter::Undefined => Plan::empty(),
            // Checked on each candidate: what it is combined with narrows them.
            Filter::Match { .. } => Plan::all(self, false),
            // A display name equal to the common name is indexed as the common
            // name: both are looked up, and the plan is no longer exact.
            Filter::Equal {
                attr: Attr::DisplayName,
                ..
            }
            | Filter::Substring {
                attr: Attr::DisplayName,
                ..
            }
            | Filter::Approx {
                attr: Attr::DisplayName,
                ..
            } => {
                let both = vec![self.term(f, Attr::DisplayName), self.term(f, Attr::Cn)];
                Plan {
                    exact: false,
                    ..self.or(both)
                }
            }
            Filter::Equal { attr, .. }
            | Filter::Substring { attr, .. }
            | Filter::Approx { attr, .. }
            | Filter::Present(attr) => self.term(f, *attr),
            Filter::And(items) => {
                let mut exact = true;
                let mut narrowing = Vec::new();
                for item in items {
                    let p = self.plan(item);
                    if p.is_empty() {
                        return Plan::empty();
                    }
                    exact &= p.exact;
                    if !p.is_all() {
                        narrowing.push(p);
                    }
                }
                // The most selective term leads: the others only skip ahead to it.
                narrowing.sort_by_key(|p| p.estimate);
                match narrowing.len() {
                    0 => Plan::all(self, exact),
                    1 => Plan {
                        exact,
                        ..narrowing.remove(0)
                    },
                    _ => Plan {
                        estimate: narrowing[0].estimate,
                        cursor: Cursor::And(narrowing.into_iter().map(|p| p.cursor).collect()),
                        exact,
                    },
                }
            }
            Filter::Or(items) => self.or(items.iter().map(|f| self.plan(f)).collect()),
            // NOT of something that is never true for an entry is never true either.
            Filter::Not(inner) if **inner == Filter::Undefined => Plan::empty(),
            Filter::Not(inner) => {
                let p = self.plan(inner);
                if !p.exact {
                    return Plan::all(self, false);
                }
                let end = self.len() as u32;
                // The complement is exact only if the inner filter is never Undefined.
                let exact = !inner.may_be_undefined();
                let estimate = end.saturating_sub(p.estimate);
                let cursor = match p.cursor {
                    _ if p.is_all() => return Plan::empty(),
                    _ if p.is_empty() => Cursor::All { next: 0, end },
                    Cursor::List { ids, .. } => Cursor::Without { ids, pos: 0, end },
                    Cursor::Without { ids, .. } => Cursor::List { ids, pos: 0 },
                    other => Cursor::Not(Box::new(other), end),
                };
                Plan {
                    cursor,
                    exact,
                    estimate,
                }
            }
        }
    }

    /// Candidates for one assertion, looked up under the keys of `attr`.
    fn term<'a>(&'a self, f: &Filter, attr: Attr) -> Plan<'a> {
        let index = &self.index;
        let key = |attr: Attr, kind: Kind, s: &[u8]| index.get(gram_key(attr, kind, s));
        let attr = &attr;
        match f {
            Filter::Present(_) => Plan::of(self, index.get(hashed_key(*attr, Kind::Present, b""))),
            Filter::Equal { value, .. } if *attr == Attr::ObjectClass => {
                let every_contact = OBJECT_CLASSES.iter().any(|c| c.eq_ignore_ascii_case(value));
                if every_contact {
                    Plan::all(self, true)
                } else {
                    Plan::empty()
                }
            }
            Filter::Equal { value, .. } if *attr == Attr::Uid => {
                self.find_uid(value).map_or_else(Plan::empty, Plan::one)
            }
            Filter::Equal {
                value, canonical, ..
            } if attr.is_number() => {
                let by_value = Plan::of(self, self.numbers.get(*attr, Kind::Whole, value));
                match canonical {
                    Some(c) => {
                        let by_form = Plan::of(self, self.numbers.get(*attr, Kind::Canonical, c));
                        self.or(vec![by_value, by_form])
                    }
                    None => by_value,
                }
            }
            Filter::Equal { value, .. } => {
                let b = value.as_bytes();
                if b.len() <= WHOLE_MAX {
                    return Plan::of(self, index.get(hashed_key(*attr, Kind::Whole, b)));
                }
                let mut keys = vec![
                    key(*attr, Kind::Head, &b[..GRAM_MAX]),
                    key(*attr, Kind::Tail, &b[b.len() - GRAM_MAX..]),
                ];
                self.grams(*attr, b, &mut keys);
                Plan::every(self, keys)
            }
            Filter::Substring { parts, .. } => {
                let mut keys = Vec::new();
                let mut count = 0;
                let mut short = true;
                let mut part = |kind: Kind, s: &str, keys: &mut Vec<Posting<'a>>| {
                    let b = s.as_bytes();
                    count += 1;
                    if b.len() <= GRAM_MAX {
                        keys.push(key(*attr, kind, b));
                        return;
                    }
                    short = false;
                    match kind {
                        Kind::Head => keys.push(key(*attr, kind, &b[..GRAM_MAX])),
                        Kind::Tail => keys.push(key(*attr, kind, &b[b.len() - GRAM_MAX..])),
                        _ => {}
                    }
                    self.grams(*attr, b, keys);
                };
                if let Some(s) = &parts.initial {
                    part(Kind::Head, s, &mut keys);
                }
                for s in &parts.any {
                    part(Kind::Any, s, &mut keys);
                }
                if let Some(s) = &parts.final_ {
                    part(Kind::Tail, s, &mut keys);
                }
                match (count, short) {
                    // `(cn=**)`: every entry with the attribute.
                    (0, _) => Plan::of(self, index.get(hashed_key(*attr, Kind::Present, b""))),
                    (1, true) => Plan::of(self, keys.remove(0)),
                    _ => Plan::every(self, keys),
                }
            }
            Filter::Approx { value, .. } => {
                let mut keys = Vec::new();
                let mut sounds = true;
                matching::approx_words(value, |code| {
                    sounds &= !code.is_empty();
                    keys.push(index.get(hashed_key(*attr, Kind::Approx, code.as_bytes())));
                });
                if !sounds || keys.is_empty() {
                    return Plan::empty();
                }
                Plan::every(self, keys)
            }
            _ => self.plan(f),
        }
    }

    /// Entries that any of these plans gives.
    fn or<'a>(&'a self, plans: Vec<Plan<'a>>) -> Plan<'a> {
        let mut exact = true;
        let mut parts = Vec::new();
        let mut estimate = 0u32;
        for p in plans {
            if p.is_all() {
                return Plan::all(self, p.exact);
            }
            exact &= p.exact;
            if p.is_empty() {
                continue;
            }
            estimate = estimate.saturating_add(p.estimate);
            parts.push(p);
        }
        match parts.len() {
            0 => Plan {
                exact,
                ..Plan::empty()
            },
            1 => Plan {
                exact,
                ..parts.remove(0)
            },
            _ => Plan {
                cursor: Cursor::Or(parts.into_iter().map(|p| (p.cursor, None)).collect()),
                exact,
                estimate: estimate.min(self.len() as u32),
            },
        }
    }

    /// The postings of every gram of the longest length in `b`.
    fn grams<'a>(&'a self, attr: Attr, b: &[u8], keys: &mut Vec<Posting<'a>>) {
        keys.extend(
            b.windows(GRAM_MAX)
                .map(|w| self.index.get(gram_key(attr, Kind::Any, w))),
        );
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::bench::{phonebook, shapes};
    use crate::directory::lookup;

    /// Every filter of the benchmark's matrix: the search finds what checking
    /// every entry finds, and an exact plan's candidates are its matches.
    #[test]
    fn every_shape_finds_what_checking_every_entry_finds() {
        let dir = phonebook::directory(4_000, 11);
        let cases = shapes::matrix(&dir, 11, 2);
        assert!(cases.len() > 1000, "{}", cases.len());
        let mut exact = 0;
        for case in &cases {
            let filter = lookup::parse(&case.filter, &dir).unwrap();
            let all: Vec<u32> = (0..dir.len() as u32)
                .filter(|id| dir.matches(&filter, *id))
                .collect();
            let found: Vec<u32> = dir.search(&filter).collect();
            assert!(
                found == all,
                "{} {}: found {} entries, {} match",
                case.class,
                case.filter,
                found.len(),
                all.len()
            );
            let mut plan = dir.plan(&filter);
            if plan.exact {
                exact += 1;
                let mut candidates = Vec::new();
                let mut at = 0;
                while let Some(id) = plan.cursor.seek(at) {
                    candidates.push(id);
                    at = id + 1;
                }
                assert!(
                    candidates == all,
                    "exact plan of {}: {} candidates, {} match",
                    case.filter,
                    candidates.len(),
                    all.len()
                );
            }
        }
        assert!(exact > cases.len() / 3, "{exact} exact plans");
    }
}
