//! Contacts as the XML phone books desk phones load:
//!
//! - Yealink `YealinkIPPhoneDirectory` (`DirectoryEntry` with `Name` and
//!   `Telephone`s, a `label` attribute naming the kind), and the Yealink remote
//!   phone book `YealinkIPPhoneBook` (`Menu` of `Unit Name=".." Phone1=".." Phone2=".."
//!   Phone3=".."`: office, mobile, other);
//! - Cisco `CiscoIPPhoneDirectory` and Snom `SnomIPPhoneDirectory` (`DirectoryEntry`
//!   with `Name` and `Telephone`), and any other `...IPPhoneDirectory` of that shape;
//! - the Snom `tbook` (`item` with `name`, `first_name`, `last_name`,
//!   `organization`, `email`, `number` and `number_type`);
//! - Grandstream `AddressBook` (`Contact` with `FirstName`, `LastName`, `Company`,
//!   `Department`, `Job`, `Mail` and `Phone type=".."` holding a `phonenumber`);
//! - Polycom `directory` (`item_list` of `item` with `fn`, `ln`, `lb` and `ct`).
//!
//! The document is read as a stream, never built whole. Only the five predefined
//! entities and character references are understood: a DOCTYPE that declares
//! entities is refused, as is nesting deeper than [`MAX_DEPTH`].

use super::fields::kind_of_label;
use super::{Entries, Format, NotAList, Position, ReadList, line_at, newlines};
use crate::contacts::{Contact, Phone, PhoneKind};
use quick_xml::events::{BytesStart, Event};

/// Deepest nesting accepted; phone books nest four levels.
pub const MAX_DEPTH: usize = 32;
/// Text kept per element; longer values are refused by the shared rules anyway.
const MAX_TEXT: usize = 4096;

/// The phone books read, by root element (lowercase), with their names.
const ROOTS: [(&str, &str); 7] = [
    ("yealinkipphonedirectory", "Yealink"),
    ("yealinkipphonebook", "Yealink remote phone book"),
    ("ciscoipphonedirectory", "Cisco"),
    ("snomipphonedirectory", "Snom"),
    ("tbook", "Snom tbook"),
    ("addressbook", "Grandstream"),
    ("directory", "Polycom"),
];

/// Elements that are one contact each.
const ENTRIES: [&str; 4] = ["directoryentry", "unit", "item", "contact"];

pub fn read(text: &str) -> Result<ReadList, NotAList> {
    let lines = newlines(text);
    let mut reader = quick_xml::Reader::from_str(text);
    let mut out = Entries::new();
    // Lowercase local names of the open elements.
    let mut open: Vec<String> = Vec::new();
    let mut root_seen = false;
    let mut entry_no = 0;
    let mut entry: Option<Entry> = None;
    loop {
        let event = match reader.read_event() {
            Ok(e) => e,
            Err(e) => {
                let at = reader.error_position() as usize;
                let line = line_at(&lines, at.min(text.len()));
                // Every syntax error but one is something left open at the end.
                let cut_short = matches!(
                    &e,
                    quick_xml::Error::Syntax(s) if *s != quick_xml::errors::SyntaxError::InvalidBangMarkup
                );
                if cut_short && root_seen {
                    return Err(truncated(format!("line {line}: {e}")));
                }
                return Err(broken(format!("line {line}: {e}")));
            }
        };
        let position = reader.buffer_position() as usize;
        match event {
            Event::DocType(d) => {
                let d = String::from_utf8_lossy(&d).to_ascii_uppercase();
                if d.contains("<!ENTITY") {
                    return Err(broken(
                        "a DOCTYPE with entity declarations is not accepted".to_string(),
                    ));
                }
            }
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let name = local_name(e);
                if !root_seen {
                    root_seen = true;
                    let Some((_, variant)) =
                        ROOTS.iter().find(|(root, _)| *root == name).or_else(|| {
                            name.ends_with("ipphonedirectory")
                                .then_some(&("", "IP phone directory"))
                        })
                    else {
                        return Err(broken(format!(
                            "the root element <{name}> is not a phone book; accepted: YealinkIPPhoneDirectory, YealinkIPPhoneBook, CiscoIPPhoneDirectory, SnomIPPhoneDirectory, tbook (Snom), AddressBook (Grandstream), directory (Polycom)"
                        )));
                    };
                    out.set_variant(variant);
                }
                if open.len() >= MAX_DEPTH {
                    return Err(broken(format!(
                        "line {}: elements nested deeper than {MAX_DEPTH}",
                        line_at(&lines, position.saturating_sub(1))
                    )));
                }
                match entry.as_mut() {
                    None if ENTRIES.contains(&name.as_str()) && !open.is_empty() => {
                        entry_no += 1;
                        let mut new = Entry::new(
                            Position {
                                entry: entry_no,
                                line: line_at(&lines, position.saturating_sub(1)),
                            },
                            open.len(),
                        );
                        new.attributes(e, &name);
                        if empty {
                            finish(&mut out, new);
                        } else {
                            entry = Some(new);
                            open.push(name);
                        }
                        continue;
                    }
                    Some(current) => current.start(e, &name),
                    None => {}
                }
                if !empty {
                    open.push(name);
                }
            }
            Event::End(_) => {
                let Some(name) = open.pop() else { continue };
                let Some(current) = entry.as_mut() else {
                    continue;
                };
                if open.len() == current.depth {
                    if let Some(done) = entry.take() {
                        finish(&mut out, done);
                    }
                } else {
                    current.end(&name);
                }
            }
            Event::Text(t) => {
                if let Some(current) = entry.as_mut() {
                    match t.decode() {
                        Ok(s) => current.text(&s),
                        Err(_) => current.fail("text that is not UTF-8".to_string()),
                    }
                }
            }
            Event::CData(t) => {
                if let Some(current) = entry.as_mut() {
                    current.text(&String::from_utf8_lossy(&t));
                }
            }
            Event::GeneralRef(r) => {
                let Some(current) = entry.as_mut() else {
                    continue;
                };
                let name = r.decode().map(|n| n.into_owned()).unwrap_or_default();
                match r.resolve_char_ref() {
                    Ok(Some(ch)) => current.text(ch.encode_utf8(&mut [0; 4])),
                    _ => match quick_xml::escape::resolve_predefined_entity(&name) {
                        Some(s) => current.text(s),
                        None => current.fail(format!("unknown entity &{name};")),
                    },
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !root_seen {
        return Err(broken("no element".to_string()));
    }
    if !open.is_empty() {
        return Err(truncated(format!(
            "<{}> is never closed",
            open.first().map_or("", String::as_str)
        )));
    }
    Ok(out.finish())
}

fn broken(reason: String) -> NotAList {
    NotAList::Broken {
        format: Format::Xml,
        reason,
    }
}

fn truncated(reason: String) -> NotAList {
    NotAList::Truncated {
        format: Format::Xml,
        reason,
    }
}

fn local_name(e: &BytesStart) -> String {
    String::from_utf8_lossy(e.local_name().as_ref()).to_ascii_lowercase()
}

fn finish(out: &mut Entries, entry: Entry) {
    let position = entry.position;
    out.entry(position, entry.finish());
}

/// A contact being read.
struct Entry {
    position: Position,
    contact: Contact,
    /// Numbers with the label that names their kind, when there is one.
    numbers: Vec<(String, Option<String>)>,
    /// How many elements were open around the entry's own element.
    depth: usize,
    /// The child element being read, its text, and its kind label.
    child: Option<(String, String, Option<String>)>,
    /// Grandstream: the type of the `Phone` element being read.
    phone_type: Option<String>,
    error: Option<String>,
}

impl Entry {
    fn new(position: Position, depth: usize) -> Entry {
        Entry {
            position,
            contact: Contact::default(),
            numbers: Vec::new(),
            depth,
            child: None,
            phone_type: None,
            error: None,
        }
    }

    fn fail(&mut self, reason: String) {
        if self.error.is_none() {
            self.error = Some(reason);
        }
    }

    /// Reads the attributes of the entry element (Yealink remote `Unit`).
    fn attributes(&mut self, e: &BytesStart, name: &str) {
        for attr in e.attributes() {
            let Ok(attr) = attr else {
                self.fail(format!("a bad attribute in <{name}>"));
                return;
            };
            let key = String::from_utf8_lossy(attr.key.local_name().as_ref()).to_ascii_lowercase();
            let Ok(value) = attr.unescape_value() else {
                self.fail(format!("a bad value of {key} in <{name}>"));
                return;
            };
            let value = bounded(&value);
            match key.as_str() {
                "name" => self.contact.display_name = value,
                "phone1" | "office" => self.numbers.push((value, Some("work".into()))),
                "phone2" | "mobile" => self.numbers.push((value, Some("mobile".into()))),
                "phone3" | "other" => self.numbers.push((value, Some("other".into()))),
                _ => {}
            }
        }
    }

    fn start(&mut self, e: &BytesStart, name: &str) {
        let label = e.attributes().flatten().find_map(|a| {
            let key = a.key.local_name();
            let key = key.as_ref();
            (key.eq_ignore_ascii_case(b"label") || key.eq_ignore_ascii_case(b"type")).then(|| {
                a.unescape_value()
                    .map(|v| v.into_owned())
                    .unwrap_or_default()
            })
        });
        if name == "phone" {
            self.phone_type = label.clone();
        }
        self.child = Some((name.to_string(), String::new(), label));
    }

    fn text(&mut self, s: &str) {
        if let Some((_, text, _)) = self.child.as_mut()
            && text.len() < MAX_TEXT
        {
            text.push_str(s);
        }
    }

    fn end(&mut self, name: &str) {
        if name == "phone" {
            self.phone_type = None;
        }
        let Some((child, text, label)) = self.child.take() else {
            return;
        };
        if child != name {
            return;
        }
        let c = &mut self.contact;
        let slot = match name {
            "name" | "lb" | "displayname" => &mut c.display_name,
            "firstname" | "first_name" | "fn" => &mut c.given_name,
            "lastname" | "last_name" | "ln" => &mut c.surname,
            "company" | "organization" | "organisation" => &mut c.company,
            "department" => &mut c.department,
            "job" | "title" | "jobtitle" => &mut c.title,
            "mail" | "email" => &mut c.email,
            "telephone" | "number" | "ct" | "phonenumber" | "phone" => {
                let label = label.or_else(|| self.phone_type.clone());
                self.numbers.push((text, label));
                return;
            }
            "number_type" => {
                // Snom tbook: the kind of the number read before it.
                if let Some(last) = self.numbers.iter_mut().rev().find(|(_, l)| l.is_none()) {
                    last.1 = Some(text);
                }
                return;
            }
            _ => return,
        };
        if slot.is_empty() {
            *slot = text;
        }
    }

    fn finish(self) -> Result<Contact, String> {
        if let Some(reason) = self.error {
            return Err(reason);
        }
        let mut c = self.contact;
        for (number, label) in self.numbers {
            let kind = match label.as_deref().map(str::to_ascii_lowercase).as_deref() {
                None | Some("") => PhoneKind::Work,
                Some("business" | "office") => PhoneKind::Work,
                Some(other) => kind_of_label(other),
            };
            c.phones.push(Phone { kind, number });
        }
        Ok(c)
    }
}

/// A value cut at [`MAX_TEXT`] bytes: the shared rules refuse it with its length.
fn bounded(value: &str) -> String {
    let mut end = value.len().min(MAX_TEXT);
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    value[..end].to_string()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn sample(name: &str) -> ReadList {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("assets/formats")
            .join(name);
        crate::sources::read(name, None, &std::fs::read(path).unwrap()).unwrap()
    }

    fn numbers(c: &Contact) -> Vec<(PhoneKind, &str)> {
        c.phones
            .iter()
            .map(|p| (p.kind, p.number.as_str()))
            .collect()
    }

    #[test]
    fn every_vendor_phone_book() {
        let yealink = sample("yealink.xml");
        assert_eq!(yealink.variant, Some("Yealink"));
        assert_eq!(
            numbers(&yealink.contacts[0]),
            [
                (PhoneKind::Work, "+44 20 7946 0001"),
                (PhoneKind::Mobile, "+44 7700 900001")
            ]
        );
        assert_eq!(yealink.contacts[2].display_name, "Zoë O'Brien & Co");
        assert_eq!(yealink.contacts[2].phones[0].kind, PhoneKind::Home);

        let remote = sample("yealink-remote.xml");
        assert_eq!(remote.contacts.len(), 3);
        assert_eq!(
            numbers(&remote.contacts[1]),
            [
                (PhoneKind::Work, "+86 10 1234 5678"),
                (PhoneKind::Mobile, "+86 138 0013 8000"),
                (PhoneKind::Other, "+86 10 1234 5600")
            ]
        );

        let cisco = sample("cisco.xml");
        assert_eq!(cisco.variant, Some("Cisco"));
        assert_eq!(cisco.contacts[0].display_name, "Grace Hopper");
        assert_eq!(sample("snom.xml").contacts.len(), 3);

        let tbook = sample("snom-tbook.xml");
        let ken = &tbook.contacts[0];
        assert_eq!(
            (ken.given_name.as_str(), ken.company.as_str()),
            ("Ken", "Bell Labs")
        );
        assert_eq!(numbers(ken), [(PhoneKind::Work, "+1 908 555 0101")]);
        assert_eq!(tbook.contacts[1].phones[0].kind, PhoneKind::Mobile);
        assert_eq!(tbook.contacts[2].phones[0].kind, PhoneKind::Home);

        let grandstream = sample("grandstream.xml");
        let hiroshi = &grandstream.contacts[0];
        assert_eq!(hiroshi.title, "Engineer");
        assert_eq!(hiroshi.email, "h.tanaka@example.jp");
        assert_eq!(
            numbers(hiroshi),
            [
                (PhoneKind::Work, "+81 3 2345 6789"),
                (PhoneKind::Mobile, "+81 90 2345 6789")
            ]
        );
        assert_eq!(grandstream.contacts[2].phones[0].kind, PhoneKind::Fax);

        let polycom = sample("polycom.xml");
        assert_eq!(polycom.variant, Some("Polycom"));
        let giulia = &polycom.contacts[0];
        assert_eq!(
            (giulia.given_name.as_str(), giulia.surname.as_str()),
            ("Giulia", "Rossi")
        );
        assert_eq!(polycom.contacts[1].display_name, "Niccolò (Napoli)");
    }

    #[test]
    fn bad_entries_are_skipped_with_their_position() {
        let text = "<CiscoIPPhoneDirectory>\n\
            <DirectoryEntry><Name>One</Name><Telephone>1</Telephone></DirectoryEntry>\n\
            <DirectoryEntry><Name>Two &bogus;</Name><Telephone>2</Telephone></DirectoryEntry>\n\
            <DirectoryEntry><Name></Name><Telephone>none</Telephone></DirectoryEntry>\n\
            <DirectoryEntry><Name>Four</Name></DirectoryEntry>\n\
            </CiscoIPPhoneDirectory>";
        let list = read(text).unwrap();
        let names: Vec<&str> = list
            .contacts
            .iter()
            .map(|c| c.display_name.as_str())
            .collect();
        assert_eq!(names, ["One", "Four"]);
        let skipped: Vec<(usize, u64, &str)> = list
            .skipped
            .iter()
            .map(|s| (s.position.entry, s.position.line, s.reason.as_str()))
            .collect();
        assert_eq!(skipped.len(), 2, "{skipped:?}");
        assert_eq!((skipped[0].0, skipped[0].1), (2, 3));
        assert!(skipped[0].2.contains("unknown entity &bogus;"));
        assert_eq!((skipped[1].0, skipped[1].1), (3, 4));
        assert!(skipped[1].2.contains("no digit"));
    }

    #[test]
    fn broken_and_hostile_documents_are_refused() {
        let cut = "<YealinkIPPhoneDirectory><DirectoryEntry><Name>One</Name><Telephone>1</Tele";
        assert!(
            matches!(read(cut), Err(NotAList::Truncated { .. })),
            "{:?}",
            read(cut).err()
        );
        let unclosed = "<YealinkIPPhoneDirectory><DirectoryEntry><Name>One</Name></DirectoryEntry>";
        assert!(matches!(read(unclosed), Err(NotAList::Truncated { .. })));

        let bomb = "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;\">]>\
            <CiscoIPPhoneDirectory><DirectoryEntry><Name>&lol2;</Name></DirectoryEntry></CiscoIPPhoneDirectory>";
        let err = read(bomb).unwrap_err();
        assert!(err.to_string().contains("entity declarations"), "{err}");

        let deep = format!(
            "<directory>{}{}</directory>",
            "<a>".repeat(10_000),
            "</a>".repeat(10_000)
        );
        let err = read(&deep).unwrap_err();
        assert!(err.to_string().contains("nested deeper than 32"), "{err}");

        let err = read("<html-ish><x/></html-ish>").unwrap_err();
        assert!(err.to_string().contains("not a phone book"), "{err}");
        let err = read("<CiscoIPPhoneDirectory><DirectoryEntry></Wrong></CiscoIPPhoneDirectory>")
            .unwrap_err();
        assert!(matches!(err, NotAList::Broken { .. }), "{err}");
    }
}
