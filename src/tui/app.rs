//! The shell's model and its update function: keys and results in, state and
//! effects out. No I/O here: `effect.rs` performs the effects and sends their
//! outcome back as an `Action`.

pub use super::action::{Action, Failure};
pub use super::component::{Busy, Level, Menu, Message, Move, Nav, Popup, Screen, ServerView};
use super::component::{Ctx, Reply};
use super::effect::Effect;
use super::keys::{self, Binding, Cmd};
use super::screens::{
    checklist, cluster, contacts, jobs, logs, modules, phone, phone_setup, server, sources,
    ucm_form,
};
use super::theme::Theme;
use crate::config::Config;
use crate::control::Status;
use chrono::{DateTime, Local};
use crossterm::event::{Event, KeyEvent, KeyEventKind};

/// The context screens read, from the fields of an `App` (borrowed one by one,
/// so that a screen's own state can be borrowed mutably beside it).
macro_rules! ctx {
    ($app:expr) => {
        Ctx {
            home: &$app.home,
            theme: &$app.theme,
            now: $app.now,
            config: &$app.config,
            server: &$app.server,
            busy: $app.busy.as_ref(),
            jobs: &$app.jobs.list,
            popup: $app.popup.is_some(),
        }
    };
}

/// The whole state of the shell.
pub struct App {
    pub home: String,
    pub theme: Theme,
    pub now: DateTime<Local>,
    pub stack: Vec<Screen>,
    menu_sel: [usize; 3],
    pub config: Result<Config, String>,
    pub server: ServerView,
    pub busy: Option<Busy>,
    pub message: Option<Message>,
    pub popup: Option<Popup>,
    // Each screen's own state.
    pub modules: modules::State,
    pub ucm: ucm_form::Form,
    pub server_screen: server::State,
    pub logs: logs::State,
    pub contacts: contacts::State,
    pub phone: phone::State,
    pub jobs: jobs::State,
    pub setup: phone_setup::State,
    pub checklist: checklist::State,
    pub cluster: cluster::State,
    pub sources: sources::State,
    pub quit: bool,
}

impl App {
    pub fn new(home: String, config: Result<Config, String>, now: DateTime<Local>) -> App {
        let ucm = match &config {
            Ok(c) => ucm_form::Form::from_config(c),
            Err(_) => ucm_form::Form::default(),
        };
        App {
            home,
            theme: Theme { color: true },
            now,
            stack: vec![Screen::Menu(Menu::Main)],
            menu_sel: [0; 3],
            config,
            server: ServerView::Unknown,
            busy: None,
            message: None,
            popup: None,
            modules: modules::State::default(),
            ucm,
            server_screen: server::State::default(),
            logs: logs::State::default(),
            contacts: contacts::State::default(),
            phone: phone::State::default(),
            jobs: jobs::State::default(),
            setup: phone_setup::State::default(),
            checklist: checklist::State::default(),
            cluster: cluster::State::default(),
            sources: sources::State::default(),
            quit: false,
        }
    }

    /// The effects to run when the shell opens.
    pub fn start(&self) -> Vec<Effect> {
        vec![Effect::Status, Effect::LoadJobs]
    }

    pub fn screen(&self) -> Screen {
        self.stack
            .last()
            .copied()
            .unwrap_or(Screen::Menu(Menu::Main))
    }

    pub fn breadcrumb(&self) -> String {
        let titles: Vec<&str> = self
            .stack
            .iter()
            .skip(1)
            .map(|s| match s {
                Screen::JobDetail => "Job",
                s => s.title(),
            })
            .collect();
        if titles.is_empty() {
            "Main menu".to_string()
        } else {
            titles.join(" > ")
        }
    }

    /// What screens read of the shell's state.
    pub fn ctx(&self) -> Ctx<'_> {
        ctx!(self)
    }

    /// The key tables of the screen in force.
    pub fn bindings(&self) -> Vec<&'static [Binding]> {
        self.screen().bindings(self.contacts.typing)
    }

    pub fn menu_selection(&self, menu: Menu) -> usize {
        self.menu_sel[menu.index()]
    }

    pub fn running(&self) -> Option<&Status> {
        match &self.server {
            ServerView::Running(s) => Some(s),
            _ => None,
        }
    }

    /// Whether a form holds edits not saved yet.
    pub fn unsaved(&self) -> bool {
        self.ucm.is_dirty() || self.contacts.form.is_dirty() || self.sources.form.is_dirty()
    }

    pub fn info(&mut self, text: impl Into<String>) {
        self.message = Some(Message::new(Level::Info, text));
    }

    pub fn warn(&mut self, text: impl Into<String>) {
        self.message = Some(Message::new(Level::Warn, text));
    }

    pub fn error(&mut self, text: impl Into<String>) {
        self.message = Some(Message::new(Level::Error, text));
    }

    pub fn confirm(&mut self, title: &str, lines: Vec<String>, effect: Effect) {
        self.popup = Some(Popup::confirm(title, lines, effect));
    }

    /// Starts long work: shown in the header until its `Done`.
    pub fn begin(&mut self, label: &str, cancellable: bool, effect: Effect) -> Vec<Effect> {
        if let Some(b) = &self.busy {
            self.error(format!(
                "{} is still running; wait for it or cancel it (^X)",
                b.label
            ));
            return vec![];
        }
        self.busy = Some(Busy {
            label: label.to_string(),
            since: self.now,
            cancellable,
        });
        self.message = None;
        vec![effect]
    }

    pub fn push(&mut self, screen: Screen) -> Vec<Effect> {
        self.stack.push(screen);
        self.entered(screen)
    }

    /// What a screen loads when it opens.
    fn entered(&mut self, screen: Screen) -> Vec<Effect> {
        match screen {
            Screen::Jobs => vec![Effect::LoadJobs],
            Screen::Sources => vec![Effect::LoadConfig, Effect::LoadJobs],
            Screen::Server => vec![Effect::Status],
            Screen::Cluster => self.cluster.check(),
            Screen::Logs => {
                self.logs = logs::State {
                    follow: true,
                    ..logs::State::default()
                };
                vec![Effect::ReadLog { from: None }]
            }
            Screen::Contacts => self.contacts.search_effect(self.running().is_some()),
            Screen::Phone => self.phone.refresh(&ctx!(self)),
            Screen::PhoneSetup => {
                self.setup.entered(&ctx!(self));
                vec![]
            }
            Screen::UcmForm => {
                if let Ok(c) = &self.config {
                    if !self.ucm.is_dirty() {
                        self.ucm = ucm_form::Form::from_config(c);
                    }
                }
                vec![]
            }
            _ => vec![],
        }
    }

    /// Applies a screen's reply: its message, popup and move, then its work.
    fn apply(&mut self, reply: Reply) -> Vec<Effect> {
        let Reply {
            mut effects,
            message,
            popup,
            nav,
            work,
        } = reply;
        if message.is_some() {
            self.message = message;
        }
        if popup.is_some() {
            self.popup = popup;
        }
        match nav {
            Some(Nav::Open(screen)) => effects.extend(self.push(screen)),
            Some(Nav::Back) if self.stack.len() > 1 => {
                self.stack.pop();
            }
            Some(Nav::Path(path, land)) => {
                self.stack.truncate(1);
                for screen in path {
                    effects.extend(self.push(*screen));
                }
                if let (Some(last), Some(row)) = (path.last(), land) {
                    if let Some(sel) = self.selection_mut(*last) {
                        *sel = row;
                    }
                }
            }
            Some(Nav::Back) | None => {}
        }
        if let Some(w) = work {
            effects.extend(self.begin(&w.label, w.cancellable, w.effect));
        }
        effects
    }

    fn back(&mut self) -> Vec<Effect> {
        match self.screen() {
            Screen::UcmForm if self.ucm.is_dirty() => {
                self.popup = Some(Popup::Confirm {
                    title: "Unsaved changes".into(),
                    lines: vec![
                        "The UCM settings have changes that are not saved.".into(),
                        "Leave and lose them? (^S saves)".into(),
                    ],
                    effect: Box::new(Effect::Discard),
                });
                return vec![];
            }
            Screen::SourceForm if self.sources.form.is_dirty() => {
                self.confirm(
                    "Unsaved changes",
                    vec!["Leave the source without saving it? (^S saves)".into()],
                    Effect::Discard,
                );
                return vec![];
            }
            Screen::ContactForm if self.contacts.form.is_dirty() => {
                self.popup = Some(Popup::Confirm {
                    title: "Unsaved changes".into(),
                    lines: vec!["Leave the contact without saving it?".into()],
                    effect: Box::new(Effect::Discard),
                });
                return vec![];
            }
            _ => {}
        }
        if self.stack.len() > 1 {
            self.stack.pop();
        }
        vec![]
    }

    fn quit_asked(&mut self) {
        if self.unsaved() {
            self.popup = Some(Popup::Confirm {
                title: "Quit".into(),
                lines: vec![
                    "Some edits are not saved.".into(),
                    "Quit anyway and lose them?".into(),
                ],
                effect: Box::new(Effect::Quit),
            });
        } else {
            self.quit = true;
        }
    }

    /// Applies one action; returns the effects to perform.
    pub fn update(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::Key(k) if k.kind == KeyEventKind::Release => vec![],
            Action::Key(k) => self.key(k),
            Action::Redraw => vec![],
            Action::Quit => {
                self.quit = true;
                vec![]
            }
            Action::Tick(now) => {
                self.now = now;
                let mut out = vec![Effect::Status];
                if self.screen() == Screen::Logs && self.logs.follow {
                    out.push(Effect::ReadLog {
                        from: Some(self.logs.offset),
                    });
                }
                if self.screen() == Screen::Cluster {
                    out.extend(self.cluster.tick(now));
                }
                out
            }
            Action::Status(r) => {
                self.server = match r {
                    Ok(Some(s)) => ServerView::Running(s),
                    Ok(None) => ServerView::Stopped,
                    Err(e) => ServerView::Unreachable(e.to_string()),
                };
                vec![]
            }
            Action::Config(r) => {
                if let Ok(c) = &r {
                    if !self.ucm.is_dirty() {
                        self.ucm = ucm_form::Form::from_config(c);
                    }
                }
                self.config = r.map(|c| *c).map_err(|e| e.to_string());
                vec![]
            }
            Action::Jobs(r) => {
                match r {
                    Ok(list) => self.jobs.set(list),
                    Err(e) => self.error(format!("cannot read the job history: {e}")),
                }
                vec![]
            }
            Action::JobErrors(id, r) => {
                self.jobs.errors_loaded(id, r);
                vec![]
            }
            Action::Found { seq, result } => {
                self.contacts.found(seq, result);
                vec![]
            }
            Action::FoundInternal { seq, result } => {
                let found = result.map(|(c, micros)| contacts::internal_found(&c, micros));
                self.contacts.found(seq, found);
                vec![]
            }
            Action::PhoneFound { seq, result } => {
                self.phone.found(seq, result);
                vec![]
            }
            Action::Log(r) => {
                match r {
                    Ok(chunk) => self.logs.append(chunk),
                    Err(e) => self.logs.error = Some(e.to_string()),
                }
                vec![]
            }
            Action::Done { result } => {
                self.busy = None;
                match result {
                    Ok(text) => self.info(text),
                    // A guard held it: nothing is broken, nothing was published.
                    Err(held @ Failure::Held(_)) => self.warn(held.to_string()),
                    Err(e) => self.error(e.to_string()),
                }
                let mut out = vec![Effect::Status, Effect::LoadJobs, Effect::LoadConfig];
                if self.screen() == Screen::Contacts {
                    out.extend(self.contacts.search_effect(self.running().is_some()));
                }
                if self.screen() == Screen::Cluster {
                    out.extend(self.cluster.check());
                }
                out
            }
            Action::Cluster(r) => {
                self.cluster.loaded(r, self.now);
                vec![]
            }
            Action::ClusterProgress { node, text } => {
                self.cluster.progress.insert(node, text);
                vec![]
            }
            Action::SourceSaved(r) => {
                self.busy = None;
                match r {
                    Ok(text) => {
                        self.sources.form.saved();
                        self.info(text);
                    }
                    Err(e) => self.error(e.to_string()),
                }
                vec![Effect::LoadConfig]
            }
            Action::SourceTested(r) => {
                self.busy = None;
                let reply = self.sources.tested(r.map(|r| *r));
                self.apply(reply)
            }
            Action::ContactLoaded(r) => {
                let reply = self.contacts.loaded(r.map(|c| *c));
                self.apply(reply)
            }
            Action::Saved(r) => {
                self.busy = None;
                match r {
                    Ok(text) => {
                        self.ucm.saved();
                        self.info(text);
                    }
                    Err(e) => self.error(e.to_string()),
                }
                vec![Effect::LoadConfig, Effect::Status]
            }
        }
    }

    fn key(&mut self, k: KeyEvent) -> Vec<Effect> {
        if let Some(popup) = &self.popup {
            let table: &[Binding] = match popup {
                Popup::Confirm { .. } => keys::CONFIRM,
                Popup::Info { .. } => keys::POPUP,
            };
            return match keys::lookup(&[table], &k) {
                Some(Cmd::Yes) => match self.popup.take() {
                    Some(Popup::Confirm { effect, .. }) => self.confirmed(*effect),
                    _ => vec![],
                },
                Some(Cmd::No) => {
                    self.popup = None;
                    vec![]
                }
                Some(Cmd::Quit) => {
                    self.popup = None;
                    self.quit_asked();
                    vec![]
                }
                _ => vec![],
            };
        }
        let screen = self.screen();
        let tables = self.bindings();
        match keys::lookup(&tables, &k) {
            Some(cmd) => self.command(screen, cmd),
            None => self.unbound(screen, k),
        }
    }

    /// A key no table binds: typed text, or a first-letter jump.
    fn unbound(&mut self, screen: Screen, k: KeyEvent) -> Vec<Effect> {
        let event = Event::Key(k);
        match screen {
            Screen::UcmForm => {
                self.ucm.input(&event);
                vec![]
            }
            Screen::ContactForm => {
                self.contacts.form.input(&event);
                vec![]
            }
            Screen::SourceForm => {
                self.sources.form.input(&event);
                vec![]
            }
            Screen::Contacts if self.contacts.typing => {
                if self.contacts.input(&event) {
                    return self.contacts.search_effect(self.running().is_some());
                }
                vec![]
            }
            Screen::Phone => {
                if self.phone.input(&event) {
                    return self.phone.refresh(&ctx!(self));
                }
                vec![]
            }
            s if s.jumps() => {
                if let crossterm::event::KeyCode::Char(c) = k.code {
                    self.jump(s, c);
                }
                vec![]
            }
            _ => vec![],
        }
    }

    /// The labels of the rows of a screen that jumps.
    fn row_labels(&self, screen: Screen) -> Vec<String> {
        match screen {
            Screen::Menu(m) => m.entries().iter().map(|(l, _)| l.to_string()).collect(),
            Screen::Modules => modules::rows(),
            Screen::Server => server::ACTIONS.iter().map(|a| a.to_string()).collect(),
            Screen::Checklist => checklist::checklist(&self.ctx())
                .iter()
                .map(|i| i.label.clone())
                .collect(),
            Screen::Sources => sources::rows(&self.ctx()),
            _ => vec![],
        }
    }

    fn selection_mut(&mut self, screen: Screen) -> Option<&mut usize> {
        match screen {
            Screen::Menu(m) => Some(&mut self.menu_sel[m.index()]),
            Screen::Modules => Some(&mut self.modules.sel),
            Screen::Server => Some(&mut self.server_screen.sel),
            Screen::Checklist => Some(&mut self.checklist.sel),
            Screen::Sources => Some(&mut self.sources.sel),
            Screen::Jobs => Some(&mut self.jobs.sel),
            Screen::Contacts => Some(&mut self.contacts.sel),
            Screen::PhoneSetup => Some(&mut self.setup.scroll),
            Screen::JobDetail => Some(&mut self.jobs.error_scroll),
            Screen::Logs => Some(&mut self.logs.scroll),
            Screen::Cluster => Some(&mut self.cluster.sel),
            _ => None,
        }
    }

    fn row_count(&self, screen: Screen) -> usize {
        match screen {
            Screen::Jobs => self.jobs.list.len(),
            Screen::Contacts => self.contacts.rows(),
            Screen::PhoneSetup => self.setup.line_count(&self.ctx()),
            Screen::JobDetail => self.jobs.errors.len(),
            Screen::Logs => self.logs.lines.len(),
            Screen::Cluster => self.cluster.nodes().len(),
            s => self.row_labels(s).len(),
        }
    }

    /// Moves to the next row starting with `c` (case-insensitive), after the selection.
    fn jump(&mut self, screen: Screen, c: char) {
        let labels = self.row_labels(screen);
        let c = c.to_lowercase().next().unwrap_or(c);
        let Some(sel) = self.selection_mut(screen) else {
            return;
        };
        let n = labels.len();
        let hit = (1..=n).map(|i| (*sel + i) % n).find(|&i| {
            labels[i]
                .chars()
                .next()
                .and_then(|f| f.to_lowercase().next())
                == Some(c)
        });
        if let Some(i) = hit {
            *sel = i;
        }
    }

    fn move_by(&mut self, screen: Screen, step: Move) {
        let n = self.row_count(screen);
        if screen == Screen::Logs && self.logs.follow {
            // Scrolling starts from the end that was shown.
            self.logs.scroll = n.saturating_sub(20);
            self.logs.follow = false;
        }
        if let Some(sel) = self.selection_mut(screen) {
            *sel = step.from(*sel, n);
        }
    }

    fn command(&mut self, screen: Screen, cmd: Cmd) -> Vec<Effect> {
        match cmd {
            Cmd::Quit => {
                self.quit_asked();
                return vec![];
            }
            Cmd::Help => {
                let mut lines: Vec<String> = keys::help(&self.bindings())
                    .into_iter()
                    .map(|(k, what)| format!("{k:<18} {what}"))
                    .collect();
                if screen.jumps() {
                    lines.push(format!("{:<18} jump to the entry it starts", "a letter"));
                }
                self.popup = Some(Popup::Info {
                    title: format!("Keys: {}", screen.title()),
                    lines,
                });
                return vec![];
            }
            Cmd::Back => return self.back(),
            Cmd::Down if screen == Screen::Contacts && self.contacts.typing => {
                self.contacts.typing = false;
                return vec![];
            }
            // The Phone view scrolls the phone's list itself (browsing).
            Cmd::PageUp | Cmd::PageDown if screen == Screen::Phone => {}
            Cmd::Up | Cmd::Down | Cmd::PageUp | Cmd::PageDown | Cmd::Top | Cmd::Bottom => {
                if let Some(step) = Move::of(cmd) {
                    self.move_by(screen, step);
                }
                return vec![];
            }
            Cmd::CancelJob => return self.cancel_job(),
            _ => {}
        }
        let ctx = ctx!(self);
        let reply = match screen {
            Screen::Menu(m) if cmd == Cmd::Open => {
                match m.entries().get(self.menu_sel[m.index()]) {
                    Some((_, to)) => Reply::default().open(*to),
                    None => Reply::default(),
                }
            }
            Screen::Menu(_) => Reply::default(),
            Screen::Modules => self.modules.handle(&ctx, cmd),
            Screen::UcmForm => self.ucm.handle(cmd),
            Screen::Server => self.server_screen.handle(&ctx, cmd),
            Screen::Logs => self.logs.handle(cmd),
            Screen::Contacts => self.contacts.handle(&ctx, cmd),
            Screen::ContactForm => self.contacts.form.handle(cmd),
            Screen::Phone => self.phone.handle(&ctx, cmd),
            Screen::Jobs | Screen::JobDetail => self.jobs.handle(screen, cmd),
            Screen::PhoneSetup => self.setup.handle(cmd),
            Screen::Checklist => self.checklist.handle(&ctx, cmd),
            Screen::Cluster => self.cluster.handle(cmd),
            Screen::Sources => self.sources.handle(&ctx, cmd),
            Screen::SourceForm => self.sources.form.handle(cmd),
        };
        self.apply(reply)
    }

    fn cancel_job(&mut self) -> Vec<Effect> {
        let running = self.running().is_some_and(|s| !s.progress.stage.is_empty());
        if running || self.busy.as_ref().is_some_and(|b| b.cancellable) {
            self.info("cancelling the running job...");
            vec![Effect::CancelJob]
        } else {
            self.info("no job is running");
            vec![]
        }
    }

    /// A confirmed question: what it asked for.
    fn confirmed(&mut self, effect: Effect) -> Vec<Effect> {
        match effect {
            Effect::Quit => {
                self.quit = true;
                vec![]
            }
            Effect::Discard => {
                if self.screen() == Screen::UcmForm {
                    if let Ok(c) = &self.config {
                        self.ucm = ucm_form::Form::from_config(c);
                    }
                }
                self.contacts.form = contacts::Form::default();
                self.sources.form = sources::Form::default();
                if self.stack.len() > 1 {
                    self.stack.pop();
                }
                vec![]
            }
            e => {
                if let Effect::ClusterPush { nodes } = &e {
                    self.cluster.started(nodes);
                }
                let label = e.label();
                let cancellable = e.cancellable();
                self.begin(&label, cancellable, e)
            }
        }
    }
}
