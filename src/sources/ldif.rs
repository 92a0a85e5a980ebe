//! Contacts as ldif.

use super::{NotAList, ReadList};

pub fn read(text: &str) -> Result<ReadList, NotAList> {
    let _ = text;
    Ok(ReadList::default())
}
