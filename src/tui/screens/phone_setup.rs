//! Phone setup: for each vendor, the settings to paste into its phones or their
//! provisioning file for this node. The lines stand alone, without borders, so
//! that a terminal selection copies only them (`sop phones setup VENDOR` prints them too).

use super::super::component::{Ctx, Reply};
use super::super::keys::Cmd;
use crate::home::Home;
use crate::phones::PRESETS;
use crate::phones::setup::{self, Snippet};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

#[derive(Debug, Default)]
pub struct State {
    /// Index in `PRESETS`.
    pub vendor: usize,
    pub scroll: usize,
    /// The address phones reach this node at, found when the screen opens.
    pub host: Option<String>,
}

impl State {
    /// The settings of the selected vendor, or why there are none.
    pub fn snippet(&self, ctx: &Ctx) -> Result<Snippet, String> {
        let config = ctx.config.as_ref().map_err(|e| {
            format!("The configuration has an error; fix it first (sop config check): {e}")
        })?;
        let mut node = setup::Node::from_config(config, &Home::new(ctx.home));
        if let Some(host) = &self.host {
            node.host = host.clone();
        }
        Ok(setup::snippet(&PRESETS[self.vendor % PRESETS.len()], &node))
    }

    /// Finds the node's address once, not at every frame.
    pub fn entered(&mut self, ctx: &Ctx) {
        if self.host.is_none() {
            if let Ok(c) = ctx.config {
                if let Some(addr) = c.ldap.listen.first().or(c.ldap.tls.ldaps_listen.first()) {
                    self.host = Some(setup::advertised_host(*addr));
                }
            }
        }
    }

    fn lines(&self, ctx: &Ctx) -> Vec<Line<'static>> {
        let t = ctx.theme;
        match self.snippet(ctx) {
            Err(e) => vec![Line::from(Span::styled(e, t.bad()))],
            Ok(s) => {
                let mut out: Vec<Line> = s.lines.into_iter().map(Line::from).collect();
                if !s.notes.is_empty() {
                    out.push(Line::from(""));
                }
                out.extend(
                    s.notes
                        .into_iter()
                        .map(|n| Line::from(Span::styled(format!("Note: {n}"), t.warn()))),
                );
                out
            }
        }
    }

    pub fn line_count(&self, ctx: &Ctx) -> usize {
        self.lines(ctx).len()
    }

    pub fn handle(&mut self, cmd: Cmd) -> Reply {
        let n = PRESETS.len();
        match cmd {
            Cmd::NextPreset => self.vendor = (self.vendor + 1) % n,
            Cmd::PrevField => self.vendor = (self.vendor + n - 1) % n,
            _ => return Reply::default(),
        }
        self.scroll = 0;
        Reply::default()
    }

    pub fn draw(&self, ctx: &Ctx, f: &mut Frame, area: Rect) {
        let t = ctx.theme;
        let rows = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Min(1),
        ])
        .split(area);
        let selected = self.vendor % PRESETS.len();
        let mut tabs = vec![Span::styled(" Vendor  ", t.dim())];
        for (i, p) in PRESETS.iter().enumerate() {
            if i == selected {
                tabs.push(Span::styled(format!("[{}]", p.vendor), t.selected()));
            } else {
                tabs.push(Span::raw(format!(" {} ", p.vendor)));
            }
            tabs.push(Span::raw(" "));
        }
        f.render_widget(Paragraph::new(Line::from(tabs)), rows[0]);
        let p = &PRESETS[selected];
        let target = self.snippet(ctx).map(|s| s.target).unwrap_or_default();
        f.render_widget(
            Paragraph::new(Line::from(Span::styled(
                format!(" {} ({}): paste into {target}", p.vendor, p.models),
                t.title(),
            ))),
            rows[1],
        );
        let body = self.lines(ctx);
        let width = rows[3].width as usize;
        let mut area = rows[3];
        // A line cut at the edge would be pasted wrong: wider lines wrap, and the
        // command that prints them whole is named.
        if body.iter().any(|l| l.width() > width) {
            let hint = Rect {
                y: area.y + area.height.saturating_sub(1),
                height: 1.min(area.height),
                ..area
            };
            area.height = area.height.saturating_sub(1);
            f.render_widget(
            Paragraph::new(Span::styled(
                format!(
                    " Lines wider than the terminal wrap: `sop phones setup {}` prints them whole.",
                    p.id
                ),
                t.dim(),
            )),
            hint,
        );
        }
        let visible = area.height as usize;
        let scroll = self.scroll.min(body.len().saturating_sub(visible));
        f.render_widget(
            Paragraph::new(body.into_iter().skip(scroll).collect::<Vec<_>>())
                .wrap(Wrap { trim: false }),
            area,
        );
    }
}
