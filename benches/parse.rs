//! How fast each format is read: a generated phone book written as CSV, vCard,
//! LDIF, JSON and Yealink XML, read back by the importer that `sop ucm import` and
//! `sop contacts import` use (format detection and decoding included).
//!
//! `cargo bench --bench parse [-- COUNT]` (200000 contacts by default); env
//! `ROUNDS` (3, the best round counts).

use sop::bench::{formats as writers, ldif, phonebook};
use sop::formats::{self, Format};
use std::time::Instant;

fn main() {
    let count: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(200_000);
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let contacts = phonebook::generate(count, 7);
    println!(
        "{:<8} {:>10} {:>9} {:>12} {:>9}",
        "format", "contacts", "MiB", "contacts/s", "MiB/s"
    );
    for format in Format::ALL {
        let mut bytes = Vec::new();
        let written = match format {
            Format::Csv => formats::csv::export_csv(&contacts, &mut bytes),
            Format::VCard => writers::write_vcard(&mut bytes, &contacts),
            Format::Ldif => ldif::write(&mut bytes, &contacts, "dc=phonebook,dc=local"),
            Format::Json => writers::write_json(&mut bytes, &contacts),
            Format::Xml => writers::write_yealink_xml(&mut bytes, &contacts),
        };
        if let Err(e) = written {
            eprintln!("{format}: cannot write: {e}");
            continue;
        }
        let mut best = f64::MAX;
        let mut read = 0;
        for _ in 0..rounds {
            let started = Instant::now();
            match formats::read("list", None, &bytes) {
                Ok(list) => {
                    read = list.contacts.len();
                    if list.skipped_count > 0 {
                        eprintln!(
                            "{format}: {} skipped: {:?}",
                            list.skipped_count,
                            list.skipped.first()
                        );
                    }
                }
                Err(e) => {
                    eprintln!("{format}: {e}");
                    break;
                }
            }
            best = best.min(started.elapsed().as_secs_f64());
        }
        if read != count {
            eprintln!("{format}: read {read} of {count} contacts");
        }
        let mib = bytes.len() as f64 / (1 << 20) as f64;
        println!(
            "{:<8} {:>10} {:>9.1} {:>12.0} {:>9.1}",
            format.name(),
            read,
            mib,
            read as f64 / best,
            mib / best
        );
    }
}
