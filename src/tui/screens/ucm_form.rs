//! Advanced > Module Configuration > Edit Unified Communication Model: URL, Cron,
//! Priority and Merge directory cron, in the guide's order, each checked as typed.

use super::super::app::{App, Popup};
use super::super::effect::Effect;
use super::super::keys::{self, Cmd};
use super::super::widgets;
use crate::config::Config;
use chrono::{DateTime, Local};
use crossterm::event::Event;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;

pub const FIELDS: [&str; 4] = ["URL", "Cron", "Priority", "Merge directory cron"];
const HELP: [&str; 4] = [
    "The list of external contacts (optional): https://, http://, file:// or a path",
    "When to import it; once during the night, e.g. 0 23 ? * *",
    "Optional; the lower wins when a contact is in several sources (0-1000)",
    "Required: when to merge into the served directory, after the import, e.g. 30 23 ? * *",
];

/// The settings as saved.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Values {
    pub url: String,
    pub cron: String,
    pub priority: u32,
    pub merge_cron: String,
}

#[derive(Debug, Default)]
pub struct Form {
    pub inputs: [Input; 4],
    pub focus: usize,
    saved: [String; 4],
}

impl Form {
    pub fn from_config(c: &Config) -> Form {
        let values = [
            c.ucm.url.clone(),
            c.ucm.cron.to_string(),
            c.ucm.priority.to_string(),
            c.ucm.merge_cron.to_string(),
        ];
        Form {
            inputs: values.clone().map(Input::new),
            focus: 0,
            saved: values,
        }
    }

    pub fn value(&self, i: usize) -> &str {
        self.inputs[i].value()
    }

    pub fn is_dirty(&self) -> bool {
        (0..4).any(|i| self.inputs[i].value() != self.saved[i])
    }

    /// After a save: the values shown are the values saved.
    pub fn saved(&mut self) {
        self.saved = [0, 1, 2, 3].map(|i| self.inputs[i].value().to_string());
    }

    pub fn input(&mut self, event: &Event) {
        self.inputs[self.focus].handle_event(event);
    }

    /// What is wrong with field `i` as typed, if anything.
    pub fn problem(&self, i: usize) -> Option<String> {
        let v = self.value(i).trim();
        match i {
            0 => crate::validate::check_url(v).err(),
            1 if v.is_empty() => None,
            1 => crate::validate::check_cron(v).err(),
            // Empty: the default priority.
            2 if v.is_empty() => None,
            2 => match v.parse::<u32>() {
                Ok(0..=1000) => None,
                _ => Some(format!("{v:?}: a whole number from 0 to 1000")),
            },
            3 if v.is_empty() => {
                Some("required once UCM is installed, e.g. 30 23 ? * *".to_string())
            }
            3 => crate::validate::check_cron(v).err(),
            _ => None,
        }
    }

    /// The next runs of a cron field, in local time.
    pub fn next_runs(&self, i: usize, now: DateTime<Local>) -> String {
        let Ok(cron) = crate::schedule::Cron::parse(self.value(i)) else {
            return String::new();
        };
        if cron.is_empty() {
            return "on demand only".to_string();
        }
        let runs: Vec<String> = crate::ucm::next_runs(&cron, now, 3)
            .iter()
            .map(|t| t.format("%a %d %b %H:%M").to_string())
            .collect();
        format!("next: {}", runs.join(", "))
    }

    /// The values, or the first problem with the field it is in.
    pub fn values(&self) -> Result<Values, (usize, String)> {
        for i in 0..4 {
            if let Some(p) = self.problem(i) {
                return Err((i, p));
            }
        }
        Ok(Values {
            url: self.value(0).trim().to_string(),
            cron: self.value(1).trim().to_string(),
            priority: self
                .value(2)
                .trim()
                .parse()
                .unwrap_or(crate::config::Config::defaults().ucm.priority as u32),
            merge_cron: self.value(3).trim().to_string(),
        })
    }
}

pub fn command(app: &mut App, cmd: Cmd) -> Vec<Effect> {
    let form = &mut app.ucm;
    match cmd {
        Cmd::NextField => form.focus = (form.focus + 1) % 4,
        Cmd::PrevField => form.focus = (form.focus + 3) % 4,
        Cmd::ClearField => form.inputs[form.focus].reset(),
        Cmd::Save => match form.values() {
            Ok(v) => return app.begin("Saving the UCM settings", false, Effect::SaveUcm(v)),
            Err((i, why)) => {
                form.focus = i;
                app.error(format!("{} not saved: {}: {why}", "Settings", FIELDS[i]));
            }
        },
        Cmd::ImportNow | Cmd::DryRun | Cmd::ForceImport if form.is_dirty() => {
            app.error("save the settings first (^S): the import uses the saved ones");
        }
        Cmd::ImportNow => {
            return app.begin(
                "Importing external contacts",
                true,
                Effect::Import {
                    dry_run: false,
                    force: false,
                },
            );
        }
        Cmd::DryRun => {
            return app.begin(
                "Dry run of the import",
                true,
                Effect::Import {
                    dry_run: true,
                    force: false,
                },
            );
        }
        Cmd::ForceImport => app.confirm(
            "Force the import",
            vec![
                "Apply the import even if it is held by a guard (not a list,".into(),
                "no contact, or more removed than allowed)?".into(),
                "The previous external contacts are replaced.".into(),
            ],
            Effect::Import {
                dry_run: false,
                force: true,
            },
        ),
        Cmd::MergeNow => return app.begin("Merging", true, Effect::Merge),
        Cmd::Rollback => {
            app.popup = Some(Popup::Confirm {
                title: "Rollback".into(),
                lines: vec![
                    "Serve the previous generation of the directory again?".into(),
                    "Phones see the contacts of the merge before the last one.".into(),
                ],
                effect: Box::new(Effect::Rollback),
            });
        }
        _ => {}
    }
    vec![]
}

pub fn draw(app: &App, f: &mut Frame, area: Rect) {
    let t = &app.theme;
    let form = &app.ucm;
    let rows = Layout::vertical([
        Constraint::Length(3),
        Constraint::Length(3),
        Constraint::Length(3),
        Constraint::Length(3),
        Constraint::Min(0),
    ])
    .split(area);
    for i in 0..4 {
        let focused = i == form.focus;
        let problem = form.problem(i);
        let note = match (&problem, i) {
            (Some(p), _) => Span::styled(format!(" ✗ {p}"), t.bad()),
            (None, 1 | 3) => Span::styled(format!(" ✓ {}", form.next_runs(i, app.now)), t.good()),
            (None, _) => Span::styled(" ✓", t.good()),
        };
        let title = Line::from(vec![
            Span::styled(
                format!(
                    "{}{}",
                    if focused {
                        super::super::theme::MARKER
                    } else {
                        ""
                    },
                    FIELDS[i]
                ),
                if focused { t.title() } else { Style::new() },
            ),
            note,
        ]);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(if focused { t.title() } else { t.dim() })
            .title(title);
        let inner = block.inner(rows[i]);
        let width = inner.width.max(1) as usize;
        let input = &form.inputs[i];
        let scroll = input.visual_scroll(width);
        let p = Paragraph::new(input.value())
            .scroll((0, scroll as u16))
            .block(block);
        f.render_widget(p, rows[i]);
        if focused && app.popup.is_none() {
            let x = inner.x + (input.visual_cursor().saturating_sub(scroll)) as u16;
            f.set_cursor_position((x.min(inner.right().saturating_sub(1)), inner.y));
        }
    }
    let mut lines = vec![Line::from(Span::styled(HELP[form.focus], t.dim()))];
    lines.push(Line::from(""));
    // The actions, from the key table that handles them.
    let actions: Vec<(&str, &str)> = keys::hints(&[keys::FORM, keys::UCM_FORM_ACTIONS])
        .into_iter()
        .filter(|h| {
            !h.contains("next")
                && !h.contains("clear")
                && !h.contains("back")
                && !h.contains("help")
        })
        .filter_map(|h| h.split_once(' '))
        .collect();
    lines.push(widgets::actions_line(t, &actions));
    if form.is_dirty() {
        lines.push(Line::from(Span::styled(
            "unsaved changes (^S saves, Esc discards)",
            t.warn(),
        )));
    }
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), rows[4]);
}
