//! `sop ucm show|set|import|merge|rollback`: Edit Unified Communication Model.

use super::{UcmCommand, runtime};
use crate::config::{self, Config};
use crate::home::Home;
use crate::ops::{self, settings::Applied, words};
use crate::ucm::import::{self, ImportOptions};
use crate::ucm::{self, MergeOptions};
use color_eyre::eyre::{Result, WrapErr};
use std::os::unix::fs::OpenOptionsExt;

pub fn run(home: &Home, command: UcmCommand) -> Result<i32> {
    crate::node::prepare(home)?;
    let Some(config) = super::config_of(home) else {
        return Ok(1);
    };
    if !config.modules.contains("ucm") {
        eprintln!("the Unified Communication Model is not installed: sop module install ucm");
        return Ok(1);
    }
    match command {
        UcmCommand::Show { json } => show(home, &config, json)?,
        UcmCommand::Set {
            url,
            cron,
            priority,
            merge_cron,
            ca_file,
            credentials_file,
            no_credentials,
        } => {
            return set(
                home,
                Settings {
                    url,
                    cron,
                    priority,
                    merge_cron,
                    ca_file,
                },
                credentials_file,
                no_credentials,
            );
        }
        UcmCommand::Import {
            dry_run,
            force,
            json,
        } => {
            let done =
                runtime()?.block_on(ops::jobs::import(home, ImportOptions { dry_run, force }))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&done.report)?);
            } else {
                for line in words::import(&done) {
                    println!("{line}");
                }
            }
            return Ok(if done.report.held.is_some() { 2 } else { 0 });
        }
        UcmCommand::Merge { force, json } => merge(home, MergeOptions { force }, json)?,
        UcmCommand::Rollback => {
            let done = runtime()?.block_on(ops::jobs::rollback(home))?;
            println!("{}", words::rollback(&done));
        }
    }
    Ok(0)
}

/// Merges through the running server (which then serves the new generation), or
/// here when it is stopped, and prints the report.
pub(super) fn merge(home: &Home, options: MergeOptions, json: bool) -> Result<()> {
    let done = runtime()?.block_on(ops::jobs::merge(home, options))?;
    print_merge(&done, json)
}

pub(super) fn print_merge(done: &ops::jobs::Merged, json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(&done.report)?);
        return Ok(());
    }
    let (warnings, lines) = words::merge(done);
    for w in warnings {
        eprintln!("warning: {w}");
    }
    for line in lines {
        println!("{line}");
    }
    Ok(())
}

struct Settings {
    url: Option<String>,
    cron: Option<String>,
    priority: Option<u32>,
    merge_cron: Option<String>,
    ca_file: Option<String>,
}

fn set(
    home: &Home,
    s: Settings,
    credentials: Option<std::path::PathBuf>,
    forget: bool,
) -> Result<i32> {
    // Check the credentials file before anything is written.
    let secret = match &credentials {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .wrap_err_with(|| format!("cannot read {}", path.display()))?;
            let line = text.lines().next().unwrap_or_default().trim().to_string();
            if !line.contains(':') {
                eprintln!(
                    "{}: expected one line user:password; nothing was changed",
                    path.display()
                );
                return Ok(1);
            }
            Some(line)
        }
        None => None,
    };
    let edited = config::edit(&home.config_file(), |doc| {
        if let Some(v) = &s.url {
            config::set(doc, "ucm.url", v.trim());
        }
        if let Some(v) = &s.cron {
            config::set(doc, "ucm.cron", v.trim());
        }
        if let Some(v) = s.priority {
            config::set(doc, "ucm.priority", i64::from(v));
        }
        if let Some(v) = &s.merge_cron {
            config::set(doc, "ucm.merge_cron", v.trim());
        }
        if let Some(v) = &s.ca_file {
            config::set(doc, "ucm.ca_file", v.trim());
        }
    });
    let new = match edited {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}; nothing was changed");
            return Ok(1);
        }
    };
    let secrets = home.path(&new.ucm.credentials_file);
    if let Some(line) = secret {
        write_secret(&secrets, &line)?;
        println!("credentials saved in {} (mode 0600)", secrets.display());
    } else if forget {
        match std::fs::remove_file(&secrets) {
            Ok(()) => println!("credentials forgotten"),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(e).wrap_err_with(|| format!("cannot remove {}", secrets.display()));
            }
        }
    }
    println!("saved in {}", home.config_file().display());
    show(home, &new, false)?;
    if let Some(warning) = crate::validate::cleartext_credentials(&new.ucm.url, secrets.exists()) {
        eprintln!("warning: {warning}");
    }
    tell_server(home)?;
    Ok(0)
}

/// Tells a running server to read the config again, so that its crons and jobs
/// use the new settings.
pub(super) fn tell_server(home: &Home) -> Result<()> {
    match runtime()?.block_on(ops::settings::apply(home)) {
        Applied::NotRunning => {}
        Applied::Now => println!("the application server uses the new settings"),
        Applied::Refused(why) => eprintln!("the application server could not apply them: {why}"),
    }
    Ok(())
}

pub(super) fn write_secret(path: &std::path::Path, line: &str) -> Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .wrap_err_with(|| format!("cannot write {}", tmp.display()))?;
    f.write_all(line.as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()?;
    std::fs::rename(&tmp, path).wrap_err_with(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

pub(super) fn when(spec: &crate::schedule::Cron) -> String {
    if spec.is_empty() {
        return "on demand only".to_string();
    }
    let next: Vec<String> = ucm::next_runs(spec, chrono::Local::now(), 3)
        .iter()
        .map(|t| t.format("%a %Y-%m-%d %H:%M").to_string())
        .collect();
    format!("{spec:<16} next: {}", next.join(", "))
}

fn show(home: &Home, config: &Config, json: bool) -> Result<()> {
    let u = &config.ucm;
    let store = ucm::open_store(home)?;
    let jobs = store.jobs(200)?;
    let last = |kind: &str| jobs.iter().find(|j| j.kind == kind).cloned();
    let has_credentials = home.path(&u.credentials_file).exists();
    let external = crate::store::snapshot::read(&import::snapshot_path(home))
        .ok()
        .flatten()
        .map(|(m, _)| m);
    if json {
        let value = serde_json::json!({
            "url": u.url,
            "cron": u.cron,
            "priority": u.priority,
            "internal_priority": u.internal_priority,
            "merge_cron": u.merge_cron,
            "credentials": has_credentials,
            "next_import": ucm::next_runs(&u.cron, chrono::Local::now(), 3).iter().map(|t| t.to_rfc3339()).collect::<Vec<_>>(),
            "next_merge": ucm::next_runs(&u.merge_cron, chrono::Local::now(), 3).iter().map(|t| t.to_rfc3339()).collect::<Vec<_>>(),
            "external": external,
            "last_import": last("import"),
            "last_merge": last("merge"),
            "rollback": ucm::pin::read(home),
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    println!(
        "URL         {}{}",
        if u.url.is_empty() { "(none)" } else { &u.url },
        if has_credentials {
            "  (with credentials)"
        } else {
            ""
        }
    );
    if u.url.is_empty() && !u.cron.is_empty() {
        println!("Cron        {} (no URL: nothing to import)", u.cron);
    } else {
        println!("Cron        {}", when(&u.cron));
    }
    println!(
        "Priority    {} (internal contacts: {}; the lower wins)",
        u.priority, u.internal_priority
    );
    println!("Merge cron  {}", when(&u.merge_cron));
    match &external {
        Some(m) => println!(
            "External    {} contacts, imported {}",
            m.count,
            ago(m.created as i64)
        ),
        None => println!("External    never imported"),
    }
    if let Some(p) = ucm::pin::read(home) {
        println!(
            "Rollback    generation {} kept (job {}) until an import or sync changes the imported lists, or sop ucm merge --force",
            p.generation, p.job
        );
    }
    for (label, kind) in [("Last import", "import"), ("Last merge", "merge")] {
        match last(kind) {
            Some(j) => println!("{label:<11} {}", job_line(&j)),
            None => println!("{label:<11} never"),
        }
    }
    Ok(())
}

/// A finished job as one line: its status, when, its id and its message.
pub(super) fn job_line(j: &crate::store::Job) -> String {
    let message = if j.message.is_empty() {
        String::new()
    } else {
        format!(": {}", j.message)
    };
    format!("{} {}, job {}{message}", j.status, ago(j.finished), j.id)
}

fn ago(epoch: i64) -> String {
    chrono::DateTime::from_timestamp(epoch, 0)
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default()
}
