//! Desk phone models as they query the phone book: the filter each sends for what
//! a user types or for an incoming call, what it shows of an entry, and the
//! settings to give it for this node.
//!
//! The presets are what this node recommends for each vendor: name lookups by
//! prefix on `cn`, `sn` and `givenName`, number lookups on the numbers phones dial.

pub mod setup;

use crate::directory::lookup::{FoundEntry, escape};
use serde::Serialize;

/// How a vendor marks the place of the typed text in its filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Placeholder {
    /// `%`: the typed text followed by `*` while typing; the exact number for an
    /// incoming call.
    Percent,
    /// `$VALUE`: the typed text only; the filter holds its own `*`.
    Value,
}

/// How a vendor's phones take their settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Syntax {
    /// `ldap.host = ...` lines of a `.cfg` provisioning file.
    YealinkCfg,
    /// `<ldap_server perm="">` elements of a settings XML.
    SnomXml,
    /// Fields of the web interface.
    GigasetWeb,
    /// `dir.corp.*` attributes of a UC Software configuration file.
    PolycomCfg,
    /// P-values of a config template.
    GrandstreamP,
    /// `<LDAP_Server>` elements of a multiplatform phone's XML configuration.
    CiscoXml,
}

/// One vendor's phones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Preset {
    /// What the CLI takes: `yealink`.
    pub id: &'static str,
    pub vendor: &'static str,
    pub models: &'static str,
    pub syntax: Syntax,
    /// The phones can use StartTLS on the plain port.
    pub starttls: bool,
    /// The phones can use LDAPS.
    pub ldaps: bool,
    pub placeholder: Placeholder,
    /// The filter for a name, in the vendor's syntax.
    pub name_filter: &'static str,
    /// The filter for a number; `None` when the phone does not look numbers up.
    pub number_filter: Option<&'static str>,
    /// The attributes the phone asks for its names.
    pub name_attributes: &'static [&'static str],
    /// The attributes the phone asks for its numbers, in the order it lists them.
    pub number_attributes: &'static [&'static str],
    /// How an entry is shown: `%attr` for an attribute's first value.
    pub display: &'static str,
    /// The size limit the phone sends.
    pub max_hits: usize,
    /// How the phone browses the whole phone book in order (virtual list views),
    /// when it does.
    pub browse: Option<Browse>,
}

/// What Polycom phones put before their own terms, and send alone when they browse.
pub const POLYCOM_PREFIX: &str = "(objectClass=person)";

/// What a phone browsing the phone book sends: its filter and its sort order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Browse {
    pub filter: &'static str,
    /// Attribute names, the first sorting first.
    pub sort: &'static [&'static str],
}

/// What most phones do: `%` filters on names and numbers, LDAPS, 50 hits.
const STANDARD: Preset = Preset {
    id: "",
    vendor: "",
    models: "",
    syntax: Syntax::YealinkCfg,
    starttls: false,
    ldaps: true,
    placeholder: Placeholder::Percent,
    name_filter: "(|(cn=%)(sn=%)(givenName=%))",
    number_filter: Some("(|(telephoneNumber=%)(mobile=%)(ipPhone=%)(homePhone=%))"),
    name_attributes: &["cn", "sn", "givenName"],
    number_attributes: &["telephoneNumber", "mobile", "ipPhone", "homePhone"],
    display: "%cn",
    max_hits: 50,
    browse: None,
};

pub const PRESETS: [Preset; 6] = [
    Preset {
        id: "yealink",
        vendor: "Yealink",
        models: "T3x, T4x, T5x",
        starttls: true,
        ..STANDARD
    },
    Preset {
        id: "snom",
        vendor: "Snom",
        models: "D3xx, D7xx, D8xx",
        syntax: Syntax::SnomXml,
        ..STANDARD
    },
    Preset {
        id: "gigaset",
        vendor: "Gigaset",
        models: "N-series DECT, Maxwell",
        syntax: Syntax::GigasetWeb,
        ..STANDARD
    },
    Preset {
        id: "polycom",
        vendor: "Polycom",
        models: "VVX, SoundPoint IP",
        syntax: Syntax::PolycomCfg,
        name_filter: "(&(objectClass=person)(|(sn=%)(givenName=%)))",
        number_filter: None,
        name_attributes: &["sn", "givenName"],
        number_attributes: &["telephoneNumber", "mobile"],
        display: "%sn, %givenName",
        max_hits: 32,
        browse: Some(Browse {
            filter: POLYCOM_PREFIX,
            sort: &["sn", "givenName"],
        }),
        ..STANDARD
    },
    Preset {
        id: "grandstream",
        vendor: "Grandstream",
        models: "GXP, GRP, WP",
        syntax: Syntax::GrandstreamP,
        ..STANDARD
    },
    Preset {
        id: "cisco",
        vendor: "Cisco",
        models: "6800, 7800, 8800 multiplatform",
        syntax: Syntax::CiscoXml,
        ldaps: false,
        placeholder: Placeholder::Value,
        name_filter: "(cn=$VALUE*)",
        number_filter: None,
        name_attributes: &["cn"],
        number_attributes: &["telephoneNumber", "mobile"],
        ..STANDARD
    },
];

/// A preset by its id, case-insensitive.
pub fn preset(id: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.id.eq_ignore_ascii_case(id))
}

/// The ids, for messages.
pub fn ids() -> String {
    PRESETS.iter().map(|p| p.id).collect::<Vec<_>>().join(", ")
}

/// What the phone is doing when it sends a filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Lookup {
    /// Letters typed in the directory or on the dial screen.
    Name,
    /// Digits typed on the dial screen.
    Number,
    /// A call comes in: the caller's number, exactly.
    IncomingCall,
}

impl Lookup {
    pub fn label(self) -> &'static str {
        match self {
            Lookup::Name => "name lookup",
            Lookup::Number => "number lookup",
            Lookup::IncomingCall => "incoming call",
        }
    }
}

/// What a phone sends for typed text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Query {
    pub lookup: Lookup,
    pub filter: String,
    pub size_limit: usize,
    pub attributes: Vec<&'static str>,
}

/// Typed text that a phone treats as a number: digits, with `+`, `*`, `#`.
fn is_number(text: &str) -> bool {
    text.chars().any(|c| c.is_ascii_digit())
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '*' | '#' | ' '))
}

impl Preset {
    /// The query the phone sends for `typed`; for an incoming call, `typed` is the
    /// caller's number. `None` when the phone does not look that up.
    pub fn query(&self, typed: &str, incoming: bool) -> Option<Query> {
        let typed = typed.trim();
        let lookup = match (incoming, self.number_filter.is_some() && is_number(typed)) {
            (true, _) => Lookup::IncomingCall,
            (false, true) => Lookup::Number,
            (false, false) => Lookup::Name,
        };
        let template = match lookup {
            Lookup::Name => self.name_filter,
            Lookup::Number | Lookup::IncomingCall => self.number_filter?,
        };
        let text = escape(typed);
        let filter = match self.placeholder {
            Placeholder::Percent if lookup == Lookup::IncomingCall => template.replace('%', &text),
            Placeholder::Percent => template.replace('%', &format!("{text}*")),
            Placeholder::Value => template.replace("$VALUE", &text),
        };
        let mut attributes: Vec<&'static str> = self.name_attributes.to_vec();
        attributes.extend(self.number_attributes);
        Some(Query {
            lookup,
            filter,
            size_limit: self.max_hits,
            attributes,
        })
    }

    /// The line the phone shows for an entry.
    pub fn shows(&self, entry: &FoundEntry) -> String {
        let mut out = String::new();
        let mut rest = self.display;
        while let Some(at) = rest.find('%') {
            out.push_str(&rest[..at]);
            let after = &rest[at + 1..];
            let end = after
                .find(|c: char| !c.is_ascii_alphanumeric())
                .unwrap_or(after.len());
            out.push_str(entry.first(&after[..end]));
            rest = &after[end..];
        }
        out.push_str(rest);
        out.trim_matches(|c: char| c == ',' || c.is_whitespace())
            .to_string()
    }

    /// The numbers the phone lists for an entry, with their attribute.
    pub fn numbers<'e>(&self, entry: &'e FoundEntry) -> Vec<(&'static str, &'e str)> {
        self.number_attributes
            .iter()
            .flat_map(|a| entry.get(a).iter().map(move |v| (*a, v.as_str())))
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn entry(attrs: &[(&str, &[&str])]) -> FoundEntry {
        FoundEntry {
            dn: "uid=x".into(),
            attributes: attrs
                .iter()
                .map(|(n, v)| (n.to_string(), v.iter().map(|s| s.to_string()).collect()))
                .collect(),
        }
    }

    #[test]
    fn letters_are_a_name_lookup_by_prefix() {
        let q = preset("yealink").unwrap().query("jo", false).unwrap();
        assert_eq!(q.lookup, Lookup::Name);
        assert_eq!(q.filter, "(|(cn=jo*)(sn=jo*)(givenName=jo*))");
        assert_eq!(q.size_limit, 50);
    }

    #[test]
    fn digits_are_a_number_lookup_and_a_call_an_exact_one() {
        let p = preset("Snom").unwrap();
        let typed = p.query("+4930", false).unwrap();
        assert_eq!(typed.lookup, Lookup::Number);
        assert!(typed.filter.contains("(mobile=+4930*)"), "{}", typed.filter);
        let call = p.query("+49301234", true).unwrap();
        assert_eq!(call.lookup, Lookup::IncomingCall);
        assert!(call.filter.contains("(telephoneNumber=+49301234)"));
        assert!(!call.filter.contains('*'), "{}", call.filter);
    }

    #[test]
    fn phones_without_number_lookups_search_names_with_digits() {
        let cisco = preset("cisco").unwrap();
        assert_eq!(cisco.query("12", false).unwrap().filter, "(cn=12*)");
        assert_eq!(cisco.query("123", true), None);
        let polycom = preset("polycom").unwrap();
        assert_eq!(
            polycom.query("Mül", false).unwrap().filter,
            "(&(objectClass=person)(|(sn=Mül*)(givenName=Mül*)))"
        );
    }

    #[test]
    fn typed_filter_characters_are_escaped() {
        let q = preset("grandstream")
            .unwrap()
            .query("a*(b)\\", false)
            .unwrap();
        assert_eq!(
            q.filter,
            "(|(cn=a\\2a\\28b\\29\\5c*)(sn=a\\2a\\28b\\29\\5c*)(givenName=a\\2a\\28b\\29\\5c*))"
        );
        assert!(crate::directory::lookup::parse_text(&q.filter).is_ok());
    }

    #[test]
    fn every_preset_sends_filters_that_parse() {
        for p in &PRESETS {
            for (typed, incoming) in [("an", false), ("0301", false), ("+49 30 1", true)] {
                if let Some(q) = p.query(typed, incoming) {
                    assert!(
                        crate::directory::lookup::parse_text(&q.filter).is_ok(),
                        "{}: {}",
                        p.id,
                        q.filter
                    );
                }
            }
        }
    }

    #[test]
    fn an_entry_is_shown_as_the_phone_shows_it() {
        let e = entry(&[
            ("cn", &["Anna Müller"]),
            ("sn", &["Müller"]),
            ("givenName", &["Anna"]),
            ("telephoneNumber", &["+49 30 1", "+49 30 2"]),
            ("mobile", &["+49 170 3"]),
        ]);
        assert_eq!(preset("yealink").unwrap().shows(&e), "Anna Müller");
        assert_eq!(preset("polycom").unwrap().shows(&e), "Müller, Anna");
        assert_eq!(
            preset("cisco").unwrap().numbers(&e),
            vec![
                ("telephoneNumber", "+49 30 1"),
                ("telephoneNumber", "+49 30 2"),
                ("mobile", "+49 170 3")
            ]
        );
        let only_sn = entry(&[("sn", &["Doe"])]);
        assert_eq!(preset("polycom").unwrap().shows(&only_sn), "Doe");
    }
}
