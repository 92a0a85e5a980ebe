//! State tests: keys in, state and effects out, without a terminal.

use super::app::{Action, App, Failure, Menu, Popup, Screen, ServerView};
use super::effect::Effect;
use super::screens::sources::Field as SourceField;
use super::screens::ucm_form::{Field, Values};
use crate::config::Config;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

fn app() -> App {
    let now = chrono::DateTime::from_timestamp(1_795_000_000, 0)
        .map(|t| t.with_timezone(&chrono::Local))
        .unwrap_or_default();
    let mut app = App::new("/var/lib/sop".into(), Ok(Config::defaults()), now);
    app.update(Action::Status(Ok(None)));
    app
}

fn key(app: &mut App, code: KeyCode) -> Vec<Effect> {
    app.update(Action::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn ctrl(app: &mut App, c: char) -> Vec<Effect> {
    app.update(Action::Key(KeyEvent::new(
        KeyCode::Char(c),
        KeyModifiers::CONTROL,
    )))
}

fn typing(app: &mut App, text: &str) -> Vec<Effect> {
    let mut out = Vec::new();
    for c in text.chars() {
        out.extend(key(app, KeyCode::Char(c)));
    }
    out
}

/// Advanced > Module Configuration > Edit Unified Communication Model, by letters.
fn open_ucm_form(app: &mut App) {
    typing(app, "a");
    key(app, KeyCode::Enter);
    typing(app, "m");
    key(app, KeyCode::Enter);
    typing(app, "e");
    key(app, KeyCode::Enter);
}

#[test]
fn the_guide_path_is_reached_with_first_letters_and_enter() {
    let mut app = app();
    open_ucm_form(&mut app);
    assert_eq!(app.screen(), Screen::UcmForm);
    assert_eq!(
        app.breadcrumb(),
        "Advanced > Module Configuration > Edit Unified Communication Model"
    );
    // The first field, URL, has the focus.
    assert_eq!(app.ucm.focus, Field::Url);
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.screen(), Screen::Menu(Menu::Main));
    // Back on the first screen stays there.
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.stack.len(), 1);
}

#[test]
fn a_letter_cycles_through_the_entries_it_starts() {
    let mut app = app();
    typing(&mut app, "s");
    assert_eq!(app.menu_selection(Menu::Main), 1, "Subsystems");
    typing(&mut app, "s");
    assert_eq!(app.menu_selection(Menu::Main), 5, "Setup checklist");
    typing(&mut app, "S");
    assert_eq!(app.menu_selection(Menu::Main), 1, "back to Subsystems");
    key(&mut app, KeyCode::Down);
    assert_eq!(app.menu_selection(Menu::Main), 2);
}

#[test]
fn the_form_saves_only_valid_values_and_says_which_field_is_wrong() {
    let mut app = app();
    open_ucm_form(&mut app);
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.ucm.focus, Field::Cron);
    ctrl(&mut app, 'u');
    typing(&mut app, "0 25 ? * *");
    assert!(
        app.ucm
            .problem(Field::Cron)
            .is_some_and(|p| p.contains("hour 25"))
    );
    let effects = ctrl(&mut app, 's');
    assert!(effects.is_empty(), "nothing is written: {effects:?}");
    let m = app.message.clone().map(|m| m.text).unwrap_or_default();
    assert!(m.contains("Cron") && m.contains("hour 25"), "{m}");

    ctrl(&mut app, 'u');
    typing(&mut app, "0 23 ? * *");
    key(&mut app, KeyCode::Tab);
    // Priority is optional: empty is the default, 20.
    ctrl(&mut app, 'u');
    assert_eq!(app.ucm.problem(Field::Priority), None);
    key(&mut app, KeyCode::Tab);
    ctrl(&mut app, 'u');
    // The merge cron is required.
    assert!(app.ucm.problem(Field::MergeCron).is_some());
    typing(&mut app, "30 23 ? * *");
    let effects = ctrl(&mut app, 's');
    assert_eq!(
        effects,
        vec![Effect::SaveUcm(Values {
            url: String::new(),
            cron: "0 23 ? * *".into(),
            priority: 20,
            merge_cron: "30 23 ? * *".into(),
        })]
    );
    assert!(app.busy.is_some());
    app.update(Action::Saved(Ok("saved".into())));
    assert!(app.busy.is_none());
    assert!(!app.ucm.is_dirty());
}

#[test]
fn leaving_or_quitting_with_unsaved_edits_asks_first() {
    let mut app = app();
    open_ucm_form(&mut app);
    typing(&mut app, "https://pbx.example.com/contacts.csv");
    assert!(app.ucm.is_dirty());
    key(&mut app, KeyCode::Esc);
    assert!(matches!(app.popup, Some(Popup::Confirm { .. })));
    key(&mut app, KeyCode::Char('n'));
    assert_eq!(app.screen(), Screen::UcmForm, "still editing");
    ctrl(&mut app, 'c');
    assert!(!app.quit, "asks before losing the edits");
    key(&mut app, KeyCode::Char('y'));
    assert!(app.quit);

    let mut clean = self::app();
    key(&mut clean, KeyCode::Char('q'));
    assert!(clean.quit, "nothing to lose: q quits at once");
}

#[test]
fn stop_asks_for_confirmation_and_start_does_not() {
    let mut app = app();
    typing(&mut app, "s");
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.screen(), Screen::Server);
    // Start is selected first on a stopped server.
    assert_eq!(key(&mut app, KeyCode::Enter), vec![Effect::Start]);
    app.update(Action::Done {
        result: Ok("started".into()),
    });
    app.server = ServerView::Unreachable("not answering".into());
    typing(&mut app, "s"); // Stop... Start... cycles from Start to Sync bundles
    key(&mut app, KeyCode::Home);
    assert!(key(&mut app, KeyCode::Enter).is_empty());
    assert!(matches!(app.popup, Some(Popup::Confirm { .. })));
    assert_eq!(key(&mut app, KeyCode::Char('y')), vec![Effect::Stop]);
}

#[test]
fn install_shows_the_dependency_plan_before_anything() {
    let mut app = app();
    if let Ok(c) = &mut app.config {
        c.modules.clear();
    }
    typing(&mut app, "a");
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.screen(), Screen::Modules);
    typing(&mut app, "l"); // LDAP Server
    assert!(key(&mut app, KeyCode::Char('i')).is_empty());
    let Some(Popup::Confirm { lines, .. }) = &app.popup else {
        panic!("no confirmation: {:?}", app.popup);
    };
    let text = lines.join("\n");
    let ucm = text
        .find("Unified Communication Model")
        .unwrap_or(usize::MAX);
    let ldap = text.find("LDAP Server").unwrap_or(0);
    assert!(ucm < ldap, "the dependency comes first:\n{text}");
    assert_eq!(
        key(&mut app, KeyCode::Char('y')),
        vec![Effect::Install(vec!["ucm".into(), "ldap-server".into()])]
    );
}

fn running(app: &mut App) {
    app.server = ServerView::Running(Box::new(crate::control::Status {
        node: "sop1".into(),
        version: "0".into(),
        pid: 1,
        started: 0,
        uptime_secs: 0,
        listen: vec!["127.0.0.1:389".into()],
        ldaps_listen: vec![],
        base_dn: "dc=phonebook,dc=local".into(),
        generation: 1,
        generation_load_ms: 0,
        contacts: 3,
        connections: 0,
        bundles: vec![],
        jobs: vec![],
        progress: Default::default(),
        log_lines_dropped: 0,
        access_lines_dropped: 0,
        phonebooks: Vec::new(),
    }));
}

#[test]
fn contacts_search_as_typed_and_late_answers_are_dropped() {
    let mut app = app();
    running(&mut app);
    typing(&mut app, "c");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.screen(), Screen::Contacts);
    key(&mut app, KeyCode::Char('/'));
    let effects = typing(&mut app, "o(");
    let Some(Effect::Search { seq, filter, .. }) = effects.last().cloned() else {
        panic!("{effects:?}");
    };
    assert!(filter.contains("(sn=o\\28*)"), "{filter}");
    let found = |n: usize| crate::directory::lookup::Found {
        matched: n,
        entries: vec![],
        micros: 1,
        fallback: None,
        window: None,
    };
    app.update(Action::Found {
        seq: seq - 1,
        result: Ok(found(7)),
    });
    assert!(app.contacts.found.is_none(), "an older answer is dropped");
    app.update(Action::Found {
        seq,
        result: Ok(found(0)),
    });
    assert_eq!(app.contacts.found.as_ref().map(|f| f.matched), Some(0));
}

#[test]
fn contacts_say_which_other_phone_books_list_them() {
    use crate::directory::lookup::{Found, FoundEntry};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    let mut config = Config::defaults();
    config.phonebooks = ["lobby", "sales"]
        .iter()
        .map(|name| crate::config::phonebooks::PhonebookSettings {
            name: name.to_string(),
            base_dn: format!("dc={name}"),
            sources: if *name == "lobby" {
                vec!["int".into()]
            } else {
                vec!["int".into(), "ext".into()]
            },
            bind_dn: String::new(),
            password_file: "x".into(),
            size_limit: None,
        })
        .collect();
    let mut app = app();
    app.config = Ok(config);
    running(&mut app);
    typing(&mut app, "c");
    key(&mut app, KeyCode::Enter);
    let seq = app.contacts.seq;
    let entry = |uid: &str, cn: &str| FoundEntry {
        dn: format!("uid={uid},dc=phonebook,dc=local"),
        attributes: vec![("cn".into(), vec![cn.into()])],
    };
    app.update(Action::Found {
        seq,
        result: Ok(Found {
            matched: 3,
            entries: vec![
                entry("int-7", "Anna Int"),
                entry("ext-x1", "Bert Ext"),
                entry("corp-u1", "Cleo Corp"),
            ],
            micros: 1,
            fallback: None,
            window: None,
        }),
    });
    let mut terminal = Terminal::new(TestBackend::new(120, 24)).unwrap();
    terminal.draw(|f| super::view::draw(&app, f)).unwrap();
    let buffer = terminal.backend().buffer();
    let line = |name: &str| -> String {
        (0..24)
            .map(|y| {
                (0..120)
                    .map(|x| buffer[(x, y)].symbol())
                    .collect::<String>()
            })
            .find(|l| l.contains(name))
            .unwrap_or_default()
    };
    assert!(
        line("Anna Int").contains("also in lobby, sales"),
        "{}",
        line("Anna Int")
    );
    assert!(line("Bert Ext").contains("also in sales") && !line("Bert Ext").contains("lobby"));
    assert!(
        !line("Cleo Corp").contains("also in"),
        "{}",
        line("Cleo Corp")
    );
}

#[test]
fn help_lists_the_keys_of_the_screen_from_its_table() {
    let mut app = app();
    key(&mut app, KeyCode::Char('?'));
    let Some(Popup::Info { lines, .. }) = &app.popup else {
        panic!("no help");
    };
    assert!(lines.iter().any(|l| l.contains("quit")));
    assert!(lines.iter().any(|l| l.contains("jump to the entry")));
    key(&mut app, KeyCode::Esc);
    assert!(app.popup.is_none());
}

#[test]
fn without_colour_the_selection_is_still_visible() {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use ratatui::style::{Color, Modifier};
    let mut app = app();
    app.theme = super::theme::Theme { color: false };
    key(&mut app, KeyCode::Down);
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    terminal.draw(|f| super::view::draw(&app, f)).unwrap();
    let buffer = terminal.backend().buffer();
    let colours = buffer
        .content()
        .iter()
        .filter(|c| c.fg != Color::Reset || c.bg != Color::Reset)
        .count();
    assert_eq!(colours, 0, "NO_COLOR: no colour at all");
    // The selected entry, Subsystems, has the marker and is reversed.
    let row = (0..24)
        .find(|&y| {
            let line: String = (0..80).map(|x| buffer[(x, y)].symbol()).collect();
            line.contains("> Subsystems")
        })
        .expect("the selected entry is marked");
    let x = (0..80)
        .find(|&x| buffer[(x, row)].symbol() == "S")
        .unwrap_or(0);
    assert!(buffer[(x, row)].modifier.contains(Modifier::REVERSED));
}

#[test]
fn an_internal_contact_is_added_and_checked_before_saving() {
    let mut app = app();
    typing(&mut app, "c");
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Char('a'));
    assert_eq!(app.screen(), Screen::ContactForm);
    // Nothing typed: refused, nothing saved.
    assert!(ctrl(&mut app, 's').is_empty());
    assert!(
        app.message
            .as_ref()
            .is_some_and(|m| m.text.contains("needs a name"))
    );
    typing(&mut app, "Anna");
    key(&mut app, KeyCode::Tab);
    typing(&mut app, "Schmidt");
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Tab);
    // Two common names, one with a comma.
    typing(&mut app, "Schmidt, Anna; Anni");
    for _ in 0..5 {
        key(&mut app, KeyCode::Tab);
    }
    typing(&mut app, "+49 30 1234, +49 30 5678");
    key(&mut app, KeyCode::Tab);
    typing(&mut app, "mobile");
    assert!(ctrl(&mut app, 's').is_empty(), "a number without digits");
    assert!(
        app.message
            .as_ref()
            .is_some_and(|m| m.text.contains("Mobile"))
    );
    ctrl(&mut app, 'u');
    let effects = ctrl(&mut app, 's');
    let [Effect::SaveContact(c)] = effects.as_slice() else {
        panic!("{effects:?}");
    };
    assert_eq!(
        (c.given_name.as_str(), c.surname.as_str()),
        ("Anna", "Schmidt")
    );
    assert_eq!(c.cn, ["Schmidt, Anna", "Anni"]);
    assert_eq!(c.phones.len(), 2);
    assert!(c.id.is_empty(), "a new contact");
    assert_eq!(app.screen(), Screen::Contacts);
}

#[test]
fn contacts_from_an_import_are_not_edited_here() {
    use crate::directory::lookup::{Found, FoundEntry};
    let mut app = app();
    typing(&mut app, "c");
    let effects = key(&mut app, KeyCode::Enter);
    let Some(Effect::SearchInternal { seq, .. }) = effects.last().cloned() else {
        panic!("a stopped server: the store is searched: {effects:?}");
    };
    let entry = |uid: &str| FoundEntry {
        dn: format!("uid={uid},dc=phonebook,dc=local"),
        attributes: vec![
            ("uid".into(), vec![uid.into()]),
            ("cn".into(), vec!["Bob".into()]),
        ],
    };
    app.update(Action::Found {
        seq,
        result: Ok(Found {
            matched: 2,
            entries: vec![entry("external-x1"), entry("internal-7")],
            micros: 5,
            fallback: None,
            window: None,
        }),
    });
    assert!(key(&mut app, KeyCode::Char('e')).is_empty());
    assert!(
        app.message
            .as_ref()
            .is_some_and(|m| m.text.contains("at its source"))
    );
    key(&mut app, KeyCode::Down);
    assert_eq!(
        key(&mut app, KeyCode::Char('e')),
        vec![Effect::LoadContact("7".into())]
    );
    key(&mut app, KeyCode::Char('d'));
    assert_eq!(
        key(&mut app, KeyCode::Char('y')),
        vec![Effect::RemoveContact("7".into())]
    );
}

#[test]
fn directory_sources_test_and_sync_after_a_confirmation() {
    let mut app = app();
    typing(&mut app, "a");
    key(&mut app, KeyCode::Enter);
    typing(&mut app, "d");
    let opened = key(&mut app, KeyCode::Enter);
    assert_eq!(app.screen(), Screen::Sources);
    assert!(opened.contains(&Effect::LoadConfig));
    // Not installed: said so, nothing runs.
    assert!(typing(&mut app, "s").is_empty());
    assert!(
        app.message
            .as_ref()
            .is_some_and(|m| m.text.contains("not installed"))
    );

    let config = Config::parse(
        "[modules]\ninstalled = [\"ucm\", \"ldap-server\", \"directory-sources\"]\n\
         [[sources]]\nname = \"corp\"\nuri = \"ldap://127.0.0.1\"\nbase_dn = \"dc=corp\"\n",
        "config.toml",
    );
    app.update(Action::Config(config.map(Box::new).map_err(Failure::from)));
    assert_eq!(
        key(&mut app, KeyCode::Enter),
        vec![Effect::TestSource("corp".into())]
    );
    app.busy = None;
    assert!(typing(&mut app, "s").is_empty());
    assert!(matches!(app.popup, Some(Popup::Confirm { .. })));
    assert_eq!(
        typing(&mut app, "y"),
        vec![Effect::SyncSource("corp".into())]
    );
}

/// The shell on Advanced > Directory Sources, with the config `text`.
fn on_sources(text: &str) -> App {
    let mut app = app();
    app.update(Action::Config(
        Config::parse(text, "config.toml")
            .map(Box::new)
            .map_err(Failure::from),
    ));
    app.push(Screen::Sources);
    app
}

#[test]
fn a_source_form_is_checked_as_typed_and_saved_into_its_table() {
    let text = "[modules]\ninstalled = [\"ucm\", \"ldap-server\", \"directory-sources\"]\n\
                # the corporate directory\n[[sources]]\nname = \"corp\"\nuri = \"ldap://127.0.0.1\"\n\
                base_dn = \"dc=corp\"\n";
    let mut app = on_sources(text);
    typing(&mut app, "e");
    assert_eq!(app.screen(), Screen::SourceForm);
    // Priority, the last field: a bad value is refused with the field named.
    for _ in 0..9 {
        key(&mut app, KeyCode::Tab);
    }
    ctrl(&mut app, 'u');
    typing(&mut app, "x");
    assert!(ctrl(&mut app, 's').is_empty());
    assert!(
        app.message
            .as_ref()
            .is_some_and(|m| m.text.contains("Priority"))
    );
    key(&mut app, KeyCode::Backspace);
    typing(&mut app, "5");
    let saved = ctrl(&mut app, 's');
    let Some(Effect::SaveSource(values)) = saved.first() else {
        panic!("{saved:?}");
    };
    let mut doc: toml_edit::DocumentMut = text.parse().unwrap();
    values.apply(&mut doc);
    let written = doc.to_string();
    assert!(
        written.contains("# the corporate directory\n[[sources]]"),
        "{written}"
    );
    let config = Config::parse(&written, "config.toml").unwrap();
    assert_eq!(config.sources[0].priority, 5);
    assert_eq!(config.sources[0].uri, "ldap://127.0.0.1");
}

#[test]
fn a_new_source_takes_a_free_name_and_the_defaults_and_a_source_is_removed_after_a_confirmation() {
    let text = "[modules]\ninstalled = [\"ucm\", \"ldap-server\", \"directory-sources\"]\n\
                [[sources]]\nname = \"corp\"\nuri = \"ldap://127.0.0.1\"\nbase_dn = \"dc=corp\"\n";
    let mut app = on_sources(text);
    typing(&mut app, "a");
    assert_eq!(app.screen(), Screen::SourceForm);
    typing(&mut app, "corp");
    assert!(ctrl(&mut app, 's').is_empty());
    assert!(
        app.message
            .as_ref()
            .is_some_and(|m| m.text.contains("Name") && m.text.contains("taken"))
    );
    ctrl(&mut app, 'u');
    typing(&mut app, "hr");
    key(&mut app, KeyCode::Tab);
    typing(&mut app, "127.0.0.1:3389");
    // The base DN is required.
    assert!(ctrl(&mut app, 's').is_empty());
    assert!(
        app.message
            .as_ref()
            .is_some_and(|m| m.text.contains("Base DN"))
    );
    // The refusal took the focus to the field.
    assert_eq!(app.sources.form.focus, SourceField::BaseDn);
    typing(&mut app, "ou=people,dc=hr");
    let saved = ctrl(&mut app, 's');
    let Some(Effect::SaveSource(values)) = saved.first() else {
        panic!("{saved:?}");
    };
    let mut doc: toml_edit::DocumentMut = text.parse().unwrap();
    values.apply(&mut doc);
    let config = Config::parse(&doc.to_string(), "config.toml").unwrap();
    let hr = &config.sources[1];
    assert_eq!(
        (hr.name.as_str(), hr.uri.as_str(), hr.base_dn.as_str()),
        ("hr", "ldap://127.0.0.1:3389", "ou=people,dc=hr")
    );
    assert_eq!((hr.page_size, hr.priority), (1000, 30));
    assert_eq!(config.sources[0].base_dn, "dc=corp");

    // Saved, the form edits the new source; its name cannot be typed over.
    app.update(Action::SourceSaved(Ok("hr added".into())));
    assert!(!app.sources.form.adding);
    assert_eq!(app.sources.form.name, "hr");
    key(&mut app, KeyCode::BackTab);
    key(&mut app, KeyCode::BackTab);
    assert_eq!(app.sources.form.focus, SourceField::Name);
    typing(&mut app, "x");
    assert_eq!(app.sources.form.value(SourceField::Name), "hr");

    app.stack.pop();
    assert_eq!(app.screen(), Screen::Sources);
    assert!(typing(&mut app, "r").is_empty());
    assert!(matches!(app.popup, Some(Popup::Confirm { .. })));
    assert!(typing(&mut app, "n").is_empty());
    assert!(app.popup.is_none());
    typing(&mut app, "r");
    assert_eq!(
        typing(&mut app, "y"),
        vec![Effect::RemoveSource("corp".into())]
    );
}

#[test]
fn the_phone_view_sends_what_the_model_sends() {
    let mut app = app();
    running(&mut app);
    typing(&mut app, "c");
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Char('p'));
    assert_eq!(app.screen(), Screen::Phone);
    assert_eq!(app.breadcrumb(), "Contacts > Phone view");
    // Letters, even those of the shell's own keys, are typed as on the phone.
    let effects = typing(&mut app, "jq");
    let Some(Effect::PhoneSearch { filter, limit, .. }) = effects.last().cloned() else {
        panic!("{effects:?}");
    };
    assert_eq!(filter, "(|(cn=jq*)(sn=jq*)(givenName=jq*))");
    assert_eq!(limit, 50);
    // Another model sends its own filter and size limit at once.
    key(&mut app, KeyCode::BackTab);
    let effects = key(&mut app, KeyCode::BackTab);
    let Some(Effect::PhoneSearch { filter, .. }) = effects.last().cloned() else {
        panic!("{effects:?}");
    };
    assert_eq!(app.phone.preset().id, "grandstream");
    assert!(filter.starts_with("(|(cn=jq*)"), "{filter}");
    // A number as an incoming call: exact.
    ctrl(&mut app, 'u');
    typing(&mut app, "0301234");
    let effects = ctrl(&mut app, 'n');
    let Some(Effect::PhoneSearch { filter, .. }) = effects.last().cloned() else {
        panic!("{effects:?}");
    };
    assert!(filter.contains("(telephoneNumber=0301234)"), "{filter}");
    // The server's size limit caps the phone's.
    app.config.as_mut().map(|c| c.ldap.size_limit = 10).ok();
    let effects = ctrl(&mut app, 'n');
    let Some(Effect::PhoneSearch { limit, .. }) = effects.last().cloned() else {
        panic!("{effects:?}");
    };
    assert_eq!(limit, 10);
    // Another model, or a name typed, ends the incoming call.
    ctrl(&mut app, 'n');
    assert!(app.phone.incoming);
    key(&mut app, KeyCode::Tab);
    assert!(!app.phone.incoming, "a new model searches as typed");
    ctrl(&mut app, 'n');
    assert!(app.phone.incoming);
    let effects = typing(&mut app, "a");
    assert!(!app.phone.incoming, "a caller's number has no letters");
    let Some(Effect::PhoneSearch { filter, .. }) = effects.last().cloned() else {
        panic!("{effects:?}");
    };
    assert!(!filter.contains("telephoneNumber=0301234a"), "{filter}");
}

#[test]
fn the_phone_view_browses_as_a_polycom_lists_the_phone_book() {
    use crate::directory::lookup::{Found, From, Window};
    let mut app = app();
    running(&mut app);
    typing(&mut app, "c");
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Char('p'));
    // Yealink phones do not browse: the view says so and asks nothing.
    assert!(ctrl(&mut app, 'b').is_empty());
    let error = app.phone.error.clone().unwrap_or_default();
    assert!(error.contains("do not browse"), "{error}");
    // Polycom lists the phone book sorted, from the first entry, a page at a time.
    let mut effects = Vec::new();
    while app.phone.preset().id != "polycom" {
        effects = key(&mut app, KeyCode::Tab);
    }
    let browse = |effects: Vec<Effect>| match effects.last().cloned() {
        Some(Effect::PhoneBrowse {
            filter,
            sort,
            from,
            limit,
            ..
        }) => (filter, sort, from, limit),
        other => panic!("{other:?}"),
    };
    let (filter, sort, from, limit) = browse(effects);
    assert_eq!(filter, "(objectClass=person)");
    assert_eq!(sort, ["sn", "givenName"]);
    assert_eq!((from, limit), (From::Offset(0), 32));
    // Typing jumps to what is typed.
    let (_, _, from, _) = browse(typing(&mut app, "mu"));
    assert_eq!(from, From::Value("mu".into()));
    // Scrolling goes on from the window the jump showed.
    let seq = app.phone.seq;
    app.phone.found(
        seq,
        Ok(Found {
            matched: 32,
            entries: Vec::new(),
            micros: 1,
            fallback: None,
            window: Some(Window {
                first: 40,
                total: 100,
            }),
        }),
    );
    let (_, _, from, _) = browse(key(&mut app, KeyCode::PageDown));
    assert_eq!(from, From::Offset(68), "the last page, not past the end");
    assert!(app.phone.typed.value().is_empty());
    let (_, _, from, _) = browse(key(&mut app, KeyCode::PageUp));
    assert_eq!(from, From::Offset(36));
}

#[test]
fn a_stopped_server_answers_no_phone_and_is_not_asked() {
    let mut app = app();
    typing(&mut app, "c");
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Char('p'));
    let effects = typing(&mut app, "an");
    assert!(effects.is_empty(), "{effects:?}");
    let error = app.phone.error.clone().unwrap_or_default();
    assert!(error.contains("phones get no answer"), "{error}");
    // Esc leaves the view; q typed there was text, not quit.
    typing(&mut app, "q");
    assert_eq!(app.screen(), Screen::Phone);
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.screen(), Screen::Contacts);
}

#[test]
fn cluster_pushes_ask_first_and_retry_only_the_failed_nodes() {
    use crate::cluster::records::PushRecord;
    use crate::cluster::status::{ClusterStatus, NodeStatus};
    use crate::cluster::sync::Sync;
    let mut app = app();
    let effects = app.push(Screen::Cluster);
    assert_eq!(effects, vec![Effect::ClusterStatus]);
    // A check in flight is not asked again by the background refresh.
    assert!(
        app.update(Action::Tick(app.now))
            .iter()
            .all(|e| *e != Effect::ClusterStatus)
    );
    let node = |name: &str, ok: Option<bool>| NodeStatus {
        name: name.into(),
        host: "h".into(),
        reachable: true,
        error: None,
        fix: None,
        state: None,
        sync: Sync::Unknown,
        last_push: ok.map(|ok| PushRecord {
            at: 0,
            ok,
            hash: String::new(),
            count: 0,
            millis: 0,
            message: "m".into(),
            fix: None,
            failures: u32::from(!ok),
            holds: Vec::new(),
        }),
        next_retry: None,
    };
    app.update(Action::Cluster(Ok(Box::new(ClusterStatus {
        node: "a".into(),
        external: None,
        nodes: vec![
            node("b", Some(true)),
            node("c", Some(false)),
            node("d", None),
        ],
    }))));
    assert!(key(&mut app, KeyCode::Char('r')).is_empty());
    let Some(Popup::Confirm { effect, .. }) = app.popup.clone() else {
        panic!("a push asks first");
    };
    assert_eq!(
        *effect,
        Effect::ClusterPush {
            nodes: vec!["c".into()]
        }
    );
    let effects = key(&mut app, KeyCode::Char('y'));
    assert_eq!(
        effects,
        vec![Effect::ClusterPush {
            nodes: vec!["c".into()]
        }]
    );
    assert_eq!(
        app.cluster.progress.get("c").map(String::as_str),
        Some("waiting")
    );
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Char('p'));
    let Some(Popup::Confirm { effect, .. }) = app.popup.clone() else {
        panic!("a push asks first");
    };
    assert_eq!(
        *effect,
        Effect::ClusterPush {
            nodes: vec!["c".into()]
        }
    );
}

#[test]
fn a_server_listening_on_loopback_only_is_not_one_phones_reach() {
    use crate::tui::screens::checklist::{Check, checklist};
    let mut app = app();
    running(&mut app);
    let phones = |app: &App| {
        checklist(&app.ctx())
            .into_iter()
            .find(|i| i.label == "Phones get answers")
            .map(|i| (i.check, i.detail))
            .unwrap()
    };
    let (check, detail) = phones(&app);
    assert_eq!(check, Check::Todo);
    assert!(detail.contains("127.0.0.1:389 only"), "{detail}");
    if let ServerView::Running(s) = &mut app.server {
        s.listen = vec!["0.0.0.0:389".into()];
    }
    assert_eq!(phones(&app).0, Check::Done);
}

#[test]
fn editing_a_contact_keeps_every_field_the_form_shows_and_its_photo() {
    use crate::contacts::{Contact, Phone, PhoneKind};
    use crate::tui::screens::contacts::Form;
    let c = Contact {
        id: "7".into(),
        cn: vec!["Haddad, Jean-Luc".into(), "JL".into()],
        given_name: "Jean-Luc".into(),
        surname: "Haddad".into(),
        display_name: "Jean-Luc Haddad".into(),
        company: "ACME".into(),
        email: "jl@acme.example".into(),
        phones: vec![
            Phone {
                kind: PhoneKind::Work,
                number: "+33 1 1".into(),
            },
            Phone {
                kind: PhoneKind::Mobile,
                number: "+33 6 2".into(),
            },
        ],
        description: "Front desk".into(),
        street: "12 Rue de la Paix".into(),
        locality: "Paris".into(),
        postal_code: "75002".into(),
        state: "Île-de-France".into(),
        country: "FR".into(),
        photo: vec![0xff, 0xd8, 0xff, 0xe0],
        ..Contact::default()
    };
    let form = Form::new(&c);
    assert!(!form.is_dirty());
    assert_eq!(form.contact(), Ok(c));
}

#[test]
fn moves_stay_on_the_rows() {
    use super::app::Move;
    assert_eq!(Move::Up.from(0, 5), 0);
    assert_eq!(Move::Down.from(4, 5), 4);
    assert_eq!(Move::Down.from(1, 5), 2);
    assert_eq!(Move::PageDown.from(1, 50), 11);
    assert_eq!(Move::PageDown.from(45, 50), 49);
    assert_eq!(Move::PageUp.from(5, 50), 0);
    assert_eq!(Move::Last.from(0, 50), 49);
    assert_eq!(Move::First.from(30, 50), 0);
    // No rows: nothing to select but the first place.
    assert_eq!(Move::Last.from(3, 0), 0);
}

#[test]
fn messages_wrap_between_words_and_inside_a_word_too_long() {
    use super::widgets::wrap;
    assert_eq!(
        wrap("cron reason: expected 5 fields", 12),
        ["cron reason:", "expected 5", "fields"]
    );
    assert_eq!(wrap("aaaaaaaaaa bb", 4), ["aaaa", "aaaa", "aa", "bb"]);
    assert_eq!(wrap("two\nlines", 80), ["two", "lines"]);
    assert_eq!(wrap("", 10), [""]);
    // Columns, not bytes: accents and marks take one each.
    assert_eq!(wrap("✗ Müller éé", 8), ["✗ Müller", "éé"]);
}

#[test]
fn a_held_job_is_a_warning_and_a_failed_one_an_error() {
    use super::app::Level;
    let mut app = app();
    app.update(Action::Done {
        result: Err(Failure::Held(
            "held: the import would remove 90% of the contacts".into(),
        )),
    });
    let m = app.message.clone().unwrap();
    assert_eq!(m.level, Level::Warn, "{m:?}");
    assert!(m.text.starts_with("held: the import"), "{m:?}");
    app.update(Action::Done {
        result: Err(Failure::Failed("cannot open the store".into())),
    });
    assert_eq!(app.message.clone().unwrap().level, Level::Error);
}

#[test]
fn a_merge_held_by_its_guard_reaches_the_shell_as_held() {
    let held = crate::ops::OpsError::Failed {
        what: "merge".into(),
        message: "held: publishing would remove 900 of the 1000 served entries".into(),
    };
    assert!(matches!(Failure::from(held), Failure::Held(m) if m.starts_with("held: publishing")));
    let failed = crate::ops::OpsError::Failed {
        what: "merge".into(),
        message: "cannot open the store".into(),
    };
    assert!(matches!(Failure::from(failed), Failure::Failed(_)));
}
