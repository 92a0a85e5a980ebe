//! `sop checklist`: the shell's Setup checklist, for a script or a terminal.

use super::runtime;
use crate::config::Config;
use crate::home::Home;
use crate::ops::checklist::{self, Check, Fix, Server};
use color_eyre::eyre::Result;

pub fn run(home: &Home, json: bool) -> Result<i32> {
    crate::node::prepare(home)?;
    let config = Config::load(&home.config_file()).map_err(|e| e.to_string());
    let status = runtime()?.block_on(crate::server::daemon::status(home));
    let unreachable = status.as_ref().err().map(ToString::to_string);
    let server = match (&status, &unreachable) {
        (Ok(Some(s)), _) => Server::Running(s),
        (Ok(None), _) => Server::Stopped,
        (Err(_), why) => Server::Unreachable(why.as_deref().unwrap_or_default()),
    };
    let jobs = crate::ucm::open_store(home)?.jobs(500)?;
    let next_import = match &config {
        Ok(c) => crate::ucm::next_runs(&c.ucm.cron, chrono::Local::now(), 1)
            .first()
            .map(|t| t.format("%a %Y-%m-%d %H:%M").to_string())
            .unwrap_or_else(|| "on demand".to_string()),
        Err(_) => String::new(),
    };
    let items = checklist::checklist(
        config.as_ref().map_err(String::as_str),
        server,
        &jobs,
        &next_import,
    );
    let todo = items.iter().any(|i| i.check == Check::Todo);
    // The commands name this node's home unless it is the one sop finds alone.
    let sop = match Home::resolve(None) {
        Ok(default) if default == *home => "sop ".to_string(),
        _ => format!("sop --home {} ", home.root().display()),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&items)?);
    } else {
        for i in &items {
            let mark = match i.check {
                Check::Done => "[x]",
                Check::Todo => "[ ]",
                Check::Waiting => "[~]",
            };
            println!("{mark} {}", i.label);
            println!("    {}", i.detail);
            if i.check == Check::Todo {
                println!("    do it: {}", command(i.fix).replace("sop ", &sop));
            }
        }
    }
    Ok(i32::from(todo))
}

/// The verbs that do a step.
fn command(fix: Fix) -> &'static str {
    match fix {
        Fix::Config => "sop config check (it names the key and the value to change)",
        Fix::Modules => "sop module install ldap-server (UCM comes with it)",
        Fix::Ucm => "sop ucm set --merge-cron '30 23 ? * *' [--url URL --cron '0 23 ? * *']",
        Fix::Server => "sop server start; sop server sync",
    }
}
