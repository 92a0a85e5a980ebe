//! The contact model shared by every source (internal store, imports, directories)
//! and the rules that turn a contact into what phones see.

use serde::{Deserialize, Serialize};

/// The kind of a telephone number, and the LDAP attribute it is served as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PhoneKind {
    Work,
    Mobile,
    Home,
    IpPhone,
    Other,
    Fax,
    Pager,
}

impl PhoneKind {
    pub const ALL: [PhoneKind; 7] = [
        PhoneKind::Work,
        PhoneKind::Mobile,
        PhoneKind::Home,
        PhoneKind::IpPhone,
        PhoneKind::Other,
        PhoneKind::Fax,
        PhoneKind::Pager,
    ];

    /// The word used on the command line and in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            PhoneKind::Work => "work",
            PhoneKind::Mobile => "mobile",
            PhoneKind::Home => "home",
            PhoneKind::IpPhone => "ipPhone",
            PhoneKind::Other => "other",
            PhoneKind::Fax => "fax",
            PhoneKind::Pager => "pager",
        }
    }

    pub fn parse(s: &str) -> Option<PhoneKind> {
        PhoneKind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Phone {
    pub kind: PhoneKind,
    /// Exactly as the source gave it; matching rules normalise, serving never does.
    pub number: String,
}

/// One contact. Empty strings mean "absent": they are neither stored as values nor served.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Contact {
    /// Stable identifier within its source; the served DN is derived from it.
    pub id: String,
    /// The common names (`cn`) as the source gives them, the first one first. None
    /// given: `cn` is derived (see `common_name`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cn: Vec<String>,
    pub given_name: String,
    pub surname: String,
    pub display_name: String,
    pub company: String,
    pub department: String,
    pub title: String,
    pub email: String,
    pub phones: Vec<Phone>,
    /// `description` (a note on the contact).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// `street`: the street address, one line.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub street: String,
    /// `l`: the city.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub locality: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub postal_code: String,
    /// `st`: the state or province.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub state: String,
    /// The country as the source gives it: served as `c` when it is a two-letter
    /// code, else as `co` (friendlyCountryName).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub country: String,
    /// `jpegPhoto`: the photo's bytes, at most [`PHOTO_MAX`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub photo: Vec<u8>,
}

/// Largest photo kept, in bytes (64 KiB less one byte): larger ones are left out.
pub const PHOTO_MAX: usize = 65_535;

/// The text details of a contact besides its names, e-mail and numbers, each
/// served under its LDAP attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Detail {
    Description,
    Street,
    Locality,
    PostalCode,
    State,
    Country,
}

impl Detail {
    pub const ALL: [Detail; 6] = [
        Detail::Description,
        Detail::Street,
        Detail::Locality,
        Detail::PostalCode,
        Detail::State,
        Detail::Country,
    ];

    /// The LDAP attribute name, also the name of the field in files and mappings
    /// (the country is `c`, served as `co` when it is not a two-letter code).
    pub fn name(self) -> &'static str {
        match self {
            Detail::Description => "description",
            Detail::Street => "street",
            Detail::Locality => "l",
            Detail::PostalCode => "postalCode",
            Detail::State => "st",
            Detail::Country => "c",
        }
    }

    /// As reports name it: "postal code".
    pub fn words(self) -> &'static str {
        match self {
            Detail::Description => "description",
            Detail::Street => "street",
            Detail::Locality => "city",
            Detail::PostalCode => "postal code",
            Detail::State => "state",
            Detail::Country => "country",
        }
    }
}

/// Do these bytes start as a JPEG image does (what `jpegPhoto` holds)?
pub fn is_jpeg(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0xff, 0xd8, 0xff])
}

/// Is `country` an ISO 3166 two-letter code (served as `c`), rather than a name
/// (served as `co`)?
pub fn is_country_code(country: &str) -> bool {
    let c = country.trim();
    c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic())
}

impl Contact {
    /// The first common name served as `cn`: the first one the source gave, else
    /// the display name, else "given surname", else the company, else the first
    /// number.
    pub fn common_name(&self) -> String {
        let mut out = String::new();
        self.common_name_into(&mut out);
        out
    }

    /// `common_name` written into `out` (cleared first), for callers that reuse it.
    pub fn common_name_into(&self, out: &mut String) {
        out.clear();
        let (given, surname) = (self.given_name.trim(), self.surname.trim());
        let given_cn = self.cn.iter().map(|v| v.trim()).find(|v| !v.is_empty());
        let name = if let Some(cn) = given_cn {
            cn
        } else if !self.display_name.trim().is_empty() {
            self.display_name.trim()
        } else if !given.is_empty() || !surname.is_empty() {
            out.push_str(given);
            if !given.is_empty() && !surname.is_empty() {
                out.push(' ');
            }
            out.push_str(surname);
            return;
        } else if !self.company.trim().is_empty() {
            self.company.trim()
        } else {
            self.phones.first().map_or("", |p| p.number.trim())
        };
        out.push_str(name);
    }

    /// The common names the source gave, trimmed, each once (ignoring case, as
    /// LDAP compares them); empty when it gave none and `cn` is derived.
    pub fn given_common_names(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::with_capacity(self.cn.len());
        for v in self.cn.iter().map(|v| v.trim()).filter(|v| !v.is_empty()) {
            if !out.iter().any(|o| o.to_lowercase() == v.to_lowercase()) {
                out.push(v);
            }
        }
        out
    }

    /// The text fields in a fixed order (id, given name, surname, display name,
    /// company, department, title, email): the column order of exports and files.
    pub fn text_fields(&self) -> [&str; 8] {
        [
            &self.id,
            &self.given_name,
            &self.surname,
            &self.display_name,
            &self.company,
            &self.department,
            &self.title,
            &self.email,
        ]
    }

    /// A contact phones can show: it has a name or a number (a common name, without
    /// building it).
    pub fn is_servable(&self) -> bool {
        self.cn.iter().any(|v| !v.trim().is_empty())
            || [
                &self.display_name,
                &self.given_name,
                &self.surname,
                &self.company,
            ]
            .iter()
            .any(|s| !s.trim().is_empty())
            || self
                .phones
                .first()
                .is_some_and(|p| !p.number.trim().is_empty())
    }

    pub fn detail(&self, d: Detail) -> &str {
        match d {
            Detail::Description => &self.description,
            Detail::Street => &self.street,
            Detail::Locality => &self.locality,
            Detail::PostalCode => &self.postal_code,
            Detail::State => &self.state,
            Detail::Country => &self.country,
        }
    }

    pub fn detail_mut(&mut self, d: Detail) -> &mut String {
        match d {
            Detail::Description => &mut self.description,
            Detail::Street => &mut self.street,
            Detail::Locality => &mut self.locality,
            Detail::PostalCode => &mut self.postal_code,
            Detail::State => &mut self.state,
            Detail::Country => &mut self.country,
        }
    }

    pub fn numbers(&self, kind: PhoneKind) -> impl Iterator<Item = &str> {
        self.phones
            .iter()
            .filter(move |p| p.kind == kind)
            .map(|p| p.number.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_name_falls_back_in_order() {
        let mut c = Contact {
            given_name: "Ada".into(),
            surname: "Lovelace".into(),
            ..Contact::default()
        };
        assert_eq!(c.common_name(), "Ada Lovelace");
        c.display_name = "Countess of Lovelace".into();
        assert_eq!(c.common_name(), "Countess of Lovelace");
        let only_company = Contact {
            company: "ACME".into(),
            ..Contact::default()
        };
        assert_eq!(only_company.common_name(), "ACME");
        let only_number = Contact {
            phones: vec![Phone {
                kind: PhoneKind::Mobile,
                number: "+49 170 1".into(),
            }],
            ..Contact::default()
        };
        assert_eq!(only_number.common_name(), "+49 170 1");
        assert!(!Contact::default().is_servable());
    }

    #[test]
    fn phone_kind_parses_case_insensitively() {
        assert_eq!(PhoneKind::parse("IPPHONE"), Some(PhoneKind::IpPhone));
        assert_eq!(PhoneKind::parse("fax"), Some(PhoneKind::Fax));
        assert_eq!(PhoneKind::parse("telex"), None);
    }
}
