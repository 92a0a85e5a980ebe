//! The node's typed configuration.
//!
//! `config/sop.toml` is both the commented template a new node starts from and the
//! list of defaults: a node's `config.toml` is laid over it key by key, so a key the
//! admin removed takes the template's value, and a key the template does not know is
//! a typo and is refused. Values are parsed into typed settings here, at the edge;
//! every error names the key, the bad value and what would be accepted.

pub mod attribute_mapping;
pub mod cluster;
mod edit;
pub mod phonebooks;
pub mod sources;
mod warnings;

pub use edit::{edit, set};
pub use warnings::warnings;

use crate::directory::MatchRules;
use crate::modules::Catalog;
use crate::schedule::Cron;
use std::collections::BTreeSet;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The commented template, and the defaults.
pub const TEMPLATE: &str = include_str!("../../config/sop.toml");

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub node: NodeConfig,
    /// Ids of the installed modules.
    pub modules: BTreeSet<String>,
    pub ucm: UcmConfig,
    pub ldap: LdapConfig,
    /// `[numbers]` and `[ldap] fold_accents`: how values match beyond OpenLDAP's rules.
    pub matching: MatchRules,
    /// `[merge]`: when contacts of several sources are one person.
    pub merge: MergeConfig,
    pub cluster: cluster::ClusterConfig,
    /// `[[sources]]`: the directory sources.
    pub sources: Vec<sources::SourceSettings>,
    /// `[[phonebooks]]`: phone books served beside the main one.
    pub phonebooks: Vec<phonebooks::PhonebookSettings>,
}

/// `[merge]`: how the merge folds contacts of several sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MergeConfig {
    pub fold: crate::directory::merge::Fold,
}

/// `[ucm]`: where external contacts come from, when they are imported and merged.
#[derive(Debug, Clone, PartialEq)]
pub struct UcmConfig {
    /// Empty: no external contacts.
    pub url: String,
    /// Empty: imported only on demand.
    pub cron: Cron,
    pub priority: i32,
    pub internal_priority: i32,
    pub merge_cron: Cron,
    pub ca_file: Option<PathBuf>,
    pub credentials_file: PathBuf,
    pub max_removal_percent: u32,
    pub max_size_bytes: u64,
    pub fetch_timeout: Duration,
    /// `[ucm.mapping]`: CSV columns and the fields they go to.
    pub mapping: crate::formats::mapping::Mapping,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NodeConfig {
    pub name: String,
    pub baseline: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LdapConfig {
    pub listen: Vec<SocketAddr>,
    /// As configured (the case and spacing the admin typed are kept for display).
    pub base_dn: String,
    pub size_limit: u32,
    pub time_limit: Duration,
    pub bind: BindPolicy,
    pub bind_dn: String,
    pub bind_password_file: PathBuf,
    pub access_log: bool,
    pub tls: TlsConfig,
    pub limits: Limits,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindPolicy {
    Anonymous,
    Any,
    Credentials,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TlsConfig {
    pub ldaps_listen: Vec<SocketAddr>,
    pub starttls: bool,
    pub certificate: Option<PathBuf>,
    pub key: Option<PathBuf>,
    pub required: bool,
}

impl TlsConfig {
    pub fn enabled(&self) -> bool {
        self.starttls || !self.ldaps_listen.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    pub max_request_bytes: usize,
    pub max_filter_depth: usize,
    pub max_filter_terms: usize,
    pub idle_timeout: Duration,
    pub max_connections: usize,
    pub max_connections_per_address: usize,
    pub max_paged_searches: usize,
    pub paged_search_timeout: Duration,
    pub max_sort_candidates: usize,
}

/// Why a configuration was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    #[error("{file}: cannot read: {reason}")]
    Read { file: String, reason: String },
    #[error("{file}: not valid TOML: {reason}")]
    Syntax { file: String, reason: String },
    #[error("{file}: unknown key {key}; the keys of [{table}] are: {known}")]
    UnknownKey {
        file: String,
        key: String,
        table: String,
        known: String,
    },
    #[error("{file}: cannot write: {reason}; nothing was changed")]
    Write { file: String, reason: String },
    #[error("{file}: {key} = {value} is not accepted: expected {accepted}")]
    Value {
        file: String,
        key: String,
        value: String,
        accepted: String,
    },
}

impl Config {
    /// The defaults: the template itself.
    pub fn defaults() -> Config {
        match Config::parse(TEMPLATE, "config/sop.toml") {
            Ok(config) => config,
            // The template is part of the binary and checked by a test.
            Err(e) => unreachable_template(&e),
        }
    }

    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            file: file.clone(),
            reason: e.to_string(),
        })?;
        Config::parse(&text, &file)
    }

    /// Parses a config file's text laid over the template.
    pub fn parse(text: &str, file: &str) -> Result<Config, ConfigError> {
        let mut merged = template_table();
        let mut user: toml::Table =
            text.parse()
                .map_err(|e: toml::de::Error| ConfigError::Syntax {
                    file: file.to_string(),
                    reason: e.to_string(),
                })?;
        // `[[sources]]` is a list the template only describes: read on its own.
        let sources = user.remove("sources");
        let books = user.remove("phonebooks");
        // `[ucm.mapping]` names the admin's columns: read on its own too.
        let mapping = user
            .get_mut("ucm")
            .and_then(toml::Value::as_table_mut)
            .and_then(|ucm| ucm.remove("mapping"));
        // Keys renamed since: the old name still reads.
        if let Some(limits) = user
            .get_mut("ldap")
            .and_then(toml::Value::as_table_mut)
            .and_then(|l| l.get_mut("limits"))
            .and_then(toml::Value::as_table_mut)
        {
            if let Some(v) = limits.remove("max_connections_per_client") {
                limits.entry("max_connections_per_address").or_insert(v);
            }
        }
        overlay(&mut merged, user, "", file)?;
        let mut config = Reader {
            file,
            root: &merged,
        }
        .config()?;
        config.sources = read_sources(sources, file)?;
        config.phonebooks = read_phonebooks(books, &config.ldap.base_dn, file)?;
        config.ucm.mapping = read_mapping(mapping, file)?;
        Ok(config)
    }
}

#[allow(clippy::panic)]
fn unreachable_template(e: &ConfigError) -> ! {
    panic!("the built-in config template is invalid: {e}")
}

fn template_table() -> toml::Table {
    TEMPLATE.parse().unwrap_or_default()
}

/// Lays `user` over `base`; keys unknown to the template are refused.
fn overlay(
    base: &mut toml::Table,
    user: toml::Table,
    path: &str,
    file: &str,
) -> Result<(), ConfigError> {
    for (key, value) in user {
        let full = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(u)) => overlay(b, u, &full, file)?,
            (Some(slot), value) => *slot = value,
            (None, _) => {
                let known: Vec<&str> = base.keys().map(String::as_str).collect();
                return Err(ConfigError::UnknownKey {
                    file: file.to_string(),
                    key: display_key(&full),
                    table: path.to_string(),
                    known: known.join(", "),
                });
            }
        }
    }
    Ok(())
}

/// `ldap.limits.idle_timeout` is shown as `[ldap.limits] idle_timeout`, as the admin sees it.
fn display_key(full: &str) -> String {
    match full.rsplit_once('.') {
        Some((table, key)) => format!("[{table}] {key}"),
        None => full.to_string(),
    }
}

/// Typed access to the merged table; each getter reports the key it read.
struct Reader<'a> {
    file: &'a str,
    root: &'a toml::Table,
}

impl Reader<'_> {
    fn config(&self) -> Result<Config, ConfigError> {
        let ldap = LdapConfig {
            listen: self.addresses("ldap.listen", false)?,
            base_dn: self.base_dn("ldap.base_dn")?,
            size_limit: self.int("ldap.size_limit", 1, 1_000_000)? as u32,
            time_limit: Duration::from_secs(self.int("ldap.time_limit", 1, 3600)?),
            bind: self.bind_policy("ldap.bind")?,
            bind_dn: self.string("ldap.bind_dn")?,
            bind_password_file: PathBuf::from(self.string("ldap.bind_password_file")?),
            access_log: self.boolean("ldap.access_log")?,
            tls: TlsConfig {
                ldaps_listen: self.addresses("ldap.tls.ldaps_listen", true)?,
                starttls: self.boolean("ldap.tls.starttls")?,
                certificate: self.optional_path("ldap.tls.certificate")?,
                key: self.optional_path("ldap.tls.key")?,
                required: self.boolean("ldap.tls.required")?,
            },
            limits: Limits {
                max_request_bytes: self.int("ldap.limits.max_request_bytes", 1024, 16 << 20)?
                    as usize,
                max_filter_depth: self.int("ldap.limits.max_filter_depth", 1, 1000)? as usize,
                max_filter_terms: self.int("ldap.limits.max_filter_terms", 1, 100_000)? as usize,
                idle_timeout: Duration::from_secs(self.int(
                    "ldap.limits.idle_timeout",
                    1,
                    86400,
                )?),
                max_connections: self.int("ldap.limits.max_connections", 1, 1_000_000)? as usize,
                max_connections_per_address: self.int(
                    "ldap.limits.max_connections_per_address",
                    1,
                    1_000_000,
                )? as usize,
                max_paged_searches: self.int("ldap.limits.max_paged_searches", 1, 1024)? as usize,
                paged_search_timeout: Duration::from_secs(self.int(
                    "ldap.limits.paged_search_timeout",
                    1,
                    86400,
                )?),
                max_sort_candidates: self.int("ldap.limits.max_sort_candidates", 1, 1_000_000)?
                    as usize,
            },
        };
        self.check_bind(&ldap)?;
        self.check_tls(&ldap.tls)?;
        let node = NodeConfig {
            name: self.nonempty("node.name")?,
            baseline: self.int("node.baseline", 1, 99)? as u32,
        };
        let modules = self.modules("modules.installed", node.baseline)?;
        let ucm = UcmConfig {
            url: self.url("ucm.url")?,
            cron: self.cron("ucm.cron", true)?,
            priority: self.int("ucm.priority", 0, 1000)? as i32,
            internal_priority: self.int("ucm.internal_priority", 0, 1000)? as i32,
            merge_cron: self.cron("ucm.merge_cron", !modules.contains("ucm"))?,
            ca_file: self.optional_path("ucm.ca_file")?,
            credentials_file: PathBuf::from(self.string("ucm.credentials_file")?),
            max_removal_percent: self.int("ucm.max_removal_percent", 0, 100)? as u32,
            max_size_bytes: self.int("ucm.max_size_mib", 1, 65536)? << 20,
            fetch_timeout: Duration::from_secs(self.int("ucm.fetch_timeout", 1, 86400)?),
            mapping: crate::formats::mapping::Mapping::default(),
        };
        let cluster = self.cluster()?;
        Ok(Config {
            ucm,
            modules,
            node,
            ldap,
            cluster,
            matching: MatchRules {
                country_code: self.digits("numbers.country_code", 1, 3)?,
                trunk_prefix: self.digits("numbers.trunk_prefix", 1, 2)?,
                fold_accents: self.boolean("ldap.fold_accents")?,
                fallback: self.fallback("numbers.fallback", "numbers.last_digits")?,
            },
            merge: MergeConfig {
                fold: self.fold("merge.fold")?,
            },
            sources: Vec::new(),
            phonebooks: Vec::new(),
        })
    }

    fn cluster(&self) -> Result<cluster::ClusterConfig, ConfigError> {
        let nodes =
            cluster::nodes(self.value("cluster.nodes")).map_err(|(key, value, accepted)| {
                ConfigError::Value {
                    file: self.file.to_string(),
                    key,
                    value,
                    accepted,
                }
            })?;
        Ok(cluster::ClusterConfig {
            nodes,
            push_after_import: self.boolean("cluster.push_after_import")?,
            merge_on_receive: self.boolean("cluster.merge_on_receive")?,
            parallel: self.int("cluster.parallel", 1, 64)? as usize,
            retry: Duration::from_secs(self.int("cluster.retry_secs", 0, 86400)?),
            connect_timeout: Duration::from_secs(self.int("cluster.connect_timeout", 1, 600)?),
            timeout: Duration::from_secs(self.int("cluster.timeout", 1, 86400)?),
            share_connections: Duration::from_secs(self.int(
                "cluster.share_connections",
                0,
                86400,
            )?),
        })
    }

    fn value(&self, key: &str) -> Option<&toml::Value> {
        let mut parts = key.split('.').peekable();
        let mut table = self.root;
        while let Some(part) = parts.next() {
            let value = table.get(part)?;
            if parts.peek().is_none() {
                return Some(value);
            }
            table = value.as_table()?;
        }
        None
    }

    fn bad(&self, key: &str, value: impl fmt::Display, accepted: &str) -> ConfigError {
        ConfigError::Value {
            file: self.file.to_string(),
            key: display_key(key),
            value: value.to_string(),
            accepted: accepted.to_string(),
        }
    }

    fn shown(&self, key: &str) -> String {
        self.value(key)
            .map(|v| v.to_string())
            .unwrap_or_else(|| "(missing)".to_string())
    }

    fn string(&self, key: &str) -> Result<String, ConfigError> {
        match self.value(key) {
            Some(toml::Value::String(s)) => Ok(s.clone()),
            _ => Err(self.bad(key, self.shown(key), "a string in double quotes")),
        }
    }

    fn fold(&self, key: &str) -> Result<crate::directory::merge::Fold, ConfigError> {
        use crate::directory::merge::Fold;
        let s = self.string(key)?;
        Fold::parse(s.trim()).ok_or_else(|| {
            let accepted = format!("one of \"{}\"", Fold::NAMES.join("\", \""));
            self.bad(key, self.shown(key), &accepted)
        })
    }

    fn fallback(
        &self,
        key: &str,
        digits_key: &str,
    ) -> Result<crate::directory::Fallback, ConfigError> {
        use crate::directory::Fallback;
        match self.string(key)?.trim() {
            "none" => Ok(Fallback::None),
            "last-digits" => Ok(Fallback::LastDigits(self.int(digits_key, 4, 15)? as u8)),
            "main-line" => Ok(Fallback::MainLine),
            _ => Err(self.bad(
                key,
                self.shown(key),
                "one of \"none\", \"last-digits\", \"main-line\"",
            )),
        }
    }

    fn nonempty(&self, key: &str) -> Result<String, ConfigError> {
        let s = self.string(key)?;
        if s.trim().is_empty() {
            return Err(self.bad(key, "\"\"", "a non-empty string"));
        }
        Ok(s)
    }

    fn boolean(&self, key: &str) -> Result<bool, ConfigError> {
        match self.value(key) {
            Some(toml::Value::Boolean(b)) => Ok(*b),
            _ => Err(self.bad(key, self.shown(key), "true or false")),
        }
    }

    fn int(&self, key: &str, min: u64, max: u64) -> Result<u64, ConfigError> {
        let accepted = format!("a whole number from {min} to {max}");
        match self.value(key) {
            Some(toml::Value::Integer(n))
                if *n >= 0 && (*n as u64) >= min && (*n as u64) <= max =>
            {
                Ok(*n as u64)
            }
            _ => Err(self.bad(key, self.shown(key), &accepted)),
        }
    }

    fn optional_path(&self, key: &str) -> Result<Option<PathBuf>, ConfigError> {
        let s = self.string(key)?;
        Ok((!s.trim().is_empty()).then(|| PathBuf::from(s.trim())))
    }

    fn digits(&self, key: &str, min: usize, max: usize) -> Result<Option<String>, ConfigError> {
        let s = self.string(key)?;
        let t = s.trim().trim_start_matches('+');
        if t.is_empty() {
            return Ok(None);
        }
        if t.len() < min || t.len() > max || !t.bytes().all(|b| b.is_ascii_digit()) {
            let accepted = format!("\"\" (off) or {min} to {max} digits, such as \"49\" or \"0\"");
            return Err(self.bad(key, self.shown(key), &accepted));
        }
        Ok(Some(t.to_string()))
    }

    fn addresses(&self, key: &str, may_be_empty: bool) -> Result<Vec<SocketAddr>, ConfigError> {
        let accepted = "a list of host:port addresses such as [\"0.0.0.0:389\", \"[::]:389\"]";
        let Some(toml::Value::Array(items)) = self.value(key) else {
            return Err(self.bad(key, self.shown(key), accepted));
        };
        let mut out = Vec::new();
        for item in items {
            let parsed = item.as_str().and_then(|s| parse_address(s).ok());
            match parsed {
                Some(addr) if !out.contains(&addr) => out.push(addr),
                Some(addr) => return Err(self.bad(key, addr, "each address once")),
                None => return Err(self.bad(key, item, accepted)),
            }
        }
        if out.is_empty() && !may_be_empty {
            return Err(self.bad(key, "[]", "at least one address"));
        }
        Ok(out)
    }

    fn modules(&self, key: &str, baseline: u32) -> Result<BTreeSet<String>, ConfigError> {
        let accepted = "a list of module ids such as [\"ucm\", \"ldap-server\"] (sop module list)";
        let Some(toml::Value::Array(items)) = self.value(key) else {
            return Err(self.bad(key, self.shown(key), accepted));
        };
        let mut out = BTreeSet::new();
        for item in items {
            match item.as_str() {
                Some(id) => out.insert(id.trim().to_string()),
                None => return Err(self.bad(key, item, accepted)),
            };
        }
        if let Err(why) = Catalog::builtin().check_installed(&out, baseline) {
            return Err(self.bad(key, self.shown(key), &format!("installable modules: {why}")));
        }
        Ok(out)
    }

    fn url(&self, key: &str) -> Result<String, ConfigError> {
        let s = self.string(key)?.trim().to_string();
        if let Err(why) = crate::validate::check_url(&s) {
            // A password typed into the URL is not repeated in the message.
            let shown = match s.split_once("://") {
                Some((scheme, rest)) if rest.split('/').next().unwrap_or("").contains('@') => {
                    let host = rest.split_once('@').map_or(rest, |(_, h)| h);
                    format!("\"{scheme}://***@{host}\"")
                }
                _ => self.shown(key),
            };
            return Err(self.bad(key, shown, &why));
        }
        Ok(s)
    }

    /// A cron spec, parsed; empty only when `may_be_empty`.
    fn cron(&self, key: &str, may_be_empty: bool) -> Result<Cron, ConfigError> {
        let s = self.string(key)?.trim().to_string();
        if s.is_empty() {
            if may_be_empty {
                return Ok(Cron::default());
            }
            return Err(self.bad(
                key,
                "\"\"",
                "a cron spec such as \"30 23 ? * *\" (required while UCM is installed)",
            ));
        }
        crate::validate::cron(&s).map_err(|why| self.bad(key, self.shown(key), &why))
    }

    fn base_dn(&self, key: &str) -> Result<String, ConfigError> {
        let s = self.string(key)?;
        let ok = !s.trim().is_empty()
            && s.split(',').all(|rdn| {
                rdn.split_once('=')
                    .is_some_and(|(a, v)| !a.trim().is_empty() && !v.trim().is_empty())
            });
        if !ok {
            return Err(self.bad(
                key,
                self.shown(key),
                "a DN such as \"dc=phonebook,dc=local\"",
            ));
        }
        Ok(s.trim().to_string())
    }

    fn bind_policy(&self, key: &str) -> Result<BindPolicy, ConfigError> {
        match self.string(key)?.as_str() {
            "anonymous" => Ok(BindPolicy::Anonymous),
            "any" => Ok(BindPolicy::Any),
            "credentials" => Ok(BindPolicy::Credentials),
            _ => Err(self.bad(
                key,
                self.shown(key),
                "\"anonymous\", \"any\" or \"credentials\"",
            )),
        }
    }

    fn check_bind(&self, ldap: &LdapConfig) -> Result<(), ConfigError> {
        if ldap.bind == BindPolicy::Credentials && ldap.bind_dn.trim().is_empty() {
            return Err(self.bad(
                "ldap.bind_dn",
                "\"\"",
                "the DN phones bind with, since bind = \"credentials\"",
            ));
        }
        Ok(())
    }

    fn check_tls(&self, tls: &TlsConfig) -> Result<(), ConfigError> {
        if tls.enabled() || tls.required {
            let why = "a PEM file, since LDAPS, StartTLS or required TLS is configured";
            if tls.certificate.is_none() {
                return Err(self.bad("ldap.tls.certificate", "\"\"", why));
            }
            if tls.key.is_none() {
                return Err(self.bad("ldap.tls.key", "\"\"", why));
            }
        }
        if tls.required && !tls.enabled() {
            return Err(self.bad(
                "ldap.tls.required",
                "true",
                "false, or turn on starttls or ldaps_listen first (clients would have no way in)",
            ));
        }
        Ok(())
    }
}

/// Reads `[ucm.mapping]`, a table of `"Column" = "field"`; an error names the
/// column and lists the fields.
fn read_mapping(
    value: Option<toml::Value>,
    file: &str,
) -> Result<crate::formats::mapping::Mapping, ConfigError> {
    let bad = |key: String, value: String, accepted: String| ConfigError::Value {
        file: file.to_string(),
        key,
        value,
        accepted,
    };
    let table = match value {
        None => return Ok(crate::formats::mapping::Mapping::default()),
        Some(toml::Value::Table(t)) => t,
        Some(other) => {
            return Err(bad(
                "[ucm] mapping".to_string(),
                other.to_string(),
                "a table of \"Column\" = \"field\"".to_string(),
            ));
        }
    };
    let mut mapping = crate::formats::mapping::Mapping::default();
    for (column, field) in table {
        let key = format!("[ucm.mapping] {column:?}");
        let Some(name) = field.as_str() else {
            return Err(bad(
                key,
                field.to_string(),
                crate::formats::mapping::accepted(),
            ));
        };
        mapping.add(&column, name).map_err(|e| match e {
            crate::formats::mapping::MappingError::UnknownField { .. } => bad(
                key.clone(),
                format!("{name:?}"),
                crate::formats::mapping::accepted(),
            ),
            other => bad(key.clone(), format!("{name:?}"), other.to_string()),
        })?;
    }
    Ok(mapping)
}

/// The tables of a `[[name]]` list; an error when it is something else.
fn tables_of(
    value: Option<toml::Value>,
    name: &str,
    file: &str,
) -> Result<Vec<toml::Value>, ConfigError> {
    match value {
        None => Ok(Vec::new()),
        Some(toml::Value::Array(items)) => Ok(items),
        Some(other) => Err(ConfigError::Value {
            file: file.to_string(),
            key: name.to_string(),
            value: other.to_string(),
            accepted: format!("[[{name}]] tables"),
        }),
    }
}

/// An error in one table of a `[[name]]` list: names the table, the key and the value.
fn table_error<'a>(
    name: &'a str,
    file: &'a str,
) -> impl Fn(&str, &str, String, &str) -> ConfigError + 'a {
    move |table, key, value, accepted| ConfigError::Value {
        file: file.to_string(),
        key: format!("[[{name}]] {table}: {key}"),
        value,
        accepted: accepted.to_string(),
    }
}

/// Reads `[[sources]]`.
fn read_sources(
    value: Option<toml::Value>,
    file: &str,
) -> Result<Vec<sources::SourceSettings>, ConfigError> {
    let items = tables_of(value, "sources", file)?;
    sources::parse_all(&items, table_error("sources", file))
}

/// Reads `[[phonebooks]]`.
fn read_phonebooks(
    value: Option<toml::Value>,
    main_base: &str,
    file: &str,
) -> Result<Vec<phonebooks::PhonebookSettings>, ConfigError> {
    let items = tables_of(value, "phonebooks", file)?;
    phonebooks::parse_all(&items, main_base, table_error("phonebooks", file))
}

/// Parses `host:port`; `localhost` is accepted as 127.0.0.1.
pub fn parse_address(s: &str) -> Result<SocketAddr, String> {
    let s = s.trim();
    match s.strip_prefix("localhost:") {
        Some(port) => format!("127.0.0.1:{port}").parse(),
        None => s.parse(),
    }
    .map_err(|e: std::net::AddrParseError| e.to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn template_is_valid_and_is_the_defaults() {
        let c = Config::defaults();
        assert_eq!(c.ldap.size_limit, 500);
        assert_eq!(c.ldap.bind, BindPolicy::Any);
        assert_eq!(c.ldap.base_dn, "dc=phonebook,dc=local");
        assert_eq!(c.ldap.listen, vec!["0.0.0.0:389".parse().unwrap()]);
        assert_eq!(c.matching, MatchRules::default());
    }

    #[test]
    fn user_keys_override_and_missing_keys_default() {
        let c = Config::parse(
            "[ldap]\nsize_limit = 50\nlisten = [\"127.0.0.1:3389\", \"[::1]:3389\"]\n",
            "t",
        )
        .unwrap();
        assert_eq!(c.ldap.size_limit, 50);
        assert_eq!(c.ldap.listen.len(), 2);
        assert_eq!(c.ldap.time_limit, Duration::from_secs(10));
    }

    #[test]
    fn a_renamed_key_still_reads() {
        let old = "[ldap.limits]\nmax_connections_per_client = 7\n";
        let c = Config::parse(old, "t").unwrap();
        assert_eq!(c.ldap.limits.max_connections_per_address, 7);
        let new = "[ldap.limits]\nmax_connections_per_address = 9\n";
        let c = Config::parse(new, "t").unwrap();
        assert_eq!(c.ldap.limits.max_connections_per_address, 9);
    }

    #[test]
    fn errors_name_key_value_and_accepted() {
        let e = Config::parse("[ldap]\nsize_limit = 0\n", "config.toml").unwrap_err();
        assert_eq!(
            e.to_string(),
            "config.toml: [ldap] size_limit = 0 is not accepted: expected a whole number from 1 to 1000000"
        );
        let e = Config::parse("[ldap]\nsise_limit = 5\n", "config.toml").unwrap_err();
        assert!(
            e.to_string().contains("unknown key [ldap] sise_limit"),
            "{e}"
        );
        assert!(e.to_string().contains("size_limit"), "{e}");
        let e = Config::parse("[ldap]\nlisten = [\"nowhere\"]\n", "c").unwrap_err();
        assert!(e.to_string().contains("[ldap] listen = \"nowhere\""), "{e}");
        let e = Config::parse("[ldap]\nbind = \"maybe\"\n", "c").unwrap_err();
        assert!(
            e.to_string()
                .contains("\"anonymous\", \"any\" or \"credentials\""),
            "{e}"
        );
        let e = Config::parse("[ldap.tls]\nstarttls = true\n", "c").unwrap_err();
        assert!(e.to_string().contains("[ldap.tls] certificate"), "{e}");
        let e = Config::parse("[numbers]\ncountry_code = \"4x\"\n", "c").unwrap_err();
        assert!(e.to_string().contains("[numbers] country_code"), "{e}");
        let e = Config::parse("[ldap\n", "c").unwrap_err();
        assert!(matches!(e, ConfigError::Syntax { .. }));
    }

    #[test]
    fn a_column_mapping_is_read_and_checked() {
        let config = Config::parse(
            "[ucm.mapping]\n\"Telefon Zentrale\" = \"telephoneNumber\"\nDurchwahl = \"ipPhone\"\n",
            "config.toml",
        )
        .unwrap();
        assert_eq!(
            config.ucm.mapping.to_string(),
            "Durchwahl=ipPhone, Telefon Zentrale=telephoneNumber"
        );
        assert!(Config::defaults().ucm.mapping.is_empty());
        let err = Config::parse("[ucm.mapping]\nDurchwahl = \"extension\"\n", "config.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("[ucm.mapping] \"Durchwahl\""), "{err}");
        assert!(err.contains("\"extension\""), "{err}");
        assert!(err.contains("telephoneNumber, mobile"), "{err}");
        let err = Config::parse("[ucm]\nmapping = 3\n", "config.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("[ucm] mapping"), "{err}");
    }

    #[test]
    fn addresses_accept_localhost_and_ipv6() {
        assert_eq!(
            parse_address("localhost:389").unwrap(),
            "127.0.0.1:389".parse().unwrap()
        );
        assert!(parse_address("[::]:636").is_ok());
        assert!(parse_address("0.0.0.0").is_err());
    }
}
