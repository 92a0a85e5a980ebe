//! Hostile and broken clients: each gets a result code or a closed connection within
//! bounded time, and every other client keeps being served.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use bytes::BytesMut;
use common::{BASE, Node};
use ldap3_proto::LdapCodec;
use ldap3_proto::control::LdapControl;
use ldap3_proto::proto::*;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};
use tokio_util::codec::{Decoder, Encoder};

/// A blocking LDAP connection that speaks raw bytes or messages.
struct Raw {
    stream: TcpStream,
    buf: BytesMut,
    codec: LdapCodec,
}

impl Raw {
    fn connect(port: u16) -> Raw {
        Raw::from(TcpStream::connect(("127.0.0.1", port)).unwrap())
    }

    fn from(stream: TcpStream) -> Raw {
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        Raw {
            stream,
            buf: BytesMut::new(),
            codec: LdapCodec::new(Some(8 << 20), None),
        }
    }

    fn send(&mut self, msg: LdapMsg) {
        let mut out = BytesMut::new();
        self.codec.encode(msg, &mut out).unwrap();
        self.stream.write_all(&out).unwrap();
    }

    /// Reads the next message; None when the server closed the connection.
    fn recv(&mut self) -> Option<LdapMsg> {
        loop {
            if let Ok(Some(msg)) = self.codec.decode(&mut self.buf) {
                return Some(msg);
            }
            let mut chunk = [0u8; 65536];
            match self.stream.read(&mut chunk) {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// Messages until SearchResultDone (returned last).
    fn search_all(&mut self) -> (Vec<LdapSearchResultEntry>, LdapResult, Vec<LdapControl>) {
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

    fn closed_within(&mut self, limit: Duration) -> bool {
        self.stream.set_read_timeout(Some(limit)).unwrap();
        let started = Instant::now();
        while started.elapsed() < limit {
            if self.recv().is_none() {
                return true;
            }
        }
        false
    }
}

fn search_msg(id: i32, filter: LdapFilter, size: i32) -> LdapMsg {
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

fn eq(attr: &str, value: &str) -> LdapFilter {
    LdapFilter::Equality(attr.to_string(), value.to_string())
}

/// The server still answers a normal search on a new connection.
fn still_serving(port: u16) {
    let mut c = Raw::connect(port);
    c.send(search_msg(1, LdapFilter::Present("objectClass".into()), 2));
    let (entries, res, _) = c.search_all();
    assert!(!entries.is_empty(), "{res:?}");
}

fn node() -> Node {
    let node = Node::new(&[
        ("ldap.limits.idle_timeout", "3"),
        ("ldap.limits.max_connections_per_client", "100"),
    ]);
    node.start();
    node
}

#[test]
fn malformed_ber_gets_protocol_error_and_the_connection_goes_on() {
    let node = node();
    let mut c = Raw::connect(node.port);
    // SEQUENCE { INTEGER 5, [APPLICATION 3] (search) with a body that is not a search }
    c.stream
        .write_all(&[0x30, 0x08, 0x02, 0x01, 0x05, 0x63, 0x03, 0x01, 0x01, 0xff])
        .unwrap();
    match c.recv() {
        Some(LdapMsg {
            msgid: 5,
            op: LdapOp::SearchResultDone(r),
            ..
        }) => {
            assert_eq!(r.code, LdapResultCode::ProtocolError)
        }
        other => panic!("expected a protocolError search result, got {other:?}"),
    }
    c.send(search_msg(6, eq("objectClass", "person"), 1));
    let (_, res, _) = c.search_all();
    assert!(matches!(
        res.code,
        LdapResultCode::Success | LdapResultCode::SizeLimitExceeded
    ));
}

#[test]
fn garbage_gets_a_notice_of_disconnection() {
    let node = node();
    let mut c = Raw::connect(node.port);
    c.stream.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    match c.recv() {
        Some(LdapMsg {
            msgid: 0,
            op: LdapOp::ExtendedResponse(r),
            ..
        }) => {
            assert_eq!(r.res.code, LdapResultCode::ProtocolError);
            assert_eq!(r.name.as_deref(), Some("1.3.6.1.4.1.1466.20036"));
        }
        other => panic!("expected a notice of disconnection, got {other:?}"),
    }
    assert!(c.closed_within(Duration::from_secs(2)));
    still_serving(node.port);
}

#[test]
fn a_one_gib_declared_length_is_refused_from_the_header() {
    let node = node();
    let mut c = Raw::connect(node.port);
    c.stream
        .write_all(&[0x30, 0x84, 0x40, 0x00, 0x00, 0x00, 0x02, 0x01])
        .unwrap();
    match c.recv() {
        Some(LdapMsg {
            op: LdapOp::ExtendedResponse(r),
            ..
        }) => {
            assert_eq!(r.res.code, LdapResultCode::AdminLimitExceeded);
            assert!(
                r.res.message.contains("max_request_bytes"),
                "{}",
                r.res.message
            );
        }
        other => panic!("expected a notice, got {other:?}"),
    }
    assert!(c.closed_within(Duration::from_secs(2)));
    still_serving(node.port);
}

#[test]
fn a_300_kb_request_is_refused() {
    let node = node();
    let mut c = Raw::connect(node.port);
    let huge = "x".repeat(300 * 1024);
    let mut out = BytesMut::new();
    LdapCodec::new(Some(1 << 20), None)
        .encode(search_msg(1, eq("cn", &huge), 0), &mut out)
        .unwrap();
    // The server may close before everything is written.
    let _ = c.stream.write_all(&out);
    match c.recv() {
        Some(LdapMsg {
            op: LdapOp::ExtendedResponse(r),
            ..
        }) => {
            assert_eq!(r.res.code, LdapResultCode::AdminLimitExceeded)
        }
        other => panic!("expected a notice, got {other:?}"),
    }
    still_serving(node.port);
}

#[test]
fn deep_and_wide_filters_get_result_codes() {
    let node = node();
    let mut c = Raw::connect(node.port);
    // Encoding 1,000 levels recurses deeply: give the encoder a large stack.
    let out = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(|| {
            let mut deep = eq("cn", "x");
            for _ in 0..1000 {
                deep = LdapFilter::And(vec![deep]);
            }
            let mut out = BytesMut::new();
            LdapCodec::new(Some(1 << 20), Some(10_000))
                .encode(search_msg(2, deep, 0), &mut out)
                .unwrap();
            out
        })
        .unwrap()
        .join()
        .unwrap();
    c.stream.write_all(&out).unwrap();
    let (_, res, _) = c.search_all();
    assert_ne!(res.code, LdapResultCode::Success, "1000 levels are refused");

    // 600 terms: small enough to arrive, more terms than max_filter_terms.
    c.send(search_msg(
        3,
        LdapFilter::Or((0..600).map(|i| eq("cn", &i.to_string())).collect()),
        0,
    ));
    let (_, res, _) = c.search_all();
    assert_eq!(res.code, LdapResultCode::AdminLimitExceeded, "{res:?}");

    // 10,000 terms: larger than max_request_bytes, refused from the header.
    let mut wide = BytesMut::new();
    let terms = LdapFilter::Or((0..10_000).map(|i| eq("cn", &i.to_string())).collect());
    LdapCodec::new(Some(1 << 20), None)
        .encode(search_msg(4, terms, 0), &mut wide)
        .unwrap();
    let _ = c.stream.write_all(&wide);
    assert!(c.closed_within(Duration::from_secs(5)));
    still_serving(node.port);
}

#[test]
fn what_users_type_is_matched_literally() {
    let node = node();
    for typed in ["(", "*", "\\", "a(b", "ab*)"] {
        let (out, code) =
            node.ldapsearch(&["-b", BASE, &format!("(cn=*{}*)", escape(typed)), "cn"]);
        assert_eq!(code, 0, "{typed}: {out}");
    }
    // A filter missing a parenthesis never leaves the client; the server is unaffected.
    let (_, code) = node.ldapsearch(&["-b", BASE, "(cn=ab", "cn"]);
    assert_ne!(code, 0);
    still_serving(node.port);
}

fn escape(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '(' => "\\28".to_string(),
            ')' => "\\29".to_string(),
            '*' => "\\2a".to_string(),
            '\\' => "\\5c".to_string(),
            c => c.to_string(),
        })
        .collect()
}

#[test]
fn a_paged_results_cookie_only_works_on_its_own_connection() {
    let node = node();
    let paged = |cookie: Vec<u8>| {
        let mut m = search_msg(2, LdapFilter::Present("objectClass".into()), 0);
        m.ctrl = vec![LdapControl::SimplePagedResults { size: 2, cookie }];
        m
    };
    let mut a = Raw::connect(node.port);
    a.send(paged(Vec::new()));
    let (entries, _, ctrl) = a.search_all();
    assert_eq!(entries.len(), 2);
    let cookie = ctrl
        .iter()
        .find_map(|c| match c {
            LdapControl::SimplePagedResults { cookie, .. } => Some(cookie.clone()),
            _ => None,
        })
        .unwrap();
    assert!(!cookie.is_empty());
    let mut b = Raw::connect(node.port);
    b.send(paged(cookie.clone()));
    let (entries, res, _) = b.search_all();
    assert!(entries.is_empty());
    assert_eq!(res.code, LdapResultCode::UnwillingToPerform, "{res:?}");
    a.send(paged(cookie));
    let (entries, res, _) = a.search_all();
    assert_eq!(res.code, LdapResultCode::Success);
    assert!(!entries.is_empty());
}

#[test]
fn thousands_of_idle_connections_do_not_lock_others_out() {
    // Opening 2,000 connections takes a while on a busy machine: the idle timeout must
    // not free slots before the last one is refused.
    let node = Node::new(&[
        ("ldap.limits.idle_timeout", "10"),
        ("ldap.limits.max_connections_per_client", "100"),
    ]);
    node.start();
    let server: SocketAddr = ([127, 0, 0, 1], node.port).into();
    // Another client address on loopback: the per-client limit applies to it alone.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut idle = Vec::new();
    for _ in 0..2000 {
        idle.push(connect_from(&rt, [127, 0, 0, 2], server));
    }
    // Past max_connections_per_client (100), connections are told "busy" and closed.
    let mut refused = Raw::from(idle.pop().unwrap());
    match refused.recv() {
        Some(LdapMsg {
            op: LdapOp::ExtendedResponse(r),
            ..
        }) => {
            assert_eq!(r.res.code, LdapResultCode::Busy)
        }
        other => panic!("expected busy, got {other:?}"),
    }
    still_serving(node.port);
    // idle_timeout (10 s) closes the idle ones.
    let mut first = Raw::from(idle.remove(0));
    assert!(first.closed_within(Duration::from_secs(15)));
}

/// Connects from a chosen loopback source address.
fn connect_from(rt: &tokio::runtime::Runtime, source: [u8; 4], to: SocketAddr) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind((source, 0).into()).unwrap();
    let stream = rt.block_on(socket.connect(to)).unwrap();
    let std = stream.into_std().unwrap();
    std.set_nonblocking(false).unwrap();
    std
}

#[test]
fn a_client_that_stops_reading_does_not_hold_up_others() {
    let node = Node::new(&[
        ("ldap.size_limit", "100000"),
        ("ldap.limits.idle_timeout", "3"),
    ]);
    node.start();
    let mut csv = String::from("givenName,sn,telephoneNumber\n");
    for i in 0..3000 {
        csv.push_str(&format!("Name{i},Family{i},+49 30 {i:07}\n"));
    }
    node.publish_csv(&csv);
    let mut stuck = Raw::connect(node.port);
    for id in 1..50 {
        let mut out = BytesMut::new();
        LdapCodec::default()
            .encode(
                search_msg(id, LdapFilter::Present("objectClass".into()), 0),
                &mut out,
            )
            .unwrap();
        stuck
            .stream
            .set_write_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        if stuck.stream.write_all(&out).is_err() {
            break;
        }
    }
    for _ in 0..20 {
        still_serving(node.port);
    }
}
