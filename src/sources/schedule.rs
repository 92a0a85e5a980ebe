//! When each directory source syncs: one timer per source on its cron, moved on
//! by the time it is given (tests never sleep). Missed ticks coalesce into one
//! run, and nothing runs for ticks missed while the server was stopped.

use crate::schedule::Cron;
use crate::schedule::scheduler::NextAfter;
use chrono::{DateTime, Local};

#[derive(Debug, Clone)]
struct Timer {
    name: String,
    spec: Cron,
    next: Option<DateTime<Local>>,
}

#[derive(Debug, Clone)]
pub struct Timers {
    timers: Vec<Timer>,
    next_after: NextAfter,
}

impl Timers {
    pub fn new(next_after: NextAfter) -> Timers {
        Timers {
            timers: Vec::new(),
            next_after,
        }
    }

    /// The sources to sync now, given each source's `(name, cron)`; a new or
    /// changed cron starts from `now`, an empty one never fires.
    pub fn due(&mut self, specs: &[(String, Cron)], now: DateTime<Local>) -> Vec<String> {
        let next_after = self.next_after;
        let old = std::mem::take(&mut self.timers);
        for (name, spec) in specs {
            let kept = old.iter().find(|t| t.name == *name && t.spec == *spec);
            self.timers.push(match kept {
                Some(t) => t.clone(),
                None => Timer {
                    name: name.clone(),
                    spec: spec.clone(),
                    next: if spec.is_empty() {
                        None
                    } else {
                        next_after(spec, now)
                    },
                },
            });
        }
        let mut due = Vec::new();
        for t in &mut self.timers {
            if let Some(next) = t.next
                && next <= now
            {
                t.next = next_after(&t.spec, now.max(next));
                due.push(t.name.clone());
            }
        }
        due
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32) -> DateTime<Local> {
        Local.with_ymd_and_hms(2026, 3, 10, h, m, 0).unwrap()
    }

    #[test]
    fn each_source_fires_on_its_cron_once_per_tick() {
        let mut t = Timers::new(crate::schedule::scheduler::next_after);
        let cron = |s: &str| Cron::parse(s).unwrap();
        let specs = vec![
            ("a".to_string(), cron("0 * * * *")),
            ("b".to_string(), cron("")),
        ];
        assert!(t.due(&specs, at(10, 30)).is_empty());
        assert!(t.due(&specs, at(10, 59)).is_empty());
        assert_eq!(t.due(&specs, at(11, 0)), ["a"]);
        assert!(t.due(&specs, at(11, 0)).is_empty());
        // Three missed ticks: one run.
        assert_eq!(t.due(&specs, at(14, 5)), ["a"]);
        assert!(t.due(&specs, at(14, 30)).is_empty());
        let changed = vec![("a".to_string(), cron("45 * * * *"))];
        assert!(t.due(&changed, at(14, 31)).is_empty());
        assert_eq!(t.due(&changed, at(14, 45)), ["a"]);
    }
}
