//! The settings of one directory source (`[[sources]]` in config.toml), parsed
//! and checked where they enter: each error names the key, the value and what
//! would be accepted.

use super::attribute_mapping::{self as mapping, Mapping, Preset};
use crate::formats::fields::Field;
use std::path::PathBuf;
use std::time::Duration;

/// Where under the base DN the search looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The whole subtree.
    Sub,
    /// The entries right under the base DN.
    One,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Sub => "sub",
            Scope::One => "one",
        }
    }

    pub fn parse(s: &str) -> Result<Scope, String> {
        match s.trim() {
            "sub" => Ok(Scope::Sub),
            "one" => Ok(Scope::One),
            _ => Err("\"sub\" (the whole subtree) or \"one\" (one level)".to_string()),
        }
    }
}

/// What happens to a contact whose entry is gone from the directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Removed at the next sync.
    Remove,
    /// Kept as it was last seen.
    Keep,
    /// Removed once not seen for this many hours.
    Age(u32),
}

impl Policy {
    pub fn parse(s: &str) -> Result<Policy, String> {
        let accepted = "\"remove\", \"keep\" or \"age:HOURS\" (such as \"age:72\", 1 to 87600)";
        match s.trim() {
            "remove" => Ok(Policy::Remove),
            "keep" => Ok(Policy::Keep),
            other => other
                .strip_prefix("age:")
                .and_then(|h| h.trim().parse::<u32>().ok())
                .filter(|h| (1..=87_600).contains(h))
                .map(Policy::Age)
                .ok_or_else(|| accepted.to_string()),
        }
    }
}

impl std::fmt::Display for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Policy::Remove => f.write_str("remove"),
            Policy::Keep => f.write_str("keep"),
            Policy::Age(h) => write!(f, "age:{h}"),
        }
    }
}

/// One directory source.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceSettings {
    /// Names the source in commands and jobs, and prefixes its contacts' uids.
    pub name: String,
    /// `ldap://host:port` or `ldaps://host:port`.
    pub uri: String,
    pub starttls: bool,
    /// CA certificate (PEM) to trust; none: the system's roots.
    pub ca_file: Option<PathBuf>,
    /// Accept any certificate: for tests against a lab server only.
    pub skip_verify: bool,
    /// Empty: an anonymous bind.
    pub bind_dn: String,
    /// The bind password's file (mode 0600), relative to the home.
    pub password_file: PathBuf,
    pub base_dn: String,
    pub scope: Scope,
    pub filter: String,
    /// Entries per page; 0: one search without paging.
    pub page_size: u32,
    pub preset: Preset,
    pub mapping: Mapping,
    pub priority: i32,
    /// Empty: synced on demand only.
    pub cron: crate::schedule::Cron,
    pub policy: Policy,
    pub timeout: Duration,
}

/// What a source that does not say otherwise gets.
pub const DEFAULT_PRESET: Preset = Preset::OpenLdap;
pub const DEFAULT_SCOPE: Scope = Scope::Sub;
pub const DEFAULT_POLICY: Policy = Policy::Remove;
pub const DEFAULT_PAGE_SIZE: u32 = 1000;
pub const DEFAULT_PRIORITY: i32 = 30;

/// Names the sources may not take: the merge's own sources.
const RESERVED: [&str; 2] = ["int", "ext"];

/// Whether a source name is accepted; says what is otherwise. No hyphen: it
/// separates the source from the id in a contact's uid (`corp-1000`), so that two
/// sources' uids can never be equal (`corp` + `int-1000` and `corp-int` + `1000`).
pub fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 32
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !ok {
        return Err(
            "a name of 1 to 32 lowercase letters, digits and underscores, starting with a \
             letter (no hyphen: it separates the source from the id in uids)"
                .to_string(),
        );
    }
    if RESERVED.contains(&name) {
        return Err(format!(
            "a name other than {} (the internal and external contacts)",
            RESERVED.join(" and ")
        ));
    }
    Ok(())
}

/// Whether the URI is one a source can connect to.
pub fn check_uri(uri: &str) -> Result<(), String> {
    let accepted = "ldap://HOST[:PORT] or ldaps://HOST[:PORT]";
    let parsed = url::Url::parse(uri.trim()).map_err(|_| accepted.to_string())?;
    if !matches!(parsed.scheme(), "ldap" | "ldaps") || parsed.host_str().is_none() {
        return Err(accepted.to_string());
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("a URI without user:password@; use --bind-dn and --password-file".to_string());
    }
    Ok(())
}

/// Whether a DN has the shape `attr=value,...`.
pub fn check_dn(dn: &str, may_be_empty: bool) -> Result<(), String> {
    if dn.trim().is_empty() && may_be_empty {
        return Ok(());
    }
    let ok = !dn.trim().is_empty()
        && dn.split(',').all(|rdn| {
            rdn.split_once('=')
                .is_some_and(|(a, v)| !a.trim().is_empty() && !v.trim().is_empty())
        });
    if ok {
        Ok(())
    } else {
        Err("a DN such as \"ou=people,dc=example,dc=org\"".to_string())
    }
}

/// Whether a search filter is well formed (RFC 4515).
pub fn check_filter(filter: &str) -> Result<(), String> {
    let f = filter.trim();
    if !f.starts_with('(') || ldap3::parse_filter(f).is_err() {
        return Err(
            "an LDAP filter in parentheses, such as \"(objectClass=person)\" or \"(&(objectClass=user)(ipPhone=*))\""
                .to_string(),
        );
    }
    Ok(())
}

/// The `[[sources]]` table named `name` in a config being edited.
pub fn table_mut<'a>(
    doc: &'a mut toml_edit::DocumentMut,
    name: &str,
) -> Option<&'a mut toml_edit::Table> {
    doc.get_mut("sources")
        .and_then(toml_edit::Item::as_array_of_tables_mut)?
        .iter_mut()
        .find(|t| t.get("name").and_then(toml_edit::Item::as_str) == Some(name))
}

/// Appends a `[[sources]]` table named `name` to a config being edited, and
/// returns it to be filled.
pub fn add_table<'a>(
    doc: &'a mut toml_edit::DocumentMut,
    name: &str,
) -> Option<&'a mut toml_edit::Table> {
    use toml_edit::{ArrayOfTables, Item, Table};
    if doc.get("sources").is_none() {
        doc.insert("sources", Item::ArrayOfTables(ArrayOfTables::new()));
    }
    let first = {
        let list = doc
            .get_mut("sources")
            .and_then(Item::as_array_of_tables_mut)?;
        let mut t = Table::new();
        t.insert("name", toml_edit::value(name));
        list.push(t);
        list.len() == 1
    };
    // The template's comments on sources end the file: they stay above the first
    // source rather than below it.
    if first {
        let comments = doc.trailing().as_str().unwrap_or_default().to_string();
        doc.set_trailing("");
        if let Some(t) = table_mut(doc, name) {
            t.decor_mut().set_prefix(comments);
        }
    }
    table_mut(doc, name)
}

/// Removes the `[[sources]]` table named `name` from a config being edited.
pub fn remove_table(doc: &mut toml_edit::DocumentMut, name: &str) {
    if let Some(list) = doc
        .get_mut("sources")
        .and_then(toml_edit::Item::as_array_of_tables_mut)
    {
        list.retain(|t| t.get("name").and_then(toml_edit::Item::as_str) != Some(name));
    }
}

/// The default password file of a source.
pub fn default_password_file(name: &str) -> String {
    format!("secrets/sources/{name}.password")
}

/// Reads `[[sources]]` entries; `bad(index, key, value, accepted)` makes the error.
pub fn parse_all<E>(
    items: &[toml::Value],
    bad: impl Fn(&str, &str, String, &str) -> E,
) -> Result<Vec<SourceSettings>, E> {
    let mut out: Vec<SourceSettings> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let Some(table) = item.as_table() else {
            return Err(bad(
                &format!("#{}", i + 1),
                "",
                item.to_string(),
                "a [[sources]] table",
            ));
        };
        let name = table
            .get("name")
            .and_then(toml::Value::as_str)
            .unwrap_or_default()
            .to_string();
        let label = if name.is_empty() {
            format!("#{}", i + 1)
        } else {
            name.clone()
        };
        let s = parse_one(table, &|key: &str, value: String, accepted: &str| {
            bad(&label, key, value, accepted)
        })?;
        if out.iter().any(|o| o.name == s.name) {
            return Err(bad(&label, "name", quoted(&s.name), "each name once"));
        }
        out.push(s);
    }
    Ok(out)
}

fn quoted(s: &str) -> String {
    format!("{s:?}")
}

const KEYS: [&str; 17] = [
    "name",
    "uri",
    "starttls",
    "ca_file",
    "insecure_skip_verify",
    "bind_dn",
    "password_file",
    "base_dn",
    "scope",
    "filter",
    "page_size",
    "preset",
    "mapping",
    "priority",
    "cron",
    "policy",
    "timeout",
];

fn parse_one<E>(
    t: &toml::Table,
    bad: &dyn Fn(&str, String, &str) -> E,
) -> Result<SourceSettings, E> {
    for key in t.keys() {
        if !KEYS.contains(&key.as_str()) {
            return Err(bad(
                key,
                "(unknown key)".to_string(),
                &format!("one of the keys {}", KEYS.join(", ")),
            ));
        }
    }
    let string = |key: &str, default: &str| -> Result<String, E> {
        match t.get(key) {
            None => Ok(default.to_string()),
            Some(toml::Value::String(s)) => Ok(s.trim().to_string()),
            Some(v) => Err(bad(key, v.to_string(), "a string in double quotes")),
        }
    };
    let boolean = |key: &str| -> Result<bool, E> {
        match t.get(key) {
            None => Ok(false),
            Some(toml::Value::Boolean(b)) => Ok(*b),
            Some(v) => Err(bad(key, v.to_string(), "true or false")),
        }
    };
    let int = |key: &str, default: i64, min: i64, max: i64| -> Result<i64, E> {
        match t.get(key) {
            None => Ok(default),
            Some(toml::Value::Integer(n)) if (min..=max).contains(n) => Ok(*n),
            Some(v) => Err(bad(
                key,
                v.to_string(),
                &format!("a whole number from {min} to {max}"),
            )),
        }
    };
    let checked = |key: &str, value: String, check: &dyn Fn(&str) -> Result<(), String>| {
        check(&value).map_err(|why| bad(key, quoted(&value), &why))?;
        Ok(value)
    };
    let name = checked("name", string("name", "")?, &check_name)?;
    let uri = checked("uri", string("uri", "")?, &check_uri)?;
    let preset_text = string("preset", DEFAULT_PRESET.as_str())?;
    let preset =
        Preset::parse(&preset_text).map_err(|why| bad("preset", quoted(&preset_text), &why))?;
    let filter = checked("filter", string("filter", preset.filter())?, &check_filter)?;
    let scope_text = string("scope", DEFAULT_SCOPE.as_str())?;
    let scope = Scope::parse(&scope_text).map_err(|why| bad("scope", quoted(&scope_text), &why))?;
    let policy_text = string("policy", &DEFAULT_POLICY.to_string())?;
    let policy =
        Policy::parse(&policy_text).map_err(|why| bad("policy", quoted(&policy_text), &why))?;
    let cron_text = string("cron", "")?;
    let cron =
        crate::validate::cron(&cron_text).map_err(|why| bad("cron", quoted(&cron_text), &why))?;
    let starttls = boolean("starttls")?;
    if starttls && uri.starts_with("ldaps") {
        return Err(bad(
            "starttls",
            "true".to_string(),
            "false with an ldaps:// URI (it is TLS from the first byte)",
        ));
    }
    let ca_file = string("ca_file", "")?;
    let mut mapping = preset.mapping();
    if let Some(extra) = t.get("mapping") {
        let Some(extra) = extra.as_table() else {
            return Err(bad(
                "mapping",
                extra.to_string(),
                "a table such as { telephoneNumber = \"work\", ipPhone = [\"ipPhone\", \"work\"] }",
            ));
        };
        for (attr, fields) in extra {
            let names: Option<Vec<&str>> = match fields {
                toml::Value::String(s) => Some(vec![s.as_str()]),
                toml::Value::Array(a) => a.iter().map(toml::Value::as_str).collect(),
                _ => None,
            };
            let parsed: Option<Result<Vec<Field>, String>> = names.map(|names| {
                names
                    .iter()
                    .filter(|n| !n.trim().is_empty())
                    .map(|n| mapping::parse_field(n))
                    .collect()
            });
            match parsed {
                Some(Ok(list)) => mapping.set(attr, list),
                _ => {
                    return Err(bad(
                        &format!("mapping.{attr}"),
                        fields.to_string(),
                        &format!(
                            "a field or a list of fields among {}",
                            mapping::field_names()
                        ),
                    ));
                }
            }
        }
    }
    let name_for_password = name.clone();
    Ok(SourceSettings {
        base_dn: checked("base_dn", string("base_dn", "")?, &|s| check_dn(s, false))?,
        bind_dn: checked("bind_dn", string("bind_dn", "")?, &|s| check_dn(s, true))?,
        password_file: PathBuf::from(string(
            "password_file",
            &default_password_file(&name_for_password),
        )?),
        name,
        uri,
        starttls,
        ca_file: (!ca_file.is_empty()).then(|| PathBuf::from(ca_file)),
        skip_verify: boolean("insecure_skip_verify")?,
        scope,
        filter,
        page_size: int("page_size", i64::from(DEFAULT_PAGE_SIZE), 0, 1_000_000)? as u32,
        preset,
        mapping,
        priority: int("priority", i64::from(DEFAULT_PRIORITY), 0, 1000)? as i32,
        cron,
        policy,
        timeout: Duration::from_secs(int("timeout", 60, 1, 86_400)? as u64),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<SourceSettings>, String> {
        let t: toml::Table = text.parse().unwrap();
        let items = t.get("sources").and_then(|s| s.as_array()).unwrap();
        parse_all(items, |label, key, value, accepted| {
            format!("[[sources]] {label} {key} = {value}: expected {accepted}")
        })
    }

    #[test]
    fn source_names_cannot_make_two_sources_uids_equal() {
        assert!(check_name("corp").is_ok());
        assert!(check_name("corp_eu2").is_ok());
        assert!(check_name("corp-int").unwrap_err().contains("no hyphen"));
        assert!(check_name("int").is_err());
        assert!(check_name("Corp").is_err());
    }

    #[test]
    fn defaults_and_errors() {
        let s = parse(
            "[[sources]]\nname = \"corp\"\nuri = \"ldap://127.0.0.1:389\"\nbase_dn = \"dc=x\"\n",
        )
        .unwrap();
        assert_eq!(s[0].page_size, 1000);
        assert_eq!(s[0].policy, Policy::Remove);
        assert_eq!(s[0].scope, Scope::Sub);
        assert_eq!(
            s[0].password_file,
            PathBuf::from("secrets/sources/corp.password")
        );
        let e = parse("[[sources]]\nname = \"corp\"\nuri = \"http://x\"\nbase_dn = \"dc=x\"\n")
            .unwrap_err();
        assert!(
            e.contains("corp uri = \"http://x\": expected ldap://"),
            "{e}"
        );
        let e = parse(
            "[[sources]]\nname = \"c\"\nuri = \"ldap://h\"\nbase_dn = \"dc=x\"\npolicy = \"age:0\"\n",
        )
        .unwrap_err();
        assert!(e.contains("age:HOURS"), "{e}");
        let e = parse(
            "[[sources]]\nname = \"c\"\nuri = \"ldap://h\"\nbase_dn = \"dc=x\"\nfilter = \"(a=b\"\n",
        )
        .unwrap_err();
        assert!(e.contains("filter = \"(a=b\""), "{e}");
        let e = parse("[[sources]]\nname = \"int\"\nuri = \"ldap://h\"\nbase_dn = \"dc=x\"\n")
            .unwrap_err();
        assert!(e.contains("other than int"), "{e}");
    }

    #[test]
    fn policies_read_and_print() {
        assert_eq!(Policy::parse("age:72"), Ok(Policy::Age(72)));
        assert_eq!(Policy::Age(72).to_string(), "age:72");
        assert!(Policy::parse("age:x").is_err());
        assert!(check_filter("(|(a=b)(c=d))").is_ok());
        assert!(check_filter("(a=b)(c=d)").is_err());
    }
}
