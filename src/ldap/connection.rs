//! One client connection: framing, limits, TLS upgrade, and writing replies.
//! What to answer is decided by `Session`; this file only moves bytes.

use crate::directory::Directory;
use crate::ldap::access::Record;
use crate::ldap::encode;
use crate::ldap::frame::{self, Frame};
use crate::ldap::policy::Policy;
use crate::ldap::session::{self, After, Reply, Session};
use crate::logs::{self, PerClient};
use bytes::BytesMut;
use ldap3_proto::LdapCodec;
use ldap3_proto::proto::LdapResultCode;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

/// What every connection shares. Read-only: a new directory, policy or certificate
/// arrives through the watch channels, and applies from the next request on (the
/// certificate: from the next handshake).
pub struct Shared {
    pub directory: watch::Receiver<Arc<Directory>>,
    pub policy: watch::Receiver<Arc<Policy>>,
    pub tls: watch::Receiver<Option<TlsAcceptor>>,
    /// Access log lines; `None` when the access log is off.
    pub access: Option<mpsc::Sender<String>>,
    pub cancel: CancellationToken,
    /// Lines about what a client may send on every request (a control the server
    /// does not know) are written at most once a minute per client address.
    pub notices: PerClient,
    /// So are lines about connections refused over a limit: a client may connect
    /// again and again.
    pub refusals: PerClient,
}

/// How often a line about one client's ignored controls may be written.
pub const NOTICE_EVERY: Duration = Duration::from_secs(60);
/// How many client addresses the notice limit remembers.
pub const NOTICE_CLIENTS: usize = 4096;

/// How late the idle timer may fire (it is moved at most this often).
const IDLE_SLACK: Duration = Duration::from_secs(1);

/// How long a reply may take to reach a client that stopped reading.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

enum End<S> {
    Closed,
    StartTls(S),
}

/// Serves one accepted connection until it closes.
pub async fn serve(stream: TcpStream, peer: SocketAddr, ldaps: bool, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let salt = {
        use std::hash::{BuildHasher, Hasher};
        std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish()
    };
    let mut session = Session::new(ldaps, salt);
    let client = peer.to_string();
    let Some(acceptor) = shared.tls.borrow().clone() else {
        run(stream, &mut session, &shared, &client, peer).await;
        return;
    };
    let stream = if ldaps {
        stream
    } else {
        match run(stream, &mut session, &shared, &client, peer).await {
            End::Closed => return,
            End::StartTls(stream) => stream,
        }
    };
    let idle_timeout = shared.policy.borrow().idle_timeout;
    match tokio::time::timeout(idle_timeout, acceptor.accept(stream)).await {
        Ok(Ok(tls)) => {
            session.tls = true;
            run(tls, &mut session, &shared, &client, peer).await;
        }
        Ok(Err(e)) => tracing::debug!(%client, "TLS handshake failed: {e}"),
        Err(_) => tracing::debug!(%client, "TLS handshake timed out"),
    }
}

async fn run<S>(
    mut stream: S,
    session: &mut Session,
    shared: &Shared,
    client: &str,
    peer: SocketAddr,
) -> End<S>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut buf = BytesMut::with_capacity(4096);
    let mut policy = shared.policy.borrow().clone();
    let idle = tokio::time::sleep(policy.idle_timeout);
    tokio::pin!(idle);
    let mut codec = LdapCodec::new(Some(policy.max_request_bytes), None);
    // Told when another generation is served, so that an idle connection's parked
    // paged searches do not keep the old one in memory.
    let mut directory = shared.directory.clone();
    directory.borrow_and_update();
    loop {
        // Answer every whole request already read, in order.
        loop {
            policy = shared.policy.borrow().clone();
            match frame::frame(&buf, policy.max_request_bytes) {
                Frame::Incomplete => break,
                Frame::TooLarge(declared) => {
                    let why = format!(
                        "request of {declared} bytes exceeds max_request_bytes ({})",
                        policy.max_request_bytes
                    );
                    log(
                        shared,
                        client,
                        Record::simple(
                            "invalid",
                            &session.bind_dn,
                            LdapResultCode::AdminLimitExceeded,
                        ),
                        Instant::now(),
                    );
                    let notice = notice(LdapResultCode::AdminLimitExceeded, &why);
                    let _ = send(&mut stream, &notice).await;
                    return End::Closed;
                }
                Frame::Garbage => {
                    let notice = notice(LdapResultCode::ProtocolError, "not an LDAP message");
                    log(
                        shared,
                        client,
                        Record::simple("invalid", &session.bind_dn, LdapResultCode::ProtocolError),
                        Instant::now(),
                    );
                    let _ = send(&mut stream, &notice).await;
                    return End::Closed;
                }
                Frame::Complete(len) => {
                    let one = buf.split_to(len);
                    let started = Instant::now();
                    let dir = shared.directory.borrow().clone();
                    let Reply {
                        out,
                        after,
                        record,
                        ignored_control,
                    } = session::respond(session, &one, &mut codec, &dir, &policy, started);
                    if let Some(record) = record {
                        log(shared, client, record, started);
                    }
                    if let Some(oid) = ignored_control {
                        if shared.notices.allow(peer.ip(), started) {
                            tracing::info!(
                                %client,
                                oid = %logs::escaped(&oid),
                                "ignored a control this server does not support (not critical); \
                                 at most one such line per client a minute"
                            );
                        }
                    }
                    if send(&mut stream, &out).await.is_err() {
                        return End::Closed;
                    }
                    match after {
                        After::Continue => {}
                        After::Close => return End::Closed,
                        After::StartTls if buf.is_empty() => return End::StartTls(stream),
                        // Bytes sent after StartTLS but before the handshake are not allowed.
                        After::StartTls => return End::Closed,
                    }
                }
            }
        }
        // The idle timer is moved at most once a second: re-arming it on every
        // request costs more than the search a phone sends.
        let now = tokio::time::Instant::now();
        if idle.deadline() + IDLE_SLACK < now + policy.idle_timeout {
            idle.as_mut().reset(now + policy.idle_timeout);
        }
        let read = tokio::select! {
            () = shared.cancel.cancelled() => {
                let notice = notice(
                    LdapResultCode::Unavailable,
                    "the server is shutting down",
                );
                let _ = send(&mut stream, &notice).await;
                return End::Closed;
            }
            () = &mut idle => {
                let notice = notice(
                    LdapResultCode::Unavailable,
                    "idle connection closed (idle_timeout)",
                );
                let _ = send(&mut stream, &notice).await;
                return End::Closed;
            }
            Ok(()) = directory.changed() => {
                let dir = directory.borrow_and_update().clone();
                session.directory_changed(&dir);
                continue;
            }
            r = stream.read_buf(&mut buf) => r,
        };
        match read {
            Ok(0) | Err(_) => return End::Closed,
            Ok(_) => {}
        }
    }
}

fn log(shared: &Shared, client: &str, record: Record, started: Instant) {
    if !shared.policy.borrow().access_log {
        return;
    }
    if let Some(tx) = &shared.access {
        // A full queue drops the line rather than slowing answers down.
        if tx
            .try_send(record.line(client, started.elapsed().as_micros()))
            .is_err()
        {
            crate::logs::count_access_dropped();
        }
    }
}

/// An encoded notice of disconnection.
fn notice(code: LdapResultCode, message: &str) -> Vec<u8> {
    let mut out = Vec::new();
    encode::message(&mut out, session::notice_of_disconnection(code, message));
    out
}

async fn send<S: AsyncWrite + Unpin>(stream: &mut S, out: &[u8]) -> std::io::Result<()> {
    if out.is_empty() {
        return Ok(());
    }
    match tokio::time::timeout(WRITE_TIMEOUT, async {
        stream.write_all(out).await?;
        stream.flush().await
    })
    .await
    {
        Ok(r) => r,
        Err(_) => Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "client stopped reading",
        )),
    }
}
