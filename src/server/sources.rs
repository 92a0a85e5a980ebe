//! The directory sources' schedules in the application server: each source syncs
//! on its cron as a job (after any job running), then the sources are merged and
//! the new generation served. A failed sync leaves the served contacts as they were.

use super::{Server, background};
use crate::jobs::priority::Priority;
use crate::schedule::scheduler::next_after;
use crate::sources::MODULE;
use crate::sources::schedule::Timers;
use crate::sources::sync::{self, SyncOptions, SyncReport};
use crate::ucm::MergeReport;
use color_eyre::eyre::Result;
use std::sync::Arc;

/// Looks at the sources' crons every second and syncs those that are due.
pub(super) async fn schedule_loop(server: Arc<Server>) {
    let mut timers = Timers::new(next_after);
    let mut seconds = super::Seconds::new();
    while seconds.next(&server.cancel).await {
        let specs: Vec<(String, crate::schedule::Cron)> = {
            let state = server.state.lock().await;
            if state.config.modules.contains(MODULE) {
                state
                    .config
                    .sources
                    .iter()
                    .map(|s| (s.name.clone(), s.cron.clone()))
                    .collect()
            } else {
                Vec::new()
            }
        };
        for name in timers.due(&specs, chrono::Local::now()) {
            let server = server.clone();
            tokio::spawn(async move {
                tracing::info!(source = name, "scheduled sync starts");
                match server.sync_source(&name, Priority::Low).await {
                    Ok((job, r, _)) => tracing::info!(
                        source = name,
                        job,
                        read = r.read,
                        added = r.changes.added,
                        updated = r.changes.updated,
                        removed = r.changes.removed,
                        held = ?r.held,
                        "scheduled sync done"
                    ),
                    Err(e) => tracing::error!(
                        source = name,
                        "scheduled sync failed, the previous contacts stay: {e:#}"
                    ),
                }
            });
        }
    }
}

impl Server {
    /// Syncs one source as a job (after any job running now), then merges and
    /// serves the result when the sync applied something.
    pub(super) async fn sync_source(
        &self,
        name: &str,
        priority: Priority,
    ) -> Result<(i64, SyncReport, Option<MergeReport>)> {
        let done = {
            let _one_job = self.job.lock().await;
            self.progress.reset();
            let home = self.home.clone();
            let config = self.state.lock().await.config.clone();
            let progress = self.progress.clone();
            let name = name.to_string();
            let done = background::run("sync", priority, move || {
                sync::run_job(&home, &config, &name, SyncOptions::default(), &progress)
            })
            .await
            .and_then(|r| r);
            self.progress.set("", 0, 0);
            done
        }?;
        let (job, report) = done;
        // As after an import: what changed goes to the cluster's nodes.
        if report.changed() {
            self.push_after_import().await;
        }
        let merged = match report.held {
            None => Some(
                self.merge(crate::ucm::MergeOptions::default(), priority)
                    .await?,
            ),
            Some(_) => None,
        };
        Ok((job, report, merged))
    }
}
