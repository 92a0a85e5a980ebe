//! Simple paged results (RFC 2696): the state of paged searches of one connection.
//!
//! A cookie is only known to the connection that received it, so a cookie replayed on
//! another connection is refused. Each connection keeps a bounded number of them; each
//! expires after a while, and all of them when another generation is served (a parked
//! search holds its generation in memory).

use crate::directory::{Directory, Filter};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Where a paged search resumes.
pub enum Position {
    /// Unsorted: after this entry id (None: from the start).
    After(Option<u32>),
    /// Sorted: the sorted ids and how many were already sent.
    Sorted { ids: Vec<u32>, sent: usize },
}

pub struct PagedSearch {
    /// The generation the search started on: later pages come from the same one.
    /// The search ends when another generation is served (`Paging::keep_only`).
    pub directory: Arc<Directory>,
    pub filter: Filter,
    pub position: Position,
    /// Entries still allowed by the client's own size limit (None: no limit).
    pub remaining: Option<usize>,
    /// What the request looked like, to refuse a cookie sent with another search.
    pub fingerprint: String,
    created: Instant,
}

impl PagedSearch {
    pub fn new(
        directory: Arc<Directory>,
        filter: Filter,
        position: Position,
        remaining: Option<usize>,
        fingerprint: String,
        now: Instant,
    ) -> PagedSearch {
        PagedSearch {
            directory,
            filter,
            position,
            remaining,
            fingerprint,
            created: now,
        }
    }
}

pub struct Paging {
    searches: HashMap<u64, PagedSearch>,
    next: u64,
    salt: u64,
}

impl Paging {
    /// `salt` makes cookies differ from one connection to the next.
    pub fn new(salt: u64) -> Paging {
        Paging {
            searches: HashMap::new(),
            next: 1,
            salt,
        }
    }

    /// Stores a search to resume, evicting expired ones and, when full, the oldest.
    pub fn park(
        &mut self,
        mut search: PagedSearch,
        max: usize,
        ttl: Duration,
        now: Instant,
    ) -> Vec<u8> {
        self.expire(ttl, now);
        search.created = now;
        while self.searches.len() >= max.max(1) {
            let oldest = self
                .searches
                .iter()
                .min_by_key(|(_, s)| s.created)
                .map(|(k, _)| *k);
            match oldest {
                Some(k) => self.searches.remove(&k),
                None => break,
            };
        }
        let key = self.next;
        self.next += 1;
        self.searches.insert(key, search);
        (key ^ self.salt).to_be_bytes().to_vec()
    }

    /// Takes the search a cookie stands for, if this connection issued it and it has
    /// not expired.
    pub fn take(&mut self, cookie: &[u8], ttl: Duration, now: Instant) -> Option<PagedSearch> {
        self.expire(ttl, now);
        let bytes: [u8; 8] = cookie.try_into().ok()?;
        self.searches
            .remove(&(u64::from_be_bytes(bytes) ^ self.salt))
    }

    /// Drops the searches parked on a generation other than `current` (or one of
    /// its phone books).
    pub fn keep_only(&mut self, current: &Arc<Directory>) {
        if !self.searches.is_empty() {
            self.searches.retain(|_, s| current.serves(&s.directory));
        }
    }

    /// How many searches are parked.
    pub fn len(&self) -> usize {
        self.searches.len()
    }

    pub fn is_empty(&self) -> bool {
        self.searches.is_empty()
    }

    fn expire(&mut self, ttl: Duration, now: Instant) {
        self.searches
            .retain(|_, s| now.saturating_duration_since(s.created) < ttl);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::directory::{FilterLimits, Generation, MatchRules, ServedContact};
    use ldap3_proto::proto::LdapFilter;

    fn directory(number: u64) -> Arc<Directory> {
        let contacts = crate::bench::phonebook::generate(10, 1)
            .into_iter()
            .map(|c| ServedContact {
                uid: c.id.clone(),
                source: "internal".into(),
                contact: c,
            })
            .collect();
        let generation = Generation {
            number,
            created: 0,
            contacts,
        };
        Arc::new(Directory::build(
            &generation,
            "dc=phonebook,dc=local",
            &MatchRules::default(),
        ))
    }

    fn parked(dir: &Arc<Directory>, now: Instant) -> PagedSearch {
        let limits = FilterLimits {
            max_depth: 8,
            max_terms: 8,
        };
        let filter = Filter::compile(
            &LdapFilter::Present("objectClass".into()),
            &limits,
            dir.rules(),
            dir.base_dn(),
        )
        .unwrap();
        PagedSearch::new(
            dir.clone(),
            filter,
            Position::After(None),
            None,
            String::new(),
            now,
        )
    }

    #[test]
    fn searches_parked_on_another_generation_are_dropped() {
        let now = Instant::now();
        let ttl = Duration::from_secs(600);
        let (old, new) = (directory(1), directory(2));
        let mut paging = Paging::new(7);
        let first = paging.park(parked(&old, now), 8, ttl, now);
        paging.park(parked(&old, now), 8, ttl, now);
        let on_new = paging.park(parked(&new, now), 8, ttl, now);
        assert_eq!(paging.len(), 3);
        paging.keep_only(&new);
        assert_eq!(paging.len(), 1);
        assert!(paging.take(&first, ttl, now).is_none());
        assert!(paging.take(&on_new, ttl, now).is_some());
        // Nothing but the served generation holds the old one any more.
        assert_eq!(Arc::strong_count(&old), 1);
    }

    #[test]
    fn a_connection_keeps_at_most_max_searches() {
        let now = Instant::now();
        let ttl = Duration::from_secs(600);
        let dir = directory(1);
        let mut paging = Paging::new(7);
        let cookies: Vec<Vec<u8>> = (0..5)
            .map(|i| paging.park(parked(&dir, now), 3, ttl, now + Duration::from_secs(i)))
            .collect();
        assert_eq!(paging.len(), 3);
        // The oldest were evicted.
        assert!(paging.take(&cookies[0], ttl, now).is_none());
        assert!(paging.take(&cookies[4], ttl, now).is_some());
    }
}
