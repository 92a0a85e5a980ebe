//! Long jobs (imports, syncs, merges, saving the directory's image) run on a
//! thread of their own at the priority they are given (`jobs::priority`), and so
//! do the threads they start; a job's thread ends with the job, so that no thread
//! of the runtime is left at a lower priority.

use crate::jobs::priority::{self, Priority};
use color_eyre::eyre::{Result, WrapErr, eyre};

/// Runs `job` at `priority` and waits for its result.
pub async fn run<T: Send + 'static>(
    name: &str,
    priority: Priority,
    job: impl FnOnce() -> T + Send + 'static,
) -> Result<T> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name(format!("sop-{name}"))
        .spawn(move || {
            priority::set(priority);
            let _ = tx.send(job());
        })
        .wrap_err_with(|| format!("cannot start the {name}"))?;
    rx.await
        .map_err(|_| eyre!("the {name} stopped unexpectedly"))
}
