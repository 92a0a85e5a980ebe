//! Contacts as vCard (2.1, 3.0 and 4.0): `BEGIN:VCARD` ... `END:VCARD`, one card
//! per contact.
//!
//! Read: `UID` (kept as the contact's id, so that a card keeps its identity from one
//! import to the next), `FN`, `N`, `ORG` (company; department), `TITLE`, the first
//! `EMAIL`, and every `TEL` with its type (`WORK`, `CELL`, `HOME`, `FAX`, `PAGER`;
//! as `TYPE=` parameters, vCard 2.1 bare parameters, or vCard 4.0 `tel:` URIs);
//! `ADR` (street, city, region, postal code, country; the work address, else the
//! first), `NOTE` (the description) and `PHOTO` when it is an inline JPEG image
//! (`ENCODING=b` or `BASE64`, or a 4.0 `data:` URI; a photo given by URL is not
//! fetched). Folded lines, escapes (`\,` `\;` `\n`), quoted parameter values and
//! vCard 2.1 quoted-printable values are understood; other properties are passed
//! over without being kept.

use super::{Entries, Format, NotAList, Position, ReadList, newlines};
use crate::contacts::{Contact, Detail, Phone, PhoneKind};
use base64::Engine;

/// The properties that are read; every other one is passed over.
const READ: [&str; 11] = [
    "UID", "FN", "N", "ORG", "TITLE", "EMAIL", "TEL", "ADR", "NOTE", "PHOTO", "END",
];

pub fn read(text: &str) -> Result<ReadList, NotAList> {
    let mut out = Entries::new();
    let mut lines = Lines::new(text);
    let mut entry = 0;
    // The card being read: where it starts, and what it has so far.
    let mut card: Option<(Position, Card)> = None;
    while let Some((line_no, line)) = lines.next_property() {
        let Some(property) = Property::parse(&line) else {
            if let Some((position, _)) = card.take() {
                out.skip(
                    position,
                    format!("line {line_no}: not a vCard property: {}", excerpt(&line)),
                );
            }
            continue;
        };
        let name = property.name.to_ascii_uppercase();
        if name == "BEGIN" && property.value.eq_ignore_ascii_case("VCARD") {
            entry += 1;
            if let Some((position, _)) = card.replace((
                Position {
                    entry,
                    line: line_no,
                },
                Card::default(),
            )) {
                out.skip(position, "BEGIN:VCARD without END:VCARD");
            }
            continue;
        }
        let Some((position, current)) = card.as_mut() else {
            continue;
        };
        if name == "END" {
            if property.value.eq_ignore_ascii_case("VCARD")
                && let Some((position, done)) = card.take()
            {
                out.push(position, done.contact);
            }
            continue;
        }
        if let Err(reason) = current.add(&name, &property) {
            out.skip(*position, format!("line {line_no}: {reason}"));
            card = None;
        }
    }
    if let Some((position, _)) = card {
        return Err(NotAList::Truncated {
            format: Format::VCard,
            reason: format!("the last card ({position}) has no END:VCARD; the file was cut short"),
        });
    }
    if entry == 0 {
        return Err(NotAList::Broken {
            format: Format::VCard,
            reason: "no BEGIN:VCARD line".to_string(),
        });
    }
    Ok(out.finish())
}

fn excerpt(line: &str) -> String {
    let cut: String = line.chars().take(40).collect();
    if cut.len() < line.len() {
        format!("{cut:?}...")
    } else {
        format!("{cut:?}")
    }
}

/// What a card has so far.
#[derive(Default)]
struct Card {
    contact: Contact,
    email_preferred: bool,
    /// The address read is a work address.
    work_address: bool,
}

impl Card {
    fn add(&mut self, name: &str, p: &Property) -> Result<(), String> {
        let c = &mut self.contact;
        let value = p.decoded_value()?;
        match name {
            "UID" => set_first(&mut c.id, unescape(&value)),
            "FN" => set_first(&mut c.display_name, unescape(&value)),
            "N" => {
                let mut parts = split_structured(&value);
                set_first(&mut c.surname, parts.next().unwrap_or_default());
                set_first(&mut c.given_name, parts.next().unwrap_or_default());
            }
            "ORG" => {
                let mut parts = split_structured(&value);
                set_first(&mut c.company, parts.next().unwrap_or_default());
                set_first(&mut c.department, parts.next().unwrap_or_default());
            }
            "TITLE" => set_first(&mut c.title, unescape(&value)),
            "NOTE" => set_first(&mut c.description, unescape(&value)),
            "ADR" => {
                let work = p.has_type("WORK");
                let has = [Detail::Street, Detail::Locality, Detail::PostalCode]
                    .iter()
                    .any(|d| !c.detail(*d).is_empty());
                if !has || work && !self.work_address {
                    // PO box; extended address; street; locality; region; code; country.
                    let parts: Vec<String> = split_structured(&value).collect();
                    let part = |i: usize| parts.get(i).cloned().unwrap_or_default();
                    c.street = part(2);
                    c.locality = part(3);
                    c.state = part(4);
                    c.postal_code = part(5);
                    c.country = part(6);
                    self.work_address = work;
                }
            }
            "PHOTO" => {
                if c.photo.is_empty()
                    && let Some(bytes) = p.inline_bytes()
                    && crate::contacts::is_jpeg(&bytes)
                {
                    c.photo = bytes;
                }
            }
            "EMAIL" => {
                let preferred = p.has_type("PREF") || p.param("PREF").is_some();
                if c.email.is_empty() || preferred && !self.email_preferred {
                    c.email = unescape(&value);
                    self.email_preferred = preferred;
                }
            }
            "TEL" => {
                let number = unescape(&value);
                let number = number
                    .strip_prefix("tel:")
                    .or_else(|| number.strip_prefix("TEL:"))
                    .unwrap_or(&number);
                // A tel: URI may carry parameters: tel:+1-555-1234;ext=5
                let number = number.split(";ext=").next().unwrap_or(number);
                c.phones.push(Phone {
                    kind: p.phone_kind(),
                    number: number.to_string(),
                });
            }
            _ => {}
        }
        Ok(())
    }
}

fn set_first(slot: &mut String, value: String) {
    if slot.trim().is_empty() {
        *slot = value;
    }
}

/// One content line: `group.NAME;PARAM=a,b;PARAM="x:y":value`.
struct Property<'a> {
    name: &'a str,
    params: Vec<(&'a str, &'a str)>,
    value: &'a str,
}

impl<'a> Property<'a> {
    fn parse(line: &'a str) -> Option<Property<'a>> {
        // The name and the parameters end at the first ':' outside quotes.
        let mut quoted = false;
        let colon = line.char_indices().find_map(|(i, ch)| match ch {
            '"' => {
                quoted = !quoted;
                None
            }
            ':' if !quoted => Some(i),
            _ => None,
        })?;
        let (head, value) = (&line[..colon], &line[colon + 1..]);
        let mut parts = split_params(head);
        let name = parts.next()?;
        let name = name.rsplit_once('.').map_or(name, |(_, n)| n);
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return None;
        }
        let params = parts
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (k.trim(), v.trim().trim_matches('"')),
                // vCard 2.1: `TEL;WORK;FAX:` is `TYPE=WORK`, `TYPE=FAX`.
                None => ("TYPE", p.trim()),
            })
            .collect();
        Some(Property {
            name,
            params,
            value,
        })
    }

    fn param(&self, key: &str) -> Option<&'a str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| *v)
    }

    /// Whether a `TYPE` parameter lists `t` (`TYPE=WORK,VOICE`, `TYPE="work,cell"`).
    fn has_type(&self, t: &str) -> bool {
        self.params
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("TYPE"))
            .flat_map(|(_, v)| v.split(','))
            .any(|v| v.trim().eq_ignore_ascii_case(t))
    }

    fn phone_kind(&self) -> PhoneKind {
        if self.has_type("FAX") {
            PhoneKind::Fax
        } else if self.has_type("CELL") || self.has_type("IPHONE") || self.has_type("MOBILE") {
            PhoneKind::Mobile
        } else if self.has_type("PAGER") {
            PhoneKind::Pager
        } else if self.has_type("HOME") {
            PhoneKind::Home
        } else if self.has_type("WORK") || self.has_type("MAIN") || self.has_type("VOICE") {
            PhoneKind::Work
        } else if self
            .params
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("TYPE"))
        {
            PhoneKind::Other
        } else {
            PhoneKind::Work
        }
    }

    /// The bytes of an inline binary value: `ENCODING=b` (3.0), `ENCODING=BASE64`
    /// (2.1) or a `data:...;base64,` URI (4.0). None for a URL or bad base64.
    fn inline_bytes(&self) -> Option<Vec<u8>> {
        let encoding = self.param("ENCODING").unwrap_or_default();
        let base64 = encoding.eq_ignore_ascii_case("b")
            || encoding.eq_ignore_ascii_case("BASE64")
            || self.has_type("BASE64");
        let data = match base64 {
            true => self.value,
            false => self.value.strip_prefix("data:")?.split_once(";base64,")?.1,
        };
        let data: String = data.split_whitespace().collect();
        base64::engine::general_purpose::STANDARD.decode(data).ok()
    }

    /// The value with a vCard 2.1 `ENCODING=QUOTED-PRINTABLE` undone.
    fn decoded_value(&self) -> Result<String, String> {
        let qp = self
            .param("ENCODING")
            .is_some_and(|e| e.eq_ignore_ascii_case("QUOTED-PRINTABLE"))
            || self.has_type("QUOTED-PRINTABLE");
        if !qp {
            return Ok(self.value.to_string());
        }
        let bytes = self.value.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'=' {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => return Err("a quoted-printable value has a bad escape".to_string()),
                }
            }
            out.push(bytes[i]);
            i += 1;
        }
        String::from_utf8(out)
            .map_err(|_| "a quoted-printable value is not UTF-8 (give CHARSET=UTF-8)".to_string())
    }
}

/// Splits `NAME;A=1;B="x;y"` at the `;` outside quotes.
fn split_params(head: &str) -> impl Iterator<Item = &str> {
    let mut quoted = false;
    head.split(move |ch| match ch {
        '"' => {
            quoted = !quoted;
            false
        }
        ';' => !quoted,
        _ => false,
    })
}

/// The components of a structured value (`N`, `ORG`), unescaped.
fn split_structured(value: &str) -> impl Iterator<Item = String> + '_ {
    let mut escaped = false;
    value
        .split(move |ch| {
            if escaped {
                escaped = false;
                return false;
            }
            match ch {
                '\\' => {
                    escaped = true;
                    false
                }
                ';' => true,
                _ => false,
            }
        })
        // A component may list several values (`N:Doe;John,Johnny`): the first counts.
        .map(|part| unescape(first_of_list(part)))
}

/// The first value of a `,`-separated list, escapes kept.
fn first_of_list(part: &str) -> &str {
    let mut escaped = false;
    for (i, ch) in part.char_indices() {
        match ch {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            ',' => return &part[..i],
            _ => {}
        }
    }
    part
}

/// Undoes vCard text escapes: `\n` `\N` (line end), `\,` `\;` `\:` `\\`.
fn unescape(value: &str) -> String {
    if !value.contains('\\') {
        return value.to_string();
    }
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(ch) = chars.next() {
        if ch != '\\' {
            out.push(ch);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push('\n'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// The logical lines of a vCard document, unfolded, with the line each starts on.
/// Properties that are not read are passed over without being unfolded.
struct Lines<'a> {
    text: &'a str,
    at: usize,
    newlines: Vec<usize>,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Lines<'a> {
        Lines {
            text,
            at: 0,
            newlines: newlines(text),
        }
    }

    /// The next physical line, without its line end.
    fn physical(&mut self) -> Option<(usize, &'a str)> {
        if self.at >= self.text.len() {
            return None;
        }
        let start = self.at;
        let rest = &self.text[start..];
        let (line, next) = match rest.find('\n') {
            Some(i) => (&rest[..i], start + i + 1),
            None => (rest, self.text.len()),
        };
        self.at = next;
        Some((start, line.strip_suffix('\r').unwrap_or(line)))
    }

    fn continues(&self) -> bool {
        matches!(self.text.as_bytes().get(self.at), Some(b' ' | b'\t'))
    }

    fn next_property(&mut self) -> Option<(u64, std::borrow::Cow<'a, str>)> {
        loop {
            let (start, first) = self.physical()?;
            if first.trim().is_empty() {
                continue;
            }
            let line_no = super::line_at(&self.newlines, start);
            let name = first
                .split([';', ':'])
                .next()
                .unwrap_or_default()
                .rsplit('.')
                .next()
                .unwrap_or_default();
            // A line that is not a property at all is handed on, to be reported.
            let wanted = READ.iter().any(|r| r.eq_ignore_ascii_case(name))
                || name.eq_ignore_ascii_case("BEGIN")
                || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
            // vCard 2.1 quoted-printable soft line breaks: a line ending in '='.
            let qp = first.to_ascii_uppercase().contains("QUOTED-PRINTABLE");
            if !wanted {
                let mut last = first;
                while self.continues() || qp && last.ends_with('=') {
                    match self.physical() {
                        Some((_, next)) => last = next,
                        None => break,
                    }
                }
                continue;
            }
            if !(self.continues() || qp && first.ends_with('=')) {
                return Some((line_no, std::borrow::Cow::Borrowed(first)));
            }
            let mut line = first.to_string();
            loop {
                if qp && line.ends_with('=') {
                    line.pop();
                    match self.physical() {
                        Some((_, next)) => line.push_str(next.trim_start()),
                        None => break,
                    }
                } else if self.continues() {
                    match self.physical() {
                        Some((_, next)) => line.push_str(&next[1..]),
                        None => break,
                    }
                } else {
                    break;
                }
            }
            return Some((line_no, std::borrow::Cow::Owned(line)));
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn numbers(c: &Contact) -> Vec<(PhoneKind, &str)> {
        c.phones
            .iter()
            .map(|p| (p.kind, p.number.as_str()))
            .collect()
    }

    #[test]
    fn vcard_3_and_4() {
        let text = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1\r\n\
            N:Lovelace;Ada;;Countess;\r\nFN:Ada Lovelace\r\nORG:Analytical Engines;R\\&D\r\n\
            TITLE:Engineer\\, first\r\nEMAIL;TYPE=INTERNET:ada@example.org\r\n\
            EMAIL;TYPE=INTERNET,PREF:ada@pref.org\r\n\
            TEL;TYPE=WORK,VOICE:+44 20 7946 0001\r\nTEL;TYPE=CELL:+44 7700 900001\r\n\
            TEL;TYPE=WORK;TYPE=FAX:+44 20 7946 0009\r\n\
            PHOTO;ENCODING=b;TYPE=JPEG:MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\r\n \
            aGVsbG8gd29ybGQ=\r\nNOTE:long note\r\n  folded\r\nEND:VCARD\r\n\
            BEGIN:VCARD\nVERSION:4.0\nUID:urn:uuid:b2\nFN:Grace\n  Hopper\n\
            TEL;VALUE=uri;TYPE=\"home,voice\":tel:+1-555-0100\n\
            item1.TEL;TYPE=cell:+1 555 0101\nEND:VCARD\n";
        let list = read(text).unwrap();
        assert!(list.skipped.is_empty(), "{:?}", list.skipped);
        let ada = &list.contacts[0];
        assert_eq!(ada.id, "urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1");
        assert_eq!(
            (ada.given_name.as_str(), ada.surname.as_str()),
            ("Ada", "Lovelace")
        );
        assert_eq!(ada.company, "Analytical Engines");
        assert_eq!(ada.department, "R&D");
        assert_eq!(ada.title, "Engineer, first");
        assert_eq!(ada.email, "ada@pref.org");
        assert_eq!(
            numbers(ada),
            [
                (PhoneKind::Work, "+44 20 7946 0001"),
                (PhoneKind::Mobile, "+44 7700 900001"),
                (PhoneKind::Fax, "+44 20 7946 0009")
            ]
        );
        let grace = &list.contacts[1];
        assert_eq!(grace.display_name, "Grace Hopper");
        assert_eq!(
            numbers(grace),
            [
                (PhoneKind::Home, "+1-555-0100"),
                (PhoneKind::Mobile, "+1 555 0101")
            ]
        );
    }

    #[test]
    fn vcard_2_1_bare_types_and_quoted_printable() {
        let text = "BEGIN:VCARD\nVERSION:2.1\nN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;J=\n=C3=BCrgen\n\
            TEL;WORK;FAX:+49 30 1\nTEL;CELL:+49 170 2\nEND:VCARD\n";
        let list = read(text).unwrap();
        let c = &list.contacts[0];
        assert_eq!(
            (c.surname.as_str(), c.given_name.as_str()),
            ("Müller", "Jürgen")
        );
        assert_eq!(
            numbers(c),
            [
                (PhoneKind::Fax, "+49 30 1"),
                (PhoneKind::Mobile, "+49 170 2")
            ]
        );
    }

    #[test]
    fn broken_cards_are_skipped_and_a_cut_file_is_refused() {
        let text = "BEGIN:VCARD\nFN:One\nTEL:1\nEND:VCARD\n\
            BEGIN:VCARD\nFN:No end\n\
            BEGIN:VCARD\nFN:Three\nthis line is garbage\nEND:VCARD\n\
            BEGIN:VCARD\nFN:Four\nTEL:no digits\nEND:VCARD\n\
            BEGIN:VCARD\nFN:Five\nEND:VCARD\n";
        let list = read(text).unwrap();
        let names: Vec<&str> = list
            .contacts
            .iter()
            .map(|c| c.display_name.as_str())
            .collect();
        assert_eq!(names, ["One", "Five"]);
        let skipped: Vec<(usize, u64, &str)> = list
            .skipped
            .iter()
            .map(|s| (s.position.entry, s.position.line, s.reason.as_str()))
            .collect();
        assert_eq!(skipped[0].0, 2);
        assert_eq!(skipped[0].1, 5);
        assert!(skipped[0].2.contains("without END:VCARD"));
        assert_eq!((skipped[1].0, skipped[1].1), (3, 7));
        assert!(
            skipped[1].2.contains("line 9: not a vCard property"),
            "{skipped:?}"
        );
        assert_eq!(skipped[2].0, 4);
        assert!(skipped[2].2.contains("no digit"));

        let cut = "BEGIN:VCARD\nFN:One\nEND:VCARD\nBEGIN:VCARD\nFN:Tw";
        assert!(matches!(read(cut), Err(NotAList::Truncated { .. })));
    }
}
