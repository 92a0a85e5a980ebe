//! `sop cluster status`: every node asked at once over ssh what it serves, its
//! imported contacts compared with this node's, and the last push to it.

use super::config::NodeSpec;
use super::records::{self, PushRecord};
use super::ssh;
use super::state::NodeState;
use super::sync::{self, SnapshotId, Sync};
use crate::config::Config;
use crate::home::Home;
use serde::{Deserialize, Serialize};

/// Nodes asked at once.
const AT_ONCE: usize = 32;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeStatus {
    pub name: String,
    pub host: String,
    pub reachable: bool,
    /// Why it could not be asked.
    pub error: Option<String>,
    /// The command that fixes that.
    pub fix: Option<String>,
    pub state: Option<NodeState>,
    pub sync: Sync,
    pub last_push: Option<PushRecord>,
    /// When the running server pushes to it again (its last push failed).
    #[serde(default)]
    pub next_retry: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterStatus {
    pub node: String,
    /// This node's imported contacts (external and directory sources) named as
    /// one (`state::external`).
    pub external: Option<SnapshotId>,
    pub nodes: Vec<NodeStatus>,
}

/// Asks every node at once.
pub async fn status(home: &Home, config: &Config, nodes: &[NodeSpec]) -> ClusterStatus {
    let (h, c) = (home.clone(), config.clone());
    let ours = tokio::task::spawn_blocking(move || super::state::external(&h, &c))
        .await
        .ok()
        .and_then(Result::ok)
        .flatten();
    let pushes = records::load(home);
    let bound = std::sync::Arc::new(tokio::sync::Semaphore::new(AT_ONCE));
    let share = ssh::Share::of(home, config.cluster.share_connections);
    let tasks: Vec<_> = nodes
        .iter()
        .cloned()
        .map(|node| {
            let (bound, share) = (bound.clone(), share.clone());
            let cluster = config.cluster.clone();
            tokio::spawn(async move {
                let _turn = bound.acquire_owned().await;
                let timeout = cluster.timeout.min(cluster.connect_timeout * 2);
                let answer = ssh::run(
                    &node,
                    cluster.connect_timeout,
                    timeout,
                    share.as_ref(),
                    &["cluster", "state"],
                    None,
                )
                .await;
                (node, answer)
            })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        let Ok((node, answer)) = t.await else {
            continue;
        };
        let parsed = answer.and_then(|stdout| {
            serde_json::from_slice::<NodeState>(&stdout).map_err(|e| ssh::Failure {
                message: format!("{} answered something unreadable ({e})", node.name),
                fix: None,
            })
        });
        let last_push = pushes.get(&node.name).cloned();
        let next_retry = last_push
            .as_ref()
            .and_then(|p| p.next_retry(config.cluster.retry));
        out.push(match parsed {
            Ok(state) => NodeStatus {
                sync: sync::compare(ours.as_ref(), state.external.as_ref()),
                name: node.name,
                host: node.host,
                reachable: true,
                error: None,
                fix: None,
                state: Some(state),
                last_push,
                next_retry,
            },
            Err(f) => NodeStatus {
                name: node.name,
                host: node.host,
                reachable: false,
                error: Some(f.message),
                fix: f.fix,
                state: None,
                sync: Sync::Unknown,
                last_push,
                next_retry,
            },
        });
    }
    ClusterStatus {
        node: config.node.name.clone(),
        external: ours,
        nodes: out,
    }
}
