//! The merge: contacts from every source become the contacts a generation serves.
//!
//! - Each contact's `uid` (and so its DN) is derived from its source and its id in that
//!   source, so it stays the same from one generation to the next.
//! - Within a source nothing is merged: two contacts with the same name are two entries.
//! - The same person coming from two sources (same e-mail address, or same name and a
//!   shared number) is served once, from the source with the lower priority number.
//! - Served order is alphabetical by common name (case-insensitive), then uid, so a
//!   phone that stops at its size limit shows the first names in order.

use crate::contacts::Contact;
use crate::directory::ServedContact;
use std::collections::HashMap;

/// The contacts of one source.
pub struct Source {
    /// Short name, used as the uid prefix: `int` for internal contacts.
    pub name: String,
    /// Lower wins when the same person comes from several sources.
    pub priority: i32,
    pub contacts: Vec<Contact>,
}

/// What changed from the previous generation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Changes {
    pub added: usize,
    pub updated: usize,
    pub removed: usize,
}

/// A DN-safe uid for a contact id of a source.
pub fn uid(source: &str, id: &str) -> String {
    let safe = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
    if safe {
        format!("{source}-{id}")
    } else {
        let hash = super::stable_hash(id);
        format!("{source}-h{hash:016x}")
    }
}

fn same_person_keys(c: &Contact) -> Vec<String> {
    let mut keys = Vec::new();
    let email = c.email.trim().to_lowercase();
    if !email.is_empty() {
        keys.push(format!("mail:{email}"));
    }
    let name = c.common_name().to_lowercase();
    for p in &c.phones {
        let digits: String = p.number.chars().filter(char::is_ascii_digit).collect();
        if !digits.is_empty() {
            keys.push(format!("name:{name}|{digits}"));
        }
    }
    keys
}

/// Merges sources into served contacts, in served order.
pub fn merge(mut sources: Vec<Source>) -> Vec<ServedContact> {
    sources.sort_by_key(|s| s.priority);
    // Which source first claimed each "same person" key.
    let mut claimed: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::new();
    for (rank, source) in sources.into_iter().enumerate() {
        for contact in source.contacts {
            if !contact.is_servable() {
                continue;
            }
            let keys = same_person_keys(&contact);
            if keys
                .iter()
                .any(|k| claimed.get(k).is_some_and(|r| *r < rank))
            {
                continue;
            }
            for k in keys {
                claimed.entry(k).or_insert(rank);
            }
            out.push(ServedContact {
                uid: uid(&source.name, &contact.id),
                source: source.name.clone(),
                contact,
            });
        }
    }
    let mut keyed: Vec<(String, ServedContact)> = out
        .into_iter()
        .map(|s| (s.contact.common_name().to_lowercase(), s))
        .collect();
    keyed.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.uid.cmp(&b.1.uid)));
    keyed.into_iter().map(|(_, s)| s).collect()
}

/// Counts what a new generation adds, changes and removes compared with the previous one.
pub fn changes(previous: &[ServedContact], next: &[ServedContact]) -> Changes {
    let before: HashMap<&str, &Contact> = previous
        .iter()
        .map(|s| (s.uid.as_str(), &s.contact))
        .collect();
    let mut changes = Changes::default();
    let mut seen = 0;
    for s in next {
        match before.get(s.uid.as_str()) {
            None => changes.added += 1,
            Some(old) => {
                seen += 1;
                if **old != s.contact {
                    changes.updated += 1;
                }
            }
        }
    }
    changes.removed = before.len() - seen;
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contacts::{Phone, PhoneKind};

    fn person(id: &str, given: &str, sur: &str, number: &str, email: &str) -> Contact {
        Contact {
            id: id.into(),
            given_name: given.into(),
            surname: sur.into(),
            email: email.into(),
            phones: vec![Phone {
                kind: PhoneKind::Work,
                number: number.into(),
            }],
            ..Contact::default()
        }
    }

    #[test]
    fn uids_are_stable_and_dn_safe() {
        assert_eq!(uid("int", "42"), "int-42");
        assert_eq!(uid("ext", "a,b=c"), uid("ext", "a,b=c"));
        assert!(uid("ext", "a,b=c").starts_with("ext-h"));
        assert_ne!(uid("ext", "a,b=c"), uid("ext", "a,b=d"));
    }

    #[test]
    fn same_names_stay_two_entries_and_order_is_alphabetical() {
        let served = merge(vec![Source {
            name: "int".into(),
            priority: 0,
            contacts: vec![
                person("2", "John", "Smith", "1", ""),
                person("1", "ada", "Lovelace", "2", ""),
                person("3", "John", "Smith", "3", ""),
                Contact {
                    id: "4".into(),
                    ..Contact::default()
                },
            ],
        }]);
        let names: Vec<(String, String)> = served
            .iter()
            .map(|s| (s.contact.common_name(), s.uid.clone()))
            .collect();
        assert_eq!(
            names,
            vec![
                ("ada Lovelace".into(), "int-1".into()),
                ("John Smith".into(), "int-2".into()),
                ("John Smith".into(), "int-3".into()),
            ]
        );
    }

    #[test]
    fn the_same_person_from_two_sources_is_served_once_from_the_preferred() {
        let served = merge(vec![
            Source {
                name: "ext".into(),
                priority: 10,
                contacts: vec![
                    person("a", "Ada", "Lovelace", "+44 1", "ada@example.org"),
                    person("b", "Alan", "Turing", "+44 2", ""),
                    person("c", "Grace", "Hopper", "+1 3", ""),
                ],
            },
            Source {
                name: "int".into(),
                priority: 0,
                contacts: vec![
                    person("1", "Ada", "L.", "999", "ADA@example.org"),
                    person("2", "Alan", "Turing", "+44-2", ""),
                ],
            },
        ]);
        let uids: Vec<&str> = served.iter().map(|s| s.uid.as_str()).collect();
        assert_eq!(uids, vec!["int-1", "int-2", "ext-c"]);
    }

    #[test]
    fn changes_count_added_updated_removed() {
        let a = merge(vec![Source {
            name: "int".into(),
            priority: 0,
            contacts: vec![
                person("1", "A", "A", "1", ""),
                person("2", "B", "B", "2", ""),
            ],
        }]);
        let b = merge(vec![Source {
            name: "int".into(),
            priority: 0,
            contacts: vec![
                person("2", "B", "Bee", "2", ""),
                person("3", "C", "C", "3", ""),
            ],
        }]);
        assert_eq!(
            changes(&a, &b),
            Changes {
                added: 1,
                updated: 1,
                removed: 1
            }
        );
    }
}
