//! Arbitrary bytes read as a Xml contact list.
#![no_main]

#[path = "common/import.rs"]
mod import;

libfuzzer_sys::fuzz_target!(|data: &[u8]| import::check(sop::formats::Format::Xml, data));
