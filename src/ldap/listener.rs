//! Accepting connections, within the connection limits.

use crate::ldap::connection::{self, Shared};
use crate::ldap::session;
use bytes::BytesMut;
use ldap3_proto::LdapCodec;
use ldap3_proto::proto::LdapResultCode;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::Encoder;
use tokio_util::task::TaskTracker;

/// Counts open connections, in total and per client address.
pub struct Limiter {
    max_total: AtomicUsize,
    max_per_client: AtomicUsize,
    open: Mutex<(usize, HashMap<IpAddr, usize>)>,
}

/// Held while a connection is open.
pub struct Slot {
    limiter: Arc<Limiter>,
    ip: IpAddr,
}

impl Limiter {
    pub fn new(max_total: usize, max_per_client: usize) -> Arc<Limiter> {
        Arc::new(Limiter {
            max_total: AtomicUsize::new(max_total),
            max_per_client: AtomicUsize::new(max_per_client),
            open: Mutex::new((0, HashMap::new())),
        })
    }

    /// A slot, or the reason there is none.
    pub fn acquire(self: &Arc<Self>, ip: IpAddr) -> Result<Slot, &'static str> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if open.0 >= self.max_total.load(Ordering::Relaxed) {
            return Err("too many connections (max_connections)");
        }
        let mine = open.1.entry(ip).or_insert(0);
        if *mine >= self.max_per_client.load(Ordering::Relaxed) {
            return Err("too many connections from this address (max_connections_per_address)");
        }
        *mine += 1;
        open.0 += 1;
        Ok(Slot {
            limiter: self.clone(),
            ip,
        })
    }

    /// New limits apply to the next connections; open ones stay.
    pub fn set_limits(&self, max_total: usize, max_per_client: usize) {
        self.max_total.store(max_total, Ordering::Relaxed);
        self.max_per_client.store(max_per_client, Ordering::Relaxed);
    }

    pub fn open(&self) -> usize {
        self.open.lock().map(|o| o.0).unwrap_or_default()
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.limiter.open.lock().unwrap_or_else(|e| e.into_inner());
        open.0 = open.0.saturating_sub(1);
        if let Some(n) = open.1.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.1.remove(&self.ip);
            }
        }
    }
}

/// Accepts on one listener until `stop` (or the whole bundle) is cancelled.
pub async fn accept_loop(
    listener: TcpListener,
    ldaps: bool,
    shared: Arc<Shared>,
    limiter: Arc<Limiter>,
    tracker: TaskTracker,
    stop: tokio_util::sync::CancellationToken,
) {
    loop {
        let accepted = tokio::select! {
            () = shared.cancel.cancelled() => return,
            () = stop.cancelled() => return,
            a = listener.accept() => a,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of file descriptors and the like: wait a little rather than spin.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        match limiter.acquire(peer.ip()) {
            Ok(slot) => {
                let shared = shared.clone();
                tracker.spawn(async move {
                    connection::serve(stream, peer, ldaps, shared).await;
                    drop(slot);
                });
            }
            Err(why) => {
                if shared.refusals.allow(peer.ip(), std::time::Instant::now()) {
                    tracing::warn!(
                        client = %peer,
                        "connection refused: {why}; at most one such line per client a minute"
                    );
                }
                tracker.spawn(refuse(stream, peer, why));
            }
        }
    }
}

/// Tells a client over the limit why it is refused, then closes.
async fn refuse(mut stream: TcpStream, _peer: SocketAddr, why: &'static str) {
    let notice = session::notice_of_disconnection(LdapResultCode::Busy, why);
    let mut out = BytesMut::new();
    if LdapCodec::default().encode(notice, &mut out).is_ok() {
        let _ =
            tokio::time::timeout(std::time::Duration::from_secs(2), stream.write_all(&out)).await;
    }
}
