//! Caller-ID fallback (`[numbers] fallback`): a phone looks an incoming call up
//! by the caller's number; when no entry holds that number, the answer may be the
//! entry that matches it by its last digits, or the company whose main line the
//! caller's direct-dial number extends. The entry is served as it is, so the
//! phone shows its name. Only a search for one number (an equality, or an OR of
//! equalities on number attributes with the same number, as phones send it)
//! falls back, and only to one entry: two candidates are no answer.

use super::filter::Filter;
use super::matching::Substrings;
use super::schema::Attr;
use super::{Directory, Fallback};

/// The longest direct-dial extension the main-line rule strips.
pub const EXTENSION_DIGITS: usize = 4;
/// The fewest digits a main line keeps.
const MIN_MAIN_LINE_DIGITS: usize = 6;

/// The entry the fallback finds for a search that found nothing, and the rule
/// that found it, in words; None when the search is not one for a number, or no
/// single entry fits.
pub fn find(dir: &Directory, filter: &Filter) -> Option<(u32, String)> {
    let (attrs, number) = asserted_number(filter)?;
    match dir.rules().fallback {
        Fallback::None => None,
        Fallback::LastDigits(n) => last_digits(dir, &attrs, &number, usize::from(n)),
        Fallback::MainLine => main_line(dir, &attrs, &number),
    }
}

/// The number attributes a filter asks for one number on, and that number.
fn asserted_number(filter: &Filter) -> Option<(Vec<Attr>, String)> {
    let one = |f: &Filter| match f {
        Filter::Equal { attr, value, .. } if attr.is_number() => Some((*attr, value.clone())),
        _ => None,
    };
    match filter {
        Filter::Or(items) => {
            let mut attrs = Vec::new();
            let mut number: Option<String> = None;
            for f in items {
                let (attr, value) = one(f)?;
                if number.as_ref().is_some_and(|n| *n != value) {
                    return None;
                }
                number = Some(value);
                attrs.push(attr);
            }
            Some((attrs, number?))
        }
        f => one(f).map(|(attr, value)| (vec![attr], value)),
    }
}

/// Entries with a number of `attrs` that holds `parts` and that `keep` takes, at
/// most two (two are already no answer).
fn holders(
    dir: &Directory,
    attrs: &[Attr],
    parts: &Substrings,
    keep: impl Fn(u32) -> bool,
) -> Vec<u32> {
    let f = Filter::Or(
        attrs
            .iter()
            .map(|&attr| Filter::Substring {
                attr,
                parts: parts.clone(),
            })
            .collect(),
    );
    let mut ids: Vec<u32> = Vec::new();
    for id in dir.search(&f).filter(|&id| keep(id)) {
        if !ids.contains(&id) {
            ids.push(id);
        }
        if ids.len() == 2 {
            break;
        }
    }
    ids
}

fn last_digits(dir: &Directory, attrs: &[Attr], number: &str, n: usize) -> Option<(u32, String)> {
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    if n == 0 || digits.len() < n {
        return None;
    }
    let last = &digits[digits.len() - n..];
    let parts = Substrings {
        initial: None,
        any: Vec::new(),
        final_: Some(last.to_string()),
    };
    match holders(dir, attrs, &parts, |_| true).as_slice() {
        [id] => Some((
            *id,
            format!("last-digits rule: the last {n} digits, {last}"),
        )),
        _ => None,
    }
}

fn main_line(dir: &Directory, attrs: &[Attr], number: &str) -> Option<(u32, String)> {
    for strip in 1..=EXTENSION_DIGITS {
        let Some(prefix) = number.get(..number.len().saturating_sub(strip)) else {
            break;
        };
        if prefix.chars().filter(char::is_ascii_digit).count() < MIN_MAIN_LINE_DIGITS {
            break;
        }
        let parts = Substrings {
            initial: Some(prefix.to_string()),
            any: Vec::new(),
            final_: None,
        };
        match holders(dir, attrs, &parts, |id| is_company(dir, id)).as_slice() {
            [] => continue,
            [id] => return Some((*id, format!("main-line rule: the main line {prefix}…"))),
            _ => return None,
        }
    }
    None
}

/// An entry of a company, not of a person: no given name, and its name is its
/// organisation's.
fn is_company(dir: &Directory, id: u32) -> bool {
    let e = dir.entry(id);
    let values = |attr: Attr| -> Vec<Vec<u8>> {
        e.groups()
            .filter(|g| g.attr == attr)
            .flat_map(|g| g.raws().map(<[u8]>::to_vec).collect::<Vec<_>>())
            .collect()
    };
    let o = values(Attr::O);
    values(Attr::GivenName).is_empty()
        && !o.is_empty()
        && values(Attr::Cn).iter().any(|cn| o.contains(cn))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::contacts::{Contact, Phone, PhoneKind};
    use crate::directory::{Generation, MatchRules, ServedContact};

    fn entry(uid: &str, given: &str, sn: &str, company: &str, number: &str) -> ServedContact {
        ServedContact {
            uid: uid.into(),
            source: "internal".into(),
            contact: Contact {
                given_name: given.into(),
                surname: sn.into(),
                company: company.into(),
                phones: vec![Phone {
                    kind: PhoneKind::Work,
                    number: number.into(),
                }],
                ..Contact::default()
            },
        }
    }

    fn dir(fallback: Fallback) -> Directory {
        let generation = Generation {
            number: 1,
            created: 0,
            contacts: vec![
                entry("acme", "", "", "ACME GmbH", "+49 30 1234000"),
                entry("anna", "Anna", "Berg", "ACME GmbH", "+49 30 1234567"),
                entry("bob", "Bob", "Stein", "", "+44 20 7946 0123"),
                entry("carl", "Carl", "Hahn", "", "+1 555 0199 0123"),
            ],
        };
        let rules = MatchRules {
            fallback,
            ..MatchRules::default()
        };
        Directory::build(&generation, "dc=pb", &rules)
    }

    fn lookup(dir: &Directory, number: &str) -> Option<String> {
        let text = format!("(|(telephoneNumber={number})(mobile={number}))");
        let f = crate::directory::lookup::parse(&text, dir).unwrap();
        assert_eq!(dir.search(&f).count(), 0, "{text} matches as it is");
        find(dir, &f).map(|(id, _)| dir.entry(id).dn())
    }

    #[test]
    fn a_direct_dial_number_finds_its_company_by_the_main_line() {
        let d = dir(Fallback::MainLine);
        assert_eq!(lookup(&d, "+49301234123").unwrap(), "uid=acme,dc=pb");
        // Not a person who shares the prefix, and not beyond an extension.
        assert_eq!(lookup(&d, "+49301299999"), None);
        assert_eq!(lookup(&d, "+4420794699"), None);
    }

    #[test]
    fn the_last_digits_find_one_entry_and_two_are_no_answer() {
        let d = dir(Fallback::LastDigits(7));
        assert_eq!(lookup(&d, "00493091234567").unwrap(), "uid=anna,dc=pb");
        // 0199 0123 and 7946 0123 share their last 4 digits, not 7.
        assert_eq!(
            lookup(&d, "0207946 0123".replace(' ', "").as_str()).unwrap(),
            "uid=bob,dc=pb"
        );
        let four = dir(Fallback::LastDigits(4));
        assert_eq!(
            lookup(&four, "+33 1 0000 0123".replace(' ', "").as_str()),
            None
        );
        // Off: nothing, as OpenLDAP.
        assert_eq!(lookup(&dir(Fallback::None), "+49301234123"), None);
    }

    #[test]
    fn only_a_search_for_one_number_falls_back() {
        let d = dir(Fallback::LastDigits(7));
        for text in [
            "(cn=nobody)",
            "(|(telephoneNumber=+4930991234567)(telephoneNumber=+1))",
        ] {
            let f = crate::directory::lookup::parse(text, &d).unwrap();
            assert_eq!(find(&d, &f), None, "{text}");
        }
    }
}
