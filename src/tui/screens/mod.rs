//! One file per screen: its state, what its keys do, and how it is drawn.
//! `draw` lays out the frame every screen shares: header, breadcrumb, body, footer.

pub mod checklist;
pub mod cluster;
pub mod contacts;
pub mod jobs;
pub mod logs;
pub mod modules;
pub mod phone;
pub mod phone_setup;
pub mod server;
pub mod sources;
pub mod ucm_form;

use super::app::{App, Menu, Screen};
use super::widgets;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// Draws the whole frame.
pub fn draw(app: &App, f: &mut Frame) {
    let area = f.area();
    let rows = Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(widgets::footer_rows(app, area.width)),
    ])
    .split(area);
    widgets::header(app, f, rows[0]);
    widgets::breadcrumb(app, f, rows[1]);
    body(app, f, rows[2]);
    widgets::footer(app, f, rows[3]);
    widgets::popup(app, f, area);
}

fn body(app: &App, f: &mut Frame, area: Rect) {
    match app.screen() {
        Screen::Menu(m) => menu(app, m, f, area),
        Screen::Modules => modules::draw(app, f, area),
        Screen::UcmForm => ucm_form::draw(app, f, area),
        Screen::Server => server::draw(app, f, area),
        Screen::Logs => logs::draw(app, f, area),
        Screen::Contacts => contacts::draw(app, f, area),
        Screen::ContactForm => contacts::draw_form(app, f, area),
        Screen::Phone => phone::draw(app, f, area),
        Screen::Jobs => jobs::draw(app, f, area),
        Screen::JobDetail => jobs::draw_detail(app, f, area),
        Screen::PhoneSetup => phone_setup::draw(app, f, area),
        Screen::Checklist => checklist::draw(app, f, area),
        Screen::Cluster => cluster::draw(app, f, area),
        Screen::Sources => sources::draw(app, f, area),
        Screen::SourceForm => sources::draw_form(app, f, area),
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
