//! Setup checklist: the guide's steps, checked live, each leading to where it is done.

use super::super::app::{App, Menu, Screen, ServerView};
use super::super::effect::Effect;
use super::super::keys::Cmd;
use super::super::widgets;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    Done,
    Todo,
    /// Set up, waiting for its time (a cron) or for a step before it.
    Waiting,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub label: String,
    pub check: Check,
    pub detail: String,
    /// Where it is fixed, as a path of screens from the main menu.
    pub fix: &'static [Screen],
}

const MODULES: &[Screen] = &[Screen::Menu(Menu::Advanced), Screen::Modules];
const UCM: &[Screen] = &[
    Screen::Menu(Menu::Advanced),
    Screen::Modules,
    Screen::UcmForm,
];
const SERVER: &[Screen] = &[Screen::Menu(Menu::Subsystems), Screen::Server];

pub fn checklist(app: &App) -> Vec<Item> {
    let mut items = Vec::new();
    let Ok(config) = &app.config else {
        return vec![Item {
            label: "config.toml is valid".into(),
            check: Check::Todo,
            detail: app.config.as_ref().err().cloned().unwrap_or_default(),
            fix: &[],
        }];
    };
    let wanted = ["ucm", "ldap-server"];
    let missing: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|id| !config.modules.contains(*id))
        .collect();
    items.push(Item {
        label: "Modules installed: Unified Communication Model, LDAP Server".into(),
        check: if missing.is_empty() {
            Check::Done
        } else {
            Check::Todo
        },
        detail: if missing.is_empty() {
            format!(
                "installed: {}",
                config
                    .modules
                    .iter()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else {
            format!(
                "missing: {} (install LDAP Server: its dependency comes with it)",
                missing.join(", ")
            )
        },
        fix: MODULES,
    });
    let u = &config.ucm;
    let ucm_ok = config.modules.contains("ucm") && !u.merge_cron.is_empty();
    items.push(Item {
        label: "Unified Communication Model configured".into(),
        check: if ucm_ok { Check::Done } else { Check::Todo },
        detail: if ucm_ok {
            format!(
                "URL {}; import cron {}; merge cron {}",
                if u.url.is_empty() { "(none)" } else { &u.url },
                if u.cron.is_empty() {
                    "(on demand)"
                } else {
                    u.cron.as_str()
                },
                u.merge_cron
            )
        } else {
            "the merge directory cron is required, e.g. 30 23 ? * *".into()
        },
        fix: UCM,
    });
    let running = app.running();
    items.push(Item {
        label: "Application server started".into(),
        check: if running.is_some() {
            Check::Done
        } else {
            Check::Todo
        },
        detail: match &app.server {
            ServerView::Running(s) => format!("pid {}, LDAP on {}", s.pid, s.listen.join(" ")),
            ServerView::Stopped => "stopped: Start it".into(),
            ServerView::Unreachable(e) => e.clone(),
            ServerView::Unknown => "checking...".into(),
        },
        fix: SERVER,
    });
    let out_of_sync: Vec<String> = running
        .map(|s| {
            s.bundles
                .iter()
                .filter(|b| {
                    let installed = config.modules.contains(&b.module);
                    (installed && b.state != "running") || (!installed && b.state == "running")
                })
                .map(|b| format!("{} {}", b.name, b.state))
                .collect()
        })
        .unwrap_or_default();
    items.push(Item {
        label: "Bundles synced".into(),
        check: match running {
            None => Check::Waiting,
            Some(_) if out_of_sync.is_empty() => Check::Done,
            Some(_) => Check::Todo,
        },
        detail: match running {
            None => "after Start".into(),
            Some(_) if out_of_sync.is_empty() => "every installed module's bundles run".into(),
            Some(_) => format!("Sync bundles: {}", out_of_sync.join(", ")),
        },
        fix: SERVER,
    });
    let imported = app
        .jobs
        .list
        .iter()
        .find(|j| j.kind == "import" && j.status == "ok");
    let (next_import, _) = widgets::next_jobs(app);
    items.push(Item {
        label: "First import done".into(),
        check: match (imported, u.url.is_empty()) {
            (Some(_), _) => Check::Done,
            (None, true) => Check::Waiting,
            (None, false) => Check::Waiting,
        },
        detail: match (imported, u.url.is_empty()) {
            (Some(j), _) => format!("job {}: {}", j.id, super::jobs::counts(j)),
            (None, true) => "no URL of external contacts: internal contacts only".into(),
            (None, false) => {
                format!("not yet: the import cron runs it ({next_import}), or Import now")
            }
        },
        fix: UCM,
    });
    // A listener phones can reach: one not on the loopback interface.
    let reachable =
        |s: &&crate::control::Status| s.listen.iter().chain(&s.ldaps_listen).any(|a| !loopback(a));
    items.push(Item {
        label: "Phones get answers".into(),
        check: match running {
            Some(s) if reachable(&s) => Check::Done,
            _ => Check::Todo,
        },
        detail: match running {
            Some(s) if !reachable(&s) => format!(
                "listening on {} only: phones on the network cannot reach it; set [ldap] \
                 listen to an address of this host or 0.0.0.0:389",
                s.listen
                    .iter()
                    .chain(&s.ldaps_listen)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            Some(s) => format!(
                "{} contacts served on {} (base {})",
                s.contacts,
                s.listen
                    .iter()
                    .chain(&s.ldaps_listen)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(" "),
                s.base_dn
            ),
            None => "the application server is not running".into(),
        },
        fix: SERVER,
    });
    items
}

/// Is a listen address on the loopback interface (`127.0.0.1:389`, `[::1]:389`,
/// `localhost:389`)?
fn loopback(addr: &str) -> bool {
    match addr.parse::<std::net::SocketAddr>() {
        Ok(a) => a.ip().is_loopback(),
        Err(_) => addr.starts_with("localhost:"),
    }
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
    for s in item.fix {
        out.extend(app.push(*s));
    }
    // Land on the action that fixes it.
    match item.fix.last() {
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
        let path: Vec<&str> = i.fix.iter().map(|s| s.title()).collect();
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
