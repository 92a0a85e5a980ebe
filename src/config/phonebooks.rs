//! `[[phonebooks]]`: more phone books served beside the main one (`[ldap] base_dn`),
//! each under its own base DN and made of some of the sources: the lobby phones see
//! the internal extensions only, the sales phones the CRM list too, a second company
//! its own contacts.

use super::sources::check_dn;
use crate::directory::dn;
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhonebookSettings {
    pub name: String,
    pub base_dn: String,
    /// Source names as configured: `int` (the internal contacts), `ext` (the
    /// external ones) or a directory source's name.
    pub sources: Vec<String>,
    /// A phone that binds as this DN (with the password in `password_file`) sees
    /// this phone book only; empty: any phone may search it, as the main one.
    pub bind_dn: String,
    pub password_file: PathBuf,
    /// The most entries a search returns; None: `[ldap] size_limit`.
    pub size_limit: Option<u32>,
}

/// The default password file of a phone book.
pub fn default_password_file(name: &str) -> String {
    format!("secrets/phonebooks/{name}.password")
}

const KEYS: [&str; 6] = [
    "name",
    "base_dn",
    "sources",
    "bind_dn",
    "password_file",
    "size_limit",
];

/// Reads `[[phonebooks]]`; `main_base` is `[ldap] base_dn`, which no phone book may
/// share or lie under. `bad(label, key, value, accepted)` makes the error.
pub fn parse_all<E>(
    items: &[toml::Value],
    main_base: &str,
    bad: impl Fn(&str, &str, String, &str) -> E,
) -> Result<Vec<PhonebookSettings>, E> {
    let mut out: Vec<PhonebookSettings> = Vec::new();
    let mut bases = vec![dn::normalize(main_base)];
    for (i, item) in items.iter().enumerate() {
        let label = item
            .get("name")
            .and_then(toml::Value::as_str)
            .map_or_else(|| format!("#{}", i + 1), str::to_string);
        let bad = |key: &str, value: String, accepted: &str| bad(&label, key, value, accepted);
        let Some(t) = item.as_table() else {
            return Err(bad("", item.to_string(), "a [[phonebooks]] table"));
        };
        if let Some(key) = t.keys().find(|k| !KEYS.contains(&k.as_str())) {
            let accepted = format!("one of the keys {}", KEYS.join(", "));
            return Err(bad(key, "(unknown key)".into(), &accepted));
        }
        let string = |key: &str| -> Result<String, E> {
            match t.get(key) {
                None => Ok(String::new()),
                Some(toml::Value::String(s)) => Ok(s.trim().to_string()),
                Some(v) => Err(bad(key, v.to_string(), "a string in double quotes")),
            }
        };
        let name = string("name")?;
        super::sources::check_name(&name)
            .or_else(|why| match name.as_str() {
                // A phone book may be named after the internal or external contacts.
                "int" | "ext" => Ok(()),
                _ => Err(why),
            })
            .map_err(|why| bad("name", format!("{name:?}"), &why))?;
        if out.iter().any(|o| o.name == name) {
            return Err(bad("name", format!("{name:?}"), "each name once"));
        }
        let base_dn = string("base_dn")?;
        check_dn(&base_dn, false).map_err(|why| bad("base_dn", format!("{base_dn:?}"), &why))?;
        let norm = dn::normalize(&base_dn);
        if let Some(other) = bases.iter().find(|b| {
            **b == norm || norm.ends_with(&format!(",{b}")) || b.ends_with(&format!(",{norm}"))
        }) {
            return Err(bad(
                "base_dn",
                format!("{base_dn:?}"),
                &format!(
                    "a base DN apart from every other phone book's (this one meets {other:?}): \
                     neither the same nor one under the other"
                ),
            ));
        }
        bases.push(norm);
        let sources = match t.get("sources") {
            Some(toml::Value::Array(list)) if !list.is_empty() => list
                .iter()
                .map(|v| v.as_str().map(|s| s.trim().to_string()))
                .collect::<Option<Vec<String>>>(),
            _ => None,
        }
        .ok_or_else(|| {
            let value = t.get("sources").map_or("(none)".into(), |v| v.to_string());
            bad(
                "sources",
                value,
                "a list of sources such as [\"int\"] or [\"int\", \"ext\", \"crm\"] \
                 (int: internal contacts, ext: external, or a directory source's name)",
            )
        })?;
        let bind_dn = string("bind_dn")?;
        check_dn(&bind_dn, true).map_err(|why| bad("bind_dn", format!("{bind_dn:?}"), &why))?;
        let password_file = match string("password_file")? {
            f if f.is_empty() => default_password_file(&name),
            f => f,
        };
        let size_limit = match t.get("size_limit") {
            None => None,
            Some(toml::Value::Integer(n)) if (1..=1_000_000).contains(n) => Some(*n as u32),
            Some(v) => {
                return Err(bad(
                    "size_limit",
                    v.to_string(),
                    "a whole number from 1 to 1000000",
                ));
            }
        };
        out.push(PhonebookSettings {
            name,
            base_dn,
            sources,
            bind_dn,
            password_file: PathBuf::from(password_file),
            size_limit,
        });
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<PhonebookSettings>, String> {
        let table: toml::Table = text.parse().unwrap();
        let items = table["phonebooks"].as_array().unwrap().clone();
        parse_all(
            &items,
            "dc=phonebook,dc=local",
            |label, key, value, accepted| format!("{label} {key} {value}: {accepted}"),
        )
    }

    #[test]
    fn reads_phone_books_and_refuses_what_cannot_be_served() {
        let books = parse(
            "[[phonebooks]]\nname = \"lobby\"\nbase_dn = \"dc=lobby,dc=local\"\nsources = [\"int\"]\n\
             [[phonebooks]]\nname = \"sales\"\nbase_dn = \"dc=sales,dc=local\"\nsources = [\"int\", \"ext\", \"crm\"]\n\
             bind_dn = \"cn=sales,dc=sales,dc=local\"\nsize_limit = 20\n",
        )
        .unwrap();
        assert_eq!(books[0].sources, ["int"]);
        assert_eq!(books[1].sources, ["int", "ext", "crm"]);
        assert_eq!(
            books[1].password_file,
            PathBuf::from("secrets/phonebooks/sales.password")
        );
        assert_eq!((books[0].size_limit, books[1].size_limit), (None, Some(20)));

        let one = |body: &str| parse(&format!("[[phonebooks]]\n{body}")).unwrap_err();
        let e = one("name = \"a\"\nbase_dn = \"ou=x,dc=phonebook,dc=local\"\nsources = [\"int\"]");
        assert!(e.contains("apart from every other"), "{e}");
        let e = one("name = \"a\"\nbase_dn = \"dc=a\"\nsources = []");
        assert!(e.contains("a list of sources"), "{e}");
        let e = one("name = \"A b\"\nbase_dn = \"dc=a\"\nsources = [\"int\"]");
        assert!(e.contains("name"), "{e}");
        let e = one("name = \"a\"\nbase_dn = \"dc=a\"\nsources = [\"int\"]\nsize = 3");
        assert!(e.contains("unknown key"), "{e}");
        let e = parse(
            "[[phonebooks]]\nname = \"a\"\nbase_dn = \"dc=a\"\nsources = [\"int\"]\n\
             [[phonebooks]]\nname = \"b\"\nbase_dn = \"DC=A\"\nsources = [\"int\"]\n",
        )
        .unwrap_err();
        assert!(e.contains("apart from every other"), "{e}");
    }
}
