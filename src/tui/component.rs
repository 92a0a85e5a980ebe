//! What the shell and its screens share: where the shell is (`Screen`), what
//! every screen may read (`Ctx`) and what a screen answers to a key or a result
//! (`Reply`: effects to run, a message, a popup, a move in the menu tree).
//! Each screen owns its state and handles its keys; only `App` changes what
//! screens share, from their replies. This file imports no screen and no model.

use super::effect::Effect;
use super::keys::{self, Binding, Cmd};
use super::theme::Theme;
use crate::config::Config;
use crate::control::Status;
use crate::store::Job;
use chrono::{DateTime, Local};

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

    pub fn index(self) -> usize {
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

    /// The key tables in force, most specific first (`typing`: in the
    /// Contacts search box).
    pub fn bindings(self, typing: bool) -> Vec<&'static [Binding]> {
        let mut t: Vec<&'static [Binding]> = match self {
            Screen::Menu(_) => vec![keys::MENU],
            Screen::Modules => vec![keys::MODULES, keys::LIST],
            Screen::UcmForm => return vec![keys::FORM, keys::UCM_FORM_ACTIONS, keys::CANCEL],
            Screen::ContactForm | Screen::SourceForm => return vec![keys::FORM, keys::CANCEL],
            Screen::Server => vec![keys::SERVER, keys::LIST],
            Screen::Logs => vec![keys::LOGS, keys::LIST],
            Screen::Contacts if typing => return vec![keys::SEARCH_BOX, keys::CANCEL],
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
    pub fn jumps(self) -> bool {
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

impl Message {
    pub fn new(level: Level, text: impl Into<String>) -> Message {
        Message {
            level,
            text: text.into(),
        }
    }
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

impl Popup {
    /// A question; `y` performs `effect`.
    pub fn confirm(title: &str, lines: Vec<String>, effect: Effect) -> Popup {
        Popup::Confirm {
            title: title.to_string(),
            lines,
            effect: Box::new(effect),
        }
    }
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

/// What every screen may read of the shell's state.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub home: &'a str,
    pub theme: &'a Theme,
    pub now: DateTime<Local>,
    pub config: &'a Result<Config, String>,
    pub server: &'a ServerView,
    pub busy: Option<&'a Busy>,
    /// The job history, newest first.
    pub jobs: &'a [Job],
    /// A popup covers the screen (no cursor in its fields).
    pub popup: bool,
}

impl Ctx<'_> {
    pub fn running(&self) -> Option<&Status> {
        match self.server {
            ServerView::Running(s) => Some(s),
            _ => None,
        }
    }
}

/// A move in the menu tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Nav {
    /// Opens a screen above the current one.
    Open(Screen),
    /// Back to the screen below (a form that was saved or left).
    Back,
    /// From the main menu along these screens, landing on this row of the last.
    Path(&'static [Screen], Option<usize>),
}

/// Long work a screen starts: shown in the header until it is done.
#[derive(Debug, Clone, PartialEq)]
pub struct Work {
    pub label: String,
    pub cancellable: bool,
    pub effect: Effect,
}

/// What a screen answers: `App` applies it.
#[derive(Debug, Default, PartialEq)]
pub struct Reply {
    pub effects: Vec<Effect>,
    pub message: Option<Message>,
    pub popup: Option<Popup>,
    pub nav: Option<Nav>,
    pub work: Option<Work>,
}

impl Reply {
    /// Effects to run, nothing else.
    pub fn run(effects: Vec<Effect>) -> Reply {
        Reply {
            effects,
            ..Reply::default()
        }
    }

    pub fn info(&mut self, text: impl Into<String>) {
        self.message = Some(Message::new(Level::Info, text));
    }

    pub fn error(&mut self, text: impl Into<String>) {
        self.message = Some(Message::new(Level::Error, text));
    }

    /// A question; `y` performs the effect.
    pub fn confirm(&mut self, title: &str, lines: Vec<String>, effect: Effect) {
        self.popup = Some(Popup::confirm(title, lines, effect));
    }

    /// Text to read.
    pub fn show(&mut self, title: impl Into<String>, lines: Vec<String>) {
        self.popup = Some(Popup::Info {
            title: title.into(),
            lines,
        });
    }

    pub fn open(mut self, screen: Screen) -> Reply {
        self.nav = Some(Nav::Open(screen));
        self
    }

    pub fn back(mut self) -> Reply {
        self.nav = Some(Nav::Back);
        self
    }

    /// Long work: refused with a message while other work runs.
    pub fn begin(mut self, label: &str, cancellable: bool, effect: Effect) -> Reply {
        self.work = Some(Work {
            label: label.to_string(),
            cancellable,
            effect,
        });
        self
    }
}
