//! A node's first use: the home, its config and store, and the sample phone book
//! served until the admin imports contacts.

use crate::home::Home;
use color_eyre::eyre::{Result, WrapErr};

/// Makes the home usable. Returns true when it was created now.
pub fn prepare(home: &Home) -> Result<bool> {
    prepare_with(home, false)
}

/// Like `prepare`; a `bare` new node has no module installed and serves nothing.
pub fn prepare_with(home: &Home, bare: bool) -> Result<bool> {
    let created = home
        .ensure(crate::config::TEMPLATE)
        .wrap_err_with(|| format!("cannot set up the node's home {}", home.root().display()))?;
    if created && bare {
        crate::config::edit(&home.config_file(), |doc| {
            crate::config::set(doc, "modules.installed", toml_edit::Array::new());
        })?;
    } else if created {
        crate::ucm::seed_sample(home).wrap_err("cannot set up the sample phone book")?;
    }
    Ok(created)
}
