//! Importers: each file reads one format into contacts.
pub mod csv;
