//! A time zone with daylight saving time for tests: central Europe in 2026.
#![allow(clippy::unwrap_used)]

use chrono::{FixedOffset, LocalResult, NaiveDate, NaiveDateTime, TimeZone};

/// Central European time in 2026: UTC+1, and UTC+2 from 29 March 01:00 UTC
/// to 25 October 01:00 UTC.
#[derive(Debug, Clone, Copy)]
pub struct Berlin2026;

impl Berlin2026 {
    fn summer(utc: &NaiveDateTime) -> bool {
        let start = NaiveDate::from_ymd_opt(2026, 3, 29)
            .unwrap()
            .and_hms_opt(1, 0, 0)
            .unwrap();
        let end = NaiveDate::from_ymd_opt(2026, 10, 25)
            .unwrap()
            .and_hms_opt(1, 0, 0)
            .unwrap();
        *utc >= start && *utc < end
    }
}

impl TimeZone for Berlin2026 {
    type Offset = FixedOffset;

    fn from_offset(_: &FixedOffset) -> Self {
        Berlin2026
    }

    fn offset_from_local_date(&self, local: &NaiveDate) -> LocalResult<FixedOffset> {
        self.offset_from_local_datetime(&local.and_hms_opt(0, 0, 0).unwrap())
    }

    fn offset_from_local_datetime(&self, local: &NaiveDateTime) -> LocalResult<FixedOffset> {
        let winter = FixedOffset::east_opt(3600).unwrap();
        let summer = FixedOffset::east_opt(7200).unwrap();
        let as_winter = self.offset_from_utc_datetime(&(*local - winter)) == winter;
        let as_summer = self.offset_from_utc_datetime(&(*local - summer)) == summer;
        match (as_summer, as_winter) {
            (true, true) => LocalResult::Ambiguous(summer, winter),
            (true, false) => LocalResult::Single(summer),
            (false, true) => LocalResult::Single(winter),
            (false, false) => LocalResult::None,
        }
    }

    fn offset_from_utc_date(&self, utc: &NaiveDate) -> FixedOffset {
        self.offset_from_utc_datetime(&utc.and_hms_opt(0, 0, 0).unwrap())
    }

    fn offset_from_utc_datetime(&self, utc: &NaiveDateTime) -> FixedOffset {
        FixedOffset::east_opt(if Self::summer(utc) { 7200 } else { 3600 }).unwrap()
    }
}
