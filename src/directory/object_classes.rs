//! Object classes as slapd knows them with the core, cosine and inetorgperson schemas:
//! an assertion on a served class is true for every entry, on another class slapd
//! knows false, and on anything else Undefined.

/// Names (lower case) and OIDs of the served object classes.
const OBJECT_CLASS_NAMES: &[&str] = &[
    "top",
    "2.5.6.0",
    "person",
    "2.5.6.6",
    "organizationalperson",
    "2.5.6.7",
    "inetorgperson",
    "2.16.840.1.113730.3.2.2",
];

/// Other object classes slapd knows with the core, cosine and inetorgperson
/// schemas loaded (its built-in classes included), by name and OID. Asserting
/// one of them is False for every entry; asserting anything slapd does not
/// know (an unknown name or OID) is Undefined.
const OTHER_KNOWN_CLASSES: &[&str] = &[
    "extensibleobject",
    "alias",
    "referral",
    "subentry",
    "subschema",
    "collectiveattributesubentry",
    "dynamicobject",
    "glue",
    "syncconsumersubentry",
    "syncprovidersubentry",
    "openldaprootdse",
    "country",
    "locality",
    "organization",
    "organizationalunit",
    "organizationalrole",
    "groupofnames",
    "residentialperson",
    "applicationprocess",
    "applicationentity",
    "dsa",
    "device",
    "strongauthenticationuser",
    "certificationauthority",
    "groupofuniquenames",
    "usersecurityinformation",
    "certificationauthority-v2",
    "crldistributionpoint",
    "dmd",
    "pkiuser",
    "pkica",
    "deltacrl",
    "labeleduriobject",
    "simplesecurityobject",
    "dcobject",
    "uidobject",
    "pilotperson",
    "newpilotperson",
    "account",
    "document",
    "room",
    "documentseries",
    "domain",
    "rfc822localpart",
    "dnsdomain",
    "domainrelatedobject",
    "friendlycountry",
    "pilotorganization",
    "pilotdsa",
    "qualitylabelleddata",
    "1.3.6.1.4.1.1466.101.120.111",
    "2.5.6.1",
    "2.16.840.1.113730.3.2.6",
    "2.5.17.0",
    "2.5.20.1",
    "2.5.17.2",
    "1.3.6.1.4.1.1466.101.119.2",
    "1.3.6.1.4.1.4203.1.4.1",
    "2.5.6.2",
    "2.5.6.3",
    "2.5.6.4",
    "2.5.6.5",
    "2.5.6.8",
    "2.5.6.9",
    "2.5.6.10",
    "2.5.6.11",
    "2.5.6.12",
    "2.5.6.13",
    "2.5.6.14",
    "2.5.6.15",
    "2.5.6.16",
    "2.5.6.17",
    "2.5.6.18",
    "2.5.6.16.2",
    "2.5.6.19",
    "2.5.6.20",
    "2.5.6.21",
    "2.5.6.22",
    "2.5.6.23",
    "1.3.6.1.4.1.250.3.15",
    "0.9.2342.19200300.100.4.19",
    "1.3.6.1.4.1.1466.344",
    "1.3.6.1.1.3.1",
    "0.9.2342.19200300.100.4.4",
    "0.9.2342.19200300.100.4.5",
    "0.9.2342.19200300.100.4.6",
    "0.9.2342.19200300.100.4.7",
    "0.9.2342.19200300.100.4.9",
    "0.9.2342.19200300.100.4.13",
    "0.9.2342.19200300.100.4.14",
    "0.9.2342.19200300.100.4.15",
    "0.9.2342.19200300.100.4.17",
    "0.9.2342.19200300.100.4.18",
    "0.9.2342.19200300.100.4.20",
    "0.9.2342.19200300.100.4.21",
    "0.9.2342.19200300.100.4.22",
];

/// How an objectClass equality assertion evaluates on every served entry:
/// `Some(true)` for a served class, `Some(false)` for another class slapd
/// knows (by name or OID), `None` (Undefined) for anything else.
pub fn object_class_assertion(value: &str) -> Option<bool> {
    if OBJECT_CLASS_NAMES
        .iter()
        .any(|n| n.eq_ignore_ascii_case(value))
    {
        return Some(true);
    }
    let lower = value.to_ascii_lowercase();
    OTHER_KNOWN_CLASSES
        .contains(&lower.as_str())
        .then_some(false)
}
