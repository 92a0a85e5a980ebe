//! LDIF of a phone book, for loading the same data into another LDAP server: the
//! entries `sop` serves for it as internal contacts (the same uids), with the
//! Active Directory number attributes and the country (`c`, `co`) under an
//! auxiliary class of `SCHEMA`.

use crate::contacts::Contact;
use crate::directory::{Attr, Directory, Generation, MatchRules, ServedContact};
use crate::export::ldif::AuxClass;
use std::io::{self, Write};

/// OpenLDAP schema for `ipPhone` and `otherTelephone`, matched as numbers as `sop`
/// matches them, and the auxiliary class that carries them and the country
/// (inetOrgPerson allows neither `c` nor `co`).
pub const SCHEMA: &str = "\
attributetype ( 1.2.840.113556.1.4.721 NAME 'ipPhone' EQUALITY telephoneNumberMatch SUBSTR telephoneNumberSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.50 )
attributetype ( 1.2.840.113556.1.2.18 NAME 'otherTelephone' EQUALITY telephoneNumberMatch SUBSTR telephoneNumberSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.50 )
objectclass ( 1.3.6.1.4.1.99999.1.1 NAME 'sopPhoneExtras' AUXILIARY MAY ( ipPhone $ otherTelephone $ c $ co ) )
";

/// The entries `sop` serves for `contacts` as its internal contacts, with the
/// auxiliary class of `SCHEMA` on those that have `ipPhone`, `otherTelephone`, `c`
/// or `co`.
pub fn write(out: &mut impl Write, contacts: &[Contact], base_dn: &str) -> io::Result<()> {
    let generation = Generation {
        number: 0,
        created: 0,
        contacts: contacts
            .iter()
            .map(|c| ServedContact {
                uid: crate::directory::merge::uid(crate::ucm::INTERNAL_SOURCE, &c.id),
                source: crate::ucm::INTERNAL_SOURCE.to_string(),
                contact: c.clone(),
            })
            .collect(),
    };
    let dir = Directory::build(&generation, base_dn, &MatchRules::default());
    let extras = AuxClass {
        name: "sopPhoneExtras",
        attrs: &[Attr::IpPhone, Attr::OtherTelephone, Attr::C, Attr::Co],
    };
    crate::export::ldif::write(out, &dir, Some(&extras))
}
