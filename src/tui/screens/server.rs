//! Subsystems > Application Server: the guide's Stop, Start, Sync bundles, then
//! Restart, Status and Logs; the server's state beside them.

use super::super::component::{Ctx, Reply, Screen, ServerView};
use super::super::effect::Effect;
use super::super::keys::Cmd;
use super::super::widgets;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

pub const ACTIONS: [&str; 6] = ["Stop", "Start", "Sync bundles", "Restart", "Status", "Logs"];

#[derive(Debug)]
pub struct State {
    pub sel: usize,
}

impl Default for State {
    /// On Start: what a node that was just set up needs.
    fn default() -> State {
        State { sel: 1 }
    }
}

impl State {
    pub fn handle(&mut self, ctx: &Ctx, cmd: Cmd) -> Reply {
        let mut r = Reply::default();
        match cmd {
            Cmd::Refresh => return Reply::run(vec![Effect::Status]),
            Cmd::Open => {}
            _ => return r,
        }
        let running = ctx.running().is_some();
        match ACTIONS.get(self.sel).copied() {
            Some("Stop") => {
                if matches!(ctx.server, ServerView::Stopped) {
                    r.info("the application server is not running");
                } else {
                    let contacts = ctx.running().map_or(0, |s| s.contacts);
                    r.confirm(
                    "Stop",
                    vec![
                        "Stop the application server?".into(),
                        format!("Phones get no answer from this node until Start ({contacts} contacts served now)."),
                    ],
                    Effect::Stop,
                );
                }
            }
            Some("Start") => {
                if running {
                    r.info("the application server is already running");
                } else {
                    return r.begin("Starting the application server", false, Effect::Start);
                }
            }
            Some("Sync bundles") => {
                if running {
                    return r.begin("Syncing bundles", false, Effect::Sync);
                }
                r.info(
                    "the application server is stopped: Start runs the installed modules' bundles",
                );
            }
            Some("Restart") => r.confirm(
                "Restart",
                vec![
                    "Restart the application server?".into(),
                    "Phones get no answer for the seconds it takes.".into(),
                ],
                Effect::Restart,
            ),
            Some("Status") => return Reply::run(vec![Effect::Status]),
            Some("Logs") => return r.open(Screen::Logs),
            _ => {}
        }
        r
    }

    pub fn draw(&self, ctx: &Ctx, f: &mut Frame, area: Rect) {
        let t = ctx.theme;
        let parts = Layout::horizontal([Constraint::Length(22), Constraint::Min(20)]).split(area);
        let rows: Vec<Line<'static>> = ACTIONS.iter().map(|a| Line::from(*a)).collect();
        let block = widgets::panel(t, "Actions");
        let inner = block.inner(parts[0]);
        f.render_widget(block, parts[0]);
        widgets::list(t, f, inner, rows, self.sel);

        let right = Layout::vertical([Constraint::Min(3), Constraint::Length(1)]).split(parts[1]);
        let lines = status_lines(ctx);
        f.render_widget(
            Paragraph::new(lines)
                .block(widgets::panel(t, "Status"))
                .wrap(Wrap { trim: false }),
            right[0],
        );
        widgets::progress(ctx, f, right[1]);
    }
}

fn status_lines(ctx: &Ctx) -> Vec<Line<'static>> {
    let t = ctx.theme;
    match &ctx.server {
        ServerView::Unknown => vec![Line::from("asking the application server...")],
        ServerView::Stopped => vec![
            Line::from(Span::styled("○ stopped", t.warn())),
            Line::from("Phones get no answer from this node."),
            Line::from("Start runs it; the last published generation is served."),
        ],
        ServerView::Unreachable(why) => vec![
            Line::from(Span::styled("✗ not answering", t.bad())),
            Line::from(why.clone()),
            Line::from(format!("Its log: {}/log/server.log (Logs)", ctx.home)),
        ],
        ServerView::Running(s) => {
            let up = s.uptime_secs;
            let mut v = vec![
                Line::from(vec![
                    Span::styled("● running", t.good()),
                    Span::raw(format!(
                        "  pid {}  up {}d {:02}:{:02}:{:02}  version {}",
                        s.pid,
                        up / 86400,
                        up / 3600 % 24,
                        up / 60 % 60,
                        up % 60,
                        s.version
                    )),
                ]),
                Line::from(format!(
                    "LDAP {}{}",
                    s.listen.join(" "),
                    if s.ldaps_listen.is_empty() {
                        String::new()
                    } else {
                        format!("  LDAPS {}", s.ldaps_listen.join(" "))
                    }
                )),
                Line::from(format!("Base DN {}", s.base_dn)),
                Line::from(format!(
                    "Generation {}: {} contacts (built in {} ms); {} connections",
                    s.generation, s.contacts, s.generation_load_ms, s.connections
                )),
            ];
            for b in &s.phonebooks {
                let who = if b.bind_dn.is_empty() {
                    "any phone".to_string()
                } else {
                    format!("phones bound as {}", b.bind_dn)
                };
                v.push(Line::from(Span::styled(
                    format!(
                        "  phone book {} {}: {} contacts, for {who}",
                        b.name, b.base_dn, b.contacts
                    ),
                    t.dim(),
                )));
            }
            v.push(Line::from(Span::styled("Bundles", t.title())));
            for b in &s.bundles {
                let style = match b.state.as_str() {
                    "running" => t.good(),
                    "stopped" => t.warn(),
                    _ => t.dim(),
                };
                v.push(Line::from(vec![
                    Span::raw(format!("  {:<22} ", b.name)),
                    Span::styled(b.state.clone(), style),
                ]));
            }
            v.push(Line::from(Span::styled("Jobs", t.title())));
            for j in &s.jobs {
                let state = if j.running {
                    "running".to_string()
                } else if j.queued {
                    "queued".to_string()
                } else {
                    let next = j.next.as_deref().map(|n| {
                        chrono::DateTime::parse_from_rfc3339(n).map_or(n.to_string(), |t| {
                            t.with_timezone(&chrono::Local)
                                .format("%a %d %b %H:%M")
                                .to_string()
                        })
                    });
                    format!("next {}", next.unwrap_or_else(|| "on demand".into()))
                };
                v.push(Line::from(format!(
                    "  {:<8} {:<14} {state}",
                    j.kind.as_str(),
                    if j.cron.is_empty() { "-" } else { &j.cron }
                )));
            }
            v
        }
    }
}
