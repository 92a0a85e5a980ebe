//! Which names mean which contact field: LDAP attribute names and the everyday
//! names that address books and phone systems export. CSV headers, LDIF
//! attributes and JSON keys are all looked up here.

use crate::contacts::{Contact, Detail, Phone, PhoneKind};
use base64::Engine;

/// Where a value goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Id,
    /// `cn`: the display name when there is no `displayName`.
    CommonName,
    Given,
    Surname,
    Display,
    Company,
    Department,
    Title,
    Email,
    Number(PhoneKind),
    Detail(Detail),
    /// `jpegPhoto`: base64 in a text value, bytes in LDIF and directories.
    Photo,
}

/// A name as compared: lowercase, without spaces, dashes, underscores and dots.
pub fn key_of(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, ' ' | '-' | '_' | '.'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The field a name means, if any. Digits only count columns ("Business Phone 2",
/// "Mobile2", "E-mail 2 Address") and are ignored.
pub fn field_of(name: &str) -> Option<Field> {
    let key: String = key_of(name)
        .chars()
        .filter(|c| !c.is_ascii_digit())
        .collect();
    field_of_key(&key)
}

fn field_of_key(key: &str) -> Option<Field> {
    Some(match key {
        "uid" | "id" | "entryuuid" => Field::Id,
        "cn" | "commonname" | "name" | "fullname" => Field::CommonName,
        "givenname" | "gn" | "firstname" | "first" | "forename" | "vorname" => Field::Given,
        "sn" | "surname" | "lastname" | "last" | "familyname" | "nachname" => Field::Surname,
        "displayname" | "display" | "fileas" => Field::Display,
        "o" | "company" | "organization" | "organisation" | "organizationname" | "firma" => {
            Field::Company
        }
        "ou" | "department" | "organizationalunit" | "organizationdepartment" | "abteilung" => {
            Field::Department
        }
        "title" | "jobtitle" | "position" | "organizationtitle" => Field::Title,
        "mail" | "email" | "emailaddress" | "emailvalue" => Field::Email,
        "telephonenumber" | "phone" | "telephone" | "businessphone" | "workphone" | "office"
        | "officephone" | "work" | "business" | "businessnumber" | "companymainphone"
        | "primaryphone" | "phonenumber" | "number" | "telefon" | "telefonnummer" => {
            Field::Number(PhoneKind::Work)
        }
        "mobile" | "mobilephone" | "cell" | "cellphone" | "handy" | "mobilenumber" | "mobil" => {
            Field::Number(PhoneKind::Mobile)
        }
        "homephone" | "home" | "privatephone" | "homenumber" => Field::Number(PhoneKind::Home),
        "ipphone" | "extension" | "ext" => Field::Number(PhoneKind::IpPhone),
        "othertelephone" | "otherphone" | "other" | "othernumber" => {
            Field::Number(PhoneKind::Other)
        }
        "facsimiletelephonenumber"
        | "fax"
        | "businessfax"
        | "faxnumber"
        | "homefax"
        | "otherfax" => Field::Number(PhoneKind::Fax),
        "pager" => Field::Number(PhoneKind::Pager),
        "description" | "notes" | "note" | "comment" | "comments" => {
            Field::Detail(Detail::Description)
        }
        "street" | "streetaddress" | "businessstreet" | "workaddress" | "addressstreet" => {
            Field::Detail(Detail::Street)
        }
        "l" | "locality" | "localityname" | "city" | "businesscity" | "workcity"
        | "addresscity" => Field::Detail(Detail::Locality),
        "postalcode" | "zip" | "zipcode" | "postcode" | "businesspostalcode" | "workzipcode"
        | "workpostalcode" | "addresspostalcode" => Field::Detail(Detail::PostalCode),
        "st"
        | "state"
        | "province"
        | "stateorprovincename"
        | "businessstate"
        | "workstate"
        | "addressregion" => Field::Detail(Detail::State),
        "c"
        | "co"
        | "country"
        | "countryname"
        | "friendlycountryname"
        | "businesscountry"
        | "workcountry"
        | "addresscountry" => Field::Detail(Detail::Country),
        "jpegphoto" | "thumbnailphoto" | "photo" => Field::Photo,
        _ => return None,
    })
}

/// The kind a number's label or type names: "Mobile", "Work Fax", "cell", "* Home";
/// FRITZ!Box's "memo" is another number, its "intern" an extension. Anything else
/// is a work number.
pub fn kind_of_label(label: &str) -> PhoneKind {
    let label = label.trim_start_matches(['*', ' ']).to_ascii_lowercase();
    if label.contains("fax") {
        PhoneKind::Fax
    } else if label.contains("mobile") || label.contains("cell") || label.contains("iphone") {
        PhoneKind::Mobile
    } else if label.contains("home") || label.contains("private") {
        PhoneKind::Home
    } else if label.contains("pager") {
        PhoneKind::Pager
    } else if label.contains("other") || label == "memo" {
        PhoneKind::Other
    } else if label.contains("ipphone") || label.contains("extension") || label == "intern" {
        PhoneKind::IpPhone
    } else {
        PhoneKind::Work
    }
}

/// A contact being read, field by field. When several values come for one text
/// field ("E-mail 2 Address", a second `mail`), the first one wins; numbers add up.
#[derive(Debug, Default)]
pub struct Builder {
    pub contact: Contact,
}

impl Builder {
    pub fn set(&mut self, field: Field, value: &str) {
        let value = value.trim();
        if value.is_empty() {
            return;
        }
        let c = &mut self.contact;
        let slot = match field {
            Field::Id => &mut c.id,
            // Several common names: several values (LDIF), or one cell joined as
            // exports join them.
            Field::CommonName => {
                for v in value.split(super::csv::MULTI_SEPARATOR).map(str::trim) {
                    if !v.is_empty() && !c.cn.iter().any(|o| o == v) {
                        c.cn.push(v.to_string());
                    }
                }
                return;
            }
            Field::Given => &mut c.given_name,
            Field::Surname => &mut c.surname,
            Field::Display => &mut c.display_name,
            Field::Company => &mut c.company,
            Field::Department => &mut c.department,
            Field::Title => &mut c.title,
            Field::Email => &mut c.email,
            Field::Number(kind) => return self.add_numbers(kind, value),
            Field::Detail(d) => c.detail_mut(d),
            Field::Photo => {
                // Base64, perhaps across lines; anything else is not a photo.
                let text: String = value.split_whitespace().collect();
                if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(text) {
                    self.set_photo(bytes);
                }
                return;
            }
        };
        if slot.is_empty() {
            *slot = value.to_string();
        }
    }

    /// The photo's bytes, when the contact has none yet and they are a JPEG image.
    pub fn set_photo(&mut self, bytes: Vec<u8>) {
        if self.contact.photo.is_empty() && crate::contacts::is_jpeg(&bytes) {
            self.contact.photo = bytes;
        }
    }

    /// Adds the numbers of one value: one, or several separated by ` ::: ` (as
    /// Google exports them) or by line ends.
    pub fn add_numbers(&mut self, kind: PhoneKind, value: &str) {
        for number in value
            .split(super::csv::MULTI_SEPARATOR)
            .flat_map(|v| v.split('\n'))
            .map(str::trim)
            .filter(|v| !v.is_empty())
        {
            self.contact.phones.push(Phone {
                kind,
                number: number.to_string(),
            });
        }
    }

    pub fn finish(self) -> Contact {
        self.contact
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_labels() {
        assert_eq!(
            field_of("telephoneNumber"),
            Some(Field::Number(PhoneKind::Work))
        );
        assert_eq!(
            field_of("Business Phone 2"),
            Some(Field::Number(PhoneKind::Work))
        );
        assert_eq!(field_of("E-mail 2 Address"), Some(Field::Email));
        assert_eq!(
            field_of("Mobile Number 2"),
            Some(Field::Number(PhoneKind::Mobile))
        );
        assert_eq!(field_of("Assistant's Phone"), None);
        assert_eq!(
            field_of("Address 1 - Postal Code"),
            Some(Field::Detail(Detail::PostalCode))
        );
        assert_eq!(field_of("Notes"), Some(Field::Detail(Detail::Description)));
        assert_eq!(field_of("thumbnailPhoto"), Some(Field::Photo));
        assert_eq!(kind_of_label("* Mobile"), PhoneKind::Mobile);
        assert_eq!(kind_of_label("Work Fax"), PhoneKind::Fax);
        assert_eq!(kind_of_label("Main"), PhoneKind::Work);
        let mut b = Builder::default();
        b.set(Field::CommonName, " Ada L. ");
        b.set(Field::Email, "a@x");
        b.set(Field::Email, "b@x");
        b.set(Field::Number(PhoneKind::Mobile), "1 ::: 2\n3");
        b.set(Field::CommonName, "Ada Lovelace ::: Ada L.");
        b.set(Field::Photo, "/9j/\n4AAQ");
        b.set(Field::Photo, "not a photo");
        let c = b.finish();
        assert_eq!(c.cn, ["Ada L.", "Ada Lovelace"]);
        assert_eq!(c.display_name, "", "a common name is not a display name");
        assert_eq!(c.email, "a@x");
        assert_eq!(c.phones.len(), 3);
        assert_eq!(c.photo, [0xff, 0xd8, 0xff, 0xe0, 0, 0x10]);
    }
}
