//! Contacts as JSON: an array of contact objects, or an object holding one
//! (`{"contacts": [...]}`).
//!
//! Keys are looked up like CSV columns (`cn`, `givenName`, `firstName`, `company`,
//! `telephoneNumber`, `mobile`, `email`...). A value may be a string, a number, or
//! an array of them (several numbers). Numbers may also come as a list of objects
//! (`"phones": [{"type": "mobile", "number": "+1 555"}]`) or as an object by kind
//! (`"phones": {"work": "+1 555", "mobile": ["+1 556"]}`); a name as an object
//! (`"name": {"first": "Ada", "last": "Lovelace"}`). Entries are read one at a time,
//! so a wrong entry is skipped with its position; a syntax error ends the document
//! and is reported with its line and column.

use super::fields::{Builder, Field, field_of, kind_of_label};
use super::{Entries, Format, NotAList, Position, ReadList, line_at, newlines};
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// Keys of an object that may hold the array of contacts.
const WRAPPERS: [&str; 8] = [
    "contacts",
    "entries",
    "items",
    "data",
    "results",
    "phonebook",
    "directory",
    "records",
];

/// Keys that hold numbers as a list or an object by kind.
const PHONE_LISTS: [&str; 6] = [
    "phones",
    "phonenumbers",
    "numbers",
    "telephones",
    "telephonenumbers",
    "tel",
];

pub fn read(text: &str) -> Result<ReadList, NotAList> {
    let lines = newlines(text);
    let start = array_start(text, &lines)?;
    let mut out = Entries::new();
    let mut ignored = BTreeSet::new();
    let mut pos = start + 1;
    let mut entry = 0;
    loop {
        pos = skip_space(text, pos);
        match text.as_bytes().get(pos) {
            Some(b']') => break,
            None => return Err(truncated("the array of contacts is not closed")),
            _ => {}
        }
        entry += 1;
        let position = Position {
            entry,
            line: line_at(&lines, pos),
        };
        let mut values = serde_json::Deserializer::from_str(&text[pos..]).into_iter::<Value>();
        let value = match values.next() {
            Some(Ok(v)) => v,
            Some(Err(e)) => return Err(syntax(e, text, pos, &lines)),
            None => return Err(truncated("the array of contacts is not closed")),
        };
        pos += values.byte_offset();
        match value {
            Value::Object(object) => {
                out.entry(position, contact_of(&object, &mut ignored));
            }
            other => out.skip(
                position,
                format!("{} is not a contact object", kind(&other)),
            ),
        }
        pos = skip_space(text, pos);
        match text.as_bytes().get(pos) {
            Some(b',') => pos += 1,
            Some(b']') => break,
            None => return Err(truncated("the array of contacts is not closed")),
            Some(_) => {
                return Err(broken(format!(
                    "line {}: expected , or ] after an entry",
                    line_at(&lines, pos)
                )));
            }
        }
    }
    if !ignored.is_empty() {
        let shown: Vec<&str> = ignored.iter().take(8).map(String::as_str).collect();
        out.warn(format!("ignored keys: {}", shown.join(", ")));
    }
    Ok(out.finish())
}

fn truncated(reason: &str) -> NotAList {
    NotAList::Truncated {
        format: Format::Json,
        reason: reason.to_string(),
    }
}

fn broken(reason: String) -> NotAList {
    NotAList::Broken {
        format: Format::Json,
        reason,
    }
}

fn syntax(e: serde_json::Error, text: &str, pos: usize, lines: &[usize]) -> NotAList {
    if e.is_eof() {
        return truncated(&format!("it ends inside an entry ({e})"));
    }
    // The error's line and column count from `pos`: make them the document's.
    let base_line = line_at(lines, pos);
    let line = base_line + e.line() as u64 - 1;
    let column = if e.line() == 1 {
        let line_start = text[..pos].rfind('\n').map_or(0, |i| i + 1);
        pos - line_start + e.column()
    } else {
        e.column()
    };
    let message = e.to_string();
    let message = message.split(" at line ").next().unwrap_or(&message);
    broken(format!("line {line} column {column}: {message}"))
}

fn skip_space(text: &str, mut pos: usize) -> usize {
    while text
        .as_bytes()
        .get(pos)
        .is_some_and(u8::is_ascii_whitespace)
    {
        pos += 1;
    }
    pos
}

/// Where the array of contacts opens: at the start, or as the value of a
/// wrapper key of a top-level object.
fn array_start(text: &str, lines: &[usize]) -> Result<usize, NotAList> {
    let pos = skip_space(text, text.find(|c: char| c != '\u{feff}').unwrap_or(0));
    match text.as_bytes().get(pos) {
        Some(b'[') => return Ok(pos),
        Some(b'{') => {}
        None => return Err(NotAList::Empty),
        Some(_) => return Err(broken("expected an array of contacts".to_string())),
    }
    // An object: find its wrapper key. Objects other than the wrapped array are
    // small (metadata); the whole document is not parsed twice.
    let mut keys = Vec::new();
    let mut at = pos + 1;
    loop {
        at = skip_space(text, at);
        match text.as_bytes().get(at) {
            Some(b'"') => {}
            Some(b'}') | None => break,
            Some(_) => {
                return Err(broken(format!(
                    "line {}: expected a key",
                    line_at(lines, at)
                )));
            }
        }
        let mut stream = serde_json::Deserializer::from_str(&text[at..]).into_iter::<String>();
        let key = match stream.next() {
            Some(Ok(k)) => k,
            Some(Err(e)) => return Err(syntax(e, text, at, lines)),
            None => return Err(truncated("it ends inside the top-level object")),
        };
        at = skip_space(text, at + stream.byte_offset());
        if text.as_bytes().get(at) != Some(&b':') {
            return Err(broken(format!(
                "line {}: expected : after {key:?}",
                line_at(lines, at)
            )));
        }
        at = skip_space(text, at + 1);
        if WRAPPERS.contains(&key.to_ascii_lowercase().as_str())
            && text.as_bytes().get(at) == Some(&b'[')
        {
            return Ok(at);
        }
        keys.push(key);
        let mut values = serde_json::de::Deserializer::from_str(&text[at..])
            .into_iter::<serde::de::IgnoredAny>();
        match values.next() {
            Some(Ok(_)) => at = skip_space(text, at + values.byte_offset()),
            Some(Err(e)) => return Err(syntax(e, text, at, lines)),
            None => return Err(truncated("it ends inside the top-level object")),
        }
        if text.as_bytes().get(at) == Some(&b',') {
            at += 1;
        }
    }
    Err(broken(format!(
        "an object without an array of contacts (keys: {}); expected an array, or one under {}",
        keys.join(", "),
        WRAPPERS.join(", ")
    )))
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A scalar as text: strings as they are, numbers written out.
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn contact_of(
    object: &Map<String, Value>,
    ignored: &mut BTreeSet<String>,
) -> Result<super::Contact, String> {
    let mut b = Builder::default();
    for (key, value) in object {
        let lower = super::fields::key_of(key);
        if PHONE_LISTS.contains(&lower.as_str()) {
            phones(&mut b, key, value)?;
            continue;
        }
        if let (Some("name" | "fullname"), Value::Object(parts)) = (Some(lower.as_str()), value) {
            for (k, v) in parts {
                let field = match super::fields::key_of(k).as_str() {
                    "first" | "given" | "givenname" | "firstname" => Field::Given,
                    "last" | "family" | "familyname" | "lastname" | "surname" => Field::Surname,
                    "display" | "displayname" | "full" | "formatted" => Field::Display,
                    _ => continue,
                };
                if let Some(s) = scalar(v) {
                    b.set(field, &s);
                }
            }
            continue;
        }
        // An address as an object: `{"street": ..., "city": ..., "postalCode": ...}`.
        if let (Some("address" | "workaddress" | "businessaddress"), Value::Object(parts)) =
            (Some(lower.as_str()), value)
        {
            for (k, v) in parts {
                if let (Some(field @ Field::Detail(_)), Some(s)) = (field_of(k), scalar(v)) {
                    b.set(field, &s);
                }
            }
            continue;
        }
        let Some(field) = field_of(key) else {
            if ignored.len() < 64 {
                ignored.insert(key.clone());
            }
            continue;
        };
        match value {
            Value::Null => {}
            Value::String(_) | Value::Number(_) => {
                b.set(field, &scalar(value).unwrap_or_default());
            }
            Value::Array(items) => {
                for item in items {
                    let Some(s) = scalar(item) else {
                        return Err(format!("{key:?} holds {} in its list", kind(item)));
                    };
                    b.set(field, &s);
                }
            }
            other => return Err(format!("{key:?} is {}, not text", kind(other))),
        }
    }
    Ok(b.finish())
}

/// `[{"type": "mobile", "number": "..."}]`, `["..."]` or `{"work": "...", ...}`.
fn phones(b: &mut Builder, key: &str, value: &Value) -> Result<(), String> {
    match value {
        Value::Null => {}
        Value::Array(items) => {
            for item in items {
                match item {
                    Value::Object(p) => {
                        let get = |names: &[&str]| {
                            p.iter()
                                .find(|(k, _)| names.contains(&k.to_ascii_lowercase().as_str()))
                                .and_then(|(_, v)| scalar(v))
                        };
                        let number = get(&["number", "value", "phone", "tel", "telephone"])
                            .ok_or_else(|| format!("an entry of {key:?} has no number"))?;
                        let label = get(&["type", "label", "kind"]).unwrap_or_default();
                        b.add_numbers(kind_of_label(&label), &number);
                    }
                    other => match scalar(other) {
                        Some(number) => b.add_numbers(kind_of_label(""), &number),
                        None => return Err(format!("{key:?} holds {}", kind(other))),
                    },
                }
            }
        }
        Value::Object(by_kind) => {
            for (label, v) in by_kind {
                let kind = field_of(label)
                    .and_then(|f| match f {
                        Field::Number(k) => Some(k),
                        _ => None,
                    })
                    .unwrap_or_else(|| kind_of_label(label));
                match v {
                    Value::Array(items) => {
                        for n in items.iter().filter_map(scalar) {
                            b.add_numbers(kind, &n);
                        }
                    }
                    v => {
                        if let Some(n) = scalar(v) {
                            b.add_numbers(kind, &n);
                        }
                    }
                }
            }
        }
        other => match scalar(other) {
            Some(number) => b.add_numbers(kind_of_label(""), &number),
            None => return Err(format!("{key:?} is {}", kind(other))),
        },
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::contacts::PhoneKind;

    #[test]
    fn arrays_wrappers_and_shapes() {
        let text = r#"{"version": 2, "meta": {"source": "crm", "n": [1, 2]}, "contacts": [
            {"uid": "c1", "givenName": "Ada", "sn": "Lovelace", "telephoneNumber": "+44 20 1",
             "mobile": ["+44 77 1", "+44 77 2"], "mail": "ada@x.org", "avatar": "x.png"},
            {"id": 42, "name": {"first": "Grace", "last": "Hopper"}, "company": "Navy",
             "phones": [{"type": "Work Fax", "number": "+1 555 9"}, {"label": "cell", "value": "+1 555 1"}]},
            {"displayName": "Reception", "phoneNumbers": {"work": "100", "mobile": ["+1 2"]}}
        ]}"#;
        let list = read(text).unwrap();
        assert!(list.skipped.is_empty(), "{:?}", list.skipped);
        assert_eq!(list.contacts.len(), 3);
        let (ada, grace, reception) = (&list.contacts[0], &list.contacts[1], &list.contacts[2]);
        assert_eq!(ada.id, "c1");
        assert_eq!(ada.numbers(PhoneKind::Mobile).count(), 2);
        assert_eq!(grace.id, "42");
        assert_eq!(grace.surname, "Hopper");
        assert_eq!(
            grace.numbers(PhoneKind::Fax).collect::<Vec<_>>(),
            ["+1 555 9"]
        );
        assert_eq!(
            reception.numbers(PhoneKind::Work).collect::<Vec<_>>(),
            ["100"]
        );
        assert!(list.warnings[0].contains("avatar"));
    }

    #[test]
    fn wrong_entries_are_skipped_and_syntax_errors_located() {
        let text = "[\n {\"cn\": \"One\", \"telephoneNumber\": \"1\"},\n 42,\n {\"cn\": {\"x\": 1}},\n {\"cn\": \"Four\"}\n]";
        let list = read(text).unwrap();
        assert_eq!(list.contacts.len(), 2);
        let skipped: Vec<(usize, u64)> = list
            .skipped
            .iter()
            .map(|s| (s.position.entry, s.position.line))
            .collect();
        assert_eq!(skipped, [(2, 3), (3, 4)]);
        assert!(list.skipped[1].reason.contains("\"cn\" is an object"));

        let err = read("[\n {\"cn\": \"One\"},\n {\"cn\" \"Two\"}\n]").unwrap_err();
        assert!(err.to_string().contains("line 3 column 8"), "{err}");
        let cut = read("[{\"cn\": \"One\"}, {\"cn\": \"Tw").unwrap_err();
        assert!(matches!(cut, NotAList::Truncated { .. }), "{cut}");
        assert!(matches!(
            read("[{\"cn\": \"One\"},"),
            Err(NotAList::Truncated { .. })
        ));
        let deep = format!("[{}{}]", "[".repeat(10_000), "]".repeat(10_000));
        assert!(matches!(read(&deep), Err(NotAList::Broken { .. })));
        let no_array = read("{\"a\": 1}").unwrap_err();
        assert!(no_array.to_string().contains("keys: a"), "{no_array}");
    }
}
