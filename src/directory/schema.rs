//! Attribute names, aliases and matching rules of the served schema: inetOrgPerson
//! as OpenLDAP defines it (core, cosine and inetorgperson schemas), with `c` and
//! `co` (cosine's friendlyCountryName), plus the Active Directory number attributes
//! phones ask for (`ipPhone`, `otherTelephone`).

/// An attribute the directory serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Attr {
    ObjectClass,
    Uid,
    Cn,
    Sn,
    GivenName,
    DisplayName,
    O,
    Ou,
    Title,
    Description,
    Street,
    L,
    PostalCode,
    St,
    /// A two-letter country code (countryName).
    C,
    /// A country given by its name (friendlyCountryName).
    Co,
    Mail,
    TelephoneNumber,
    Mobile,
    HomePhone,
    IpPhone,
    OtherTelephone,
    FacsimileTelephoneNumber,
    Pager,
    /// Binary: served as the bytes stored, present or absent, never matched by
    /// value (OpenLDAP's schema gives it no matching rule).
    JpegPhoto,
}

/// How an attribute's values compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// caseIgnoreMatch / caseIgnoreSubstringsMatch (directoryString).
    CaseIgnore,
    /// caseIgnoreIA5Match / caseIgnoreIA5SubstringsMatch (mail).
    CaseIgnoreIa5,
    /// telephoneNumberMatch / telephoneNumberSubstringsMatch: spaces and hyphens ignored.
    Telephone,
    /// objectIdentifierMatch: object class names, case-insensitive; no substrings.
    ObjectIdentifier,
    /// No equality rule at all (facsimileTelephoneNumber in OpenLDAP's core schema):
    /// every assertion is Undefined; only presence works.
    None,
}

impl Attr {
    pub const ALL: [Attr; 25] = [
        Attr::ObjectClass,
        Attr::Uid,
        Attr::Cn,
        Attr::Sn,
        Attr::GivenName,
        Attr::DisplayName,
        Attr::O,
        Attr::Ou,
        Attr::Title,
        Attr::Description,
        Attr::Street,
        Attr::L,
        Attr::PostalCode,
        Attr::St,
        Attr::C,
        Attr::Co,
        Attr::Mail,
        Attr::TelephoneNumber,
        Attr::Mobile,
        Attr::HomePhone,
        Attr::IpPhone,
        Attr::OtherTelephone,
        Attr::FacsimileTelephoneNumber,
        Attr::Pager,
        Attr::JpegPhoto,
    ];

    /// Resolves a name, alias or OID, case-insensitively.
    pub fn from_name(name: &str) -> Option<Attr> {
        // Attribute options (`cn;lang-en`) name the same attribute.
        let name = name.trim().split(';').next().unwrap_or_default();
        // Lowercased on the stack: this runs for every attribute of every request.
        // A name longer than the buffer is none of those below.
        let mut buf = [0u8; 32];
        let lower = buf.get_mut(..name.len())?;
        lower.copy_from_slice(name.as_bytes());
        lower.make_ascii_lowercase();
        Some(match std::str::from_utf8(lower).ok()? {
            "objectclass" | "2.5.4.0" => Attr::ObjectClass,
            "uid" | "userid" | "0.9.2342.19200300.100.1.1" => Attr::Uid,
            "cn" | "commonname" | "2.5.4.3" => Attr::Cn,
            "sn" | "surname" | "2.5.4.4" => Attr::Sn,
            "givenname" | "gn" | "2.5.4.42" => Attr::GivenName,
            "displayname" | "2.16.840.1.113730.3.1.241" => Attr::DisplayName,
            "o" | "organizationname" | "2.5.4.10" => Attr::O,
            "ou" | "organizationalunitname" | "2.5.4.11" => Attr::Ou,
            "title" | "2.5.4.12" => Attr::Title,
            "description" | "2.5.4.13" => Attr::Description,
            "street" | "streetaddress" | "2.5.4.9" => Attr::Street,
            "l" | "localityname" | "2.5.4.7" => Attr::L,
            "postalcode" | "2.5.4.17" => Attr::PostalCode,
            "st" | "stateorprovincename" | "2.5.4.8" => Attr::St,
            "c" | "countryname" | "2.5.4.6" => Attr::C,
            "co" | "friendlycountryname" | "0.9.2342.19200300.100.1.43" => Attr::Co,
            "mail" | "rfc822mailbox" | "email" | "0.9.2342.19200300.100.1.3" => Attr::Mail,
            "telephonenumber" | "2.5.4.20" => Attr::TelephoneNumber,
            "mobile" | "mobiletelephonenumber" | "0.9.2342.19200300.100.1.41" => Attr::Mobile,
            "homephone" | "hometelephonenumber" | "0.9.2342.19200300.100.1.20" => Attr::HomePhone,
            "ipphone" | "1.2.840.113556.1.4.721" => Attr::IpPhone,
            "othertelephone" | "1.2.840.113556.1.2.18" => Attr::OtherTelephone,
            "facsimiletelephonenumber" | "fax" | "2.5.4.23" => Attr::FacsimileTelephoneNumber,
            "pager" | "pagertelephonenumber" | "0.9.2342.19200300.100.1.42" => Attr::Pager,
            "jpegphoto" | "0.9.2342.19200300.100.1.60" => Attr::JpegPhoto,
            _ => return None,
        })
    }

    /// The name values are returned under.
    pub fn name(self) -> &'static str {
        match self {
            Attr::ObjectClass => "objectClass",
            Attr::Uid => "uid",
            Attr::Cn => "cn",
            Attr::Sn => "sn",
            Attr::GivenName => "givenName",
            Attr::DisplayName => "displayName",
            Attr::O => "o",
            Attr::Ou => "ou",
            Attr::Title => "title",
            Attr::Description => "description",
            Attr::Street => "street",
            Attr::L => "l",
            Attr::PostalCode => "postalCode",
            Attr::St => "st",
            Attr::C => "c",
            Attr::Co => "co",
            Attr::Mail => "mail",
            Attr::TelephoneNumber => "telephoneNumber",
            Attr::Mobile => "mobile",
            Attr::HomePhone => "homePhone",
            Attr::IpPhone => "ipPhone",
            Attr::OtherTelephone => "otherTelephone",
            Attr::FacsimileTelephoneNumber => "facsimileTelephoneNumber",
            Attr::Pager => "pager",
            Attr::JpegPhoto => "jpegPhoto",
        }
    }

    pub fn rule(self) -> Rule {
        match self {
            Attr::ObjectClass => Rule::ObjectIdentifier,
            Attr::Mail => Rule::CaseIgnoreIa5,
            Attr::TelephoneNumber
            | Attr::Mobile
            | Attr::HomePhone
            | Attr::IpPhone
            | Attr::OtherTelephone
            | Attr::Pager => Rule::Telephone,
            Attr::FacsimileTelephoneNumber | Attr::JpegPhoto => Rule::None,
            _ => Rule::CaseIgnore,
        }
    }

    /// Is this one of the number attributes (for reverse lookup)?
    pub fn is_number(self) -> bool {
        self.rule() == Rule::Telephone
    }

    /// Are its values bytes rather than text (`jpegPhoto`)?
    pub fn is_binary(self) -> bool {
        self == Attr::JpegPhoto
    }

    /// Does it have an approximate match (names and mail do)?
    pub fn has_approx(self) -> bool {
        matches!(self.rule(), Rule::CaseIgnore | Rule::CaseIgnoreIa5)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_aliases_and_oids_resolve() {
        assert_eq!(Attr::from_name("GN"), Some(Attr::GivenName));
        assert_eq!(Attr::from_name("surname"), Some(Attr::Sn));
        assert_eq!(Attr::from_name("2.5.4.3"), Some(Attr::Cn));
        assert_eq!(Attr::from_name("mobileTelephoneNumber"), Some(Attr::Mobile));
        assert_eq!(Attr::from_name("cn;lang-de"), Some(Attr::Cn));
        assert_eq!(Attr::from_name("shoeSize"), None);
        assert_eq!(Attr::from_name("streetAddress"), Some(Attr::Street));
        assert_eq!(Attr::from_name("localityName"), Some(Attr::L));
        assert_eq!(Attr::from_name("friendlyCountryName"), Some(Attr::Co));
        assert_eq!(Attr::from_name("JPEGPHOTO"), Some(Attr::JpegPhoto));
        for a in Attr::ALL {
            assert_eq!(Attr::from_name(a.name()), Some(a));
        }
    }
}
