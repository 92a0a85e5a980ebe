//! `sop server run|start|stop|status|sync`.

use super::{ServerCommand, runtime};
use crate::control::Status;
use crate::home::Home;
use crate::server::daemon::{self, Stopped};
use color_eyre::eyre::Result;

pub fn run(home: &Home, command: ServerCommand) -> Result<i32> {
    let rt = runtime()?;
    match command {
        ServerCommand::Run => {
            crate::node::prepare(home)?;
            crate::logs::init_server();
            rt.block_on(crate::server::run(home.clone()))?;
        }
        ServerCommand::Start => {
            crate::node::prepare(home)?;
            let s = rt.block_on(daemon::start(home))?;
            print_started(&s);
        }
        ServerCommand::Restart => {
            crate::node::prepare(home)?;
            if let Stopped::Stopped { pid } = rt.block_on(daemon::stop(home))? {
                println!("application server stopped (pid {pid})");
            }
            let s = rt.block_on(daemon::start(home))?;
            print_started(&s);
        }
        ServerCommand::Sync => match rt.block_on(daemon::sync(home)) {
            Ok(changes) if changes.is_empty() => {
                println!("bundles in sync: nothing to change");
            }
            Ok(changes) => {
                println!("bundles synced:");
                for c in changes {
                    println!("  {c}");
                }
            }
            Err(e) => {
                eprintln!("sync failed: {e:#}");
                return Ok(1);
            }
        },
        ServerCommand::Stop => match rt.block_on(daemon::stop(home))? {
            Stopped::Stopped { pid } => println!("application server stopped (pid {pid})"),
            Stopped::NotRunning => println!("the application server is not running"),
            Stopped::StalePidFile { pid } => println!(
                "the application server is not running; removed the stale pid file a \
                 stopped server left (it named pid {pid}, which was not signalled)"
            ),
        },
        ServerCommand::Status { json } => {
            let status = rt.block_on(daemon::status(home))?;
            if json {
                let value = match &status {
                    Some(s) => serde_json::json!({ "running": true, "status": s }),
                    None => serde_json::json!({ "running": false }),
                };
                println!("{}", serde_json::to_string_pretty(&value)?);
            } else {
                match &status {
                    Some(s) => {
                        print_status(s);
                        print_last_jobs(home);
                    }
                    None => println!("application server: stopped"),
                }
            }
            // As init scripts do: 3 means "not running".
            return Ok(if status.is_some() { 0 } else { 3 });
        }
    }
    Ok(0)
}

fn print_started(s: &Status) {
    println!(
        "application server started (pid {}); LDAP on {}; serving generation {} with {} contacts",
        s.pid,
        listeners(s),
        s.generation,
        s.contacts
    );
}

fn listeners(s: &Status) -> String {
    let mut all: Vec<String> = s.listen.iter().map(|a| format!("ldap://{a}")).collect();
    all.extend(s.ldaps_listen.iter().map(|a| format!("ldaps://{a}")));
    if all.is_empty() {
        return "nothing (the LDAP Server module is not installed)".to_string();
    }
    all.join(", ")
}

fn print_status(s: &Status) {
    println!("application server: running");
    println!("  node        {}", s.node);
    println!("  pid         {}", s.pid);
    println!("  uptime      {}", uptime(s.uptime_secs));
    println!("  listening   {}", listeners(s));
    println!("  base DN     {}", s.base_dn);
    println!("  generation  {}", s.generation);
    println!("  contacts    {}", s.contacts);
    if !s.phonebooks.is_empty() {
        println!("  phone books");
        for b in &s.phonebooks {
            let who = if b.bind_dn.is_empty() {
                "any phone".to_string()
            } else {
                format!("phones bound as {}", b.bind_dn)
            };
            println!(
                "    {:<12} {:<28} {:>9} contacts, for {who}",
                b.name, b.base_dn, b.contacts
            );
        }
    }
    println!("  connections {}", s.connections);
    println!(
        "  log         {} server log and {} access log lines dropped (could not be written)",
        s.log_lines_dropped, s.access_lines_dropped
    );
    println!("  version     {}", s.version);
    println!("  bundles");
    for b in &s.bundles {
        println!("    {:<20} {:<18} {}", b.name, b.module, b.state);
    }
    println!("  jobs");
    if !s.progress.stage.is_empty() {
        println!(
            "    a job is running: {} (sop jobs cancel stops it)",
            s.progress.stage
        );
    }
    for j in &s.jobs {
        let next = match (&j.next, j.cron.is_empty()) {
            (Some(n), _) => chrono::DateTime::parse_from_rfc3339(n)
                .map(|t| format!("next {}", t.format("%a %Y-%m-%d %H:%M")))
                .unwrap_or_default(),
            (None, true) => "no cron (or no URL)".to_string(),
            (None, false) => "no next run".to_string(),
        };
        let state = if j.running {
            format!("running ({})", s.progress.stage)
        } else if j.queued {
            "waiting for the running job".to_string()
        } else {
            String::new()
        };
        println!("    {:<8} {:<16} {next} {state}", j.kind.as_str(), j.cron);
    }
}

fn uptime(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    if d > 0 {
        format!("{d}d {h}h {m}m")
    } else if h > 0 {
        format!("{h}h {m}m {s}s")
    } else {
        format!("{m}m {s}s")
    }
}

/// The last import and merge, from the job history ("never" until the first).
fn print_last_jobs(home: &Home) {
    let Ok(store) = crate::ucm::open_store(home) else {
        return;
    };
    let jobs = store.jobs(200).unwrap_or_default();
    for kind in ["import", "merge"] {
        match jobs.iter().find(|j| j.kind == kind) {
            Some(j) => {
                let when = chrono::DateTime::from_timestamp(j.finished, 0)
                    .map(|t| {
                        t.with_timezone(&chrono::Local)
                            .format("%Y-%m-%d %H:%M")
                            .to_string()
                    })
                    .unwrap_or_default();
                println!(
                    "  last {kind:<7} {} at {when} (sop jobs show {})",
                    j.status, j.id
                );
            }
            None => println!("  last {kind:<7} never"),
        }
    }
}
