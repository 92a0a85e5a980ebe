//! Contacts as CSV: a header row naming the columns, one contact per row.
//!
//! Column names are LDAP attribute names (`cn`, `sn`, `givenName`, `telephoneNumber`,
//! ...) or the everyday names address books export ("First Name", "Company", "Mobile
//! Phone"...), case-insensitive. UTF-8 with or without BOM; `,` `;` or tab, detected
//! from the header line. A cell may hold several numbers separated by ` ::: ` (as
//! Google exports them) or by newlines. Export writes LDAP attribute names, one
//! column per number kind, several numbers of a kind joined by ` ::: `; import
//! reads that back.

use crate::contacts::{Contact, Phone, PhoneKind};
use std::io::{Read, Write};

/// Longest cell accepted; longer ones are a broken file, not a name.
const MAX_CELL: usize = 1024;
/// How several values of one kind are written in one cell.
pub const MULTI_SEPARATOR: &str = " ::: ";

/// Where a column goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Id,
    CommonName,
    Given,
    Surname,
    Display,
    Company,
    Department,
    Title,
    Email,
    Number(PhoneKind),
}

/// Recognised column names (lowercase, spaces, dashes and underscores removed).
fn field_of(header: &str) -> Option<Field> {
    let key: String = header
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '_' | '.'))
        .flat_map(char::to_lowercase)
        .collect();
    Some(match key.as_str() {
        "uid" | "id" => Field::Id,
        "cn" | "commonname" | "name" | "fullname" => Field::CommonName,
        "givenname" | "gn" | "firstname" | "first" | "forename" => Field::Given,
        "sn" | "surname" | "lastname" | "last" | "familyname" => Field::Surname,
        "displayname" | "display" => Field::Display,
        "o" | "company" | "organization" | "organisation" | "organizationname" => Field::Company,
        "ou" | "department" | "organizationalunit" => Field::Department,
        "title" | "jobtitle" | "position" => Field::Title,
        "mail" | "email" | "emailaddress" | "e-mail" | "email1" => Field::Email,
        "telephonenumber" | "phone" | "telephone" | "businessphone" | "workphone" | "office"
        | "officephone" | "work" => Field::Number(PhoneKind::Work),
        "mobile" | "mobilephone" | "cell" | "cellphone" | "handy" => {
            Field::Number(PhoneKind::Mobile)
        }
        "homephone" | "home" | "privatephone" => Field::Number(PhoneKind::Home),
        "ipphone" | "extension" | "ext" => Field::Number(PhoneKind::IpPhone),
        "othertelephone" | "otherphone" | "other" => Field::Number(PhoneKind::Other),
        "facsimiletelephonenumber" | "fax" | "businessfax" | "faxnumber" => {
            Field::Number(PhoneKind::Fax)
        }
        "pager" => Field::Number(PhoneKind::Pager),
        _ => return None,
    })
}

/// A row that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The line of the file the row starts on (the header is line 1).
    pub line: u64,
    pub reason: String,
}

#[derive(Debug, Default)]
pub struct CsvImport {
    pub contacts: Vec<Contact>,
    pub skipped: Vec<Skipped>,
    pub warnings: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    #[error("cannot read the file: {0}")]
    Read(#[from] std::io::Error),
    #[error("the file is empty")]
    Empty,
    #[error(
        "no column is a contact field; found: {found}. Accepted: LDAP attribute names (cn, sn, givenName, displayName, telephoneNumber, mobile, homePhone, ipPhone, otherTelephone, facsimileTelephoneNumber, pager, mail, o, ou, title, uid) or names such as First Name, Last Name, Company, Phone, Mobile, E-mail"
    )]
    NoKnownColumn { found: String },
}

fn delimiter(header_line: &str) -> u8 {
    let count = |c: char| header_line.matches(c).count();
    [
        (b',', count(',')),
        (b';', count(';')),
        (b'\t', count('\t')),
        (b'|', count('|')),
    ]
    .into_iter()
    .max_by_key(|(_, n)| *n)
    .filter(|(_, n)| *n > 0)
    .map(|(d, _)| d)
    .unwrap_or(b',')
}

/// Reads a CSV file of contacts; bad rows are skipped and listed, the rest imported.
pub fn import(mut input: impl Read) -> Result<CsvImport, CsvError> {
    let mut bytes = Vec::new();
    input.read_to_end(&mut bytes)?;
    let text = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&bytes);
    if text.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(CsvError::Empty);
    }
    let first_line = text.split(|b| *b == b'\n').next().unwrap_or_default();
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter(&String::from_utf8_lossy(first_line)))
        .has_headers(false)
        .flexible(true)
        .from_reader(text);
    // Line numbers are counted here from byte offsets: the csv crate's own count
    // drifts after CRLF line ends.
    let newlines: Vec<u64> = text
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .map(|(i, _)| i as u64)
        .collect();
    let mut records = reader.byte_records();
    let header = match records.next() {
        Some(Ok(h)) => h,
        Some(Err(e)) => return Err(CsvError::Read(std::io::Error::other(e.to_string()))),
        None => return Err(CsvError::Empty),
    };
    let names: Vec<String> = header
        .iter()
        .map(|h| String::from_utf8_lossy(h).trim().to_string())
        .collect();
    let fields: Vec<Option<Field>> = names.iter().map(|n| field_of(n)).collect();
    let mut out = CsvImport::default();
    if fields.iter().all(Option::is_none) {
        return Err(CsvError::NoKnownColumn {
            found: names.join(", "),
        });
    }
    let unknown: Vec<&str> = names
        .iter()
        .zip(&fields)
        .filter(|(n, f)| f.is_none() && !n.is_empty())
        .map(|(n, _)| n.as_str())
        .collect();
    if !unknown.is_empty() {
        out.warnings
            .push(format!("ignored columns: {}", unknown.join(", ")));
    }
    for record in records {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e
                    .position()
                    .map_or(0, |p| line_of(text, &newlines, p.byte()));
                out.skipped.push(Skipped {
                    line,
                    reason: format!("unreadable row: {e}"),
                });
                continue;
            }
        };
        let line = record
            .position()
            .map_or(0, |p| line_of(text, &newlines, p.byte()));
        if record
            .iter()
            .all(|cell| cell.iter().all(u8::is_ascii_whitespace))
        {
            continue;
        }
        match row(&record, &fields) {
            Ok(c) => out.contacts.push(c),
            Err(reason) => out.skipped.push(Skipped { line, reason }),
        }
    }
    Ok(out)
}

/// The physical line (from 1) a record starting at `offset` is on. After a CRLF the
/// reported start can be the `\n` itself: line ends before the record are skipped.
fn line_of(text: &[u8], newlines: &[u64], mut offset: u64) -> u64 {
    while matches!(text.get(offset as usize), Some(b'\r' | b'\n')) {
        offset += 1;
    }
    newlines.partition_point(|nl| *nl < offset) as u64 + 1
}

fn row(record: &csv::ByteRecord, fields: &[Option<Field>]) -> Result<Contact, String> {
    if record.len() != fields.len() {
        return Err(format!(
            "{} fields where the header has {}",
            record.len(),
            fields.len()
        ));
    }
    let mut c = Contact::default();
    let mut common_name = String::new();
    for (cell, field) in record.iter().zip(fields) {
        let Some(field) = field else { continue };
        let cell = std::str::from_utf8(cell).map_err(|_| "not valid UTF-8".to_string())?;
        let value = cell.trim();
        if value.len() > MAX_CELL {
            return Err(format!("a cell is longer than {MAX_CELL} characters"));
        }
        if value.is_empty() {
            continue;
        }
        let slot = match field {
            Field::Id => &mut c.id,
            Field::CommonName => &mut common_name,
            Field::Given => &mut c.given_name,
            Field::Surname => &mut c.surname,
            Field::Display => &mut c.display_name,
            Field::Company => &mut c.company,
            Field::Department => &mut c.department,
            Field::Title => &mut c.title,
            Field::Email => &mut c.email,
            Field::Number(kind) => {
                for number in value
                    .split(MULTI_SEPARATOR)
                    .flat_map(|v| v.split('\n'))
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                {
                    if !number.chars().any(|ch| ch.is_ascii_digit()) {
                        return Err(format!("number {number:?} has no digit"));
                    }
                    c.phones.push(Phone {
                        kind: *kind,
                        number: number.to_string(),
                    });
                }
                continue;
            }
        };
        *slot = value.to_string();
    }
    if c.display_name.is_empty() && !common_name.is_empty() {
        c.display_name = common_name;
    }
    if !c.is_servable() {
        return Err("neither a name nor a number".to_string());
    }
    Ok(c)
}

/// Writes contacts as CSV with LDAP attribute names; `import` reads it back.
pub fn export_csv(contacts: &[Contact], out: &mut impl Write) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let mut header = vec![
        "uid",
        "givenName",
        "sn",
        "displayName",
        "o",
        "ou",
        "title",
        "mail",
    ];
    let kinds = [
        ("telephoneNumber", PhoneKind::Work),
        ("mobile", PhoneKind::Mobile),
        ("homePhone", PhoneKind::Home),
        ("ipPhone", PhoneKind::IpPhone),
        ("otherTelephone", PhoneKind::Other),
        ("facsimileTelephoneNumber", PhoneKind::Fax),
        ("pager", PhoneKind::Pager),
    ];
    header.extend(kinds.iter().map(|(name, _)| *name));
    w.write_record(&header)?;
    for c in contacts {
        let mut record: Vec<String> = c.text_fields().map(str::to_string).to_vec();
        record.extend(
            kinds
                .iter()
                .map(|(_, kind)| c.numbers(*kind).collect::<Vec<_>>().join(MULTI_SEPARATOR)),
        );
        w.write_record(&record)?;
    }
    w.flush()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn ldap_headers_bom_and_aliases() {
        let csv = "\u{feff}First Name;Last Name;Company;Business Phone;Mobile Phone;E-mail\n\
                   Jürgen;Müller;Nordwind;030 123;0170 1 ::: 0171 2;j@example.com\n";
        let out = import(csv.as_bytes()).unwrap();
        assert!(out.skipped.is_empty(), "{:?}", out.skipped);
        let c = &out.contacts[0];
        assert_eq!(
            (c.given_name.as_str(), c.surname.as_str()),
            ("Jürgen", "Müller")
        );
        assert_eq!(c.company, "Nordwind");
        assert_eq!(
            c.numbers(PhoneKind::Mobile).collect::<Vec<_>>(),
            vec!["0170 1", "0171 2"]
        );
        assert_eq!(c.email, "j@example.com");
    }

    #[test]
    fn bad_rows_are_skipped_with_their_line() {
        let csv = "cn,telephoneNumber,o\n\
                   Good One,123,A\n\
                   \"Multi\nLine\",456,B\n\
                   Too,Many,Fields,Here\n\
                   ,,Only Company\n\
                   ,,\n\
                   No Digits,abc,C\n\
                   Last Good,789,D\n";
        let out = import(csv.as_bytes()).unwrap();
        let names: Vec<String> = out.contacts.iter().map(Contact::common_name).collect();
        assert_eq!(
            names,
            vec!["Good One", "Multi\nLine", "Only Company", "Last Good"]
        );
        let skipped: Vec<(u64, &str)> = out
            .skipped
            .iter()
            .map(|s| (s.line, s.reason.as_str()))
            .collect();
        assert_eq!(skipped.len(), 2, "{skipped:?}");
        assert_eq!(skipped[0].0, 5);
        assert!(skipped[0].1.contains("4 fields where the header has 3"));
        assert_eq!(skipped[1].0, 8);
        assert!(skipped[1].1.contains("no digit"));
    }

    #[test]
    fn line_numbers_hold_with_crlf_line_ends() {
        let csv =
            "cn,telephoneNumber\r\nGood,1\r\nBad,1,2\r\n\"Multi\r\nLine\",3\r\nNoDigit,abc\r\n";
        let out = import(csv.as_bytes()).unwrap();
        let lines: Vec<u64> = out.skipped.iter().map(|s| s.line).collect();
        assert_eq!(lines, vec![3, 6]);
        assert_eq!(out.contacts.len(), 2);
    }

    #[test]
    fn a_file_without_known_columns_is_refused() {
        let err = import("foo,bar\n1,2\n".as_bytes()).unwrap_err();
        assert!(err.to_string().contains("found: foo, bar"), "{err}");
        assert!(matches!(import("".as_bytes()), Err(CsvError::Empty)));
    }

    #[test]
    fn export_round_trips() {
        let contacts = crate::bench::phonebook::generate(50, 9);
        let mut out = Vec::new();
        export_csv(&contacts, &mut out).unwrap();
        let back = import(out.as_slice()).unwrap();
        assert!(back.skipped.is_empty());
        assert_eq!(back.contacts, contacts);
    }
}
