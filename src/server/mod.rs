//! The application server: the LDAP listeners, the served directory and the control
//! socket, in one process that one `Server` value owns.

mod background;
mod cluster;
pub mod daemon;
mod fd_limit;
mod ldap_bundle;
pub mod pidfile;
mod sources;

use crate::config::Config;
use crate::control::{BundleStatus, Reply, Request, Status};
use crate::directory::Directory;
use crate::home::Home;
use crate::jobs::priority::Priority;
use crate::modules::Catalog;
use crate::schedule::scheduler::next_after;
use crate::schedule::{Cron, JobKind, Scheduler};
use crate::ucm::import::{ImportOptions, ImportReport};
use crate::ucm::{MergeOptions, MergeReport};
use color_eyre::eyre::{Result, WrapErr, eyre};
use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{Mutex, mpsc, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long connections get to finish when the server stops.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

pub struct Server {
    home: Home,
    started: SystemTime,
    started_at: Instant,
    directory: watch::Sender<Arc<Directory>>,
    /// The config in force and the running bundles; changed by `sync`.
    state: Mutex<State>,
    /// Access log lines, written by one task.
    access: mpsc::Sender<String>,
    /// Serialises reloads: two merges finishing together publish in order.
    reloading: Mutex<()>,
    /// Held while an import or a merge runs: they never overlap.
    job: Mutex<()>,
    scheduler: std::sync::Mutex<Scheduler>,
    /// Where the running job is.
    progress: Arc<crate::ucm::Progress>,
    /// How long building the served generation took, in milliseconds.
    load_ms: AtomicU64,
    tracker: TaskTracker,
    cancel: CancellationToken,
}

struct State {
    config: Config,
    /// Running when the LDAP Server module is installed.
    ldap: Option<ldap_bundle::LdapBundle>,
}

/// Runs the application server in the foreground until SIGTERM, SIGINT or a
/// shutdown request.
pub async fn run(home: Home) -> Result<()> {
    home.ensure(crate::config::TEMPLATE)
        .wrap_err_with(|| format!("cannot set up the node's home {}", home.root().display()))?;
    let config = Config::load(&home.config_file())?;
    if let Some(refused) = as_root(&home, &config, nix::unistd::geteuid().is_root()) {
        return Err(eyre!(refused));
    }
    crate::ucm::check_store(&home)?;
    let (_pid, stale) = pidfile::PidFile::acquire(&home.pid_file())?;
    if let Some(old) = stale {
        tracing::warn!("replaced a stale pid file left by pid {old}");
    }
    fd_limit::raise();

    let load_started = Instant::now();
    let loaded = load_directory(&home, &config).await?;
    let load_ms = load_started.elapsed().as_millis() as u64;
    tracing::info!(
        generation = loaded.generation(),
        contacts = loaded.len(),
        load_ms,
        "serving the phone book"
    );
    let (directory, _) = watch::channel(Arc::new(loaded));

    let cancel = CancellationToken::new();
    let tracker = TaskTracker::new();
    let access = access_log_writer(&home, &tracker, cancel.clone()).await?;
    // Bind first, so that a port in use is reported before anything runs.
    let ldap = if config.modules.contains(LDAP_MODULE) {
        Some(
            ldap_bundle::LdapBundle::start(
                &home,
                &config,
                directory.subscribe(),
                access.clone(),
                &cancel,
                tracker.clone(),
            )
            .await?,
        )
    } else {
        None
    };

    let scheduler = Scheduler::new(&schedule_specs(&config), chrono::Local::now(), next_after);
    let server = Arc::new(Server {
        home: home.clone(),
        started: SystemTime::now(),
        started_at: Instant::now(),
        directory,
        state: Mutex::new(State { config, ldap }),
        access,
        reloading: Mutex::new(()),
        job: Mutex::new(()),
        scheduler: std::sync::Mutex::new(scheduler),
        progress: Arc::default(),
        load_ms: AtomicU64::new(load_ms),
        tracker: tracker.clone(),
        cancel: cancel.clone(),
    });
    let control = bind_control(&home)?;
    server.save_image();
    tracker.spawn(control_loop(control, server.clone()));
    tracker.spawn(schedule_loop(server.clone()));
    tracker.spawn(sources::schedule_loop(server.clone()));
    tracker.spawn(cluster::retry_loop(server.clone()));
    tracker.spawn(signals(server.clone()));
    {
        let state = server.state.lock().await;
        tracing::info!(
            modules = ?state.config.modules,
            listen = ?state.ldap.as_ref().map(|l| l.addresses(false)),
            pid = std::process::id(),
            "application server started"
        );
    }

    cancel.cancelled().await;
    tracing::info!("stopping");
    tracker.close();
    if tokio::time::timeout(SHUTDOWN_GRACE, tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!("some connections did not finish within {SHUTDOWN_GRACE:?}");
    }
    let _ = std::fs::remove_file(home.socket());
    tracing::info!("stopped");
    Ok(())
}

/// The module whose bundle is the LDAP listeners.
const LDAP_MODULE: &str = "ldap-server";
/// The module whose bundle runs the import and merge crons.
const UCM_MODULE: &str = "ucm";

/// Why the server does not start as root on a port below 1024, with the commands
/// that run it as the config says (never as root): the systemd unit, or the
/// `sop` user with the capability to bind the port.
pub fn as_root(home: &Home, config: &Config, root: bool) -> Option<String> {
    let low = config
        .ldap
        .listen
        .iter()
        .chain(&config.ldap.tls.ldaps_listen)
        .find(|a| a.port() < 1024)?;
    root.then(|| {
        format!(
            "not starting as root on {low}: the application server never runs as root. \
             Start it with systemd (systemctl start sop), or as the sop user: \
             setcap cap_net_bind_service=+ep \"$(command -v sop)\" once, then \
             runuser -u sop -- sop --home {} server start",
            home.root().display()
        )
    })
}

/// The crons the scheduler follows: none without UCM, no import without a URL.
fn schedule_specs(config: &Config) -> Vec<(JobKind, Cron)> {
    if !config.modules.contains(UCM_MODULE) {
        return vec![
            (JobKind::Import, Cron::default()),
            (JobKind::Merge, Cron::default()),
        ];
    }
    let import = if config.ucm.url.is_empty() {
        Cron::default()
    } else {
        config.ucm.cron.clone()
    };
    vec![
        (JobKind::Import, import),
        (JobKind::Merge, config.ucm.merge_cron.clone()),
    ]
}

/// A tick every second (none made up after a pause) until the server stops.
pub(super) struct Seconds(tokio::time::Interval);

impl Seconds {
    pub(super) fn new() -> Seconds {
        let mut every = tokio::time::interval(Duration::from_secs(1));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        Seconds(every)
    }

    /// Waits for the next second; false once the server stops.
    pub(super) async fn next(&mut self, cancel: &CancellationToken) -> bool {
        tokio::select! {
            () = cancel.cancelled() => false,
            _ = self.0.tick() => true,
        }
    }
}

/// Looks at the crons every second and starts what is due, one job at a time.
async fn schedule_loop(server: Arc<Server>) {
    let mut seconds = Seconds::new();
    while seconds.next(&server.cancel).await {
        let due = server
            .scheduler
            .lock()
            .ok()
            .and_then(|mut s| s.tick(chrono::Local::now()));
        if let Some(kind) = due {
            tokio::spawn(run_scheduled(server.clone(), kind));
        }
    }
}

/// Runs a job the scheduler started, then whatever waited behind it.
async fn run_scheduled(server: Arc<Server>, first: JobKind) {
    let mut kind = Some(first);
    while let Some(k) = kind {
        tracing::info!(job = k.as_str(), "scheduled job starts");
        let outcome = match k {
            JobKind::Import => server
                .import(ImportOptions::default(), Priority::Low)
                .await
                .map(|(_, r)| format!("{r:?}")),
            JobKind::Merge => server
                .merge(MergeOptions::default(), Priority::Low)
                .await
                .map(|r| format!("generation {}", r.generation)),
        };
        match outcome {
            Ok(_) => tracing::info!(job = k.as_str(), "scheduled job done"),
            Err(e) => tracing::error!(job = k.as_str(), "scheduled job failed: {e:#}"),
        }
        kind = server.scheduler.lock().ok().and_then(|mut s| s.finished(k));
    }
}

/// Builds the directory from the generation the store points to.
pub async fn load_directory(home: &Home, config: &Config) -> Result<Directory> {
    let home = home.clone();
    let base_dn = config.ldap.base_dn.clone();
    let rules = config.matching.clone();
    let books = crate::ucm::book_specs(config);
    let (dir, problems) = tokio::task::spawn_blocking(move || {
        crate::ucm::load_directory(&home, &base_dn, &rules)
            .map(|(dir, problems)| (dir.with_books(&books), problems))
    })
    .await
    .map_err(|e| eyre!("loading the directory failed: {e}"))??;
    for p in problems {
        tracing::warn!("{p}; serving the newest complete generation instead");
    }
    Ok(dir)
}

fn bind_control(home: &Home) -> Result<UnixListener> {
    let path = home.socket();
    // The pid file lock is held: any socket file left here belongs to a dead server.
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path)
        .wrap_err_with(|| format!("cannot create the control socket {}", path.display()))?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
        .wrap_err_with(|| format!("cannot restrict {} to mode 0600", path.display()))?;
    Ok(listener)
}

async fn control_loop(listener: UnixListener, server: Arc<Server>) {
    loop {
        let accepted = tokio::select! {
            () = server.cancel.cancelled() => return,
            a = listener.accept() => a,
        };
        match accepted {
            Ok((stream, _)) => {
                tokio::spawn(control_connection(stream, server.clone()));
            }
            Err(e) => {
                tracing::warn!("control socket accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

async fn control_connection(stream: UnixStream, server: Arc<Server>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let reply = match serde_json::from_str::<Request>(&line) {
            Ok(request) => server.handle(request).await,
            Err(e) => Reply::Error {
                message: format!("unknown request {line:?}: {e}"),
            },
        };
        let mut text = serde_json::to_string(&reply).unwrap_or_default();
        text.push('\n');
        if write.write_all(text.as_bytes()).await.is_err() {
            return;
        }
    }
}

async fn signals(server: Arc<Server>) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int), Ok(mut hup)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::hangup()),
    ) else {
        tracing::warn!("cannot install signal handlers");
        return;
    };
    loop {
        tokio::select! {
            () = server.cancel.cancelled() => return,
            _ = term.recv() => server.cancel.cancel(),
            _ = int.recv() => server.cancel.cancel(),
            _ = hup.recv() => {
                // SIGHUP reloads the served generation, as daemons do.
                let reply = server.handle(Request::Reload).await;
                tracing::info!(?reply, "SIGHUP");
            }
        }
    }
}

/// Writes access log lines from a queue, so answering never waits on the disk.
async fn access_log_writer(
    home: &Home,
    tracker: &TaskTracker,
    cancel: CancellationToken,
) -> Result<mpsc::Sender<String>> {
    let path = home.access_log();
    let file = tokio::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .await
        .wrap_err_with(|| format!("cannot open the access log {}", path.display()))?;
    let (tx, mut rx) = mpsc::channel::<String>(8192);
    tracker.spawn(async move {
        let mut out = tokio::io::BufWriter::new(file);
        // Whether the last line failed: a full disk is said once, not per line.
        let mut failing = false;
        loop {
            let line = tokio::select! {
                l = rx.recv() => l,
                () = cancel.cancelled() => None,
            };
            let Some(line) = line else { break };
            let stamp = chrono::Local::now()
                .format("%Y-%m-%dT%H:%M:%S%.3f%:z")
                .to_string();
            let ok = out.write_all(stamp.as_bytes()).await.is_ok()
                && out.write_all(b" ").await.is_ok()
                && out.write_all(line.as_bytes()).await.is_ok()
                && out.write_all(b"\n").await.is_ok();
            if !ok {
                crate::logs::count_access_dropped();
                if !failing {
                    tracing::warn!(
                        "cannot write the access log (disk full?); lines are dropped and \
                         counted in `sop server status`"
                    );
                }
            } else if failing {
                tracing::info!("the access log is written again");
            }
            failing = !ok;
            if rx.is_empty() {
                let _ = out.flush().await;
            }
        }
        let _ = out.flush().await;
    });
    Ok(tx)
}

impl Server {
    async fn handle(&self, request: Request) -> Reply {
        match request {
            Request::Status => Reply::Status(self.status().await),
            Request::Sync => match self.sync().await {
                Ok(changes) => Reply::Synced { changes },
                Err(e) => Reply::Error {
                    message: format!("{e:#}; nothing was changed"),
                },
            },
            Request::Shutdown => {
                self.cancel.cancel();
                Reply::Ok
            }
            Request::Reload => {
                let _one_at_a_time = self.reloading.lock().await;
                match self.swap().await {
                    Ok((generation, contacts)) => Reply::Reloaded {
                        generation,
                        contacts,
                    },
                    Err(e) => Reply::Error {
                        message: format!("{e:#}; the previous generation keeps serving"),
                    },
                }
            }
            Request::Merge { force } => {
                match self.merge(MergeOptions { force }, Priority::Asked).await {
                    Ok(report) => Reply::Merged(report),
                    Err(e) => Reply::Error {
                        message: self.home.explain_failure(format!(
                            "{e:#}; the previous generation keeps serving"
                        )),
                    },
                }
            }
            Request::Cancel => {
                if self.progress.get().stage.is_empty() {
                    Reply::Error {
                        message: "no job is running".to_string(),
                    }
                } else {
                    self.progress.cancel();
                    Reply::Ok
                }
            }
            Request::Search { filter, limit } => {
                let dir = self.directory.borrow().clone();
                match crate::directory::lookup::find(&dir, &filter, limit.min(10_000)) {
                    Ok(found) => Reply::Found(found),
                    Err(message) => Reply::Error { message },
                }
            }
            Request::Browse {
                filter,
                sort,
                from,
                limit,
            } => {
                let dir = self.directory.borrow().clone();
                // Sorting a large phone book the first time takes a while: off the
                // thread that answers the other requests.
                let browsed = tokio::task::spawn_blocking(move || {
                    crate::directory::lookup::browse(&dir, &filter, &sort, &from, limit.min(10_000))
                })
                .await;
                match browsed {
                    Ok(Ok(found)) => Reply::Found(found),
                    Ok(Err(message)) => Reply::Error { message },
                    Err(e) => Reply::Error {
                        message: format!("the browse failed: {e}"),
                    },
                }
            }
            Request::SyncSource { name } => match self.sync_source(&name, Priority::Asked).await {
                Ok((job, report, merged)) => Reply::SourceSynced {
                    job,
                    report,
                    merged,
                },
                Err(e) => Reply::Error {
                    message: self.home.explain_failure(format!("{e:#}")),
                },
            },
            Request::Import { dry_run, force } => {
                match self
                    .import(ImportOptions { dry_run, force }, Priority::Asked)
                    .await
                {
                    Ok((job, report)) => Reply::Imported { job, report },
                    Err(e) => Reply::Error {
                        message: self.home.explain_failure(format!("{e:#}")),
                    },
                }
            }
        }
    }

    /// Pushes a new import to the cluster's nodes in the background, when
    /// `[cluster] push_after_import` says so.
    async fn push_after_import(&self) {
        let config = self.state.lock().await.config.clone();
        let home = self.home.clone();
        self.tracker.spawn(async move {
            crate::cluster::push::after_import(&home, &config).await;
        });
    }

    /// Imports the external contacts (after any job running now).
    async fn import(
        &self,
        options: ImportOptions,
        priority: Priority,
    ) -> Result<(i64, ImportReport)> {
        let _one_job = self.job.lock().await;
        self.progress.reset();
        let home = self.home.clone();
        let config = self.state.lock().await.config.clone();
        let progress = self.progress.clone();
        let done = background::run("import", priority, move || {
            crate::ucm::import::run_job(&home, &config, options, &progress)
        })
        .await
        .and_then(|r| r);
        self.progress.set("", 0, 0);
        if let Ok((_, r)) = &done {
            if r.applied() {
                self.push_after_import().await;
            }
            tracing::info!(
                parsed = r.parsed,
                added = r.changes.added,
                updated = r.changes.updated,
                removed = r.changes.removed,
                held = ?r.held,
                "imported"
            );
        }
        done
    }

    /// Merges every source, publishes and serves the new generation (after any
    /// job running now).
    async fn merge(&self, options: MergeOptions, priority: Priority) -> Result<MergeReport> {
        let _one_job = self.job.lock().await;
        self.progress.reset();
        let _one_at_a_time = self.reloading.lock().await;
        let home = self.home.clone();
        let config = self.state.lock().await.config.clone();
        self.progress.set("merging", 0, 0);
        let served = self.directory.borrow().clone();
        let merged = background::run("merge", priority, move || {
            let (report, dir) =
                crate::ucm::merge_and_build(&home, &config, options, Some(&served))?;
            let books = crate::ucm::book_specs(&config);
            Ok((report, dir.map(|d| d.with_books(&books))))
        })
        .await
        .and_then(|r| r);
        self.progress.set("", 0, 0);
        let (report, dir) = merged.inspect_err(|e| {
            tracing::error!("merge failed, the previous generation keeps serving: {e:#}");
        })?;
        // A rollback holds: what is served stays.
        let Some(dir) = dir else {
            return Ok(report);
        };
        tracing::info!(
            generation = report.generation,
            contacts = report.contacts,
            added = report.changes.added,
            updated = report.changes.updated,
            removed = report.changes.removed,
            "merged"
        );
        retire(self.directory.send_replace(Arc::new(dir)));
        self.save_image();
        Ok(report)
    }

    /// Saves the image of the directory now served, in the background, so that the
    /// next start reads it instead of building it (see `ucm::save_image`).
    fn save_image(&self) {
        let dir = self.directory.borrow().clone();
        let home = self.home.clone();
        self.tracker.spawn(async move {
            let saved = background::run("image", Priority::Idle, move || {
                crate::ucm::save_image(&home, &dir)
            });
            match saved.await.and_then(|r| r) {
                Ok(Some(path)) => tracing::info!("saved {}", path.display()),
                Ok(None) => {}
                Err(e) => tracing::warn!("{e:#}"),
            }
        });
    }

    /// Builds the directory from the current generation and serves it. Connections
    /// pick it up at their next request; searches under way finish on the one they
    /// started with; paged searches parked on the old one end (their cookies are
    /// refused), so that no connection keeps an old generation in memory.
    async fn swap(&self) -> Result<(u64, usize)> {
        let config = self.state.lock().await.config.clone();
        self.swap_with(&config).await
    }

    async fn swap_with(&self, config: &Config) -> Result<(u64, usize)> {
        let started = Instant::now();
        let dir = load_directory(&self.home, config).await.inspect_err(|e| {
            tracing::error!("reload failed, the previous generation keeps serving: {e:#}");
        })?;
        self.load_ms
            .store(started.elapsed().as_millis() as u64, Ordering::Relaxed);
        let (generation, contacts) = (dir.generation(), dir.len());
        retire(self.directory.send_replace(Arc::new(dir)));
        self.save_image();
        tracing::info!(generation, contacts, "now serving a new generation");
        Ok((generation, contacts))
    }

    /// Sync bundles: reads config.toml again, starts the bundles of newly
    /// installed modules, stops those of removed ones and applies changed settings,
    /// without a restart and without dropping the LDAP clients that stay. A config
    /// that does not load, or a listener that cannot be bound, changes nothing.
    async fn sync(&self) -> Result<Vec<String>> {
        let new = Config::load(&self.home.config_file())?;
        let mut guard = self.state.lock().await;
        let state = &mut *guard;
        let mut changes = Vec::new();
        let catalog = Catalog::builtin();
        let name = |id: &str| catalog.find(id).map_or(id.to_string(), |m| m.name.clone());
        for id in new.modules.difference(&state.config.modules) {
            changes.push(format!("{} installed", name(id)));
        }
        for id in state.config.modules.difference(&new.modules) {
            changes.push(format!("{} removed", name(id)));
        }
        let rebuild = new.ldap.base_dn != state.config.ldap.base_dn
            || new.matching != state.config.matching
            || new.phonebooks != state.config.phonebooks;
        let wants_ldap = new.modules.contains(LDAP_MODULE);
        match (state.ldap.as_mut(), wants_ldap) {
            (Some(bundle), true) => {
                changes.extend(bundle.apply(&self.home, &state.config, &new).await?)
            }
            (Some(bundle), false) => {
                bundle.stop();
                state.ldap = None;
                changes.push("LDAP listeners stopped".to_string());
            }
            (None, true) => {
                let bundle = ldap_bundle::LdapBundle::start(
                    &self.home,
                    &new,
                    self.directory.subscribe(),
                    self.access.clone(),
                    &self.cancel,
                    self.tracker.clone(),
                )
                .await?;
                let listening: Vec<String> = bundle
                    .addresses(false)
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                changes.push(format!("LDAP listening on {}", listening.join(", ")));
                state.ldap = Some(bundle);
            }
            (None, false) => {}
        }
        if new.node != state.config.node {
            changes.push("node settings applied".to_string());
        }
        if let Ok(mut s) = self.scheduler.lock() {
            s.reschedule(&schedule_specs(&new), chrono::Local::now());
        }
        state.config = new.clone();
        drop(guard);
        if rebuild {
            let _one_at_a_time = self.reloading.lock().await;
            let (generation, contacts) = self.swap_with(&new).await?;
            changes.push(format!(
                "generation {generation} rebuilt for the new base DN, number rules or phone books ({contacts} contacts)"
            ));
        }
        tracing::info!(?changes, "bundles synced");
        Ok(changes)
    }

    async fn status(&self) -> Status {
        let dir = self.directory.borrow().clone();
        let state = self.state.lock().await;
        let ldap = state.ldap.as_ref();
        let addresses = |ldaps| -> Vec<String> {
            ldap.map(|l| l.addresses(ldaps).iter().map(ToString::to_string).collect())
                .unwrap_or_default()
        };
        let catalog = Catalog::builtin();
        let bundles = catalog
            .modules()
            .iter()
            .flat_map(|m| {
                let installed = state.config.modules.contains(&m.id);
                m.bundles.iter().map(move |b| BundleStatus {
                    name: b.clone(),
                    module: m.id.clone(),
                    state: match (installed, b.as_str()) {
                        (false, _) => "not installed",
                        (true, "ldap") if ldap.is_none() => "stopped",
                        (true, _) => "running",
                    }
                    .to_string(),
                })
            })
            .collect();
        Status {
            node: state.config.node.name.clone(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            pid: std::process::id(),
            started: self
                .started
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or_default(),
            uptime_secs: self.started_at.elapsed().as_secs(),
            listen: addresses(false),
            ldaps_listen: addresses(true),
            base_dn: state.config.ldap.base_dn.clone(),
            generation: dir.generation(),
            generation_load_ms: self.load_ms.load(Ordering::Relaxed),
            contacts: dir.len(),
            connections: ldap.map(|l| l.connections()).unwrap_or_default(),
            bundles,
            jobs: self.scheduler.lock().map(|s| s.view()).unwrap_or_default(),
            progress: self.progress.get(),
            log_lines_dropped: crate::logs::server_dropped(),
            access_lines_dropped: crate::logs::access_dropped(),
            phonebooks: state
                .config
                .phonebooks
                .iter()
                .map(|b| crate::control::PhonebookStatus {
                    name: b.name.clone(),
                    base_dn: b.base_dn.clone(),
                    contacts: dir.book(&b.name).map_or(0, |d| d.len()),
                    bind_dn: b.bind_dn.clone(),
                })
                .collect(),
        }
    }
}

/// Frees a directory no longer served away from the tasks that answer phones: a
/// million contacts take a while to free.
fn retire(old: Arc<Directory>) {
    if Arc::strong_count(&old) == 1 {
        tokio::task::spawn_blocking(move || drop(old));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn root_is_refused_a_port_below_1024_with_the_commands_to_use() {
        let home = Home::new("/var/lib/sop");
        let mut config = Config::defaults();
        config.ldap.listen = vec!["0.0.0.0:389".parse().unwrap()];
        let refused = as_root(&home, &config, true).unwrap();
        assert!(refused.contains("0.0.0.0:389"), "{refused}");
        assert!(refused.contains("systemctl start sop"), "{refused}");
        assert!(
            refused.contains("runuser -u sop -- sop --home /var/lib/sop server start"),
            "{refused}"
        );
        assert_eq!(as_root(&home, &config, false), None);
        config.ldap.listen = vec!["0.0.0.0:3389".parse().unwrap()];
        assert_eq!(as_root(&home, &config, true), None, "a high port");
        config.ldap.tls.ldaps_listen = vec!["[::]:636".parse().unwrap()];
        assert!(as_root(&home, &config, true).is_some(), "LDAPS on 636");
    }
}
