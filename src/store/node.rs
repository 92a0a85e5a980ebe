//! The node's store, opened where its home keeps it: refused when it is missing on
//! a node that has published from it.

use super::Store;
use super::generations;
use crate::home::Home;
use color_eyre::eyre::{Result, WrapErr, eyre};

/// Opens the node's store. A store that is missing (or empty) on a node that has
/// published a generation is an error rather than a new empty store: the next
/// merge would remove every internal contact from the phone book.
pub fn open_store(home: &Home) -> Result<Store> {
    check_store(home)?;
    open_or_create_store(home)
}

/// Opens the store, creating an empty one where there is none.
pub fn open_or_create_store(home: &Home) -> Result<Store> {
    Store::open(&home.store_file()).wrap_err("cannot open the node's store")
}

/// An error when the store is missing or empty although this node has published
/// a generation from it; says how to restore it.
pub fn check_store(home: &Home) -> Result<()> {
    let path = home.store_file();
    let missing = match std::fs::metadata(&path) {
        Ok(m) => m.len() == 0,
        Err(e) => e.kind() == std::io::ErrorKind::NotFound,
    };
    let gens = home.generations_dir();
    let published = generations::current_number(&gens)
        .or_else(|| generations::list(&gens).ok()?.last().copied());
    match published {
        Some(generation) if missing => Err(eyre!(
            "the store {} is missing or empty, though this node has published generation \
             {generation} from it: it holds the internal contacts and the job history. Restore \
             it from a backup (with the server stopped), or start an empty store and publish \
             the phone book without the internal contacts with sop ucm merge --force",
            path.display()
        )),
        _ => Ok(()),
    }
}
