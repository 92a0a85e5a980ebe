//! Advanced > Module Configuration: the catalog with each module's state, and the
//! way to Edit Unified Communication Model. Install and Remove show the plan and ask.

use super::super::component::{Ctx, Popup, Reply, Screen};
use super::super::effect::Effect;
use super::super::keys::Cmd;
use super::super::widgets;
use crate::modules::{Catalog, Module};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

/// The first row opens the UCM form; the modules follow.
pub const EDIT_UCM: &str = "Edit Unified Communication Model";

#[derive(Debug, Default)]
pub struct State {
    pub sel: usize,
}

pub fn rows() -> Vec<String> {
    let mut out = vec![EDIT_UCM.to_string()];
    out.extend(Catalog::builtin().modules().iter().map(|m| m.name.clone()));
    out
}

fn selected(sel: usize) -> Option<Module> {
    (sel > 0)
        .then(|| Catalog::builtin().modules().get(sel - 1).cloned())
        .flatten()
}

fn installed(ctx: &Ctx, id: &str) -> bool {
    ctx.config.as_ref().is_ok_and(|c| c.modules.contains(id))
}

impl State {
    pub fn handle(&mut self, ctx: &Ctx, cmd: Cmd) -> Reply {
        let mut r = Reply::default();
        let catalog = Catalog::builtin();
        let Ok(config) = ctx.config else {
            r.error("config.toml cannot be read: sop config check says why");
            return r;
        };
        match (cmd, selected(self.sel)) {
            (Cmd::Open, None) => {
                if !config.modules.contains("ucm") {
                    r.error("install the Unified Communication Model first (i on its row)");
                    return r;
                }
                return r.open(Screen::UcmForm);
            }
            (Cmd::Open, Some(m)) => {
                let mut lines = vec![
                    format!("{} {} ({})", m.name, m.version, m.id),
                    m.description.clone(),
                    String::new(),
                ];
                lines.extend(m.release_notes.lines().map(str::to_string));
                r.popup = Some(Popup::Info {
                    title: m.name.clone(),
                    lines,
                });
            }
            (Cmd::Install, None) | (Cmd::Remove, None) => {
                r.error("select a module first");
            }
            (Cmd::Install, Some(m)) => {
                match catalog.plan_install(&config.modules, &m.id, config.node.baseline) {
                    Err(e) => r.error(format!("cannot install {}: {e}", m.name)),
                    Ok(plan) if plan.is_empty() => {
                        r.info(format!("{} {} is already installed", m.name, m.version));
                    }
                    Ok(plan) => {
                        let mut lines =
                            vec!["These modules will be installed, in this order:".into()];
                        lines.extend(
                            plan.iter()
                                .map(|p| format!("  {} {} ({})", p.name, p.version, p.id)),
                        );
                        lines.push("Sync bundles afterwards to start them.".into());
                        let ids = plan.iter().map(|p| p.id.clone()).collect();
                        r.confirm(&format!("Install {}", m.name), lines, Effect::Install(ids));
                    }
                }
            }
            (Cmd::Remove, Some(m)) => {
                if !config.modules.contains(&m.id) {
                    r.info(format!("{} is not installed", m.name));
                } else if let Err(e) = catalog.check_remove(&config.modules, &m.id) {
                    r.error(format!("cannot remove {}: {e}", m.name));
                } else {
                    r.confirm(
                        &format!("Remove {}", m.name),
                        vec![
                            format!("Remove {} {}?", m.name, m.version),
                            format!(
                                "Its bundles stop at the next sync: {}",
                                m.bundles.join(", ")
                            ),
                        ],
                        Effect::Remove(m.id.clone()),
                    );
                }
            }
            _ => {}
        }
        r
    }

    pub fn draw(&self, ctx: &Ctx, f: &mut Frame, area: Rect) {
        let t = ctx.theme;
        let catalog = Catalog::builtin();
        let wide = area.width >= 100;
        let parts = if wide {
            Layout::horizontal([Constraint::Length(56), Constraint::Min(20)]).split(area)
        } else {
            Layout::vertical([Constraint::Length(7), Constraint::Min(3)]).split(area)
        };
        let mut rows: Vec<Line<'static>> = vec![Line::from(Span::styled(EDIT_UCM, t.title()))];
        for m in catalog.modules() {
            let state = if installed(ctx, &m.id) {
                Span::styled("installed    ", t.good())
            } else {
                Span::styled("not installed", t.dim())
            };
            rows.push(Line::from(vec![
                Span::raw(format!("{:<30} {:<6} ", m.name, m.version.to_string())),
                state,
            ]));
        }
        let block = widgets::panel(t, "Modules");
        let inner = block.inner(parts[0]);
        f.render_widget(block, parts[0]);
        widgets::list(t, f, inner, rows, self.sel);

        let detail: Vec<Line> = match selected(self.sel) {
            None => vec![
                Line::from("URL of the external contacts, import cron, priority"),
                Line::from("and merge directory cron. Enter opens the form."),
            ],
            Some(m) => {
                let deps = if m.depends.is_empty() {
                    "none".to_string()
                } else {
                    m.depends
                        .iter()
                        .map(|d| d.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let baseline = ctx.config.as_ref().map_or(0, |c| c.node.baseline);
                let mut v = vec![
                    Line::from(Span::styled(
                        format!("{} {} ({})", m.name, m.version, m.id),
                        t.title(),
                    )),
                    Line::from(m.description.clone()),
                    Line::from(format!("Depends on: {deps}")),
                    Line::from(vec![
                        Span::raw(format!(
                            "Baseline required: {} (node: {baseline}) ",
                            m.baseline
                        )),
                        if baseline >= m.baseline {
                            Span::styled("ok", t.good())
                        } else {
                            Span::styled("too low", t.bad())
                        },
                    ]),
                    Line::from(format!("Bundles: {}", m.bundles.join(", "))),
                ];
                if wide {
                    v.push(Line::from(""));
                    v.push(Line::from(Span::styled("Release notes", t.title())));
                    v.extend(m.release_notes.lines().map(|l| Line::from(l.to_string())));
                }
                v
            }
        };
        let block = widgets::panel(t, "Details");
        f.render_widget(
            Paragraph::new(detail)
                .block(block)
                .wrap(Wrap { trim: true }),
            parts[1],
        );
    }
}
