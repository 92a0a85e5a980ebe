//! Cluster: every node's state (refreshed in the background while the screen is
//! open), the push to the selected node, to all, or to those that failed, with
//! each node's progress, and the detail of a node's last failure.

use super::super::action::Failure;
use super::super::component::{Ctx, Reply};
use super::super::effect::Effect;
use super::super::keys::Cmd;
use super::super::widgets;
use crate::cluster::status::{ClusterStatus, NodeStatus};
use chrono::{DateTime, Local};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use std::collections::BTreeMap;

/// How often the node table is checked again while the screen is open.
const REFRESH_SECS: i64 = 15;

#[derive(Debug, Default)]
pub struct State {
    pub status: Option<ClusterStatus>,
    /// Why the nodes could not be checked.
    pub error: Option<String>,
    pub sel: usize,
    /// A check in flight.
    pub checking: bool,
    pub checked_at: Option<DateTime<Local>>,
    /// The running (or last) push, per node: "waiting", "pushing...", its result.
    pub progress: BTreeMap<String, String>,
}

impl State {
    pub fn nodes(&self) -> &[NodeStatus] {
        self.status.as_ref().map_or(&[], |s| s.nodes.as_slice())
    }

    pub fn loaded(&mut self, r: Result<Box<ClusterStatus>, Failure>, now: DateTime<Local>) {
        self.checking = false;
        self.checked_at = Some(now);
        match r {
            Ok(s) => {
                self.status = Some(*s);
                self.error = None;
            }
            Err(e) => self.error = Some(e.to_string()),
        }
        self.sel = self.sel.min(self.nodes().len().saturating_sub(1));
    }

    /// A check, unless one is in flight.
    pub fn check(&mut self) -> Vec<Effect> {
        if self.checking {
            return vec![];
        }
        self.checking = true;
        vec![Effect::ClusterStatus]
    }

    /// A check when the last one is old (the background refresh).
    pub fn tick(&mut self, now: DateTime<Local>) -> Vec<Effect> {
        match self.checked_at {
            Some(at) if (now - at).num_seconds() < REFRESH_SECS => vec![],
            _ => self.check(),
        }
    }

    pub fn handle(&mut self, cmd: Cmd) -> Reply {
        let selected = self.nodes().get(self.sel).cloned();
        match cmd {
            Cmd::Refresh => Reply::run(self.check()),
            Cmd::Open => {
                let mut r = Reply::default();
                if let Some(n) = selected {
                    r.show(format!("Node {}", n.name), detail(&n));
                }
                r
            }
            Cmd::PushSelected => match selected {
                Some(n) => push(vec![n.name.clone()], false),
                None => Reply::default(),
            },
            Cmd::PushAll => push(self.nodes().iter().map(|n| n.name.clone()).collect(), false),
            Cmd::RetryFailed => {
                let failed: Vec<String> = self
                    .nodes()
                    .iter()
                    .filter(|n| n.last_push.as_ref().is_some_and(|p| !p.ok))
                    .map(|n| n.name.clone())
                    .collect();
                if failed.is_empty() {
                    let mut r = Reply::default();
                    r.info("no push failed last time: nothing to retry");
                    return r;
                }
                push(failed, true)
            }
            _ => Reply::default(),
        }
    }

    /// A push started: every node waits for its turn.
    pub fn started(&mut self, nodes: &[String]) {
        self.progress = nodes
            .iter()
            .map(|n| (n.clone(), "waiting".to_string()))
            .collect();
    }
}

/// Asks first: a push replaces the nodes' imported contacts.
fn push(nodes: Vec<String>, retry: bool) -> Reply {
    let mut r = Reply::default();
    if nodes.is_empty() {
        r.error("no node to push to: add one with sop cluster add NAME HOST");
        return r;
    }
    let what = if retry { "Retry failed" } else { "Push" };
    r.confirm(
        what,
        vec![
            format!(
                "Push this node's imported contacts to {}?",
                nodes.join(", ")
            ),
            "They replace the imported contacts each of these nodes serves.".to_string(),
        ],
        Effect::ClusterPush { nodes },
    );
    r
}

fn when(at: u64) -> String {
    chrono::DateTime::from_timestamp(at as i64, 0)
        .map(|t| t.with_timezone(&Local).format("%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

/// Everything known of a node, its last failure first.
pub fn detail(n: &NodeStatus) -> Vec<String> {
    let mut lines = vec![format!("{} ({}): {}", n.name, n.host, n.sync.words())];
    if let Some(e) = &n.error {
        lines.push(format!("unreachable: {e}"));
    }
    if let Some(fix) = &n.fix {
        lines.push(format!("to fix: {fix}"));
    }
    if let Some(s) = &n.state {
        lines.push(format!(
            "sop {}, application server {}",
            s.version,
            if s.server_running {
                "running"
            } else {
                "STOPPED"
            }
        ));
        if let (Some(g), Some(c)) = (s.generation, s.contacts) {
            lines.push(format!("generation {g}, {c} contacts served"));
        }
        match &s.external {
            Some(e) => lines.push(format!(
                "imported: {} contacts {}, {}, from {}",
                e.count,
                e.hash.get(..12).unwrap_or(&e.hash),
                when(e.created),
                e.origin
            )),
            None => lines.push("imported: none".to_string()),
        }
        lines.push(format!("LDAP: {}", s.ldap.message));
        lines.extend(s.problems.iter().map(|p| format!("problem: {p}")));
    }
    match &n.last_push {
        Some(p) => {
            let result = if p.ok { "ok" } else { "FAILED" };
            lines.push(format!("last push {}: {result}: {}", when(p.at), p.message));
            if let Some(fix) = &p.fix {
                lines.push(format!("to fix: {fix}"));
            }
        }
        None => lines.push("last push: never".to_string()),
    }
    if let Some(at) = n.next_retry {
        lines.push(format!(
            "next retry: {} (by the application server)",
            when(at)
        ));
    }
    lines
}

impl State {
    pub fn draw(&self, ctx: &Ctx, f: &mut Frame, area: Rect) {
        let t = ctx.theme;
        let s = self;
        let parts = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(3),
            Constraint::Length(6),
        ])
        .split(area);
        let ours = match s.status.as_ref().and_then(|c| c.external.as_ref()) {
            Some(e) => format!(
                "This node: {} imported contacts {}, {}, from {}",
                e.count,
                e.hash.get(..12).unwrap_or(&e.hash),
                when(e.created),
                e.origin
            ),
            None if s.status.is_some() => "This node: no contacts imported".to_string(),
            None if s.checking => "Checking the nodes...".to_string(),
            None => String::new(),
        };
        f.render_widget(Paragraph::new(Span::styled(ours, t.dim())), parts[0]);
        let block = widgets::panel(t, "Nodes");
        let inner = block.inner(parts[1]);
        f.render_widget(block, parts[1]);
        if let Some(e) = &s.error {
            f.render_widget(
                Paragraph::new(Line::styled(e.clone(), t.bad())).wrap(Wrap { trim: true }),
                inner,
            );
            return;
        }
        let rows: Vec<Line<'static>> = s.nodes().iter().map(|n| s.row(ctx, n)).collect();
        if rows.is_empty() && s.status.is_some() {
            f.render_widget(
                Paragraph::new("No node yet: sop cluster add NAME HOST"),
                inner,
            );
        } else {
            let table = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).split(inner);
            let heading = format!(
                "  {:<10} {:<11} {:<8} {:>8} {:<7} push",
                "node", "sync", "server", "contacts", "LDAP"
            );
            f.render_widget(Paragraph::new(Span::styled(heading, t.title())), table[0]);
            widgets::list(t, f, table[1], rows, s.sel);
        }
        let lines = s
            .nodes()
            .get(s.sel)
            .map(detail)
            .unwrap_or_default()
            .into_iter()
            .map(Line::from)
            .collect::<Vec<_>>();
        f.render_widget(
            Paragraph::new(lines)
                .block(widgets::panel(t, "Selected node"))
                .wrap(Wrap { trim: true }),
            parts[2],
        );
    }

    fn row(&self, ctx: &Ctx, n: &NodeStatus) -> Line<'static> {
        let t = ctx.theme;
        let (sync, style) = match n.sync {
            crate::cluster::sync::Sync::InSync => ("in sync", t.good()),
            crate::cluster::sync::Sync::Unknown => (n.sync.words(), t.bad()),
            other => (other.words(), t.warn()),
        };
        let (server, contacts, ldap) = match &n.state {
            Some(s) => (
                if s.server_running {
                    "running"
                } else {
                    "STOPPED"
                },
                s.contacts
                    .map(|c| c.to_string())
                    .unwrap_or_else(|| "-".into()),
                if s.ldap.answered { "answers" } else { "NO" },
            ),
            None => ("-", "-".to_string(), "-"),
        };
        // The running (or last) push's progress, else the last push recorded.
        let (push, push_style) = match (self.progress.get(&n.name), &n.last_push) {
            (Some(p), _) if p.starts_with("FAILED") => (p.clone(), t.bad()),
            (Some(p), _) => (p.clone(), t.dim()),
            (None, Some(p)) if p.ok => (format!("ok {}", when(p.at)), t.dim()),
            (None, Some(p)) => (format!("FAILED {}", when(p.at)), t.bad()),
            (None, None) => ("never".to_string(), t.dim()),
        };
        Line::from(vec![
            Span::raw(format!("{:<10} ", n.name)),
            Span::styled(format!("{sync:<11} "), style),
            Span::raw(format!("{server:<8} {contacts:>8} {ldap:<7} ")),
            Span::styled(push, push_style),
        ])
    }
}
