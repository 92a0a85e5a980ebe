//! Importers: each file reads one format into contacts.
