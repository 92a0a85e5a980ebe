//! [`CronSpec`]: a cron schedule as an admin types it, read into a typed value.

use super::CronError;
use super::field::{self, Unit, Values};
use chrono::{DateTime, LocalResult, NaiveDateTime, TimeDelta, TimeZone, Timelike, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A cron schedule. Accepted forms:
///
/// * 5 fields, crontab style: `minute hour day-of-month month day-of-week`, where
///   day-of-week is 0-7 (0 and 7 are Sunday) or `sun`-`sat`, and `?` may stand in
///   day-of-month or day-of-week (`0 23 ? * *` is 23:00 every day);
/// * 6 or 7 fields, Quartz style, seconds first and an optional year last, where
///   day-of-week is 1-7 from Sunday (`0 30 23 ? * MON-FRI 2027`);
/// * `@yearly`, `@monthly`, `@weekly`, `@daily` (or `@midnight`), `@hourly`.
///
/// When both day-of-month and day-of-week are restricted, a day matching either
/// fires (the crontab rule): `0 8 1 * mon` is the 1st of each month and every Monday.
///
/// Times are wall-clock times in the zone given to [`CronSpec::next_after`]. On
/// daylight saving days: a time that does not exist (in the hour skipped in
/// spring) fires once at the end of the gap (02:30 fires at 03:00); a time that
/// occurs twice (in the hour repeated in autumn) fires once, at its first
/// occurrence. So each wall-clock tick fires exactly once.
#[derive(Clone, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CronSpec {
    text: String,
    /// One schedule, or two when a day matching either of the day fields fires.
    schedules: Vec<cron::Schedule>,
}

impl CronSpec {
    /// The spec as the admin typed it (trimmed).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The first tick strictly after `t`, in `t`'s time zone; `None` if the
    /// schedule never fires again (a year field in the past).
    pub fn next_after<Z: TimeZone>(&self, t: &DateTime<Z>) -> Option<DateTime<Z>> {
        let tz = t.timezone();
        let mut cursor = t.naive_local();
        // Ticks are searched in wall-clock time and then placed in the zone. Only
        // ticks in an hour repeated at the end of daylight saving time can land
        // at or before `t`, so the loop ends within an hour of ticks.
        for _ in 0..=MAX_SKIPPED_TICKS {
            let naive = self.next_naive(cursor)?;
            let instant = place(&tz, naive)?;
            if instant > *t {
                return Some(instant);
            }
            cursor = naive;
        }
        None
    }

    /// The next `n` ticks strictly after `from`.
    pub fn upcoming<Z: TimeZone>(&self, from: &DateTime<Z>, n: usize) -> Vec<DateTime<Z>> {
        let mut out: Vec<DateTime<Z>> = Vec::with_capacity(n);
        let mut cursor = from.clone();
        while out.len() < n {
            match self.next_after(&cursor) {
                Some(next) => {
                    cursor = next.clone();
                    out.push(next);
                }
                None => break,
            }
        }
        out
    }

    /// The first wall-clock tick strictly after `after`.
    fn next_naive(&self, after: NaiveDateTime) -> Option<NaiveDateTime> {
        let after = Utc.from_utc_datetime(&after);
        self.schedules
            .iter()
            .filter_map(|s| s.after(&after).next())
            .min()
            .map(|t| t.naive_utc())
    }
}

/// One hour of ticks at one a second, plus margin.
const MAX_SKIPPED_TICKS: usize = 3700;

/// Places a wall-clock time in `tz`: the first occurrence when it occurs twice,
/// the end of the gap when it does not exist.
fn place<Z: TimeZone>(tz: &Z, naive: NaiveDateTime) -> Option<DateTime<Z>> {
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => Some(t),
        LocalResult::None => {
            let mut probe = naive.with_second(0)?;
            // Gaps are whole minutes and at most a day long.
            for _ in 0..(26 * 60) {
                probe += TimeDelta::minutes(1);
                if let Some(t) = tz.from_local_datetime(&probe).earliest() {
                    return Some(t);
                }
            }
            None
        }
    }
}

impl FromStr for CronSpec {
    type Err = CronError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        if text.is_empty() {
            return Err(CronError::Empty);
        }
        let expanded = match text.strip_prefix('@') {
            Some(name) => shorthand(name)?,
            None => text,
        };
        let fields: Vec<&str> = expanded.split_whitespace().collect();
        let parsed = match fields.as_slice() {
            [m, h, dom, mon, dow] => Fields {
                seconds: Some([0].into()),
                minutes: field::parse(Unit::Minute, m)?,
                hours: field::parse(Unit::Hour, h)?,
                days: field::parse(Unit::DayOfMonth, dom)?,
                months: field::parse(Unit::Month, mon)?,
                weekdays: field::parse(Unit::Weekday, dow)?
                    .map(|days| days.into_iter().map(|d| d % 7 + 1).collect()),
                years: None,
            },
            [s, m, h, dom, mon, dow, rest @ ..] if rest.len() <= 1 => Fields {
                seconds: field::parse(Unit::Second, s)?,
                minutes: field::parse(Unit::Minute, m)?,
                hours: field::parse(Unit::Hour, h)?,
                days: field::parse(Unit::DayOfMonth, dom)?,
                months: field::parse(Unit::Month, mon)?,
                weekdays: field::parse(Unit::QuartzWeekday, dow)?,
                years: match rest.first() {
                    Some(y) => field::parse(Unit::Year, y)?,
                    None => None,
                },
            },
            _ => {
                return Err(CronError::FieldCount {
                    spec: text.to_string(),
                    got: fields.len(),
                });
            }
        };
        let spec = CronSpec {
            text: text.to_string(),
            schedules: parsed.schedules(text)?,
        };
        let epoch = Utc.timestamp_opt(0, 0).earliest();
        if epoch.and_then(|e| spec.next_naive(e.naive_utc())).is_none() {
            return Err(CronError::Never {
                spec: text.to_string(),
            });
        }
        Ok(spec)
    }
}

fn shorthand(name: &str) -> Result<&'static str, CronError> {
    Ok(match name.to_ascii_lowercase().as_str() {
        "yearly" | "annually" => "0 0 1 1 *",
        "monthly" => "0 0 1 * *",
        "weekly" => "0 0 * * 0",
        "daily" | "midnight" => "0 0 * * *",
        "hourly" => "0 * * * *",
        _ => return Err(CronError::Shorthand(format!("@{name}"))),
    })
}

/// Every field as a set of values; day of week numbered 1-7 from Sunday.
struct Fields {
    seconds: Values,
    minutes: Values,
    hours: Values,
    days: Values,
    months: Values,
    weekdays: Values,
    years: Values,
}

impl Fields {
    fn schedules(&self, text: &str) -> Result<Vec<cron::Schedule>, CronError> {
        let build = |days: &Values, weekdays: &Values| {
            let expression = [
                &self.seconds,
                &self.minutes,
                &self.hours,
                days,
                &self.months,
                weekdays,
                &self.years,
            ]
            .map(list)
            .join(" ");
            cron::Schedule::from_str(&expression).map_err(|e| CronError::Rejected {
                spec: text.to_string(),
                reason: e.to_string(),
            })
        };
        if self.days.is_some() && self.weekdays.is_some() {
            Ok(vec![
                build(&self.days, &None)?,
                build(&None, &self.weekdays)?,
            ])
        } else {
            Ok(vec![build(&self.days, &self.weekdays)?])
        }
    }
}

fn list(values: &Values) -> String {
    match values {
        None => "*".to_string(),
        Some(set) => set
            .iter()
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join(","),
    }
}

impl TryFrom<String> for CronSpec {
    type Error = CronError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<CronSpec> for String {
    fn from(spec: CronSpec) -> String {
        spec.text
    }
}

impl fmt::Display for CronSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for CronSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CronSpec({:?})", self.text)
    }
}

impl PartialEq for CronSpec {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for CronSpec {}
