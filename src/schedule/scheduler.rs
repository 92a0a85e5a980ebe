//! When the UCM's import and merge run: each on its cron, never both at once, never
//! twice for one tick, and not at start-up for ticks missed while the server was
//! stopped (the first run is the first tick after start, as the product's guide
//! says). Plain data driven by the time it is given, so tests never sleep.

use super::Cron;
use chrono::{DateTime, Local};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    Import,
    Merge,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Import => "import",
            JobKind::Merge => "merge",
        }
    }
}

/// The next time a schedule fires after a time.
pub type NextAfter = fn(&Cron, DateTime<Local>) -> Option<DateTime<Local>>;

/// `NextAfter` for the schedules admins set.
pub fn next_after(cron: &Cron, t: DateTime<Local>) -> Option<DateTime<Local>> {
    cron.next_after(&t)
}

#[derive(Debug, Clone)]
struct Timer {
    kind: JobKind,
    spec: Cron,
    next: Option<DateTime<Local>>,
}

/// What the scheduler knows of one job, for status displays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobView {
    pub kind: JobKind,
    /// Empty: on demand only.
    pub cron: String,
    pub next: Option<String>,
    pub running: bool,
    pub queued: bool,
    /// Ticks that came while this job was already running (and were not run again).
    pub skipped_ticks: u64,
}

#[derive(Debug, Clone)]
pub struct Scheduler {
    timers: Vec<Timer>,
    next_after: NextAfter,
    running: Option<JobKind>,
    queue: Vec<JobKind>,
    skipped: Vec<(JobKind, u64)>,
}

impl Scheduler {
    /// Timers for `(job, cron spec)`; an empty spec never fires. Their first runs
    /// are strictly after `now`.
    pub fn new(
        specs: &[(JobKind, Cron)],
        now: DateTime<Local>,
        next_after: NextAfter,
    ) -> Scheduler {
        let mut s = Scheduler {
            timers: Vec::new(),
            next_after,
            running: None,
            queue: Vec::new(),
            skipped: Vec::new(),
        };
        s.reschedule(specs, now);
        s
    }

    /// New specs (after a config change): timers whose spec changed restart from `now`.
    pub fn reschedule(&mut self, specs: &[(JobKind, Cron)], now: DateTime<Local>) {
        let old = std::mem::take(&mut self.timers);
        for (kind, spec) in specs {
            let kept = old.iter().find(|t| t.kind == *kind && t.spec == *spec);
            self.timers.push(match kept {
                Some(t) => t.clone(),
                None => Timer {
                    kind: *kind,
                    spec: spec.clone(),
                    next: self.first_after(spec, now),
                },
            });
        }
    }

    fn first_after(&self, spec: &Cron, t: DateTime<Local>) -> Option<DateTime<Local>> {
        if spec.is_empty() {
            None
        } else {
            (self.next_after)(spec, t)
        }
    }

    /// Called with the current time: queues the jobs whose tick came (once, however
    /// many ticks were missed) and returns the job to start now, if any. A clock
    /// that goes back fires nothing twice: a timer only moves forward.
    pub fn tick(&mut self, now: DateTime<Local>) -> Option<JobKind> {
        let next_after = self.next_after;
        let mut due = Vec::new();
        for t in &mut self.timers {
            let Some(next) = t.next else { continue };
            if next > now {
                continue;
            }
            // Past every tick up to now: missed ticks coalesce into this one.
            t.next = next_after(&t.spec, now.max(next));
            due.push(t.kind);
        }
        for kind in due {
            if self.running == Some(kind) {
                match self.skipped.iter_mut().find(|(k, _)| *k == kind) {
                    Some((_, n)) => *n += 1,
                    None => self.skipped.push((kind, 1)),
                }
            } else if !self.queue.contains(&kind) {
                self.queue.push(kind);
            }
        }
        self.start_next()
    }

    fn start_next(&mut self) -> Option<JobKind> {
        if self.running.is_some() || self.queue.is_empty() {
            return None;
        }
        let kind = self.queue.remove(0);
        self.running = Some(kind);
        Some(kind)
    }

    /// Asks to run a job now (`sop ucm import` on a running server): queued behind
    /// the running one. Returns it when it can start at once.
    pub fn request(&mut self, kind: JobKind) -> Option<JobKind> {
        if self.running != Some(kind) && !self.queue.contains(&kind) {
            self.queue.push(kind);
        }
        self.start_next()
    }

    /// The running job ended; returns the queued job to start next, if any.
    pub fn finished(&mut self, kind: JobKind) -> Option<JobKind> {
        if self.running == Some(kind) {
            self.running = None;
        }
        self.start_next()
    }

    pub fn running(&self) -> Option<JobKind> {
        self.running
    }

    pub fn view(&self) -> Vec<JobView> {
        self.timers
            .iter()
            .map(|t| JobView {
                kind: t.kind,
                cron: t.spec.to_string(),
                next: t.next.map(|n| n.to_rfc3339()),
                running: self.running == Some(t.kind),
                queued: self.queue.contains(&t.kind),
                skipped_ticks: self
                    .skipped
                    .iter()
                    .find(|(k, _)| *k == t.kind)
                    .map_or(0, |(_, n)| *n),
            })
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone, Timelike};

    /// Fires on every full hour at `minute` (the spec's first field).
    fn hourly(spec: &Cron, t: DateTime<Local>) -> Option<DateTime<Local>> {
        let minute: u32 = spec.as_str().split_whitespace().next()?.parse().ok()?;
        let base = t.with_second(0)?.with_nanosecond(0)?;
        let candidate = base.with_minute(minute)?;
        Some(if candidate > t {
            candidate
        } else {
            candidate + Duration::hours(1)
        })
    }

    fn at(h: u32, m: u32) -> DateTime<Local> {
        Local.with_ymd_and_hms(2026, 3, 10, h, m, 0).unwrap()
    }

    /// Every hour at `minute`.
    fn at_minute(minute: u32) -> Cron {
        Cron::parse(&format!("{minute} * * * *")).unwrap()
    }

    fn specs() -> Vec<(JobKind, Cron)> {
        vec![
            (JobKind::Import, at_minute(0)),
            (JobKind::Merge, at_minute(30)),
        ]
    }

    #[test]
    fn ticks_missed_before_start_are_not_run() {
        let mut s = Scheduler::new(&specs(), at(10, 45), hourly);
        assert_eq!(s.tick(at(10, 45)), None);
        let v = s.view();
        assert_eq!(v[0].next.as_deref(), Some(at(11, 0).to_rfc3339().as_str()));
        assert_eq!(s.tick(at(11, 0)), Some(JobKind::Import));
    }

    #[test]
    fn each_tick_runs_once_even_if_asked_again_or_the_clock_goes_back() {
        let mut s = Scheduler::new(&specs(), at(10, 45), hourly);
        assert_eq!(s.tick(at(11, 0)), Some(JobKind::Import));
        assert_eq!(s.finished(JobKind::Import), None);
        assert_eq!(s.tick(at(11, 0)), None);
        assert_eq!(s.tick(at(10, 50)), None, "clock went back");
        assert_eq!(s.tick(at(11, 1)), None);
    }

    #[test]
    fn jobs_never_overlap_and_a_waiting_one_runs_after() {
        let mut s = Scheduler::new(&specs(), at(10, 45), hourly);
        assert_eq!(s.tick(at(11, 0)), Some(JobKind::Import));
        // The import is still running at the merge's tick: the merge waits.
        assert_eq!(s.tick(at(11, 30)), None);
        assert!(s.view()[1].queued);
        assert_eq!(s.finished(JobKind::Import), Some(JobKind::Merge));
        assert_eq!(s.running(), Some(JobKind::Merge));
    }

    #[test]
    fn a_tick_of_a_running_job_is_skipped_and_counted() {
        let mut s = Scheduler::new(&specs(), at(10, 45), hourly);
        assert_eq!(s.tick(at(11, 0)), Some(JobKind::Import));
        assert_eq!(s.tick(at(12, 0)), None);
        assert_eq!(s.view()[0].skipped_ticks, 1);
        assert_eq!(s.finished(JobKind::Import), Some(JobKind::Merge));
    }

    #[test]
    fn many_missed_ticks_run_once() {
        let mut s = Scheduler::new(&specs(), at(10, 45), hourly);
        // The machine slept for hours.
        assert_eq!(s.tick(at(15, 10)), Some(JobKind::Import));
        assert_eq!(s.finished(JobKind::Import), Some(JobKind::Merge));
        assert_eq!(s.finished(JobKind::Merge), None);
        assert_eq!(
            s.view()[0].next.as_deref(),
            Some(at(16, 0).to_rfc3339().as_str())
        );
    }

    #[test]
    fn requests_queue_behind_the_running_job_and_empty_specs_never_fire() {
        let mut s = Scheduler::new(
            &[
                (JobKind::Import, Cron::default()),
                (JobKind::Merge, at_minute(30)),
            ],
            at(10, 45),
            hourly,
        );
        assert_eq!(s.tick(at(23, 0)), Some(JobKind::Merge));
        assert_eq!(s.request(JobKind::Import), None);
        assert_eq!(s.finished(JobKind::Merge), Some(JobKind::Import));
        assert!(s.view()[0].next.is_none());
    }

    #[test]
    fn a_changed_spec_restarts_from_now_and_an_unchanged_one_keeps_its_time() {
        let mut s = Scheduler::new(&specs(), at(10, 45), hourly);
        s.reschedule(
            &[
                (JobKind::Import, at_minute(0)),
                (JobKind::Merge, at_minute(50)),
            ],
            at(10, 46),
        );
        let v = s.view();
        assert_eq!(v[0].next.as_deref(), Some(at(11, 0).to_rfc3339().as_str()));
        assert_eq!(v[1].next.as_deref(), Some(at(10, 50).to_rfc3339().as_str()));
    }
}
