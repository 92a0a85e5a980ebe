//! Catch-up of the cluster's nodes while the server runs: a node whose last push
//! failed is pushed to again, `[cluster] retry_secs` after the failure and twice as
//! long after each one more (at most 15 minutes apart), until it is in sync. With
//! `push_after_import`, a node never pushed to gets the current import, and every
//! `retry_secs` the nodes are asked what they serve: one that is behind (restored
//! from a backup) is pushed to. A node that imported a list of its own (diverged)
//! is left alone: pushing over it would undo its admin's import.

use super::Server;
use crate::cluster::{self, push, records};
use std::sync::Arc;
use std::time::Duration;

/// How often the records are looked at.
const EVERY: Duration = Duration::from_secs(2);
/// The nodes are asked what they serve at most this often (and at most every
/// `retry_secs`).
const CHECK_AT_MOST: Duration = Duration::from_secs(2);

pub(super) async fn retry_loop(server: Arc<Server>) {
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // When the nodes are next asked whether they are behind.
    let mut next_check = 0;
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
        let has_import = matches!(cluster::state::external(&home, &config), Ok(Some(_)));
        let mut due: Vec<_> = config
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
        // Now and then, the nodes whose last push was fine are asked what they
        // serve: one restored from a backup (an older import of ours) is pushed to.
        if config.cluster.push_after_import
            && has_import
            && !config.cluster.retry.is_zero()
            && now >= next_check
        {
            next_check = now + config.cluster.retry.max(CHECK_AT_MOST).as_secs();
            let fine: Vec<_> = config
                .cluster
                .nodes
                .iter()
                .filter(|n| pushes.get(&n.name).is_some_and(|r| r.ok))
                .cloned()
                .collect();
            let status = cluster::status::status(&home, &config, &fine).await;
            due.extend(
                status
                    .nodes
                    .iter()
                    .filter(|n| n.sync == cluster::sync::Sync::Behind)
                    .filter_map(|n| config.cluster.node(&n.name).cloned()),
            );
        }
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
