//! Setup checklist: the guide's steps (`ops::checklist`), checked live, each
//! leading to where it is done.

use super::super::component::{Ctx, Menu, Nav, Reply, Screen, ServerView};
use super::super::keys::Cmd;
use super::super::widgets;
use crate::ops::checklist::{self as steps, Server};
pub use crate::ops::checklist::{Check, Fix, Item};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

/// Where a step is done, as a path of screens from the main menu.
fn screens(fix: Fix) -> &'static [Screen] {
    match fix {
        Fix::Config => &[],
        Fix::Modules => &[Screen::Menu(Menu::Advanced), Screen::Modules],
        Fix::Ucm => &[
            Screen::Menu(Menu::Advanced),
            Screen::Modules,
            Screen::UcmForm,
        ],
        Fix::Server => &[Screen::Menu(Menu::Subsystems), Screen::Server],
    }
}

/// The steps, checked against what the shell knows now.
pub fn checklist(ctx: &Ctx) -> Vec<Item> {
    let server = match ctx.server {
        ServerView::Running(s) => Server::Running(s),
        ServerView::Stopped => Server::Stopped,
        ServerView::Unreachable(e) => Server::Unreachable(e),
        ServerView::Unknown => Server::Unknown,
    };
    let (next_import, _) = widgets::next_jobs(ctx);
    steps::checklist(
        ctx.config.as_ref().map_err(String::as_str),
        server,
        ctx.jobs,
        &next_import,
    )
}

#[derive(Debug, Default)]
pub struct State {
    pub sel: usize,
}

impl State {
    /// Enter goes where the selected step is done, on the row that does it.
    pub fn handle(&mut self, ctx: &Ctx, cmd: Cmd) -> Reply {
        let items = checklist(ctx);
        let Some(item) = items.get(self.sel).filter(|_| cmd == Cmd::Open) else {
            return Reply::default();
        };
        let path = screens(item.fix);
        let land = match path.last() {
            Some(Screen::Server) => Some(if ctx.running().is_some() { 2 } else { 1 }),
            Some(Screen::Modules) => Some(1),
            _ => None,
        };
        Reply {
            nav: Some(Nav::Path(path, land)),
            ..Reply::default()
        }
    }

    pub fn draw(&self, ctx: &Ctx, f: &mut Frame, area: Rect) {
        let t = ctx.theme;
        let items = checklist(ctx);
        let parts = Layout::vertical([Constraint::Min(3), Constraint::Length(4)]).split(area);
        let rows: Vec<Line<'static>> = items
            .iter()
            .map(|i| {
                let (mark, style) = match i.check {
                    Check::Done => ("[x] ", t.good()),
                    Check::Todo => ("[ ] ", t.bad()),
                    Check::Waiting => ("[~] ", t.warn()),
                };
                Line::from(vec![Span::styled(mark, style), Span::raw(i.label.clone())])
            })
            .collect();
        let block = widgets::panel(t, "Steps of the admin guide");
        let inner = block.inner(parts[0]);
        f.render_widget(block, parts[0]);
        widgets::list(t, f, inner, rows, self.sel);
        if let Some(i) = items.get(self.sel) {
            let path: Vec<&str> = screens(i.fix).iter().map(|s| s.title()).collect();
            let lines = vec![
                Line::from(i.detail.clone()),
                Line::from(Span::styled(
                    format!("Enter goes to: {}", path.join(" > ")),
                    t.dim(),
                )),
            ];
            f.render_widget(
                Paragraph::new(lines)
                    .block(widgets::panel(t, "Detail"))
                    .wrap(Wrap { trim: true }),
                parts[1],
            );
        }
    }
}
