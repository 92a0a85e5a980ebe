//! Directory sources: contacts synchronised from LDAP servers and Active
//! Directory, each one more source of contacts for the merge, with its own
//! priority, schedule, mapping and policy for entries gone from the directory.
//!
//! The config reads `[[sources]]` (`settings`) and their attribute mappings
//! (`mapping`, which turns entries into contacts); here `fetch` reads a directory
//! page by page and `sync` applies the policy and keeps the source's snapshot.

pub mod fetch;
pub mod schedule;
pub mod sync;

pub use crate::config::attribute_mapping as mapping;
pub use crate::config::sources as settings;

use crate::config::Config;
use crate::directory::merge::Source;
use crate::home::Home;
use crate::store::snapshot;
use color_eyre::eyre::{Result, eyre};
use std::path::PathBuf;

pub use settings::SourceSettings;

/// The module that brings directory sources.
pub const MODULE: &str = "directory-sources";

/// The contacts a source last synced.
pub fn snapshot_path(home: &Home, name: &str) -> PathBuf {
    home.sources_dir().join(format!("dir-{name}.snap"))
}

/// When each of those contacts was last seen in the directory.
pub fn seen_path(home: &Home, name: &str) -> PathBuf {
    home.sources_dir().join(format!("dir-{name}.seen"))
}

/// Removes a source from the config, with its snapshot, its record of when each
/// entry was last seen, and its password file; returns the new config. Its
/// contacts leave the directory with the next merge.
pub fn remove(home: &Home, config: &Config, name: &str) -> Result<Config> {
    let source = sync::find(config, name).map_err(|e| eyre!("{e}"))?.clone();
    let new = crate::config::edit(&home.config_file(), |doc| {
        settings::remove_table(doc, name);
    })
    .map_err(|e| eyre!("{e}; nothing was changed"))?;
    for path in [
        snapshot_path(home, name),
        seen_path(home, name),
        home.path(&source.password_file),
    ] {
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(eyre!("{name} was removed, but not {}: {e}", path.display())),
        }
    }
    Ok(new)
}

/// The merge's sources for the directory sources synced so far (none while the
/// module is not installed), and the names of those with no snapshot on disk. A
/// damaged snapshot stops the merge.
pub fn merge_sources(home: &Home, config: &Config) -> Result<(Vec<Source>, Vec<String>)> {
    let mut out = Vec::new();
    let mut missing = Vec::new();
    if !config.modules.contains(MODULE) {
        return Ok((out, missing));
    }
    for s in &config.sources {
        match snapshot::read(&snapshot_path(home, &s.name)) {
            Ok(Some((_, contacts))) => out.push(Source {
                name: s.name.clone(),
                priority: s.priority,
                contacts,
            }),
            Ok(None) => missing.push(s.name.clone()),
            Err(e) => return Err(eyre!("{e}; the previous generation keeps serving")),
        }
    }
    Ok((out, missing))
}
