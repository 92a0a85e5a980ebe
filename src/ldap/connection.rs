//! One client connection: framing, limits, TLS upgrade, and writing replies.
//! What to answer is decided by `Session`; this file only moves bytes.

use crate::directory::Directory;
use crate::ldap::access::Record;
use crate::ldap::encode;
use crate::ldap::frame::{self, Frame};
use crate::ldap::limiter::Activity;
use crate::ldap::policy::Policy;
use crate::ldap::session::{self, After, Reply, Session};
use crate::ldap::slow_lane::SlowLane;
use crate::logs::{self, PerClient};
use bytes::{Bytes, BytesMut};
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
    /// And lines about idle connections closed to make room for others, per
    /// address of the connection closed.
    pub evictions: PerClient,
    /// Where sorted searches are answered.
    pub slow_lane: SlowLane,
}

/// How often a line about one client's ignored controls may be written.
pub const NOTICE_EVERY: Duration = Duration::from_secs(60);
/// How many client addresses the notice limit remembers.
pub const NOTICE_CLIENTS: usize = 4096;

/// The send buffer asked of the kernel for each connection (which doubles it for
/// its bookkeeping): a page at the size limit (500 entries of every attribute, about
/// 200 KiB) fits whole.
pub const SEND_BUFFER: usize = 256 * 1024;

/// The read buffer of a connection with no request pending: a phone's search fits.
const IDLE_BUFFER: usize = 512;
/// How much more is read at once into a request that does not fit.
const READ_CHUNK: usize = 4096;

/// How late the idle timer may fire (it is moved at most this often).
const IDLE_SLACK: Duration = Duration::from_secs(1);

/// How long a reply (a whole answer, however many pieces) may take to reach a
/// client that reads slowly or not at all.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

enum End<S> {
    Closed,
    StartTls(S, Session),
}

/// What a connection is served with, besides its stream and session.
struct Context<'a> {
    shared: &'a Shared,
    activity: &'a Activity,
    client: &'a str,
    peer: SocketAddr,
}

/// Serves one accepted connection until it closes.
pub async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    ldaps: bool,
    shared: Arc<Shared>,
    activity: &Activity,
) {
    let _ = stream.set_nodelay(true);
    // Answers a client does not read wait in the kernel up to the send buffer, which
    // would otherwise grow to the system's maximum (tcp_wmem, megabytes) for each.
    let _ = socket2::SockRef::from(&stream).set_send_buffer_size(SEND_BUFFER);
    let salt = {
        use std::hash::{BuildHasher, Hasher};
        std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish()
    };
    let session = Session::new(ldaps, salt);
    let client = peer.to_string();
    let cx = Context {
        shared: &shared,
        activity,
        client: &client,
        peer,
    };
    let Some(acceptor) = shared.tls.borrow().clone() else {
        run(stream, session, &cx).await;
        return;
    };
    // Boxed: a TLS session's state is large, and a connection's task is as large as
    // its largest state.
    Box::pin(serve_tls(stream, acceptor, ldaps, session, &cx)).await;
}

/// Serves a connection that may use TLS: from the first byte (LDAPS) or after StartTLS.
async fn serve_tls(
    stream: TcpStream,
    acceptor: TlsAcceptor,
    ldaps: bool,
    session: Session,
    cx: &Context<'_>,
) {
    let (stream, mut session) = if ldaps {
        (stream, session)
    } else {
        match run(stream, session, cx).await {
            End::Closed => return,
            End::StartTls(stream, session) => (stream, session),
        }
    };
    let idle_timeout = cx.shared.policy.borrow().idle_timeout;
    let client = cx.client;
    let handshake = tokio::select! {
        done = tokio::time::timeout(idle_timeout, acceptor.accept(stream)) => done,
        () = cx.activity.closed_for_another() => return,
    };
    match handshake {
        Ok(Ok(tls)) => {
            session.tls = true;
            run(tls, session, cx).await;
        }
        Ok(Err(e)) => tracing::debug!(%client, "TLS handshake failed: {e}"),
        Err(_) => tracing::debug!(%client, "TLS handshake timed out"),
    }
}

/// Answers one whole request: on the runtime's thread, or on the slow lane if it is
/// costly. `None` when the slow lane has stopped.
async fn answer(
    session: Session,
    request: Bytes,
    dir: Arc<Directory>,
    policy: Arc<Policy>,
    shared: &Shared,
    started: Instant,
) -> Option<(Session, Reply)> {
    let costly = session::costly(&request);
    let respond = move || {
        let mut session = session;
        let mut codec = LdapCodec::new(Some(policy.max_request_bytes), None);
        let reply = session::respond(&mut session, &request, &mut codec, &dir, &policy, started);
        (session, reply)
    };
    if costly {
        shared.slow_lane.run(respond).await
    } else {
        Some(respond())
    }
}

async fn run<S>(mut stream: S, mut session: Session, cx: &Context<'_>) -> End<S>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let Context {
        shared,
        activity,
        client,
        peer,
    } = *cx;
    let mut buf = BytesMut::new();
    let mut policy = shared.policy.borrow().clone();
    let idle = tokio::time::sleep(policy.idle_timeout);
    tokio::pin!(idle);
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
                    let one = buf.split_to(len).freeze();
                    let started = Instant::now();
                    let dir = shared.directory.borrow().clone();
                    let answered = answer(session, one, dir, policy.clone(), shared, started);
                    let Some((answered, reply)) = answered.await else {
                        return End::Closed;
                    };
                    session = answered;
                    let Reply {
                        mut out,
                        more,
                        after,
                        record,
                        ignored_control,
                    } = reply;
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
                    // One deadline for the whole answer, not one per piece: a
                    // client reading a trickle cannot hold a large answer open
                    // for a piece's timeout times its pieces.
                    let deadline = tokio::time::Instant::now() + WRITE_TIMEOUT;
                    if send_by(&mut stream, &out, deadline).await.is_err() {
                        return End::Closed;
                    }
                    if let Some(mut more) = more {
                        while more.next_piece(&mut out) {
                            if send_by(&mut stream, &out, deadline).await.is_err() {
                                return End::Closed;
                            }
                        }
                    }
                    match after {
                        After::Continue => {}
                        After::Close => return End::Closed,
                        After::StartTls if buf.is_empty() => {
                            return End::StartTls(stream, session);
                        }
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
        let open = if buf.is_empty() {
            // Between requests a connection holds a small buffer, whatever the last
            // ones needed: idle connections cost little.
            buf = BytesMut::with_capacity(IDLE_BUFFER);
            // Paged searches parked: not to be closed for another connection.
            if session.has_parked() {
                activity.busy()
            } else {
                activity.idle()
            }
        } else {
            buf.reserve(READ_CHUNK);
            activity.busy()
        };
        if !open {
            return closed_for_another(&mut stream).await;
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
            () = activity.closed_for_another() => {
                return closed_for_another(&mut stream).await;
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
            Ok(_) if !activity.busy() => return closed_for_another(&mut stream).await,
            Ok(_) => {}
        }
    }
}

/// Tells a connection closed to make room for another why, then closes.
async fn closed_for_another<S: AsyncWrite + Unpin>(stream: &mut S) -> End<S> {
    let notice = notice(
        LdapResultCode::Unavailable,
        "idle connection closed for a new one (max_connections)",
    );
    let _ = send(stream, &notice).await;
    End::Closed
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
    send_by(stream, out, tokio::time::Instant::now() + WRITE_TIMEOUT).await
}

/// Writes `out`, unless the client has not read it by `deadline`.
async fn send_by<S: AsyncWrite + Unpin>(
    stream: &mut S,
    out: &[u8],
    deadline: tokio::time::Instant,
) -> std::io::Result<()> {
    if out.is_empty() {
        return Ok(());
    }
    // Boxed: kept only while writing, not in every idle connection's task.
    let write = Box::pin(tokio::time::timeout_at(deadline, async {
        stream.write_all(out).await?;
        stream.flush().await
    }));
    match write.await {
        Ok(r) => r,
        Err(_) => Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "client stopped reading",
        )),
    }
}
