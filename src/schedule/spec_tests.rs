#![allow(clippy::unwrap_used, clippy::panic)]

use super::test_zone::Berlin2026;
use super::{CronError, CronSpec};
use chrono::{DateTime, Datelike, FixedOffset, NaiveDateTime, TimeZone, Weekday};

/// UTC+1, as a node in central Europe outside summer time.
fn cet() -> FixedOffset {
    FixedOffset::east_opt(3600).unwrap()
}

/// A wall-clock time in `tz`, e.g. `at(&cet(), "2026-11-22 15:00:00")`.
fn at<Z: TimeZone>(tz: &Z, text: &str) -> DateTime<Z> {
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap();
    tz.from_local_datetime(&naive).earliest().unwrap()
}

fn spec(text: &str) -> CronSpec {
    text.parse().unwrap_or_else(|e| panic!("`{text}`: {e}"))
}

fn next(text: &str, from: &str) -> String {
    let tz = cet();
    let next = spec(text).next_after(&at(&tz, from)).unwrap();
    next.format("%a %Y-%m-%d %H:%M:%S").to_string()
}

fn error(text: &str) -> String {
    match text.parse::<CronSpec>() {
        Ok(spec) => panic!("`{text}` was accepted as {spec:?}"),
        Err(e) => e.to_string(),
    }
}

// 2026-11-22 is a Sunday.

#[test]
fn vendor_form_with_question_mark_is_every_day_at_23() {
    assert_eq!(
        next("0 23 ? * *", "2026-11-22 15:00:00"),
        "Sun 2026-11-22 23:00:00"
    );
    assert_eq!(
        next("0 23 ? * *", "2026-11-22 23:00:00"),
        "Mon 2026-11-23 23:00:00"
    );
    assert_eq!(
        next("0 23 * * ?", "2026-11-22 23:30:00"),
        "Mon 2026-11-23 23:00:00"
    );
}

#[test]
fn classic_crontab_forms() {
    assert_eq!(
        next("30 23 * * *", "2026-11-22 23:29:59"),
        "Sun 2026-11-22 23:30:00"
    );
    assert_eq!(
        next("*/15 * * * *", "2026-11-22 10:16:00"),
        "Sun 2026-11-22 10:30:00"
    );
    assert_eq!(
        next("0 0 1 jan *", "2026-11-22 10:00:00"),
        "Fri 2027-01-01 00:00:00"
    );
    assert_eq!(
        next("5/20 * * * *", "2026-11-22 10:26:00"),
        "Sun 2026-11-22 10:45:00"
    );
    assert_eq!(
        next("@daily", "2026-11-22 10:26:00"),
        "Mon 2026-11-23 00:00:00"
    );
}

#[test]
fn crontab_day_of_week_counts_from_sunday_zero() {
    // From Sunday morning: 1 is Monday, 0 and 7 are Sunday, 6 is Saturday.
    assert_eq!(
        next("0 8 * * 1", "2026-11-22 09:00:00"),
        "Mon 2026-11-23 08:00:00"
    );
    assert_eq!(
        next("0 8 * * 0", "2026-11-21 09:00:00"),
        "Sun 2026-11-22 08:00:00"
    );
    assert_eq!(
        next("0 8 * * 7", "2026-11-21 09:00:00"),
        "Sun 2026-11-22 08:00:00"
    );
    assert_eq!(
        next("0 8 * * 6", "2026-11-22 09:00:00"),
        "Sat 2026-11-28 08:00:00"
    );
    assert_eq!(
        next("0 8 * * sat", "2026-11-22 09:00:00"),
        "Sat 2026-11-28 08:00:00"
    );
}

#[test]
fn monday_to_friday_skips_the_weekend() {
    let tz = cet();
    for text in [
        "0 8 * * 1-5",
        "0 8 * * mon-fri",
        "0 8 * * MON-FRI",
        "0 0 8 ? * MON-FRI",
        "0 0 8 ? * 2-6",
    ] {
        let days: Vec<Weekday> = spec(text)
            .upcoming(&at(&tz, "2026-11-21 12:00:00"), 7)
            .iter()
            .map(|t| t.weekday())
            .collect();
        use Weekday::*;
        assert_eq!(days, [Mon, Tue, Wed, Thu, Fri, Mon, Tue], "{text}");
    }
}

#[test]
fn weekend_range_across_sunday_seven() {
    let tz = cet();
    let days: Vec<Weekday> = spec("0 8 * * 5-7")
        .upcoming(&at(&tz, "2026-11-23 12:00:00"), 4)
        .iter()
        .map(|t| t.weekday())
        .collect();
    assert_eq!(
        days,
        [Weekday::Fri, Weekday::Sat, Weekday::Sun, Weekday::Fri]
    );
}

#[test]
fn quartz_forms_count_sunday_as_one_and_take_a_year() {
    assert_eq!(
        next("0 0 23 ? * *", "2026-11-22 15:00:00"),
        "Sun 2026-11-22 23:00:00"
    );
    assert_eq!(
        next("0 0 8 ? * 2", "2026-11-22 09:00:00"),
        "Mon 2026-11-23 08:00:00"
    );
    assert_eq!(
        next("0 0 8 ? * 1", "2026-11-22 09:00:00"),
        "Sun 2026-11-29 08:00:00"
    );
    assert_eq!(
        next("0 30 23 ? * MON-FRI 2027", "2026-11-22 15:00:00"),
        "Fri 2027-01-01 23:30:00"
    );
    assert_eq!(
        next("15 * * * * *", "2026-11-22 15:00:00"),
        "Sun 2026-11-22 15:00:15"
    );
}

#[test]
fn day_of_month_or_day_of_week_like_crontab() {
    // The 1st of the month, and every Monday.
    let tz = cet();
    let days: Vec<String> = spec("0 8 1 * mon")
        .upcoming(&at(&tz, "2026-11-22 12:00:00"), 3)
        .iter()
        .map(|t| t.format("%a %d").to_string())
        .collect();
    assert_eq!(days, ["Mon 23", "Mon 30", "Tue 01"]);
}

#[test]
fn keeps_the_text_as_typed() {
    let s = spec("  0 23 ? * *  ");
    assert_eq!(s.to_string(), "0 23 ? * *");
    assert_eq!(s.as_str(), "0 23 ? * *");
    let json = serde_json::to_string(&s).unwrap();
    assert_eq!(json, "\"0 23 ? * *\"");
    let back: CronSpec = serde_json::from_str(&json).unwrap();
    assert_eq!(back, s);
    assert!(serde_json::from_str::<CronSpec>("\"0 25 * * *\"").is_err());
}

#[test]
fn errors_name_the_field_the_value_and_what_is_accepted() {
    assert_eq!(error("0 25 * * *"), "hour 25 is out of range 0-23");
    assert_eq!(error("60 * * * *"), "minute 60 is out of range 0-59");
    assert_eq!(error("0 0 32 * *"), "day of month 32 is out of range 1-31");
    assert_eq!(error("0 0 * 13 *"), "month 13 is out of range 1-12");
    assert_eq!(error("0 0 * * 8"), "day of week 8 is out of range 0-7");
    assert_eq!(error("0 0 0 ? * 0"), "day of week 0 is out of range 1-7");
    assert_eq!(
        error("0 0 0 ? * * 1900"),
        "year 1900 is out of range 1970-2100"
    );
    assert_eq!(
        error("0 23 * *"),
        "`0 23 * *`: expected 5 fields (minute hour day month weekday), 6 or 7 with seconds first; got 4"
    );
    assert!(error("1 2 3 4 5 6 7 8").ends_with("got 8"));
    assert!(error("").starts_with("the schedule is empty"));
    assert!(error("   ").starts_with("the schedule is empty"));
    let e = error("0 8 * * funday");
    assert!(
        e.starts_with("day of week `funday` is not valid: expected"),
        "{e}"
    );
    assert!(e.contains("sun-sat"), "{e}");
    assert_eq!(
        error("0 ? * * *"),
        "hour `?` is not valid: `?` (no specific value) is allowed only in day of month and day of week"
    );
    assert!(error("*/0 * * * *").starts_with("minute `*/0` is not valid"));
    assert!(error("0 20-8 * * *").contains("the range starts after it ends (20 > 8)"));
    assert!(error("@fortnightly").contains("@daily"));
    assert!(error("0 0 30 2 *").contains("never fires"));
}

#[test]
fn errors_are_typed() {
    assert_eq!(
        "0 25 * * *".parse::<CronSpec>().unwrap_err(),
        CronError::OutOfRange {
            unit: super::Unit::Hour,
            value: 25,
            min: 0,
            max: 23
        }
    );
    assert_eq!("".parse::<CronSpec>().unwrap_err(), CronError::Empty);
}

#[test]
fn upcoming_lists_the_next_ticks_in_order() {
    let tz = cet();
    let ticks: Vec<String> = spec("0 */6 * * *")
        .upcoming(&at(&tz, "2026-11-22 05:00:00"), 3)
        .iter()
        .map(|t| t.format("%d %H:%M").to_string())
        .collect();
    assert_eq!(ticks, ["22 06:00", "22 12:00", "22 18:00"]);
}

#[test]
fn a_past_year_has_no_next_tick() {
    let tz = cet();
    let s = spec("0 0 0 1 1 ? 2020");
    assert_eq!(s.next_after(&at(&tz, "2026-11-22 05:00:00")), None);
    assert!(s.upcoming(&at(&tz, "2026-11-22 05:00:00"), 3).is_empty());
}

fn local_and_utc(times: &[DateTime<Berlin2026>]) -> Vec<String> {
    times
        .iter()
        .map(|t| {
            format!(
                "{} = {}",
                t.format("%d %H:%M %:z"),
                t.naive_utc().format("%H:%M")
            )
        })
        .collect()
}

#[test]
fn a_time_skipped_in_spring_fires_at_the_end_of_the_gap() {
    let from = at(&Berlin2026, "2026-03-28 12:00:00");
    let ticks = spec("30 2 * * *").upcoming(&from, 3);
    assert_eq!(
        local_and_utc(&ticks),
        [
            "29 03:00 +02:00 = 01:00",
            "30 02:30 +02:00 = 00:30",
            "31 02:30 +02:00 = 00:30"
        ]
    );
}

#[test]
fn ticks_inside_the_spring_gap_fire_once() {
    let from = at(&Berlin2026, "2026-03-29 01:50:00");
    let ticks = spec("*/20 * * * *").upcoming(&from, 3);
    assert_eq!(
        local_and_utc(&ticks),
        [
            "29 03:00 +02:00 = 01:00",
            "29 03:20 +02:00 = 01:20",
            "29 03:40 +02:00 = 01:40"
        ]
    );
}

#[test]
fn a_time_repeated_in_autumn_fires_once() {
    let from = at(&Berlin2026, "2026-10-24 12:00:00");
    let ticks = spec("30 2 * * *").upcoming(&from, 2);
    assert_eq!(
        local_and_utc(&ticks),
        ["25 02:30 +02:00 = 00:30", "26 02:30 +01:00 = 01:30"]
    );
}

#[test]
fn during_the_repeated_hour_the_second_pass_does_not_fire_again() {
    // 02:40 +01:00 is in the second pass of 02:00-03:00; the first pass fired.
    let from = Berlin2026
        .from_local_datetime(
            &NaiveDateTime::parse_from_str("2026-10-25 02:40:00", "%Y-%m-%d %H:%M:%S").unwrap(),
        )
        .latest()
        .unwrap();
    let ticks = spec("*/30 * * * *").upcoming(&from, 2);
    assert_eq!(
        local_and_utc(&ticks),
        ["25 03:00 +01:00 = 02:00", "25 03:30 +01:00 = 02:30"]
    );
}
