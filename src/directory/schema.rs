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
