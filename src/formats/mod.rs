//! Importers: each file reads one format of contact list into contacts.
//!
//! [`read`] recognises the format from the content (and the file name or media type
//! when the content alone does not say), decodes the text (UTF-8 with or without
//! BOM, UTF-16 with BOM, Windows-1252 for files that are not UTF-8), and hands it to
//! the format's reader. Readers are best effort: an entry that cannot be read is
//! skipped with its position and reason and the rest is read. A document that is
//! not a contact list at all (an HTML page, an empty body, a truncated file, a
//! spreadsheet) is refused with a [`NotAList`] that says so.

pub mod csv;
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod details_tests;
pub mod fields;
pub mod headers;
pub mod json;
pub mod ldif;
pub mod mapping;
mod text;
pub mod vcard;
pub mod xml;

use crate::contacts::{Contact, Detail, PHOTO_MAX, Phone};
use mapping::Mapping;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;

/// Longest value accepted in any field; longer ones are a broken file, not a name.
pub const MAX_VALUE: usize = 1024;
/// Most numbers one contact keeps.
pub const MAX_PHONES: usize = 32;
/// How many skipped entries a read keeps with their reasons (all are counted).
pub const MAX_SKIPPED_KEPT: usize = 1000;

/// A contact list format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Csv,
    VCard,
    Ldif,
    Json,
    Xml,
}

impl Format {
    pub const ALL: [Format; 5] = [
        Format::Csv,
        Format::VCard,
        Format::Ldif,
        Format::Json,
        Format::Xml,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "CSV",
            Format::VCard => "vCard",
            Format::Ldif => "LDIF",
            Format::Json => "JSON",
            Format::Xml => "XML",
        }
    }

    /// The format a file name's extension names, if any.
    pub fn from_name(name: &str) -> Option<Format> {
        let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
        Some(match ext.as_str() {
            "csv" | "tsv" => Format::Csv,
            "vcf" | "vcard" => Format::VCard,
            "ldif" | "ldf" => Format::Ldif,
            "json" => Format::Json,
            "xml" => Format::Xml,
            _ => return None,
        })
    }

    /// The format a media type names, if any.
    pub fn from_media_type(media_type: &str) -> Option<Format> {
        let t = media_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        Some(match t.as_str() {
            "text/csv" | "text/tab-separated-values" | "application/csv" => Format::Csv,
            "text/vcard" | "text/x-vcard" | "text/directory" => Format::VCard,
            "text/ldif" | "application/ldif" | "text/x-ldif" => Format::Ldif,
            "application/json" => Format::Json,
            "application/xml" | "text/xml" => Format::Xml,
            _ => return None,
        })
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where an entry is in its document: its number among the entries (from 1) and
/// the line it starts on (from 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position {
    pub entry: usize,
    pub line: u64,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "entry {} (line {})", self.entry, self.line)
    }
}

/// An entry that was not read, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub position: Position,
    pub reason: String,
}

/// What reading a list gave.
#[derive(Debug, Default)]
pub struct ReadList {
    pub format: Option<Format>,
    /// The dialect, when one was recognised: "Outlook", "Google", "Yealink"...
    pub variant: Option<&'static str>,
    pub contacts: Vec<Contact>,
    /// The first [`MAX_SKIPPED_KEPT`] entries that were skipped.
    pub skipped: Vec<Skipped>,
    /// How many entries were skipped in all.
    pub skipped_count: usize,
    /// What the reader noticed without skipping anything (ignored columns, encoding).
    pub warnings: Vec<String>,
}

impl ReadList {
    /// "CSV (Outlook)", "vCard".
    pub fn describe(&self) -> String {
        match (self.format, self.variant) {
            (Some(f), Some(v)) => format!("{f} ({v})"),
            (Some(f), None) => f.to_string(),
            (None, _) => String::new(),
        }
    }
}

/// Why a document is not a contact list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotAList {
    #[error("the list is empty")]
    Empty,
    #[error("this is an HTML page, not a contact list (an error page or a login page?)")]
    Html,
    #[error("this is {0}, not a contact list; export it as CSV, vCard, LDIF, JSON or XML")]
    Binary(&'static str),
    /// Text in no format: what it holds is never shown (the URL may name a file
    /// that is not meant to be read), only its size.
    #[error(
        "the format is not recognised: expected CSV with a header row naming contact fields, vCard, LDIF, JSON or a phone book XML; got {bytes} bytes of text in {lines} lines that is none of these"
    )]
    Unrecognised { bytes: usize, lines: usize },
    #[error("the {format} document is truncated: {reason}")]
    Truncated { format: Format, reason: String },
    #[error("the {format} document cannot be read: {reason}")]
    Broken { format: Format, reason: String },
}

/// Reads a contact list in whatever supported format it is in. `name` (a file name
/// or URL path) and `media_type` break ties when the content alone does not say.
pub fn read(name: &str, media_type: Option<&str>, bytes: &[u8]) -> Result<ReadList, NotAList> {
    read_mapped(name, media_type, bytes, &Mapping::default())
}

/// Like [`read`], with the columns of a CSV list mapped by `mapping`.
pub fn read_mapped(
    name: &str,
    media_type: Option<&str>,
    bytes: &[u8],
    mapping: &Mapping,
) -> Result<ReadList, NotAList> {
    let decoded = text::decode(bytes)?;
    let format = detect(name, media_type, &decoded.text)?;
    let mut list = read_text(format, &decoded.text, mapping)?;
    if let Some(w) = decoded.warning {
        list.warnings.insert(0, w);
    }
    Ok(list)
}

/// Reads a contact list known to be in `format`.
pub fn read_as(format: Format, bytes: &[u8]) -> Result<ReadList, NotAList> {
    read_as_mapped(format, bytes, &Mapping::default())
}

/// Like [`read_as`], with the columns of a CSV list mapped by `mapping`.
pub fn read_as_mapped(
    format: Format,
    bytes: &[u8],
    mapping: &Mapping,
) -> Result<ReadList, NotAList> {
    let decoded = text::decode(bytes)?;
    let mut list = read_text(format, &decoded.text, mapping)?;
    if let Some(w) = decoded.warning {
        list.warnings.insert(0, w);
    }
    Ok(list)
}

fn read_text(format: Format, text: &str, mapping: &Mapping) -> Result<ReadList, NotAList> {
    let mut list = match format {
        Format::Csv => csv::read_mapped(text, mapping)?,
        Format::VCard => vcard::read(text)?,
        Format::Ldif => ldif::read(text)?,
        Format::Json => json::read(text)?,
        Format::Xml => xml::read(text)?,
    };
    list.format = Some(format);
    if format != Format::Csv && !mapping.is_empty() {
        list.warnings.push(format!(
            "the column mapping ({mapping}) applies to CSV files only; this list is {format}"
        ));
    }
    Ok(list)
}

/// Recognises the format of a decoded document.
pub fn detect(name: &str, media_type: Option<&str>, text: &str) -> Result<Format, NotAList> {
    let body = text.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    if body.is_empty() {
        return Err(NotAList::Empty);
    }
    let head: String = body.chars().take(512).collect::<String>().to_lowercase();
    let html_type = media_type.is_some_and(|t| t.to_ascii_lowercase().starts_with("text/html"));
    if head.starts_with("<!doctype html") || head.starts_with("<html") || head.contains("<html") {
        return Err(NotAList::Html);
    }
    if head.starts_with('<') {
        return Ok(Format::Xml);
    }
    if html_type {
        return Err(NotAList::Html);
    }
    if head.starts_with("begin:vcard") {
        return Ok(Format::VCard);
    }
    if head.starts_with('[') || head.starts_with('{') {
        return Ok(Format::Json);
    }
    let first_line = head
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or_default();
    if first_line.starts_with("dn:") || first_line.starts_with("version:") {
        return Ok(Format::Ldif);
    }
    if let Some(f) =
        Format::from_name(name).or_else(|| media_type.and_then(Format::from_media_type))
    {
        return Ok(f);
    }
    if csv::looks_like_header(body.lines().next().unwrap_or_default()) {
        return Ok(Format::Csv);
    }
    Err(NotAList::Unrecognised {
        bytes: text.len(),
        lines: text.lines().count(),
    })
}

/// Collects a reader's entries and applies the rules every format shares: values
/// are trimmed and bounded, numbers have a digit, text that was not valid UTF-8
/// is refused, a contact needs a name or a number, and an id names one entry of
/// the list (ids that differ only in case are one DN: the later ones are skipped).
#[derive(Debug, Default)]
pub(crate) struct Entries {
    list: ReadList,
    /// The id of each entry read so far, case-folded and hashed: where it was
    /// and which contact it is.
    ids: HashMap<u64, (Position, usize)>,
    /// Entries whose photo was larger than `PHOTO_MAX`: how many, and the first few.
    photos_left_out: usize,
    photos_left_out_at: Vec<Position>,
}

fn id_key(id: &str) -> u64 {
    crate::directory::stable_hash(&id.to_lowercase())
}

/// How many entries with a photo left out the warning names.
const PHOTOS_NAMED: usize = 5;

impl Entries {
    pub fn new() -> Entries {
        Entries::default()
    }

    /// With room for `contacts` contacts.
    pub fn with_capacity(contacts: usize) -> Entries {
        let mut e = Entries::default();
        e.list.contacts.reserve(contacts);
        e
    }

    /// Adds a read entry, or skips it when it breaks a shared rule. A photo larger
    /// than `PHOTO_MAX` is left out, with a warning; the contact is kept.
    pub fn push(&mut self, position: Position, mut c: Contact) {
        if c.photo.len() > PHOTO_MAX {
            c.photo = Vec::new();
            self.photos_left_out += 1;
            if self.photos_left_out_at.len() < PHOTOS_NAMED {
                self.photos_left_out_at.push(position);
            }
        }
        if let Err(reason) = tidy(&mut c) {
            return self.skip(position, reason);
        }
        if !c.id.is_empty() {
            if let Some(reason) = self.same_id(&c.id) {
                return self.skip(position, reason);
            }
            let at = self.list.contacts.len();
            self.ids.insert(id_key(&c.id), (position, at));
        }
        self.list.contacts.push(c);
    }

    /// Why a contact with this id is not added, if an earlier entry has it.
    fn same_id(&self, id: &str) -> Option<String> {
        let (first, at) = self.ids.get(&id_key(id))?;
        let theirs = &self.list.contacts[*at].id;
        theirs.to_lowercase().eq(&id.to_lowercase()).then(|| {
            format!(
                "id {id:?} is already {first}'s ({theirs:?}); ids that differ only in case name one entry"
            )
        })
    }

    /// Adds a read entry, or skips it with the reader's reason.
    pub fn entry(&mut self, position: Position, c: Result<Contact, String>) {
        match c {
            Ok(c) => self.push(position, c),
            Err(reason) => self.skip(position, reason),
        }
    }

    pub fn skip(&mut self, position: Position, reason: impl Into<String>) {
        self.list.skipped_count += 1;
        if self.list.skipped.len() < MAX_SKIPPED_KEPT {
            self.list.skipped.push(Skipped {
                position,
                reason: reason.into(),
            });
        }
    }

    /// Adds the entries another reader read from a later part of the document;
    /// its entry numbers count on from `entries_before`.
    pub fn append(&mut self, mut later: Entries, entries_before: usize) {
        // The later part's ids that an earlier entry has: those contacts are skipped.
        let mut taken: Vec<(usize, Position, String)> = Vec::new();
        for (position, at) in later.ids.values() {
            if let Some(reason) = self.same_id(&later.list.contacts[*at].id) {
                let mut position = *position;
                position.entry += entries_before;
                taken.push((*at, position, reason));
            }
        }
        if !taken.is_empty() {
            taken.sort_unstable_by_key(|t| t.0);
            let taken: Vec<usize> = taken
                .into_iter()
                .map(|(at, position, reason)| {
                    self.skip(position, reason);
                    at
                })
                .collect();
            let mut i = 0;
            later.list.contacts.retain(|_| {
                i += 1;
                taken.binary_search(&(i - 1)).is_err()
            });
            later
                .ids
                .retain(|_, (_, at)| taken.binary_search(at).is_err());
            for (_, at) in later.ids.values_mut() {
                *at -= taken.partition_point(|t| t < at);
            }
        }
        let offset = self.list.contacts.len();
        self.ids
            .extend(later.ids.into_iter().map(|(k, (mut position, at))| {
                position.entry += entries_before;
                (k, (position, at + offset))
            }));
        if self.list.contacts.is_empty() {
            // Taken whole, with the room it has for what follows.
            std::mem::swap(&mut self.list.contacts, &mut later.list.contacts);
        } else {
            self.list.contacts.append(&mut later.list.contacts);
        }
        self.list.skipped_count += later.list.skipped_count;
        let room = MAX_SKIPPED_KEPT.saturating_sub(self.list.skipped.len());
        self.list
            .skipped
            .extend(later.list.skipped.into_iter().take(room).map(|mut s| {
                s.position.entry += entries_before;
                s
            }));
        self.list.warnings.append(&mut later.list.warnings);
        self.photos_left_out += later.photos_left_out;
        let room = PHOTOS_NAMED.saturating_sub(self.photos_left_out_at.len());
        self.photos_left_out_at
            .extend(
                later
                    .photos_left_out_at
                    .into_iter()
                    .take(room)
                    .map(|mut p| {
                        p.entry += entries_before;
                        p
                    }),
            );
    }

    pub fn warn(&mut self, warning: impl Into<String>) {
        self.list.warnings.push(warning.into());
    }

    pub fn set_variant(&mut self, variant: &'static str) {
        self.list.variant = Some(variant);
    }

    pub fn finish(mut self) -> ReadList {
        if self.photos_left_out > 0 {
            let at: Vec<String> = self
                .photos_left_out_at
                .iter()
                .map(|p| p.to_string())
                .collect();
            let more = match self.photos_left_out - at.len() {
                0 => String::new(),
                n => format!(" and {n} more"),
            };
            self.list.warnings.push(format!(
                "{} photo(s) larger than {} KiB left out (the contacts are kept): {}{more}",
                self.photos_left_out,
                (PHOTO_MAX + 1) / 1024,
                at.join(", ")
            ));
        }
        self.list
    }
}

/// Common names one contact may have.
const MAX_COMMON_NAMES: usize = 16;

/// Applies the shared rules to one contact.
fn tidy(c: &mut Contact) -> Result<(), String> {
    for (value, what) in [
        (&mut c.id, "the id"),
        (&mut c.given_name, "the given name"),
        (&mut c.surname, "the surname"),
        (&mut c.display_name, "the name"),
        (&mut c.company, "the company"),
        (&mut c.department, "the department"),
        (&mut c.title, "the title"),
        (&mut c.email, "the email"),
    ] {
        check_value(value, what)?;
    }
    // A long note is a note, not a broken file: it is cut rather than refused.
    let description = c.description.trim();
    if description.len() > MAX_VALUE {
        let mut end = MAX_VALUE;
        while !description.is_char_boundary(end) {
            end -= 1;
        }
        c.description = description[..end].to_string();
    }
    for d in Detail::ALL {
        check_value(c.detail_mut(d), &format!("the {}", d.words()))?;
    }
    c.cn.retain(|v| !v.trim().is_empty());
    if c.cn.len() > MAX_COMMON_NAMES {
        return Err(format!(
            "{} common names; at most {MAX_COMMON_NAMES} are accepted",
            c.cn.len()
        ));
    }
    for v in &mut c.cn {
        check_value(v, "the common name")?;
    }
    c.phones.retain(|p| !p.number.trim().is_empty());
    if c.phones.len() > MAX_PHONES {
        return Err(format!(
            "{} numbers; at most {MAX_PHONES} are accepted",
            c.phones.len()
        ));
    }
    for Phone { number, .. } in &mut c.phones {
        check_value(number, "a number")?;
        if !number.chars().any(|ch| ch.is_ascii_digit()) {
            return Err(format!("number {number:?} has no digit"));
        }
    }
    if !c.is_servable() {
        return Err("neither a name nor a number".to_string());
    }
    Ok(())
}

fn check_value(value: &mut String, what: &str) -> Result<(), String> {
    let trimmed = value.trim();
    if trimmed.len() != value.len() {
        *value = trimmed.to_string();
    }
    if value.len() > MAX_VALUE {
        return Err(format!(
            "{what} is longer than {MAX_VALUE} bytes ({} bytes)",
            value.len()
        ));
    }
    // Plain ASCII text without control characters, the common case, needs no more.
    if value
        .bytes()
        .all(|b| (b' '..0x7f).contains(&b) || b == b'\t')
    {
        return Ok(());
    }
    if value.contains(text::NOT_UTF8) {
        return Err(format!(
            "{what} is not valid UTF-8 (a Latin-1 or Windows-1252 byte in a UTF-8 file?)"
        ));
    }
    if value
        .chars()
        .any(|ch| ch.is_control() && !matches!(ch, '\n' | '\r' | '\t'))
    {
        return Err(format!("{what} holds control characters"));
    }
    Ok(())
}

/// The line (from 1) of the byte at `offset` in `text`, given the offsets of its
/// line ends in order.
pub(crate) fn line_at(newlines: &[usize], offset: usize) -> u64 {
    newlines.partition_point(|nl| *nl < offset) as u64 + 1
}

/// The offsets of every `\n` in `text`.
pub(crate) fn newlines(text: &str) -> Vec<usize> {
    text.bytes()
        .enumerate()
        .filter(|(_, b)| *b == b'\n')
        .map(|(i, _)| i)
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_recognised_from_content_before_name() {
        let cases = [
            ("BEGIN:VCARD\r\nVERSION:3.0\r\n", Format::VCard),
            ("dn: cn=a,dc=x\ncn: a\n", Format::Ldif),
            ("# export\nversion: 1\n\ndn: cn=a\n", Format::Ldif),
            ("[{\"cn\":\"a\"}]", Format::Json),
            ("  {\"contacts\":[]}", Format::Json),
            (
                "<?xml version=\"1.0\"?><YealinkIPPhoneDirectory/>",
                Format::Xml,
            ),
            ("cn,telephoneNumber\na,1\n", Format::Csv),
            ("First Name;Last Name\n", Format::Csv),
        ];
        for (text, want) in cases {
            assert_eq!(detect("list.txt", None, text).unwrap(), want, "{text}");
        }
        assert_eq!(detect("x.vcf", None, "garbage").unwrap(), Format::VCard);
        assert_eq!(
            detect("x", Some("application/json; charset=utf-8"), "garbage").unwrap(),
            Format::Json
        );
    }

    #[test]
    fn what_is_not_a_list_says_what_it_is() {
        assert_eq!(detect("x.csv", None, " \r\n\t"), Err(NotAList::Empty));
        assert_eq!(
            detect(
                "x.csv",
                None,
                "<!DOCTYPE html><html><body>503</body></html>"
            ),
            Err(NotAList::Html)
        );
        assert_eq!(
            detect("x", Some("text/html"), "Service Unavailable"),
            Err(NotAList::Html)
        );
        let secret = "root:$6$hunter2:19000:0:99999:7:::\nbin:*:19000:0:99999:7:::\n";
        let err = detect("shadow", None, secret).unwrap_err();
        assert_eq!(
            err,
            NotAList::Unrecognised {
                bytes: 60,
                lines: 2
            }
        );
        let shown = err.to_string();
        assert!(shown.contains("60 bytes of text in 2 lines"), "{shown}");
        for part in ["root", "hunter2", "19000", "bin"] {
            assert!(!shown.contains(part), "{shown}");
        }
        assert!(matches!(
            read("book.xlsx", None, b"PK\x03\x04\x14\x00\x06\x00"),
            Err(NotAList::Binary(_))
        ));
    }

    #[test]
    fn shared_rules_skip_bad_entries_with_reasons() {
        let mut e = Entries::new();
        let at = |entry| Position {
            entry,
            line: entry as u64,
        };
        let named = |name: &str| Contact {
            display_name: name.into(),
            ..Contact::default()
        };
        e.push(at(1), named("  Ada  "));
        e.push(at(2), named(&"x".repeat(MAX_VALUE + 1)));
        e.push(at(3), named("M\u{fffd}ller"));
        e.push(at(4), Contact::default());
        let mut no_digit = named("Bob");
        no_digit.phones.push(Phone {
            kind: crate::contacts::PhoneKind::Work,
            number: "n/a".into(),
        });
        e.push(at(5), no_digit);
        let list = e.finish();
        assert_eq!(list.contacts.len(), 1);
        assert_eq!(list.contacts[0].display_name, "Ada");
        let reasons: Vec<(usize, &str)> = list
            .skipped
            .iter()
            .map(|s| (s.position.entry, s.reason.as_str()))
            .collect();
        assert_eq!(reasons.len(), 4);
        assert!(reasons[0].1.contains("longer than 1024"));
        assert!(reasons[1].1.contains("not valid UTF-8"));
        assert!(reasons[2].1.contains("neither a name nor a number"));
        assert!(reasons[3].1.contains("no digit"));
        assert_eq!(list.skipped_count, 4);
    }

    /// Every documented sample reads whole, in the format its name says.
    #[test]
    fn every_sample_in_assets_reads_without_a_skip() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/formats");
        let mut seen = 0;
        for file in std::fs::read_dir(&dir).unwrap() {
            let path = file.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            let bytes = std::fs::read(&path).unwrap();
            let list = read(&name, None, &bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(list.format, Format::from_name(&name), "{name}");
            assert!(list.skipped.is_empty(), "{name}: {:?}", list.skipped);
            assert!(list.contacts.len() >= 3, "{name}: {:?}", list.contacts);
            for c in &list.contacts {
                assert!(!c.common_name().is_empty(), "{name}: {c:?}");
                assert!(!c.phones.is_empty(), "{name}: {c:?}");
            }
            seen += 1;
        }
        assert!(seen >= 9, "{seen} samples");
    }
}
