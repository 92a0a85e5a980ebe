//! Hostile and broken clients: each gets a result code or a closed connection within
//! bounded time, and every other client keeps being served.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use bytes::BytesMut;
use common::raw::{
    Raw, connect_from, cookie_of, eq, paged_msg, search_msg, sort_control, sort_result,
    still_serving,
};
use common::{BASE, Node};
use ldap3_proto::LdapCodec;
use ldap3_proto::control::LdapControl;
use ldap3_proto::proto::*;
use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;
use tokio_util::codec::Encoder;

fn node() -> Node {
    let node = Node::new(&[
        ("ldap.limits.idle_timeout", "3"),
        ("ldap.limits.max_connections_per_address", "100"),
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
    // Still open: a read that times out is not taken for a close.
    assert!(!c.closed_within(Duration::from_millis(500)));
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
        ("ldap.limits.max_connections_per_address", "100"),
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
    // Past max_connections_per_address (100), connections are told "busy" and closed.
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

fn contacts_csv(count: usize, family: &str) -> String {
    let mut csv = String::from("givenName,sn,telephoneNumber\n");
    for i in 0..count {
        csv.push_str(&format!("Name{i},{family}{i},+49 30 {i:07}\n"));
    }
    csv
}

#[test]
fn a_page_is_at_most_the_size_limit() {
    let node = Node::new(&[("ldap.size_limit", "5"), ("ldap.limits.idle_timeout", "30")]);
    node.start();
    node.publish_csv(&contacts_csv(20, "Family"));
    let mut c = Raw::connect(node.port);
    c.send(paged_msg(2, 6, Vec::new()));
    let (entries, res, _) = c.search_all();
    assert!(entries.is_empty());
    assert_eq!(res.code, LdapResultCode::AdminLimitExceeded, "{res:?}");
    assert!(res.message.contains("size_limit"), "{}", res.message);
    c.send(paged_msg(2, i64::from(i32::MAX), Vec::new()));
    let (entries, res, _) = c.search_all();
    assert!(entries.is_empty());
    assert_eq!(res.code, LdapResultCode::AdminLimitExceeded, "{res:?}");

    // Pages of the size limit go on to the whole phone book.
    let mut cookie = Vec::new();
    let mut total = 0;
    for id in 3.. {
        c.send(paged_msg(id, 5, cookie));
        let (entries, res, ctrl) = c.search_all();
        assert_eq!(res.code, LdapResultCode::Success, "{res:?}");
        assert!(entries.len() <= 5);
        total += entries.len();
        cookie = cookie_of(&ctrl);
        if cookie.is_empty() {
            break;
        }
        // A later page asking for more than the limit is refused too.
        c.send(paged_msg(100, 6, cookie.clone()));
        let (_, res, _) = c.search_all();
        assert_eq!(res.code, LdapResultCode::AdminLimitExceeded, "{res:?}");
    }
    assert_eq!(total, 20);
}

#[test]
fn a_page_size_over_the_limit_is_refused_as_slapd_refuses_it() {
    let node = Node::new(&[("ldap.size_limit", "5")]);
    node.start();
    node.publish_csv(&contacts_csv(20, "Family"));
    let slapd = common::slapd::Slapd::start(common::slapd::Options {
        ldif: common::slapd::people(20),
        database: "limits * size.soft=5 size.hard=5 size.pr=5 size.prtotal=unlimited",
        ..Default::default()
    });
    let ask = |url: &str, base: &str, page: u32| {
        let out = std::process::Command::new("ldapsearch")
            .args(["-x", "-LLL", "-H", url, "-b", base])
            .args([
                "-E",
                &format!("pr={page}/noprompt"),
                "(objectClass=*)",
                "cn",
            ])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.code(), text)
    };
    let people = format!("ou=people,{}", common::slapd::SUFFIX);
    for (page, refused) in [(5, false), (6, true), (1000, true)] {
        let (sop_code, sop_text) = ask(&node.url(), BASE, page);
        let (slapd_code, slapd_text) = ask(&slapd.url(), &people, page);
        assert_eq!(
            sop_code, slapd_code,
            "page {page}:\n{sop_text}\n{slapd_text}"
        );
        for text in [&sop_text, &slapd_text] {
            assert_eq!(
                text.contains("Administrative limit exceeded (11)"),
                refused,
                "page {page}: {text}"
            );
        }
    }
}

#[test]
fn a_paged_search_does_not_outlive_its_generation() {
    // Idle while the next generation is imported and published: longer than
    // `node()`'s 3 s on a busy machine.
    let node = Node::new(&[("ldap.limits.idle_timeout", "120")]);
    node.start();
    node.publish_csv(&contacts_csv(10, "Family"));
    let mut c = Raw::connect(node.port);
    c.send(paged_msg(2, 2, Vec::new()));
    let (entries, _, ctrl) = c.search_all();
    assert_eq!(entries.len(), 2);
    let cookie = cookie_of(&ctrl);
    assert!(!cookie.is_empty());
    node.publish_csv(&contacts_csv(10, "Other"));
    c.send(paged_msg(3, 2, cookie));
    let (entries, res, _) = c.search_all();
    assert!(entries.is_empty());
    assert_eq!(res.code, LdapResultCode::UnwillingToPerform, "{res:?}");
    assert!(res.message.contains("newer phone book"), "{}", res.message);
    // A new paged search reads the new generation.
    c.send(paged_msg(4, 5, Vec::new()));
    let (entries, res, _) = c.search_all();
    assert_eq!(res.code, LdapResultCode::Success, "{res:?}");
    assert_eq!(entries.len(), 5);
}

#[test]
fn a_sort_is_done_only_over_a_bounded_number_of_matches() {
    let node = Node::new(&[
        ("ldap.size_limit", "100"),
        ("ldap.limits.max_sort_candidates", "10"),
    ]);
    node.start();
    node.publish_csv(&contacts_csv(20, "Family"));
    let mut c = Raw::connect(node.port);
    let sorted = |id, filter: LdapFilter, keys: &[(&str, bool)], critical| {
        let mut m = search_msg(id, filter, 0);
        m.ctrl = vec![sort_control(keys, critical)];
        m
    };
    let few = LdapFilter::Or(vec![
        eq("sn", "Family1"),
        eq("sn", "Family3"),
        eq("sn", "Family2"),
    ]);
    c.send(sorted(2, few.clone(), &[("sn", true)], true));
    let (entries, res, ctrl) = c.search_all();
    assert_eq!(res.code, LdapResultCode::Success, "{res:?}");
    assert_eq!(sort_result(&ctrl), Some(LdapResultCode::Success));
    let names: Vec<String> = entries
        .iter()
        .map(|e| String::from_utf8_lossy(&e.attributes[0].vals[0]).into_owned())
        .collect();
    assert_eq!(names, ["Name3 Family3", "Name2 Family2", "Name1 Family1"]);

    // 20 matches, more than max_sort_candidates: a critical sort sends nothing.
    let all = LdapFilter::Present("sn".into());
    c.send(sorted(3, all.clone(), &[("sn", false)], true));
    let (entries, res, ctrl) = c.search_all();
    assert!(entries.is_empty());
    assert_eq!(
        res.code,
        LdapResultCode::UnavailableCriticalExtension,
        "{res:?}"
    );
    assert!(
        res.message.contains("max_sort_candidates"),
        "{}",
        res.message
    );
    assert_eq!(sort_result(&ctrl), Some(LdapResultCode::AdminLimitExceeded));

    // A non-critical one gets every entry, unsorted, and is told why.
    c.send(sorted(4, all.clone(), &[("sn", false)], false));
    let (entries, res, ctrl) = c.search_all();
    assert_eq!(res.code, LdapResultCode::Success, "{res:?}");
    assert_eq!(entries.len(), 20);
    assert_eq!(sort_result(&ctrl), Some(LdapResultCode::AdminLimitExceeded));

    // A critical sort by an unknown attribute is not honoured either.
    c.send(sorted(5, few, &[("noSuchAttribute", false)], true));
    let (entries, res, ctrl) = c.search_all();
    assert!(entries.is_empty());
    assert_eq!(
        res.code,
        LdapResultCode::UnavailableCriticalExtension,
        "{res:?}"
    );
    assert_eq!(sort_result(&ctrl), Some(LdapResultCode::NoSuchAttribute));

    // Paged and sorted: the same bound.
    let mut m = sorted(6, all, &[("sn", false)], true);
    m.ctrl.push(LdapControl::SimplePagedResults {
        size: 5,
        cookie: Vec::new(),
    });
    c.send(m);
    let (entries, res, ctrl) = c.search_all();
    assert!(entries.is_empty());
    assert_eq!(
        res.code,
        LdapResultCode::UnavailableCriticalExtension,
        "{res:?}"
    );
    assert_eq!(sort_result(&ctrl), Some(LdapResultCode::AdminLimitExceeded));
}

#[test]
fn what_clients_send_cannot_flood_or_forge_the_server_log() {
    let node = node();
    let log_path = node.home().join("log/server.log");
    let before = std::fs::read_to_string(&log_path).unwrap().lines().count();
    let mut c = Raw::connect(node.port);
    // A control this server does not know, not critical, on every request: its
    // OID carries a line of its own.
    let forged = "1.2.3\n2026-01-01T00:00:00Z ERROR forged line";
    for id in 1..=200 {
        let mut m = search_msg(id, eq("sn", "nobody"), 1);
        m.ctrl = vec![LdapControl::Unknown {
            oid: forged.to_string(),
            criticality: false,
            value: None,
        }];
        c.send(m);
        let (_, res, _) = c.search_all();
        assert_eq!(res.code, LdapResultCode::Success, "{res:?}");
    }
    // Requests that do not decode, each answered with protocolError.
    for id in 20..120u8 {
        c.stream
            .write_all(&[0x30, 0x08, 0x02, 0x01, id, 0x63, 0x03, 0x01, 0x01, 0xff])
            .unwrap();
        let (_, res, _) = c.search_all();
        assert_eq!(res.code, LdapResultCode::ProtocolError);
    }
    // The server log is written in the background: a search answered after the
    // others shows that everything before it was handled.
    still_serving(node.port);
    let log = std::fs::read_to_string(&log_path).unwrap();
    let added: Vec<&str> = log.lines().skip(before).collect();
    let about_controls = added.iter().filter(|l| l.contains("1.2.3")).count();
    assert!(about_controls <= 1, "{added:#?}");
    assert!(
        !added.iter().any(|l| l.starts_with("2026-01-01T00:00:00Z")),
        "a client forged a log line: {added:#?}"
    );
    assert!(added.len() <= 5, "{added:#?}");
}

/// `ldapcompare` against `url`; returns its exit code (6: compareTrue, 5: false).
fn ldapcompare(node: &Node, url: &str, args: &[&str]) -> (i32, String) {
    let out = std::process::Command::new("ldapcompare")
        .env("LDAPTLS_CACERT", node.home().join("ca.pem"))
        .env("LDAPTLS_REQCERT", "demand")
        .args(["-x", "-H", url])
        .args(args)
        .output()
        .expect("ldapcompare (package ldap-utils) must be installed");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

/// The DN of the entry whose sn is `sn`, read with these ldapsearch arguments.
fn dn_of(node: &Node, auth: &[&str], sn: &str) -> String {
    let mut args = auth.to_vec();
    let filter = format!("(sn={sn})");
    args.extend(["-b", BASE, filter.as_str(), "1.1"]);
    let (out, code) = node.ldapsearch(&args);
    assert_eq!(code, 0, "{out}");
    out.lines()
        .find_map(|l| l.strip_prefix("dn: "))
        .unwrap_or_else(|| panic!("{out}"))
        .to_string()
}

#[test]
fn compare_obeys_the_bind_policy_as_search_does() {
    let dn = "cn=phones,dc=phonebook,dc=local";
    let node = Node::new(&[
        ("ldap.bind", "\"credentials\""),
        ("ldap.bind_dn", &format!("\"{dn}\"")),
    ]);
    std::fs::write(node.home().join("secrets/ldap-bind-password"), "s3cret\n").unwrap();
    node.start();
    node.publish_csv(&contacts_csv(3, "Family"));
    let auth = ["-D", dn, "-w", "s3cret"];
    let entry = dn_of(&node, &auth, "Family1");
    let missing = format!("uid=nobody,{BASE}");
    let url = node.url();
    let (code, out) = ldapcompare(&node, &url, &[&entry, "sn:Family1"]);
    assert_eq!(code, 50, "anonymous: insufficientAccessRights\n{out}");
    let (code, out) = ldapcompare(&node, &url, &[&missing, "sn:Family1"]);
    assert_eq!(
        code, 50,
        "whether an entry exists is not told either\n{out}"
    );
    let (code, out) = ldapcompare(&node, &url, &["-D", dn, "-w", "wrong", &entry, "sn:x"]);
    assert_eq!(code, 49, "{out}");
    let (code, out) = ldapcompare(
        &node,
        &url,
        &["-D", dn, "-w", "s3cret", &entry, "sn:Family1"],
    );
    assert_eq!(code, 6, "bound: compareTrue\n{out}");
    // Writes get the same refusal before they are told the book is read-only.
    let mut c = Raw::connect(node.port);
    c.send(LdapMsg::new(1, LdapOp::DelRequest(entry.clone())));
    match c.recv() {
        Some(LdapMsg {
            op: LdapOp::DelResponse(r),
            ..
        }) => assert_eq!(r.code, LdapResultCode::InsufficentAccessRights),
        other => panic!("{other:?}"),
    }
}

#[test]
fn compare_obeys_tls_required_as_search_does() {
    let node = Node::new(&[
        ("ldap.tls.starttls", "true"),
        ("ldap.tls.required", "true"),
        ("ldap.tls.certificate", "\"cert.pem\""),
        ("ldap.tls.key", "\"key.pem\""),
    ]);
    common::tls::write_ca_and_server_cert(node.home());
    node.start();
    node.publish_csv(&contacts_csv(3, "Family"));
    let url = node.url();
    let missing = format!("uid=nobody,{BASE}");
    let (code, out) = ldapcompare(&node, &url, &[&missing, "sn:x"]);
    assert_eq!(code, 13, "in clear: confidentialityRequired\n{out}");
    let (code, out) = ldapcompare(&node, &url, &["-ZZ", &missing, "sn:x"]);
    assert_eq!(code, 32, "after StartTLS: noSuchObject\n{out}");
}

fn encoded(msg: LdapMsg) -> Vec<u8> {
    let mut out = BytesMut::new();
    LdapCodec::default().encode(msg, &mut out).unwrap();
    out.to_vec()
}

/// A message encoded with id 1, its id replaced by the INTEGER content `id`.
fn with_raw_id(msg: LdapMsg, id: &[u8]) -> Vec<u8> {
    let bytes = encoded(msg);
    let header = match bytes[1] {
        n if n < 0x80 => 2,
        n => 2 + usize::from(n & 0x7f),
    };
    assert_eq!(&bytes[header..header + 3], &[0x02, 0x01, 0x01]);
    let mut body = vec![0x02, id.len() as u8];
    body.extend(id);
    body.extend(&bytes[header + 3..]);
    let mut out = vec![0x30];
    match body.len() {
        n if n < 0x80 => out.push(n as u8),
        n if n < 0x100 => out.extend([0x81, n as u8]),
        n => out.extend([0x82, (n >> 8) as u8, n as u8]),
    }
    out.extend(body);
    out
}

/// What a server answers to one request on a new connection.
#[derive(Debug, PartialEq)]
enum Outcome {
    Code(LdapResultCode),
    /// Closed without an answer (after a notice of disconnection, or none).
    Closed,
}

fn outcome(port: u16, request: &[u8]) -> Outcome {
    let mut c = Raw::connect(port);
    c.stream.write_all(request).unwrap();
    loop {
        let Some(msg) = c.recv() else {
            return Outcome::Closed;
        };
        let res = match msg.op {
            LdapOp::SearchResultEntry(_) => continue,
            LdapOp::ExtendedResponse(r) if msg.msgid == 0 => {
                assert!(
                    c.closed_within(Duration::from_secs(5)),
                    "closed after {r:?}"
                );
                return Outcome::Closed;
            }
            LdapOp::BindResponse(r) => r.res,
            LdapOp::ExtendedResponse(r) => r.res,
            LdapOp::SearchResultDone(r) | LdapOp::CompareResult(r) => r,
            other => panic!("unexpected {other:?}"),
        };
        return Outcome::Code(res.code);
    }
}

#[test]
fn protocol_errors_and_critical_controls_are_answered_as_slapd_answers_them() {
    let node = node();
    let slapd = common::slapd::Slapd::start(common::slapd::Options {
        ldif: common::slapd::people(3),
        ..Default::default()
    });
    let unknown = || LdapControl::Unknown {
        oid: "1.2.3.4.5.6.7".to_string(),
        criticality: true,
        value: None,
    };
    let with = |op: LdapOp, ctrl: Vec<LdapControl>| {
        let mut m = LdapMsg::new(1, op);
        m.ctrl = ctrl;
        m
    };
    let search = |base: &str, scope, size: i32, time: i32| {
        LdapOp::SearchRequest(LdapSearchRequest {
            base: base.to_string(),
            scope,
            aliases: LdapDerefAliases::Never,
            sizelimit: size,
            timelimit: time,
            typesonly: false,
            filter: LdapFilter::Present("objectClass".into()),
            attrs: vec!["1.1".to_string()],
        })
    };
    let search_request = |base: &str, scope| LdapSearchRequest {
        base: base.to_string(),
        scope,
        aliases: LdapDerefAliases::Never,
        sizelimit: 0,
        timelimit: 0,
        typesonly: false,
        filter: LdapFilter::Present("objectClass".into()),
        attrs: vec!["1.1".to_string()],
    };
    let bind = || {
        LdapOp::BindRequest(LdapBindRequest {
            version: 3,
            dn: String::new(),
            cred: LdapBindCred::Simple(String::new()),
        })
    };
    let paged = |size| LdapControl::SimplePagedResults {
        size,
        cookie: Vec::new(),
    };
    let people = format!("ou=people,{}", common::slapd::SUFFIX);
    for (server, port, base) in [
        ("slapd", slapd.port, &people as &str),
        ("sop", node.port, BASE),
    ] {
        let entry = format!("uid=u0001,{base}");
        let sub = LdapSearchScope::Subtree;
        let cases: Vec<(&str, Vec<u8>, Outcome)> = vec![
            (
                "unknown critical control on a bind",
                encoded(with(bind(), vec![unknown()])),
                Outcome::Code(LdapResultCode::UnavailableCriticalExtension),
            ),
            (
                "unknown critical control on a compare",
                encoded(with(
                    LdapOp::CompareRequest(LdapCompareRequest {
                        dn: entry.clone(),
                        atype: "sn".into(),
                        val: b"x".to_vec(),
                    }),
                    vec![unknown()],
                )),
                Outcome::Code(LdapResultCode::UnavailableCriticalExtension),
            ),
            (
                "unknown critical control on Who am I?",
                encoded(with(
                    LdapOp::ExtendedRequest(LdapExtendedRequest {
                        name: "1.3.6.1.4.1.4203.1.11.3".into(),
                        value: None,
                    }),
                    vec![unknown()],
                )),
                Outcome::Code(LdapResultCode::UnavailableCriticalExtension),
            ),
            (
                "unknown critical control on a root DSE read",
                encoded(with(
                    search("", LdapSearchScope::Base, 0, 0),
                    vec![unknown()],
                )),
                Outcome::Code(LdapResultCode::UnavailableCriticalExtension),
            ),
            (
                "critical sort control on a bind",
                encoded(with(bind(), vec![sort_control(&[("cn", false)], true)])),
                Outcome::Code(LdapResultCode::UnavailableCriticalExtension),
            ),
            (
                "negative size limit",
                encoded(with(search(base, sub.clone(), -1, 0), vec![])),
                Outcome::Code(LdapResultCode::ProtocolError),
            ),
            (
                "negative time limit",
                encoded(with(search(base, sub.clone(), 1, -1), vec![])),
                Outcome::Code(LdapResultCode::ProtocolError),
            ),
            (
                "two paged results controls",
                encoded(with(
                    search(base, sub.clone(), 0, 0),
                    vec![paged(2), paged(3)],
                )),
                Outcome::Code(LdapResultCode::ProtocolError),
            ),
            (
                "message id 2^31",
                with_raw_id(
                    search(base, sub.clone(), 1, 0).into_msg(),
                    &[0x00, 0x80, 0, 0, 0],
                ),
                Outcome::Closed,
            ),
            (
                "message id 2^32",
                with_raw_id(
                    search(base, sub.clone(), 1, 0).into_msg(),
                    &[0x01, 0, 0, 0, 0],
                ),
                Outcome::Closed,
            ),
        ];
        for (what, request, expected) in cases {
            assert_eq!(outcome(port, &request), expected, "{server}: {what}");
        }
        // An empty substring filter is answered, and matches nothing, nor does its
        // negation.
        let empty = || LdapFilter::Substring("cn".into(), LdapSubstringFilter::default());
        for filter in [empty(), LdapFilter::Not(Box::new(empty()))] {
            let mut c = Raw::connect(port);
            c.send(with(
                LdapOp::SearchRequest(LdapSearchRequest {
                    filter: filter.clone(),
                    ..search_request(base, sub.clone())
                }),
                vec![],
            ));
            let (entries, done, _) = c.search_all();
            assert_eq!(done.code, LdapResultCode::Success, "{server}: {filter:?}");
            assert_eq!(entries.len(), 0, "{server}: {filter:?}");
        }
    }
    still_serving(node.port);
}

trait IntoMsg {
    fn into_msg(self) -> LdapMsg;
}

impl IntoMsg for LdapOp {
    fn into_msg(self) -> LdapMsg {
        LdapMsg::new(1, self)
    }
}

#[test]
fn the_open_file_limit_is_raised_and_connections_are_capped_to_it() {
    let node = Node::new(&[
        ("ldap.limits.max_connections_per_address", "100000"),
        ("ldap.limits.idle_timeout", "120"),
    ]);
    // Started with a soft limit of 200 open files and a hard one of 300.
    let out = std::process::Command::new("prlimit")
        .arg("--nofile=200:300")
        .arg(env!("CARGO_BIN_EXE_sop"))
        .arg("--home")
        .arg(node.home())
        .args(["server", "start"])
        .output()
        .expect("prlimit (util-linux) must be installed");
    assert!(out.status.success(), "{out:?}");
    let json = node.sop(&["server", "status", "--json"]).success().stdout();
    let status: serde_json::Value = serde_json::from_str(&json).unwrap();
    let pid = status["status"]["pid"].as_u64().unwrap();
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let open_files = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap();
    let soft: Vec<&str> = open_files.split_whitespace().collect();
    assert_eq!(
        soft[3], "300",
        "the soft limit is raised to the hard one: {open_files}"
    );
    let log = std::fs::read_to_string(node.home().join("log/server.log")).unwrap();
    assert!(log.contains("max_connections = 4096"), "{log}");

    // 300 less the 64 the server keeps for itself: 236 connections. The next one is
    // answered, and the one idle longest (the first) closed for it.
    let mut open = Vec::new();
    for _ in 0..236 {
        let mut c = Raw::connect(node.port);
        c.send(search_msg(1, eq("sn", "nobody"), 1));
        let (_, res, _) = c.search_all();
        assert_eq!(res.code, LdapResultCode::Success, "{res:?}");
        open.push(c);
    }
    let mut newcomer = Raw::connect(node.port);
    newcomer.send(search_msg(1, eq("sn", "nobody"), 1));
    let (_, res, _) = newcomer.search_all();
    assert_eq!(res.code, LdapResultCode::Success, "{res:?}");
    match open[0].recv() {
        Some(LdapMsg {
            op: LdapOp::ExtendedResponse(r),
            ..
        }) => {
            assert_eq!(r.res.code, LdapResultCode::Unavailable);
            assert!(
                r.res.message.contains("max_connections"),
                "{}",
                r.res.message
            );
        }
        other => panic!("expected the first connection closed, got {other:?}"),
    }
    // The control socket still answers, and says 236 connections are open.
    let json = node.sop(&["server", "status", "--json"]).success().stdout();
    let status: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(status["status"]["connections"], 236, "{json}");
}
