//! The scheduler core: timers for named jobs, one job at a time. Plain data;
//! the caller passes the time in and carries out the decisions.

use super::CronSpec;
use super::status::{JobState, JobStatus, LastRun};
use chrono::{DateTime, TimeZone, Utc};
use std::collections::VecDeque;

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It did its work; a short summary such as "1204 contacts".
    Ok(String),
    /// It failed; the message says why.
    Failed(String),
    /// It was cancelled before it ended.
    Cancelled,
}

/// Why a tick did not start its job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// The job was still running its previous tick.
    StillRunning,
    /// The job was already waiting for another job to end; it runs once.
    AlreadyQueued,
}

/// What the caller must do (or report) after asking the scheduler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Start the job now, then call [`Scheduler::finished`] when it ends.
    /// `tick` is the tick it runs for (`None` when run by hand); `missed`
    /// counts earlier ticks folded into this run because they passed unseen.
    Start {
        job: String,
        tick: Option<DateTime<Utc>>,
        missed: u32,
    },
    /// The job's tick came while `behind` runs: it starts when that one ends.
    Queued {
        job: String,
        behind: String,
        tick: Option<DateTime<Utc>>,
    },
    /// The tick was dropped, for the reason given.
    Skipped {
        job: String,
        tick: Option<DateTime<Utc>>,
        reason: SkipReason,
    },
}

/// The answer to [`Scheduler::cancel`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cancel {
    /// The job is running: stop it, then call [`Scheduler::finished`] with
    /// [`Outcome::Cancelled`] (or however it ended).
    Stop { job: String },
    /// The job was waiting for its turn; it no longer will run for that tick.
    Dequeued { job: String },
    /// The job was neither running nor waiting.
    NotRunning { job: String },
}

#[derive(Debug, Clone)]
struct Job {
    name: String,
    spec: CronSpec,
    next: Option<DateTime<Utc>>,
    last: Option<LastRun>,
}

#[derive(Debug, Clone)]
struct Running {
    job: usize,
    tick: Option<DateTime<Utc>>,
    started: DateTime<Utc>,
    cancelling: bool,
}

#[derive(Debug, Clone)]
struct Waiting {
    job: usize,
    tick: Option<DateTime<Utc>>,
    missed: u32,
}

/// Timers for named jobs, in the time zone `Z` the cron specs are read in.
/// At most one job runs at a time; a tick that comes while another job runs
/// waits for it (once); a tick that comes while its own job runs is skipped.
#[derive(Debug, Clone)]
pub struct Scheduler<Z: TimeZone> {
    tz: Z,
    jobs: Vec<Job>,
    running: Option<Running>,
    queue: VecDeque<Waiting>,
}

/// Counting missed ticks stops here (a per-second spec after a long stop).
const MAX_COUNTED: u32 = 10_000;

impl<Z: TimeZone> Scheduler<Z> {
    /// Timers for `jobs` (name and spec; when several are due together they
    /// start in this order). Each first tick is strictly after `now`: ticks that
    /// passed while the node was stopped are not run.
    pub fn new(tz: Z, jobs: Vec<(String, CronSpec)>, now: DateTime<Utc>) -> Self {
        let mut scheduler = Scheduler {
            tz,
            jobs: Vec::new(),
            running: None,
            queue: VecDeque::new(),
        };
        for (name, spec) in jobs {
            let next = scheduler.tick_after(&spec, now);
            scheduler.jobs.push(Job {
                name,
                spec,
                next,
                last: None,
            });
        }
        scheduler
    }

    fn tick_after(&self, spec: &CronSpec, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        spec.next_after(&t.with_timezone(&self.tz))
            .map(|next| next.with_timezone(&Utc))
    }

    /// Gives `job` a new spec (the config changed): its next tick is the first
    /// one of the new spec strictly after `now`. False when no job has that name.
    pub fn reschedule(&mut self, job: &str, spec: CronSpec, now: DateTime<Utc>) -> bool {
        let Some(index) = self.jobs.iter().position(|j| j.name == job) else {
            return false;
        };
        self.jobs[index].next = self.tick_after(&spec, now);
        self.jobs[index].spec = spec;
        true
    }

    /// The earliest coming tick of any job: when to ask [`Scheduler::due`] next.
    pub fn next_wake(&self) -> Option<DateTime<Utc>> {
        self.jobs.iter().filter_map(|j| j.next).min()
    }

    /// The job running now, if any.
    pub fn running(&self) -> Option<&str> {
        self.running
            .as_ref()
            .map(|r| self.jobs[r.job].name.as_str())
    }

    /// Takes every tick at or before `now` and says what to do about it:
    /// skipped ticks first, then the job to start, then the jobs that wait for
    /// it. Each tick is handed out once: asking again gives nothing new, and
    /// after the clock went back a job waits for its next tick as planned
    /// (never an earlier one again). Several ticks of one job that passed
    /// unseen give one run.
    pub fn due(&mut self, now: DateTime<Utc>) -> Vec<Decision> {
        let mut decisions = Vec::new();
        let mut newly_queued = Vec::new();
        for index in 0..self.jobs.len() {
            let Some((tick, missed)) = self.take_ticks(index, now) else {
                continue;
            };
            let job = self.jobs[index].name.clone();
            let tick = Some(tick);
            if self.running.as_ref().is_some_and(|r| r.job == index) {
                decisions.push(Decision::Skipped {
                    job,
                    tick,
                    reason: SkipReason::StillRunning,
                });
            } else if let Some(waiting) = self.queue.iter_mut().find(|w| w.job == index) {
                waiting.missed = waiting.missed.saturating_add(missed + 1);
                decisions.push(Decision::Skipped {
                    job,
                    tick,
                    reason: SkipReason::AlreadyQueued,
                });
            } else {
                self.queue.push_back(Waiting {
                    job: index,
                    tick,
                    missed,
                });
                newly_queued.push(index);
            }
        }
        decisions.extend(self.start_next(now));
        if let Some(running) = &self.running {
            let behind = self.jobs[running.job].name.clone();
            for waiting in self.queue.iter().filter(|w| newly_queued.contains(&w.job)) {
                decisions.push(Decision::Queued {
                    job: self.jobs[waiting.job].name.clone(),
                    behind: behind.clone(),
                    tick: waiting.tick,
                });
            }
        }
        decisions
    }

    /// Consumes the job's ticks at or before `now`: the latest of them and how
    /// many earlier ones it stands for.
    fn take_ticks(&mut self, index: usize, now: DateTime<Utc>) -> Option<(DateTime<Utc>, u32)> {
        let first = self.jobs[index].next.filter(|t| *t <= now)?;
        let spec = self.jobs[index].spec.clone();
        let (mut tick, mut missed) = (first, 0);
        let next = loop {
            match self.tick_after(&spec, tick) {
                Some(t) if t <= now && missed < MAX_COUNTED => {
                    tick = t;
                    missed += 1;
                }
                Some(t) if t <= now => break self.tick_after(&spec, now),
                other => break other,
            }
        };
        self.jobs[index].next = next;
        Some((tick, missed))
    }

    /// Starts the first waiting job when none runs.
    fn start_next(&mut self, now: DateTime<Utc>) -> Option<Decision> {
        if self.running.is_some() {
            return None;
        }
        let waiting = self.queue.pop_front()?;
        self.running = Some(Running {
            job: waiting.job,
            tick: waiting.tick,
            started: now,
            cancelling: false,
        });
        Some(Decision::Start {
            job: self.jobs[waiting.job].name.clone(),
            tick: waiting.tick,
            missed: waiting.missed,
        })
    }

    /// Runs `job` now, outside its schedule (its timer is unchanged): it starts,
    /// or waits for the running job, or is skipped if it runs already. `None`
    /// when no job has that name.
    pub fn run_now(&mut self, job: &str, now: DateTime<Utc>) -> Option<Decision> {
        let index = self.jobs.iter().position(|j| j.name == job)?;
        let name = job.to_string();
        if self.running.as_ref().is_some_and(|r| r.job == index) {
            return Some(Decision::Skipped {
                job: name,
                tick: None,
                reason: SkipReason::StillRunning,
            });
        }
        if self.queue.iter().any(|w| w.job == index) {
            return Some(Decision::Skipped {
                job: name,
                tick: None,
                reason: SkipReason::AlreadyQueued,
            });
        }
        self.queue.push_back(Waiting {
            job: index,
            tick: None,
            missed: 0,
        });
        if let Some(start) = self.start_next(now) {
            return Some(start);
        }
        let behind = self.running().unwrap_or_default().to_string();
        Some(Decision::Queued {
            job: name,
            behind,
            tick: None,
        })
    }

    /// Asks to cancel `job`: stop it if it runs, drop it if it waits.
    pub fn cancel(&mut self, job: &str) -> Cancel {
        let name = job.to_string();
        if let Some(running) = self.running.as_mut() {
            if self.jobs[running.job].name == job {
                running.cancelling = true;
                return Cancel::Stop { job: name };
            }
        }
        let before = self.queue.len();
        self.queue.retain(|w| self.jobs[w.job].name != job);
        if self.queue.len() < before {
            Cancel::Dequeued { job: name }
        } else {
            Cancel::NotRunning { job: name }
        }
    }

    /// Records that the running `job` ended, and starts the next waiting job,
    /// if any. Returns nothing if `job` was not the running job.
    pub fn finished(&mut self, job: &str, outcome: Outcome, now: DateTime<Utc>) -> Vec<Decision> {
        let Some(running) = self.running.take_if(|r| self.jobs[r.job].name == job) else {
            return Vec::new();
        };
        self.jobs[running.job].last = Some(LastRun {
            tick: running.tick,
            started: running.started,
            finished: now,
            outcome,
        });
        self.start_next(now).into_iter().collect()
    }

    /// What each job is doing, for display, in the scheduler's time zone.
    pub fn status(&self) -> Vec<JobStatus> {
        self.jobs
            .iter()
            .enumerate()
            .map(|(index, job)| {
                let state = match &self.running {
                    Some(r) if r.job == index => JobState::Running {
                        since: r.started,
                        cancelling: r.cancelling,
                    },
                    _ if self.queue.iter().any(|w| w.job == index) => JobState::Queued,
                    _ => JobState::Idle,
                };
                JobStatus {
                    name: job.name.clone(),
                    spec: job.spec.to_string(),
                    state,
                    next: job.next.map(|t| t.with_timezone(&self.tz).fixed_offset()),
                    last: job.last.clone(),
                    last_finished: job
                        .last
                        .as_ref()
                        .map(|l| l.finished.with_timezone(&self.tz).fixed_offset()),
                }
            })
            .collect()
    }
}
