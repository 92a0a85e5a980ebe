//! Answering a search: scope and base, filter, size and time limits, attribute
//! selection, paged results (RFC 2696) and server-side sorting (RFC 2891).

use crate::directory::dn::{self, Place};
use crate::directory::{Attr, Directory, Filter, FilterError};
use crate::ldap::paging::{PagedSearch, Paging, Position};
use crate::ldap::policy::Policy;
use crate::ldap::rootdse;
use ldap3_proto::control::{LdapControl, ServerSortRequet};
use ldap3_proto::proto::{
    LdapPartialAttribute, LdapResultCode, LdapSearchRequest, LdapSearchResultEntry, LdapSearchScope,
};
use std::borrow::Cow;
use std::cmp::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const PAGED_RESULTS_OID: &str = "1.2.840.113556.1.4.319";
pub const SORT_REQUEST_OID: &str = "1.2.840.113556.1.4.473";
const SORT_RESULT_OID: &str = "1.2.840.113556.1.4.474";

/// What a search produced: entries, then a result code and the response controls.
/// Contacts are named by id and written straight from `directory` by the caller.
pub struct Answer {
    /// Entries that are not contacts (the root DSE, the base entry), sent first.
    pub built: Vec<LdapSearchResultEntry>,
    /// The snapshot `ids` refer to.
    pub directory: Option<Arc<Directory>>,
    pub ids: Vec<u32>,
    pub selection: Selection,
    pub code: LdapResultCode,
    pub matched_dn: String,
    pub message: String,
    pub controls: Vec<LdapControl>,
}

impl Answer {
    pub fn error(code: LdapResultCode, message: impl Into<String>) -> Answer {
        Answer {
            built: Vec::new(),
            directory: None,
            ids: Vec::new(),
            selection: Selection::new(&[], false),
            code,
            matched_dn: String::new(),
            message: message.into(),
            controls: Vec::new(),
        }
    }

    fn with(dir: &Arc<Directory>, selection: Selection) -> Answer {
        Answer {
            directory: Some(dir.clone()),
            selection,
            ..Answer::error(LdapResultCode::Success, "")
        }
    }

    pub fn count(&self) -> usize {
        self.built.len() + self.ids.len()
    }
}

/// Which attributes to return.
pub struct Selection {
    all: bool,
    /// One bit per named attribute (`1 << attr as u32`).
    named: u32,
    types_only: bool,
}

impl Selection {
    pub fn new(attrs: &[String], types_only: bool) -> Selection {
        let all = attrs.is_empty() || attrs.iter().any(|a| a == "*");
        let named = attrs
            .iter()
            .filter_map(|a| Attr::from_name(a))
            .fold(0, |m, a| m | 1 << a as u32);
        Selection {
            all,
            named,
            types_only,
        }
    }

    pub fn wants_all(&self) -> bool {
        self.all
    }

    pub fn wants(&self, attr: Attr) -> bool {
        self.all || self.named & 1 << attr as u32 != 0
    }

    pub fn types_only(&self) -> bool {
        self.types_only
    }

    /// Builds one result entry from attribute names and their values.
    pub fn entry<'v>(
        &self,
        dn: String,
        attrs: impl Iterator<Item = (&'static str, Vec<&'v str>)>,
    ) -> LdapSearchResultEntry {
        let attributes = attrs
            .filter(|(_, values)| !values.is_empty())
            .map(|(name, values)| LdapPartialAttribute {
                atype: name.to_string(),
                vals: if self.types_only {
                    Vec::new()
                } else {
                    values.iter().map(|v| v.as_bytes().to_vec()).collect()
                },
            })
            .collect();
        LdapSearchResultEntry { dn, attributes }
    }
}

/// The request's paged-results and sort controls.
struct Controls<'a> {
    paged: Option<(usize, &'a [u8])>,
    sort: Option<&'a [ServerSortRequet]>,
    /// Whether the sort control was marked critical (the decoder does not keep it).
    sort_critical: bool,
}

fn read_controls(controls: &[LdapControl]) -> Result<Controls<'_>, (LdapResultCode, String)> {
    let mut out = Controls {
        paged: None,
        sort: None,
        sort_critical: false,
    };
    for c in controls {
        match c {
            LdapControl::SimplePagedResults { size, cookie } => {
                out.paged = Some((usize::try_from(*size).unwrap_or(0), cookie.as_slice()));
            }
            LdapControl::ServerSort { sort_requests } => out.sort = Some(sort_requests),
            LdapControl::Unknown {
                oid,
                criticality: true,
                ..
            } => {
                return Err((
                    LdapResultCode::UnavailableCriticalExtension,
                    format!("control {oid} is not supported"),
                ));
            }
            _ => {}
        }
    }
    Ok(out)
}

/// Answers one search request. `sort_critical`: the sort control, if any, was
/// marked critical.
pub fn search(
    req: &LdapSearchRequest,
    controls: &[LdapControl],
    sort_critical: bool,
    dir: &Arc<Directory>,
    policy: &Policy,
    paging: &mut Paging,
    now: Instant,
) -> Answer {
    let selection = Selection::new(&req.attrs, req.typesonly);
    if req.base.trim().is_empty() && req.scope == LdapSearchScope::Base {
        let mut answer = Answer::error(LdapResultCode::Success, "");
        answer.built = rootdse::answer(req, dir, policy, &selection);
        return answer;
    }
    let ctrls = match read_controls(controls) {
        Ok(c) => Controls { sort_critical, ..c },
        Err((code, message)) => return Answer::error(code, message),
    };
    let filter = match Filter::compile(
        &req.filter,
        &policy.filter_limits,
        dir.rules(),
        dir.base_dn(),
    ) {
        Ok(f) => f,
        Err(e) => {
            return Answer::error(LdapResultCode::AdminLimitExceeded, filter_error(&e, policy));
        }
    };
    if let Some((size, cookie)) = ctrls.paged {
        return paged(
            req, &ctrls, size, cookie, filter, dir, policy, paging, selection, now,
        );
    }

    // The client's limits, capped by the server's.
    let client_limit = usize::try_from(req.sizelimit).unwrap_or(0);
    let limit = match client_limit {
        0 => policy.size_limit as usize,
        n => n.min(policy.size_limit as usize),
    };
    let deadline = now + time_limit(req.timelimit, policy.time_limit);

    let base_norm = base_of(req, policy);
    let mut answer = Answer::with(dir, selection);
    match dn::place(&base_norm, &policy.base_norm) {
        Place::Base => {
            if matches!(req.scope, LdapSearchScope::Base | LdapSearchScope::Subtree)
                && rootdse::base_entry_matches(&filter, policy)
            {
                answer
                    .built
                    .push(rootdse::base_entry(policy, &answer.selection));
            }
            if req.scope == LdapSearchScope::Base {
                return answer;
            }
            let room = limit.saturating_sub(answer.built.len());
            if let Some(sort) = ctrls.sort {
                match sorted_ids(dir, &filter, sort, policy.max_sort_candidates, deadline) {
                    Ok(ids) => {
                        answer.controls.push(sort_control(LdapResultCode::Success));
                        collect(&mut answer, ids.into_iter(), room, deadline);
                    }
                    Err(code) if ctrls.sort_critical => return unsorted_refused(code, policy),
                    Err(code) => {
                        answer.controls.push(sort_control(code));
                        collect(&mut answer, dir.search(&filter), room, deadline);
                    }
                }
            } else {
                collect(&mut answer, dir.search(&filter), room, deadline);
            }
            // An incoming call's number that no entry holds: the caller-ID
            // fallback's entry, when one fits.
            if answer.ids.is_empty()
                && room > 0
                && answer.code == LdapResultCode::Success
                && let Some((id, rule)) = crate::directory::fallback::find(dir, &filter)
            {
                tracing::debug!(rule, "caller-ID fallback");
                answer.ids.push(id);
            }
        }
        Place::Child(escaped) => match dir.find_uid(&dn::unescape(escaped)) {
            Some(id) => {
                let in_scope =
                    matches!(req.scope, LdapSearchScope::Base | LdapSearchScope::Subtree);
                if in_scope && dir.matches(&filter, id) {
                    answer.ids.push(id);
                }
            }
            None => return no_such_object(&policy.base_dn),
        },
        Place::Under => return no_such_object(&policy.base_dn),
        Place::Outside => return no_such_object(""),
    }
    answer
}

fn filter_error(e: &FilterError, policy: &Policy) -> String {
    match e {
        FilterError::TooDeep => format!(
            "filter nested deeper than {} levels (max_filter_depth)",
            policy.filter_limits.max_depth
        ),
        FilterError::TooManyTerms => format!(
            "filter has more than {} terms (max_filter_terms)",
            policy.filter_limits.max_terms
        ),
    }
}

fn time_limit(client_secs: i32, server: Duration) -> Duration {
    match u64::try_from(client_secs) {
        Ok(0) | Err(_) => server,
        Ok(s) => Duration::from_secs(s).min(server),
    }
}

fn no_such_object(matched: &str) -> Answer {
    let mut a = Answer::error(LdapResultCode::NoSuchObject, "no such entry");
    a.matched_dn = matched.to_string();
    a
}

/// Takes up to `room` entries; one more match means sizeLimitExceeded.
fn collect(answer: &mut Answer, ids: impl Iterator<Item = u32>, room: usize, deadline: Instant) {
    for (n, id) in ids.enumerate() {
        if n >= room {
            answer.code = LdapResultCode::SizeLimitExceeded;
            return;
        }
        if n % 64 == 63 && Instant::now() > deadline {
            answer.code = LdapResultCode::TimeLimitExceeded;
            return;
        }
        answer.ids.push(id);
    }
}

/// Every match, in the order the sort keys give; or why they are not sorted: an
/// unknown sort attribute (noSuchAttribute), more than `max` matches
/// (adminLimitExceeded) or the time limit reached (timeLimitExceeded). `max` keeps a
/// sort short enough to run where requests are answered (`[ldap.limits]
/// max_sort_candidates`).
fn sorted_ids(
    dir: &Directory,
    filter: &Filter,
    keys: &[ServerSortRequet],
    max: usize,
    deadline: Instant,
) -> Result<Vec<u32>, LdapResultCode> {
    let attrs: Option<Vec<(Attr, bool)>> = keys
        .iter()
        .map(|k| Attr::from_name(&k.attribute_name).map(|a| (a, k.reverse_order)))
        .collect();
    let Some(attrs) = attrs else {
        return Err(LdapResultCode::NoSuchAttribute);
    };
    let mut ids = Vec::new();
    for (n, id) in dir.search(filter).enumerate() {
        if n >= max {
            return Err(LdapResultCode::AdminLimitExceeded);
        }
        if n % 64 == 63 && Instant::now() > deadline {
            return Err(LdapResultCode::TimeLimitExceeded);
        }
        ids.push(id);
    }
    // Each entry's keys are read once, in the form `Directory::cmp_for_sort` compares
    // (the first value, normalised; none sorts last), not at every comparison: the
    // entries' values are spread over memory (a search sorting 8,051 matches at
    // 100,000 contacts: 24 -> 14 ms, most of it now finding the matches).
    let mut keyed: Vec<(Vec<Option<String>>, u32)> = ids
        .into_iter()
        .map(|id| (sort_keys(dir, id, &attrs), id))
        .collect();
    keyed.sort_by(|(a, _), (b, _)| {
        a.iter()
            .zip(b)
            .zip(&attrs)
            .map(|((x, y), (_, reverse))| {
                let o = match (x, y) {
                    (Some(x), Some(y)) => x.cmp(y),
                    (Some(_), None) => Ordering::Less,
                    (None, Some(_)) => Ordering::Greater,
                    (None, None) => Ordering::Equal,
                };
                if *reverse { o.reverse() } else { o }
            })
            .find(|o| *o != Ordering::Equal)
            .unwrap_or(Ordering::Equal)
    });
    if Instant::now() > deadline {
        return Err(LdapResultCode::TimeLimitExceeded);
    }
    Ok(keyed.into_iter().map(|(_, id)| id).collect())
}

/// An entry's sort keys: for each attribute, its first value as the directory
/// normalises it for matching. Object classes are not stored with the entry, and
/// sort as absent, as in `Directory::cmp_for_sort`.
fn sort_keys(dir: &Directory, id: u32, attrs: &[(Attr, bool)]) -> Vec<Option<String>> {
    let entry = dir.entry(id);
    attrs
        .iter()
        .map(|(attr, _)| match attr {
            Attr::ObjectClass => None,
            _ => entry
                .values(*attr)
                .next()
                .map(|v| crate::directory::matching::normalize(attr.rule(), v)),
        })
        .collect()
}

/// A critical sort that cannot be done: no entries, unavailableCriticalExtension, and
/// the sort result saying why (RFC 2891 1.1).
fn unsorted_refused(code: LdapResultCode, policy: &Policy) -> Answer {
    let why = match code {
        LdapResultCode::AdminLimitExceeded => format!(
            "more than {} entries match; sorting is limited to that many \
             ([ldap.limits] max_sort_candidates)",
            policy.max_sort_candidates
        ),
        LdapResultCode::TimeLimitExceeded => "sorting did not end within the time limit".into(),
        _ => "cannot sort by an unknown attribute".into(),
    };
    let mut answer = Answer::error(LdapResultCode::UnavailableCriticalExtension, why);
    answer.controls.push(sort_control(code));
    answer
}

/// The sort result control: `SEQUENCE { sortResult ENUMERATED, attributeType [0]
/// OPTIONAL }` (RFC 2891), written here because `ldap3_proto` writes attributeType as
/// an empty universal OCTET STRING, which clients (its own decoder too) cannot read.
fn sort_control(code: LdapResultCode) -> LdapControl {
    LdapControl::Unknown {
        oid: SORT_RESULT_OID.to_string(),
        criticality: false,
        value: Some(vec![0x30, 0x03, 0x0a, 0x01, code as u8]),
    }
}

/// The search's base, normalised: the served base when the request names none.
fn base_of<'a>(req: &'a LdapSearchRequest, policy: &'a Policy) -> Cow<'a, str> {
    if req.base.trim().is_empty() {
        Cow::Borrowed(policy.base_norm.as_str())
    } else {
        dn::normalized(&req.base)
    }
}

fn fingerprint(req: &LdapSearchRequest) -> String {
    format!(
        "{}|{:?}|{:?}|{:?}|{}",
        dn::normalize(&req.base),
        req.scope,
        req.filter,
        req.attrs,
        req.typesonly
    )
}

#[allow(clippy::too_many_arguments)]
fn paged(
    req: &LdapSearchRequest,
    ctrls: &Controls<'_>,
    size: usize,
    cookie: &[u8],
    filter: Filter,
    dir: &Arc<Directory>,
    policy: &Policy,
    paging: &mut Paging,
    selection: Selection,
    now: Instant,
) -> Answer {
    // A page is at most the server's size limit; a larger page size is refused with
    // adminLimitExceeded, as slapd does with `limits * size.pr=N size.prtotal=unlimited`
    // ("illegal pagedResults page size"), rather than capped: the client learns the
    // limit, and its pages together may still list the whole phone book.
    if size > policy.size_limit as usize {
        return Answer::error(
            LdapResultCode::AdminLimitExceeded,
            format!(
                "page size {size} exceeds the server's size limit ({}, [ldap] size_limit)",
                policy.size_limit
            ),
        );
    }
    let ttl = policy.paged_search_timeout;
    let mut search = if cookie.is_empty() {
        if dn::place(&base_of(req, policy), &policy.base_norm) != Place::Base
            || req.scope == LdapSearchScope::Base
        {
            // Paging only matters for the phone book itself; anything else is small.
            let plain = req.clone();
            return search(&plain, &[], false, dir, policy, paging, now);
        }
        let mut answer_controls = Vec::new();
        let deadline = now + time_limit(req.timelimit, policy.time_limit);
        let sorted = ctrls
            .sort
            .map(|keys| sorted_ids(dir, &filter, keys, policy.max_sort_candidates, deadline));
        let position = match sorted {
            Some(Ok(ids)) => {
                answer_controls.push(sort_control(LdapResultCode::Success));
                Position::Sorted { ids, sent: 0 }
            }
            Some(Err(code)) if ctrls.sort_critical => return unsorted_refused(code, policy),
            Some(Err(code)) => {
                answer_controls.push(sort_control(code));
                Position::After(None)
            }
            None => Position::After(None),
        };
        let remaining = usize::try_from(req.sizelimit).ok().filter(|n| *n > 0);
        let s = PagedSearch::new(
            dir.clone(),
            filter,
            position,
            remaining,
            fingerprint(req),
            now,
        );
        let mut answer = page(s, size, paging, policy, selection, now);
        answer.controls.extend(answer_controls);
        return answer;
    } else {
        match paging.take(cookie, ttl, now) {
            Some(s) if s.fingerprint == fingerprint(req) => s,
            Some(_) => {
                return Answer::error(
                    LdapResultCode::UnwillingToPerform,
                    "paged results cookie was issued for a different search",
                );
            }
            None => {
                return Answer::error(
                    LdapResultCode::UnwillingToPerform,
                    "paged results cookie is unknown on this connection or has expired \
                     (a newer phone book served ends paged searches)",
                );
            }
        }
    };
    if size == 0 {
        // RFC 2696: a page size of zero abandons the paged search.
        search.remaining = Some(0);
        return paged_done(Answer::error(LdapResultCode::Success, ""), Vec::new());
    }
    page(search, size, paging, policy, selection, now)
}

fn page(
    mut s: PagedSearch,
    size: usize,
    paging: &mut Paging,
    policy: &Policy,
    selection: Selection,
    now: Instant,
) -> Answer {
    let mut answer = Answer::with(&s.directory, selection);
    let want = match s.remaining {
        Some(r) => size.max(1).min(r),
        None => size.max(1),
    };
    let dir = s.directory.clone();
    let mut more = match &mut s.position {
        Position::After(after) => {
            let mut it = dir.search_from(&s.filter, *after);
            for id in it.by_ref().take(want) {
                answer.ids.push(id);
                *after = Some(id);
            }
            it.next().is_some()
        }
        Position::Sorted { ids, sent } => {
            answer.ids.extend(ids.iter().skip(*sent).take(want));
            *sent += want.min(ids.len().saturating_sub(*sent));
            *sent < ids.len()
        }
    };
    if let Some(r) = s.remaining.as_mut() {
        *r -= answer.ids.len().min(*r);
        if *r == 0 && more {
            answer.code = LdapResultCode::SizeLimitExceeded;
            more = false;
        }
    }
    let cookie = if more {
        paging.park(
            s,
            policy.max_paged_searches,
            policy.paged_search_timeout,
            now,
        )
    } else {
        Vec::new()
    };
    paged_done(answer, cookie)
}

fn paged_done(mut answer: Answer, cookie: Vec<u8>) -> Answer {
    answer
        .controls
        .push(LdapControl::SimplePagedResults { size: 0, cookie });
    answer
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::directory::FilterLimits;
    use ldap3_proto::proto::LdapFilter;

    #[test]
    fn sorted_as_the_directory_compares() {
        let dir = crate::bench::phonebook::directory(500, 3);
        let limits = FilterLimits {
            max_depth: 8,
            max_terms: 8,
        };
        let all = LdapFilter::Present("objectClass".into());
        let filter = Filter::compile(&all, &limits, dir.rules(), dir.base_dn()).unwrap();
        let later = Instant::now() + Duration::from_secs(60);
        for (name, reverse) in [
            ("telephoneNumber", false),
            ("sn", true),
            ("cn", false),
            ("mobile", false),
            ("o", true),
        ] {
            let attr = Attr::from_name(name).unwrap();
            let keys = [ServerSortRequet {
                attribute_name: name.into(),
                ordering_rule: None,
                reverse_order: reverse,
            }];
            let ids = sorted_ids(&dir, &filter, &keys, 10_000, later).unwrap();
            assert_eq!(ids.len(), 500);
            for pair in ids.windows(2) {
                let o = dir.cmp_for_sort(attr, pair[0], pair[1]);
                let o = if reverse { o.reverse() } else { o };
                assert_ne!(o, Ordering::Greater, "{name}: {pair:?}");
            }
        }
        assert_eq!(
            sorted_ids(&dir, &filter, &[], 499, later),
            Err(LdapResultCode::AdminLimitExceeded)
        );
    }
}
