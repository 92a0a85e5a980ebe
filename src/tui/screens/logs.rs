//! Subsystems > Application Server > Logs: the server log, followed live, long
//! lines wrapped.

use super::super::component::{Ctx, Reply};
use super::super::effect::Effect;
use super::super::keys::Cmd;
use super::super::widgets;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

/// Lines kept in memory; older ones scroll away.
const KEEP: usize = 5000;

pub use super::super::action::Chunk;

#[derive(Debug, Default)]
pub struct State {
    pub lines: Vec<String>,
    pub offset: u64,
    /// The view sticks to the end as lines arrive.
    pub follow: bool,
    /// The first line shown when not following.
    pub scroll: usize,
    pub error: Option<String>,
}

impl State {
    pub fn append(&mut self, c: Chunk) {
        if c.restart {
            self.lines.clear();
        }
        self.lines.extend(c.text.lines().map(str::to_string));
        if self.lines.len() > KEEP {
            let cut = self.lines.len() - KEEP;
            self.lines.drain(..cut);
            self.scroll = self.scroll.saturating_sub(cut);
        }
        self.offset = c.offset;
        self.error = None;
    }

    pub fn handle(&mut self, cmd: Cmd) -> Reply {
        match cmd {
            Cmd::Follow => {
                self.follow = !self.follow;
                Reply::default()
            }
            Cmd::Refresh => Reply::run(vec![Effect::ReadLog { from: None }]),
            _ => Reply::default(),
        }
    }

    pub fn draw(&self, ctx: &Ctx, f: &mut Frame, area: Rect) {
        let t = ctx.theme;
        let logs = self;
        let title = format!(
            "{}/log/server.log{}",
            ctx.home,
            if logs.follow {
                " (following)"
            } else {
                " (f follows)"
            }
        );
        let block = widgets::panel(t, &title);
        let inner = block.inner(area);
        let height = inner.height as usize;
        let width = inner.width as usize;
        // Long lines wrap: every line is read whole. Following, the last lines fill
        // the view from the bottom; scrolled, the view starts at line `scroll`.
        let mut lines: Vec<Line> = if logs.follow {
            let mut rows: Vec<String> = Vec::new();
            for l in logs.lines.iter().rev() {
                if rows.len() >= height {
                    break;
                }
                let mut wrapped = widgets::wrap(l, width);
                wrapped.extend(rows);
                rows = wrapped;
            }
            let extra = rows.len().saturating_sub(height);
            rows.into_iter().skip(extra).map(Line::from).collect()
        } else {
            let first = logs.scroll.min(logs.lines.len().saturating_sub(1));
            logs.lines
                .iter()
                .skip(first)
                .flat_map(|l| widgets::wrap(l, width))
                .take(height)
                .map(Line::from)
                .collect()
        };
        if let Some(e) = &logs.error {
            lines.push(Line::styled(e.clone(), t.bad()));
        } else if logs.lines.is_empty() {
            lines.push(Line::styled(
                "The log is empty: the application server has not run yet.",
                t.dim(),
            ));
        }
        f.render_widget(Paragraph::new(lines).block(block), area);
    }
}
