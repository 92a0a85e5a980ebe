//! What every import fuzz target checks: reading never panics, and every contact
//! it accepts keeps the rules all formats share.

use sop::formats::{self, Format, MAX_PHONES, MAX_VALUE};

pub fn check(format: Format, data: &[u8]) {
    // Through detection (as `sop ucm import` reads a URL), then as the format.
    let _ = formats::read("list", None, data);
    let Ok(list) = formats::read_as(format, data) else {
        return;
    };
    assert!(list.skipped.len() <= formats::MAX_SKIPPED_KEPT);
    assert!(list.skipped_count >= list.skipped.len());
    for c in &list.contacts {
        assert!(c.is_servable(), "{c:?}");
        assert!(c.phones.len() <= MAX_PHONES);
        for value in c.text_fields() {
            assert!(value.len() <= MAX_VALUE);
            assert!(!value.contains('\u{fffd}'), "{c:?}");
        }
        for p in &c.phones {
            assert!(p.number.len() <= MAX_VALUE);
            assert!(p.number.bytes().any(|b| b.is_ascii_digit()), "{c:?}");
        }
    }
}
