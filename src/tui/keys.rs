//! The key tables: each screen's keys, what they do, and the hint the footer shows.
//! The footer and the help are generated from the same tables that handle keys.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a key asks for; `App::update` carries it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmd {
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Open,
    Back,
    Quit,
    Help,
    Search,
    NextField,
    PrevField,
    Save,
    ClearField,
    Refresh,
    // Edit Unified Communication Model
    ImportNow,
    ForceImport,
    MergeNow,
    DryRun,
    Rollback,
    // Module Configuration
    Install,
    Remove,
    // Contacts
    Add,
    Edit,
    Delete,
    NextPreset,
    PhoneView,
    Incoming,
    Browse,
    // Directory Sources
    SyncNow,
    // Jobs and popups
    CancelJob,
    // Cluster
    PushSelected,
    PushAll,
    RetryFailed,
    Yes,
    No,
    Follow,
}

/// A key as the tables name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Char(char),
    Ctrl(char),
    Code(KeyCode),
}

impl Key {
    pub fn matches(self, e: &KeyEvent) -> bool {
        let ctrl = e.modifiers.contains(KeyModifiers::CONTROL);
        match self {
            Key::Char(c) => !ctrl && e.code == KeyCode::Char(c),
            Key::Ctrl(c) => ctrl && e.code == KeyCode::Char(c),
            Key::Code(code) => e.code == code,
        }
    }

    pub fn label(self) -> String {
        match self {
            Key::Char(' ') => "Space".into(),
            Key::Char(c) => c.to_string(),
            Key::Ctrl(c) => format!("^{}", c.to_ascii_uppercase()),
            Key::Code(KeyCode::Enter) => "Enter".into(),
            Key::Code(KeyCode::Esc) => "Esc".into(),
            Key::Code(KeyCode::Backspace) => "Bksp".into(),
            Key::Code(KeyCode::Tab) => "Tab".into(),
            Key::Code(KeyCode::BackTab) => "S-Tab".into(),
            Key::Code(KeyCode::Up) => "↑".into(),
            Key::Code(KeyCode::Down) => "↓".into(),
            Key::Code(KeyCode::PageUp) => "PgUp".into(),
            Key::Code(KeyCode::PageDown) => "PgDn".into(),
            Key::Code(KeyCode::Home) => "Home".into(),
            Key::Code(KeyCode::End) => "End".into(),
            Key::Code(KeyCode::F(n)) => format!("F{n}"),
            Key::Code(_) => "?".into(),
        }
    }
}

/// One row of a key table. `hint` empty: handled but not shown in the footer.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    pub keys: &'static [Key],
    pub hint: &'static str,
    pub cmd: Cmd,
}

const fn bind(keys: &'static [Key], hint: &'static str, cmd: Cmd) -> Binding {
    Binding { keys, hint, cmd }
}

use Key::{Char, Code, Ctrl};

/// Moving in a list; `j`/`k` are left to the menus' first-letter jumps.
pub const LIST: &[Binding] = &[
    bind(&[Code(KeyCode::Up), Char('k')], "", Cmd::Up),
    bind(&[Code(KeyCode::Down), Char('j')], "", Cmd::Down),
    bind(&[Code(KeyCode::PageUp)], "", Cmd::PageUp),
    bind(&[Code(KeyCode::PageDown)], "", Cmd::PageDown),
    bind(&[Code(KeyCode::Home), Char('g')], "", Cmd::Top),
    bind(&[Code(KeyCode::End), Char('G')], "", Cmd::Bottom),
];

/// Menus: arrows move, a letter jumps to the entry it starts.
pub const MENU: &[Binding] = &[
    bind(&[Code(KeyCode::Up)], "", Cmd::Up),
    bind(&[Code(KeyCode::Down)], "", Cmd::Down),
    bind(&[Code(KeyCode::Home)], "", Cmd::Top),
    bind(&[Code(KeyCode::End)], "", Cmd::Bottom),
    bind(
        &[Code(KeyCode::Enter), Code(KeyCode::Right)],
        "Enter open",
        Cmd::Open,
    ),
];

/// On every screen: cancels the running import or merge (the footer shows it then).
pub const CANCEL: &[Binding] = &[bind(&[Ctrl('x')], "", Cmd::CancelJob)];

/// On every screen, after the screen's own keys.
pub const GLOBAL: &[Binding] = &[
    bind(
        &[
            Code(KeyCode::Esc),
            Code(KeyCode::Backspace),
            Code(KeyCode::Left),
        ],
        "Esc back",
        Cmd::Back,
    ),
    bind(&[Char('?'), Code(KeyCode::F(1))], "? help", Cmd::Help),
    bind(&[Char('q'), Ctrl('c')], "q quit", Cmd::Quit),
];

/// In a form, where letters are typed into the focused field.
pub const FORM: &[Binding] = &[
    bind(
        &[Code(KeyCode::Tab), Code(KeyCode::Down)],
        "Tab next",
        Cmd::NextField,
    ),
    bind(
        &[Code(KeyCode::BackTab), Code(KeyCode::Up)],
        "",
        Cmd::PrevField,
    ),
    bind(&[Ctrl('s')], "^S save", Cmd::Save),
    bind(&[Ctrl('u')], "^U clear", Cmd::ClearField),
    bind(&[Code(KeyCode::Esc)], "Esc back", Cmd::Back),
    bind(&[Code(KeyCode::F(1))], "F1 help", Cmd::Help),
    bind(&[Ctrl('c')], "", Cmd::Quit),
];

pub const UCM_FORM_ACTIONS: &[Binding] = &[
    bind(&[Ctrl('i')], "", Cmd::NextField),
    bind(&[Ctrl('r')], "^R import now", Cmd::ImportNow),
    bind(&[Ctrl('d')], "^D dry run", Cmd::DryRun),
    bind(&[Ctrl('f')], "^F force import", Cmd::ForceImport),
    bind(&[Ctrl('g')], "^G merge now", Cmd::MergeNow),
    bind(&[Ctrl('b')], "^B rollback", Cmd::Rollback),
];

pub const MODULES: &[Binding] = &[
    bind(&[Code(KeyCode::Enter)], "Enter open", Cmd::Open),
    bind(&[Char('i')], "i install", Cmd::Install),
    bind(&[Char('r'), Code(KeyCode::Delete)], "r remove", Cmd::Remove),
];

pub const SERVER: &[Binding] = &[
    bind(&[Code(KeyCode::Enter)], "Enter run", Cmd::Open),
    bind(&[Ctrl('r')], "^R refresh", Cmd::Refresh),
];

pub const LOGS: &[Binding] = &[
    bind(&[Char('f')], "f follow", Cmd::Follow),
    bind(&[Ctrl('r')], "^R reload", Cmd::Refresh),
];

/// Contacts while the search box has the focus: letters are typed.
pub const SEARCH_BOX: &[Binding] = &[
    bind(&[Code(KeyCode::Enter)], "Enter results", Cmd::Open),
    bind(&[Code(KeyCode::Down), Code(KeyCode::Tab)], "", Cmd::Down),
    bind(&[Ctrl('u')], "^U clear", Cmd::ClearField),
    bind(&[Code(KeyCode::Esc)], "Esc done", Cmd::Back),
    bind(&[Code(KeyCode::F(1))], "F1 help", Cmd::Help),
    bind(&[Ctrl('c')], "", Cmd::Quit),
];

pub const CONTACTS: &[Binding] = &[
    bind(&[Char('/')], "/ search", Cmd::Search),
    bind(&[Code(KeyCode::Enter)], "Enter details", Cmd::Open),
    bind(&[Char('a')], "a add", Cmd::Add),
    bind(&[Char('e')], "e edit", Cmd::Edit),
    bind(&[Char('d'), Code(KeyCode::Delete)], "d remove", Cmd::Delete),
    bind(&[Char('p')], "p phone view", Cmd::PhoneView),
];

pub const PHONE: &[Binding] = &[
    bind(&[Code(KeyCode::Tab)], "Tab next model", Cmd::NextPreset),
    bind(&[Code(KeyCode::BackTab)], "", Cmd::PrevField),
    bind(&[Ctrl('n')], "^N incoming call", Cmd::Incoming),
    bind(&[Ctrl('b')], "^B browse", Cmd::Browse),
    bind(&[Code(KeyCode::PageUp)], "", Cmd::PageUp),
    bind(&[Code(KeyCode::PageDown)], "", Cmd::PageDown),
    bind(&[Ctrl('u')], "^U clear", Cmd::ClearField),
    bind(&[Code(KeyCode::Esc)], "Esc back", Cmd::Back),
    bind(&[Code(KeyCode::F(1))], "F1 help", Cmd::Help),
    bind(&[Ctrl('c')], "", Cmd::Quit),
];

pub const JOBS: &[Binding] = &[
    bind(&[Code(KeyCode::Enter)], "Enter errors", Cmd::Open),
    bind(&[Char('c')], "c cancel running", Cmd::CancelJob),
    bind(&[Ctrl('r')], "^R refresh", Cmd::Refresh),
];

pub const CLUSTER: &[Binding] = &[
    bind(&[Code(KeyCode::Enter)], "Enter details", Cmd::Open),
    bind(&[Char('p')], "p push to selected", Cmd::PushSelected),
    bind(&[Char('a')], "a push to all", Cmd::PushAll),
    bind(&[Char('r')], "r retry failed", Cmd::RetryFailed),
    bind(&[Ctrl('r')], "^R check now", Cmd::Refresh),
];

pub const SOURCES: &[Binding] = &[
    bind(&[Code(KeyCode::Enter), Char('t')], "Enter test", Cmd::Open),
    bind(&[Char('s')], "s sync now", Cmd::SyncNow),
    bind(&[Char('e')], "e edit", Cmd::Edit),
    bind(&[Char('a')], "a add", Cmd::Add),
    bind(&[Char('r'), Code(KeyCode::Delete)], "r remove", Cmd::Remove),
    bind(&[Ctrl('r')], "^R refresh", Cmd::Refresh),
];

pub const JOB_DETAIL: &[Binding] = &[bind(&[Ctrl('r')], "^R refresh", Cmd::Refresh)];

pub const SETUP: &[Binding] = &[
    bind(
        &[Code(KeyCode::Tab), Code(KeyCode::Right)],
        "Tab next vendor",
        Cmd::NextPreset,
    ),
    bind(&[Code(KeyCode::BackTab)], "", Cmd::PrevField),
];

pub const CHECKLIST: &[Binding] = &[bind(&[Code(KeyCode::Enter)], "Enter fix it", Cmd::Open)];

pub const CONFIRM: &[Binding] = &[
    bind(&[Char('y'), Char('Y')], "y yes", Cmd::Yes),
    bind(&[Char('n'), Char('N'), Code(KeyCode::Esc)], "n no", Cmd::No),
    bind(&[Ctrl('c')], "", Cmd::Quit),
];

pub const POPUP: &[Binding] = &[
    bind(
        &[
            Code(KeyCode::Esc),
            Code(KeyCode::Enter),
            Char('q'),
            Char('?'),
        ],
        "Esc close",
        Cmd::No,
    ),
    bind(&[Ctrl('c')], "", Cmd::Quit),
];

/// The command of the first binding of `tables` that matches the key.
pub fn lookup(tables: &[&[Binding]], e: &KeyEvent) -> Option<Cmd> {
    tables
        .iter()
        .flat_map(|t| t.iter())
        .find(|b| b.keys.iter().any(|k| k.matches(e)))
        .map(|b| b.cmd)
}

/// The footer: the hints of the bindings that have one, first match wins.
pub fn hints(tables: &[&[Binding]]) -> Vec<&'static str> {
    let mut seen: Vec<Cmd> = Vec::new();
    let mut out = Vec::new();
    for b in tables.iter().flat_map(|t| t.iter()) {
        if b.hint.is_empty() || seen.contains(&b.cmd) {
            continue;
        }
        seen.push(b.cmd);
        out.push(b.hint);
    }
    out
}

/// Every key of the tables with what it does, for the help popup.
pub fn help(tables: &[&[Binding]]) -> Vec<(String, &'static str)> {
    let mut out = Vec::new();
    for b in tables.iter().flat_map(|t| t.iter()) {
        let keys: Vec<String> = b.keys.iter().map(|k| k.label()).collect();
        let what = if b.hint.is_empty() {
            describe(b.cmd)
        } else {
            b.hint.split_once(' ').map_or(b.hint, |(_, w)| w)
        };
        out.push((keys.join(" "), what));
    }
    out
}

fn describe(cmd: Cmd) -> &'static str {
    match cmd {
        Cmd::Up => "up",
        Cmd::Down => "down",
        Cmd::PageUp => "page up",
        Cmd::PageDown => "page down",
        Cmd::Top => "first",
        Cmd::Bottom => "last",
        Cmd::PrevField => "previous field",
        Cmd::NextField => "next field",
        Cmd::NextPreset => "other phone model",
        Cmd::Quit => "quit",
        _ => "",
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn key(code: KeyCode, m: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, m)
    }

    #[test]
    fn the_first_table_wins_and_hints_come_from_the_tables() {
        let tables: &[&[Binding]] = &[FORM, GLOBAL];
        // In a form, Esc is the form's "back", and q is typed, not quit.
        assert_eq!(
            lookup(tables, &key(KeyCode::Esc, KeyModifiers::NONE)),
            Some(Cmd::Back)
        );
        assert_eq!(
            lookup(&[FORM], &key(KeyCode::Char('q'), KeyModifiers::NONE)),
            None
        );
        assert_eq!(
            lookup(tables, &key(KeyCode::Char('s'), KeyModifiers::CONTROL)),
            Some(Cmd::Save)
        );
        let h = hints(tables);
        assert!(h.contains(&"^S save"));
        assert_eq!(h.iter().filter(|x| x.contains("back")).count(), 1);
    }
}
