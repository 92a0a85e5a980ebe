#![allow(clippy::unwrap_used, clippy::panic)]

use super::{Cancel, Clock, Decision, JobState, Outcome, Scheduler, SkipReason, SystemClock};
use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeDelta, TimeZone, Utc};
use std::cell::Cell;

/// A clock the test moves by hand.
struct FakeClock(Cell<DateTime<Utc>>);

impl FakeClock {
    fn at(text: &str) -> Self {
        FakeClock(Cell::new(local(text)))
    }
    fn set(&self, text: &str) {
        self.0.set(local(text));
    }
}

impl Clock for FakeClock {
    fn now(&self) -> DateTime<Utc> {
        self.0.get()
    }
}

fn tz() -> FixedOffset {
    FixedOffset::east_opt(3600).unwrap()
}

/// A wall-clock time at UTC+1, as an instant.
fn local(text: &str) -> DateTime<Utc> {
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap();
    tz().from_local_datetime(&naive)
        .unwrap()
        .with_timezone(&Utc)
}

/// Import at 23:00 every day, merge every 15 minutes.
fn scheduler(clock: &FakeClock) -> Scheduler<FixedOffset> {
    Scheduler::new(
        tz(),
        vec![
            ("import".to_string(), "0 23 ? * *".parse().unwrap()),
            ("merge".to_string(), "*/15 * * * *".parse().unwrap()),
        ],
        clock.now(),
    )
}

fn start(job: &str, tick: &str, missed: u32) -> Decision {
    Decision::Start {
        job: job.to_string(),
        tick: Some(local(tick)),
        missed,
    }
}

fn ok() -> Outcome {
    Outcome::Ok(String::new())
}

#[test]
fn first_ticks_are_after_start_up_and_missed_ones_are_not_run() {
    // Started at 23:00 exactly: the import of 23:00 and the merge of 23:00
    // count as passed while the node was stopped.
    let clock = FakeClock::at("2026-11-22 23:00:00");
    let mut s = scheduler(&clock);
    assert_eq!(s.due(clock.now()), []);
    assert_eq!(s.next_wake(), Some(local("2026-11-22 23:15:00")));
    let status = s.status();
    assert_eq!(status[0].next_text(), "2026-11-23 23:00 +01:00");
    assert_eq!(status[1].next_text(), "2026-11-22 23:15 +01:00");
    assert_eq!(status[0].last_text(), "never run");
    assert_eq!(status[0].state, JobState::Idle);
}

#[test]
fn each_tick_is_handed_out_once() {
    let clock = FakeClock::at("2026-11-22 10:01:00");
    let mut s = scheduler(&clock);
    clock.set("2026-11-22 10:15:00");
    assert_eq!(
        s.due(clock.now()),
        [start("merge", "2026-11-22 10:15:00", 0)]
    );
    assert_eq!(s.due(clock.now()), []);
    s.finished("merge", ok(), clock.now());
    assert_eq!(s.due(clock.now()), []);
    // The clock goes back: the 10:15 tick is not handed out again.
    clock.set("2026-11-22 10:05:00");
    assert_eq!(s.due(clock.now()), []);
    clock.set("2026-11-22 10:15:00");
    assert_eq!(s.due(clock.now()), []);
    clock.set("2026-11-22 10:30:00");
    assert_eq!(
        s.due(clock.now()),
        [start("merge", "2026-11-22 10:30:00", 0)]
    );
}

#[test]
fn ticks_that_passed_unseen_give_one_run() {
    let clock = FakeClock::at("2026-11-22 10:01:00");
    let mut s = scheduler(&clock);
    // Nobody asked for an hour (the host was suspended): four merge ticks passed.
    clock.set("2026-11-22 11:05:00");
    assert_eq!(
        s.due(clock.now()),
        [start("merge", "2026-11-22 11:00:00", 3)]
    );
    s.finished("merge", ok(), clock.now());
    assert_eq!(s.due(clock.now()), []);
    assert_eq!(s.next_wake(), Some(local("2026-11-22 11:15:00")));
}

#[test]
fn a_tick_while_its_own_job_runs_is_skipped_and_reported() {
    let clock = FakeClock::at("2026-11-22 10:01:00");
    let mut s = scheduler(&clock);
    clock.set("2026-11-22 10:15:00");
    assert_eq!(s.due(clock.now()).len(), 1);
    clock.set("2026-11-22 10:30:00");
    assert_eq!(
        s.due(clock.now()),
        [Decision::Skipped {
            job: "merge".to_string(),
            tick: Some(local("2026-11-22 10:30:00")),
            reason: SkipReason::StillRunning,
        }]
    );
    // It ends: the skipped tick does not run afterwards.
    clock.set("2026-11-22 10:40:00");
    assert_eq!(s.finished("merge", ok(), clock.now()), []);
    assert_eq!(s.due(clock.now()), []);
    assert_eq!(s.running(), None);
}

#[test]
fn jobs_never_overlap_a_tick_waits_once_for_the_running_job() {
    let clock = FakeClock::at("2026-11-22 22:50:00");
    let mut s = scheduler(&clock);
    // At 23:00 both are due: the import starts first, the merge waits.
    clock.set("2026-11-22 23:00:00");
    assert_eq!(
        s.due(clock.now()),
        [
            start("import", "2026-11-22 23:00:00", 0),
            Decision::Queued {
                job: "merge".to_string(),
                behind: "import".to_string(),
                tick: Some(local("2026-11-22 23:00:00")),
            },
        ]
    );
    assert_eq!(s.status()[1].state, JobState::Queued);
    // The import runs long; the merge's next ticks do not queue it twice.
    clock.set("2026-11-22 23:15:00");
    assert_eq!(
        s.due(clock.now()),
        [Decision::Skipped {
            job: "merge".to_string(),
            tick: Some(local("2026-11-22 23:15:00")),
            reason: SkipReason::AlreadyQueued,
        }]
    );
    clock.set("2026-11-22 23:20:00");
    assert_eq!(
        s.finished(
            "import",
            Outcome::Ok("1204 contacts".to_string()),
            clock.now()
        ),
        [start("merge", "2026-11-22 23:00:00", 1)]
    );
    assert_eq!(s.running(), Some("merge"));
    assert_eq!(s.due(clock.now()), []);
    assert_eq!(s.finished("merge", ok(), clock.now()), []);
    assert_eq!(s.running(), None);
}

#[test]
fn run_now_starts_waits_or_is_skipped() {
    let clock = FakeClock::at("2026-11-22 10:01:00");
    let mut s = scheduler(&clock);
    assert_eq!(
        s.run_now("import", clock.now()),
        Some(Decision::Start {
            job: "import".to_string(),
            tick: None,
            missed: 0
        })
    );
    assert_eq!(
        s.run_now("import", clock.now()),
        Some(Decision::Skipped {
            job: "import".to_string(),
            tick: None,
            reason: SkipReason::StillRunning
        })
    );
    assert_eq!(
        s.run_now("merge", clock.now()),
        Some(Decision::Queued {
            job: "merge".to_string(),
            behind: "import".to_string(),
            tick: None
        })
    );
    assert_eq!(s.run_now("backup", clock.now()), None);
    // The timers are unchanged by runs by hand.
    assert_eq!(s.next_wake(), Some(local("2026-11-22 10:15:00")));
}

#[test]
fn cancel_stops_the_running_job_or_drops_a_waiting_one() {
    let clock = FakeClock::at("2026-11-22 22:50:00");
    let mut s = scheduler(&clock);
    clock.set("2026-11-22 23:00:00");
    assert_eq!(s.due(clock.now()).len(), 2);
    assert_eq!(
        s.cancel("merge"),
        Cancel::Dequeued {
            job: "merge".to_string()
        }
    );
    assert_eq!(
        s.cancel("import"),
        Cancel::Stop {
            job: "import".to_string()
        }
    );
    assert!(matches!(
        s.status()[0].state,
        JobState::Running {
            cancelling: true,
            ..
        }
    ));
    assert_eq!(
        s.cancel("merge"),
        Cancel::NotRunning {
            job: "merge".to_string()
        }
    );
    clock.set("2026-11-22 23:01:00");
    // The dropped merge does not start when the import ends.
    assert_eq!(s.finished("import", Outcome::Cancelled, clock.now()), []);
    let status = s.status();
    assert_eq!(status[0].state, JobState::Idle);
    assert_eq!(
        status[0].last_text(),
        "cancelled at 2026-11-22 23:01 (60 s)"
    );
}

#[test]
fn finished_for_a_job_that_is_not_running_changes_nothing() {
    let clock = FakeClock::at("2026-11-22 10:01:00");
    let mut s = scheduler(&clock);
    s.run_now("import", clock.now());
    assert_eq!(s.finished("merge", ok(), clock.now()), []);
    assert_eq!(s.running(), Some("import"));
    assert_eq!(s.status()[1].last, None);
}

#[test]
fn status_shows_the_last_run_and_its_outcome() {
    let clock = FakeClock::at("2026-11-22 10:01:00");
    let mut s = scheduler(&clock);
    clock.set("2026-11-22 10:15:00");
    s.due(clock.now());
    clock.set("2026-11-22 10:15:07");
    s.finished(
        "merge",
        Outcome::Failed("disk full".to_string()),
        clock.now(),
    );
    let status = s.status();
    assert_eq!(
        status[1].last_text(),
        "failed at 2026-11-22 10:15 (7 s): disk full"
    );
    assert_eq!(
        status[1].to_string(),
        "merge (*/15 * * * *): idle; next 2026-11-22 10:30 +01:00; last failed at 2026-11-22 10:15 (7 s): disk full"
    );
    let last = status[1].last.as_ref().unwrap();
    assert_eq!(last.tick, Some(local("2026-11-22 10:15:00")));
    assert_eq!(last.started, local("2026-11-22 10:15:00"));
    s.run_now("import", clock.now());
    assert_eq!(
        s.status()[0].to_string(),
        "import (0 23 ? * *): running; next 2026-11-22 23:00 +01:00; last never run"
    );
}

#[test]
fn a_day_of_ticks_with_a_fake_clock() {
    // Every minute for a day, each job finishing after three minutes: the
    // import runs once, the merge once per tick (00:15 to 23:45), never together.
    let clock = FakeClock::at("2026-11-22 00:00:30");
    let mut s = scheduler(&clock);
    let mut ends: Vec<(String, DateTime<Utc>)> = Vec::new();
    let mut starts: Vec<String> = Vec::new();
    for minute in 1..(24 * 60) {
        let now = local("2026-11-22 00:00:00") + TimeDelta::minutes(minute);
        let mut decisions = s.due(now);
        if let Some(pos) = ends.iter().position(|(_, at)| *at <= now) {
            let (job, _) = ends.remove(pos);
            decisions.extend(s.finished(&job, ok(), now));
        }
        for d in decisions {
            if let Decision::Start { job, .. } = d {
                assert!(ends.is_empty(), "{job} started while another job runs");
                ends.push((job.clone(), now + TimeDelta::minutes(3)));
                starts.push(job);
            }
        }
    }
    assert_eq!(starts.iter().filter(|j| *j == "import").count(), 1);
    assert_eq!(starts.iter().filter(|j| *j == "merge").count(), 95);
}

#[test]
fn reschedule_takes_the_new_spec_from_now() {
    let clock = FakeClock::at("2026-11-22 10:01:00");
    let mut s = scheduler(&clock);
    assert!(s.reschedule("import", "0 6 * * *".parse().unwrap(), clock.now()));
    assert!(!s.reschedule("backup", "0 6 * * *".parse().unwrap(), clock.now()));
    let status = s.status();
    assert_eq!(status[0].spec, "0 6 * * *");
    assert_eq!(status[0].next_text(), "2026-11-23 06:00 +01:00");
}

#[test]
fn a_daily_import_in_the_hour_skipped_in_spring_runs_once_that_day() {
    use super::test_zone::Berlin2026;
    let at = |text: &str| {
        let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap();
        Berlin2026
            .from_local_datetime(&naive)
            .earliest()
            .unwrap()
            .with_timezone(&Utc)
    };
    let jobs = vec![("import".to_string(), "30 2 * * *".parse().unwrap())];
    let mut s = Scheduler::new(Berlin2026, jobs, at("2026-03-28 12:00:00"));
    // 02:30 does not exist on 29 March: the import runs at 03:00 instead.
    assert_eq!(s.next_wake(), Some(at("2026-03-29 03:00:00")));
    assert_eq!(s.status()[0].next_text(), "2026-03-29 03:00 +02:00");
    let now = at("2026-03-29 03:00:00");
    assert_eq!(
        s.due(now),
        [Decision::Start {
            job: "import".to_string(),
            tick: Some(now),
            missed: 0
        }]
    );
    s.finished("import", ok(), now);
    assert_eq!(s.next_wake(), Some(at("2026-03-30 02:30:00")));
}

#[test]
fn the_system_clock_is_a_clock() {
    let before = Utc::now();
    assert!(SystemClock.now() >= before);
}
