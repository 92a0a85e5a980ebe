//! The served directory written out, so that an admin can see or hand over exactly
//! what phones get: LDIF as `ldapsearch -LLL` shows it, CSV as `sop contacts
//! import` reads it back, and the Yealink remote phone book.

pub mod ldif;
pub mod yealink;

use crate::directory::{Directory, Generation, MatchRules};
use std::io::{self, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// The base entry and every served entry, as `ldapsearch -LLL -b BASE` shows them
    Ldif,
    /// The columns of `sop contacts export`, with the served uid
    Csv,
    /// The Yealink remote phone book, numbers labelled with their kind
    YealinkXml,
}

/// Writes a generation's contacts as served under `base_dn`.
pub fn write(
    out: &mut impl Write,
    format: Format,
    generation: &Generation,
    base_dn: &str,
    rules: &MatchRules,
) -> io::Result<()> {
    let contacts = &generation.contacts;
    match format {
        Format::Ldif => ldif::write(out, &Directory::build(generation, base_dn, rules), None),
        Format::Csv => crate::formats::csv::export_csv_rows(
            contacts.iter().map(|s| (s.uid.as_str(), &s.contact)),
            out,
        ),
        Format::YealinkXml => yealink::write(out, contacts.iter().map(|s| &s.contact)),
    }
}
