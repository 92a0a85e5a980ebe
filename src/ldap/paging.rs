//! Simple paged results (RFC 2696): the state of paged searches of one connection.
//!
//! A cookie is only known to the connection that received it, so a cookie replayed on
//! another connection is refused. Each connection keeps a bounded number of them, and
//! each expires after a while.

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
    /// The generation the search started on: later pages come from the same one,
    /// even when a merge published a new one in between.
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

    fn expire(&mut self, ttl: Duration, now: Instant) {
        self.searches
            .retain(|_, s| now.saturating_duration_since(s.created) < ttl);
    }
}
