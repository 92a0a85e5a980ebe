//! The shell's model and its update function: keys and results in, state and
//! effects out. No I/O here: `effect.rs` performs the effects and sends their
//! outcome back as an `Action`.

pub use super::action::Action;
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

/// A place in the menu tree. The navigation stack's titles are the breadcrumb.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Menu(Menu),
    Modules,
    UcmForm,
    Server,
    Logs,
    Contacts,
    ContactForm,
    Phone,
    Jobs,
    JobDetail,
    PhoneSetup,
    Checklist,
    Cluster,
    Sources,
    SourceForm,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Menu {
    Main,
    Advanced,
    Subsystems,
}

impl Menu {
    /// Entries and where each leads, in the product's order.
    pub fn entries(self) -> &'static [(&'static str, Screen)] {
        match self {
            Menu::Main => &[
                ("Advanced", Screen::Menu(Menu::Advanced)),
                ("Subsystems", Screen::Menu(Menu::Subsystems)),
                ("Contacts", Screen::Contacts),
                ("Jobs", Screen::Jobs),
                ("Phone setup", Screen::PhoneSetup),
                ("Setup checklist", Screen::Checklist),
                ("Cluster", Screen::Cluster),
            ],
            Menu::Advanced => &[
                ("Module Configuration", Screen::Modules),
                ("Directory Sources", Screen::Sources),
            ],
            Menu::Subsystems => &[("Application Server", Screen::Server)],
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl Screen {
    pub fn title(self) -> &'static str {
        match self {
            Screen::Menu(Menu::Main) => "Main menu",
            Screen::Menu(Menu::Advanced) => "Advanced",
            Screen::Menu(Menu::Subsystems) => "Subsystems",
            Screen::Modules => "Module Configuration",
            Screen::UcmForm => "Edit Unified Communication Model",
            Screen::Server => "Application Server",
            Screen::Logs => "Logs",
            Screen::Contacts => "Contacts",
            Screen::ContactForm => "Contact",
            Screen::Phone => "Phone view",
            Screen::Jobs => "Jobs",
            Screen::JobDetail => "Job",
            Screen::PhoneSetup => "Phone setup",
            Screen::Checklist => "Setup checklist",
            Screen::Cluster => "Cluster",
            Screen::Sources => "Directory Sources",
            Screen::SourceForm => "Source",
        }
    }

    /// The key tables in force, most specific first.
    pub fn bindings(self, app: &App) -> Vec<&'static [Binding]> {
        let mut t: Vec<&'static [Binding]> = match self {
            Screen::Menu(_) => vec![keys::MENU],
            Screen::Modules => vec![keys::MODULES, keys::LIST],
            Screen::UcmForm => return vec![keys::FORM, keys::UCM_FORM_ACTIONS, keys::CANCEL],
            Screen::ContactForm | Screen::SourceForm => return vec![keys::FORM, keys::CANCEL],
            Screen::Server => vec![keys::SERVER, keys::LIST],
            Screen::Logs => vec![keys::LOGS, keys::LIST],
            Screen::Contacts if app.contacts.typing => return vec![keys::SEARCH_BOX, keys::CANCEL],
            Screen::Contacts => vec![keys::CONTACTS, keys::LIST],
            Screen::Phone => return vec![keys::PHONE, keys::CANCEL],
            Screen::Jobs => vec![keys::JOBS, keys::LIST],
            Screen::JobDetail => vec![keys::JOB_DETAIL, keys::LIST],
            Screen::PhoneSetup => vec![keys::SETUP, keys::LIST],
            Screen::Checklist => vec![keys::CHECKLIST, keys::LIST],
            Screen::Cluster => vec![keys::CLUSTER, keys::LIST],
            Screen::Sources => vec![keys::SOURCES, keys::LIST],
        };
        t.push(keys::CANCEL);
        t.push(keys::GLOBAL);
        t
    }

    /// Screens whose rows jump to the entry a typed letter starts.
    fn jumps(self) -> bool {
        matches!(
            self,
            Screen::Menu(_) | Screen::Modules | Screen::Server | Screen::Checklist
        )
    }
}

/// What the shell knows of the application server.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerView {
    /// Not asked yet.
    Unknown,
    Stopped,
    Running(Box<Status>),
    /// The socket is there but the server did not answer (hung), or another error.
    Unreachable(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

/// The line above the footer: the outcome of the last action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub level: Level,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Popup {
    /// A question; `y` performs the effect.
    Confirm {
        title: String,
        lines: Vec<String>,
        effect: Box<Effect>,
    },
    /// Text to read (help, module details, a contact).
    Info { title: String, lines: Vec<String> },
}

/// A move of a screen's selection (or scroll position).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    Up,
    Down,
    PageUp,
    PageDown,
    First,
    Last,
}

impl Move {
    /// Rows a page move goes.
    const PAGE: usize = 10;

    pub fn of(cmd: Cmd) -> Option<Move> {
        Some(match cmd {
            Cmd::Up => Move::Up,
            Cmd::Down => Move::Down,
            Cmd::PageUp => Move::PageUp,
            Cmd::PageDown => Move::PageDown,
            Cmd::Top => Move::First,
            Cmd::Bottom => Move::Last,
            _ => return None,
        })
    }

    /// Where the selection goes from `at` among `rows` rows (it stays on them).
    pub fn from(self, at: usize, rows: usize) -> usize {
        let last = rows.saturating_sub(1);
        let to = match self {
            Move::Up => at.saturating_sub(1),
            Move::Down => at + 1,
            Move::PageUp => at.saturating_sub(Move::PAGE),
            Move::PageDown => at + Move::PAGE,
            Move::First => 0,
            Move::Last => last,
        };
        to.min(last)
    }
}

/// Long work in flight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Busy {
    pub label: String,
    pub since: DateTime<Local>,
    /// Whether `^X` can cancel it (imports and merges in the server).
    pub cancellable: bool,
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
    pub modules: modules::State,
    pub ucm: ucm_form::Form,
    pub server_sel: usize,
    pub logs: logs::State,
    pub contacts: contacts::State,
    pub contact_form: contacts::Form,
    pub phone: phone::State,
    pub jobs: jobs::State,
    pub setup: phone_setup::State,
    pub checklist_sel: usize,
    pub cluster: cluster::State,
    pub sources: sources::State,
    pub source_form: sources::Form,
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
            server_sel: 1,
            logs: logs::State::default(),
            contacts: contacts::State::default(),
            contact_form: contacts::Form::default(),
            phone: phone::State::default(),
            jobs: jobs::State::default(),
            setup: phone_setup::State::default(),
            checklist_sel: 0,
            cluster: cluster::State::default(),
            sources: sources::State::default(),
            source_form: sources::Form::default(),
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
        self.ucm.is_dirty() || self.contact_form.is_dirty() || self.source_form.is_dirty()
    }

    pub fn info(&mut self, text: impl Into<String>) {
        self.message = Some(Message {
            level: Level::Info,
            text: text.into(),
        });
    }

    pub fn error(&mut self, text: impl Into<String>) {
        self.message = Some(Message {
            level: Level::Error,
            text: text.into(),
        });
    }

    pub fn confirm(&mut self, title: &str, lines: Vec<String>, effect: Effect) {
        self.popup = Some(Popup::Confirm {
            title: title.to_string(),
            lines,
            effect: Box::new(effect),
        });
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
            Screen::Phone => phone::refresh(self),
            Screen::PhoneSetup => {
                phone_setup::entered(self);
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
            Screen::SourceForm if self.source_form.is_dirty() => {
                self.confirm(
                    "Unsaved changes",
                    vec!["Leave the source without saving it? (^S saves)".into()],
                    Effect::Discard,
                );
                return vec![];
            }
            Screen::ContactForm if self.contact_form.is_dirty() => {
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
                    Err(e) => ServerView::Unreachable(e),
                };
                vec![]
            }
            Action::Config(r) => {
                if let Ok(c) = &r {
                    if !self.ucm.is_dirty() {
                        self.ucm = ucm_form::Form::from_config(c);
                    }
                }
                self.config = r.map(|c| *c);
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
            Action::PhoneFound { seq, result } => {
                self.phone.found(seq, result);
                vec![]
            }
            Action::Log(r) => {
                match r {
                    Ok(chunk) => self.logs.append(chunk),
                    Err(e) => self.logs.error = Some(e),
                }
                vec![]
            }
            Action::Done { result } => {
                self.busy = None;
                match result {
                    Ok(text) => self.info(text),
                    Err(text) => self.error(text),
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
                        self.source_form.saved();
                        self.info(text);
                    }
                    Err(text) => self.error(text),
                }
                vec![Effect::LoadConfig]
            }
            Action::SourceTested(r) => {
                sources::tested(self, r.map(|r| *r));
                vec![]
            }
            Action::ContactLoaded(r) => {
                contacts::loaded(self, r.map(|c| *c));
                vec![]
            }
            Action::Saved(r) => {
                self.busy = None;
                match r {
                    Ok(text) => {
                        self.ucm.saved();
                        self.info(text);
                    }
                    Err(text) => self.error(text),
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
        let tables = screen.bindings(self);
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
                self.contact_form.input(&event);
                vec![]
            }
            Screen::SourceForm => {
                self.source_form.input(&event);
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
                    return phone::refresh(self);
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
            Screen::Modules => modules::rows(self),
            Screen::Server => server::ACTIONS.iter().map(|a| a.to_string()).collect(),
            Screen::Checklist => checklist::checklist(self)
                .iter()
                .map(|i| i.label.clone())
                .collect(),
            Screen::Sources => sources::rows(self),
            _ => vec![],
        }
    }

    fn selection_mut(&mut self, screen: Screen) -> Option<&mut usize> {
        match screen {
            Screen::Menu(m) => Some(&mut self.menu_sel[m.index()]),
            Screen::Modules => Some(&mut self.modules.sel),
            Screen::Server => Some(&mut self.server_sel),
            Screen::Checklist => Some(&mut self.checklist_sel),
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
            Screen::PhoneSetup => phone_setup::line_count(self),
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
                let mut lines: Vec<String> = keys::help(&screen.bindings(self))
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
            Cmd::Up | Cmd::Down | Cmd::PageUp | Cmd::PageDown | Cmd::Top | Cmd::Bottom => {
                if let Some(step) = Move::of(cmd) {
                    self.move_by(screen, step);
                }
                return vec![];
            }
            Cmd::CancelJob => return self.cancel_job(),
            _ => {}
        }
        match screen {
            Screen::Menu(m) if cmd == Cmd::Open => {
                let entries = m.entries();
                match entries.get(self.menu_sel[m.index()]) {
                    Some((_, to)) => self.push(*to),
                    None => vec![],
                }
            }
            Screen::Modules => modules::command(self, cmd),
            Screen::UcmForm => ucm_form::command(self, cmd),
            Screen::Server => server::command(self, cmd),
            Screen::Logs => logs::command(self, cmd),
            Screen::Contacts | Screen::ContactForm => contacts::command(self, screen, cmd),
            Screen::Phone => phone::command(self, cmd),
            Screen::Jobs | Screen::JobDetail => jobs::command(self, screen, cmd),
            Screen::PhoneSetup => phone_setup::command(self, cmd),
            Screen::Checklist => checklist::command(self, cmd),
            Screen::Cluster => cluster::command(self, cmd),
            Screen::Sources => sources::command(self, cmd),
            Screen::SourceForm => sources::form_command(self, cmd),
            Screen::Menu(_) => vec![],
        }
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
                self.contact_form = contacts::Form::default();
                self.source_form = sources::Form::default();
                if self.stack.len() > 1 {
                    self.stack.pop();
                }
                vec![]
            }
            e => {
                if let Effect::ClusterPush { nodes } = &e {
                    cluster::started(self, nodes);
                }
                let label = e.label();
                let cancellable = e.cancellable();
                self.begin(&label, cancellable, e)
            }
        }
    }
}
