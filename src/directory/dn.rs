//! Distinguished names as far as a flat phone book needs them.

use std::borrow::Cow;

/// Normalises a DN for comparison: attribute names and values case-folded, spaces
/// around separators dropped (`UID=a, DC=x` equals `uid=a,dc=x`). Escaped commas
/// stay inside their value.
pub fn normalize(dn: &str) -> String {
    split_rdns(dn)
        .iter()
        .map(|rdn| match rdn.split_once('=') {
            Some((a, v)) => format!("{}={}", a.trim().to_lowercase(), v.trim().to_lowercase()),
            None => rdn.trim().to_lowercase(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// `normalize(dn)`, without allocating when `dn` is already normal, as the base
/// phones send usually is: printable ASCII without spaces or capitals.
pub fn normalized(dn: &str) -> Cow<'_, str> {
    if dn
        .bytes()
        .all(|b| b.is_ascii_graphic() && !b.is_ascii_uppercase())
    {
        Cow::Borrowed(dn)
    } else {
        Cow::Owned(normalize(dn))
    }
}

/// Splits a DN at unescaped commas.
fn split_rdns(dn: &str) -> Vec<&str> {
    if dn.trim().is_empty() {
        return Vec::new();
    }
    split_unescaped(dn, ',')
}

/// Splits `s` at each `sep` that is not escaped with a backslash.
fn split_unescaped(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            c if c == sep => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

/// Where a normalised DN sits relative to the normalised base.
#[derive(Debug, PartialEq, Eq)]
pub enum Place<'a> {
    Base,
    /// A direct child `uid=<value>` (the value still escaped as in the DN).
    Child(&'a str),
    /// Under the base, but not an entry a phone book has.
    Under,
    Outside,
}

pub fn place<'a>(norm: &'a str, base_norm: &str) -> Place<'a> {
    if norm == base_norm {
        return Place::Base;
    }
    let Some(rdn) = norm
        .strip_suffix(base_norm)
        .and_then(|head| head.strip_suffix(','))
    else {
        return Place::Outside;
    };
    match rdn.strip_prefix("uid=") {
        Some(uid) if split_rdns(rdn).len() == 1 => Place::Child(uid),
        _ => Place::Under,
    }
}

/// The attribute value assertions of a DN, in order: each attribute name
/// lowercased, each value unescaped (`dc=phonebook,dc=local` gives `dc`
/// `phonebook` and `dc` `local`). Multi-valued RDNs (`+`) give each of theirs.
pub fn avas(dn: &str) -> Vec<(String, String)> {
    split_rdns(dn)
        .iter()
        .flat_map(|rdn| split_unescaped(rdn, '+'))
        .filter_map(|ava| {
            let (a, v) = ava.split_once('=')?;
            Some((a.trim().to_ascii_lowercase(), unescape(v.trim())))
        })
        .collect()
}

/// Undoes RFC 4514 escapes in an attribute value (`\,` and `\2C` both give `,`).
pub fn unescape(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 1 < bytes.len() {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            match hex {
                Some(b) => {
                    out.push(b);
                    i += 3;
                }
                None => {
                    out.push(bytes[i + 1]);
                    i += 2;
                }
            }
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn avas_are_read_in_order_with_their_escapes_undone() {
        assert_eq!(
            avas("OU=Sales\\, East+l=Paris, dc=acme"),
            [
                ("ou".to_string(), "Sales, East".to_string()),
                ("l".to_string(), "Paris".to_string()),
                ("dc".to_string(), "acme".to_string()),
            ]
        );
        assert!(avas("").is_empty());
    }

    #[test]
    fn normalizes_case_and_spaces() {
        assert_eq!(
            normalize("UID=Ab, DC=Phonebook ,dc=local"),
            "uid=ab,dc=phonebook,dc=local"
        );
        assert_eq!(normalize(""), "");
        assert_eq!(normalize("cn=a\\,b,dc=x"), "cn=a\\,b,dc=x");
    }

    #[test]
    fn a_normal_dn_is_taken_as_it_is_and_any_other_is_normalised() {
        for dn in [
            "dc=phonebook,dc=local",
            "uid=a\\,b,dc=x",
            "uid=x,,dc=y",
            "",
            "DC=Phonebook,dc=local",
            " dc=x",
            "uid=Ünal,dc=x",
            "ou=a b,dc=x",
        ] {
            assert_eq!(normalized(dn), normalize(dn), "{dn:?}");
        }
        assert!(matches!(normalized("dc=x,dc=y"), Cow::Borrowed(_)));
    }

    #[test]
    fn places_dns_relative_to_base() {
        let base = "dc=phonebook,dc=local";
        assert_eq!(place(base, base), Place::Base);
        assert_eq!(
            place("uid=int-1,dc=phonebook,dc=local", base),
            Place::Child("int-1")
        );
        assert_eq!(place("cn=x,dc=phonebook,dc=local", base), Place::Under);
        assert_eq!(
            place("uid=a,ou=b,dc=phonebook,dc=local", base),
            Place::Under
        );
        assert_eq!(place("dc=local", base), Place::Outside);
        assert_eq!(place("dc=otherphonebook,dc=local", base), Place::Outside);
    }

    #[test]
    fn unescapes_values() {
        assert_eq!(unescape("a\\,b"), "a,b");
        assert_eq!(unescape("a\\2Cb"), "a,b");
        assert_eq!(unescape("plain"), "plain");
    }
}
