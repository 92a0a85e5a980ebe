//! LDIF of the served directory: the base entry, then every entry with the
//! attributes and values the server returns for it, as `ldapsearch -LLL` writes
//! them (values that are not plain ASCII base64-encoded).

use crate::directory::{Attr, Directory};
use crate::ldap::rootdse;
use std::io::{self, Write};

/// An auxiliary object class added to the entries that hold any of `attrs`, for a
/// server whose schema needs one for them (OpenLDAP for `ipPhone`).
pub struct AuxClass {
    pub name: &'static str,
    pub attrs: &'static [Attr],
}

pub fn write(out: &mut impl Write, dir: &Directory, aux: Option<&AuxClass>) -> io::Result<()> {
    let base_dn = dir.base_dn();
    line(out, "dn", base_dn.as_bytes())?;
    for (name, values) in rootdse::base_attributes(base_dn) {
        for v in values {
            line(out, name, v.as_bytes())?;
        }
    }
    writeln!(out)?;
    for id in 0..dir.len() as u32 {
        let entry = dir.entry(id);
        line(out, "dn", entry.dn().as_bytes())?;
        for group in entry.groups() {
            for v in group.raws() {
                line(out, group.attr.name(), v)?;
            }
            let aux = aux.filter(|aux| {
                group.attr == Attr::ObjectClass
                    && aux.attrs.iter().any(|a| entry.values(*a).next().is_some())
            });
            if let Some(aux) = aux {
                line(out, "objectClass", aux.name.as_bytes())?;
            }
        }
        writeln!(out)?;
    }
    Ok(())
}

/// One attribute line; values that are not plain ASCII are base64-encoded as LDIF requires.
pub fn line(out: &mut impl Write, name: &str, value: &[u8]) -> io::Result<()> {
    let safe = value.iter().all(|b| (0x20..0x7f).contains(b))
        && !value.starts_with(b" ")
        && !value.starts_with(b":")
        && !value.starts_with(b"<")
        && !value.ends_with(b" ");
    if safe {
        out.write_all(name.as_bytes())?;
        out.write_all(b": ")?;
        out.write_all(value)?;
        out.write_all(b"\n")
    } else {
        writeln!(out, "{name}:: {}", base64(value))
    }
}

fn base64(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                s.push(char::from(TABLE[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                s.push('=');
            }
        }
    }
    s
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::contacts::{Contact, Phone, PhoneKind};
    use crate::directory::{Generation, MatchRules, ServedContact};

    #[test]
    fn base64_matches_the_rfc_vectors() {
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), coded);
        }
    }

    #[test]
    fn entries_carry_every_served_value() {
        let contact = Contact {
            id: "1".into(),
            cn: vec!["Zoë Smith".into(), "Z. Smith".into()],
            given_name: "Zoë".into(),
            display_name: "Smith, Zoë".into(),
            phones: vec![
                Phone {
                    kind: PhoneKind::Work,
                    number: "100".into(),
                },
                Phone {
                    kind: PhoneKind::IpPhone,
                    number: "200".into(),
                },
            ],
            ..Contact::default()
        };
        let generation = Generation {
            number: 1,
            created: 0,
            contacts: vec![ServedContact {
                uid: "int-1".into(),
                source: "int".into(),
                contact,
            }],
        };
        let dir = Directory::build(&generation, "dc=pb,dc=local", &MatchRules::default());
        let aux = AuxClass {
            name: "extras",
            attrs: &[Attr::IpPhone],
        };
        let mut out = Vec::new();
        write(&mut out, &dir, Some(&aux)).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "dn: dc=pb,dc=local\nobjectClass: top\nobjectClass: dcObject\n\
             objectClass: organization\ndc: pb\no: pb\n\n\
             dn: uid=int-1,dc=pb,dc=local\nobjectClass: top\nobjectClass: person\n\
             objectClass: organizationalPerson\nobjectClass: inetOrgPerson\n\
             objectClass: extras\nuid: int-1\ncn:: Wm/DqyBTbWl0aA==\ncn: Z. Smith\n\
             sn:: Wm/DqyBTbWl0aA==\ngivenName:: Wm/Dqw==\ndisplayName:: U21pdGgsIFpvw6s=\n\
             telephoneNumber: 100\nipPhone: 200\n\n"
        );
    }
}
