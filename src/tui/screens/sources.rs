//! Advanced > Directory Sources: each source with its schedule and last sync,
//! Test (a preview of the first contacts and the change a sync would make,
//! applying nothing), Sync now, Add, Edit and Remove (after a confirmation).

use super::super::action::Failure;
use super::super::component::{Ctx, Reply, Screen};
use super::super::effect::{Effect, Setting, SourceValues};
use super::super::keys::Cmd;
use super::super::widgets::{self, Fields};
use crate::sources::MODULE;
use crate::sources::mapping::Preset;
use crate::sources::settings::{self, Policy, Scope, SourceSettings};
use crate::sources::sync::SyncReport;
use crate::store::Job;
use crossterm::event::Event;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;

/// The list of sources, and the form of the one added or edited.
#[derive(Debug, Default)]
pub struct State {
    pub sel: usize,
    pub form: Form,
}

fn sources<'a>(ctx: &Ctx<'a>) -> &'a [SourceSettings] {
    ctx.config.as_ref().map_or(&[], |c| c.sources.as_slice())
}

/// The names of the sources, one row each.
pub fn rows(ctx: &Ctx) -> Vec<String> {
    sources(ctx).iter().map(|s| s.name.clone()).collect()
}

fn installed(ctx: &Ctx) -> bool {
    ctx.config
        .as_ref()
        .is_ok_and(|c| c.modules.contains(MODULE))
}

/// The sync jobs of a source, newest first.
pub fn syncs<'a>(jobs: &'a [Job], name: &'a str) -> impl Iterator<Item = &'a Job> {
    jobs.iter().filter(move |j| {
        j.kind == "sync"
            && serde_json::from_str::<serde_json::Value>(&j.counts)
                .ok()
                .and_then(|v| v.get("source").and_then(|s| s.as_str()).map(|s| s == name))
                .unwrap_or(false)
    })
}

/// The newest sync job of a source.
pub fn last_sync<'a>(jobs: &'a [Job], name: &'a str) -> Option<&'a Job> {
    syncs(jobs, name).next()
}

/// One job as a line: when, how it ended, what it changed.
fn job_line(t: &super::super::theme::Theme, j: &Job) -> Line<'static> {
    let style = match j.status.as_str() {
        "ok" => t.good(),
        "held" => t.warn(),
        _ => t.bad(),
    };
    Line::from(Span::styled(
        format!(
            "{} {} {}",
            super::jobs::when(j.finished).get(..11).unwrap_or_default(),
            j.status,
            super::jobs::counts(j)
        ),
        style,
    ))
}

impl State {
    pub fn handle(&mut self, ctx: &Ctx, cmd: Cmd) -> Reply {
        let mut r = Reply::default();
        if cmd == Cmd::Refresh {
            return Reply::run(vec![Effect::LoadConfig, Effect::LoadJobs]);
        }
        if !installed(ctx) {
            r.error("Directory Sources is not installed: install it in Module Configuration");
            return r;
        }
        if cmd == Cmd::Add {
            // An unsaved new source is taken up again.
            if !(self.form.adding && self.form.is_dirty()) {
                self.form = Form::new_source(rows(ctx));
            }
            return r.open(Screen::SourceForm);
        }
        let Some(source) = sources(ctx).get(self.sel).cloned() else {
            r.error("no directory source yet: a adds one");
            return r;
        };
        match cmd {
            Cmd::Edit => {
                let form = &self.form;
                if !form.is_dirty() || form.adding || form.name != source.name {
                    self.form = Form::of(&source);
                }
                r.open(Screen::SourceForm)
            }
            Cmd::Remove => {
                r.confirm(
                    "Remove source",
                    vec![
                        format!("Remove {} ({}) from the config,", source.name, source.uri),
                        format!(
                            "with its last sync and its password file ({})?",
                            source.password_file.display()
                        ),
                        "Its contacts leave the directory with the merge that follows.".into(),
                    ],
                    Effect::RemoveSource(source.name),
                );
                r
            }
            Cmd::Open => r.begin(
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
                r.confirm(
                    "Sync now",
                    vec![
                        format!("Sync {} from {} now,", source.name, source.uri),
                        "then merge and serve the result?".into(),
                        format!("Entries gone from the directory are {gone}."),
                    ],
                    Effect::SyncSource(source.name),
                );
                r
            }
            _ => r,
        }
    }

    /// A test's outcome, shown in a popup.
    pub fn tested(&mut self, result: Result<SyncReport, Failure>) -> Reply {
        let mut reply = Reply::default();
        match result {
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
                reply.show(format!("Test of {}", r.source), lines);
            }
            Err(e) => reply.error(format!("test failed: {e}")),
        }
        reply
    }

    pub fn draw(&self, ctx: &Ctx, f: &mut Frame, area: Rect) {
        let t = ctx.theme;
        // The list as long as it needs (at most half), the selected source below with
        // its sync history.
        let listed = (sources(ctx).len() as u16).clamp(1, area.height / 2) + 2;
        let parts = Layout::vertical([Constraint::Length(listed), Constraint::Min(5)]).split(area);
        let block = widgets::panel(t, "Directory sources");
        let inner = block.inner(parts[0]);
        f.render_widget(block, parts[0]);
        if !installed(ctx) {
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
        let list = sources(ctx);
        if list.is_empty() {
            f.render_widget(
            Paragraph::new(
                "No directory source yet. a adds one (or: sop sources add NAME --uri URI --base-dn DN).",
            )
            .wrap(Wrap { trim: true }),
            inner,
        );
            return;
        }
        let rows: Vec<Line<'static>> = list
            .iter()
            .map(|s| {
                let result = match last_sync(ctx.jobs, &s.name) {
                    Some(j) => job_line(t, j),
                    None => Line::from(Span::styled("never synced", t.dim())),
                };
                let cron = if s.cron.is_empty() {
                    "on demand".to_string()
                } else {
                    s.cron.to_string()
                };
                let mut spans = vec![Span::raw(format!("{:<12} {:<14} ", s.name, cron))];
                spans.extend(result.spans);
                Line::from(spans)
            })
            .collect();
        widgets::list(t, f, inner, rows, self.sel);
        if let Some(s) = list.get(self.sel) {
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
            if let Some(j) = last_sync(ctx.jobs, &s.name)
                && !j.message.is_empty()
            {
                text.push(Line::from(j.message.clone()));
            }
            let history: Vec<Line> = syncs(ctx.jobs, &s.name).map(|j| job_line(t, j)).collect();
            if !history.is_empty() {
                text.push(Line::from(""));
                text.push(Line::from(Span::styled(
                    "Syncs, newest first (Jobs lists the entries each skipped):",
                    t.title(),
                )));
                text.extend(history);
            }
            f.render_widget(
                Paragraph::new(text)
                    .wrap(Wrap { trim: true })
                    .block(widgets::panel(t, &s.name)),
                parts[1],
            );
        }
    }
}

/// The fields of a source's form, in the order of `sop sources add`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Field {
    #[default]
    Name,
    Uri,
    BaseDn,
    BindDn,
    Filter,
    Scope,
    PageSize,
    Preset,
    Policy,
    Cron,
    Priority,
}

impl Field {
    pub const ALL: [Field; 11] = [
        Field::Name,
        Field::Uri,
        Field::BaseDn,
        Field::BindDn,
        Field::Filter,
        Field::Scope,
        Field::PageSize,
        Field::Preset,
        Field::Policy,
        Field::Cron,
        Field::Priority,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Field::Name => "Name",
            Field::Uri => "URI",
            Field::BaseDn => "Base DN",
            Field::BindDn => "Bind DN",
            Field::Filter => "Filter",
            Field::Scope => "Scope",
            Field::PageSize => "Page size",
            Field::Preset => "Preset",
            Field::Policy => "Policy",
            Field::Cron => "Cron",
            Field::Priority => "Priority",
        }
    }

    /// The config key it is saved as.
    fn key(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::Uri => "uri",
            Field::BaseDn => "base_dn",
            Field::BindDn => "bind_dn",
            Field::Filter => "filter",
            Field::Scope => "scope",
            Field::PageSize => "page_size",
            Field::Preset => "preset",
            Field::Policy => "policy",
            Field::Cron => "cron",
            Field::Priority => "priority",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl widgets::Fields for Field {
    const ALL: &'static [Field] = &Field::ALL;
}

/// One source's settings, each checked as typed.
#[derive(Debug, Default)]
pub struct Form {
    /// The source's name as saved; empty for a new one.
    pub name: String,
    /// A new source: its name is typed too, and may not be one already taken.
    pub adding: bool,
    taken: Vec<String>,
    /// One input per field of [`Field::ALL`].
    inputs: [Input; 11],
    pub focus: Field,
    saved: [String; 11],
}

impl Form {
    pub fn of(s: &SourceSettings) -> Form {
        let values = [
            s.name.clone(),
            s.uri.clone(),
            s.base_dn.clone(),
            s.bind_dn.clone(),
            s.filter.clone(),
            s.scope.as_str().to_string(),
            s.page_size.to_string(),
            s.preset.as_str().to_string(),
            s.policy.to_string(),
            s.cron.to_string(),
            s.priority.to_string(),
        ];
        Form {
            name: s.name.clone(),
            adding: false,
            taken: Vec::new(),
            inputs: values.clone().map(Input::new),
            focus: Field::Uri,
            saved: values,
        }
    }

    /// A new source with the defaults of `sop sources add`; `taken`: the names
    /// of the sources there are.
    pub fn new_source(taken: Vec<String>) -> Form {
        let values = [
            String::new(),
            "ldap://".to_string(),
            String::new(),
            String::new(),
            settings::DEFAULT_PRESET.filter().to_string(),
            settings::DEFAULT_SCOPE.as_str().to_string(),
            settings::DEFAULT_PAGE_SIZE.to_string(),
            settings::DEFAULT_PRESET.as_str().to_string(),
            settings::DEFAULT_POLICY.to_string(),
            String::new(),
            settings::DEFAULT_PRIORITY.to_string(),
        ];
        Form {
            name: String::new(),
            adding: true,
            taken,
            inputs: values.clone().map(Input::new),
            focus: Field::Name,
            saved: values,
        }
    }

    pub fn value(&self, field: Field) -> &str {
        self.inputs[field.index()].value().trim()
    }

    fn input_of(&self, field: Field) -> &Input {
        &self.inputs[field.index()]
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

    /// After a save: a new source is now one to edit.
    pub fn saved(&mut self) {
        self.saved = Field::ALL.map(|f| self.input_of(f).value().to_string());
        if self.adding {
            self.name = self.value(Field::Name).to_string();
            self.adding = false;
        }
    }

    /// Whether the focused field can be typed in: a source's name cannot change.
    fn editable(&self) -> bool {
        self.focus != Field::Name || self.adding
    }

    pub fn input(&mut self, event: &Event) {
        if self.editable() {
            let focus = self.focus;
            self.input_mut(focus).handle_event(event);
        }
    }

    /// What is wrong with `field` as typed, if anything.
    pub fn problem(&self, field: Field) -> Option<String> {
        let v = self.value(field);
        let number = |max: u32| match v.parse::<u32>() {
            Ok(n) if n <= max => None,
            _ => Some(format!("a whole number from 0 to {max}")),
        };
        match field {
            Field::Name if !self.adding => None,
            Field::Name if self.taken.iter().any(|t| t == v) => Some(format!(
                "a name other than those taken ({})",
                self.taken.join(", ")
            )),
            Field::Name => settings::check_name(v).err(),
            Field::Uri => settings::check_uri(v).err(),
            Field::BaseDn => settings::check_dn(v, false).err(),
            Field::BindDn => settings::check_dn(v, true).err(),
            Field::Filter => settings::check_filter(v).err(),
            Field::Scope => Scope::parse(v).err(),
            Field::PageSize => number(1_000_000),
            Field::Preset => Preset::parse(v).err(),
            Field::Policy => Policy::parse(v).err(),
            Field::Cron if v.is_empty() => None,
            Field::Cron => crate::validate::check_cron(v).err(),
            Field::Priority => number(1000),
        }
    }

    /// The values to save, or the first field with a problem.
    pub fn values(&self) -> Result<SourceValues, (Field, String)> {
        if let Some((field, p)) = Field::ALL
            .into_iter()
            .find_map(|f| self.problem(f).map(|p| (f, p)))
        {
            return Err((field, p));
        }
        // The name does not change.
        let entries = Field::ALL[1..]
            .iter()
            .map(|&f| {
                let v = self.value(f);
                let value = match (f, v.parse::<i64>()) {
                    (Field::PageSize | Field::Priority, Ok(n)) => Setting::Int(n),
                    _ => Setting::Text(v.to_string()),
                };
                (f.key(), value)
            })
            .collect();
        Ok(SourceValues {
            name: if self.adding {
                self.value(Field::Name).to_string()
            } else {
                self.name.clone()
            },
            adding: self.adding,
            entries,
        })
    }
}

impl Form {
    /// The keys of the form.
    pub fn handle(&mut self, cmd: Cmd) -> Reply {
        let mut r = Reply::default();
        let form = self;
        match cmd {
            Cmd::NextField => form.focus = form.focus.next(),
            Cmd::PrevField => form.focus = form.focus.prev(),
            Cmd::ClearField if form.editable() => {
                let focus = form.focus;
                form.input_mut(focus).reset();
            }
            Cmd::Save => match form.values() {
                Ok(v) => {
                    let label = format!("Saving {}", v.name);
                    return r.begin(&label, false, Effect::SaveSource(v));
                }
                Err((field, why)) => {
                    form.focus = field;
                    r.error(format!("not saved: {}: {why}", field.label()));
                }
            },
            _ => {}
        }
        r
    }

    pub fn draw(&self, ctx: &Ctx, f: &mut Frame, area: Rect) {
        let t = ctx.theme;
        let form = self;
        let title = if form.adding {
            "New source".to_string()
        } else {
            format!("Source {}", form.name)
        };
        let block = widgets::panel(t, &title);
        let inner = block.inner(area);
        f.render_widget(block, area);
        let mut lines = Vec::new();
        for field in Field::ALL {
            let label = field.label();
            let focused = field == form.focus;
            let marker = if focused {
                super::super::theme::MARKER
            } else {
                "  "
            };
            let note = match form.problem(field) {
                Some(_) => Span::styled("  ✗", t.bad()),
                None => Span::styled("  ✓", t.good()),
            };
            lines.push(Line::from(vec![
                Span::styled(
                    format!("{marker}{label:<10} "),
                    if focused { t.title() } else { t.dim() },
                ),
                Span::raw(form.input_of(field).value().to_string()),
                note,
            ]));
        }
        lines.push(Line::from(""));
        if let Some(p) = form.problem(form.focus) {
            lines.push(Line::from(Span::styled(
                format!("{}: expected {p}", form.focus.label()),
                t.bad(),
            )));
        }
        let saved = if !form.editable() {
            Span::styled(
                "a source keeps its name: remove it and add it again to rename it",
                t.dim(),
            )
        } else if form.is_dirty() {
            Span::styled("unsaved changes (^S saves, Esc discards)", t.warn())
        } else if form.adding {
            Span::styled(
                "Tab next field, ^S add; the password: sop sources edit NAME --password-file FILE",
                t.dim(),
            )
        } else {
            Span::styled(
                "Tab next field, ^S save; the password: sop sources edit",
                t.dim(),
            )
        };
        lines.push(Line::from(saved));
        let (fields, notes) = lines.split_at(Field::ALL.len());
        let parts = Layout::vertical([
            Constraint::Length(Field::ALL.len() as u16),
            Constraint::Min(1),
        ])
        .split(inner);
        f.render_widget(Paragraph::new(fields.to_vec()), parts[0]);
        f.render_widget(
            Paragraph::new(notes.to_vec()).wrap(Wrap { trim: true }),
            parts[1],
        );
        if !ctx.popup {
            let input = form.input_of(form.focus);
            let x = inner.x + 13 + input.visual_cursor() as u16;
            let y = inner.y + form.focus.index() as u16;
            if y < inner.bottom() {
                f.set_cursor_position((x.min(inner.right().saturating_sub(1)), y));
            }
        }
    }
}
