//! Arbitrary bytes read as a VCard contact list.
#![no_main]

#[path = "common/import.rs"]
mod import;

libfuzzer_sys::fuzz_target!(|data: &[u8]| import::check(sop::formats::Format::VCard, data));
