//! `sop sources list|add|edit|remove|test|sync`: Advanced > Directory Sources.

use super::ucm::{job_line, merge, print_merge, tell_server, when, write_secret};
use crate::config::{self, Config};
use crate::home::Home;
use crate::ops;
use crate::sources::MODULE;
use crate::sources::settings;
use crate::sources::sync::{self, SyncOptions, SyncReport};
use crate::ucm::Progress;
use clap::Subcommand;
use color_eyre::eyre::Result;
use std::path::PathBuf;
use toml_edit::Table;

#[derive(Debug, Subcommand)]
pub enum SourcesCommand {
    /// The sources, their schedules and last syncs
    List {
        #[arg(long)]
        json: bool,
    },
    /// Add a source; every value is checked and nothing is written if one is refused
    Add(SourceArgs),
    /// Change a source's settings (the same options as add)
    Edit(SourceArgs),
    /// Remove a source and the contacts it brought
    Remove { name: String },
    /// Connect, bind, search and show the first entries as contacts and the change a
    /// sync would make, applying nothing
    Test {
        name: String,
        /// How many contacts to show
        #[arg(long, default_value_t = 5)]
        count: usize,
        #[arg(long)]
        json: bool,
    },
    /// Sync now: read the directory, keep its contacts, merge and publish
    Sync {
        name: String,
        /// Apply even a search that returned no entry
        #[arg(long)]
        force: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, clap::Args)]
pub struct SourceArgs {
    /// The source's name: lowercase letters, digits and hyphens
    pub name: String,
    /// ldap://HOST[:PORT] or ldaps://HOST[:PORT]
    #[arg(long)]
    pub uri: Option<String>,
    /// Where the entries are, e.g. "ou=people,dc=example,dc=org"
    #[arg(long)]
    pub base_dn: Option<String>,
    /// The DN to bind as ("" for an anonymous bind)
    #[arg(long)]
    pub bind_dn: Option<String>,
    /// A file holding the bind password; copied to the node's secrets (0600)
    #[arg(long)]
    pub password_file: Option<PathBuf>,
    /// Use StartTLS on an ldap:// URI
    #[arg(long, conflicts_with = "no_starttls")]
    pub starttls: bool,
    #[arg(long)]
    pub no_starttls: bool,
    /// CA certificate (PEM) to trust ("" for the system's roots)
    #[arg(long)]
    pub ca_file: Option<String>,
    /// DANGER: accept any server certificate (lab servers only); false to check again
    #[arg(long, value_name = "true|false")]
    pub insecure_skip_verify: Option<bool>,
    /// LDAP search filter [default: the preset's]
    #[arg(long)]
    pub filter: Option<String>,
    /// sub (the whole subtree) or one (one level)
    #[arg(long)]
    pub scope: Option<String>,
    /// Entries per page (paged results; 0: no paging) [default: 1000]
    #[arg(long)]
    pub page_size: Option<u32>,
    /// openldap (inetOrgPerson) or ad (Active Directory)
    #[arg(long)]
    pub preset: Option<String>,
    /// Entries gone from the directory: remove, keep or age:HOURS
    #[arg(long)]
    pub policy: Option<String>,
    /// When to sync, e.g. "0 22 ? * *" ("" for on demand only)
    #[arg(long)]
    pub cron: Option<String>,
    /// Priority in the merge (lower wins; internal 10, external 20) [default: 30]
    #[arg(long)]
    pub priority: Option<u32>,
}

pub fn run(home: &Home, command: SourcesCommand) -> Result<i32> {
    crate::node::prepare(home)?;
    let Some(config) = super::config_of(home) else {
        return Ok(1);
    };
    if !config.modules.contains(MODULE) {
        eprintln!(
            "Directory Sources is not installed: sop module install {MODULE}, then sop server sync"
        );
        // The sources another node pushed here are served all the same.
        if let SourcesCommand::List { json: false } = command
            && print_received(home, &config)
        {
            return Ok(0);
        }
        return Ok(1);
    }
    match command {
        SourcesCommand::List { json } => list(home, &config, json),
        SourcesCommand::Add(args) => write(home, args, true),
        SourcesCommand::Edit(args) => write(home, args, false),
        SourcesCommand::Remove { name } => remove(home, &config, &name),
        SourcesCommand::Test { name, count, json } => {
            let options = SyncOptions {
                dry_run: true,
                force: false,
                preview: count,
            };
            match sync::sync(home, &config, &name, options, &Progress::default()) {
                Ok(r) if json => println!("{}", serde_json::to_string_pretty(&r)?),
                Ok(r) => print_report(&config, &r, 0)?,
                Err(e) => {
                    eprintln!("test of {name} failed: {e:#}");
                    return Ok(1);
                }
            }
            Ok(0)
        }
        SourcesCommand::Sync { name, force, json } => sync_now(home, &config, &name, force, json),
    }
}

/// Syncs through the running server (one job at a time, shown in its status), or
/// here when it is stopped; then merges and publishes.
fn sync_now(home: &Home, config: &Config, name: &str, force: bool, json: bool) -> Result<i32> {
    let done = match super::runtime()?.block_on(ops::jobs::sync_source(home, name, force)) {
        Ok(done) => done,
        Err(e) => {
            eprintln!("{e}");
            return Ok(1);
        }
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&done.report)?);
    } else {
        print_report(config, &done.report, done.job)?;
    }
    match &done.merged {
        Some(m) => print_merge(m, json)?,
        None => return Ok(2),
    }
    if !json {
        for line in crate::ops::words::pushed(done.pushed.as_ref()) {
            println!("{line}");
        }
    }
    Ok(0)
}

fn print_report(config: &Config, r: &SyncReport, job: i64) -> Result<()> {
    let bind = sync::find(config, &r.source)
        .ok()
        .map(|s| {
            if s.bind_dn.is_empty() {
                "anonymously".to_string()
            } else {
                format!("as {}", s.bind_dn)
            }
        })
        .unwrap_or_default();
    println!(
        "{}: connected, bound {bind}; {} entries read, {} skipped",
        r.uri, r.read, r.skipped
    );
    if !r.preview.is_empty() {
        println!("first entries as contacts:");
    }
    super::contacts::print_contacts(&r.preview, false)?;
    for e in r.errors.iter().take(10) {
        println!("  skipped {}: {}", e.position, e.reason);
    }
    if r.errors.len() > 10 && job > 0 {
        println!("  ... (sop jobs show {job})");
    }
    let kept = if r.kept > 0 {
        format!(" ({} gone from the directory, kept by the policy)", r.kept)
    } else {
        String::new()
    };
    println!(
        "change: +{} added ~{} updated -{} removed{kept}",
        r.changes.added, r.changes.updated, r.changes.removed
    );
    match &r.held {
        Some(why) if r.dry_run => println!("a sync would be held: {why}"),
        Some(why) => println!("held, not applied: {why}"),
        None if r.dry_run => println!("test only: nothing was applied"),
        None => println!(
            "synced {} contacts from {} in {} ms (job {job})",
            r.contacts, r.source, r.millis
        ),
    }
    Ok(())
}

fn list(home: &Home, config: &Config, json: bool) -> Result<i32> {
    let jobs = crate::ucm::open_store(home)?.jobs(500)?;
    let last = |name: &str| {
        jobs.iter()
            .find(|j| {
                j.kind == "sync"
                    && serde_json::from_str::<serde_json::Value>(&j.counts)
                        .ok()
                        .and_then(|v| v.get("source").and_then(|s| s.as_str().map(String::from)))
                        .is_some_and(|s| s == name)
            })
            .cloned()
    };
    if json {
        let all: Vec<serde_json::Value> = config
            .sources
            .iter()
            .map(|s| {
                serde_json::json!({
                    "name": s.name,
                    "uri": s.uri,
                    "base_dn": s.base_dn,
                    "bind_dn": s.bind_dn,
                    "starttls": s.starttls,
                    "insecure_skip_verify": s.skip_verify,
                    "filter": s.filter,
                    "scope": s.scope.as_str(),
                    "page_size": s.page_size,
                    "preset": s.preset.as_str(),
                    "policy": s.policy.to_string(),
                    "cron": s.cron,
                    "priority": s.priority,
                    "last_sync": last(&s.name),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&all)?);
        return Ok(0);
    }
    if config.sources.is_empty() {
        println!("no directory source yet: sop sources add NAME --uri URI --base-dn DN");
    }
    for s in &config.sources {
        println!("{}  {}  {}", s.name, s.uri, s.base_dn);
        if s.skip_verify {
            println!("  WARNING     insecure_skip_verify: the server's certificate is NOT checked");
        }
        println!(
            "  preset {}, filter {}, scope {}, page size {}, policy {}, priority {}",
            s.preset.as_str(),
            s.filter,
            s.scope.as_str(),
            s.page_size,
            s.policy,
            s.priority
        );
        println!("  cron        {}", when(&s.cron));
        match last(&s.name) {
            Some(j) => println!("  last sync   {}", job_line(&j)),
            None => println!("  last sync   never"),
        }
    }
    print_received(home, config);
    Ok(0)
}

/// The directory sources another node pushed here (Cluster Replication), if
/// any; whether there were.
fn print_received(home: &Home, config: &Config) -> bool {
    let manifest = crate::ucm::received::read_manifest(home).unwrap_or_default();
    if !manifest.sources.is_empty() {
        println!(
            "\nreceived from {} (they change with its pushes, not here):",
            manifest.sender
        );
        for e in &manifest.sources {
            let served = if crate::ucm::received::own_source(config, &e.source) {
                "not served: this node syncs its own"
            } else {
                "served"
            };
            let priority = e
                .priority
                .map_or_else(|| "this node's".to_string(), |p| p.to_string());
            println!(
                "{}  {} contacts, priority {priority}, {served}",
                e.source, e.count
            );
        }
    }
    !manifest.sources.is_empty()
}

fn write(home: &Home, a: SourceArgs, adding: bool) -> Result<i32> {
    let refuse = |why: String| {
        eprintln!("{why}; nothing was changed");
        Ok(1)
    };
    if let Err(why) = settings::check_name(&a.name) {
        return refuse(format!(
            "{:?} is not accepted as a name: expected {why}",
            a.name
        ));
    }
    let existing = Config::load(&home.config_file())
        .ok()
        .and_then(|c| c.sources.iter().find(|s| s.name == a.name).cloned());
    match (&existing, adding) {
        (Some(_), true) => {
            return refuse(format!(
                "there is already a source {:?} (sop sources edit)",
                a.name
            ));
        }
        (None, false) => return refuse(format!("no directory source {:?}", a.name)),
        _ => {}
    }
    if adding && (a.uri.is_none() || a.base_dn.is_none()) {
        return refuse("a new source needs --uri and --base-dn".to_string());
    }
    // Checked before anything is written.
    let secret = match &a.password_file {
        Some(path) => {
            let text = match std::fs::read_to_string(path) {
                Ok(t) => t,
                Err(e) => return refuse(format!("cannot read {}: {e}", path.display())),
            };
            let line = text.lines().next().unwrap_or_default().to_string();
            if line.is_empty() {
                return refuse(format!(
                    "{}: expected the password on its first line",
                    path.display()
                ));
            }
            let bind_dn = a
                .bind_dn
                .clone()
                .or(existing.as_ref().map(|s| s.bind_dn.clone()))
                .unwrap_or_default();
            if bind_dn.is_empty() {
                return refuse("--password-file needs --bind-dn".to_string());
            }
            Some(line)
        }
        None => None,
    };
    let name = a.name.clone();
    let edited = config::edit(&home.config_file(), |doc| {
        if adding {
            settings::add_table(doc, &name);
        }
        if let Some(t) = settings::table_mut(doc, &name) {
            apply(t, &a);
        }
    });
    let new = match edited {
        Ok(c) => c,
        Err(e) => return refuse(e.to_string()),
    };
    let Ok(source) = sync::find(&new, &name) else {
        return refuse(format!("the source {name:?} could not be written"));
    };
    if let Some(line) = secret {
        let path = home.path(&source.password_file);
        write_secret(&path, &line)?;
        println!("password saved in {} (mode 0600)", path.display());
    }
    println!(
        "{} {name} in {}",
        if adding { "added" } else { "changed" },
        home.config_file().display()
    );
    if source.skip_verify {
        println!("WARNING: insecure_skip_verify is on: the server's certificate is NOT checked");
    }
    tell_server(home)?;
    println!("check it with: sop sources test {name}");
    Ok(0)
}

/// Writes the options given into a `[[sources]]` table.
fn apply(t: &mut Table, a: &SourceArgs) {
    let strings = [
        ("uri", &a.uri),
        ("base_dn", &a.base_dn),
        ("bind_dn", &a.bind_dn),
        ("ca_file", &a.ca_file),
        ("filter", &a.filter),
        ("scope", &a.scope),
        ("preset", &a.preset),
        ("policy", &a.policy),
        ("cron", &a.cron),
    ];
    for (key, value) in strings {
        if let Some(v) = value {
            t.insert(key, toml_edit::value(v.trim()));
        }
    }
    if a.starttls || a.no_starttls {
        t.insert("starttls", toml_edit::value(a.starttls));
    }
    if let Some(v) = a.insecure_skip_verify {
        t.insert("insecure_skip_verify", toml_edit::value(v));
    }
    if let Some(v) = a.page_size {
        t.insert("page_size", toml_edit::value(i64::from(v)));
    }
    if let Some(v) = a.priority {
        t.insert("priority", toml_edit::value(i64::from(v)));
    }
}

fn remove(home: &Home, config: &Config, name: &str) -> Result<i32> {
    if let Err(e) = crate::sources::remove(home, config, name) {
        eprintln!("{e}");
        return Ok(1);
    }
    println!("removed {name}; its contacts leave the directory with this merge");
    tell_server(home)?;
    merge(home, Default::default(), false)?;
    Ok(0)
}
