//! LDIF of a phone book, for loading the same data into another LDAP server: the
//! entries `sop` serves for it as internal contacts (the same uids), with the
//! Active Directory number attributes under an auxiliary class of `SCHEMA`.

use crate::contacts::{Contact, PhoneKind};
use std::io::{self, Write};

/// OpenLDAP schema for `ipPhone` and `otherTelephone`, matched as numbers as `sop`
/// matches them, and the auxiliary class that carries them.
pub const SCHEMA: &str = "\
attributetype ( 1.2.840.113556.1.4.721 NAME 'ipPhone' EQUALITY telephoneNumberMatch SUBSTR telephoneNumberSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.50 )
attributetype ( 1.2.840.113556.1.2.18 NAME 'otherTelephone' EQUALITY telephoneNumberMatch SUBSTR telephoneNumberSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.50 )
objectclass ( 1.3.6.1.4.1.99999.1.1 NAME 'sopPhoneExtras' AUXILIARY MAY ( ipPhone $ otherTelephone ) )
";

pub fn write(out: &mut impl Write, contacts: &[Contact], base_dn: &str) -> io::Result<()> {
    let rdn = base_dn.split(',').next().unwrap_or_default();
    let (attr, value) = rdn.split_once('=').unwrap_or(("dc", rdn));
    writeln!(out, "dn: {base_dn}")?;
    writeln!(out, "objectClass: top")?;
    if attr.trim().eq_ignore_ascii_case("dc") {
        writeln!(out, "objectClass: dcObject")?;
    }
    writeln!(out, "objectClass: organization")?;
    if attr.trim().eq_ignore_ascii_case("dc") {
        line(out, "dc", value.trim())?;
    }
    line(out, "o", value.trim())?;
    writeln!(out)?;
    for c in contacts {
        let uid = crate::directory::merge::uid(crate::ucm::INTERNAL_SOURCE, &c.id);
        writeln!(out, "dn: uid={uid},{base_dn}")?;
        for oc in ["top", "person", "organizationalPerson", "inetOrgPerson"] {
            writeln!(out, "objectClass: {oc}")?;
        }
        let extras = [PhoneKind::IpPhone, PhoneKind::Other];
        if c.phones.iter().any(|p| extras.contains(&p.kind)) {
            writeln!(out, "objectClass: sopPhoneExtras")?;
        }
        line(out, "uid", &uid)?;
        let given = c.given_common_names();
        if given.is_empty() {
            line(out, "cn", &c.common_name())?;
        }
        for v in given {
            line(out, "cn", v)?;
        }
        let sn = if c.surname.is_empty() {
            c.common_name()
        } else {
            c.surname.clone()
        };
        line(out, "sn", &sn)?;
        for (name, value) in [
            ("givenName", &c.given_name),
            ("displayName", &c.display_name),
            ("o", &c.company),
            ("ou", &c.department),
            ("title", &c.title),
            ("mail", &c.email),
        ] {
            if !value.is_empty() {
                line(out, name, value)?;
            }
        }
        for (name, kind) in [
            ("telephoneNumber", PhoneKind::Work),
            ("mobile", PhoneKind::Mobile),
            ("homePhone", PhoneKind::Home),
            ("ipPhone", PhoneKind::IpPhone),
            ("otherTelephone", PhoneKind::Other),
            ("facsimileTelephoneNumber", PhoneKind::Fax),
            ("pager", PhoneKind::Pager),
        ] {
            for n in c.numbers(kind) {
                line(out, name, n)?;
            }
        }
        writeln!(out)?;
    }
    Ok(())
}

/// One attribute line; values that are not plain ASCII are base64-encoded as LDIF requires.
fn line(out: &mut impl Write, name: &str, value: &str) -> io::Result<()> {
    let safe = value.bytes().all(|b| (0x20..0x7f).contains(&b))
        && !value.starts_with([' ', ':', '<'])
        && !value.ends_with(' ');
    if safe {
        writeln!(out, "{name}: {value}")
    } else {
        writeln!(out, "{name}:: {}", base64(value.as_bytes()))
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
mod tests {
    #[test]
    fn base64_matches_the_rfc_vectors() {
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(super::base64(plain.as_bytes()), coded);
        }
    }
}
