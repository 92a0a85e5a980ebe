//! Jobs: the history of imports, merges and rollbacks with their counts, the
//! running job with its progress, and the per-entry errors of one job.

use super::super::action::Failure;
use super::super::component::{Ctx, Reply, Screen};
use super::super::effect::Effect;
use super::super::keys::Cmd;
use super::super::widgets;
use crate::store::Job;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

#[derive(Debug, Default)]
pub struct State {
    pub list: Vec<Job>,
    pub sel: usize,
    /// The job whose errors are shown, and its errors.
    pub detail: Option<i64>,
    pub errors: Vec<(String, String)>,
    pub error_scroll: usize,
    pub errors_error: Option<String>,
}

impl State {
    pub fn set(&mut self, list: Vec<Job>) {
        self.list = list;
        self.sel = self.sel.min(self.list.len().saturating_sub(1));
    }

    pub fn errors_loaded(&mut self, id: i64, r: Result<Vec<(String, String)>, Failure>) {
        if self.detail != Some(id) {
            return;
        }
        match r {
            Ok(e) => {
                self.errors = e;
                self.errors_error = None;
            }
            Err(e) => self.errors_error = Some(e.to_string()),
        }
    }

    pub fn selected(&self) -> Option<&Job> {
        self.list.get(self.sel)
    }
}

pub use crate::jobs::counts;

pub fn when(epoch: i64) -> String {
    chrono::DateTime::from_timestamp(epoch, 0)
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%m-%d %H:%M:%S")
                .to_string()
        })
        .unwrap_or_default()
}

impl State {
    /// Keys of the history (`screen`: Jobs) and of one job (JobDetail).
    pub fn handle(&mut self, screen: Screen, cmd: Cmd) -> Reply {
        match (screen, cmd) {
            (_, Cmd::Refresh) => {
                let mut out = vec![Effect::LoadJobs];
                if let Some(id) = self.detail {
                    out.push(Effect::LoadJobErrors(id));
                }
                Reply::run(out)
            }
            (Screen::Jobs, Cmd::Open) => {
                let Some(id) = self.selected().map(|j| j.id) else {
                    return Reply::default();
                };
                self.detail = Some(id);
                self.errors.clear();
                self.error_scroll = 0;
                Reply::run(vec![Effect::LoadJobErrors(id)]).open(Screen::JobDetail)
            }
            _ => Reply::default(),
        }
    }

    pub fn draw(&self, ctx: &Ctx, f: &mut Frame, area: Rect) {
        let t = ctx.theme;
        let parts = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).split(area);
        if !widgets::progress(ctx, f, parts[0]) {
            f.render_widget(
            Paragraph::new(Span::styled(
                "No job running. Imports and merges run on their crons, or from Edit Unified Communication Model.",
                t.dim(),
            )),
            parts[0],
        );
        }
        let block = widgets::panel(t, "History (newest first)");
        let inner = block.inner(parts[1]);
        f.render_widget(block, parts[1]);
        if self.list.is_empty() {
            f.render_widget(Paragraph::new("No job has run yet."), inner);
            return;
        }
        let rows: Vec<Line<'static>> = self
            .list
            .iter()
            .map(|j| {
                let style = match j.status.as_str() {
                    "ok" | "done" | "succeeded" => t.good(),
                    "held" | "cancelled" => t.warn(),
                    _ => t.bad(),
                };
                Line::from(vec![
                    Span::raw(format!(
                        "{:>4} {} {:<8} ",
                        j.id,
                        when(j.started).get(..11).unwrap_or_default(),
                        j.kind
                    )),
                    Span::styled(format!("{:<7}", j.status), style),
                    Span::raw(format!("{:>4}s  ", (j.finished - j.started).max(0))),
                    Span::raw(counts(j)),
                ])
            })
            .collect();
        widgets::list(t, f, inner, rows, self.sel);
    }

    pub fn draw_detail(&self, ctx: &Ctx, f: &mut Frame, area: Rect) {
        let t = ctx.theme;
        let s = self;
        let job = s.detail.and_then(|id| s.list.iter().find(|j| j.id == id));
        let Some(job) = job else {
            f.render_widget(
                Paragraph::new("This job is no longer in the history."),
                area,
            );
            return;
        };
        let mut lines = vec![
            Line::from(Span::styled(
                format!(
                    "Job {}: {} {} ({} to {})",
                    job.id,
                    job.kind,
                    job.status,
                    when(job.started),
                    when(job.finished)
                ),
                t.title(),
            )),
            Line::from(counts(job)),
        ];
        if !job.message.is_empty() {
            lines.push(Line::from(job.message.clone()));
        }
        lines.push(Line::from(""));
        match &s.errors_error {
            Some(e) => lines.push(Line::styled(e.clone(), t.bad())),
            None if s.errors.is_empty() && job.kind == "merge" => {
                lines.push(Line::from("No contact was folded, kept apart or skipped."))
            }
            None if s.errors.is_empty() => lines.push(Line::from("No entry was skipped.")),
            None => {
                let heading = if job.kind == "merge" {
                    format!(
                        "{} contacts folded, kept apart or skipped, by name:",
                        s.errors.len()
                    )
                } else {
                    format!("{} entries skipped:", s.errors.len())
                };
                lines.push(Line::from(Span::styled(heading, t.title())));
                for (position, reason) in s.errors.iter().skip(s.error_scroll) {
                    lines.push(Line::from(format!("{position:<16} {reason}")));
                }
            }
        }
        f.render_widget(
            Paragraph::new(lines)
                .block(widgets::panel(t, "Job"))
                .wrap(Wrap { trim: false }),
            area,
        );
    }
}
