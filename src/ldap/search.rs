//! Answering a search: scope and base, filter, size and time limits, attribute
//! selection, paged results (RFC 2696) and server-side sorting (RFC 2891).

use crate::directory::dn::{self, Place};
use crate::directory::order::{SortKey, View};
use crate::directory::{Attr, Directory, Filter, FilterError};
use crate::ldap::paging::{PagedSearch, Paging, Position};
use crate::ldap::policy::Policy;
use crate::ldap::rootdse;
use crate::ldap::vlv::{self, LastView};
use ldap3_proto::control::{LdapControl, ServerSortRequet};
use ldap3_proto::proto::{
    LdapPartialAttribute, LdapResultCode, LdapSearchRequest, LdapSearchResultEntry, LdapSearchScope,
};
use std::borrow::Cow;
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
    /// A virtual list view control: its request, or None when it cannot be read.
    vlv: Option<Option<vlv::Request>>,
}

fn read_controls(controls: &[LdapControl]) -> Result<Controls<'_>, (LdapResultCode, String)> {
    let mut out = Controls {
        paged: None,
        sort: None,
        sort_critical: false,
        vlv: None,
    };
    for c in controls {
        match c {
            LdapControl::Unknown { oid, value, .. } if oid == vlv::REQUEST_OID => {
                out.vlv = Some(value.as_deref().and_then(vlv::parse));
            }
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

/// What a connection keeps from one search to the next: paged searches to resume
/// and the last virtual list view.
pub struct Continued {
    pub paging: Paging,
    pub views: LastView,
}

impl Continued {
    pub fn new(salt: u64) -> Continued {
        Continued {
            paging: Paging::new(salt),
            views: LastView::default(),
        }
    }

    /// Another generation is served: what was kept of older ones is dropped.
    pub fn keep_only(&mut self, dir: &Arc<Directory>) {
        self.paging.keep_only(dir);
        self.views.keep_only(dir);
    }
}

/// Answers one search request. `sort_critical`: the sort control, if any, was
/// marked critical.
pub fn search(
    req: &LdapSearchRequest,
    controls: &[LdapControl],
    sort_critical: bool,
    dir: &Arc<Directory>,
    policy: &Policy,
    continued: &mut Continued,
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
    match &ctrls.vlv {
        Some(Some(view)) => {
            return list_view(
                req, &ctrls, view, &filter, dir, policy, continued, selection,
            );
        }
        Some(None) => {
            return Answer::error(
                LdapResultCode::ProtocolError,
                "the virtual list view control cannot be read",
            );
        }
        None => {}
    }
    if let Some((size, cookie)) = ctrls.paged {
        return paged(
            req, &ctrls, size, cookie, filter, dir, policy, continued, selection, now,
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

/// A virtual list view: one window of the sorted matches, with the sort result and
/// the view's response (where the target is, how many entries the view has).
#[allow(clippy::too_many_arguments)]
fn list_view(
    req: &LdapSearchRequest,
    ctrls: &Controls<'_>,
    request: &vlv::Request,
    filter: &Filter,
    dir: &Arc<Directory>,
    policy: &Policy,
    continued: &mut Continued,
    selection: Selection,
) -> Answer {
    let Some(sort) = ctrls.sort else {
        let mut answer = Answer::error(
            LdapResultCode::VirtualListViewError,
            "a virtual list view needs the server-side sort control",
        );
        answer
            .controls
            .push(vlv::response(0, 0, vlv::SORT_MISSING, None));
        return answer;
    };
    if ctrls.paged.is_some() {
        return Answer::error(
            LdapResultCode::UnwillingToPerform,
            "a virtual list view cannot be paged as well",
        );
    }
    if sort.len() > vlv::MAX_KEYS {
        return Answer::error(
            LdapResultCode::UnwillingToPerform,
            format!(
                "a virtual list view sorts by at most {} keys",
                vlv::MAX_KEYS
            ),
        );
    }
    let keys = match sort_keys(sort) {
        Ok(keys) => keys,
        Err(code) => {
            let mut answer = Answer::error(code.clone(), "cannot sort by an unknown attribute");
            answer.controls.push(sort_control(code));
            return answer;
        }
    };
    let base = base_of(req, policy);
    let search =
        crate::directory::stable_hash(&format!("{base}|{:?}|{:?}|{keys:?}", req.scope, req.filter));
    let view = match dn::place(&base, &policy.base_norm) {
        // The base entry itself is not listed: a view lists contacts.
        Place::Base if req.scope == LdapSearchScope::Base => View::Some(Arc::from([])),
        Place::Base => {
            let max = policy.max_sort_candidates;
            match continued.views.get(dir, search, filter, &keys, max) {
                Some(view) => view,
                None => {
                    let mut answer = Answer::error(
                        LdapResultCode::AdminLimitExceeded,
                        format!(
                            "more than {max} entries match; a list view of some of the phone \
                             book is limited to that many ([ldap.limits] max_sort_candidates), \
                             the whole phone book is not"
                        ),
                    );
                    answer
                        .controls
                        .push(sort_control(LdapResultCode::AdminLimitExceeded));
                    let code = LdapResultCode::AdminLimitExceeded as i64;
                    answer.controls.push(vlv::response(0, 0, code, None));
                    return answer;
                }
            }
        }
        Place::Child(escaped) => match dir.find_uid(&dn::unescape(escaped)) {
            Some(id)
                if matches!(req.scope, LdapSearchScope::Base | LdapSearchScope::Subtree)
                    && dir.matches(filter, id) =>
            {
                View::Some(Arc::from([id]))
            }
            Some(_) => View::Some(Arc::from([])),
            None => return no_such_object(&policy.base_dn),
        },
        Place::Under => return no_such_object(&policy.base_dn),
        Place::Outside => return no_such_object(""),
    };
    let ids = view.ids();
    // The context names the view: the same search gets the same one back.
    let context = search.to_be_bytes();
    let mut answer = Answer::with(dir, selection);
    answer.controls.push(sort_control(LdapResultCode::Success));
    match vlv::window(request, ids.len(), |value| {
        dir.position_of(&keys, ids, value)
    }) {
        Ok(window) => {
            let limit = match usize::try_from(req.sizelimit).unwrap_or(0) {
                0 => policy.size_limit as usize,
                n => n.min(policy.size_limit as usize),
            };
            let end = window.end.min(window.start.saturating_add(limit));
            if end < window.end {
                answer.code = LdapResultCode::SizeLimitExceeded;
            }
            answer.ids.extend_from_slice(&ids[window.start..end]);
            let response = vlv::response(window.target, ids.len(), 0, Some(&context));
            answer.controls.push(response);
        }
        Err(vlv::OutOfRange) => {
            answer.code = LdapResultCode::VirtualListViewError;
            answer.message = format!(
                "the offset is past the end of the list ({} entries)",
                ids.len()
            );
            let response = vlv::response(0, ids.len(), vlv::RANGE_ERROR, Some(&context));
            answer.controls.push(response);
        }
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
    let keys = sort_keys(keys)?;
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
    dir.sort_ids(&keys, &mut ids);
    if Instant::now() > deadline {
        return Err(LdapResultCode::TimeLimitExceeded);
    }
    Ok(ids)
}

/// The sort control's keys; noSuchAttribute for an attribute the directory does not
/// serve.
fn sort_keys(keys: &[ServerSortRequet]) -> Result<Vec<SortKey>, LdapResultCode> {
    keys.iter()
        .map(|k| {
            Attr::from_name(&k.attribute_name).map(|attr| SortKey {
                attr,
                reverse: k.reverse_order,
            })
        })
        .collect::<Option<Vec<_>>>()
        .ok_or(LdapResultCode::NoSuchAttribute)
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
    continued: &mut Continued,
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
            return search(&plain, &[], false, dir, policy, continued, now);
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
        let mut answer = page(s, size, &mut continued.paging, policy, selection, now);
        answer.controls.extend(answer_controls);
        return answer;
    } else {
        match continued.paging.take(cookie, ttl, now) {
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
    page(search, size, &mut continued.paging, policy, selection, now)
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

    /// A list view request over `dir` with these controls: its result code and the
    /// view's response (target, count, result), if any.
    fn view(dir: &Arc<Directory>, controls: Vec<LdapControl>) -> (LdapResultCode, Option<Vec<u8>>) {
        view_of(
            dir,
            controls,
            LdapFilter::Present("objectClass".into()),
            1000,
        )
    }

    /// `view` with a filter and `[ldap.limits] max_sort_candidates`.
    fn view_of(
        dir: &Arc<Directory>,
        controls: Vec<LdapControl>,
        filter: LdapFilter,
        max_sort_candidates: usize,
    ) -> (LdapResultCode, Option<Vec<u8>>) {
        let mut config = crate::config::Config::defaults();
        config.ldap.base_dn = dir.base_dn().to_string();
        config.ldap.limits.max_sort_candidates = max_sort_candidates;
        let policy = Policy::new(&config, None);
        let req = LdapSearchRequest {
            base: dir.base_dn().to_string(),
            scope: LdapSearchScope::Subtree,
            aliases: ldap3_proto::proto::LdapDerefAliases::Never,
            sizelimit: 0,
            timelimit: 0,
            typesonly: false,
            filter,
            attrs: Vec::new(),
        };
        let mut continued = Continued::new(1);
        let answer = search(
            &req,
            &controls,
            false,
            dir,
            &policy,
            &mut continued,
            Instant::now(),
        );
        let response = answer.controls.into_iter().find_map(|c| match c {
            LdapControl::Unknown { oid, value, .. } if oid == "2.16.840.1.113730.3.4.10" => value,
            _ => None,
        });
        (answer.code, response)
    }

    #[test]
    fn list_views_that_cannot_be_answered_say_why() {
        let dir = Arc::new(crate::bench::phonebook::directory(50, 3));
        let vlv = |value: &[u8]| LdapControl::Unknown {
            oid: vlv::REQUEST_OID.into(),
            criticality: true,
            value: Some(value.to_vec()),
        };
        // before 0, after 4, offset 1, count 0.
        let first = vlv(&[
            0x30, 0x0e, 0x02, 0x01, 0x00, 0x02, 0x01, 0x04, 0xa0, 0x06, 0x02, 0x01, 0x01, 0x02,
            0x01, 0x00,
        ]);
        let sort = |names: &[&str]| LdapControl::ServerSort {
            sort_requests: names
                .iter()
                .map(|n| ServerSortRequet {
                    attribute_name: (*n).into(),
                    ordering_rule: None,
                    reverse_order: false,
                })
                .collect(),
        };
        // Answered: 5 entries, target 1 of 50.
        let (code, response) = view(&dir, vec![sort(&["sn"]), first.clone()]);
        assert_eq!(code, LdapResultCode::Success);
        assert_eq!(
            response.unwrap()[..11],
            [
                0x30, 0x13, 0x02, 0x01, 0x01, 0x02, 0x01, 50, 0x0a, 0x01, 0x00
            ]
        );
        // No sort: the view's error, and its response says the sort is missing.
        let (code, response) = view(&dir, vec![first.clone()]);
        assert_eq!(code, LdapResultCode::VirtualListViewError);
        assert_eq!(
            response.unwrap(),
            [
                0x30, 0x09, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00, 0x0a, 0x01, 76
            ]
        );
        // Paged as well, too many keys, an unknown key, an unreadable control.
        let paged = LdapControl::SimplePagedResults {
            size: 5,
            cookie: Vec::new(),
        };
        let (code, _) = view(&dir, vec![sort(&["sn"]), first.clone(), paged]);
        assert_eq!(code, LdapResultCode::UnwillingToPerform);
        let six = ["sn", "cn", "o", "mail", "givenName", "mobile"];
        assert_eq!(
            view(&dir, vec![sort(&six), first.clone()]).0,
            LdapResultCode::UnwillingToPerform
        );
        assert_eq!(
            view(&dir, vec![sort(&["nosuch"]), first.clone()]).0,
            LdapResultCode::NoSuchAttribute
        );
        assert_eq!(
            view(&dir, vec![sort(&["sn"]), vlv(&[0x30, 0x00])]).0,
            LdapResultCode::ProtocolError
        );
        // A view of some of the phone book is at most max_sort_candidates long; the
        // whole phone book is not limited.
        let some = LdapFilter::Or(vec![
            LdapFilter::Substring(
                "sn".into(),
                ldap3_proto::proto::LdapSubstringFilter {
                    initial: Some("a".into()),
                    any: vec![],
                    final_: None,
                },
            ),
            LdapFilter::Present("mail".into()),
        ]);
        let (code, _) = view_of(&dir, vec![sort(&["sn"]), first.clone()], some.clone(), 1000);
        assert_eq!(code, LdapResultCode::Success);
        let (code, response) = view_of(&dir, vec![sort(&["sn"]), first.clone()], some, 5);
        assert_eq!(code, LdapResultCode::AdminLimitExceeded);
        assert_eq!(response.unwrap()[8..], [0x0a, 0x01, 11]);
        let all = LdapFilter::Present("objectClass".into());
        assert_eq!(
            view_of(&dir, vec![sort(&["sn"]), first], all, 5).0,
            LdapResultCode::Success
        );
    }

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
                let key = [SortKey { attr, reverse }];
                assert!(
                    dir.compare(&key, pair[0], pair[1]).is_lt(),
                    "{name}: {pair:?}"
                );
            }
        }
        assert_eq!(
            sorted_ids(&dir, &filter, &[], 499, later),
            Err(LdapResultCode::AdminLimitExceeded)
        );
    }
}
