//! The application server: the LDAP listeners, the served directory and the control
//! socket, in one process that one `Server` value owns.

pub mod control;
pub mod daemon;
pub mod pidfile;

use crate::config::Config;
use crate::directory::Directory;
use crate::home::Home;
use crate::ldap::connection::Shared;
use crate::ldap::listener::{self, Limiter};
use crate::ldap::policy::Policy;
use color_eyre::eyre::{Result, WrapErr, eyre};
use control::{Reply, Request, Status};
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, UnixListener, UnixStream};
use tokio::sync::{Mutex, mpsc, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long connections get to finish when the server stops.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

pub struct Server {
    home: Home,
    config: Config,
    started: SystemTime,
    started_at: Instant,
    listen: Vec<SocketAddr>,
    ldaps_listen: Vec<SocketAddr>,
    directory: watch::Sender<Arc<Directory>>,
    limiter: Arc<Limiter>,
    /// Serialises reloads: two merges finishing together publish in order.
    reloading: Mutex<()>,
    /// How long building the served generation took, in milliseconds.
    load_ms: AtomicU64,
    cancel: CancellationToken,
}

/// Runs the application server in the foreground until SIGTERM, SIGINT or a
/// shutdown request.
pub async fn run(home: Home) -> Result<()> {
    home.ensure()
        .wrap_err_with(|| format!("cannot set up the node's home {}", home.root().display()))?;
    let config = Config::load(&home.config_file())?;
    let (_pid, stale) = pidfile::PidFile::acquire(&home.pid_file())?;
    if let Some(old) = stale {
        tracing::warn!("replaced a stale pid file left by pid {old}");
    }

    // Bind everything first, so that a port in use is reported before any work.
    let mut plain = Vec::new();
    for addr in &config.ldap.listen {
        plain.push(bind(*addr).await?);
    }
    let mut secure = Vec::new();
    for addr in &config.ldap.tls.ldaps_listen {
        secure.push(bind(*addr).await?);
    }
    let tls = if config.ldap.tls.enabled() {
        let (Some(cert), Some(key)) = (&config.ldap.tls.certificate, &config.ldap.tls.key) else {
            return Err(eyre!(
                "TLS is on but [ldap.tls] certificate or key is empty"
            ));
        };
        Some(crate::ldap::tls::acceptor(
            &home.path(cert),
            &home.path(key),
        )?)
    } else {
        None
    };
    let password = read_bind_password(&home, &config)?;
    let policy = Arc::new(Policy::new(&config, password));

    let load_started = Instant::now();
    let loaded = load_directory(&home, &config).await?;
    let load_ms = load_started.elapsed().as_millis() as u64;
    tracing::info!(
        generation = loaded.generation(),
        contacts = loaded.len(),
        load_ms,
        "serving the phone book"
    );
    let (directory, directory_rx) = watch::channel(Arc::new(loaded));
    let (_policy_tx, policy_rx) = watch::channel(policy);

    let cancel = CancellationToken::new();
    let tracker = TaskTracker::new();
    let access = if config.ldap.access_log {
        Some(access_log_writer(&home, &tracker, cancel.clone()).await?)
    } else {
        None
    };
    let limits = &config.ldap.limits;
    let shared = Arc::new(Shared {
        directory: directory_rx,
        policy: policy_rx,
        max_request_bytes: limits.max_request_bytes,
        idle_timeout: limits.idle_timeout,
        tls,
        access,
        cancel: cancel.clone(),
    });
    let limiter = Limiter::new(limits.max_connections, limits.max_connections_per_client);
    let listen = local_addrs(&plain);
    let ldaps_listen = local_addrs(&secure);
    for (listener, ldaps) in plain
        .into_iter()
        .map(|l| (l, false))
        .chain(secure.into_iter().map(|l| (l, true)))
    {
        tracker.spawn(listener::accept_loop(
            listener,
            ldaps,
            shared.clone(),
            limiter.clone(),
            tracker.clone(),
        ));
    }

    let server = Arc::new(Server {
        home: home.clone(),
        config,
        started: SystemTime::now(),
        started_at: Instant::now(),
        listen,
        ldaps_listen,
        directory,
        limiter,
        reloading: Mutex::new(()),
        load_ms: AtomicU64::new(load_ms),
        cancel: cancel.clone(),
    });
    let control = bind_control(&home)?;
    tracker.spawn(control_loop(control, server.clone()));
    tracker.spawn(signals(server.clone()));
    tracing::info!(
        listen = ?server.listen,
        ldaps = ?server.ldaps_listen,
        pid = std::process::id(),
        "application server started"
    );

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

async fn bind(addr: SocketAddr) -> Result<TcpListener> {
    TcpListener::bind(addr).await.map_err(|e| {
        let hint = match e.kind() {
            std::io::ErrorKind::AddrInUse => format!(
                "another program already listens there (see: ss -ltnp 'sport = :{}'); \
                 stop it or change [ldap] listen",
                addr.port()
            ),
            std::io::ErrorKind::PermissionDenied if addr.port() < 1024 => {
                "ports below 1024 need CAP_NET_BIND_SERVICE (the systemd unit from install.sh \
                 grants it), or choose a port above 1023 in [ldap] listen"
                    .to_string()
            }
            std::io::ErrorKind::AddrNotAvailable => {
                "this machine has no such address; check [ldap] listen".to_string()
            }
            _ => "check [ldap] listen".to_string(),
        };
        eyre!("cannot listen on {addr}: {e}; {hint}")
    })
}

fn local_addrs(listeners: &[TcpListener]) -> Vec<SocketAddr> {
    listeners
        .iter()
        .filter_map(|l| l.local_addr().ok())
        .collect()
}

fn read_bind_password(home: &Home, config: &Config) -> Result<Option<String>> {
    if config.ldap.bind != crate::config::BindPolicy::Credentials {
        return Ok(None);
    }
    let path = home.path(&config.ldap.bind_password_file);
    let text = std::fs::read_to_string(&path).wrap_err_with(|| {
        format!(
            "bind = \"credentials\" needs the password in {} ([ldap] bind_password_file)",
            path.display()
        )
    })?;
    let password = text.trim_end_matches(['\r', '\n']).to_string();
    if password.is_empty() {
        return Err(eyre!(
            "{} is empty ([ldap] bind_password_file)",
            path.display()
        ));
    }
    Ok(Some(password))
}

/// Builds the directory from the generation the store points to.
pub async fn load_directory(home: &Home, config: &Config) -> Result<Directory> {
    let home = home.clone();
    let base_dn = config.ldap.base_dn.clone();
    let rules = config.numbers.clone();
    let (dir, problems) =
        tokio::task::spawn_blocking(move || crate::ucm::load_directory(&home, &base_dn, &rules))
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
                tracing::warn!("cannot write the access log (disk full?); lines are dropped");
            }
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
            Request::Status => Reply::Status(self.status()),
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
            Request::Merge => {
                let _one_at_a_time = self.reloading.lock().await;
                let home = self.home.clone();
                let merged = tokio::task::spawn_blocking(move || crate::ucm::merge(&home))
                    .await
                    .map_err(|e| eyre!("the merge stopped: {e}"))
                    .and_then(|r| r);
                let report = match merged {
                    Ok(report) => report,
                    Err(e) => {
                        tracing::error!(
                            "merge failed, the previous generation keeps serving: {e:#}"
                        );
                        return Reply::Error {
                            message: format!("{e:#}; the previous generation keeps serving"),
                        };
                    }
                };
                tracing::info!(
                    generation = report.generation,
                    contacts = report.contacts,
                    added = report.changes.added,
                    updated = report.changes.updated,
                    removed = report.changes.removed,
                    "merged"
                );
                match self.swap().await {
                    Ok(_) => Reply::Merged(report),
                    Err(e) => Reply::Error {
                        message: format!(
                            "generation {} was published but cannot be served: {e:#}",
                            report.generation
                        ),
                    },
                }
            }
        }
    }

    /// Builds the directory from the current generation and serves it. Connections
    /// pick it up at their next request; searches under way finish on the one they
    /// started with, and paged searches keep theirs to the last page.
    async fn swap(&self) -> Result<(u64, usize)> {
        let started = Instant::now();
        let dir = load_directory(&self.home, &self.config)
            .await
            .inspect_err(|e| {
                tracing::error!("reload failed, the previous generation keeps serving: {e:#}");
            })?;
        self.load_ms
            .store(started.elapsed().as_millis() as u64, Ordering::Relaxed);
        let (generation, contacts) = (dir.generation(), dir.len());
        self.directory.send_replace(Arc::new(dir));
        tracing::info!(generation, contacts, "now serving a new generation");
        Ok((generation, contacts))
    }

    fn status(&self) -> Status {
        let dir = self.directory.borrow().clone();
        Status {
            node: self.config.node.name.clone(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            pid: std::process::id(),
            started: self
                .started
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or_default(),
            uptime_secs: self.started_at.elapsed().as_secs(),
            listen: self.listen.iter().map(ToString::to_string).collect(),
            ldaps_listen: self.ldaps_listen.iter().map(ToString::to_string).collect(),
            base_dn: self.config.ldap.base_dn.clone(),
            generation: dir.generation(),
            generation_load_ms: self.load_ms.load(Ordering::Relaxed),
            contacts: dir.len(),
            connections: self.limiter.open(),
        }
    }
}
