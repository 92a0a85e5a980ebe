//! CPU priorities of the node's threads, phones' answers first: each is set for
//! the calling thread only (on Linux a thread's priority is its own), and the
//! threads it starts inherit it.

use thread_priority::unix::{
    NormalThreadSchedulePolicy, ThreadSchedulePolicy, set_thread_priority_and_policy,
    thread_native_id,
};
use thread_priority::{ThreadPriority, ThreadPriorityValue};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// An admin waits for it (import now, merge now): as the answers to phones.
    Asked,
    /// Scheduled jobs and sorted searches: nice 10, about a tenth of a CPU that
    /// phones keep busy, all of one they leave idle.
    Low,
    /// Work nobody waits for (saving the directory's image): only the CPU time
    /// nothing else wants.
    Idle,
}

/// Gives the calling thread `priority`; a failure (a container that forbids it)
/// leaves it as it was.
pub fn set(priority: Priority) {
    let (value, policy) = match priority {
        Priority::Asked => return,
        // The crate maps 0..=99 onto nice 19..=-20: 22 is nice 10.
        Priority::Low => match ThreadPriorityValue::try_from(22u8) {
            Ok(v) => (
                ThreadPriority::Crossplatform(v),
                NormalThreadSchedulePolicy::Other,
            ),
            Err(_) => return,
        },
        Priority::Idle => (ThreadPriority::Min, NormalThreadSchedulePolicy::Idle),
    };
    let policy = ThreadSchedulePolicy::Normal(policy);
    if let Err(e) = set_thread_priority_and_policy(thread_native_id(), value, policy) {
        tracing::debug!("a thread keeps its priority ({priority:?} refused): {e:?}");
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// This thread's nice value and scheduling policy, from /proc.
    fn nice_and_policy() -> (i64, u32) {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
        // Fields after the command name (in parentheses, which may hold spaces).
        let rest = &stat[stat.rfind(')').unwrap() + 2..];
        let fields: Vec<&str> = rest.split(' ').collect();
        // stat(5): nice is field 19, policy field 41; `rest` starts at field 3.
        (
            fields[19 - 3].parse().unwrap(),
            fields[41 - 3].parse().unwrap(),
        )
    }

    fn in_a_thread(p: Priority) -> (i64, u32) {
        std::thread::spawn(move || {
            set(p);
            nice_and_policy()
        })
        .join()
        .unwrap()
    }

    #[test]
    fn asked_jobs_keep_the_answers_priority_scheduled_ones_yield() {
        const SCHED_OTHER: u32 = 0;
        const SCHED_IDLE: u32 = 5;
        let (nice, policy) = nice_and_policy();
        assert_eq!(in_a_thread(Priority::Asked), (nice, policy));
        assert_eq!(in_a_thread(Priority::Low), (10, SCHED_OTHER));
        assert_eq!(in_a_thread(Priority::Idle).1, SCHED_IDLE);
    }
}
