//! Effects: the work the shell asks for (control-socket calls, config writes,
//! store reads), performed in tasks so that the screen never waits. Each sends
//! its outcome back as an `Action`, in words an admin can act on.

use super::action::{Action, Chunk, Failure};
use crate::config::{self, Config};
use crate::contacts::Contact;
use crate::control::{self, CallError, Reply, Request};
use crate::home::Home;
use crate::modules::Catalog;
use crate::ops::{self, settings::Applied, words};
use crate::server::daemon::{self, Stopped};
use crate::ucm::import::ImportOptions;
use crate::ucm::{self, Progress};
use std::collections::BTreeSet;
use std::time::Duration;

/// A status check that takes longer than this shows the server as hung.
const STATUS_TIMEOUT: Duration = Duration::from_secs(2);
/// Searching as you type: a slow answer is shown as such, not waited for.
const SEARCH_TIMEOUT: Duration = Duration::from_secs(3);
/// How much of the server log the Logs screen first shows.
const LOG_TAIL: u64 = 64 * 1024;

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Status,
    LoadConfig,
    LoadJobs,
    LoadJobErrors(i64),
    Start,
    Stop,
    Sync,
    Restart,
    SaveUcm(UcmValues),
    Import {
        dry_run: bool,
        force: bool,
    },
    Merge,
    Rollback,
    CancelJob,
    Install(Vec<String>),
    Remove(String),
    /// Search the served directory (the running server answers).
    Search {
        seq: u64,
        filter: String,
        limit: usize,
    },
    /// Search the internal contacts in the store (the server is stopped).
    SearchInternal {
        seq: u64,
        text: String,
    },
    PhoneSearch {
        seq: u64,
        filter: String,
        limit: usize,
    },
    /// A window of the phone book in order, as a phone browsing it lists it.
    PhoneBrowse {
        seq: u64,
        filter: String,
        sort: Vec<String>,
        from: crate::directory::lookup::From,
        limit: usize,
    },
    /// Read the server log from an offset, or its tail.
    ReadLog {
        from: Option<u64>,
    },
    /// Read an internal contact for editing.
    LoadContact(String),
    /// Save an internal contact (a new one when its id is empty), then merge.
    SaveContact(Box<Contact>),
    RemoveContact(String),
    /// Check every node of the cluster.
    ClusterStatus,
    /// Push this node's imported contacts to these nodes.
    ClusterPush {
        nodes: Vec<String>,
    },
    /// Test a directory source: a preview, nothing applied.
    TestSource(String),
    /// Sync a directory source, then merge.
    SyncSource(String),
    /// Save a directory source's settings (keeping the admin's comments).
    SaveSource(SourceValues),
    /// Removes a directory source, then merges.
    RemoveSource(String),
    /// Leave the shell (after a confirmation).
    Quit,
    /// Leave a form without saving (after a confirmation).
    Discard,
}

/// The UCM settings as its form saves them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UcmValues {
    pub url: String,
    pub cron: String,
    pub priority: u32,
    pub merge_cron: String,
}

/// A directory source's settings as its form saves them: each config key with
/// its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceValues {
    pub name: String,
    /// A new source's table is added.
    pub adding: bool,
    pub entries: Vec<(&'static str, Setting)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Setting {
    Int(i64),
    Text(String),
}

impl SourceValues {
    /// Writes them into the source's `[[sources]]` table.
    pub fn apply(&self, doc: &mut toml_edit::DocumentMut) {
        use crate::sources::settings;
        let table = if self.adding {
            settings::add_table(doc, &self.name)
        } else {
            settings::table_mut(doc, &self.name)
        };
        let Some(t) = table else {
            return;
        };
        for (key, v) in &self.entries {
            let value = match v {
                Setting::Int(n) => toml_edit::value(*n),
                Setting::Text(s) => toml_edit::value(s.as_str()),
            };
            t.insert(key, value);
        }
    }
}

impl Effect {
    /// What the header says while it runs.
    pub fn label(&self) -> String {
        match self {
            Effect::Start => "Starting the application server".into(),
            Effect::Stop => "Stopping the application server".into(),
            Effect::Sync => "Syncing bundles".into(),
            Effect::Restart => "Restarting the application server".into(),
            Effect::SaveUcm(_) => "Saving the UCM settings".into(),
            Effect::Import { dry_run: true, .. } => "Dry run of the import".into(),
            Effect::Import { .. } => "Importing external contacts".into(),
            Effect::Merge => "Merging".into(),
            Effect::Rollback => "Rolling back".into(),
            Effect::Install(ids) => format!("Installing {}", ids.join(", ")),
            Effect::Remove(id) => format!("Removing {id}"),
            Effect::SaveContact(_) => "Saving the contact".into(),
            Effect::RemoveContact(_) => "Removing the contact".into(),
            Effect::ClusterPush { nodes } => format!("Pushing to {}", nodes.join(", ")),
            Effect::TestSource(name) => format!("Testing {name}"),
            Effect::SyncSource(name) => format!("Syncing {name}"),
            Effect::SaveSource(v) => format!("Saving {}", v.name),
            Effect::RemoveSource(name) => format!("Removing {name}"),
            other => format!("{other:?}"),
        }
    }

    /// Imports and merges run by a server can be cancelled.
    pub fn cancellable(&self) -> bool {
        matches!(self, Effect::Import { .. } | Effect::Merge)
    }
}

/// Performs one effect; `None` when there is nothing to report.
pub async fn perform(
    home: Home,
    effect: Effect,
    tx: &tokio::sync::mpsc::UnboundedSender<Action>,
) -> Option<Action> {
    let done = |r: Result<String, Failure>| Some(Action::Done { result: r });
    match effect {
        Effect::Status => Some(Action::Status(status(&home).await)),
        Effect::ClusterStatus => Some(Action::Cluster(cluster_status(&home).await)),
        Effect::ClusterPush { nodes } => done(cluster_push(&home, nodes, tx).await),
        Effect::LoadConfig => Some(Action::Config(
            Config::load(&home.config_file())
                .map(Box::new)
                .map_err(Failure::from),
        )),
        Effect::LoadJobs => Some(Action::Jobs(
            blocking(move || {
                let store = ucm::open_store(&home)?;
                Ok(store.jobs(500)?)
            })
            .await,
        )),
        Effect::LoadJobErrors(id) => Some(Action::JobErrors(
            id,
            blocking(move || Ok(ucm::open_store(&home)?.job_errors(id)?)).await,
        )),
        Effect::Start => done(start(&home).await),
        Effect::Stop => done(stop(&home).await),
        Effect::Restart => {
            let stopped = stop(&home).await;
            match stopped {
                Ok(_) => done(start(&home).await.map(|s| format!("restarted: {s}"))),
                Err(e) => done(Err(e)),
            }
        }
        Effect::Sync => done(sync(&home).await),
        Effect::SaveUcm(values) => Some(Action::Saved(save_ucm(&home, values).await)),
        Effect::Import { dry_run, force } => done(import(&home, dry_run, force).await),
        Effect::Merge => done(merge(&home).await),
        Effect::Rollback => done(rollback(&home).await),
        Effect::CancelJob => {
            match control::call(&home.socket(), &Request::Cancel, STATUS_TIMEOUT).await {
                Ok(Reply::Ok) => None,
                Ok(Reply::Error { message }) => done(Err(Failure::Refused(message))),
                Ok(_) => None,
                Err(e) => done(Err(Failure::from(e))),
            }
        }
        Effect::Install(ids) => done(set_modules(&home, ids, true).await),
        Effect::Remove(id) => done(set_modules(&home, vec![id], false).await),
        Effect::Search { seq, filter, limit } => Some(Action::Found {
            seq,
            result: search(&home, &filter, limit).await,
        }),
        Effect::PhoneSearch { seq, filter, limit } => Some(Action::PhoneFound {
            seq,
            result: search(&home, &filter, limit).await,
        }),
        Effect::PhoneBrowse {
            seq,
            filter,
            sort,
            from,
            limit,
        } => {
            let request = Request::Browse {
                filter,
                sort,
                from,
                limit,
            };
            Some(Action::PhoneFound {
                seq,
                result: ask_found(&home, &request).await,
            })
        }
        Effect::SearchInternal { seq, text } => Some(Action::FoundInternal {
            seq,
            result: blocking(move || {
                let started = std::time::Instant::now();
                let store = ucm::open_store(&home)?;
                let contacts = if text.trim().is_empty() {
                    store.all()?
                } else {
                    store.search(&text)?
                };
                Ok((contacts, started.elapsed().as_micros() as u64))
            })
            .await,
        }),
        Effect::ReadLog { from } => Some(Action::Log(read_log(&home, from).await)),
        Effect::LoadContact(id) => Some(Action::ContactLoaded(
            blocking(move || {
                ucm::open_store(&home)?
                    .get(&id)?
                    .map(Box::new)
                    .ok_or_else(|| {
                        color_eyre::eyre::eyre!("contact {id} is no longer in the store")
                    })
            })
            .await,
        )),
        Effect::SaveContact(c) => done(save_contact(&home, *c).await),
        Effect::RemoveContact(id) => done(remove_contact(&home, id).await),
        Effect::RemoveSource(name) => done(remove_source(&home, name).await),
        Effect::TestSource(name) => Some(Action::SourceTested(
            blocking(move || {
                let config = Config::load(&home.config_file())?;
                let options = crate::sources::sync::SyncOptions {
                    dry_run: true,
                    force: false,
                    preview: 8,
                };
                crate::sources::sync::sync(&home, &config, &name, options, &Progress::default())
                    .map(Box::new)
            })
            .await,
        )),
        Effect::SyncSource(name) => done(sync_source(&home, name).await),
        Effect::SaveSource(v) => Some(Action::SourceSaved(save_source(&home, v).await)),
        Effect::Quit | Effect::Discard => None,
    }
}

/// Runs store and file work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> color_eyre::Result<T> + Send + 'static,
) -> Result<T, Failure> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r.map_err(Failure::from),
        Err(e) => Err(Failure::Failed(format!("the task failed: {e}"))),
    }
}

async fn status(home: &Home) -> Result<Option<Box<control::Status>>, Failure> {
    match control::call(&home.socket(), &Request::Status, STATUS_TIMEOUT).await {
        Ok(Reply::Status(s)) => Ok(Some(Box::new(s))),
        Ok(other) => Err(Failure::Failed(format!("unexpected reply: {other:?}"))),
        Err(CallError::NotRunning(_)) => Ok(None),
        Err(CallError::Timeout(..)) => Err(Failure::Hung {
            secs: STATUS_TIMEOUT.as_secs(),
        }),
        Err(e) => Err(Failure::from(e)),
    }
}

async fn start(home: &Home) -> Result<String, Failure> {
    let h = home.clone();
    blocking(move || crate::node::prepare(&h).map(|_| ())).await?;
    match daemon::start(home).await {
        Ok(s) => Ok(format!(
            "application server started (pid {}); LDAP on {}; {} contacts served",
            s.pid,
            s.listen
                .iter()
                .chain(&s.ldaps_listen)
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
            s.contacts
        )),
        Err(e) => Err(Failure::from(e)),
    }
}

async fn stop(home: &Home) -> Result<String, Failure> {
    match daemon::stop(home).await {
        Ok(Stopped::Stopped { pid }) => Ok(format!("application server stopped (pid {pid})")),
        Ok(Stopped::NotRunning) => Ok("the application server was not running".into()),
        Ok(Stopped::StalePidFile { pid }) => Ok(format!(
            "the application server was not running (removed a stale pid file naming pid {pid})"
        )),
        Err(e) => Err(Failure::from(e)),
    }
}

async fn sync(home: &Home) -> Result<String, Failure> {
    match daemon::sync(home).await {
        Ok(changes) if changes.is_empty() => Ok("bundles in sync: nothing to change".into()),
        Ok(changes) => Ok(format!("bundles synced: {}", changes.join("; "))),
        Err(e) => Err(Failure::Failed(format!("sync failed: {e:#}"))),
    }
}

/// Writes the UCM settings (keeping the admin's comments), then tells a running server.
async fn save_ucm(home: &Home, v: UcmValues) -> Result<String, Failure> {
    let h = home.clone();
    let path = home.config_file();
    blocking(move || {
        config::edit(&path, |doc| {
            config::set(doc, "ucm.url", v.url.trim());
            config::set(doc, "ucm.cron", v.cron.trim());
            config::set(doc, "ucm.priority", i64::from(v.priority));
            config::set(doc, "ucm.merge_cron", v.merge_cron.trim());
        })
        .map_err(|e| color_eyre::eyre::eyre!("{e}; nothing was changed"))?;
        Ok(())
    })
    .await?;
    let saved = format!("saved in {}", h.config_file().display());
    applied(&h, saved).await
}

/// After a save: a running server reads the config again.
async fn applied(home: &Home, saved: String) -> Result<String, Failure> {
    match ops::settings::apply(home).await {
        Applied::Now => Ok(format!("{saved}; the application server uses them now")),
        Applied::Refused(why) => Err(Failure::Failed(format!(
            "{saved}, but the application server could not apply them: {why}"
        ))),
        Applied::NotRunning => Ok(format!(
            "{saved}; the application server uses them when started"
        )),
    }
}

async fn import(home: &Home, dry_run: bool, force: bool) -> Result<String, Failure> {
    let done = ops::jobs::import(home, ImportOptions { dry_run, force })
        .await
        .map_err(Failure::from)?;
    words::import_line(&done).map_err(|held| {
        Failure::Held(format!(
            "{held}; ^F in Edit Unified Communication Model forces it"
        ))
    })
}

async fn merge(home: &Home) -> Result<String, Failure> {
    ops::jobs::merge(home, ucm::MergeOptions::default())
        .await
        .map(|m| words::merge_line(&m))
        .map_err(Failure::from)
}

async fn rollback(home: &Home) -> Result<String, Failure> {
    ops::jobs::rollback(home)
        .await
        .map(|r| words::rollback(&r))
        .map_err(Failure::from)
}

/// Installs (with their dependencies, already planned) or removes modules.
async fn set_modules(home: &Home, ids: Vec<String>, install: bool) -> Result<String, Failure> {
    let path = home.config_file();
    let h = home.clone();
    let h2 = home.clone();
    let names = blocking(move || {
        let config = Config::load(&path)?;
        let catalog = Catalog::builtin();
        let mut now: BTreeSet<String> = config.modules.clone();
        for id in &ids {
            if install {
                catalog.plan_install(&now, id, config.node.baseline)?;
                now.insert(id.clone());
            } else {
                catalog.check_remove(&now, id)?;
                now.remove(id);
            }
        }
        ops::settings::save_modules(&h2, &now)?;
        Ok(ids
            .iter()
            .filter_map(|id| {
                catalog
                    .find(id)
                    .map(|m| format!("{} {}", m.name, m.version))
            })
            .collect::<Vec<_>>()
            .join(", "))
    })
    .await?;
    let verb = if install { "installed" } else { "removed" };
    Ok(if ops::settings::running(&h).await {
        format!("{verb} {names}; Subsystems > Application Server > Sync bundles applies it")
    } else {
        format!("{verb} {names}")
    })
}

async fn search(
    home: &Home,
    filter: &str,
    limit: usize,
) -> Result<crate::directory::lookup::Found, Failure> {
    let request = Request::Search {
        filter: filter.to_string(),
        limit,
    };
    ask_found(home, &request).await
}

/// Asks the server for entries (a search or a browse).
async fn ask_found(
    home: &Home,
    request: &Request,
) -> Result<crate::directory::lookup::Found, Failure> {
    let started = std::time::Instant::now();
    match control::call(&home.socket(), request, SEARCH_TIMEOUT).await {
        Ok(Reply::Found(found)) => {
            tracing::debug!(
                ?request,
                server_us = found.micros,
                total_us = started.elapsed().as_micros() as u64,
                matched = found.matched,
                "search"
            );
            Ok(found)
        }
        Ok(Reply::Error { message }) => Err(Failure::Refused(message)),
        Ok(other) => Err(Failure::Failed(format!("unexpected reply: {other:?}"))),
        Err(e) => Err(Failure::from(e)),
    }
}

async fn read_log(home: &Home, from: Option<u64>) -> Result<Chunk, Failure> {
    use tokio::io::{AsyncReadExt, AsyncSeekExt};
    let path = home.server_log();
    let mut f = match tokio::fs::File::open(&path).await {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Chunk {
                text: String::new(),
                offset: 0,
                restart: from.is_none(),
            });
        }
        Err(e) => {
            return Err(Failure::Failed(format!(
                "cannot read {}: {e}",
                path.display()
            )));
        }
    };
    let len = f
        .metadata()
        .await
        .map_err(|e| Failure::Failed(format!("{}: {e}", path.display())))?
        .len();
    // A log that shrank was rotated: read it from the start.
    let (start, restart) = match from {
        Some(at) if at <= len => (at, false),
        Some(_) => (0, true),
        None => (len.saturating_sub(LOG_TAIL), true),
    };
    f.seek(std::io::SeekFrom::Start(start))
        .await
        .map_err(|e| Failure::Failed(format!("{}: {e}", path.display())))?;
    let mut bytes = Vec::new();
    f.take(len - start)
        .read_to_end(&mut bytes)
        .await
        .map_err(|e| Failure::Failed(format!("{}: {e}", path.display())))?;
    // Keep whole lines only; the rest is read next time.
    let whole = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    bytes.truncate(whole);
    Ok(Chunk {
        text: String::from_utf8_lossy(&bytes).into_owned(),
        offset: start + whole as u64,
        restart,
    })
}

/// Publishes the internal contacts: merged by the running server, else locally.
async fn publish(home: &Home) -> Result<String, Failure> {
    merge(home).await
}

async fn save_contact(home: &Home, c: Contact) -> Result<String, Failure> {
    let h = home.clone();
    let what = blocking(move || {
        let mut store = ucm::open_store(&h)?;
        if c.id.is_empty() {
            let id = store.add(&c)?;
            Ok(format!("contact {id} added"))
        } else if store.update(&c.id, &c)? {
            Ok(format!("contact {} saved", c.id))
        } else {
            Err(color_eyre::eyre::eyre!(
                "contact {} is no longer in the store (removed meanwhile?)",
                c.id
            ))
        }
    })
    .await?;
    publish(home).await.map(|m| format!("{what}; {m}"))
}

async fn remove_contact(home: &Home, id: String) -> Result<String, Failure> {
    let h = home.clone();
    let shown = id.clone();
    let removed = blocking(move || Ok(ucm::open_store(&h)?.remove(&id)?)).await?;
    if !removed {
        return Err(Failure::Failed(format!(
            "contact {shown} was not in the store"
        )));
    }
    publish(home)
        .await
        .map(|m| format!("contact {shown} removed; {m}"))
}

/// The config, when Cluster Replication is installed.
fn cluster_config(home: &Home) -> Result<Config, Failure> {
    let config = Config::load(&home.config_file()).map_err(Failure::from)?;
    if !config.modules.contains(crate::cluster::MODULE) {
        return Err(Failure::Refused("Cluster Replication is not installed: install cluster in Advanced > Module Configuration (sop module install cluster)".to_string()));
    }
    Ok(config)
}

async fn cluster_status(
    home: &Home,
) -> Result<Box<crate::cluster::status::ClusterStatus>, Failure> {
    let config = cluster_config(home)?;
    let nodes = config.cluster.nodes.clone();
    Ok(Box::new(
        crate::cluster::status::status(home, &config, &nodes).await,
    ))
}

/// Pushes to `names`; each node's progress goes to the screen as it happens.
async fn cluster_push(
    home: &Home,
    names: Vec<String>,
    tx: &tokio::sync::mpsc::UnboundedSender<Action>,
) -> Result<String, Failure> {
    use crate::cluster::push::{self, Event};
    let config = cluster_config(home)?;
    let nodes = push::select(&config, &names, false, false, &Default::default())
        .map_err(Failure::Refused)?;
    let (events, mut heard) = tokio::sync::mpsc::unbounded_channel();
    let to_screen = tx.clone();
    let forward = tokio::spawn(async move {
        while let Some(event) = heard.recv().await {
            let (node, text) = match event {
                Event::Started { node } => (node, "pushing...".to_string()),
                Event::Finished(o) if o.record.ok => (
                    o.node.clone(),
                    format!("ok in {:.1} s", o.record.millis as f64 / 1000.0),
                ),
                Event::Finished(o) => (o.node.clone(), "FAILED (Enter: why)".to_string()),
            };
            let _ = to_screen.send(Action::ClusterProgress { node, text });
        }
    });
    let outcomes = push::push_and_record(home, &config, nodes, Some(events))
        .await
        .map_err(Failure::from)?;
    let _ = forward.await;
    let failed: Vec<&str> = outcomes
        .iter()
        .filter(|o| !o.record.ok)
        .map(|o| o.node.as_str())
        .collect();
    if failed.is_empty() {
        Ok(format!(
            "pushed to {} node(s); each serves it",
            outcomes.len()
        ))
    } else {
        Err(Failure::Failed(format!(
            "the push to {} failed; Enter on a node shows why, r retries",
            failed.join(", ")
        )))
    }
}

/// Syncs a directory source as a job, then merges and serves: in the running
/// server (one job at a time), or here when it is stopped.
async fn sync_source(home: &Home, name: String) -> Result<String, Failure> {
    let done = ops::jobs::sync_source(home, &name, false)
        .await
        .map_err(Failure::from)?;
    words::sync_line(&done).map_err(Failure::Held)
}

/// Writes a directory source's settings, then tells a running server.
async fn save_source(home: &Home, v: SourceValues) -> Result<String, Failure> {
    let path = home.config_file();
    let name = v.name.clone();
    let saved = if v.adding {
        format!("{name} added: its settings saved")
    } else {
        format!("{name}'s settings saved")
    };
    blocking(move || {
        config::edit(&path, |doc| v.apply(doc))
            .map_err(|e| color_eyre::eyre::eyre!("{e}; nothing was changed"))?;
        Ok(())
    })
    .await?;
    applied(home, saved).await
}

async fn remove_source(home: &Home, name: String) -> Result<String, Failure> {
    let h = home.clone();
    let shown = name.clone();
    blocking(move || {
        let config = Config::load(&h.config_file())?;
        crate::sources::remove(&h, &config, &name)?;
        Ok(())
    })
    .await?;
    let told = applied(home, format!("{shown} removed")).await?;
    merge(home).await.map(|m| format!("{told}; {m}"))
}
