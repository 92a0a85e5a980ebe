//! The Yealink remote phone book (`YealinkIPPhoneDirectory`): per entry the name a
//! phone shows (the first `cn`) and its numbers, each labelled with its kind, so
//! that an import (`sources::xml`) reads the kinds back.

use crate::contacts::{Contact, PhoneKind};
use std::io::{self, Write};

/// The label of a number of this kind; `sources::fields::kind_of_label` reads it back.
pub fn label(kind: PhoneKind) -> &'static str {
    match kind {
        PhoneKind::Work => "Office",
        PhoneKind::Mobile => "Mobile",
        PhoneKind::Home => "Home",
        PhoneKind::IpPhone => "Extension",
        PhoneKind::Other => "Other",
        PhoneKind::Fax => "Fax",
        PhoneKind::Pager => "Pager",
    }
}

/// XML text and attribute value escapes.
pub fn xml_text(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub fn write<'a>(
    out: &mut impl Write,
    contacts: impl IntoIterator<Item = &'a Contact>,
) -> io::Result<()> {
    writeln!(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
    writeln!(out, "<YealinkIPPhoneDirectory>")?;
    for c in contacts {
        writeln!(out, "  <DirectoryEntry>")?;
        writeln!(out, "    <Name>{}</Name>", xml_text(&c.common_name()))?;
        for p in &c.phones {
            writeln!(
                out,
                "    <Telephone label=\"{}\">{}</Telephone>",
                label(p.kind),
                xml_text(p.number.trim())
            )?;
        }
        writeln!(out, "  </DirectoryEntry>")?;
    }
    writeln!(out, "</YealinkIPPhoneDirectory>")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::contacts::Phone;

    #[test]
    fn kinds_survive_an_import() {
        let kinds = PhoneKind::ALL;
        let contact = Contact {
            cn: vec!["Tom & Jerry".into()],
            phones: (0..)
                .zip(kinds)
                .map(|(i, kind)| Phone {
                    kind,
                    number: format!("10{i}"),
                })
                .collect(),
            ..Contact::default()
        };
        let mut out = Vec::new();
        write(&mut out, [&contact]).unwrap();
        let read = crate::formats::xml::read(std::str::from_utf8(&out).unwrap()).unwrap();
        let back = &read.contacts[0];
        assert_eq!(back.common_name(), "Tom & Jerry");
        assert_eq!(back.phones, contact.phones);
    }
}
