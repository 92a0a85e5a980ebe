//! One field of a cron spec: `*`, `?`, values, ranges, steps and names, read
//! into the set of values it stands for.

use super::CronError;
use std::collections::BTreeSet;
use std::fmt;

/// Which field of a cron spec, with the values it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Second,
    Minute,
    Hour,
    DayOfMonth,
    Month,
    /// Crontab numbering: 0-7, where 0 and 7 are Sunday.
    Weekday,
    /// Quartz numbering: 1-7, where 1 is Sunday.
    QuartzWeekday,
    Year,
}

impl Unit {
    /// The smallest and largest number the field accepts.
    pub fn range(self) -> (u32, u32) {
        match self {
            Unit::Second | Unit::Minute => (0, 59),
            Unit::Hour => (0, 23),
            Unit::DayOfMonth => (1, 31),
            Unit::Month => (1, 12),
            Unit::Weekday => (0, 7),
            Unit::QuartzWeekday => (1, 7),
            Unit::Year => (1970, 2100),
        }
    }

    /// Whether `?` (no specific value) is allowed.
    fn allows_any(self) -> bool {
        matches!(self, Unit::DayOfMonth | Unit::Weekday | Unit::QuartzWeekday)
    }

    fn name_value(self, name: &str) -> Option<u32> {
        const MONTHS: [&str; 12] = [
            "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
        ];
        const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
        let lower = name.to_ascii_lowercase();
        let index = |names: &[&str]| names.iter().position(|n| *n == lower);
        match self {
            Unit::Month => index(&MONTHS).map(|i| i as u32 + 1),
            Unit::Weekday => index(&DAYS).map(|i| i as u32),
            Unit::QuartzWeekday => index(&DAYS).map(|i| i as u32 + 1),
            _ => None,
        }
    }

    /// What the field accepts, for error messages.
    pub fn accepted(self) -> String {
        let (min, max) = self.range();
        let names = match self {
            Unit::Month => ", or names jan-dec",
            Unit::Weekday => " (0 and 7 are Sunday), or names sun-sat",
            Unit::QuartzWeekday => " (1 is Sunday), or names sun-sat",
            _ => "",
        };
        let any = if self.allows_any() { ", `?`" } else { "" };
        format!(
            "`*`{any}, a number {min}-{max}{names}, a range `a-b`, a step `*/n` or `a-b/n`, or a list of these separated by commas"
        )
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Unit::Second => "second",
            Unit::Minute => "minute",
            Unit::Hour => "hour",
            Unit::DayOfMonth => "day of month",
            Unit::Month => "month",
            Unit::Weekday | Unit::QuartzWeekday => "day of week",
            Unit::Year => "year",
        })
    }
}

/// The values a field stands for; `None` is every value (`*` or `?`).
pub type Values = Option<BTreeSet<u32>>;

/// Reads one field. Values are in the field's own numbering (see [`Unit`]).
pub fn parse(unit: Unit, text: &str) -> Result<Values, CronError> {
    if text == "*" || text == "?" {
        if text == "?" && !unit.allows_any() {
            return Err(CronError::Field {
                unit,
                value: text.to_string(),
                problem: "`?` (no specific value) is allowed only in day of month and day of week"
                    .to_string(),
            });
        }
        return Ok(None);
    }
    let mut values = BTreeSet::new();
    for item in text.split(',') {
        values.extend(item_values(unit, item)?);
    }
    Ok(Some(values))
}

fn item_values(unit: Unit, item: &str) -> Result<Vec<u32>, CronError> {
    let (min, max) = unit.range();
    let (span, step) = match item.split_once('/') {
        Some((span, step)) => {
            let step: u32 = step.parse().map_err(|_| invalid(unit, item))?;
            if step == 0 {
                return Err(invalid(unit, item));
            }
            (span, step)
        }
        None => (item, 1),
    };
    let (low, high) = if span == "*" {
        (min, max)
    } else if let Some((a, b)) = span.split_once('-') {
        (value(unit, a, item)?, value(unit, b, item)?)
    } else {
        let v = value(unit, span, item)?;
        // `5/15` in crontab and Quartz means from 5 to the end, every 15.
        (v, if item.contains('/') { max } else { v })
    };
    if low > high {
        return Err(CronError::Field {
            unit,
            value: item.to_string(),
            problem: format!("the range starts after it ends ({low} > {high})"),
        });
    }
    Ok((low..=high).step_by(step as usize).collect())
}

fn value(unit: Unit, text: &str, item: &str) -> Result<u32, CronError> {
    let (min, max) = unit.range();
    let v = match text.parse::<u32>() {
        Ok(v) => v,
        Err(_) => unit.name_value(text).ok_or_else(|| invalid(unit, item))?,
    };
    if v < min || v > max {
        return Err(CronError::OutOfRange {
            unit,
            value: v,
            min,
            max,
        });
    }
    Ok(v)
}

fn invalid(unit: Unit, text: &str) -> CronError {
    CronError::Field {
        unit,
        value: text.to_string(),
        problem: format!("expected {}", unit.accepted()),
    }
}
