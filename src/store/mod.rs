//! The node's embedded store (SQLite): internal contacts and published generations.
