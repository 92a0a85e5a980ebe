//! What the configuration says about serving LDAP, in the form the handler uses.

use crate::config::{BindPolicy, Config};
use crate::directory::FilterLimits;
use crate::directory::dn;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone)]
pub struct Policy {
    pub base_dn: String,
    /// `base_dn` normalised for comparisons.
    pub base_norm: String,
    pub size_limit: u32,
    pub time_limit: Duration,
    pub bind: BindPolicy,
    pub bind_dn_norm: String,
    /// Only for `BindPolicy::Credentials`; never printed.
    pub bind_password: Option<String>,
    pub starttls: bool,
    pub tls_required: bool,
    pub filter_limits: FilterLimits,
    pub max_paged_searches: usize,
    /// Most matches a search is sorted over (server-side sort).
    pub max_sort_candidates: usize,
    pub paged_search_timeout: Duration,
    /// Whether operations are written to the access log.
    pub access_log: bool,
    /// Largest request accepted, in bytes.
    pub max_request_bytes: usize,
    pub idle_timeout: Duration,
    /// `[[phonebooks]]`: the other phone books and how each is answered.
    pub books: Vec<Book>,
}

/// One of the other phone books (`[[phonebooks]]`).
#[derive(Clone)]
pub struct Book {
    pub name: String,
    /// Its base DN, normalised.
    pub base_norm: String,
    /// A phone bound as this DN sees this phone book only; empty: any phone may
    /// search it.
    pub bind_dn_norm: String,
    /// The policy its searches are answered with: its base DN and size limit, and
    /// its own bind DN when it has one.
    pub policy: Arc<Policy>,
}

impl Book {
    /// Whether a phone bound as `bound` (a phone book's name, or none) may search
    /// it: a phone bound as a phone book sees that one only.
    pub fn open_to(&self, bound: Option<&str>) -> bool {
        match bound {
            Some(name) => name == self.name,
            None => self.bind_dn_norm.is_empty(),
        }
    }
}

impl fmt::Debug for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Policy")
            .field("base_dn", &self.base_dn)
            .field("size_limit", &self.size_limit)
            .field("bind", &self.bind)
            .field("bind_dn", &self.bind_dn_norm)
            .field(
                "bind_password",
                &self.bind_password.as_ref().map(|_| "********"),
            )
            .field("starttls", &self.starttls)
            .field("tls_required", &self.tls_required)
            .finish_non_exhaustive()
    }
}

impl Policy {
    /// `bind_password` is read by the caller from the file the config names.
    pub fn new(config: &Config, bind_password: Option<String>) -> Policy {
        let ldap = &config.ldap;
        Policy {
            base_dn: ldap.base_dn.clone(),
            base_norm: dn::normalize(&ldap.base_dn),
            size_limit: ldap.size_limit,
            time_limit: ldap.time_limit,
            bind: ldap.bind,
            bind_dn_norm: dn::normalize(&ldap.bind_dn),
            bind_password,
            starttls: ldap.tls.starttls,
            tls_required: ldap.tls.required,
            filter_limits: FilterLimits {
                max_depth: ldap.limits.max_filter_depth,
                max_terms: ldap.limits.max_filter_terms,
            },
            max_paged_searches: ldap.limits.max_paged_searches,
            max_sort_candidates: ldap.limits.max_sort_candidates,
            paged_search_timeout: ldap.limits.paged_search_timeout,
            access_log: ldap.access_log,
            max_request_bytes: ldap.limits.max_request_bytes,
            idle_timeout: ldap.limits.idle_timeout,
            books: Vec::new(),
        }
    }

    /// This policy with the phone books of `config`; `password(name)` is the
    /// password of a phone book that has a bind DN, read by the caller.
    pub fn with_books(
        mut self,
        config: &Config,
        password: impl Fn(&str) -> Option<String>,
    ) -> Policy {
        self.books = config
            .phonebooks
            .iter()
            .map(|b| {
                let mut p = self.clone();
                p.base_dn = b.base_dn.clone();
                p.base_norm = dn::normalize(&b.base_dn);
                p.size_limit = b.size_limit.unwrap_or(self.size_limit);
                if !b.bind_dn.is_empty() {
                    p.bind = BindPolicy::Credentials;
                    p.bind_dn_norm = dn::normalize(&b.bind_dn);
                    p.bind_password = password(&b.name);
                }
                Book {
                    name: b.name.clone(),
                    base_norm: p.base_norm.clone(),
                    bind_dn_norm: if b.bind_dn.is_empty() {
                        String::new()
                    } else {
                        p.bind_dn_norm.clone()
                    },
                    policy: Arc::new(p),
                }
            })
            .collect();
        self
    }
}
