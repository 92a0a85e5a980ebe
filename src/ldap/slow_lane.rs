//! Where costly requests are answered (sorted searches): one thread of their own, at
//! a lower CPU priority (nice 10), one request at a time. A phone's search is
//! answered on the runtime's threads and never waits behind a sort: clients sorting
//! as fast as they can share one thread, which yields the CPU to everyone else.
//!
//! Each connection has at most one request waiting here, so the queue is bounded by
//! `max_connections`; a request that waited past its time limit ends at once.

use std::sync::mpsc;

type Job = Box<dyn FnOnce() + Send>;

pub struct SlowLane {
    jobs: mpsc::Sender<Job>,
}

/// The nice value of the slow lane's thread.
pub const NICE: i32 = 10;

impl SlowLane {
    /// Starts the thread; it ends when the `SlowLane` is dropped.
    pub fn start() -> std::io::Result<SlowLane> {
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("sop-slow-lane".into())
            .spawn(move || {
                crate::jobs::priority::set(crate::jobs::priority::Priority::Low);
                while let Ok(job) = queue.recv() {
                    job();
                }
            })?;
        Ok(SlowLane { jobs })
    }

    /// Runs `work` on the slow lane and waits for its result; `None` when the lane
    /// has stopped.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move || {
                let _ = tx.send(work());
            }))
            .ok()?;
        rx.await.ok()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The nice value of the calling thread, read from /proc.
    fn nice_of_this_thread() -> i32 {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
        // Fields after the command name (in parentheses): state is field 3, nice 19.
        let after = &stat[stat.rfind(')').unwrap() + 2..];
        after.split(' ').nth(16).unwrap().parse().unwrap()
    }

    #[tokio::test]
    async fn runs_work_at_nice_10() {
        let lane = SlowLane::start().unwrap();
        let before = nice_of_this_thread();
        let (sum, nice) = lane.run(|| (2 + 2, nice_of_this_thread())).await.unwrap();
        assert_eq!(sum, 4);
        assert_eq!(nice, NICE.max(before));
        // The caller's thread keeps its own.
        assert_eq!(nice_of_this_thread(), before);
    }
}
