//! A phone book written in the formats an import reads, to measure reading them:
//! vCard 3.0, JSON (an array of objects with LDAP attribute names) and the Yealink
//! XML phone book. CSV and LDIF have their own writers.

use crate::contacts::{Contact, PhoneKind};
use std::io::{self, Write};

const KINDS: [(PhoneKind, &str, &str); 7] = [
    (PhoneKind::Work, "WORK,VOICE", "telephoneNumber"),
    (PhoneKind::Mobile, "CELL", "mobile"),
    (PhoneKind::Home, "HOME,VOICE", "homePhone"),
    (PhoneKind::IpPhone, "WORK,X-IPPHONE", "ipPhone"),
    (PhoneKind::Other, "OTHER", "otherTelephone"),
    (PhoneKind::Fax, "WORK,FAX", "facsimileTelephoneNumber"),
    (PhoneKind::Pager, "PAGER", "pager"),
];

/// vCard text escapes.
fn vcard_text(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace(',', "\\,")
        .replace(';', "\\;")
        .replace('\n', "\\n")
}

pub fn write_vcard(out: &mut impl Write, contacts: &[Contact]) -> io::Result<()> {
    for c in contacts {
        write!(out, "BEGIN:VCARD\r\nVERSION:3.0\r\n")?;
        write!(out, "UID:{}\r\n", vcard_text(&c.id))?;
        write!(out, "FN:{}\r\n", vcard_text(&c.common_name()))?;
        write!(
            out,
            "N:{};{};;;\r\n",
            vcard_text(&c.surname),
            vcard_text(&c.given_name)
        )?;
        if !c.company.is_empty() || !c.department.is_empty() {
            write!(
                out,
                "ORG:{};{}\r\n",
                vcard_text(&c.company),
                vcard_text(&c.department)
            )?;
        }
        if !c.title.is_empty() {
            write!(out, "TITLE:{}\r\n", vcard_text(&c.title))?;
        }
        if !c.email.is_empty() {
            write!(out, "EMAIL;TYPE=INTERNET:{}\r\n", vcard_text(&c.email))?;
        }
        for p in &c.phones {
            let types = KINDS
                .iter()
                .find(|(k, _, _)| *k == p.kind)
                .map_or("VOICE", |(_, t, _)| t);
            write!(out, "TEL;TYPE={types}:{}\r\n", vcard_text(&p.number))?;
        }
        write!(out, "END:VCARD\r\n")?;
    }
    Ok(())
}

pub fn write_json(out: &mut impl Write, contacts: &[Contact]) -> io::Result<()> {
    writeln!(out, "[")?;
    for (i, c) in contacts.iter().enumerate() {
        let mut o = serde_json::Map::new();
        for (key, value) in [
            ("uid", &c.id),
            ("givenName", &c.given_name),
            ("sn", &c.surname),
            ("displayName", &c.display_name),
            ("o", &c.company),
            ("ou", &c.department),
            ("title", &c.title),
            ("mail", &c.email),
        ] {
            if !value.is_empty() {
                o.insert(key.to_string(), value.clone().into());
            }
        }
        for (kind, _, key) in KINDS {
            let numbers: Vec<serde_json::Value> = c.numbers(kind).map(Into::into).collect();
            if !numbers.is_empty() {
                o.insert(key.to_string(), numbers.into());
            }
        }
        let sep = if i + 1 < contacts.len() { "," } else { "" };
        writeln!(out, "  {}{sep}", serde_json::Value::Object(o))?;
    }
    writeln!(out, "]")
}

/// The Yealink XML phone book: a name and its labelled numbers per entry.
pub fn write_yealink_xml(out: &mut impl Write, contacts: &[Contact]) -> io::Result<()> {
    crate::export::yealink::write(out, contacts)
}
