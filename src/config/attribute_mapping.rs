//! From a directory entry to a contact: which LDAP attribute fills which contact
//! field, and the presets for OpenLDAP (inetOrgPerson) and Active Directory.
//!
//! An attribute may fill several fields (`ipPhone` as both IP phone and work
//! number); several attributes may fill one field: numbers add up, and the first
//! attribute with a value fills a text field.

use crate::contacts::{Contact, Detail, PhoneKind};
use crate::formats::fields::{Builder, Field};
use std::collections::HashMap;

/// The names of the text fields in the mapping (`cn`: the common names served; when
/// no attribute fills it, one is derived from the display name, else the given name
/// and surname); numbers are named by their kind.
const TEXT_FIELDS: [(&str, Field); 16] = [
    ("id", Field::Id),
    ("given", Field::Given),
    ("surname", Field::Surname),
    ("display", Field::Display),
    ("cn", Field::CommonName),
    ("company", Field::Company),
    ("department", Field::Department),
    ("title", Field::Title),
    ("email", Field::Email),
    ("description", Field::Detail(Detail::Description)),
    ("street", Field::Detail(Detail::Street)),
    ("l", Field::Detail(Detail::Locality)),
    ("postalCode", Field::Detail(Detail::PostalCode)),
    ("st", Field::Detail(Detail::State)),
    ("c", Field::Detail(Detail::Country)),
    ("jpegPhoto", Field::Photo),
];

/// The field a mapping names.
pub fn parse_field(s: &str) -> Result<Field, String> {
    let s = s.trim();
    TEXT_FIELDS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(s))
        .map(|(_, f)| *f)
        .or_else(|| PhoneKind::parse(s).map(Field::Number))
        .ok_or_else(|| format!("one of {}", field_names()))
}

/// The accepted field names, for messages.
pub fn field_names() -> String {
    let mut all: Vec<&str> = TEXT_FIELDS.iter().map(|(n, _)| *n).collect();
    all.extend(PhoneKind::ALL.iter().map(|k| k.as_str()));
    all.join(", ")
}

/// Attributes and the fields they fill, in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mapping {
    rules: Vec<(String, Vec<Field>)>,
}

impl Mapping {
    fn of(rules: &[(&str, &[Field])]) -> Mapping {
        Mapping {
            rules: rules
                .iter()
                .map(|(a, f)| (a.to_string(), f.to_vec()))
                .collect(),
        }
    }

    /// Maps `attr` to `fields` instead of what it mapped to; no field: unmapped.
    pub fn set(&mut self, attr: &str, fields: Vec<Field>) {
        match self
            .rules
            .iter_mut()
            .find(|(a, _)| a.eq_ignore_ascii_case(attr))
        {
            Some(rule) => rule.1 = fields,
            None => self.rules.push((attr.to_string(), fields)),
        }
        self.rules.retain(|(_, f)| !f.is_empty());
    }

    /// The attributes a search asks for.
    pub fn attributes(&self) -> Vec<String> {
        self.rules.iter().map(|(a, _)| a.clone()).collect()
    }

    pub fn rules(&self) -> impl Iterator<Item = (&str, &[Field])> {
        self.rules.iter().map(|(a, f)| (a.as_str(), f.as_slice()))
    }

    /// The contact an entry makes from its text values and its binary ones (a
    /// photo). Its id is the mapped id, else one derived from the DN, so that it
    /// stays the same from one sync to the next.
    pub fn contact(
        &self,
        dn: &str,
        attrs: &HashMap<String, Vec<String>>,
        binary: &HashMap<String, Vec<Vec<u8>>>,
    ) -> Contact {
        let mut b = Builder::default();
        for (attr, fields) in &self.rules {
            for field in fields {
                if *field == Field::Photo {
                    let bytes = values_of(binary, attr).into_iter().flatten().cloned();
                    let text = values_of(attrs, attr).into_iter().flatten();
                    for value in bytes.chain(text.map(|t| t.as_bytes().to_vec())) {
                        b.set_photo(value);
                    }
                    continue;
                }
                for value in values_of(attrs, attr).into_iter().flatten() {
                    b.set(*field, value);
                }
            }
        }
        let mut c = b.finish();
        if c.id.is_empty() {
            let dn = dn.to_ascii_lowercase().replace(' ', "");
            c.id = format!("dn{:016x}", crate::directory::stable_hash(&dn));
        }
        c
    }
}

/// An attribute's values: servers answer with the schema's case, mostly the one
/// asked for.
fn values_of<'a, T>(attrs: &'a HashMap<String, Vec<T>>, attr: &str) -> Option<&'a Vec<T>> {
    attrs.get(attr).or_else(|| {
        attrs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(attr))
            .map(|(_, v)| v)
    })
}

/// A mapping and a filter for a kind of directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// OpenLDAP and other servers with inetOrgPerson entries.
    OpenLdap,
    /// Active Directory user accounts.
    Ad,
}

impl Preset {
    pub fn parse(s: &str) -> Result<Preset, String> {
        match s.trim() {
            "openldap" => Ok(Preset::OpenLdap),
            "ad" => Ok(Preset::Ad),
            _ => Err("\"openldap\" (inetOrgPerson) or \"ad\" (Active Directory)".to_string()),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Preset::OpenLdap => "openldap",
            Preset::Ad => "ad",
        }
    }

    /// The search filter used when a source sets none.
    pub fn filter(self) -> &'static str {
        match self {
            Preset::OpenLdap => "(objectClass=inetOrgPerson)",
            // Enabled user accounts only (bit 2 of userAccountControl: disabled).
            Preset::Ad => {
                "(&(objectCategory=person)(objectClass=user)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))"
            }
        }
    }

    pub fn mapping(self) -> Mapping {
        use crate::contacts::Detail as D;
        use Field::*;
        use PhoneKind as K;
        let common: &[(&str, &[Field])] = &[
            ("givenName", &[Given]),
            ("sn", &[Surname]),
            ("displayName", &[Display]),
            ("title", &[Title]),
            ("mail", &[Email]),
            ("telephoneNumber", &[Number(K::Work)]),
            ("mobile", &[Number(K::Mobile)]),
            ("homePhone", &[Number(K::Home)]),
            ("facsimileTelephoneNumber", &[Number(K::Fax)]),
            ("pager", &[Number(K::Pager)]),
            ("description", &[Detail(D::Description)]),
            ("l", &[Detail(D::Locality)]),
            ("postalCode", &[Detail(D::PostalCode)]),
            ("st", &[Detail(D::State)]),
            ("c", &[Detail(D::Country)]),
        ];
        let mut m = match self {
            Preset::OpenLdap => Mapping::of(&[("uid", &[Id])]),
            Preset::Ad => Mapping::of(&[("sAMAccountName", &[Id])]),
        };
        m.rules.extend(Mapping::of(common).rules);
        let extra: &[(&str, &[Field])] = match self {
            // Active Directory's cn is the entry's RDN, often an account name: its
            // phones show the display name, from which cn is then derived.
            Preset::OpenLdap => &[
                ("cn", &[CommonName]),
                ("o", &[Company]),
                ("ou", &[Department]),
                ("street", &[Detail(D::Street)]),
                ("co", &[Detail(D::Country)]),
                ("jpegPhoto", &[Photo]),
            ],
            Preset::Ad => &[
                ("company", &[Company]),
                ("department", &[Department]),
                ("otherTelephone", &[Number(K::Work)]),
                ("ipPhone", &[Number(K::IpPhone)]),
                ("otherIpPhone", &[Number(K::IpPhone)]),
                ("otherMobile", &[Number(K::Mobile)]),
                ("otherHomePhone", &[Number(K::Home)]),
                // AD's address; its `street` (rarely set) when there is none.
                ("streetAddress", &[Detail(D::Street)]),
                ("street", &[Detail(D::Street)]),
                ("co", &[Detail(D::Country)]),
                ("thumbnailPhoto", &[Photo]),
                ("jpegPhoto", &[Photo]),
            ],
        };
        m.rules.extend(Mapping::of(extra).rules);
        m
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn attrs(pairs: &[(&str, &[&str])]) -> HashMap<String, Vec<String>> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
            .collect()
    }

    #[test]
    fn ad_preset_maps_account_and_numbers() {
        let m = Preset::Ad.mapping();
        let c = m.contact(
            "CN=Ada,OU=Staff,DC=corp",
            &attrs(&[
                ("sAMAccountName", &["ada"]),
                ("displayName", &["Ada Lovelace"]),
                ("cn", &["Ada"]),
                ("telephoneNumber", &["+44 1"]),
                ("othertelephone", &["+44 2", "+44 3"]),
                ("ipPhone", &["1001"]),
                ("streetAddress", &["12 St James's Square"]),
                ("l", &["London"]),
                ("postalCode", &["SW1Y 4JH"]),
                ("st", &["Greater London"]),
                ("c", &["GB"]),
                ("description", &["Analyst"]),
            ]),
            &HashMap::from([(
                "thumbnailPhoto".to_string(),
                vec![vec![0xff, 0xd8, 0xff, 0xe0, 1, 2]],
            )]),
        );
        assert_eq!(c.id, "ada");
        assert_eq!(
            [
                &c.street,
                &c.locality,
                &c.postal_code,
                &c.state,
                &c.country,
                &c.description
            ],
            [
                "12 St James's Square",
                "London",
                "SW1Y 4JH",
                "Greater London",
                "GB",
                "Analyst"
            ]
        );
        assert_eq!(c.photo, [0xff, 0xd8, 0xff, 0xe0, 1, 2]);
        assert_eq!(c.display_name, "Ada Lovelace");
        assert_eq!(
            c.numbers(PhoneKind::Work).collect::<Vec<_>>(),
            ["+44 1", "+44 2", "+44 3"]
        );
        assert_eq!(c.numbers(PhoneKind::IpPhone).collect::<Vec<_>>(), ["1001"]);
    }

    #[test]
    fn one_attribute_to_several_fields_and_ids_from_dn() {
        let mut m = Preset::OpenLdap.mapping();
        m.set(
            "telephoneNumber",
            vec![
                Field::Number(PhoneKind::Work),
                Field::Number(PhoneKind::IpPhone),
            ],
        );
        let a = attrs(&[("telephoneNumber", &["200"]), ("cn", &["Desk"])]);
        let none = HashMap::new();
        let c = m.contact("cn=Desk,dc=x", &a, &none);
        assert_eq!(c.phones.len(), 2);
        assert_eq!(c.id, m.contact("CN=Desk, dc=x", &a, &none).id);
        assert!(parse_field("nope").unwrap_err().contains("ipPhone"));
    }
}
