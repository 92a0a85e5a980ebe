//! Advanced > Directory Sources: each source with its schedule and last sync,
//! Test (a preview of the first contacts and the change a sync would make,
//! applying nothing) and Sync now (after a confirmation).

use super::super::app::{App, Popup};
use super::super::effect::Effect;
use super::super::keys::Cmd;
use super::super::widgets;
use crate::directory_sources::settings::SourceSettings;
use crate::directory_sources::sync::SyncReport;
use crate::directory_sources::{MODULE, settings::Policy};
use crate::store::Job;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

#[derive(Debug, Default)]
pub struct State {
    pub sel: usize,
}

fn sources(app: &App) -> &[SourceSettings] {
    app.config.as_ref().map_or(&[], |c| c.sources.as_slice())
}

/// The names of the sources, one row each.
pub fn rows(app: &App) -> Vec<String> {
    sources(app).iter().map(|s| s.name.clone()).collect()
}

fn installed(app: &App) -> bool {
    app.config
        .as_ref()
        .is_ok_and(|c| c.modules.contains(MODULE))
}

/// The newest sync job of a source.
pub fn last_sync<'a>(jobs: &'a [Job], name: &str) -> Option<&'a Job> {
    jobs.iter().find(|j| {
        j.kind == "sync"
            && serde_json::from_str::<serde_json::Value>(&j.counts)
                .ok()
                .and_then(|v| v.get("source").and_then(|s| s.as_str()).map(|s| s == name))
                .unwrap_or(false)
    })
}

pub fn command(app: &mut App, cmd: Cmd) -> Vec<Effect> {
    if cmd == Cmd::Refresh {
        return vec![Effect::LoadConfig, Effect::LoadJobs];
    }
    if !installed(app) {
        app.error("Directory Sources is not installed: install it in Module Configuration");
        return vec![];
    }
    let Some(source) = sources(app).get(app.sources.sel).cloned() else {
        app.error("no directory source yet: sop sources add NAME --uri URI --base-dn DN");
        return vec![];
    };
    match cmd {
        Cmd::Open => app.begin(
            &format!("Testing {}", source.name),
            false,
            Effect::TestSource(source.name),
        ),
        Cmd::SyncNow => {
            let gone = match source.policy {
                Policy::Remove => "removed".to_string(),
                Policy::Keep => "kept".to_string(),
                Policy::Age(h) => format!("kept until not seen for {h} hours"),
            };
            app.confirm(
                "Sync now",
                vec![
                    format!("Sync {} from {} now,", source.name, source.uri),
                    "then merge and serve the result?".into(),
                    format!("Entries gone from the directory are {gone}."),
                ],
                Effect::SyncSource(source.name),
            );
            vec![]
        }
        _ => vec![],
    }
}

/// A test's outcome, shown in a popup.
pub fn tested(app: &mut App, r: Result<SyncReport, String>) {
    app.busy = None;
    match r {
        Ok(r) => {
            let mut lines = vec![
                format!("{}: {} entries read, {} skipped", r.uri, r.read, r.skipped),
                String::new(),
            ];
            for c in &r.preview {
                let first = c
                    .phones
                    .first()
                    .map(|p| format!("{} {}", p.kind.as_str(), p.number))
                    .unwrap_or_default();
                lines.push(format!("{:<16} {:<26} {first}", c.id, c.common_name()));
            }
            for e in r.errors.iter().take(3) {
                lines.push(format!("skipped {}: {}", e.position, e.reason));
            }
            lines.push(String::new());
            lines.push(format!(
                "A sync would make +{} added ~{} updated -{} removed.",
                r.changes.added, r.changes.updated, r.changes.removed
            ));
            if let Some(why) = &r.held {
                lines.push(format!("It would be held: {why}"));
            }
            lines.push("Nothing was applied.".into());
            app.popup = Some(Popup::Info {
                title: format!("Test of {}", r.source),
                lines,
            });
        }
        Err(e) => app.error(format!("test failed: {e}")),
    }
}

pub fn draw(app: &App, f: &mut Frame, area: Rect) {
    let t = &app.theme;
    let parts = Layout::vertical([Constraint::Min(3), Constraint::Length(5)]).split(area);
    let block = widgets::panel(t, "Directory sources");
    let inner = block.inner(parts[0]);
    f.render_widget(block, parts[0]);
    if !installed(app) {
        f.render_widget(
            Paragraph::new(
                "Directory Sources is not installed. Install it in Advanced > Module \
                 Configuration (sop module install directory-sources).",
            )
            .wrap(Wrap { trim: true }),
            inner,
        );
        return;
    }
    let list = sources(app);
    if list.is_empty() {
        f.render_widget(
            Paragraph::new(
                "No directory source yet. Add one with: sop sources add NAME --uri URI --base-dn DN",
            )
            .wrap(Wrap { trim: true }),
            inner,
        );
        return;
    }
    let rows: Vec<Line<'static>> = list
        .iter()
        .map(|s| {
            let (result, style) = match last_sync(&app.jobs.list, &s.name) {
                Some(j) => (
                    format!(
                        "{} {} {}",
                        super::jobs::when(j.finished).get(..11).unwrap_or_default(),
                        j.status,
                        super::jobs::counts(j)
                    ),
                    match j.status.as_str() {
                        "ok" => t.good(),
                        "held" => t.warn(),
                        _ => t.bad(),
                    },
                ),
                None => ("never synced".to_string(), t.dim()),
            };
            let cron = if s.cron.is_empty() {
                "on demand".to_string()
            } else {
                s.cron.clone()
            };
            Line::from(vec![
                Span::raw(format!("{:<12} {:<14} ", s.name, cron)),
                Span::styled(result, style),
            ])
        })
        .collect();
    widgets::list(t, f, inner, rows, app.sources.sel);
    if let Some(s) = list.get(app.sources.sel) {
        let mut text = vec![
            Line::from(format!("{}  {}", s.uri, s.base_dn)),
            Line::from(format!(
                "preset {}, policy {}, priority {}, page size {}",
                s.preset.as_str(),
                s.policy,
                s.priority,
                s.page_size
            )),
        ];
        if s.skip_verify {
            text.push(Line::from(Span::styled(
                "WARNING: the server's certificate is NOT checked",
                t.bad(),
            )));
        }
        if let Some(j) = last_sync(&app.jobs.list, &s.name)
            && !j.message.is_empty()
        {
            text.push(Line::from(j.message.clone()));
        }
        f.render_widget(
            Paragraph::new(text)
                .wrap(Wrap { trim: true })
                .block(widgets::panel(t, &s.name)),
            parts[1],
        );
    }
}
