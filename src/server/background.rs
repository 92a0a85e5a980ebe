//! Long jobs (imports, merges) run on a thread of their own at the lowest CPU
//! priority, and so do the threads they start: phones are answered first, and a
//! job uses the CPU time they leave. A job's thread ends with the job, so that no
//! thread of the runtime is left at a low priority.

use color_eyre::eyre::{Result, WrapErr, eyre};

/// Runs `job` in the background and waits for its result.
pub async fn run<T: Send + 'static>(
    name: &str,
    job: impl FnOnce() -> T + Send + 'static,
) -> Result<T> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name(format!("sop-{name}"))
        .spawn(move || {
            lower_priority();
            let _ = tx.send(job());
        })
        .wrap_err_with(|| format!("cannot start the {name}"))?;
    rx.await
        .map_err(|_| eyre!("the {name} stopped unexpectedly"))
}

/// SCHED_IDLE, for this thread and the threads it starts: any thread that
/// answers phones takes the CPU from it at once.
fn lower_priority() {
    use thread_priority::unix::{
        NormalThreadSchedulePolicy, ThreadSchedulePolicy, set_thread_priority_and_policy,
        thread_native_id,
    };
    let policy = ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle);
    let lowest = thread_priority::ThreadPriority::Min;
    if let Err(e) = set_thread_priority_and_policy(thread_native_id(), lowest, policy) {
        tracing::debug!("a background job keeps its priority: {e:?}");
    }
}
