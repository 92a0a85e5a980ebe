//! Attribute names, aliases and matching rules of the served schema (inetOrgPerson).

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
    Mail,
    TelephoneNumber,
    Mobile,
    HomePhone,
    IpPhone,
    OtherTelephone,
    FacsimileTelephoneNumber,
    Pager,
}

impl Attr {
    pub fn from_name(name: &str) -> Option<Attr> {
        let n = name.to_ascii_lowercase();
        Some(match n.as_str() {
            "objectclass" => Attr::ObjectClass,
            "uid" => Attr::Uid,
            "cn" => Attr::Cn,
            "sn" => Attr::Sn,
            "givenname" | "gn" => Attr::GivenName,
            "displayname" => Attr::DisplayName,
            "o" => Attr::O,
            "ou" => Attr::Ou,
            "title" => Attr::Title,
            "mail" => Attr::Mail,
            "telephonenumber" => Attr::TelephoneNumber,
            "mobile" => Attr::Mobile,
            "homephone" => Attr::HomePhone,
            "ipphone" => Attr::IpPhone,
            "othertelephone" => Attr::OtherTelephone,
            "facsimiletelephonenumber" => Attr::FacsimileTelephoneNumber,
            "pager" => Attr::Pager,
            _ => return None,
        })
    }
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
            Attr::Mail => "mail",
            Attr::TelephoneNumber => "telephoneNumber",
            Attr::Mobile => "mobile",
            Attr::HomePhone => "homePhone",
            Attr::IpPhone => "ipPhone",
            Attr::OtherTelephone => "otherTelephone",
            Attr::FacsimileTelephoneNumber => "facsimileTelephoneNumber",
            Attr::Pager => "pager",
        }
    }
}
