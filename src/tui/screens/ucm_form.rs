//! Advanced > Module Configuration > Edit Unified Communication Model: URL, Cron,
//! Priority and Merge directory cron, in the guide's order, each checked as typed.

use super::super::component::{Ctx, Popup, Reply};
use super::super::effect::Effect;
use super::super::keys::{self, Cmd};
use super::super::widgets::{self, Fields};
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

/// The form's fields, in the guide's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Field {
    #[default]
    Url,
    Cron,
    Priority,
    MergeCron,
}

impl Field {
    pub const ALL: [Field; 4] = [Field::Url, Field::Cron, Field::Priority, Field::MergeCron];

    pub fn label(self) -> &'static str {
        match self {
            Field::Url => "URL",
            Field::Cron => "Cron",
            Field::Priority => "Priority",
            Field::MergeCron => "Merge directory cron",
        }
    }

    fn help(self) -> &'static str {
        match self {
            Field::Url => {
                "The list of external contacts (optional): https://, http://, file:// or a path"
            }
            Field::Cron => "When to import it; once during the night, e.g. 0 23 ? * *",
            Field::Priority => {
                "Optional; the lower wins when a contact is in several sources (0-1000)"
            }
            Field::MergeCron => {
                "Required: when to merge into the served directory, after the import, e.g. 30 23 ? * *"
            }
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl widgets::Fields for Field {
    const ALL: &'static [Field] = &Field::ALL;
}

pub use super::super::effect::UcmValues as Values;

#[derive(Debug, Default)]
pub struct Form {
    /// One input per field of [`Field::ALL`].
    inputs: [Input; 4],
    pub focus: Field,
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
            focus: Field::Url,
            saved: values,
        }
    }

    pub fn value(&self, field: Field) -> &str {
        self.inputs[field.index()].value()
    }

    fn input_mut(&mut self, field: Field) -> &mut Input {
        &mut self.inputs[field.index()]
    }

    pub fn is_dirty(&self) -> bool {
        self.inputs
            .iter()
            .zip(&self.saved)
            .any(|(i, saved)| i.value() != saved)
    }

    /// After a save: the values shown are the values saved.
    pub fn saved(&mut self) {
        self.saved = Field::ALL.map(|f| self.value(f).to_string());
    }

    pub fn input(&mut self, event: &Event) {
        let focus = self.focus;
        self.input_mut(focus).handle_event(event);
    }

    /// What is wrong with `field` as typed, if anything.
    pub fn problem(&self, field: Field) -> Option<String> {
        let v = self.value(field).trim();
        match field {
            Field::Url => crate::validate::check_url(v).err(),
            Field::Cron if v.is_empty() => None,
            Field::Cron => crate::validate::check_cron(v).err(),
            // Empty: the default priority.
            Field::Priority if v.is_empty() => None,
            Field::Priority => match v.parse::<u32>() {
                Ok(0..=1000) => None,
                _ => Some(format!("{v:?}: a whole number from 0 to 1000")),
            },
            Field::MergeCron if v.is_empty() => {
                Some("required once UCM is installed, e.g. 30 23 ? * *".to_string())
            }
            Field::MergeCron => crate::validate::check_cron(v).err(),
        }
    }

    /// The next runs of a cron field, in local time.
    pub fn next_runs(&self, field: Field, now: DateTime<Local>) -> String {
        let Ok(cron) = crate::schedule::Cron::parse(self.value(field)) else {
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
    pub fn values(&self) -> Result<Values, (Field, String)> {
        if let Some((field, p)) = Field::ALL
            .into_iter()
            .find_map(|f| self.problem(f).map(|p| (f, p)))
        {
            return Err((field, p));
        }
        let text = |f: Field| self.value(f).trim().to_string();
        Ok(Values {
            url: text(Field::Url),
            cron: text(Field::Cron),
            priority: text(Field::Priority)
                .parse()
                .unwrap_or(crate::config::Config::defaults().ucm.priority as u32),
            merge_cron: text(Field::MergeCron),
        })
    }
}

impl Form {
    pub fn handle(&mut self, cmd: Cmd) -> Reply {
        let mut r = Reply::default();
        let form = self;
        match cmd {
            Cmd::NextField => form.focus = form.focus.next(),
            Cmd::PrevField => form.focus = form.focus.prev(),
            Cmd::ClearField => {
                let focus = form.focus;
                form.input_mut(focus).reset();
            }
            Cmd::Save => match form.values() {
                Ok(v) => return r.begin("Saving the UCM settings", false, Effect::SaveUcm(v)),
                Err((field, why)) => {
                    form.focus = field;
                    r.error(format!("Settings not saved: {}: {why}", field.label()));
                }
            },
            Cmd::ImportNow | Cmd::DryRun | Cmd::ForceImport if form.is_dirty() => {
                r.error("save the settings first (^S): the import uses the saved ones");
            }
            Cmd::ImportNow => {
                return r.begin(
                    "Importing external contacts",
                    true,
                    Effect::Import {
                        dry_run: false,
                        force: false,
                    },
                );
            }
            Cmd::DryRun => {
                return r.begin(
                    "Dry run of the import",
                    true,
                    Effect::Import {
                        dry_run: true,
                        force: false,
                    },
                );
            }
            Cmd::ForceImport => r.confirm(
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
            Cmd::MergeNow => return r.begin("Merging", true, Effect::Merge),
            Cmd::Rollback => {
                r.popup = Some(Popup::Confirm {
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
        r
    }

    pub fn draw(&self, ctx: &Ctx, f: &mut Frame, area: Rect) {
        let t = ctx.theme;
        let form = self;
        let rows = Layout::vertical([
            Constraint::Length(3),
            Constraint::Length(3),
            Constraint::Length(3),
            Constraint::Length(3),
            Constraint::Min(0),
        ])
        .split(area);
        for (i, field) in Field::ALL.into_iter().enumerate() {
            let focused = field == form.focus;
            let note = match (form.problem(field), field) {
                (Some(p), _) => Span::styled(format!(" ✗ {p}"), t.bad()),
                (None, Field::Cron | Field::MergeCron) => {
                    Span::styled(format!(" ✓ {}", form.next_runs(field, ctx.now)), t.good())
                }
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
                        field.label()
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
            let input = &form.inputs[field.index()];
            let scroll = input.visual_scroll(width);
            let p = Paragraph::new(input.value())
                .scroll((0, scroll as u16))
                .block(block);
            f.render_widget(p, rows[i]);
            if focused && !ctx.popup {
                let x = inner.x + (input.visual_cursor().saturating_sub(scroll)) as u16;
                f.set_cursor_position((x.min(inner.right().saturating_sub(1)), inner.y));
            }
        }
        let mut lines = vec![Line::from(Span::styled(form.focus.help(), t.dim()))];
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
}
