//! A job's schedule as the config holds it: the text the admin typed, parsed once
//! where it entered (config load), or empty for "on demand only".

use super::CronSpec;
use chrono::{DateTime, TimeZone};
use serde::{Serialize, Serializer};

#[derive(Clone, Default)]
pub struct Cron {
    /// None: empty, the job runs on demand only.
    spec: Option<CronSpec>,
}

impl Cron {
    /// A schedule from what an admin typed: "" (or blanks) is none; anything else
    /// must be a cron spec, and the error says why it is not.
    pub fn parse(text: &str) -> Result<Cron, super::CronError> {
        if text.trim().is_empty() {
            return Ok(Cron::default());
        }
        Ok(Cron {
            spec: Some(text.parse()?),
        })
    }

    /// The spec as typed (trimmed); "" when there is none.
    pub fn as_str(&self) -> &str {
        self.spec.as_ref().map_or("", CronSpec::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.spec.is_none()
    }

    /// The first tick strictly after `t`; None when there is no schedule, or it
    /// never fires again.
    pub fn next_after<Z: TimeZone>(&self, t: &DateTime<Z>) -> Option<DateTime<Z>> {
        self.spec.as_ref()?.next_after(t)
    }

    /// The next `n` ticks after `from` (none without a schedule).
    pub fn upcoming<Z: TimeZone>(&self, from: &DateTime<Z>, n: usize) -> Vec<DateTime<Z>> {
        self.spec
            .as_ref()
            .map(|s| s.upcoming(from, n))
            .unwrap_or_default()
    }
}

impl PartialEq for Cron {
    fn eq(&self, other: &Cron) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Cron {}

impl std::fmt::Debug for Cron {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Cron({:?})", self.as_str())
    }
}

impl std::fmt::Display for Cron {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

impl Serialize for Cron {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn empty_is_on_demand_and_a_spec_is_kept_as_typed() {
        let none = Cron::parse("  ").unwrap();
        assert!(none.is_empty());
        assert_eq!(none.as_str(), "");
        assert_eq!(none.next_after(&chrono::Utc::now()), None);
        let nightly = Cron::parse(" 0 23 ? * * ").unwrap();
        assert_eq!(nightly.to_string(), "0 23 ? * *");
        assert_eq!(format!("{nightly:>12}|"), "  0 23 ? * *|");
        assert!(nightly.next_after(&chrono::Utc::now()).is_some());
        assert!(Cron::parse("0 25 * * *").is_err());
    }
}
