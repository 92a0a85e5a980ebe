//! Settings saved in `config.toml`, and what a running application server does
//! with them.

use crate::config;
use crate::home::Home;
use crate::server::daemon;
use std::collections::BTreeSet;

/// What became of settings just saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// The application server is stopped: it uses them when started.
    NotRunning,
    /// The running server read them again and uses them now.
    Now,
    /// The running server could not apply them (why): it keeps the previous ones.
    Refused(String),
}

/// Tells a running application server to read the config again, so that its
/// crons, jobs and bundles use what was saved.
pub async fn apply(home: &Home) -> Applied {
    if !running(home).await {
        return Applied::NotRunning;
    }
    match daemon::sync(home).await {
        Ok(_) => Applied::Now,
        Err(e) => Applied::Refused(format!("{e:#}")),
    }
}

/// Is the application server running (and answering)?
pub async fn running(home: &Home) -> bool {
    matches!(daemon::status(home).await, Ok(Some(_)))
}

/// Saves the installed modules (keeping the admin's comments). A running server
/// runs the previous modules until its bundles are synced.
pub fn save_modules(home: &Home, installed: &BTreeSet<String>) -> color_eyre::Result<()> {
    let list: toml_edit::Array = installed.iter().map(String::as_str).collect();
    config::edit(&home.config_file(), |doc| {
        config::set(doc, "modules.installed", list);
    })?;
    Ok(())
}
