//! `sop cluster push`: this node's imported contacts (external and directory
//! sources), as one compressed push, to several nodes at once (a bounded number at a time), each with its own
//! progress and result; a node that fails does not stop the others. A node that
//! holds an earlier version of a snapshot from the last push that reached it
//! gets only its changes (`delta`), when they are less than half of it.

use super::config::NodeSpec;
use super::receive::Received;
use super::records::{self, Held, PushRecord, Records};
use super::{delta, imported, sent, ssh, wire};
use crate::config::Config;
use crate::home::Home;
use color_eyre::eyre::{Result, WrapErr, eyre};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{Semaphore, mpsc};

/// A snapshot ready to push.
#[derive(Debug, Clone)]
pub struct Payload {
    pub header: wire::Header,
    pub bytes: Arc<Vec<u8>>,
    /// Each snapshot's file, whole, in the order of the header's parts.
    files: Arc<Vec<Vec<u8>>>,
}

impl Payload {
    /// Whether it sends some snapshot as its changes.
    pub fn is_delta(&self) -> bool {
        self.header.parts.iter().any(|p| p.base.is_some())
    }
}

/// This node's imported contacts as it serves them (the external contacts and
/// every directory source's, `imported::parts`), each file checked whole, all
/// compressed as one push. Blocking.
pub fn payload(home: &Home, config: &Config) -> Result<Payload> {
    // Read under the imports' lock: no file is replaced meanwhile.
    let lock = crate::jobs::lock_sources(home)?;
    let parts = imported::parts(home, config)?;
    if parts.is_empty() {
        return Err(eyre!(
            "this node has no imported contacts to push: import them first (sop ucm import, \
             sop sources sync NAME)"
        ));
    }
    let mut body = Vec::new();
    let mut described = Vec::new();
    let mut files = Vec::new();
    for part in &parts {
        let bytes = std::fs::read(&part.path)
            .wrap_err_with(|| format!("cannot read {}", part.path.display()))?;
        // Its checksum here; each node checks its contacts against its hash.
        if crate::codec::checked_body(&bytes).is_none() {
            return Err(eyre!(
                "{} is damaged (checksum mismatch); {}",
                part.path.display(),
                part.remedy()
            ));
        }
        described.push(wire::Part::of(
            &part.source,
            Some(part.priority),
            &part.meta,
            bytes.len() as u64,
        ));
        // Kept while a node holds it, for the changes of the next push.
        sent::keep(home, &part.source, &part.meta.hash, &part.path);
        body.extend_from_slice(&bytes);
        files.push(bytes);
    }
    drop(lock);
    let header = wire::Header::of(described, &config.node.name);
    let encoded = wire::encode(&header, &body).wrap_err("cannot compress the snapshots")?;
    Ok(Payload {
        header,
        bytes: Arc::new(encoded),
        files: Arc::new(files),
    })
}

/// The push for a node that holds `holds`: each snapshot of which it holds an
/// earlier version (kept in `sent`) as its changes, when they are less than half
/// of the file; None when no snapshot gains (the whole push is sent). Blocking.
fn changes_for(home: &Home, whole: &Payload, holds: &[Held]) -> Option<Payload> {
    let mut parts = Vec::new();
    let mut body = Vec::new();
    for (part, file) in whole.header.parts.iter().zip(whole.files.iter()) {
        let changes = holds
            .iter()
            .find(|h| h.source == part.source)
            .and_then(|h| {
                let base = std::fs::read(sent::path(home, &h.source, &h.hash)).ok()?;
                let d = delta::make(&h.hash, &base, file)?;
                (d.len() < file.len() / 2).then(|| (h.hash.clone(), d))
            });
        match changes {
            Some((base, d)) => {
                parts.push(wire::Part {
                    base: Some(base),
                    bytes: d.len() as u64,
                    ..part.clone()
                });
                body.extend_from_slice(&d);
            }
            None => {
                parts.push(part.clone());
                body.extend_from_slice(file);
            }
        }
    }
    if parts.iter().all(|p| p.base.is_none()) {
        return None;
    }
    let header = wire::Header::of(parts, &whole.header.sender);
    let bytes = wire::encode(&header, &body).ok()?;
    Some(Payload {
        header,
        bytes: Arc::new(bytes),
        files: whole.files.clone(),
    })
}

/// What each node is sent: the changes from what it holds, else the whole push;
/// nodes that hold the same snapshots share one. Blocking.
fn plan(
    home: &Home,
    whole: &Payload,
    nodes: Vec<NodeSpec>,
    records: &Records,
) -> Vec<(NodeSpec, Payload)> {
    let mut by_holds: std::collections::BTreeMap<Vec<Held>, Option<Payload>> = Default::default();
    nodes
        .into_iter()
        .map(|node| {
            let holds = records
                .get(&node.name)
                .map(|r| r.holds.clone())
                .unwrap_or_default();
            let changes = if holds.is_empty() {
                None
            } else {
                by_holds
                    .entry(holds)
                    .or_insert_with_key(|holds| changes_for(home, whole, holds))
                    .clone()
            };
            (node, changes.unwrap_or_else(|| whole.clone()))
        })
        .collect()
}

/// What happens to each node, as it happens.
#[derive(Debug, Clone)]
pub enum Event {
    Started { node: String },
    Finished(Box<Outcome>),
}

/// One node's push.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub node: String,
    pub record: PushRecord,
    /// What the node answered, when it did.
    pub received: Option<Received>,
}

/// Pushes `payload` to `nodes`, `[cluster] parallel` at a time; `events` hears each
/// node start and finish. Returns every node's outcome, in the order given.
pub async fn push(
    config: &Config,
    nodes: Vec<(NodeSpec, Payload)>,
    share: Option<ssh::Share>,
    events: Option<mpsc::UnboundedSender<Event>>,
) -> Vec<Outcome> {
    let bound = Arc::new(Semaphore::new(config.cluster.parallel.max(1)));
    let mut tasks = Vec::new();
    for (node, payload) in nodes {
        let (bound, events) = (bound.clone(), events.clone());
        let share = share.clone();
        let cluster = config.cluster.clone();
        tasks.push(tokio::spawn(async move {
            let _turn = bound.acquire_owned().await;
            if let Some(e) = &events {
                let _ = e.send(Event::Started {
                    node: node.name.clone(),
                });
            }
            let started = Instant::now();
            let answer = ssh::run(
                &node,
                cluster.connect_timeout,
                cluster.timeout,
                share.as_ref(),
                &["cluster", "receive"],
                Some(payload.bytes.clone()),
            )
            .await;
            let outcome = outcome(&node, &payload.header, answer, started);
            if let Some(e) = &events {
                let _ = e.send(Event::Finished(Box::new(outcome.clone())));
            }
            outcome
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        if let Ok(o) = t.await {
            out.push(o);
        }
    }
    out
}

fn outcome(
    node: &NodeSpec,
    header: &wire::Header,
    answer: Result<Vec<u8>, ssh::Failure>,
    started: Instant,
) -> Outcome {
    let holds = header
        .parts()
        .iter()
        .map(|p| Held {
            source: p.source.clone(),
            hash: p.hash.clone(),
        })
        .collect::<Vec<_>>();
    let record = |ok: bool, message: String, fix: Option<String>| PushRecord {
        at: crate::jobs::now(),
        ok,
        hash: header.hash.clone(),
        count: header.count,
        millis: started.elapsed().as_millis() as u64,
        message,
        fix,
        // Counted over the earlier ones when recorded.
        failures: u32::from(!ok),
        // What the node holds now; a failure leaves what it held (`records::save`).
        holds: if ok { holds.clone() } else { Vec::new() },
    };
    let (record, received) = match answer {
        Err(f) => (record(false, f.message, f.fix), None),
        Ok(stdout) => match serde_json::from_slice::<Received>(&stdout) {
            Err(e) => (
                record(
                    false,
                    format!(
                        "{} answered something unreadable ({e}); is sop there the same version?",
                        node.name
                    ),
                    None,
                ),
                None,
            ),
            Ok(r) if !r.state.server_running => (
                record(
                    false,
                    format!(
                        "stored ({}), but the application server on {} is stopped: its phones see nothing until it starts",
                        r.merge, node.name
                    ),
                    Some(super::ssh::command_line(node, &["server", "start"])),
                ),
                Some(r),
            ),
            Ok(r) => {
                let served = match (r.state.generation, r.state.contacts) {
                    (Some(g), Some(c)) => format!("generation {g} serves {c} contacts"),
                    _ => "served".to_string(),
                };
                let what = if r.changed { "stored" } else { "unchanged" };
                let how = if header.parts.iter().any(|p| p.base.is_some()) {
                    format!(" (sent as changes, {} KiB)", header.bytes.div_ceil(1024))
                } else {
                    String::new()
                };
                (
                    record(true, format!("{what}{how}, {}; {served}", r.merge), None),
                    Some(r),
                )
            }
        },
    };
    Outcome {
        node: node.name.clone(),
        record,
        received,
    }
}

/// Which nodes a push goes to: the ones named, or all, or those whose last push
/// failed (among the ones named, if any).
pub fn select(
    config: &Config,
    names: &[String],
    all: bool,
    retry_failed: bool,
    records: &Records,
) -> Result<Vec<NodeSpec>, String> {
    let known = || {
        config
            .cluster
            .nodes
            .iter()
            .map(|n| n.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if config.cluster.nodes.is_empty() {
        return Err("no node in [[cluster.nodes]]: add one with sop cluster add NAME HOST".into());
    }
    let mut chosen = Vec::new();
    for name in names {
        match config.cluster.node(name) {
            Some(n) => chosen.push(n.clone()),
            None => {
                return Err(format!(
                    "no node named {name:?}; the nodes are: {}",
                    known()
                ));
            }
        }
    }
    if names.is_empty() {
        if !all && !retry_failed {
            return Err("name the nodes to push to, or --all, or --retry-failed".into());
        }
        chosen = config.cluster.nodes.clone();
    }
    if retry_failed {
        chosen.retain(|n| records.get(&n.name).is_some_and(|r| !r.ok));
    }
    Ok(chosen)
}

/// Pushes to `nodes` and records each result in the home.
pub async fn push_and_record(
    home: &Home,
    config: &Config,
    nodes: Vec<NodeSpec>,
    events: Option<mpsc::UnboundedSender<Event>>,
) -> Result<Vec<Outcome>> {
    let (h, c) = (home.clone(), config.clone());
    let records = records::load(home);
    let (whole, plans) = tokio::task::spawn_blocking(move || {
        let whole = payload(&h, &c)?;
        let plans = plan(&h, &whole, nodes, &records);
        Ok::<_, color_eyre::Report>((whole, plans))
    })
    .await
    .map_err(|_| eyre!("reading the snapshot stopped unexpectedly"))??;
    let share = ssh::Share::of(home, config.cluster.share_connections);
    let sent_changes: Vec<String> = plans
        .iter()
        .filter(|(_, p)| p.is_delta())
        .map(|(n, _)| n.name.clone())
        .collect();
    let specs: Vec<NodeSpec> = plans.iter().map(|(n, _)| n.clone()).collect();
    // A node that took no changes (it does not hold what they apply to: restored
    // from a backup; a release that reads whole pushes only; or down) gets the
    // whole push at once; its first answer is not reported.
    let whole_instead = |o: &Outcome| sent_changes.contains(&o.node) && !o.record.ok;
    let first_events = events.clone().map(|to| {
        let (tx, mut rx) = mpsc::unbounded_channel::<Event>();
        let sent_changes = sent_changes.clone();
        tokio::spawn(async move {
            while let Some(e) = rx.recv().await {
                let retried = matches!(&e, Event::Finished(o)
                    if sent_changes.contains(&o.node) && !o.record.ok);
                if !retried {
                    let _ = to.send(e);
                }
            }
        });
        tx
    });
    let mut outcomes = push(config, plans, share.clone(), first_events).await;
    let again: Vec<(NodeSpec, Payload)> = outcomes
        .iter()
        .filter(|o| whole_instead(o))
        .filter_map(|o| specs.iter().find(|n| n.name == o.node))
        .map(|n| (n.clone(), whole.clone()))
        .collect();
    if !again.is_empty() {
        for retried in push(config, again, share, events).await {
            if let Some(o) = outcomes.iter_mut().find(|o| o.node == retried.node) {
                *o = retried;
            }
        }
    }
    let results: Records = outcomes
        .iter()
        .map(|o| (o.node.clone(), o.record.clone()))
        .collect();
    records::save(home, &results)?;
    sent::prune(home, &records::load(home));
    Ok(outcomes)
}

/// The one place that decides whether an import is pushed: after every import
/// of the external contacts and every directory-source sync that changed the
/// imported contacts (scheduled or asked for, in the server or by a CLI with the
/// server stopped), to every node, when `[cluster]
/// push_after_import` says so. None when it does not push; else each node's
/// outcome (also in the server's log and the push records).
pub async fn after_import(home: &Home, config: &Config) -> Option<Result<Vec<Outcome>>> {
    if !config.modules.contains(super::MODULE)
        || !config.cluster.push_after_import
        || config.cluster.nodes.is_empty()
    {
        return None;
    }
    let pushed = push_and_record(home, config, config.cluster.nodes.clone(), None).await;
    match &pushed {
        Ok(outcomes) => {
            for o in outcomes {
                if o.record.ok {
                    tracing::info!(node = o.node, "pushed: {}", o.record.message);
                } else {
                    tracing::warn!(node = o.node, "push failed: {}", o.record.message);
                }
            }
        }
        Err(e) => tracing::error!("push after the import failed: {e:#}"),
    }
    Some(pushed)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn record(ok: bool) -> PushRecord {
        PushRecord {
            at: 0,
            ok,
            hash: String::new(),
            count: 0,
            millis: 0,
            message: String::new(),
            fix: None,
            failures: u32::from(!ok),
            holds: Vec::new(),
        }
    }

    #[test]
    fn selection_of_nodes() {
        let mut config = Config::defaults();
        let names = |v: Vec<NodeSpec>| v.into_iter().map(|n| n.name).collect::<Vec<_>>();
        assert!(select(&config, &[], true, false, &Records::new()).is_err());
        config.cluster.nodes = ["b", "c", "d"]
            .iter()
            .map(|n| NodeSpec::new(n, "h"))
            .collect();
        let records: Records = [("b".into(), record(true)), ("c".into(), record(false))].into();
        let all = select(&config, &[], true, false, &records).unwrap();
        assert_eq!(names(all), ["b", "c", "d"]);
        let failed = select(&config, &[], false, true, &records).unwrap();
        assert_eq!(names(failed), ["c"]);
        let named = select(&config, &["d".into(), "b".into()], false, false, &records).unwrap();
        assert_eq!(names(named), ["d", "b"]);
        let e = select(&config, &["x".into()], false, false, &records).unwrap_err();
        assert!(e.contains("b, c, d"), "{e}");
        assert!(select(&config, &[], false, false, &records).is_err());
    }
}
