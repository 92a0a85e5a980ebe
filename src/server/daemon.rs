//! Starting the application server detached, stopping it, and asking its status:
//! what `sop server start|stop|status` and the shell's Application Server menu do.

use crate::config::Config;
use crate::control::{self, CallError, Reply, Request, Status};
use crate::home::Home;
use crate::server::pidfile;
use color_eyre::eyre::{Result, WrapErr, eyre};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The allocator keeps freed memory for 2 s before it gives it back to the system
/// (as `assets/sop.service` sets it too): an import followed by a merge, or merges
/// one after the other, reuse it instead of having the kernel clear fresh pages.
const PURGE_DELAY: (&str, &str) = ("MIMALLOC_PURGE_DELAY", "2000");

/// How long a control request may take before the server counts as hung.
pub const CONTROL_TIMEOUT: Duration = Duration::from_secs(5);
/// How long `start` waits for the LDAP listener to answer.
const START_TIMEOUT: Duration = Duration::from_secs(60);
const STOP_TIMEOUT: Duration = Duration::from_secs(15);

/// The server's status, or `None` when it is not running.
pub async fn status(home: &Home) -> Result<Option<Status>, CallError> {
    match control::call(&home.socket(), &Request::Status, CONTROL_TIMEOUT).await {
        Ok(Reply::Status(s)) => Ok(Some(s)),
        Ok(other) => Err(CallError::BadReply(
            home.socket().display().to_string(),
            format!("{other:?}"),
        )),
        Err(CallError::NotRunning(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Starts `sop server run` detached and returns once its LDAP listener answers.
pub async fn start(home: &Home) -> Result<Status> {
    home.ensure(crate::config::TEMPLATE)
        .wrap_err_with(|| format!("cannot set up the node's home {}", home.root().display()))?;
    // Refuse a bad config here, with its message, rather than in a log.
    let config = Config::load(&home.config_file())?;
    if let Some(refused) = super::as_root(home, &config, nix::unistd::geteuid().is_root()) {
        return Err(eyre!(refused));
    }
    if let Some(s) = status(home).await? {
        return Err(eyre!(
            "the application server is already running (pid {}, up {} s)",
            s.pid,
            s.uptime_secs
        ));
    }
    let log_path = home.server_log();
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .wrap_err_with(|| format!("cannot open {}", log_path.display()))?;
    let log_offset = log.metadata().map(|m| m.len()).unwrap_or(0);
    let exe = std::env::current_exe().wrap_err("cannot find the sop binary")?;
    let mut command = Command::new(exe);
    if std::env::var_os(PURGE_DELAY.0).is_none() {
        command.env(PURGE_DELAY.0, PURGE_DELAY.1);
    }
    let mut child = command
        .arg("--home")
        .arg(home.root())
        .args(["server", "run"])
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .process_group(0)
        .spawn()
        .wrap_err("cannot start the application server")?;

    let started = Instant::now();
    loop {
        if let Some(exit) = child.try_wait()? {
            return Err(eyre!(
                "the application server stopped at once ({exit}):\n{}\n(log: {})",
                log_since(&log_path, log_offset),
                log_path.display()
            ));
        }
        if let Ok(Some(s)) = status(home).await {
            // Without the LDAP Server module there is no listener to wait for.
            if !config.modules.contains("ldap-server") || ldap_answers(&config, &s).await {
                // A long-lived caller (the shell) reaps the server when it stops,
                // so that no zombie is left and `stop` sees it gone.
                std::thread::spawn(move || child.wait());
                return Ok(s);
            }
        }
        if started.elapsed() > START_TIMEOUT {
            return Err(eyre!(
                "the application server did not answer within {} s (pid {}); see {}",
                START_TIMEOUT.as_secs(),
                child.id(),
                log_path.display()
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Sync bundles on the running server; returns what changed.
pub async fn sync(home: &Home) -> Result<Vec<String>> {
    // Refuse a bad config here, with its message.
    Config::load(&home.config_file())?;
    match control::call(&home.socket(), &Request::Sync, SYNC_TIMEOUT).await? {
        Reply::Synced { changes } => Ok(changes),
        Reply::Error { message } => Err(eyre!(message)),
        other => Err(eyre!("unexpected reply {other:?}")),
    }
}

/// Sync may rebuild the served generation.
const SYNC_TIMEOUT: Duration = Duration::from_secs(120);

/// Does a TCP connection to the first LDAP listener succeed?
async fn ldap_answers(config: &Config, status: &Status) -> bool {
    let Some(addr) = status
        .listen
        .first()
        .or(status.ldaps_listen.first())
        .and_then(|a| a.parse::<SocketAddr>().ok())
        .or(config.ldap.listen.first().copied())
    else {
        return false;
    };
    let target = reachable(addr);
    matches!(
        tokio::time::timeout(
            Duration::from_secs(1),
            tokio::net::TcpStream::connect(target)
        )
        .await,
        Ok(Ok(_))
    )
}

/// A wildcard listen address is reached through loopback.
pub fn reachable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv4Addr::LOCALHOST.into(), addr.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv6Addr::LOCALHOST.into(), addr.port())
        }
        _ => addr,
    }
}

fn log_since(path: &std::path::Path, offset: u64) -> String {
    let text = std::fs::read(path).unwrap_or_default();
    let tail = text.get(offset as usize..).unwrap_or_default();
    let text = String::from_utf8_lossy(tail);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}

/// What `stop` found.
#[derive(Debug, PartialEq, Eq)]
pub enum Stopped {
    Stopped {
        pid: u32,
    },
    NotRunning,
    /// Not running; the pid file a killed server left (naming this pid, which may
    /// be another process by now) was removed.
    StalePidFile {
        pid: String,
    },
}

/// Asks the server to stop and waits until its process is gone. A server that does
/// not answer on its socket gets SIGTERM, only when its pid file shows that the pid
/// is this home's server (see `pidfile::holder`); a stale pid file is removed.
pub async fn stop(home: &Home) -> Result<Stopped> {
    let pid = match control::call(&home.socket(), &Request::Status, CONTROL_TIMEOUT).await {
        Ok(Reply::Status(s)) => {
            control::call(&home.socket(), &Request::Shutdown, CONTROL_TIMEOUT).await?;
            s.pid as i32
        }
        Ok(other) => return Err(eyre!("unexpected reply from the server: {other:?}")),
        Err(CallError::Io(path, e)) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            return Err(eyre!(
                "permission denied: cannot open the control socket {path}; run this as the \
                 user the server runs as (the owner of {})",
                home.root().display()
            ));
        }
        Err(e) => match pidfile::holder(&home.pid_file(), home.root()) {
            Ok(pidfile::Holder::Server(pid)) => {
                tracing::warn!("{e}; sending SIGTERM to pid {pid}");
                nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGTERM,
                )
                .wrap_err_with(|| format!("cannot signal pid {pid}"))?;
                pid
            }
            Ok(pidfile::Holder::Stale(pid)) => {
                let path = home.pid_file();
                std::fs::remove_file(&path)
                    .wrap_err_with(|| format!("cannot remove the stale {}", path.display()))?;
                return Ok(Stopped::StalePidFile { pid });
            }
            Ok(pidfile::Holder::Nobody) => return Ok(Stopped::NotRunning),
            Err(pidfile::PidError::Io { path, source })
                if source.kind() == std::io::ErrorKind::PermissionDenied =>
            {
                return Err(eyre!(
                    "permission denied: cannot read {path}; run this as the user the server \
                     runs as"
                ));
            }
            Err(p) => return Err(eyre!("{e}; {p}")),
        },
    };
    let started = Instant::now();
    while nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok() {
        if started.elapsed() > STOP_TIMEOUT {
            return Err(eyre!(
                "pid {pid} is still running {} s after the stop request; `kill -9 {pid}` ends it \
                 (the last complete generation serves after a restart)",
                STOP_TIMEOUT.as_secs()
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(Stopped::Stopped { pid: pid as u32 })
}
