//! Accepting connections, within the connection limits (`limiter`).

use crate::ldap::connection::{self, Shared};
use crate::ldap::limiter::Limiter;
use crate::ldap::session;
use bytes::BytesMut;
use ldap3_proto::LdapCodec;
use ldap3_proto::proto::LdapResultCode;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::Encoder;
use tokio_util::task::TaskTracker;

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
        let now = std::time::Instant::now();
        match limiter.acquire(peer.ip()) {
            Ok((slot, closed)) => {
                if let Some(closed) = closed {
                    if shared.evictions.allow(closed.ip, now) {
                        tracing::warn!(
                            client = %closed.ip,
                            "closed the connection of this address idle longest ({} open) \
                             to make room for {peer} (max_connections); at most one such \
                             line per address a minute",
                            closed.held
                        );
                    }
                }
                let shared = shared.clone();
                tracker.spawn(async move {
                    connection::serve(stream, peer, ldaps, shared, &slot.activity).await;
                    drop(slot);
                });
            }
            Err(why) => {
                if shared.refusals.allow(peer.ip(), now) {
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
