//! A column mapping the admin gives for CSV files whose columns are not recognised:
//! `Column=field` on the command line (`sop contacts import --map`), `"Column" =
//! "field"` in `[ucm.mapping]`. Fields are named by the LDAP attributes the
//! directory serves; `-` leaves a column out. A mapped column is read as mapped
//! whatever its name would otherwise mean.

use super::fields::Field;
use crate::contacts::{Detail, PhoneKind};
use std::fmt;

/// The names a mapping may give a column, and where each puts its value (`None`:
/// the column is left out).
pub const TARGETS: [(&str, Option<Field>); 24] = [
    ("givenName", Some(Field::Given)),
    ("sn", Some(Field::Surname)),
    ("cn", Some(Field::CommonName)),
    ("displayName", Some(Field::Display)),
    ("o", Some(Field::Company)),
    ("ou", Some(Field::Department)),
    ("title", Some(Field::Title)),
    ("mail", Some(Field::Email)),
    ("telephoneNumber", Some(Field::Number(PhoneKind::Work))),
    ("mobile", Some(Field::Number(PhoneKind::Mobile))),
    ("homePhone", Some(Field::Number(PhoneKind::Home))),
    ("ipPhone", Some(Field::Number(PhoneKind::IpPhone))),
    ("otherTelephone", Some(Field::Number(PhoneKind::Other))),
    (
        "facsimileTelephoneNumber",
        Some(Field::Number(PhoneKind::Fax)),
    ),
    ("pager", Some(Field::Number(PhoneKind::Pager))),
    ("description", Some(Field::Detail(Detail::Description))),
    ("street", Some(Field::Detail(Detail::Street))),
    ("l", Some(Field::Detail(Detail::Locality))),
    ("postalCode", Some(Field::Detail(Detail::PostalCode))),
    ("st", Some(Field::Detail(Detail::State))),
    ("c", Some(Field::Detail(Detail::Country))),
    ("jpegPhoto", Some(Field::Photo)),
    ("uid", Some(Field::Id)),
    ("-", None),
];

/// Why a mapping is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    #[error(
        "{0:?} is not a column mapping; write Column=field, e.g. \"Telefon Zentrale=telephoneNumber\""
    )]
    Syntax(String),
    #[error("the column name is empty in {0:?}")]
    EmptyColumn(String),
    #[error(
        "column {column:?}: {field:?} is not a field; accepted: {}",
        accepted()
    )]
    UnknownField { column: String, field: String },
    #[error("column {0:?} is mapped twice")]
    Twice(String),
}

/// The accepted field names, as an error lists them.
pub fn accepted() -> String {
    let names: Vec<&str> = TARGETS
        .iter()
        .filter(|(_, f)| f.is_some())
        .map(|(n, _)| *n)
        .collect();
    format!("{}, or - to leave the column out", names.join(", "))
}

/// Columns and where they go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mapping {
    entries: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    /// As the admin wrote it.
    column: String,
    key: String,
    field: Option<Field>,
}

/// A column name as a mapping compares it: trimmed, lowercase, spaces collapsed.
fn column_key(column: &str) -> String {
    column
        .trim_start_matches('\u{feff}')
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

impl Mapping {
    /// Reads `Column=field` items (the last `=` separates: a column name may hold one).
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = &'a str>,
    ) -> Result<Mapping, MappingError> {
        let mut m = Mapping::default();
        for pair in pairs {
            let (column, field) = pair
                .rsplit_once('=')
                .ok_or_else(|| MappingError::Syntax(pair.to_string()))?;
            m.add(column, field)?;
        }
        Ok(m)
    }

    /// Maps `column` to the field named `field`.
    pub fn add(&mut self, column: &str, field: &str) -> Result<(), MappingError> {
        let key = column_key(column);
        if key.is_empty() {
            return Err(MappingError::EmptyColumn(format!("{column}={field}")));
        }
        let target = TARGETS
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(field.trim()))
            .map(|(_, f)| *f)
            .ok_or_else(|| MappingError::UnknownField {
                column: column.trim().to_string(),
                field: field.trim().to_string(),
            })?;
        if self.entries.iter().any(|e| e.key == key) {
            return Err(MappingError::Twice(column.trim().to_string()));
        }
        self.entries.push(Entry {
            column: column.trim().to_string(),
            key,
            field: target,
        });
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Where the column named `header` goes, when the mapping names it:
    /// `Some(None)` leaves it out.
    pub fn target(&self, header: &str) -> Option<Option<Field>> {
        let key = column_key(header);
        self.entries.iter().find(|e| e.key == key).map(|e| e.field)
    }

    /// The mapped columns that are not among `headers`.
    pub fn missing<'a>(&'a self, headers: &[String]) -> Vec<&'a str> {
        self.entries
            .iter()
            .filter(|e| !headers.iter().any(|h| column_key(h) == e.key))
            .map(|e| e.column.as_str())
            .collect()
    }
}

impl fmt::Display for Mapping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.entries.iter().enumerate() {
            let name = TARGETS
                .iter()
                .find(|(_, t)| *t == e.field)
                .map_or("-", |(n, _)| *n);
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}={name}", e.column)?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn pairs_are_read_and_checked() {
        let m = Mapping::from_pairs(["Telefon Zentrale=telephoneNumber", "Notiz = -", "a=b=MAIL"])
            .unwrap();
        assert_eq!(
            m.target("  telefon   ZENTRALE "),
            Some(Some(Field::Number(PhoneKind::Work)))
        );
        assert_eq!(m.target("Notiz"), Some(None));
        assert_eq!(m.target("a=b"), Some(Some(Field::Email)));
        assert_eq!(m.target("Other"), None);
        assert_eq!(
            m.missing(&["Notiz".to_string()]),
            ["Telefon Zentrale", "a=b"]
        );
        assert_eq!(
            m.to_string(),
            "Telefon Zentrale=telephoneNumber, Notiz=-, a=b=mail"
        );

        let err = Mapping::from_pairs(["Durchwahl=extension"]).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("column \"Durchwahl\": \"extension\" is not a field"),
            "{text}"
        );
        assert!(
            text.contains("telephoneNumber, mobile, homePhone, ipPhone"),
            "{text}"
        );
        assert!(matches!(
            Mapping::from_pairs(["no equals sign"]),
            Err(MappingError::Syntax(_))
        ));
        assert!(matches!(
            Mapping::from_pairs([" =mail"]),
            Err(MappingError::EmptyColumn(_))
        ));
        assert!(matches!(
            Mapping::from_pairs(["A=mail", "a=sn"]),
            Err(MappingError::Twice(_))
        ));
    }
}
