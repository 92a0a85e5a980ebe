//! `sop module list|info|install|remove`: Advanced > Module Configuration.

use super::{ModuleCommand, runtime};
use crate::config::Config;
use crate::home::Home;
use crate::modules::{Catalog, Module};
use color_eyre::eyre::Result;
use std::collections::BTreeSet;
use std::io::{BufRead, IsTerminal, Write};

pub fn run(home: &Home, command: ModuleCommand) -> Result<i32> {
    crate::node::prepare(home)?;
    let Some(config) = super::config_of(home) else {
        return Ok(1);
    };
    let catalog = Catalog::builtin();
    let installed = &config.modules;
    match command {
        ModuleCommand::List { json } => list(&catalog, &config, json)?,
        ModuleCommand::Info { name } => {
            let m = match catalog.get(&name) {
                Ok(m) => m,
                Err(e) => {
                    eprintln!("{e}");
                    return Ok(1);
                }
            };
            info(m, installed.contains(&m.id), &catalog, installed);
        }
        ModuleCommand::Install { name } => {
            let plan = match catalog.plan_install(installed, &name, config.node.baseline) {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("cannot install {name}: {e}");
                    return Ok(1);
                }
            };
            let Some(target) = plan.last() else {
                let m = catalog.get(&name)?;
                println!("{} {} is already installed", m.name, m.version);
                return Ok(0);
            };
            if plan.len() > 1 {
                let deps: Vec<String> = plan[..plan.len() - 1].iter().map(|m| label(m)).collect();
                println!(
                    "{} needs {}: installing it first",
                    label(target),
                    deps.join(", ")
                );
            }
            let mut now = installed.clone();
            for m in &plan {
                now.insert(m.id.clone());
            }
            save(home, &now)?;
            for m in &plan {
                println!("installed {}", label(m));
            }
            after_change(home);
        }
        ModuleCommand::Remove { name, yes } => {
            let m = match catalog.get(&name) {
                Ok(m) => m,
                Err(e) => {
                    eprintln!("{e}");
                    return Ok(1);
                }
            };
            if !installed.contains(&m.id) {
                println!("{} is not installed", m.name);
                return Ok(0);
            }
            if let Err(e) = catalog.check_remove(installed, &m.id) {
                eprintln!("cannot remove {name}: {e}");
                return Ok(1);
            }
            let question = format!(
                "Remove {}? Its bundles stop at the next sync ({})",
                label(m),
                m.bundles.join(", ")
            );
            if !yes && !confirm(&question)? {
                println!("nothing removed");
                return Ok(if std::io::stdin().is_terminal() { 0 } else { 1 });
            }
            let mut now = installed.clone();
            now.remove(&m.id);
            save(home, &now)?;
            println!("removed {}", label(m));
            after_change(home);
        }
    }
    Ok(0)
}

fn label(m: &Module) -> String {
    format!("{} {}", m.name, m.version)
}

fn save(home: &Home, installed: &BTreeSet<String>) -> Result<()> {
    crate::ops::settings::save_modules(home, installed)
}

/// Says how a running server picks up the change.
fn after_change(home: &Home) {
    let running = runtime()
        .map(|rt| rt.block_on(crate::ops::settings::running(home)))
        .unwrap_or(false);
    if running {
        println!("the application server runs the previous modules until: sop server sync");
    }
}

/// Asks on the terminal; without one, the answer is no (`--yes` confirms).
fn confirm(question: &str) -> Result<bool> {
    if !std::io::stdin().is_terminal() {
        eprintln!("{question}: not confirmed; add --yes to confirm without a terminal");
        return Ok(false);
    }
    print!("{question} [y/N] ");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}

fn list(catalog: &Catalog, config: &Config, json: bool) -> Result<()> {
    let installed = &config.modules;
    if json {
        let rows: Vec<serde_json::Value> = catalog
            .modules()
            .iter()
            .map(|m| {
                serde_json::json!({
                    "id": m.id,
                    "name": m.name,
                    "version": m.version.to_string(),
                    "installed": installed.contains(&m.id),
                    "depends": m.depends.iter().map(ToString::to_string).collect::<Vec<_>>(),
                    "baseline": m.baseline,
                    "installable": m.baseline <= config.node.baseline,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    println!(
        "{:<19} {:<29} {:<8} {:<10} {:<16} BASELINE",
        "MODULE", "NAME", "VERSION", "STATE", "NEEDS"
    );
    for m in catalog.modules() {
        let needs: Vec<String> = m.depends.iter().map(ToString::to_string).collect();
        let state = if installed.contains(&m.id) {
            "installed"
        } else if m.baseline > config.node.baseline {
            "needs baseline"
        } else {
            "available"
        };
        println!(
            "{:<19} {:<29} {:<8} {:<10} {:<16} {}",
            m.id,
            m.name,
            m.version.to_string(),
            state,
            if needs.is_empty() {
                "-".to_string()
            } else {
                needs.join(", ")
            },
            m.baseline
        );
    }
    println!("this node: baseline {}", config.node.baseline);
    Ok(())
}

fn info(m: &Module, installed: bool, catalog: &Catalog, all: &BTreeSet<String>) {
    println!("{} ({}) {}", m.name, m.id, m.version);
    println!(
        "state:     {}",
        if installed {
            "installed"
        } else {
            "not installed"
        }
    );
    let needs: Vec<String> = m.depends.iter().map(ToString::to_string).collect();
    println!(
        "needs:     {}",
        if needs.is_empty() {
            "nothing".to_string()
        } else {
            needs.join(", ")
        }
    );
    let by: Vec<&str> = catalog
        .dependents(all, &m.id)
        .iter()
        .map(|d| d.name.as_str())
        .collect();
    if !by.is_empty() {
        println!("needed by: {}", by.join(", "));
    }
    println!("baseline:  {} or later", m.baseline);
    println!("bundles:   {}", m.bundles.join(", "));
    println!();
    println!("{}", m.description);
    println!();
    println!("Release notes");
    for line in m.release_notes.lines() {
        println!("  {line}");
    }
}
