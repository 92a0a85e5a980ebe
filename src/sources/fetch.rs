//! Reading a directory: connect (LDAPS, StartTLS, a CA of the admin's choosing),
//! bind, and search page by page (paged results control, RFC 2696), so that a
//! server that caps the entries one search returns still gives them all. A server
//! without paging ignores the control (it is not critical) and answers at once; one
//! that refuses it is asked again without it.
//!
//! Any error, even after some pages, fails the whole fetch: a partial list is
//! never applied.

use super::settings::{Scope, SourceSettings};
use crate::contacts::{Contact, PHOTO_MAX};
use crate::formats::fields::Field;
use crate::home::Home;
use crate::jobs::EntryError;
use crate::jobs::progress::Progress;
use ldap3::adapters::PagedResults;
use ldap3::{LdapConn, LdapConnSettings, LdapError, SearchEntry};
use std::collections::HashMap;
use std::sync::Arc;
use tokio_rustls::rustls;

/// Why a directory could not be read; every message says what to check.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{0}")]
    Setup(String),
    #[error("cannot connect to {uri}: {reason}")]
    Connect { uri: String, reason: String },
    #[error("the bind as {dn} was refused: {reason}")]
    Bind { dn: String, reason: String },
    #[error("the search failed: {0}")]
    Search(String),
    /// The server refused the paged results control before any entry.
    #[error("the server does not allow paged searches: {0}")]
    PagingRefused(String),
}

/// What a search gave.
#[derive(Debug, Default)]
pub struct Fetched {
    pub contacts: Vec<Contact>,
    /// Entries read (with those skipped).
    pub read: usize,
    pub skipped: usize,
    /// The first skipped entries, with their reasons.
    pub errors: Vec<EntryError>,
}

/// How many entry errors a fetch keeps.
const MAX_ERRORS: usize = 1000;

/// Reads the source's entries as contacts.
pub fn fetch(home: &Home, s: &SourceSettings, progress: &Progress) -> Result<Fetched, FetchError> {
    let mut conn = connect(home, s)?;
    bind(home, s, &mut conn)?;
    let fetched = match search(s, &mut conn, s.page_size, progress) {
        Err(FetchError::PagingRefused(why)) => {
            tracing::info!(source = s.name, "{why}; searching again without paging");
            search(s, &mut conn, 0, progress)
        }
        other => other,
    };
    let _ = conn.unbind();
    fetched
}

fn connect(home: &Home, s: &SourceSettings) -> Result<LdapConn, FetchError> {
    let mut settings = LdapConnSettings::new()
        .set_conn_timeout(s.timeout)
        .set_starttls(s.starttls);
    if s.skip_verify {
        tracing::warn!(
            source = s.name,
            "insecure_skip_verify: the server's certificate is NOT checked"
        );
        settings = settings.set_no_tls_verify(true);
    } else if let Some(ca) = &s.ca_file {
        settings = settings.set_config(tls_config(&home.path(ca))?);
    }
    LdapConn::with_settings(settings, &s.uri).map_err(|e| FetchError::Connect {
        uri: s.uri.clone(),
        reason: explain_connect(&e),
    })
}

/// Trusts the CA certificates of one PEM file (and no other).
fn tls_config(path: &std::path::Path) -> Result<Arc<rustls::ClientConfig>, FetchError> {
    let setup = |why: String| FetchError::Setup(format!("ca_file {}: {why}", path.display()));
    let pem = std::fs::read(path).map_err(|e| setup(e.to_string()))?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
        let cert = cert.map_err(|e| setup(format!("not a PEM certificate ({e})")))?;
        roots
            .add(cert)
            .map_err(|e| setup(format!("not a usable CA certificate ({e})")))?;
    }
    if roots.is_empty() {
        return Err(setup("holds no PEM certificate".to_string()));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| setup(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

fn explain_connect(e: &LdapError) -> String {
    let text = e.to_string();
    if text.contains("certificate") || text.contains("UnknownIssuer") {
        return format!(
            "the server's certificate is not trusted ({text}); give its CA with --ca-file"
        );
    }
    if text.contains("refused") {
        return format!("{text} (is the server running, and the port right?)");
    }
    text
}

fn bind(home: &Home, s: &SourceSettings, conn: &mut LdapConn) -> Result<(), FetchError> {
    if s.bind_dn.is_empty() {
        return Ok(());
    }
    let path = home.path(&s.password_file);
    let password = std::fs::read_to_string(&path).map_err(|e| {
        FetchError::Setup(format!(
            "no password for {} in {} ({e}): sop sources edit {} --password-file FILE",
            s.bind_dn,
            path.display(),
            s.name
        ))
    })?;
    let password = password.lines().next().unwrap_or_default();
    let refused = |reason: String| FetchError::Bind {
        dn: s.bind_dn.clone(),
        reason,
    };
    let result = conn
        .with_timeout(s.timeout)
        .simple_bind(&s.bind_dn, password)
        .map_err(|e| refused(e.to_string()))?;
    match result.rc {
        0 => Ok(()),
        49 => Err(refused(
            "wrong bind DN or password (invalidCredentials)".to_string(),
        )),
        rc => Err(refused(format!("result code {rc} {}", result.text))),
    }
}

fn search(
    s: &SourceSettings,
    conn: &mut LdapConn,
    page_size: u32,
    progress: &Progress,
) -> Result<Fetched, FetchError> {
    let scope = match s.scope {
        Scope::Sub => ldap3::Scope::Subtree,
        Scope::One => ldap3::Scope::OneLevel,
    };
    let attrs = s.mapping.attributes();
    let started = if page_size > 0 {
        conn.with_timeout(s.timeout).streaming_search_with(
            PagedResults::new(page_size as i32),
            &s.base_dn,
            scope,
            &s.filter,
            attrs,
        )
    } else {
        conn.with_timeout(s.timeout)
            .streaming_search(&s.base_dn, scope, &s.filter, attrs)
    };
    let mut stream = started.map_err(|e| search_error(s, &e))?;
    let mut out = Fetched::default();
    let mut ids: HashMap<String, String> = HashMap::new();
    loop {
        let entry = match stream.next() {
            Ok(Some(e)) => e,
            Ok(None) => break,
            Err(e) => return Err(search_error(s, &e)),
        };
        if entry.is_ref() || entry.is_intermediate() {
            continue;
        }
        let entry = SearchEntry::construct(entry);
        out.read += 1;
        if out.read % 1000 == 0 {
            progress.set("fetching", out.read as u64, 0);
            if progress.check().is_err() {
                return Err(FetchError::Search("cancelled".to_string()));
            }
        }
        match entry_contact(s, &entry, &ids) {
            Ok(mut contact) => {
                if contact.photo.len() > PHOTO_MAX {
                    contact.photo = Vec::new();
                    if out.errors.len() < MAX_ERRORS {
                        out.errors.push(EntryError {
                            position: entry.dn.clone(),
                            reason: format!(
                                "its photo is larger than {} KiB: left out, the contact is kept",
                                (PHOTO_MAX + 1) / 1024
                            ),
                        });
                    }
                }
                ids.insert(contact.id.clone(), entry.dn.clone());
                out.contacts.push(contact);
            }
            Err(reason) => {
                out.skipped += 1;
                if out.errors.len() < MAX_ERRORS {
                    out.errors.push(EntryError {
                        position: entry.dn.clone(),
                        reason,
                    });
                }
            }
        }
    }
    let result = stream.result();
    match result.rc {
        0 => Ok(out),
        // adminLimitExceeded, unavailableCriticalExtension, unwillingToPerform.
        11 | 12 | 53 if page_size > 0 && out.read == 0 => Err(FetchError::PagingRefused(format!(
            "result code {}{}",
            result.rc,
            detail(&result.text)
        ))),
        4 => {
            let fix = if page_size > 0 {
                "the server limits paged searches too: raise its limit for this bind DN \
                 (OpenLDAP: limits ... size.prtotal=unlimited)"
            } else {
                "use paging (page_size) or raise the server's limit for this bind DN"
            };
            Err(FetchError::Search(format!(
                "the server stopped after {} entries (sizeLimitExceeded{}); nothing was applied: {fix}",
                out.read,
                detail(&result.text)
            )))
        }
        rc => Err(result_error(s, rc, &result.text, out.read)),
    }
}

fn detail(text: &str) -> String {
    if text.trim().is_empty() {
        String::new()
    } else {
        format!(": {}", text.trim())
    }
}

fn result_error(s: &SourceSettings, rc: u32, text: &str, read: usize) -> FetchError {
    let why = match rc {
        32 => format!(
            "the base DN {} does not exist on the server (noSuchObject)",
            s.base_dn
        ),
        87 => format!("the filter {} is not valid (filterError)", s.filter),
        50 => "the bind DN may not read these entries (insufficientAccessRights)".to_string(),
        3 => format!(
            "it took longer than the server allows (timeLimitExceeded{})",
            detail(text)
        ),
        11 => format!(
            "the server's administrative limit was reached (adminLimitExceeded{})",
            detail(text)
        ),
        rc => format!("result code {rc}{}", detail(text)),
    };
    let after = if read > 0 {
        format!(" after {read} entries")
    } else {
        String::new()
    };
    FetchError::Search(format!("{why}{after}; nothing was applied"))
}

fn search_error(s: &SourceSettings, e: &LdapError) -> FetchError {
    match e {
        LdapError::FilterParsing => FetchError::Search(format!(
            "the filter {} is not valid; nothing was applied",
            s.filter
        )),
        LdapError::LdapResult { result } => result_error(s, result.rc, &result.text, 0),
        other => FetchError::Search(format!("{other}; nothing was applied")),
    }
}

/// The contact an entry makes, or why it is skipped.
fn entry_contact(
    s: &SourceSettings,
    entry: &SearchEntry,
    ids: &HashMap<String, String>,
) -> Result<Contact, String> {
    for (attr, fields) in s.mapping.rules() {
        let text = fields.iter().any(|f| *f != Field::Photo);
        if text && entry.bin_attrs.keys().any(|k| k.eq_ignore_ascii_case(attr)) {
            return Err(format!("{attr} is not text (UTF-8)"));
        }
    }
    let contact = s.mapping.contact(&entry.dn, &entry.attrs, &entry.bin_attrs);
    if !contact.is_servable() {
        return Err("no name nor number in the mapped attributes".to_string());
    }
    if let Some(first) = ids.get(&contact.id) {
        return Err(format!("the same id {:?} as {first}", contact.id));
    }
    Ok(contact)
}
