//! Contacts as the XML phone books desk phones load:
//!
//! - Yealink `YealinkIPPhoneDirectory` (`DirectoryEntry` with `Name` and
//!   `Telephone`s, a `label` attribute naming the kind), and the Yealink remote
//!   phone book `YealinkIPPhoneBook` (`Menu` of `Unit Name=".." Phone1=".." Phone2=".."
//!   Phone3=".."`: office, mobile, other);
//! - Cisco `CiscoIPPhoneDirectory` and Snom `SnomIPPhoneDirectory` (`DirectoryEntry`
//!   with `Name` and `Telephone`), and any other `...IPPhoneDirectory` of that shape;
//! - the Snom `tbook` (`item` with `name`, `first_name`, `last_name`,
//!   `organization`, `email`, `number` and the `number_type` that follows it);
//! - Grandstream `AddressBook` (`Contact` with `FirstName`, `LastName`, `Company`,
//!   `Department`, `Job`, `Mail` and `Phone type=".."` holding a `phonenumber`);
//! - Polycom `directory` (`item_list` of `item` with `fn`, `ln`, `lb` and `ct`);
//! - the Yealink local directory export (`root_group` and `root_contact`, or both
//!   in `vp_contact`: `contact display_name=".." office_number=".."
//!   mobile_number=".." other_number=".."`);
//! - Fanvil `FanvilIPPhoneDirectory` (`DirectoryEntry` with `Name`, `Telephone`,
//!   `Mobile` and `Other`);
//! - the FRITZ!Box phone book (`phonebooks`/`phonebook`/`contact` with
//!   `person/realName`, `telephony/number type="home|work|mobile|fax_work|memo|intern"`
//!   and `services/email`, also under `telephony` as the TR-064 download has it).
//!
//! Element and attribute names are matched without regard to case or namespace
//! prefix. Number labels and types (`Office`, `business`, `Cell`, `Fax`...) give the
//! kind of the number; a number without one, or with one not recognised, is a work
//! number. None of these phone books carries a stable identifier (the snom `index`
//! is a position), so contacts are read without an id.
//!
//! The document is read as a stream, never built whole, without recursion. Only
//! the five predefined entities and character references are understood: a
//! DOCTYPE that declares entities is refused, as is nesting deeper than
//! [`MAX_DEPTH`]. At most [`MAX_TEXT`] bytes of an element's text are kept; the
//! shared rules refuse a value that long.

use super::fields::kind_of_label;
use super::{Entries, Format, NotAList, Position, ReadList, line_at, newlines};
use crate::contacts::{Contact, Phone, PhoneKind};
use quick_xml::errors::{Error, SyntaxError};
use quick_xml::escape::EscapeError;
use quick_xml::events::attributes::AttrError;
use quick_xml::events::{BytesRef, BytesStart, Event};

/// Deepest nesting accepted; phone books nest four levels.
pub const MAX_DEPTH: usize = 32;
/// Text kept per element; longer values are refused by the shared rules anyway.
pub const MAX_TEXT: usize = 4096;

/// Attributes looked at per element: the reader's duplicate check is quadratic.
const MAX_ATTRIBUTES: usize = 64;

/// The phone books read, by root element, with their names.
const ROOTS: [(&str, &str); 12] = [
    ("YealinkIPPhoneDirectory", "Yealink"),
    ("YealinkIPPhoneBook", "Yealink remote phone book"),
    // The local directory a Yealink phone exports: `root_group` and `root_contact`
    // side by side, or both inside `vp_contact` on newer firmware.
    ("vp_contact", "Yealink local contacts"),
    ("root_group", "Yealink local contacts"),
    ("root_contact", "Yealink local contacts"),
    ("FanvilIPPhoneDirectory", "Fanvil"),
    ("phonebooks", "FRITZ!Box"),
    ("CiscoIPPhoneDirectory", "Cisco"),
    ("SnomIPPhoneDirectory", "Snom"),
    ("tbook", "Snom tbook"),
    ("AddressBook", "Grandstream"),
    ("directory", "Polycom"),
];

/// The root elements read, as a refusal lists them.
const ACCEPTED: &str = "YealinkIPPhoneDirectory, YealinkIPPhoneBook, root_contact or vp_contact \
    (Yealink local contacts), CiscoIPPhoneDirectory, SnomIPPhoneDirectory, FanvilIPPhoneDirectory \
    (or another ...IPPhoneDirectory), tbook (Snom), AddressBook (Grandstream), \
    directory (Polycom), phonebooks (FRITZ!Box)";

/// Elements that are one contact each (below the root).
const ENTRIES: [&[u8]; 4] = [b"DirectoryEntry", b"Unit", b"item", b"Contact"];

/// What an element inside an entry holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Display,
    Given,
    Surname,
    Company,
    Department,
    Title,
    Email,
    Number,
    /// Snom tbook: the kind of the number read before it.
    NumberType,
    /// Grandstream: a number, in a `phonenumber` child or as its own text.
    Phone,
    /// A number whose element names its kind (Fanvil `Mobile`, `Other`).
    Kind(PhoneKind),
}

const FIELDS: [(&[u8], Field); 27] = [
    (b"Name", Field::Display),
    (b"realName", Field::Display),
    (b"Mobile", Field::Kind(PhoneKind::Mobile)),
    (b"Other", Field::Kind(PhoneKind::Other)),
    (b"lb", Field::Display),
    (b"DisplayName", Field::Display),
    (b"FirstName", Field::Given),
    (b"first_name", Field::Given),
    (b"fn", Field::Given),
    (b"LastName", Field::Surname),
    (b"last_name", Field::Surname),
    (b"ln", Field::Surname),
    (b"Company", Field::Company),
    (b"organization", Field::Company),
    (b"organisation", Field::Company),
    (b"Department", Field::Department),
    (b"Job", Field::Title),
    (b"JobTitle", Field::Title),
    (b"Title", Field::Title),
    (b"Mail", Field::Email),
    (b"email", Field::Email),
    (b"Telephone", Field::Number),
    (b"number", Field::Number),
    (b"ct", Field::Number),
    (b"phonenumber", Field::Number),
    (b"number_type", Field::NumberType),
    (b"Phone", Field::Phone),
];

fn field_of(name: &[u8]) -> Option<Field> {
    FIELDS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, f)| *f)
}

/// Reads an XML phone book; entries that cannot be read are skipped and listed.
pub fn read(text: &str) -> Result<ReadList, NotAList> {
    let lines = newlines(text);
    let mut reader = quick_xml::Reader::from_str(text);
    // A bare `&` ("AT&T") is read as text, with a warning, rather than refusing
    // the whole document.
    reader.config_mut().allow_dangling_amp = true;
    let mut bare_amp = false;
    let mut out = Entries::new();
    let mut root: Option<String> = None;
    // How many elements are open.
    let mut depth = 0;
    let mut entry_no = 0;
    let mut entry: Option<Entry> = None;
    // The text of the field being read, reused from entry to entry.
    let mut value = String::new();
    loop {
        let start = reader.buffer_position() as usize;
        let event = match reader.read_event() {
            Ok(e) => e,
            Err(e) => {
                let line = line_at(&lines, (reader.error_position() as usize).min(text.len()));
                // Syntax errors mean the input ended inside some markup, but for
                // `<!` followed by something that is no markup.
                let cut_short = match &e {
                    Error::Syntax(SyntaxError::InvalidBangMarkup) => text.ends_with("<!"),
                    Error::Syntax(_) => true,
                    _ => false,
                };
                return Err(if cut_short {
                    truncated(format!("line {line}: {e}"))
                } else {
                    broken(format!("line {line}: {e}"))
                });
            }
        };
        match event {
            Event::DocType(d) => {
                if d.windows(8).any(|w| w.eq_ignore_ascii_case(b"<!ENTITY")) {
                    return Err(broken(
                        "a DOCTYPE with entity declarations is not accepted".to_string(),
                    ));
                }
            }
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let name = e.local_name();
                let name = name.as_ref();
                if root.is_none() {
                    let variant = ROOTS
                        .iter()
                        .find(|(r, _)| r.as_bytes().eq_ignore_ascii_case(name))
                        .map(|(_, v)| *v)
                        .or_else(|| {
                            name.to_ascii_lowercase()
                                .ends_with(b"ipphonedirectory")
                                .then_some("IP phone directory")
                        });
                    let Some(variant) = variant else {
                        return Err(broken(format!(
                            "the root element <{}> is not a phone book; accepted: {ACCEPTED}",
                            String::from_utf8_lossy(e.name().as_ref())
                        )));
                    };
                    out.set_variant(variant);
                    root = Some(String::from_utf8_lossy(e.name().as_ref()).into_owned());
                }
                if depth >= MAX_DEPTH {
                    return Err(broken(format!(
                        "line {}: elements nested deeper than {MAX_DEPTH}",
                        line_at(&lines, start)
                    )));
                }
                match entry.as_mut() {
                    Some(current) => current.start(e, depth, empty, &mut value),
                    None if depth > 0 && ENTRIES.iter().any(|n| n.eq_ignore_ascii_case(name)) => {
                        entry_no += 1;
                        let position = Position {
                            entry: entry_no,
                            line: line_at(&lines, start),
                        };
                        let mut new = Entry::new(position, depth);
                        new.attributes(e);
                        if empty {
                            out.entry(position, new.finish());
                        } else {
                            entry = Some(new);
                        }
                    }
                    None => {}
                }
                if !empty {
                    depth += 1;
                }
            }
            Event::End(_) => {
                // The reader checks that end tags match the open ones.
                depth = depth.saturating_sub(1);
                if let Some(current) = entry.as_mut() {
                    if current.depth == depth {
                        if let Some(done) = entry.take() {
                            out.entry(done.position, done.finish());
                        }
                    } else {
                        current.end(depth, &value);
                    }
                }
            }
            Event::Text(t) => {
                if t.starts_with(b"&") && !bare_amp {
                    bare_amp = true;
                    out.warn(format!(
                        "line {}: a bare & is read as text (it is written &amp;)",
                        line_at(&lines, start)
                    ));
                }
                if let Some(current) = entry.as_mut().filter(|c| c.reading(depth)) {
                    // Line ends are made `\n` when the value is kept, not here:
                    // a long text is cut before anything is copied.
                    match std::str::from_utf8(&t) {
                        Ok(s) => push_bounded(&mut value, s),
                        Err(e) => current.fail(format!("unreadable text: {e}")),
                    }
                }
            }
            Event::CData(t) => {
                if let Some(current) = entry.as_mut().filter(|c| c.reading(depth)) {
                    match std::str::from_utf8(&t) {
                        Ok(s) => push_bounded(&mut value, s),
                        Err(e) => current.fail(format!("unreadable text: {e}")),
                    }
                }
            }
            Event::GeneralRef(r) => {
                if let Some(current) = entry.as_mut().filter(|c| c.reading(depth)) {
                    match resolve(&r) {
                        Ok(Resolved::Char(ch)) => {
                            push_bounded(&mut value, ch.encode_utf8(&mut [0; 4]))
                        }
                        Ok(Resolved::Text(s)) => push_bounded(&mut value, s),
                        Err(reason) => current.fail(reason),
                    }
                }
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
    }
    match root {
        None => Err(truncated(
            "it ends before its root element; no element was found".to_string(),
        )),
        Some(root) if depth > 0 => Err(truncated(format!(
            "it ends at line {} before </{root}>",
            lines.len() + 1
        ))),
        Some(_) => Ok(out.finish()),
    }
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

/// What an entity reference stands for.
enum Resolved {
    Char(char),
    Text(&'static str),
}

/// Resolves the five predefined entities and character references; any other
/// entity is refused, never looked up.
fn resolve(r: &BytesRef) -> Result<Resolved, String> {
    let name = String::from_utf8_lossy(r);
    if r.is_char_ref() {
        return match r.resolve_char_ref() {
            Ok(Some(ch)) => Ok(Resolved::Char(ch)),
            _ => Err(format!("a bad character reference &{name};")),
        };
    }
    quick_xml::escape::resolve_predefined_entity(&name)
        .map(Resolved::Text)
        .ok_or_else(|| format!("an unknown entity &{name};"))
}

/// Appends `s` to `value` up to [`MAX_TEXT`] bytes, cut at a character boundary.
fn push_bounded(value: &mut String, s: &str) {
    let room = MAX_TEXT.saturating_sub(value.len());
    if s.len() <= room {
        value.push_str(s);
        return;
    }
    let mut end = room;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    value.push_str(&s[..end]);
}

/// Why an element's attributes cannot be read, without the reader's offsets.
fn attribute_error(e: &BytesStart, err: &AttrError) -> String {
    let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
    match *err {
        AttrError::Duplicated(at, _) => {
            let key: Vec<u8> = e
                .get(at..)
                .unwrap_or_default()
                .iter()
                .take_while(|b| !matches!(b, b'=' | b' ' | b'\t' | b'\r' | b'\n' | b'/'))
                .take(64)
                .copied()
                .collect();
            format!(
                "<{name}> has the attribute {} twice",
                String::from_utf8_lossy(&key)
            )
        }
        AttrError::ExpectedEq(_) | AttrError::ExpectedValue(_) => {
            format!("<{name}> has an attribute without a value")
        }
        AttrError::UnquotedValue(_) | AttrError::ExpectedQuote(..) => {
            format!("<{name}> has an attribute value without quotes")
        }
    }
}

/// Why an attribute's value cannot be read, without the reader's offsets.
fn value_error(key: &[u8], err: &Error) -> String {
    let key = String::from_utf8_lossy(key);
    match err {
        Error::Escape(EscapeError::UnrecognizedEntity(_, entity)) => {
            format!("the {key} attribute holds an unknown entity &{entity};")
        }
        Error::Escape(EscapeError::UnterminatedEntity(_)) => {
            format!("the {key} attribute holds a bare & (it is written &amp;)")
        }
        Error::Escape(EscapeError::InvalidCharRef(_)) => {
            format!("the {key} attribute holds a bad character reference")
        }
        other => format!("the {key} attribute: {other}"),
    }
}

/// The kind a label or type names, when it names one.
fn kind_of(label: &str) -> Option<PhoneKind> {
    let label = label.trim();
    (!label.is_empty()).then(|| kind_of_label(label))
}

/// The kind named by an element's `label` or `type` attribute.
fn label_of(e: &BytesStart) -> Option<PhoneKind> {
    e.attributes().take(MAX_ATTRIBUTES).flatten().find_map(|a| {
        let key = a.key.local_name();
        let key = key.as_ref();
        if !(key.eq_ignore_ascii_case(b"label") || key.eq_ignore_ascii_case(b"type")) {
            return None;
        }
        let v = a.unescape_value().ok()?;
        kind_of(v.get(..MAX_TEXT.min(v.len())).unwrap_or_default())
    })
}

/// A contact being read.
struct Entry {
    position: Position,
    /// How many elements were open around the entry's own element.
    depth: usize,
    contact: Contact,
    /// The field whose text is being read, the depth of its element, and the kind
    /// its label names.
    field: Option<(Field, usize, Option<PhoneKind>)>,
    /// Grandstream: the depth and type of the open `Phone` element.
    phone: Option<(usize, Option<PhoneKind>)>,
    /// The last number read without a kind of its own: a snom `number_type` may follow.
    unkinded: Option<usize>,
    error: Option<String>,
}

impl Entry {
    fn new(position: Position, depth: usize) -> Entry {
        Entry {
            position,
            depth,
            contact: Contact::default(),
            field: None,
            phone: None,
            unkinded: None,
            error: None,
        }
    }

    fn fail(&mut self, reason: String) {
        if self.error.is_none() {
            self.error = Some(reason);
        }
    }

    /// Whether text at `depth` (elements open) is the text of the field being read.
    fn reading(&self, depth: usize) -> bool {
        self.field.is_some_and(|(_, d, _)| d + 1 == depth)
    }

    /// Reads the attributes of the entry element (Yealink remote `Unit`).
    fn attributes(&mut self, e: &BytesStart) {
        for (n, attr) in e.attributes().enumerate() {
            if n == MAX_ATTRIBUTES {
                return self.fail(format!("more than {MAX_ATTRIBUTES} attributes"));
            }
            let attr = match attr {
                Ok(a) => a,
                Err(err) => return self.fail(attribute_error(e, &err)),
            };
            let key = attr.key.local_name();
            let key = key.as_ref();
            let is = |names: &[&[u8]]| names.iter().any(|n| key.eq_ignore_ascii_case(n));
            // Yealink remote phone book `Unit`s and Yealink local `contact`s.
            let kind = if is(&[b"Name", b"display_name"]) {
                None
            } else if is(&[b"Phone1", b"Office", b"office_number"]) {
                Some(PhoneKind::Work)
            } else if is(&[b"Phone2", b"Mobile", b"mobile_number"]) {
                Some(PhoneKind::Mobile)
            } else if is(&[b"Phone3", b"Other", b"other_number"]) {
                Some(PhoneKind::Other)
            } else {
                continue;
            };
            let value = match attr.unescape_value() {
                Ok(v) => v,
                Err(err) => return self.fail(value_error(key, &err)),
            };
            let mut bounded = String::new();
            push_bounded(&mut bounded, value.trim());
            match kind {
                None => self.contact.display_name = bounded,
                Some(kind) => self.contact.phones.push(Phone {
                    kind,
                    number: bounded,
                }),
            }
        }
    }

    /// An element opens inside the entry, `depth` elements around it.
    fn start(&mut self, e: &BytesStart, depth: usize, empty: bool, value: &mut String) {
        let Some(field) = field_of(e.local_name().as_ref()) else {
            return;
        };
        if empty {
            return;
        }
        let mut kind = label_of(e);
        match field {
            Field::Phone => self.phone = Some((depth, kind)),
            Field::Number => kind = kind.or_else(|| self.phone.and_then(|(_, k)| k)),
            Field::Kind(k) => kind = Some(k),
            _ => {}
        }
        self.field = Some((field, depth, kind));
        value.clear();
    }

    /// The element at `depth` inside the entry closes; `value` holds the text read.
    fn end(&mut self, depth: usize, value: &str) {
        if self.phone.is_some_and(|(d, _)| d == depth) {
            self.phone = None;
        }
        let Some((field, at, kind)) = self.field else {
            return;
        };
        if at != depth {
            return;
        }
        self.field = None;
        let trimmed = value.trim();
        let normalised;
        let value = if trimmed.contains('\r') {
            normalised = trimmed.replace("\r\n", "\n").replace('\r', "\n");
            normalised.as_str()
        } else {
            trimmed
        };
        let c = &mut self.contact;
        let slot = match field {
            Field::Display => &mut c.display_name,
            Field::Given => &mut c.given_name,
            Field::Surname => &mut c.surname,
            Field::Company => &mut c.company,
            Field::Department => &mut c.department,
            Field::Title => &mut c.title,
            Field::Email => &mut c.email,
            Field::Number | Field::Phone | Field::Kind(_) => {
                if !value.is_empty() {
                    self.unkinded = kind.is_none().then_some(c.phones.len());
                    c.phones.push(Phone {
                        kind: kind.unwrap_or(PhoneKind::Work),
                        number: value.to_string(),
                    });
                }
                return;
            }
            Field::NumberType => {
                if let (Some(i), Some(kind)) = (self.unkinded, kind_of(value))
                    && let Some(phone) = c.phones.get_mut(i)
                {
                    phone.kind = kind;
                    self.unkinded = None;
                }
                return;
            }
        };
        if slot.is_empty() {
            *slot = value.to_string();
        }
    }

    fn finish(self) -> Result<Contact, String> {
        match self.error {
            Some(reason) => Err(reason),
            None => Ok(self.contact),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn sample(name: &str, text: &str) -> ReadList {
        let list = crate::formats::read(name, None, text.as_bytes()).unwrap();
        assert_eq!(list.format, Some(Format::Xml), "{name}");
        assert!(list.skipped.is_empty(), "{name}: {:?}", list.skipped);
        assert!(list.contacts.iter().all(|c| c.id.is_empty()), "{name}");
        list
    }

    fn numbers(c: &Contact) -> Vec<(PhoneKind, &str)> {
        c.phones
            .iter()
            .map(|p| (p.kind, p.number.as_str()))
            .collect()
    }

    fn names(list: &ReadList) -> Vec<String> {
        list.contacts.iter().map(Contact::common_name).collect()
    }

    fn skipped(list: &ReadList) -> Vec<(usize, u64, &str)> {
        list.skipped
            .iter()
            .map(|s| (s.position.entry, s.position.line, s.reason.as_str()))
            .collect()
    }

    #[test]
    fn yealink_directory_and_remote_phone_book() {
        let yealink = sample(
            "yealink.xml",
            include_str!("../../assets/formats/yealink.xml"),
        );
        assert_eq!(yealink.describe(), "XML (Yealink)");
        assert_eq!(
            names(&yealink),
            ["Ada Lovelace", "Jürgen Müller", "Zoë O'Brien & Co"]
        );
        assert_eq!(
            numbers(&yealink.contacts[0]),
            [
                (PhoneKind::Work, "+44 20 7946 0001"),
                (PhoneKind::Mobile, "+44 7700 900001")
            ]
        );
        assert_eq!(
            numbers(&yealink.contacts[1]),
            [(PhoneKind::Work, "+49 30 901820")]
        );
        assert_eq!(
            numbers(&yealink.contacts[2]),
            [(PhoneKind::Home, "+353 1 555 0199")]
        );

        let remote = sample(
            "yealink-remote.xml",
            include_str!("../../assets/formats/yealink-remote.xml"),
        );
        assert_eq!(remote.variant, Some("Yealink remote phone book"));
        assert_eq!(
            names(&remote),
            ["Amélie Laurent", "Wei Zhang", "Priya Sharma"]
        );
        assert_eq!(
            numbers(&remote.contacts[0]),
            [
                (PhoneKind::Work, "+33 1 42 68 53 00"),
                (PhoneKind::Mobile, "+33 6 12 34 56 78")
            ]
        );
        assert_eq!(
            numbers(&remote.contacts[1]),
            [
                (PhoneKind::Work, "+86 10 1234 5678"),
                (PhoneKind::Mobile, "+86 138 0013 8000"),
                (PhoneKind::Other, "+86 10 1234 5600")
            ]
        );
        assert_eq!(
            numbers(&remote.contacts[2]),
            [(PhoneKind::Work, "+91 22 2345 6789")]
        );
    }

    #[test]
    fn cisco_and_snom_directories() {
        let cisco = sample("cisco.xml", include_str!("../../assets/formats/cisco.xml"));
        assert_eq!(cisco.variant, Some("Cisco"));
        // The directory's Title and Prompt are not contacts.
        assert_eq!(
            names(&cisco),
            ["Grace Hopper", "Linus Torvalds", "Reception Lisboa"]
        );
        assert_eq!(
            numbers(&cisco.contacts[2]),
            [(PhoneKind::Work, "+351 21 123 4567")]
        );
        assert_eq!(cisco.contacts[0].display_name, "Grace Hopper");

        let snom = sample("snom.xml", include_str!("../../assets/formats/snom.xml"));
        assert_eq!(snom.variant, Some("Snom"));
        assert_eq!(
            names(&snom),
            ["Ingrid Svensson", "Marek Nowak", "Fatima Zahra"]
        );
        assert_eq!(
            numbers(&snom.contacts[0]),
            [(PhoneKind::Work, "+46 70 234 56 78")]
        );

        let tbook = sample(
            "snom-tbook.xml",
            include_str!("../../assets/formats/snom-tbook.xml"),
        );
        assert_eq!(tbook.variant, Some("Snom tbook"));
        let ken = &tbook.contacts[0];
        assert_eq!(
            (
                ken.display_name.as_str(),
                ken.given_name.as_str(),
                ken.surname.as_str(),
                ken.company.as_str(),
                ken.email.as_str()
            ),
            (
                "Ken Thompson",
                "Ken",
                "Thompson",
                "Bell Labs",
                "ken@example.org"
            )
        );
        assert_eq!(numbers(ken), [(PhoneKind::Work, "+1 908 555 0101")]);
        assert_eq!(
            numbers(&tbook.contacts[1]),
            [(PhoneKind::Mobile, "+1 908 555 0199")]
        );
        assert_eq!(
            numbers(&tbook.contacts[2]),
            [(PhoneKind::Home, "+34 91 765 43 21")]
        );
        assert_eq!(tbook.contacts[2].surname, "García");
    }

    #[test]
    fn grandstream_and_polycom() {
        let grandstream = sample(
            "grandstream.xml",
            include_str!("../../assets/formats/grandstream.xml"),
        );
        assert_eq!(grandstream.variant, Some("Grandstream"));
        let hiroshi = &grandstream.contacts[0];
        assert_eq!(
            (hiroshi.given_name.as_str(), hiroshi.surname.as_str()),
            ("Hiroshi", "Tanaka")
        );
        assert_eq!(
            (
                hiroshi.company.as_str(),
                hiroshi.department.as_str(),
                hiroshi.title.as_str(),
                hiroshi.email.as_str()
            ),
            (
                "Sakura KK",
                "Engineering",
                "Engineer",
                "h.tanaka@example.jp"
            )
        );
        assert_eq!(
            numbers(hiroshi),
            [
                (PhoneKind::Work, "+81 3 2345 6789"),
                (PhoneKind::Mobile, "+81 90 2345 6789")
            ]
        );
        assert_eq!(
            numbers(&grandstream.contacts[1]),
            [(PhoneKind::Home, "+31 10 765 4321")]
        );
        assert_eq!(
            numbers(&grandstream.contacts[2]),
            [
                (PhoneKind::Fax, "+90 212 765 43 21"),
                (PhoneKind::Work, "+90 212 765 43 20"),
                (PhoneKind::Home, "+90 212 765 43 22")
            ]
        );
        // The group's name is not a contact's.
        assert_eq!(
            names(&grandstream),
            ["Hiroshi Tanaka", "Daan de Vries", "Mehmet Kaya"]
        );

        let polycom = sample(
            "polycom.xml",
            include_str!("../../assets/formats/polycom.xml"),
        );
        assert_eq!(polycom.variant, Some("Polycom"));
        let giulia = &polycom.contacts[0];
        assert_eq!(
            (giulia.given_name.as_str(), giulia.surname.as_str()),
            ("Giulia", "Rossi")
        );
        assert_eq!(numbers(giulia), [(PhoneKind::Work, "+39 06 7654 3210")]);
        assert_eq!(
            names(&polycom),
            ["Giulia Rossi", "Niccolò (Napoli)", "Helpdesk"]
        );
        assert_eq!(numbers(&polycom.contacts[2]), [(PhoneKind::Work, "4100")]);
    }

    #[test]
    fn yealink_local_fanvil_and_fritzbox() {
        let local = sample(
            "yealink-local.xml",
            include_str!("../../assets/formats/yealink-local.xml"),
        );
        assert_eq!(local.variant, Some("Yealink local contacts"));
        assert_eq!(
            names(&local),
            ["Amélie Laurent", "Wei Zhang", "Priya Sharma"]
        );
        assert_eq!(
            numbers(&local.contacts[0]),
            [
                (PhoneKind::Work, "+33 1 42 68 53 00"),
                (PhoneKind::Mobile, "+33 6 12 34 56 78"),
                (PhoneKind::Other, "+33 1 45 00 00 02")
            ]
        );
        assert_eq!(
            numbers(&local.contacts[2]),
            [(PhoneKind::Mobile, "+91 98200 12345")]
        );
        // Newer firmware wraps both lists in vp_contact.
        let wrapped = read(
            "<vp_contact><root_group><group display_name=\"All Contacts\"/></root_group>\
             <root_contact><contact display_name=\"Ana\" office_number=\"1\" mobile_number=\"2\"/>\
             </root_contact></vp_contact>",
        )
        .unwrap();
        assert_eq!(names(&wrapped), ["Ana"]);
        assert_eq!(wrapped.contacts[0].phones.len(), 2);

        let fanvil = sample(
            "fanvil.xml",
            include_str!("../../assets/formats/fanvil.xml"),
        );
        assert_eq!(fanvil.variant, Some("Fanvil"));
        assert_eq!(
            names(&fanvil),
            ["Marek Nowak", "Ingrid Svensson", "Helpdesk"]
        );
        assert_eq!(
            numbers(&fanvil.contacts[0]),
            [
                (PhoneKind::Work, "+48 22 555 01 01"),
                (PhoneKind::Mobile, "+48 601 555 010"),
                (PhoneKind::Other, "+48 22 555 01 99")
            ]
        );
        assert_eq!(
            numbers(&fanvil.contacts[1]),
            [(PhoneKind::Mobile, "+46 70 234 56 78")]
        );
        assert_eq!(
            numbers(&fanvil.contacts[2]),
            [(PhoneKind::Work, "4100"), (PhoneKind::Other, "4199")]
        );

        let fritz = sample(
            "fritzbox.xml",
            include_str!("../../assets/formats/fritzbox.xml"),
        );
        assert_eq!(fritz.variant, Some("FRITZ!Box"));
        assert_eq!(
            names(&fritz),
            ["Jürgen Müller", "Praxis Dr. Weiß", "Oma & Opa"]
        );
        let j = &fritz.contacts[0];
        assert_eq!(
            numbers(j),
            [
                (PhoneKind::Home, "+49 30 4455667"),
                (PhoneKind::Work, "+49 30 901820"),
                (PhoneKind::Mobile, "+49 170 1234567"),
                (PhoneKind::Fax, "+49 30 901820-9")
            ]
        );
        assert_eq!(j.email, "j.mueller@example.de");
        assert_eq!(
            numbers(&fritz.contacts[2]),
            [
                (PhoneKind::Home, "+49 40 7654321"),
                (PhoneKind::Mobile, "+49 151 22334455")
            ]
        );
    }

    /// The shapes FRITZ!OS writes besides the backup file: the TR-064 phone book
    /// download (e-mail under `telephony/services`, empty number slots, `memo` and
    /// `intern` numbers), older boxes' ISO-8859-1 backups, `contact modified`.
    #[test]
    fn fritzbox_as_fritz_os_versions_write_it() {
        let latin1 = b"<?xml version=\"1.0\" encoding=\"iso-8859-1\"?>\n\
            <phonebooks><phonebook owner=\"0\" name=\"Telefonbuch\">\n\
            <timestamp>1730308258</timestamp>\n\
            <contact modified=\"0\"><category>1</category>\
            <person><realName>Sigrist, Werner</realName></person>\
            <telephony nid=\"3\">\
            <number type=\"home\" prio=\"1\" id=\"0\" quickdial=\"1\" vanity=\"889911\">0733553355</number>\
            <number type=\"mobile\" id=\"1\" prio=\"0\" />\
            <number type=\"work\" vanity=\"\" prio=\"\" id=\"2\"></number>\
            <services><email classifier=\"private\">sig@example.de</email></services>\
            </telephony><setup/><mod_time>1378711978</mod_time><uniqueid>19</uniqueid></contact>\n\
            <contact><category>0</category><person><realName>Hans M\xfcller</realName>\
            <imageURL>/download.lua?path=/var/fonpix/1.jpg</imageURL></person>\
            <telephony><number type=\"memo\" prio=\"0\">0221 555</number>\
            <number type=\"intern\" prio=\"1\">**610</number></telephony>\
            <uniqueid>20</uniqueid></contact>\n\
            </phonebook></phonebooks>\n";
        let list = crate::formats::read("Telefonbuch.xml", None, latin1).unwrap();
        assert_eq!(list.variant, Some("FRITZ!Box"));
        assert!(list.skipped.is_empty(), "{:?}", list.skipped);
        assert_eq!(names(&list), ["Sigrist, Werner", "Hans Müller"]);
        assert_eq!(
            numbers(&list.contacts[0]),
            [(PhoneKind::Home, "0733553355")]
        );
        assert_eq!(list.contacts[0].email, "sig@example.de");
        assert_eq!(
            numbers(&list.contacts[1]),
            [
                (PhoneKind::Other, "0221 555"),
                (PhoneKind::IpPhone, "**610")
            ]
        );
    }

    #[test]
    fn names_and_types_are_matched_without_case() {
        let text = "<addressbook><contact><firstname>Ana</firstname><LASTNAME>Silva</LASTNAME>\
            <phone TYPE=\"CELL\"><PhoneNumber>+55 11 91234 5678</PhoneNumber></phone>\
            <Phone type=\"other\"><phonenumber>+55 11 3456 7890</phonenumber></Phone>\
            <Phone type=\"pager\">+55 11 555</Phone>\
            <Phone type=\"Telex\"><phonenumber>+55 11 3456 7800</phonenumber></Phone>\
            </contact></addressbook>";
        let list = read(text).unwrap();
        let ana = &list.contacts[0];
        assert_eq!(
            (ana.given_name.as_str(), ana.surname.as_str()),
            ("Ana", "Silva")
        );
        assert_eq!(
            numbers(ana),
            [
                (PhoneKind::Mobile, "+55 11 91234 5678"),
                (PhoneKind::Other, "+55 11 3456 7890"),
                (PhoneKind::Pager, "+55 11 555"),
                (PhoneKind::Work, "+55 11 3456 7800")
            ]
        );

        let crlf = "<SnomIPPhoneDirectory>\r\n<DirectoryEntry>\r\n<Name>Two\r\nlines</Name>\r\n\
            <Telephone>1</Telephone></DirectoryEntry>\r\n</SnomIPPhoneDirectory>\r\n";
        assert_eq!(read(crlf).unwrap().contacts[0].display_name, "Two\nlines");

        let tbook = "<tbook><item index=\"7\"><name>Fax room</name>\
            <number>+43 1 234</number><number_type>fax</number_type>\
            <number>+43 1 235</number><number_type>sip</number_type></item></tbook>";
        let list = read(tbook).unwrap();
        assert_eq!(list.contacts[0].id, "");
        assert_eq!(
            numbers(&list.contacts[0]),
            [
                (PhoneKind::Fax, "+43 1 234"),
                (PhoneKind::Work, "+43 1 235")
            ]
        );
    }

    #[test]
    fn bad_entries_are_skipped_with_their_position() {
        let text = "<CiscoIPPhoneDirectory>\n\
            <DirectoryEntry><Name>One</Name><Telephone>1</Telephone></DirectoryEntry>\n\
            <DirectoryEntry><Name>Two &bogus;</Name><Telephone>2</Telephone></DirectoryEntry>\n\
            <DirectoryEntry><Name></Name><Telephone>none</Telephone></DirectoryEntry>\n\
            <DirectoryEntry><Name>Four &#x26; &lt;5&gt;</Name></DirectoryEntry>\n\
            <DirectoryEntry><Name>Six &#0;</Name><Telephone>6</Telephone></DirectoryEntry>\n\
            <DirectoryEntry><Name>AT&T & Co</Name><Telephone>7</Telephone></DirectoryEntry>\n\
            </CiscoIPPhoneDirectory>";
        let list = read(text).unwrap();
        assert_eq!(names(&list), ["One", "Four & <5>", "AT&T & Co"]);
        assert_eq!(
            list.warnings,
            ["line 7: a bare & is read as text (it is written &amp;)"]
        );
        let skipped = skipped(&list);
        assert_eq!(skipped.len(), 3, "{skipped:?}");
        assert_eq!((skipped[0].0, skipped[0].1), (2, 3));
        assert!(
            skipped[0].2.contains("unknown entity &bogus;"),
            "{skipped:?}"
        );
        assert_eq!((skipped[1].0, skipped[1].1), (3, 4));
        assert!(skipped[1].2.contains("no digit"), "{skipped:?}");
        assert_eq!((skipped[2].0, skipped[2].1), (5, 6));
        assert!(skipped[2].2.contains("character reference"), "{skipped:?}");
    }

    #[test]
    fn an_entry_is_placed_where_its_tag_starts() {
        // Many attributes: only the first ones are looked at.
        let many: String = (0..100_000).map(|i| format!(" a{i}=\"\"")).collect();
        let text = format!(
            "<YealinkIPPhoneBook>\n<Menu Name=\"All\">\n\
             <Unit Name=\"Ok\" Phone1=\"100\"/>\n\
             <Unit\n  Name=\"Bad &nope;\"\n  Phone1=\"200\"/>\n\
             <Unit Name=\"Twice\" Name=\"Twice\" Phone1=\"300\"/>\n\
             <Unit Name=\"Last\" Phone2=\"400\"/>\n\
             <Unit Name=\"Many\"{many}/>\n\
             <Unit Name=\"Many labels\"><Telephone{many} label=\"Mobile\">500</Telephone></Unit>\n\
             </Menu>\n</YealinkIPPhoneBook>\n"
        );
        let list = read(&text).unwrap();
        assert_eq!(names(&list), ["Ok", "Last", "Many labels"]);
        assert_eq!(numbers(&list.contacts[1]), [(PhoneKind::Mobile, "400")]);
        // The label past the first attributes is not seen.
        assert_eq!(numbers(&list.contacts[2]), [(PhoneKind::Work, "500")]);
        let skipped = skipped(&list);
        assert_eq!(
            skipped.iter().map(|s| (s.0, s.1)).collect::<Vec<_>>(),
            [(2, 4), (3, 7), (5, 9)],
            "{skipped:?}"
        );
        assert!(skipped[0].2.contains("&nope;"), "{skipped:?}");
        assert!(
            skipped[1].2.contains("<Unit> has the attribute Name twice"),
            "{skipped:?}"
        );
        assert!(
            skipped[2].2.contains("more than 64 attributes"),
            "{skipped:?}"
        );
    }

    #[test]
    fn long_values_are_refused_without_being_kept() {
        let long = "x".repeat(10 << 20);
        let text = format!(
            "<YealinkIPPhoneDirectory>\n\
             <DirectoryEntry><Name>{long}</Name><Telephone>1</Telephone></DirectoryEntry>\n\
             <DirectoryEntry><Name>Ok</Name><Telephone><![CDATA[{long}]]></Telephone></DirectoryEntry>\n\
             <DirectoryEntry><Name>Fine</Name><Telephone>3</Telephone><Note>{long}</Note></DirectoryEntry>\n\
             </YealinkIPPhoneDirectory>"
        );
        let list = read(&text).unwrap();
        assert_eq!(names(&list), ["Fine"]);
        let skipped = skipped(&list);
        assert_eq!(
            skipped.iter().map(|s| (s.0, s.1)).collect::<Vec<_>>(),
            [(1, 2), (2, 3)]
        );
        assert!(skipped[0].2.contains("longer than"), "{skipped:?}");
        assert!(skipped[1].2.contains("longer than"), "{skipped:?}");
    }

    #[test]
    fn broken_and_hostile_documents_are_refused() {
        let cut = "<YealinkIPPhoneDirectory><DirectoryEntry><Name>One</Name><Telephone>1</Tele";
        assert!(
            matches!(read(cut), Err(NotAList::Truncated { .. })),
            "{:?}",
            read(cut).err()
        );
        let unclosed =
            "<YealinkIPPhoneDirectory>\n<DirectoryEntry><Name>One</Name></DirectoryEntry>\n";
        let err = read(unclosed).unwrap_err();
        assert!(matches!(err, NotAList::Truncated { .. }), "{err}");
        assert!(
            err.to_string().contains("</YealinkIPPhoneDirectory>"),
            "{err}"
        );
        for cut in [
            "<tbook><item><name>A</name><!",
            "<tbook><!-- a comm",
            "<?xml version=",
        ] {
            assert!(
                matches!(read(cut), Err(NotAList::Truncated { .. })),
                "{cut}"
            );
        }
        assert!(matches!(
            read("<tbook><!x></tbook>"),
            Err(NotAList::Broken { .. })
        ));
        let declaration_only = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
        assert!(matches!(
            read(declaration_only),
            Err(NotAList::Truncated { .. })
        ));

        let bomb = "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;\">]>\
            <CiscoIPPhoneDirectory><DirectoryEntry><Name>&lol2;</Name></DirectoryEntry></CiscoIPPhoneDirectory>";
        let err = read(bomb).unwrap_err();
        assert!(matches!(err, NotAList::Broken { .. }), "{err}");
        assert!(
            err.to_string()
                .contains("DOCTYPE with entity declarations is not accepted"),
            "{err}"
        );
        let external = "<!DOCTYPE x [<!entity % ext SYSTEM \"http://example.com/x.dtd\">]><tbook/>";
        assert!(matches!(read(external), Err(NotAList::Broken { .. })));

        let deep = format!(
            "<directory>\n{}{}</directory>",
            "<a>".repeat(100_000),
            "</a>".repeat(100_000)
        );
        let err = read(&deep).unwrap_err();
        assert!(matches!(err, NotAList::Broken { .. }), "{err}");
        assert!(err.to_string().contains("nested deeper than 32"), "{err}");

        let err = read("<html-ish><x/></html-ish>").unwrap_err();
        assert!(matches!(err, NotAList::Broken { .. }), "{err}");
        let reason = err.to_string();
        assert!(
            reason.contains("<html-ish> is not a phone book"),
            "{reason}"
        );
        assert!(
            reason.contains("YealinkIPPhoneDirectory") && reason.contains("AddressBook"),
            "{reason}"
        );

        let err = read("<CiscoIPPhoneDirectory>\n<DirectoryEntry></Wrong></CiscoIPPhoneDirectory>")
            .unwrap_err();
        assert!(matches!(err, NotAList::Broken { .. }), "{err}");
        assert!(err.to_string().contains("line 2"), "{err}");
    }
}
