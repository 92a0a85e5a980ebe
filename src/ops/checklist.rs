//! The setup checklist: the admin guide's steps, checked against the node as it
//! is. The shell's Setup checklist and `sop checklist` show the same steps.

use crate::config::Config;
use crate::control::Status;
use crate::store::Job;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    Done,
    Todo,
    /// Set up, waiting for its time (a cron) or for a step before it.
    Waiting,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    pub label: String,
    pub check: Check,
    pub detail: String,
    /// Where it is done.
    pub fix: Fix,
}

/// Where a step is done: a menu of the shell, a verb of the CLI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fix {
    /// config.toml itself.
    Config,
    /// Advanced > Module Configuration (`sop module install`).
    Modules,
    /// Advanced > Module Configuration > Edit Unified Communication Model (`sop ucm`).
    Ucm,
    /// Subsystems > Application Server (`sop server`).
    Server,
}

/// The application server as the checklist sees it.
pub enum Server<'a> {
    Running(&'a Status),
    Stopped,
    /// It does not answer (why).
    Unreachable(&'a str),
    /// Not asked yet.
    Unknown,
}

/// The guide's steps for a node with `config` (or why it does not load), its
/// `server`, its job history (newest first) and when the next import runs.
pub fn checklist(
    config: Result<&Config, &str>,
    server: Server,
    jobs: &[Job],
    next_import: &str,
) -> Vec<Item> {
    let mut items = Vec::new();
    let config = match config {
        Ok(c) => c,
        Err(why) => {
            return vec![Item {
                label: "config.toml is valid".into(),
                check: Check::Todo,
                detail: why.to_string(),
                fix: Fix::Config,
            }];
        }
    };
    let wanted = ["ucm", "ldap-server"];
    let missing: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|id| !config.modules.contains(*id))
        .collect();
    items.push(Item {
        label: "Modules installed: Unified Communication Model, LDAP Server".into(),
        check: if missing.is_empty() {
            Check::Done
        } else {
            Check::Todo
        },
        detail: if missing.is_empty() {
            format!(
                "installed: {}",
                config
                    .modules
                    .iter()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else {
            format!(
                "missing: {} (install LDAP Server: its dependency comes with it)",
                missing.join(", ")
            )
        },
        fix: Fix::Modules,
    });
    let u = &config.ucm;
    let ucm_ok = config.modules.contains("ucm") && !u.merge_cron.is_empty();
    items.push(Item {
        label: "Unified Communication Model configured".into(),
        check: if ucm_ok { Check::Done } else { Check::Todo },
        detail: if ucm_ok {
            format!(
                "URL {}; import cron {}; merge cron {}",
                if u.url.is_empty() { "(none)" } else { &u.url },
                if u.cron.is_empty() {
                    "(on demand)"
                } else {
                    u.cron.as_str()
                },
                u.merge_cron
            )
        } else {
            "the merge directory cron is required, e.g. 30 23 ? * *".into()
        },
        fix: Fix::Ucm,
    });
    let running = match server {
        Server::Running(s) => Some(s),
        _ => None,
    };
    items.push(Item {
        label: "Application server started".into(),
        check: if running.is_some() {
            Check::Done
        } else {
            Check::Todo
        },
        detail: match server {
            Server::Running(s) => format!("pid {}, LDAP on {}", s.pid, s.listen.join(" ")),
            Server::Stopped => "stopped: Start it".into(),
            Server::Unreachable(e) => e.to_string(),
            Server::Unknown => "checking...".into(),
        },
        fix: Fix::Server,
    });
    let out_of_sync: Vec<String> = running
        .map(|s| {
            s.bundles
                .iter()
                .filter(|b| {
                    let installed = config.modules.contains(&b.module);
                    (installed && b.state != "running") || (!installed && b.state == "running")
                })
                .map(|b| format!("{} {}", b.name, b.state))
                .collect()
        })
        .unwrap_or_default();
    items.push(Item {
        label: "Bundles synced".into(),
        check: match running {
            None => Check::Waiting,
            Some(_) if out_of_sync.is_empty() => Check::Done,
            Some(_) => Check::Todo,
        },
        detail: match running {
            None => "after Start".into(),
            Some(_) if out_of_sync.is_empty() => "every installed module's bundles run".into(),
            Some(_) => format!("Sync bundles: {}", out_of_sync.join(", ")),
        },
        fix: Fix::Server,
    });
    let imported = jobs.iter().find(|j| j.kind == "import" && j.status == "ok");
    items.push(Item {
        label: "First import done".into(),
        check: match (imported, u.url.is_empty()) {
            (Some(_), _) => Check::Done,
            (None, true) => Check::Waiting,
            (None, false) => Check::Waiting,
        },
        detail: match (imported, u.url.is_empty()) {
            (Some(j), _) => format!("job {}: {}", j.id, crate::jobs::counts(j)),
            (None, true) => "no URL of external contacts: internal contacts only".into(),
            (None, false) => {
                format!("not yet: the import cron runs it ({next_import}), or Import now")
            }
        },
        fix: Fix::Ucm,
    });
    // A listener phones can reach: one not on the loopback interface.
    let reachable = |s: &&Status| s.listen.iter().chain(&s.ldaps_listen).any(|a| !loopback(a));
    items.push(Item {
        label: "Phones get answers".into(),
        check: match running {
            Some(s) if reachable(&s) => Check::Done,
            _ => Check::Todo,
        },
        detail: match running {
            Some(s) if !reachable(&s) => format!(
                "listening on {} only: phones on the network cannot reach it; set [ldap] \
                 listen to an address of this host or 0.0.0.0:389",
                s.listen
                    .iter()
                    .chain(&s.ldaps_listen)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            Some(s) => format!(
                "{} contacts served on {} (base {})",
                s.contacts,
                s.listen
                    .iter()
                    .chain(&s.ldaps_listen)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(" "),
                s.base_dn
            ),
            None => "the application server is not running".into(),
        },
        fix: Fix::Server,
    });
    items
}

/// Is a listen address on the loopback interface (`127.0.0.1:389`, `[::1]:389`,
/// `localhost:389`)?
fn loopback(addr: &str) -> bool {
    match addr.parse::<std::net::SocketAddr>() {
        Ok(a) => a.ip().is_loopback(),
        Err(_) => addr.starts_with("localhost:"),
    }
}
