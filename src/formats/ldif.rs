//! Contacts as LDIF (RFC 2849): entries separated by blank lines, one
//! `attribute: value` per line, as `ldapsearch` and directory exports write them.
//!
//! Attributes are looked up like CSV columns (`cn`, `sn`, `givenName`,
//! `telephoneNumber`, `mobile`, `mail`, `o`, `ou`, `title`...). The id is `uid`,
//! else `entryUUID`, else the DN, so that an entry keeps its identity from one
//! import to the next. Folded lines, base64 values (`::`), attribute options
//! (`cn;lang-de`) and comments are understood; `jpegPhoto` (or `thumbnailPhoto`)
//! is read as the bytes of a JPEG image. Entries that are containers
//! (organizational units, groups, domains) are passed over; change records other
//! than `add` and values to load from a URL (`:<`) are skipped with their reason.

use super::fields::{Builder, Field, field_of};
use super::{Entries, Format, NotAList, Position, ReadList};
use base64::Engine;

/// Object classes of entries that are not contacts.
const CONTAINERS: [&str; 11] = [
    "organizationalunit",
    "organization",
    "domain",
    "dcobject",
    "groupofnames",
    "groupofuniquenames",
    "posixgroup",
    "group",
    "container",
    "builtindomain",
    "country",
];

pub fn read(text: &str) -> Result<ReadList, NotAList> {
    let mut out = Entries::new();
    let mut entry = 0;
    let mut record = Record::default();
    let mut lines = text.split('\n').enumerate().peekable();
    let mut seen_dn = false;
    while let Some((index, raw)) = lines.next() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.is_empty() {
            record.finish(&mut out);
            continue;
        }
        if line.starts_with('#') {
            // A comment, and its folded continuation.
            while lines.peek().is_some_and(|(_, l)| l.starts_with(' ')) {
                lines.next();
            }
            continue;
        }
        if line.starts_with(' ') {
            // A continuation whose start was a comment or a blank: not LDIF.
            record.error(index, "a continuation line without a line before it");
            continue;
        }
        // Unfold: continuation lines start with one space.
        let mut logical = std::borrow::Cow::Borrowed(line);
        while let Some((_, next)) = lines.next_if(|(_, l)| l.starts_with(' ')) {
            let next = next.strip_suffix('\r').unwrap_or(next);
            logical.to_mut().push_str(&next[1..]);
        }
        let line_no = index as u64 + 1;
        let Some((attribute, value)) = attribute_value(&logical) else {
            record.error(
                index,
                &format!("not an attribute line: {}", excerpt(&logical)),
            );
            continue;
        };
        let name = attribute.split(';').next().unwrap_or_default();
        let value = match value {
            // A photo is bytes; the first one a started entry has is kept.
            Ok(bytes) if record.position.is_some() && field_of(name) == Some(Field::Photo) => {
                record.builder.set_photo(bytes.into_owned());
                continue;
            }
            Ok(bytes) => text_of(attribute, bytes),
            Err(reason) => Err(reason),
        };
        let value = match value {
            Ok(v) => v,
            Err(reason) => {
                record.error(index, &reason);
                continue;
            }
        };
        if record.position.is_none() {
            if name.eq_ignore_ascii_case("version") && !seen_dn {
                continue;
            }
            if !name.eq_ignore_ascii_case("dn") {
                entry += 1;
                record.start(entry, line_no);
                record.error(index, "an entry must start with a dn: line");
                continue;
            }
            entry += 1;
            seen_dn = true;
            record.start(entry, line_no);
            record.dn = value.into_owned();
            continue;
        }
        record.add(index, name, &value);
    }
    record.finish(&mut out);
    if entry == 0 {
        return Err(NotAList::Broken {
            format: Format::Ldif,
            reason: "no entry (no dn: line)".to_string(),
        });
    }
    Ok(out.finish())
}

fn excerpt(line: &str) -> String {
    let cut: String = line.chars().take(40).collect();
    format!("{cut:?}")
}

/// A value's bytes as text: base64 values must decode to UTF-8.
fn text_of<'a>(
    attribute: &str,
    bytes: std::borrow::Cow<'a, [u8]>,
) -> Result<std::borrow::Cow<'a, str>, String> {
    match bytes {
        std::borrow::Cow::Borrowed(b) => std::str::from_utf8(b)
            .map(std::borrow::Cow::Borrowed)
            .map_err(|_| format!("{attribute}: the value is not UTF-8 text")),
        std::borrow::Cow::Owned(b) => String::from_utf8(b)
            .map(std::borrow::Cow::Owned)
            .map_err(|_| format!("{attribute}: the base64 value is not UTF-8 text")),
    }
}

/// A value's bytes, or why it cannot be read.
type Bytes<'a> = Result<std::borrow::Cow<'a, [u8]>, String>;

/// Splits `attr: value`, `attr:: base64` and `attr:< url`, the value as bytes.
fn attribute_value(line: &str) -> Option<(&str, Bytes<'_>)> {
    let (attribute, rest) = line.split_once(':')?;
    let attribute = attribute.trim_end();
    if attribute.is_empty()
        || !attribute
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b';' | b'.'))
    {
        return None;
    }
    let value = if let Some(encoded) = rest.strip_prefix(':') {
        base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|e| format!("{attribute}: bad base64 value: {e}"))
            .map(std::borrow::Cow::Owned)
    } else if rest.starts_with('<') {
        Err(format!(
            "{attribute}: values read from a URL (:<) are not accepted"
        ))
    } else {
        Ok(std::borrow::Cow::Borrowed(
            rest.trim_start_matches(' ').as_bytes(),
        ))
    };
    Some((attribute, value))
}

/// The entry being read.
#[derive(Default)]
struct Record {
    position: Option<Position>,
    dn: String,
    builder: Builder,
    container: bool,
    error: Option<String>,
}

impl Record {
    fn start(&mut self, entry: usize, line: u64) {
        self.position = Some(Position { entry, line });
    }

    fn error(&mut self, index: usize, reason: &str) {
        if self.error.is_none() {
            self.error = Some(format!("line {}: {reason}", index + 1));
        }
    }

    fn add(&mut self, index: usize, name: &str, value: &str) {
        let key = name.to_ascii_lowercase();
        match key.as_str() {
            "objectclass" => {
                if CONTAINERS.contains(&value.trim().to_ascii_lowercase().as_str()) {
                    self.container = true;
                }
            }
            "changetype" => {
                if !value.trim().eq_ignore_ascii_case("add") {
                    self.error(
                        index,
                        &format!(
                            "a change record (changetype: {}), not an entry",
                            value.trim()
                        ),
                    );
                }
            }
            "uid" => self.builder.set(Field::Id, value),
            "entryuuid" if self.builder.contact.id.is_empty() => self.builder.set(Field::Id, value),
            // Accepted as CSV columns, but in LDAP they are other attributes.
            "name" | "id" | "entryuuid" => {}
            _ => {
                if let Some(field) = field_of(name).filter(|f| *f != Field::Id) {
                    self.builder.set(field, value);
                }
            }
        }
    }

    /// Ends the entry: adds it, skips it, or passes over a container.
    fn finish(&mut self, out: &mut Entries) {
        let record = std::mem::take(self);
        let Some(position) = record.position else {
            return;
        };
        if let Some(reason) = record.error {
            out.skip(position, reason);
            return;
        }
        if record.container {
            return;
        }
        let mut contact = record.builder.finish();
        if contact.id.is_empty() {
            contact.id = record.dn;
        }
        out.push(position, contact);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::contacts::PhoneKind;

    #[test]
    fn entries_folding_base64_and_containers() {
        let text = "version: 1\n# exported\n\n\
            dn: ou=people,dc=example,dc=org\nobjectClass: organizationalUnit\nou: people\n\n\
            dn: uid=ada,ou=people,dc=example,dc=org\nobjectClass: inetOrgPerson\nuid: ada\n\
            cn: Ada Lovelace\nsn: Lovelace\ngivenName: Ada\ntelephoneNumber: +44 20 7946\n 0001\n\
            mobile: +44 7700 900001\nmail: ada@example.org\no: Analytical\n\n\
            dn: cn=J\\C3\\BCrgen,dc=example,dc=org\r\ncn:: SsO8cmdlbiBNw7xsbGVy\r\n\
            cn;lang-en: Juergen\r\nfacsimileTelephoneNumber: +49 30 9\r\n";
        let list = read(text).unwrap();
        assert!(list.skipped.is_empty(), "{:?}", list.skipped);
        assert_eq!(list.contacts.len(), 2);
        let ada = &list.contacts[0];
        assert_eq!(ada.id, "ada");
        assert_eq!(ada.cn, ["Ada Lovelace"]);
        assert_eq!(
            ada.numbers(PhoneKind::Work).collect::<Vec<_>>(),
            ["+44 20 79460001"]
        );
        let jurgen = &list.contacts[1];
        assert_eq!(jurgen.cn, ["Jürgen Müller", "Juergen"]);
        assert_eq!(jurgen.id, "cn=J\\C3\\BCrgen,dc=example,dc=org");
        assert_eq!(jurgen.numbers(PhoneKind::Fax).count(), 1);
    }

    #[test]
    fn bad_entries_are_skipped_with_their_line() {
        let text = "dn: cn=one\ncn: One\ntelephoneNumber: 1\n\n\
            dn: cn=two\ncn:: not*base64\n\n\
            dn: cn=three\nchangetype: delete\n\n\
            dn: cn=four\ncn: Four\njpegPhoto:< file:///etc/passwd\n\n\
            cn: five without dn\n\n\
            dn: cn=six\ncn: Six\n";
        let list = read(text).unwrap();
        let names: Vec<String> = list.contacts.iter().map(|c| c.common_name()).collect();
        assert_eq!(names, ["One", "Six"]);
        let skipped: Vec<(usize, u64, &str)> = list
            .skipped
            .iter()
            .map(|s| (s.position.entry, s.position.line, s.reason.as_str()))
            .collect();
        assert_eq!(skipped.len(), 4, "{skipped:?}");
        assert_eq!((skipped[0].0, skipped[0].1), (2, 5));
        assert!(skipped[0].2.contains("line 6: cn: bad base64"));
        assert!(skipped[1].2.contains("changetype: delete"));
        assert!(skipped[2].2.contains("from a URL"));
        assert!(skipped[3].2.contains("must start with a dn"));
    }
}
