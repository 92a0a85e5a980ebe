//! Arbitrary bytes read as a Csv contact list.
#![no_main]

#[path = "common/import.rs"]
mod import;

libfuzzer_sys::fuzz_target!(|data: &[u8]| import::check(sop::formats::Format::Csv, data));
