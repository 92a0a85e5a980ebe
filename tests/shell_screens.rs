//! Whole-screen snapshots of the shell at 80x24 (the smallest SSH terminal it
//! supports) and 120x40, on a test backend. The clock, the home and the server's
//! status are fixed, so a snapshot changes only when a screen does.
//! Local time is read from `TZ` (the test command sets `TZ=UTC`).

#![allow(clippy::unwrap_used)]

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use sop::config::Config;
use sop::control::{BundleStatus, Status};
use sop::directory::lookup::{Found, FoundEntry};
use sop::schedule::{JobKind, JobView};
use sop::store::Job;
use sop::tui::app::{Action, App, Screen, ServerView};
use sop::tui::view;

const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];

fn now() -> chrono::DateTime<chrono::Local> {
    // Sunday 2026-11-22 21:00 UTC.
    chrono::DateTime::from_timestamp(1_795_381_200, 0)
        .unwrap()
        .with_timezone(&chrono::Local)
}

fn status() -> Status {
    let bundle = |name: &str, module: &str, state: &str| BundleStatus {
        name: name.into(),
        module: module.into(),
        state: state.into(),
    };
    Status {
        node: "sop1".into(),
        version: "0.1.0".into(),
        pid: 4242,
        started: 1_795_370_000,
        uptime_secs: 11_200,
        listen: vec!["0.0.0.0:389".into()],
        ldaps_listen: vec![],
        base_dn: "dc=phonebook,dc=local".into(),
        generation: 12,
        generation_load_ms: 41,
        contacts: 12_480,
        connections: 3,
        bundles: vec![
            bundle("ucm", "ucm", "running"),
            bundle("ldap", "ldap-server", "running"),
            bundle("directory-sources", "directory-sources", "not installed"),
            bundle("cluster", "cluster", "not installed"),
        ],
        jobs: vec![
            JobView {
                kind: JobKind::Import,
                cron: "0 23 ? * *".into(),
                next: Some("2026-11-22T23:00:00+00:00".into()),
                running: false,
                queued: false,
                skipped_ticks: 0,
            },
            JobView {
                kind: JobKind::Merge,
                cron: "30 23 ? * *".into(),
                next: Some("2026-11-22T23:30:00+00:00".into()),
                running: false,
                queued: false,
                skipped_ticks: 0,
            },
        ],
        progress: Default::default(),
        log_lines_dropped: 0,
        access_lines_dropped: 0,
        phonebooks: Vec::new(),
    }
}

fn jobs() -> Vec<Job> {
    vec![
        Job {
            id: 7,
            kind: "merge".into(),
            started: 1_795_300_200,
            finished: 1_795_300_201,
            status: "ok".into(),
            counts: r#"{"generation":12,"contacts":12480,"added":3,"updated":1,"removed":0}"#
                .into(),
            message: String::new(),
        },
        Job {
            id: 6,
            kind: "import".into(),
            started: 1_795_298_400,
            finished: 1_795_298_402,
            status: "ok".into(),
            counts:
                r#"{"parsed":12402,"skipped":2,"imported":12400,"added":3,"updated":1,"removed":0}"#
                    .into(),
            message: String::new(),
        },
        Job {
            id: 5,
            kind: "import".into(),
            started: 1_795_212_000,
            finished: 1_795_212_001,
            status: "held".into(),
            counts: r#"{"parsed":0,"skipped":0}"#.into(),
            message: "not a contact list: an HTML page".into(),
        },
    ]
}

fn found() -> Found {
    let entry = |uid: &str, cn: &str, sn: &str, number: &str, o: &str| FoundEntry {
        dn: format!("uid={uid},dc=phonebook,dc=local"),
        attributes: vec![
            ("uid".into(), vec![uid.into()]),
            ("cn".into(), vec![cn.into()]),
            ("sn".into(), vec![sn.into()]),
            ("o".into(), vec![o.into()]),
            ("telephoneNumber".into(), vec![number.into()]),
        ],
    };
    Found {
        matched: 3,
        entries: vec![
            entry(
                "internal-1",
                "Anna Schmidt",
                "Schmidt",
                "+49 30 1234567",
                "Acme GmbH",
            ),
            entry(
                "external-ab12",
                "Ángel Schmid",
                "Schmid",
                "+34 91 555 0101",
                "Telefónica",
            ),
            entry(
                "internal-9",
                "Søren Schmitz",
                "Schmitz",
                "+45 33 12 34 56",
                "Nordic A/S",
            ),
        ],
        micros: 180,
        fallback: None,
        window: None,
    }
}

/// A shell on a running node with history, as an admin finds it.
fn app() -> App {
    let mut app = App::new("/var/lib/sop".into(), Ok(Config::defaults()), now());
    app.update(Action::Status(Ok(Some(Box::new(status())))));
    app.update(Action::Jobs(Ok(jobs())));
    app
}

fn key(app: &mut App, code: KeyCode) {
    app.update(Action::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn snapshot(name: &str, app: &App) {
    for (w, h) in SIZES {
        let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
        terminal.draw(|f| view::draw(app, f)).unwrap();
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), terminal.backend());
    }
}

/// The screen's text at 80x24, row after row.
fn text_at_80x24(app: &App) -> String {
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    terminal.draw(|f| view::draw(app, f)).unwrap();
    terminal
        .backend()
        .buffer()
        .content()
        .iter()
        .map(|c| c.symbol())
        .collect()
}

fn at(screens: &[Screen]) -> App {
    let mut app = app();
    for s in screens {
        app.push(*s);
    }
    app
}

/// A refusal longer than a line is read whole at 80 columns: the message wraps.
#[test]
fn a_long_refusal_is_shown_whole() {
    use sop::tui::app::Menu;
    let mut app = at(&[Screen::Menu(Menu::Advanced), Screen::Modules]);
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Char('r'));
    let text = app.message.clone().map(|m| m.text).unwrap_or_default();
    assert!(text.len() > 80, "{text}");
    let screen = text_at_80x24(&app);
    let shown: Vec<&str> = screen.split_whitespace().collect();
    let shown = shown.join(" ");
    assert!(
        shown.contains(
            text.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .as_str()
        ),
        "{text:?} is not whole in:\n{screen}"
    );
    snapshot("module_remove_refused", &app);
}

#[test]
fn main_menu() {
    snapshot("main_menu", &app());
}

#[test]
fn main_menu_on_a_stopped_server() {
    let mut app = app();
    app.update(Action::Status(Ok(None)));
    snapshot("main_menu_stopped", &app);
}

#[test]
fn module_configuration() {
    use sop::tui::app::Menu;
    let mut app = at(&[Screen::Menu(Menu::Advanced), Screen::Modules]);
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Down);
    snapshot("module_configuration", &app);
}

#[test]
fn edit_unified_communication_model() {
    use sop::tui::app::Menu;
    let mut app = at(&[
        Screen::Menu(Menu::Advanced),
        Screen::Modules,
        Screen::UcmForm,
    ]);
    key(&mut app, KeyCode::Tab);
    app.update(Action::Key(KeyEvent::new(
        KeyCode::Char('u'),
        KeyModifiers::CONTROL,
    )));
    for c in "0 25 ? * *".chars() {
        key(&mut app, KeyCode::Char(c));
    }
    snapshot("edit_ucm_bad_cron", &app);
}

#[test]
fn application_server() {
    use sop::tui::app::Menu;
    let app = at(&[Screen::Menu(Menu::Subsystems), Screen::Server]);
    snapshot("application_server", &app);
    let mut hung = at(&[Screen::Menu(Menu::Subsystems), Screen::Server]);
    hung.server = ServerView::Unreachable("not answering within 2 s (hung?); Stop ends it".into());
    snapshot("application_server_hung", &hung);
}

#[test]
fn stop_asks_first() {
    use sop::tui::app::Menu;
    let mut app = at(&[Screen::Menu(Menu::Subsystems), Screen::Server]);
    key(&mut app, KeyCode::Home);
    key(&mut app, KeyCode::Enter);
    snapshot("stop_confirmation", &app);
}

#[test]
fn contacts_and_details() {
    let mut app = at(&[Screen::Contacts]);
    app.contacts.seq = 1;
    app.update(Action::Found {
        seq: 1,
        result: Ok(found()),
    });
    snapshot("contacts", &app);
    key(&mut app, KeyCode::Enter);
    snapshot("contact_details", &app);
}

#[test]
fn jobs_and_one_job() {
    let mut app = at(&[Screen::Jobs]);
    snapshot("jobs", &app);
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Enter);
    app.update(Action::JobErrors(
        6,
        Ok(vec![
            ("line 17".into(), "no name and no number".into()),
            ("line 230".into(), "Latin-1 bytes in a UTF-8 file".into()),
        ]),
    ));
    snapshot("job_detail", &app);
}

#[test]
fn setup_checklist() {
    snapshot("setup_checklist", &at(&[Screen::Checklist]));
}

#[test]
fn logs() {
    let mut app = at(&[Screen::Logs]);
    app.update(Action::Log(Ok(sop::tui::screens::logs::Chunk {
        text: "2026-11-22T20:00:00Z INFO serving the phone book generation=12 contacts=12480\n\
               2026-11-22T20:00:01Z INFO merge phases total_ms=210\n\
               2026-11-22T20:00:02Z WARN config: [ucm] cron = \"0 23 * *\": a cron spec such as \"0 23 ? * *\" (`0 23 * *`: expected 5 fields (minute hour day month weekday), 6 or 7 with seconds first; got 4); the previous settings stay\n"
            .into(),
        offset: 340,
        restart: true,
    })));
    // Every line is read whole, the long one wrapped.
    snapshot("logs", &app);
}

#[test]
fn help() {
    let mut app = app();
    key(&mut app, KeyCode::Char('?'));
    snapshot("help", &app);
}

#[test]
fn directory_sources() {
    use sop::tui::app::Menu;
    let config = Config::parse(
        "[modules]\ninstalled = [\"ucm\", \"ldap-server\", \"directory-sources\"]\n\
         [[sources]]\nname = \"corp\"\nuri = \"ldaps://dc1.corp.example\"\n\
         base_dn = \"OU=Staff,DC=corp,DC=example\"\npreset = \"ad\"\ncron = \"0 22 ? * *\"\n\
         policy = \"age:72\"\n\
         [[sources]]\nname = \"lab\"\nuri = \"ldap://10.0.0.5\"\nbase_dn = \"ou=people,dc=lab\"\n\
         insecure_skip_verify = true\n",
        "config.toml",
    )
    .unwrap();
    let mut app = App::new("/var/lib/sop".into(), Ok(config), now());
    app.update(Action::Status(Ok(Some(Box::new(status())))));
    let mut history = jobs();
    history.insert(
        0,
        Job {
            id: 8,
            kind: "sync".into(),
            started: 1_795_302_000,
            finished: 1_795_302_004,
            status: "ok".into(),
            counts: r#"{"source":"corp","read":4210,"skipped":3,"imported":4207,"added":12,"updated":4,"removed":1}"#
                .into(),
            message: String::new(),
        },
    );
    app.update(Action::Jobs(Ok(history)));
    app.push(Screen::Menu(Menu::Advanced));
    app.push(Screen::Sources);
    snapshot("directory_sources", &app);
    key(&mut app, KeyCode::Char('s'));
    snapshot("directory_sources_sync_confirmation", &app);
}

#[test]
fn directory_source_form() {
    use sop::tui::app::Menu;
    let config = Config::parse(
        "[modules]\ninstalled = [\"ucm\", \"ldap-server\", \"directory-sources\"]\n\
         [[sources]]\nname = \"corp\"\nuri = \"ldaps://dc1.corp.example\"\n\
         base_dn = \"OU=Staff,DC=corp,DC=example\"\npreset = \"ad\"\n",
        "config.toml",
    )
    .unwrap();
    let mut app = App::new("/var/lib/sop".into(), Ok(config), now());
    app.update(Action::Status(Ok(Some(Box::new(status())))));
    app.push(Screen::Menu(Menu::Advanced));
    app.push(Screen::Sources);
    key(&mut app, KeyCode::Char('e'));
    for _ in 0..7 {
        key(&mut app, KeyCode::Tab);
    }
    app.update(Action::Key(KeyEvent::new(
        KeyCode::Char('u'),
        KeyModifiers::CONTROL,
    )));
    for c in "age:0".chars() {
        key(&mut app, KeyCode::Char(c));
    }
    snapshot("directory_source_form", &app);
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        key(app, KeyCode::Char(c));
    }
}

#[test]
fn phone_view() {
    let mut app = at(&[Screen::Contacts, Screen::Phone]);
    snapshot("phone_view_empty", &app);
    type_text(&mut app, "schm");
    let seq = app.phone.seq;
    app.update(Action::PhoneFound {
        seq,
        result: Ok(found()),
    });
    snapshot("phone_view_yealink", &app);
    // Tab: the next model, which sends its own filter.
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Tab);
    let seq = app.phone.seq;
    app.update(Action::PhoneFound {
        seq,
        result: Ok(found()),
    });
    snapshot("phone_view_polycom", &app);
}

#[test]
fn phone_view_browses_as_a_polycom_lists_the_phone_book() {
    let mut app = at(&[Screen::Contacts, Screen::Phone]);
    for _ in 0..3 {
        key(&mut app, KeyCode::Tab);
    }
    app.update(Action::Key(KeyEvent::new(
        KeyCode::Char('b'),
        KeyModifiers::CONTROL,
    )));
    let seq = app.phone.seq;
    let mut window = found();
    window.window = Some(sop::directory::lookup::Window {
        first: 40,
        total: 1_000,
    });
    app.update(Action::PhoneFound {
        seq,
        result: Ok(window),
    });
    let screen = text_at_80x24(&app);
    assert!(screen.contains("browsing"), "{screen}");
    assert!(screen.contains("sorted by sn, givenName"), "{screen}");
    assert!(screen.contains("lists: 41 to"), "{screen}");
    assert!(screen.contains("of 1000"), "{screen}");
}

#[test]
fn phone_view_says_when_the_caller_id_fallback_found_the_entry() {
    let mut app = at(&[Screen::Contacts, Screen::Phone]);
    type_text(&mut app, "+49301234123");
    let seq = app.phone.seq;
    let mut by_main_line = found();
    by_main_line.entries.truncate(1);
    by_main_line.fallback = Some("main-line rule: the main line +49301234…".into());
    app.update(Action::PhoneFound {
        seq,
        result: Ok(by_main_line),
    });
    let screen = text_at_80x24(&app);
    assert!(
        screen.contains("caller-ID fallback's main-line rule"),
        "{screen}"
    );
}

#[test]
fn phone_setup() {
    let mut app = at(&[Screen::PhoneSetup]);
    // The address phones reach: fixed here, found from the network otherwise.
    app.setup.host = Some("192.0.2.10".into());
    snapshot("phone_setup_yealink", &app);
    key(&mut app, KeyCode::Tab);
    snapshot("phone_setup_snom", &app);
    key(&mut app, KeyCode::BackTab);
    key(&mut app, KeyCode::BackTab);
    snapshot("phone_setup_cisco", &app);
}

#[test]
fn menus() {
    use sop::tui::app::Menu;
    snapshot("advanced_menu", &at(&[Screen::Menu(Menu::Advanced)]));
    snapshot("subsystems_menu", &at(&[Screen::Menu(Menu::Subsystems)]));
}

#[test]
fn new_internal_contact() {
    let mut app = at(&[Screen::Contacts]);
    key(&mut app, KeyCode::Char('a'));
    type_text(&mut app, "Anna");
    key(&mut app, KeyCode::Tab);
    type_text(&mut app, "Schmidt");
    snapshot("contact_form", &app);
    // Back past the first field to the last: the fields scroll to show it.
    key(&mut app, KeyCode::BackTab);
    key(&mut app, KeyCode::BackTab);
    type_text(&mut app, "Night shift");
    snapshot("contact_form_last_field", &app);
}

#[test]
fn a_running_import_in_the_header_and_the_jobs() {
    let mut s = status();
    s.jobs[0].running = true;
    s.progress = sop::ucm::ProgressState {
        stage: "parsing".into(),
        done: 61_200,
        total: 100_000,
    };
    let mut app = at(&[Screen::Jobs]);
    app.update(Action::Status(Ok(Some(Box::new(s)))));
    snapshot("jobs_import_running", &app);
}

fn cluster_status() -> sop::cluster::status::ClusterStatus {
    use sop::cluster::records::PushRecord;
    use sop::cluster::state::{LdapCheck, NodeState};
    use sop::cluster::status::{ClusterStatus, NodeStatus};
    use sop::cluster::sync::{SnapshotId, Sync};
    let ours = SnapshotId {
        hash: "3f2a9c0d51e7b8a4".repeat(4),
        count: 12_400,
        origin: "sop1".into(),
        created: 1_795_298_402,
    };
    let older = SnapshotId {
        hash: "9b1c4e77a0d2f615".repeat(4),
        created: 1_795_212_001,
        ..ours.clone()
    };
    let state = |node: &str, external: &SnapshotId, contacts: usize| NodeState {
        node: node.into(),
        version: "0.1.0".into(),
        server_running: true,
        generation: Some(9),
        contacts: Some(contacts),
        external: Some(external.clone()),
        ldap: LdapCheck {
            address: Some("127.0.0.1:389".into()),
            answered: true,
            message: "a search answered (result code 4, 1 entry)".into(),
        },
        problems: vec![],
        phonebooks: vec![],
    };
    let push = |ok: bool, message: &str, fix: Option<&str>| PushRecord {
        at: 1_795_298_500,
        ok,
        hash: ours.hash.clone(),
        count: ours.count,
        millis: 1_200,
        message: message.into(),
        fix: fix.map(str::to_string),
        failures: u32::from(!ok),
        holds: Vec::new(),
    };
    ClusterStatus {
        node: "sop1".into(),
        external: Some(ours.clone()),
        nodes: vec![
            NodeStatus {
                name: "sop2".into(),
                host: "192.0.2.11".into(),
                reachable: true,
                error: None,
                fix: None,
                state: Some(state("sop2", &ours, 12_480)),
                sync: Sync::InSync,
                last_push: Some(push(true, "stored, merged into generation 9", None)),
                next_retry: None,
            },
            NodeStatus {
                name: "sop3".into(),
                host: "192.0.2.12".into(),
                reachable: true,
                error: None,
                fix: None,
                state: Some(state("sop3", &older, 12_470)),
                sync: Sync::Behind,
                last_push: None,
                next_retry: None,
            },
            NodeStatus {
                name: "sop4".into(),
                host: "192.0.2.13".into(),
                reachable: false,
                error: Some("sop@192.0.2.13 refused the key (Permission denied)".into()),
                fix: Some("ssh-copy-id sop@192.0.2.13".into()),
                state: None,
                sync: Sync::Unknown,
                last_push: Some(push(
                    false,
                    "sop@192.0.2.13 refused the key (Permission denied)",
                    Some("ssh-copy-id sop@192.0.2.13"),
                )),
                next_retry: Some(1_795_298_560),
            },
        ],
    }
}

#[test]
fn cluster() {
    let mut config = Config::defaults();
    config.modules.insert("cluster".into());
    let mut app = App::new("/var/lib/sop".into(), Ok(config), now());
    app.update(Action::Status(Ok(Some(Box::new(status())))));
    app.push(Screen::Cluster);
    app.update(Action::Cluster(Ok(Box::new(cluster_status()))));
    snapshot("cluster", &app);
    // Push to all, confirmed: each node's progress.
    key(&mut app, KeyCode::Char('a'));
    key(&mut app, KeyCode::Char('y'));
    app.update(Action::ClusterProgress {
        node: "sop2".into(),
        text: "ok in 1.2 s".into(),
    });
    app.update(Action::ClusterProgress {
        node: "sop3".into(),
        text: "pushing...".into(),
    });
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Down);
    snapshot("cluster_pushing", &app);
    key(&mut app, KeyCode::Enter);
    snapshot("cluster_node_detail", &app);
}
