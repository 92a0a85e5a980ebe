//! The LDAP Server module's bundle: its listeners, the policy and certificate its
//! connections read, and the connection limits. Started, changed and stopped by
//! `sop server sync` without touching the connections that stay.

use crate::config::Config;
use crate::directory::Directory;
use crate::home::Home;
use crate::ldap::connection::Shared;
use crate::ldap::limiter::Limiter;
use crate::ldap::listener;
use crate::ldap::policy::Policy;
use crate::ldap::slow_lane::SlowLane;
use color_eyre::eyre::{Result, WrapErr, eyre};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

struct Listening {
    /// As configured (the bound address may differ for port 0).
    configured: SocketAddr,
    bound: SocketAddr,
    ldaps: bool,
    stop: CancellationToken,
}

pub struct LdapBundle {
    listening: Vec<Listening>,
    policy: watch::Sender<Arc<Policy>>,
    tls: watch::Sender<Option<TlsAcceptor>>,
    shared: Arc<Shared>,
    limiter: Arc<Limiter>,
    tracker: TaskTracker,
    /// Cancels the bundle's listeners and connections.
    stop: CancellationToken,
}

/// What the LDAP settings of a config make: the policy and the TLS acceptor.
/// Everything is read and checked before anything changes.
fn prepare(home: &Home, config: &Config) -> Result<(Arc<Policy>, Option<TlsAcceptor>)> {
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
    let password = read_bind_password(home, config)?;
    let mut books = std::collections::HashMap::new();
    for b in config.phonebooks.iter().filter(|b| !b.bind_dn.is_empty()) {
        let what = format!(
            "[[phonebooks]] {}: bind_dn needs the password in that file (password_file)",
            b.name
        );
        books.insert(
            b.name.clone(),
            read_password(&home.path(&b.password_file), &what)?,
        );
    }
    let policy = Policy::new(config, password).with_books(config, |name| books.get(name).cloned());
    Ok((Arc::new(policy), tls))
}

impl LdapBundle {
    /// Binds every listener (a port in use fails the start with nothing started)
    /// and serves `directory`.
    pub async fn start(
        home: &Home,
        config: &Config,
        directory: watch::Receiver<Arc<Directory>>,
        access: mpsc::Sender<String>,
        server_stop: &CancellationToken,
        tracker: TaskTracker,
    ) -> Result<LdapBundle> {
        let (policy, tls) = prepare(home, config)?;
        let mut bound = Vec::new();
        for addr in &config.ldap.listen {
            bound.push((*addr, bind(*addr)?, false));
        }
        for addr in &config.ldap.tls.ldaps_listen {
            bound.push((*addr, bind(*addr)?, true));
        }
        let stop = server_stop.child_token();
        let (policy_tx, policy_rx) = watch::channel(policy);
        let (tls_tx, tls_rx) = watch::channel(tls);
        let limits = &config.ldap.limits;
        let mut bundle = LdapBundle {
            listening: Vec::new(),
            policy: policy_tx,
            tls: tls_tx,
            shared: Arc::new(Shared {
                directory,
                policy: policy_rx,
                tls: tls_rx,
                access: Some(access),
                cancel: stop.clone(),
                notices: crate::logs::PerClient::new(
                    crate::ldap::connection::NOTICE_EVERY,
                    crate::ldap::connection::NOTICE_CLIENTS,
                ),
                refusals: crate::logs::PerClient::new(
                    crate::ldap::connection::NOTICE_EVERY,
                    crate::ldap::connection::NOTICE_CLIENTS,
                ),
                evictions: crate::logs::PerClient::new(
                    crate::ldap::connection::NOTICE_EVERY,
                    crate::ldap::connection::NOTICE_CLIENTS,
                ),
                slow_lane: SlowLane::start()
                    .wrap_err("cannot start the thread that answers sorted searches")?,
            }),
            limiter: Limiter::new(
                max_connections(limits.max_connections),
                limits.max_connections_per_address,
            ),
            tracker,
            stop,
        };
        for (configured, listener, ldaps) in bound {
            bundle.serve(configured, listener, ldaps);
        }
        Ok(bundle)
    }

    fn serve(&mut self, configured: SocketAddr, listener: TcpListener, ldaps: bool) {
        let bound = listener.local_addr().unwrap_or(configured);
        let stop = self.stop.child_token();
        self.tracker.spawn(listener::accept_loop(
            listener,
            ldaps,
            self.shared.clone(),
            self.limiter.clone(),
            self.tracker.clone(),
            stop.clone(),
        ));
        self.listening.push(Listening {
            configured,
            bound,
            ldaps,
            stop,
        });
    }

    /// Applies changed settings: new listeners are bound first (a failure changes
    /// nothing), listeners no longer configured stop accepting (their open
    /// connections stay), and the policy, certificate and limits apply from the
    /// next request. Returns what changed, for the admin.
    pub async fn apply(&mut self, home: &Home, old: &Config, new: &Config) -> Result<Vec<String>> {
        let (policy, tls) = prepare(home, new)?;
        let wanted: Vec<(SocketAddr, bool)> = new
            .ldap
            .listen
            .iter()
            .map(|a| (*a, false))
            .chain(new.ldap.tls.ldaps_listen.iter().map(|a| (*a, true)))
            .collect();
        let mut added = Vec::new();
        for (addr, ldaps) in &wanted {
            if !self
                .listening
                .iter()
                .any(|l| l.configured == *addr && l.ldaps == *ldaps)
            {
                added.push((*addr, bind(*addr)?, *ldaps));
            }
        }
        let mut changes = Vec::new();
        for (addr, listener, ldaps) in added {
            changes.push(format!("{} now listens on {addr}", scheme(ldaps)));
            self.serve(addr, listener, ldaps);
        }
        self.listening.retain(|l| {
            let keep = wanted.contains(&(l.configured, l.ldaps));
            if !keep {
                l.stop.cancel();
                changes.push(format!(
                    "{} stopped listening on {}",
                    scheme(l.ldaps),
                    l.bound
                ));
            }
            keep
        });
        if old.ldap != new.ldap {
            changes.push("LDAP settings applied from the next request".to_string());
        }
        let limits = &new.ldap.limits;
        self.limiter.set_limits(
            max_connections(limits.max_connections),
            limits.max_connections_per_address,
        );
        self.policy.send_replace(policy);
        self.tls.send_replace(tls);
        Ok(changes)
    }

    /// Stops accepting and closes the bundle's connections (with a notice).
    pub fn stop(&self) {
        self.stop.cancel();
    }

    pub fn addresses(&self, ldaps: bool) -> Vec<SocketAddr> {
        self.listening
            .iter()
            .filter(|l| l.ldaps == ldaps)
            .map(|l| l.bound)
            .collect()
    }

    pub fn connections(&self) -> usize {
        self.limiter.open()
    }
}

/// `[ldap.limits] max_connections`, capped to what the open-file limit allows.
fn max_connections(configured: usize) -> usize {
    let (n, warning) = super::fd_limit::cap(configured, super::fd_limit::current());
    if let Some(w) = warning {
        tracing::warn!("{w}");
    }
    n
}

fn scheme(ldaps: bool) -> &'static str {
    if ldaps { "LDAPS" } else { "LDAP" }
}

/// Connections the kernel holds for the listener before they are accepted (it caps
/// this to `net.core.somaxconn`): as many as a full connection limit, so that a
/// burst of new connections does not drop phones' SYNs (a dropped SYN costs a
/// phone a second before it tries again).
const LISTEN_BACKLOG: u32 = 4096;

fn bind(addr: SocketAddr) -> Result<TcpListener> {
    listen(addr).map_err(|e| {
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

fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

fn read_bind_password(home: &Home, config: &Config) -> Result<Option<String>> {
    if config.ldap.bind != crate::config::BindPolicy::Credentials {
        return Ok(None);
    }
    let path = home.path(&config.ldap.bind_password_file);
    let what = "bind = \"credentials\" needs the password in that file ([ldap] bind_password_file)";
    read_password(&path, what).map(Some)
}

/// A password file's first line; `what` says which setting names it.
fn read_password(path: &std::path::Path, what: &str) -> Result<String> {
    let text = std::fs::read_to_string(path)
        .wrap_err_with(|| format!("cannot read {}: {what}", path.display()))?;
    let password = text.trim_end_matches(['\r', '\n']).to_string();
    if password.is_empty() {
        return Err(eyre!("{} is empty: {what}", path.display()));
    }
    Ok(password)
}
