//! The root DSE (what a client reads to discover the server) and the base entry of
//! the phone book.

use crate::directory::{Attr, Directory, Filter};
use crate::ldap::policy::Policy;
use crate::ldap::search::{PAGED_RESULTS_OID, SORT_REQUEST_OID, Selection};
use crate::ldap::vlv;
use ldap3_proto::proto::{LdapSearchRequest, LdapSearchResultEntry};

pub const STARTTLS_OID: &str = "1.3.6.1.4.1.1466.20037";
pub const WHOAMI_OID: &str = "1.3.6.1.4.1.4203.1.11.3";

/// Answers a base-scope read of the empty DN.
pub fn answer(
    req: &LdapSearchRequest,
    dir: &Directory,
    policy: &Policy,
    selection: &Selection,
) -> Vec<LdapSearchResultEntry> {
    let top = ["top"];
    let matches =
        Filter::compile(&req.filter, &policy.filter_limits, dir.rules(), "").is_ok_and(|f| {
            f.matches_values(&|attr| match attr {
                Attr::ObjectClass => top.to_vec(),
                _ => Vec::new(),
            })
        });
    if !matches {
        return Vec::new();
    }
    let mut extensions = vec![WHOAMI_OID];
    if policy.starttls {
        extensions.push(STARTTLS_OID);
    }
    let generation = dir.generation().to_string();
    let version = env!("CARGO_PKG_VERSION");
    // Operational attributes: returned when asked for by name, with "+", or, for
    // convenience, with "*" or nothing (a root DSE has nothing else to show).
    let wanted = |name: &str| {
        req.attrs.is_empty()
            || req
                .attrs
                .iter()
                .any(|a| a == "*" || a == "+" || a.eq_ignore_ascii_case(name))
    };
    let attrs: Vec<(&'static str, Vec<&str>)> = vec![
        ("objectClass", top.to_vec()),
        (
            "namingContexts",
            std::iter::once(policy.base_dn.as_str())
                .chain(policy.books.iter().map(|b| b.policy.base_dn.as_str()))
                .collect(),
        ),
        ("defaultNamingContext", vec![policy.base_dn.as_str()]),
        ("supportedLDAPVersion", vec!["3"]),
        (
            "supportedControl",
            vec![PAGED_RESULTS_OID, SORT_REQUEST_OID, vlv::REQUEST_OID],
        ),
        ("supportedExtension", extensions),
        ("supportedSASLMechanisms", Vec::new()),
        ("vendorName", vec!["sop"]),
        ("vendorVersion", vec![version]),
        ("servedGeneration", vec![generation.as_str()]),
    ];
    let attrs = attrs.into_iter().filter(|(name, _)| wanted(name));
    vec![selection.entry(String::new(), attrs)]
}

/// The first RDN of the base DN, attribute and value (`dc`, `phonebook` for
/// `dc=phonebook,dc=local`).
fn base_rdn(base_dn: &str) -> (&str, &str) {
    let first = base_dn.split(',').next().unwrap_or_default();
    match first.split_once('=') {
        Some((a, v)) => (a.trim(), v.trim()),
        None => ("dc", first.trim()),
    }
}

fn base_object_classes(base_dn: &str) -> Vec<&'static str> {
    match base_rdn(base_dn).0.to_ascii_lowercase().as_str() {
        "dc" => vec!["top", "dcObject", "organization"],
        "ou" => vec!["top", "organizationalUnit"],
        _ => vec!["top", "organization"],
    }
}

/// Does the phone book's base entry match the filter?
pub fn base_entry_matches(filter: &Filter, policy: &Policy) -> bool {
    let classes = base_object_classes(&policy.base_dn);
    let (_, name) = base_rdn(&policy.base_dn);
    filter.matches_values(&|attr| match attr {
        Attr::ObjectClass => classes.clone(),
        Attr::O | Attr::Ou => vec![name],
        _ => Vec::new(),
    })
}

/// Every attribute of the base entry, an organization (or unit) holding the
/// contacts, with its values: what a search for all attributes returns.
pub fn base_attributes(base_dn: &str) -> Vec<(&'static str, Vec<&str>)> {
    let (rdn_attr, name) = base_rdn(base_dn);
    let rdn_attr = if rdn_attr.eq_ignore_ascii_case("ou") {
        "ou"
    } else {
        "dc"
    };
    vec![
        ("objectClass", base_object_classes(base_dn)),
        (rdn_attr, vec![name]),
        ("o", vec![name]),
    ]
}

/// The base entry, with the attributes the selection asks for.
pub fn base_entry(policy: &Policy, selection: &Selection) -> LdapSearchResultEntry {
    let attrs = base_attributes(&policy.base_dn)
        .into_iter()
        .filter(|(n, _)| Attr::from_name(n).map_or(selection.wants_all(), |a| selection.wants(a)));
    selection.entry(policy.base_dn.clone(), attrs)
}
