//! A search of the served directory by an RFC 4515 filter string, as the shell's
//! Contacts and Phone views ask for it: the same filter code that answers phones,
//! without the LDAP framing.

use super::filter::{Filter, FilterLimits};
use super::order::SortKey;
use super::schema::Attr;
use super::served::Directory;
use ldap3_proto::proto::LdapFilter;
use serde::{Deserialize, Serialize};

/// Bounds for filters typed by an admin: as generous as a phone's.
const LIMITS: FilterLimits = FilterLimits {
    max_depth: 32,
    max_terms: 256,
};

/// What a search found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Found {
    /// Matching entries counted, at most `limit + 1`: more than `limit` means the
    /// list was cut.
    pub matched: usize,
    pub entries: Vec<FoundEntry>,
    /// Time spent searching, in microseconds.
    pub micros: u64,
    /// The caller-ID fallback rule that found the entry, when the number itself
    /// found nothing (`[numbers] fallback`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
    /// For a browse: where the entries are in the sorted list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
}

/// Where a browse's entries are in the sorted list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// The first entry's place, from 0.
    pub first: usize,
    /// How many entries the list has.
    pub total: usize,
}

/// Where a browse starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum From {
    /// At this place of the list, from 0.
    Offset(usize),
    /// At the first entry whose first sort key is at or after this text, as a
    /// phone jumps to what is typed.
    Value(String),
}

impl Found {
    pub fn truncated(&self) -> bool {
        self.matched > self.entries.len()
    }
}

/// One entry: its DN and its attributes in the order the server sends them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoundEntry {
    pub dn: String,
    pub attributes: Vec<(String, Vec<String>)>,
}

impl FoundEntry {
    /// The values of one attribute, by its LDAP name (case-insensitive).
    pub fn get(&self, name: &str) -> &[String] {
        self.attributes
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
            .unwrap_or_default()
    }

    /// The first value of an attribute, or "".
    pub fn first(&self, name: &str) -> &str {
        self.get(name).first().map(String::as_str).unwrap_or("")
    }
}

/// RFC 4515 escaping of typed text inside a filter.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '*' => out.push_str("\\2a"),
            '(' => out.push_str("\\28"),
            ')' => out.push_str("\\29"),
            '\\' => out.push_str("\\5c"),
            '\0' => out.push_str("\\00"),
            c => out.push(c),
        }
    }
    out
}

/// Why a filter string was refused.
pub fn parse(text: &str, dir: &Directory) -> Result<Filter, String> {
    let ldap = parse_text(text)?;
    Filter::compile(&ldap, &LIMITS, dir.rules(), dir.base_dn())
        .map_err(|e| format!("{text:?}: {e}"))
}

/// An RFC 4515 filter string as a filter. `ldap3_proto`'s text parser takes no
/// space inside a value and leaves `\XX` escapes as they are: spaces in values
/// are written `\20` before it parses, and every escape is decoded after.
pub fn parse_text(text: &str) -> Result<LdapFilter, String> {
    let mut spaced = String::with_capacity(text.len() + 8);
    let mut in_value = false;
    for c in text.chars() {
        match c {
            '=' => in_value = true,
            ')' => in_value = false,
            ' ' if in_value => {
                spaced.push_str("\\20");
                continue;
            }
            _ => {}
        }
        spaced.push(c);
    }
    let ldap = ldap3_proto::filter::parse_ldap_filter_str(&spaced)
        .map_err(|_| format!("{text:?} is not an LDAP filter such as (cn=smi*)"))?;
    Ok(unescape(ldap))
}

fn unescape(f: LdapFilter) -> LdapFilter {
    use LdapFilter::*;
    match f {
        And(v) => And(v.into_iter().map(unescape).collect()),
        Or(v) => Or(v.into_iter().map(unescape).collect()),
        Not(f) => Not(Box::new(unescape(*f))),
        Equality(a, v) => Equality(a, decode(&v)),
        GreaterOrEqual(a, v) => GreaterOrEqual(a, decode(&v)),
        LessOrEqual(a, v) => LessOrEqual(a, decode(&v)),
        Approx(a, v) => Approx(a, decode(&v)),
        Substring(a, mut s) => {
            s.initial = s.initial.as_deref().map(decode);
            s.any = s.any.iter().map(|v| decode(v)).collect();
            s.final_ = s.final_.as_deref().map(decode);
            Substring(a, s)
        }
        Extensible(mut m) => {
            m.match_value = decode(&m.match_value);
            Extensible(m)
        }
        Present(a) => Present(a),
    }
}

/// `\XX` escapes as the bytes they stand for (UTF-8 across several escapes).
fn decode(value: &str) -> String {
    if !value.contains('\\') {
        return value.to_string();
    }
    let b = value.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |j: usize| b.get(j).and_then(|c| (*c as char).to_digit(16));
        match (b[i], hex(i + 1), hex(i + 2)) {
            (b'\\', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One entry as the server sends it, object classes left out.
fn found_entry(dir: &Directory, id: u32) -> FoundEntry {
    let e = dir.entry(id);
    let attributes = e
        .groups()
        .filter(|g| g.attr != Attr::ObjectClass)
        .map(|g| {
            let values = g
                .raws()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .collect();
            (g.attr.name().to_string(), values)
        })
        .collect();
    FoundEntry {
        dn: e.dn(),
        attributes,
    }
}

/// Searches `dir` with a filter string; returns up to `limit` entries.
pub fn find(dir: &Directory, text: &str, limit: usize) -> Result<Found, String> {
    let started = std::time::Instant::now();
    let filter = parse(text, dir)?;
    let mut entries = Vec::new();
    let mut matched = 0;
    for id in dir.search(&filter) {
        matched += 1;
        if matched > limit {
            break;
        }
        entries.push(found_entry(dir, id));
    }
    // A number no entry holds: the caller-ID fallback's entry, when one fits.
    let mut fallback = None;
    if matched == 0
        && limit > 0
        && let Some((id, rule)) = super::fallback::find(dir, &filter)
    {
        matched = 1;
        entries.push(found_entry(dir, id));
        fallback = Some(rule);
    }
    Ok(Found {
        matched,
        entries,
        micros: started.elapsed().as_micros() as u64,
        fallback,
        window: None,
    })
}

/// Lists the entries matching a filter string in the order of `sort` (attribute
/// names, `-` before one reverses it), `limit` of them from `from`: what a phone
/// browsing the phone book shows (a virtual list view).
pub fn browse(
    dir: &Directory,
    text: &str,
    sort: &[String],
    from: &From,
    limit: usize,
) -> Result<Found, String> {
    let started = std::time::Instant::now();
    let filter = parse(text, dir)?;
    let keys = sort
        .iter()
        .map(|name| {
            let (reverse, name) = match name.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, name.as_str()),
            };
            Attr::from_name(name)
                .map(|attr| SortKey { attr, reverse })
                .ok_or_else(|| {
                    format!("cannot sort by {name:?}: not an attribute the directory serves")
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let view = dir
        .view(&filter, &keys, usize::MAX)
        .ok_or("too many entries to sort")?;
    let view = view.ids();
    let first = match from {
        From::Offset(at) => *at,
        From::Value(value) => dir.position_of(&keys, view, value),
    }
    .min(view.len().saturating_sub(limit.max(1)));
    let entries: Vec<FoundEntry> = view
        .iter()
        .skip(first)
        .take(limit)
        .map(|id| found_entry(dir, *id))
        .collect();
    Ok(Found {
        matched: entries.len(),
        entries,
        micros: started.elapsed().as_micros() as u64,
        fallback: None,
        window: Some(Window {
            first,
            total: view.len(),
        }),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::contacts::{Contact, Phone, PhoneKind};
    use crate::directory::{Generation, MatchRules, ServedContact};

    fn dir() -> Directory {
        let person = |uid: &str, given: &str, sn: &str, number: &str| ServedContact {
            uid: uid.into(),
            source: "internal".into(),
            contact: Contact {
                given_name: given.into(),
                surname: sn.into(),
                phones: vec![Phone {
                    kind: PhoneKind::Work,
                    number: number.into(),
                }],
                ..Contact::default()
            },
        };
        let g = Generation {
            number: 1,
            created: 0,
            contacts: vec![
                person("a", "Anna", "Smith", "+49 30 1234"),
                person("b", "Bob", "Smithers", "+49 30 5678"),
                person("c", "Carl", "Jones", "+49 30 9999"),
            ],
        };
        Directory::build(&g, "dc=phonebook,dc=local", &MatchRules::default())
    }

    #[test]
    fn finds_by_filter_and_cuts_at_the_limit() {
        let d = dir();
        let f = find(&d, "(sn=smith*)", 10).unwrap();
        assert_eq!(f.matched, 2);
        assert!(!f.truncated());
        assert_eq!(f.entries[0].first("sn"), "Smith");
        assert_eq!(f.entries[0].dn, "uid=a,dc=phonebook,dc=local");
        let cut = find(&d, "(objectClass=*)", 2).unwrap();
        assert_eq!(cut.entries.len(), 2);
        assert!(cut.truncated());
        let by_number = find(&d, "(telephoneNumber=*5678)", 10).unwrap();
        assert_eq!(by_number.entries[0].first("givenName"), "Bob");
    }

    #[test]
    fn a_bad_filter_says_what_is_expected() {
        let e = find(&dir(), "sn=smith(", 10).unwrap_err();
        assert!(e.contains("not an LDAP filter"), "{e}");
    }

    #[test]
    fn typed_filters_keep_their_spaces_and_escapes() {
        assert_eq!(
            parse_text("(|(cn=Anna M*)(telephoneNumber=+49 30 1))").unwrap(),
            LdapFilter::Or(vec![
                LdapFilter::Substring(
                    "cn".into(),
                    ldap3_proto::proto::LdapSubstringFilter {
                        initial: Some("Anna M".into()),
                        any: vec![],
                        final_: None,
                    }
                ),
                LdapFilter::Equality("telephoneNumber".into(), "+49 30 1".into()),
            ])
        );
        assert_eq!(
            parse_text(&format!("(cn={}*)", escape("a*(b)\\ é"))).unwrap(),
            LdapFilter::Substring(
                "cn".into(),
                ldap3_proto::proto::LdapSubstringFilter {
                    initial: Some("a*(b)\\ é".into()),
                    any: vec![],
                    final_: None,
                }
            )
        );
        assert_eq!(
            parse_text("(cn=M\\c3\\bcller)").unwrap(),
            LdapFilter::Equality("cn".into(), "Müller".into())
        );
        assert!(parse_text("(cn=a").is_err());
        assert!(parse_text("cn=a b").is_err());
    }
}
