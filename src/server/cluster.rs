//! Catch-up of the cluster's nodes while the server runs: a node whose last push
//! failed is pushed to again, `[cluster] retry_secs` after the failure and twice as
//! long after each one more (at most 15 minutes apart), until it is in sync; with
//! `push_after_import`, a node never pushed to gets the current import.

use super::Server;
use crate::cluster::{self, push, records};
use std::sync::Arc;
use std::time::Duration;

/// How often the records are looked at.
const EVERY: Duration = Duration::from_secs(2);

pub(super) async fn retry_loop(server: Arc<Server>) {
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = server.cancel.cancelled() => return,
            _ = tick.tick() => {}
        }
        let config = server.state.lock().await.config.clone();
        if !config.modules.contains(cluster::MODULE) || config.cluster.nodes.is_empty() {
            continue;
        }
        let home = server.home.clone();
        let pushes = records::load(&home);
        let now = crate::jobs::now();
        let has_import = matches!(cluster::state::external(&home), Ok(Some(_)));
        let due: Vec<_> = config
            .cluster
            .nodes
            .iter()
            .filter(|n| match pushes.get(&n.name) {
                Some(r) => r
                    .next_retry(config.cluster.retry)
                    .is_some_and(|at| at <= now),
                None => config.cluster.push_after_import && has_import,
            })
            .cloned()
            .collect();
        if due.is_empty() {
            continue;
        }
        let names: Vec<&str> = due.iter().map(|n| n.name.as_str()).collect();
        tracing::info!(nodes = names.join(", "), "pushing to nodes behind");
        match push::push_and_record(&home, &config, due, None).await {
            Ok(outcomes) => {
                for o in outcomes {
                    if o.record.ok {
                        tracing::info!(node = o.node, "caught up: {}", o.record.message);
                    } else {
                        tracing::warn!(node = o.node, "retry failed: {}", o.record.message);
                    }
                }
            }
            Err(e) => tracing::warn!("retry failed: {e:#}"),
        }
    }
}
