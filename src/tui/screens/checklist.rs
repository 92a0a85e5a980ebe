//! Setup checklist: the guide's steps (`ops::checklist`), checked live, each
//! leading to where it is done.

use super::super::app::{App, Menu, Screen, ServerView};
use super::super::effect::Effect;
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

pub fn checklist(app: &App) -> Vec<Item> {
    let server = match &app.server {
        ServerView::Running(s) => Server::Running(s),
        ServerView::Stopped => Server::Stopped,
        ServerView::Unreachable(e) => Server::Unreachable(e),
        ServerView::Unknown => Server::Unknown,
    };
    let (next_import, _) = widgets::next_jobs(app);
    steps::checklist(
        app.config.as_ref().map_err(String::as_str),
        server,
        &app.jobs.list,
        &next_import,
    )
}

pub fn command(app: &mut App, cmd: Cmd) -> Vec<Effect> {
    if cmd != Cmd::Open {
        return vec![];
    }
    let items = checklist(app);
    let Some(item) = items.get(app.checklist_sel) else {
        return vec![];
    };
    let mut out = Vec::new();
    app.stack.truncate(1);
    let path = screens(item.fix);
    for s in path {
        out.extend(app.push(*s));
    }
    // Land on the action that fixes it.
    match path.last() {
        Some(Screen::Server) => {
            app.server_sel = if app.running().is_some() { 2 } else { 1 };
        }
        Some(Screen::Modules) => app.modules.sel = 1,
        _ => {}
    }
    out
}

pub fn draw(app: &App, f: &mut Frame, area: Rect) {
    let t = &app.theme;
    let items = checklist(app);
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
    widgets::list(t, f, inner, rows, app.checklist_sel);
    if let Some(i) = items.get(app.checklist_sel) {
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
