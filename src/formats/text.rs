//! Turning a document's bytes into text.
//!
//! UTF-8 (with or without BOM) is read as is; UTF-16 needs its BOM (as Outlook's
//! "Unicode" exports have). A document that is not UTF-8 and holds no UTF-8
//! sequence at all is an 8-bit export (Windows-1252, a superset of Latin-1) and is
//! read as such, with a warning. A UTF-8 document with a few stray 8-bit bytes
//! keeps them as [`NOT_UTF8`], so that the entries holding them are skipped with
//! their position instead of being served garbled.

use super::NotAList;
use std::borrow::Cow;

/// What a byte that is not UTF-8 becomes in a UTF-8 document.
pub const NOT_UTF8: char = char::REPLACEMENT_CHARACTER;

pub struct Decoded<'a> {
    pub text: Cow<'a, str>,
    pub warning: Option<String>,
}

pub fn decode(bytes: &[u8]) -> Result<Decoded<'_>, NotAList> {
    if let Some(kind) = binary_kind(bytes) {
        return Err(NotAList::Binary(kind));
    }
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    if let Some((encoding, _)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, _, malformed) = encoding.decode(bytes);
        return Ok(Decoded {
            text,
            warning: malformed.then(|| format!("the {} text has malformed bytes", encoding.name())),
        });
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(Decoded {
            text: Cow::Borrowed(text),
            warning: None,
        });
    }
    if bytes.contains(&0) {
        return Err(NotAList::Binary("a binary file"));
    }
    let utf8_sequences = bytes.utf8_chunks().any(|chunk| !chunk.valid().is_ascii());
    if utf8_sequences {
        return Ok(Decoded {
            text: String::from_utf8_lossy(bytes),
            warning: Some(
                "the document mixes UTF-8 with bytes that are not UTF-8; entries holding them are skipped"
                    .to_string(),
            ),
        });
    }
    let (text, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
    Ok(Decoded {
        text,
        warning: Some("the document is not UTF-8: read as Windows-1252 (Latin-1)".to_string()),
    })
}

/// What a binary document is, from its first bytes.
fn binary_kind(bytes: &[u8]) -> Option<&'static str> {
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    if starts(b"PK\x03\x04") {
        Some("a zip archive (an Excel or OpenDocument spreadsheet?)")
    } else if starts(b"\xd0\xcf\x11\xe0") {
        Some("an Office document (an old Excel workbook?)")
    } else if starts(b"%PDF") {
        Some("a PDF document")
    } else if starts(b"\x1f\x8b") {
        Some("a gzip archive")
    } else if starts(b"SQLite format 3\0") {
        Some("an SQLite database")
    } else {
        None
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn encodings() {
        let utf8 = decode("\u{feff}Jürgen".as_bytes()).unwrap();
        assert_eq!(utf8.text, "Jürgen");
        assert!(utf8.warning.is_none());

        let latin1 = decode(b"J\xfcrgen;M\xfcller \x80").unwrap();
        assert_eq!(latin1.text, "Jürgen;Müller €");
        assert!(latin1.warning.unwrap().contains("Windows-1252"));

        let mut bytes = "Jürgen\n".as_bytes().to_vec();
        bytes.extend_from_slice(b"M\xfcller");
        let mixed = decode(&bytes).unwrap();
        assert_eq!(mixed.text, "Jürgen\nM\u{fffd}ller");
        assert!(mixed.warning.is_some());

        let mut utf16 = vec![0xff, 0xfe];
        for u in "Zoë".encode_utf16() {
            utf16.extend_from_slice(&u.to_le_bytes());
        }
        assert_eq!(decode(&utf16).unwrap().text, "Zoë");
    }
}
