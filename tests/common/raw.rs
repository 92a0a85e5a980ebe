//! A blocking LDAP client that speaks raw bytes or messages, for tests that send
//! what well-behaved clients never send, and the requests they build.
#![allow(clippy::unwrap_used, clippy::panic)]

use super::BASE;
use bytes::BytesMut;
use ldap3_proto::LdapCodec;
use ldap3_proto::control::LdapControl;
use ldap3_proto::proto::*;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};
use tokio_util::codec::{Decoder, Encoder};

/// A blocking LDAP connection that speaks raw bytes or messages.
pub struct Raw {
    pub stream: TcpStream,
    buf: BytesMut,
    codec: LdapCodec,
}

impl Raw {
    pub fn connect(port: u16) -> Raw {
        Raw::from(TcpStream::connect(("127.0.0.1", port)).unwrap())
    }

    pub fn from(stream: TcpStream) -> Raw {
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        Raw {
            stream,
            buf: BytesMut::new(),
            codec: LdapCodec::new(Some(8 << 20), None),
        }
    }

    pub fn send(&mut self, msg: LdapMsg) {
        let mut out = BytesMut::new();
        self.codec.encode(msg, &mut out).unwrap();
        self.stream.write_all(&out).unwrap();
    }

    /// Reads the next message, or says why there is none.
    pub fn next(&mut self) -> Next {
        loop {
            if let Ok(Some(msg)) = self.codec.decode(&mut self.buf) {
                return Next::Msg(Box::new(msg));
            }
            let mut chunk = [0u8; 65536];
            match self.stream.read(&mut chunk) {
                Ok(0) => return Next::Closed,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if is_timeout(&e) => return Next::TimedOut,
                // Reset by the server.
                Err(_) => return Next::Closed,
            }
        }
    }

    /// Reads the next message; None when the server closed the connection or
    /// said nothing within the read timeout.
    pub fn recv(&mut self) -> Option<LdapMsg> {
        match self.next() {
            Next::Msg(msg) => Some(*msg),
            Next::Closed | Next::TimedOut => None,
        }
    }

    /// Messages until SearchResultDone (returned last).
    pub fn search_all(&mut self) -> (Vec<LdapSearchResultEntry>, LdapResult, Vec<LdapControl>) {
        let mut entries = Vec::new();
        loop {
            match self.recv().expect("the server answered") {
                LdapMsg {
                    op: LdapOp::SearchResultEntry(e),
                    ..
                } => entries.push(e),
                LdapMsg {
                    op: LdapOp::SearchResultDone(r),
                    ctrl,
                    ..
                } => return (entries, r, ctrl),
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    /// Did the server close the connection (after any messages, such as a notice of
    /// disconnection) before `limit`? A read that times out is not a close.
    pub fn closed_within(&mut self, limit: Duration) -> bool {
        let started = Instant::now();
        loop {
            let left = limit.saturating_sub(started.elapsed());
            if left.is_zero() {
                return false;
            }
            self.stream.set_read_timeout(Some(left)).unwrap();
            match self.next() {
                Next::Msg(_) => {}
                Next::Closed => return true,
                Next::TimedOut => return false,
            }
        }
    }
}

pub enum Next {
    Msg(Box<LdapMsg>),
    Closed,
    TimedOut,
}

pub fn is_timeout(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

/// A subtree search of the phone book asking for `cn`.
pub fn search_msg(id: i32, filter: LdapFilter, size: i32) -> LdapMsg {
    LdapMsg::new(
        id,
        LdapOp::SearchRequest(LdapSearchRequest {
            base: BASE.to_string(),
            scope: LdapSearchScope::Subtree,
            aliases: LdapDerefAliases::Never,
            sizelimit: size,
            timelimit: 0,
            typesonly: false,
            filter,
            attrs: vec!["cn".to_string()],
        }),
    )
}

pub fn eq(attr: &str, value: &str) -> LdapFilter {
    LdapFilter::Equality(attr.to_string(), value.to_string())
}

/// The server still answers a normal search on a new connection.
pub fn still_serving(port: u16) {
    let mut c = Raw::connect(port);
    c.send(search_msg(1, LdapFilter::Present("objectClass".into()), 2));
    let (entries, res, _) = c.search_all();
    assert!(!entries.is_empty(), "{res:?}");
}

/// Connects from a chosen loopback source address.
pub fn connect_from(rt: &tokio::runtime::Runtime, source: [u8; 4], to: SocketAddr) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind((source, 0).into()).unwrap();
    let stream = rt.block_on(socket.connect(to)).unwrap();
    let std = stream.into_std().unwrap();
    std.set_nonblocking(false).unwrap();
    std
}

/// A paged search of every entry, pages of `size`.
pub fn paged_msg(id: i32, size: i64, cookie: Vec<u8>) -> LdapMsg {
    let mut m = search_msg(id, LdapFilter::Present("objectClass".into()), 0);
    m.ctrl = vec![LdapControl::SimplePagedResults { size, cookie }];
    m
}

/// The cookie of a paged search's answer (empty: the last page).
pub fn cookie_of(ctrl: &[LdapControl]) -> Vec<u8> {
    ctrl.iter()
        .find_map(|c| match c {
            LdapControl::SimplePagedResults { cookie, .. } => Some(cookie.clone()),
            _ => None,
        })
        .expect("a paged results control in the answer")
}

pub const SORT_OID: &str = "1.2.840.113556.1.4.473";

/// A server-side sort control over `keys` (attribute, reverse), critical or not.
pub fn sort_control(keys: &[(&str, bool)], critical: bool) -> LdapControl {
    let mut list = Vec::new();
    for (attr, reverse) in keys {
        let mut key = vec![0x04, attr.len() as u8];
        key.extend(attr.as_bytes());
        if *reverse {
            key.extend([0x81, 0x01, 0xff]);
        }
        list.push(0x30);
        list.push(key.len() as u8);
        list.extend(key);
    }
    let mut value = vec![0x30, list.len() as u8];
    value.extend(list);
    LdapControl::Unknown {
        oid: SORT_OID.to_string(),
        criticality: critical,
        value: Some(value),
    }
}

/// The result code of the sort result control in an answer, if any.
pub fn sort_result(ctrl: &[LdapControl]) -> Option<LdapResultCode> {
    ctrl.iter().find_map(|c| match c {
        LdapControl::ServerSortResult { sort_result } => Some(sort_result.result_code.clone()),
        _ => None,
    })
}
