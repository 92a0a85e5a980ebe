//! The frame every screen shares: the status header, the breadcrumb, the
//! screen's body, the message line with the key hints, and the popup.

use super::app::App;
use super::component::{Level, Menu, Popup, Screen, ServerView};
use super::keys;
use super::widgets::{self, wrap};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

/// Draws the whole frame.
pub fn draw(app: &App, f: &mut Frame) {
    let area = f.area();
    let rows = Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(footer_rows(app, area.width)),
    ])
    .split(area);
    header(app, f, rows[0]);
    breadcrumb(app, f, rows[1]);
    body(app, f, rows[2]);
    footer(app, f, rows[3]);
    popup(app, f, area);
}

fn body(app: &App, f: &mut Frame, area: Rect) {
    let ctx = &app.ctx();
    match app.screen() {
        Screen::Menu(m) => menu(app, m, f, area),
        Screen::Modules => app.modules.draw(ctx, f, area),
        Screen::UcmForm => app.ucm.draw(ctx, f, area),
        Screen::Server => app.server_screen.draw(ctx, f, area),
        Screen::Logs => app.logs.draw(ctx, f, area),
        Screen::Contacts => app.contacts.draw(ctx, f, area),
        Screen::ContactForm => app.contacts.form.draw(ctx, f, area),
        Screen::Phone => app.phone.draw(ctx, f, area),
        Screen::Jobs => app.jobs.draw(ctx, f, area),
        Screen::JobDetail => app.jobs.draw_detail(ctx, f, area),
        Screen::PhoneSetup => app.setup.draw(ctx, f, area),
        Screen::Checklist => app.checklist.draw(ctx, f, area),
        Screen::Cluster => app.cluster.draw(ctx, f, area),
        Screen::Sources => app.sources.draw(ctx, f, area),
        Screen::SourceForm => app.sources.form.draw(ctx, f, area),
    }
}

/// What each menu entry is for, shown beside the menu when there is room.
fn describe(screen: Screen) -> &'static str {
    match screen {
        Screen::Menu(Menu::Advanced) => {
            "Module Configuration: install modules; Edit Unified Communication Model"
        }
        Screen::Menu(Menu::Subsystems) => {
            "Application Server: Stop, Start, Sync bundles, Status, Logs"
        }
        Screen::Contacts => {
            "The served directory, searched as you type; internal contacts; the Phone view"
        }
        Screen::Jobs => "Imports and merges: history, counts, skipped entries, progress",
        Screen::PhoneSetup => "Settings to paste into each vendor's phones for this node",
        Screen::Checklist => "The admin guide's steps, checked live",
        Screen::Cluster => {
            "Cluster Replication: each node's state; push imported contacts to nodes"
        }
        Screen::Modules => "Modules, their dependencies and release notes",
        Screen::Server => "Stop, Start, Sync bundles, Restart, Status, Logs",
        Screen::Sources => "Contacts from LDAP and Active Directory: last syncs, Test, Sync now",
        _ => "",
    }
}

fn menu(app: &App, m: Menu, f: &mut Frame, area: Rect) {
    let t = &app.theme;
    let entries = m.entries();
    let sel = app.menu_selection(m);
    let wide = area.width >= 70;
    let parts = if wide {
        Layout::horizontal([Constraint::Length(30), Constraint::Min(20)]).split(area)
    } else {
        Layout::horizontal([Constraint::Min(20), Constraint::Length(0)]).split(area)
    };
    let rows: Vec<Line<'static>> = entries
        .iter()
        .map(|(label, _)| {
            // The first letter jumps to the entry: shown as the entry's hot key.
            let mut chars = label.chars();
            let first = chars.next().map(String::from).unwrap_or_default();
            Line::from(vec![
                Span::styled(first, t.key()),
                Span::raw(chars.as_str().to_string()),
            ])
        })
        .collect();
    let block = widgets::panel(t, m_title(m));
    let inner = block.inner(parts[0]);
    f.render_widget(block, parts[0]);
    widgets::list(t, f, inner, rows, sel);
    if wide {
        let text = entries
            .get(sel)
            .map(|(_, s)| describe(*s))
            .unwrap_or_default();
        f.render_widget(
            Paragraph::new(text)
                .wrap(ratatui::widgets::Wrap { trim: true })
                .block(widgets::panel(t, "About")),
            parts[1],
        );
    }
}

fn m_title(m: Menu) -> &'static str {
    Screen::Menu(m).title()
}

/// The status line: node, baseline, server state, listeners, contacts, next jobs.
pub fn header(app: &App, f: &mut Frame, area: Rect) {
    let t = &app.theme;
    let (node, baseline) = match &app.config {
        Ok(c) => (c.node.name.clone(), c.node.baseline.to_string()),
        Err(_) => ("?".to_string(), "?".to_string()),
    };
    let mut spans = vec![
        Span::styled(format!(" {node} "), t.bar().add_modifier(Modifier::BOLD)),
        Span::raw(format!(" baseline {baseline} │ ")),
    ];
    match &app.server {
        ServerView::Running(s) => {
            spans.push(Span::styled("● running", t.good()));
            let listen: Vec<String> = s.listen.iter().chain(&s.ldaps_listen).cloned().collect();
            spans.push(Span::raw(format!(
                " │ LDAP {} │ {} contacts (gen {})",
                if listen.is_empty() {
                    "off".to_string()
                } else {
                    listen.join(" ")
                },
                s.contacts,
                s.generation
            )));
        }
        ServerView::Stopped => spans.push(Span::styled("○ stopped", t.warn())),
        ServerView::Unknown => spans.push(Span::styled("… checking", t.dim())),
        ServerView::Unreachable(_) => spans.push(Span::styled("✗ not answering", t.bad())),
    }
    let mut second = vec![Span::raw(" ")];
    let (import, merge) = widgets::next_jobs(&app.ctx());
    second.push(Span::raw(format!(
        "next import: {import} │ next merge: {merge}"
    )));
    let stage = app
        .running()
        .map(|s| &s.progress)
        .filter(|p| !p.stage.is_empty())
        .map(|p| match p.total {
            0 => format!(": {} {}", p.stage, p.done),
            total => format!(": {} {}%", p.stage, p.done * 100 / total),
        })
        .unwrap_or_default();
    if let Some(b) = &app.busy {
        let secs = (app.now - b.since).num_seconds().max(0);
        second.push(Span::raw(" │ "));
        second.push(Span::styled(
            format!("⟳ {}{stage} ({secs} s)", b.label),
            t.warn(),
        ));
    } else if let Some(job) = app
        .running()
        .and_then(|s| s.jobs.iter().find(|j| j.running))
    {
        // A job the server's schedule started.
        second.push(Span::raw(" │ "));
        second.push(Span::styled(
            format!("⟳ {} running{stage}", job.kind.as_str()),
            t.warn(),
        ));
    }
    let lines = vec![Line::from(spans), Line::from(second)];
    f.render_widget(Paragraph::new(lines), area);
}

/// The breadcrumb of the navigation stack.
pub fn breadcrumb(app: &App, f: &mut Frame, area: Rect) {
    let line = Line::from(vec![
        Span::styled(" ◆ ", app.theme.title()),
        Span::styled(app.breadcrumb(), app.theme.title()),
    ]);
    f.render_widget(Paragraph::new(line), area);
}

/// The most rows the message takes above the key hints.
const MESSAGE_ROWS: usize = 4;

/// The message line's text and style, when there is one to show.
fn message(app: &App) -> Option<(String, Style)> {
    let t = &app.theme;
    if let Some(m) = &app.message {
        let (style, mark) = match m.level {
            Level::Info => (t.good(), "✓ "),
            Level::Warn => (t.warn(), "! "),
            Level::Error => (t.bad(), "✗ "),
        };
        Some((format!("{mark}{}", m.text), style))
    } else if let ServerView::Unreachable(why) = &app.server {
        Some((format!("✗ application server: {why}"), t.bad()))
    } else {
        None
    }
}

/// The message's lines at `width`: whole, up to [`MESSAGE_ROWS`]; one at least.
fn message_lines(app: &App, width: u16) -> Vec<Line<'static>> {
    let Some((text, style)) = message(app) else {
        return vec![Line::from("")];
    };
    let mut lines = wrap(&text, width as usize);
    if lines.len() > MESSAGE_ROWS {
        lines.truncate(MESSAGE_ROWS);
        if let Some(last) = lines.last_mut() {
            let keep = last.chars().count().min((width as usize).saturating_sub(1));
            *last = last.chars().take(keep).collect::<String>() + "…";
        }
    }
    lines
        .into_iter()
        .map(|l| Line::from(Span::styled(l, style)))
        .collect()
}

/// The rows the footer takes at `width`: the message, then the key hints.
pub fn footer_rows(app: &App, width: u16) -> u16 {
    message_lines(app, width).len() as u16 + 1
}

/// The message (wrapped, so that it is read whole) and the key hints of the
/// screen in force.
pub fn footer(app: &App, f: &mut Frame, area: Rect) {
    let t = &app.theme;
    let message = message_lines(app, area.width);
    let rows = Layout::vertical([
        Constraint::Length(message.len() as u16),
        Constraint::Length(1),
    ])
    .split(area);
    f.render_widget(Paragraph::new(message), rows[0]);
    let tables: Vec<&[keys::Binding]> = match &app.popup {
        Some(Popup::Confirm { .. }) => vec![keys::CONFIRM],
        Some(Popup::Info { .. }) => vec![keys::POPUP],
        None => app.bindings(),
    };
    // The screen's own hints first, the global ones last; when the line is too
    // narrow, screen hints give way so that back, help and quit stay visible.
    let (own, global): (Vec<_>, Vec<_>) = tables
        .iter()
        .partition(|t| !std::ptr::eq(**t, keys::GLOBAL));
    let mut hints = keys::hints(&own);
    if app.busy.as_ref().is_some_and(|b| b.cancellable) {
        hints.insert(0, "^X cancel job");
    }
    let global = keys::hints(&global);
    let width = |h: &[&str]| h.iter().map(|x| x.chars().count() + 2).sum::<usize>();
    while !hints.is_empty() && width(&hints) + width(&global) > area.width as usize {
        hints.pop();
    }
    hints.extend(global);
    let mut spans = Vec::new();
    for h in hints {
        let (k, what) = h.split_once(' ').unwrap_or((h, ""));
        spans.push(Span::styled(format!(" {k}"), t.key()));
        spans.push(Span::raw(format!(" {what}")));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), rows[1]);
}

/// A bordered rectangle centred in `area`.
fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

pub fn popup(app: &App, f: &mut Frame, area: Rect) {
    let t = &app.theme;
    let Some(p) = &app.popup else { return };
    let (title, lines, question) = match p {
        Popup::Confirm { title, lines, .. } => (title, lines, true),
        Popup::Info { title, lines } => (title, lines, false),
    };
    let width = lines
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(20)
        .max(title.chars().count() + 4)
        .max(30) as u16
        + 4;
    let height = lines.len() as u16 + if question { 4 } else { 2 };
    let rect = centered(area, width, height);
    f.render_widget(Clear, rect);
    let mut text: Vec<Line> = lines.iter().map(|l| Line::from(l.clone())).collect();
    if question {
        text.push(Line::from(""));
        text.push(Line::from(vec![
            Span::styled("[y]", t.key()),
            Span::raw(" yes   "),
            Span::styled("[n]", t.key()),
            Span::raw(" no"),
        ]));
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(if question { t.warn() } else { t.title() })
        .title(Span::styled(format!(" {title} "), t.title()));
    f.render_widget(
        Paragraph::new(text).block(block).wrap(Wrap { trim: false }),
        rect,
    );
}
