//! Hostile clients against the real server, over real sockets, with figures: for each
//! attack, a node serving a generated phone book of 20,000 contacts, its resident
//! memory once loaded and warmed, its peak during the attack, and the latency of four
//! phones searching meanwhile (two on connections they keep, two on a new connection
//! per search, one search every 5 ms each). Each test prints one line:
//!
//! `hostile: <attack> | idle RSS X MiB | peak RSS Y MiB (Z× idle) | others: n searches,
//! p50 a ms, p99 b ms, max c ms (quiet p99 q ms) | log +N KiB (server.log +M KiB) |
//! TCP buffers +T MiB`
//!
//! (`cargo test --test hostile_clients -- --nocapture`; `tests/bench/hostile_clients.sh`
//! runs them in release, one at a time, and prints the lines as a table.)
//!
//! What is asserted is what an admin would check: the server still runs and answers,
//! no phone was left without an answer (a search taking 5 s means locked out), the
//! peak of resident memory stays under twice its idle value, the server's log stays
//! short. Latencies are figures, never pass/fail: the target (p99 under 10 ms) is
//! read from the release run. Anonymous compares are checked in `ldap_faults.rs`, a
//! log that cannot be written in `server_lifecycle.rs`.
#![allow(clippy::unwrap_used, clippy::panic)]

#[path = "../common/mod.rs"]
mod common;
mod phones;
mod target;

use common::raw::{
    Raw, connect_from, cookie_of, eq, paged_msg, search_msg, sort_control, sort_result,
};
use ldap3_proto::control::LdapControl;
use ldap3_proto::proto::*;
use phones::{LOCKED_OUT, SEED, ask, book, connect, encoded, small_book_csv};
use std::collections::BTreeMap;
use std::io::Write;
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use target::{Target, mib, rss_kib};

/// The server's defaults these attacks run against (`config/sop.toml`).
const SIZE_LIMIT: i64 = 500;
const MAX_PAGED_SEARCHES: usize = 8;
const MAX_SORT_CANDIDATES: usize = 1000;
const MAX_CONNECTIONS: usize = 4096;
const MAX_PER_CLIENT: usize = 256;

/// Connections from `addresses` (127.0.0.x source addresses), `per_address` each.
fn open_from(target: &Target, addresses: &[[u8; 4]], per_address: usize) -> Vec<TcpStream> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut open = Vec::new();
    for _ in 0..per_address {
        for source in addresses {
            open.push(connect_from(&rt, *source, target.addr()));
        }
    }
    open
}

/// How many of these connections the server keeps: open, and told nothing. The
/// others were refused (told busy, and closed). While more than `expected` look
/// kept, the refusals may still be on their way: it waits for them a while.
fn held(conns: &[TcpStream], expected: usize) -> usize {
    let silent = |c: &TcpStream| {
        c.set_nonblocking(true).unwrap();
        let mut byte = [0u8; 1];
        let silent =
            matches!(c.peek(&mut byte), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock);
        c.set_nonblocking(false).unwrap();
        silent
    };
    let deadline = Instant::now() + LOCKED_OUT;
    loop {
        let held = conns.iter().filter(|c| silent(c)).count();
        if held <= expected || Instant::now() > deadline {
            return held;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The attack lasts at least this long, so that the phones search through it.
const HOLD: Duration = Duration::from_secs(2);

/// Paged searches asking for pages of 2^31 - 1 entries, 20 from each of 120
/// connections that never read what they are sent.
#[test]
fn pages_of_2_31_entries_for_clients_that_never_read() {
    let target = Target::start(&[]);
    let (figures, ()) = target.attack("pages of 2^31-1, 120 clients never reading", |t| {
        let mut conns = never_reading(
            t,
            120,
            |id| paged_msg(id, i64::from(i32::MAX), Vec::new()),
            20,
        );
        std::thread::sleep(HOLD);
        // The pages were refused: the first answer says so.
        let mut first = Raw::from(conns.swap_remove(0));
        match first.recv() {
            Some(LdapMsg {
                msgid: 1,
                op: LdapOp::SearchResultDone(r),
                ..
            }) => assert_eq!(r.code, LdapResultCode::AdminLimitExceeded, "{r:?}"),
            other => panic!("expected adminLimitExceeded, got {other:?}"),
        }
    });
    figures.phones_served();
    figures.memory_bounded();
}

/// What such a client gets instead: pages as large as the server allows (the size
/// limit, 500 entries) of every attribute, 3 from each of 120 connections that never
/// read what they are sent. Encoding a page costs some 15 times more in a debug
/// build: there, 10 connections.
#[test]
fn pages_at_the_size_limit_for_clients_that_never_read() {
    let clients = if cfg!(debug_assertions) { 10 } else { 120 };
    let target = Target::start(&[]);
    let name = format!("pages of 500, {clients} clients never reading");
    let (figures, ()) = target.attack(&name, |t| {
        let _conns = never_reading(t, clients, |id| paged_msg(id, SIZE_LIMIT, Vec::new()), 3);
        std::thread::sleep(HOLD);
    });
    figures.phones_served();
    figures.memory_bounded();
}

/// `clients` connections that each send `requests` searches made by `search` (asking
/// for every attribute) and never read.
fn never_reading(
    target: &Target,
    clients: usize,
    search: impl Fn(i32) -> LdapMsg,
    requests: i32,
) -> Vec<TcpStream> {
    let mut conns: Vec<TcpStream> = (0..clients)
        .map(|_| {
            // A receive buffer as small as the system allows: the server's answers
            // fill it at once, and the server is left holding the rest.
            let socket =
                socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
            socket.set_recv_buffer_size(4096).unwrap();
            socket.connect(&target.addr().into()).unwrap();
            TcpStream::from(socket)
        })
        .collect();
    for c in &mut conns {
        let mut out = Vec::new();
        for id in 1..=requests {
            let mut m = search(id);
            if let LdapOp::SearchRequest(s) = &mut m.op {
                s.attrs = vec!["*".to_string()];
            }
            out.extend(encoded(m));
        }
        c.write_all(&out).unwrap();
    }
    conns
}

/// Log amplification: 20,000 requests from one connection as fast as it can send
/// them, never waiting for an answer: unknown controls that are not critical, with a
/// new OID each time and with a line break in the OID; requests that do not decode;
/// critical unknown controls on a search with a long filter.
#[test]
fn requests_made_to_flood_the_log() {
    const REQUESTS: usize = 20_000;
    let target = Target::start(&[]);
    let forged = "2026-01-01T00:00:00Z ERROR forged line";
    let (figures, ()) = target.attack("log flood, 20,000 requests", |t| {
        let conn = TcpStream::connect(t.addr()).unwrap();
        let mut reader = Raw::from(conn.try_clone().unwrap());
        let counter = std::thread::spawn(move || {
            let mut done = 0;
            while done < REQUESTS {
                match reader.recv() {
                    Some(LdapMsg {
                        op: LdapOp::SearchResultDone(_),
                        ..
                    }) => done += 1,
                    Some(_) => {}
                    None => break,
                }
            }
            done
        });
        let mut out = Vec::new();
        let mut writer = conn;
        for i in 0..REQUESTS {
            let id = i as i32 + 1;
            let control = |oid: String, criticality| LdapControl::Unknown {
                oid,
                criticality,
                value: None,
            };
            match i % 4 {
                0 => {
                    let mut m = search_msg(id, eq("sn", "nobody"), 1);
                    m.ctrl = vec![control(format!("1.2.3.4.{i}"), false)];
                    out.extend(encoded(m));
                }
                1 => {
                    let mut m = search_msg(id, eq("sn", "nobody"), 1);
                    m.ctrl = vec![control(format!("1.2.3.5.{i}\n{forged}"), false)];
                    out.extend(encoded(m));
                }
                2 => out.extend([
                    0x30,
                    0x08,
                    0x02,
                    0x01,
                    (i % 100 + 1) as u8,
                    0x63,
                    0x03,
                    0x01,
                    0x01,
                    0xff,
                ]),
                _ => {
                    let mut m = search_msg(id, eq("cn", &"x".repeat(1000)), 1);
                    m.ctrl = vec![control(format!("1.2.3.6.{i}"), true)];
                    out.extend(encoded(m));
                }
            }
            if out.len() > 64 * 1024 {
                writer.write_all(&out).unwrap();
                out.clear();
            }
        }
        writer.write_all(&out).unwrap();
        assert_eq!(counter.join().unwrap(), REQUESTS, "every request answered");
    });
    figures.phones_served();
    figures.memory_bounded();
    let log = std::fs::read_to_string(target.node.home().join("log/server.log")).unwrap();
    assert!(
        !log.lines().any(|l| l.starts_with(forged)),
        "a client forged a log line"
    );
    figures.server_log_bounded();
    // The access log: one line per operation, never more.
    let operations = REQUESTS as u64 + figures.phone_operations + 1;
    assert!(
        figures.access_log_lines as u64 <= operations,
        "{} access log lines for {operations} operations",
        figures.access_log_lines
    );
}

/// Surnames of the generated phone book whose entries together are as many as a
/// sort is done over, or just fewer: the costliest sort the server accepts.
fn sort_filter() -> LdapFilter {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for c in book() {
        *counts.entry(c.surname.as_str()).or_default() += 1;
    }
    let mut by_count: Vec<(&str, usize)> = counts.into_iter().collect();
    by_count.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    let mut total = 0;
    let mut terms = Vec::new();
    for (surname, n) in by_count {
        if total + n <= MAX_SORT_CANDIDATES {
            total += n;
            terms.push(eq("sn", surname));
        }
    }
    assert!(total > MAX_SORT_CANDIDATES * 9 / 10, "{total}");
    LdapFilter::Or(terms)
}

/// Server-side sorting: three clients sorting as fast as they can by
/// telephoneNumber, over as many matches as a sort is done for and over the whole
/// phone book; meanwhile 200 connections from 4 addresses park 8 sorted paged
/// searches each (pages of 1, never continued). Then, with those searches parked,
/// three new generations are published: parked searches must not keep the old ones
/// in memory.
#[test]
fn sorting_clients_and_parked_sorted_pages() {
    let target = Target::start(&[]);
    let sorted = |id, filter: LdapFilter, critical| {
        let mut m = search_msg(id, filter, 0);
        m.ctrl = vec![sort_control(&[("telephoneNumber", false)], critical)];
        m
    };
    let many = sort_filter();
    let (figures, parked) = target.attack("sort, 3 sorting + 1,600 parked sorted pages", |t| {
        let stop = Arc::new(AtomicBool::new(false));
        let sorters: Vec<JoinHandle<usize>> = (0..3)
            .map(|_| {
                let stop = stop.clone();
                let (port, many) = (t.port(), many.clone());
                std::thread::spawn(move || {
                    let mut c = Raw::connect(port);
                    let mut sorts = 0;
                    while !stop.load(Ordering::Relaxed) {
                        c.send(sorted(1, many.clone(), true));
                        let (entries, res, ctrl) = c.search_all();
                        assert_eq!(entries.len(), SIZE_LIMIT as usize, "{res:?}");
                        assert_eq!(sort_result(&ctrl), Some(LdapResultCode::Success));
                        // Every entry matches: more than a sort is done over.
                        c.send(sorted(2, LdapFilter::Present("sn".into()), false));
                        let (_, _, ctrl) = c.search_all();
                        assert_eq!(sort_result(&ctrl), Some(LdapResultCode::AdminLimitExceeded));
                        sorts += 2;
                    }
                    sorts
                })
            })
            .collect();
        let started = Instant::now();
        let sources: Vec<[u8; 4]> = (2..6).map(|n| [127, 0, 0, n]).collect();
        let parked = park(t, &sources, 50, |id| {
            let mut m = sorted(id, many.clone(), true);
            m.ctrl.push(LdapControl::SimplePagedResults {
                size: 1,
                cookie: Vec::new(),
            });
            m
        });
        std::thread::sleep(HOLD.saturating_sub(started.elapsed()));
        stop.store(true, Ordering::Relaxed);
        let sorts: usize = sorters.into_iter().map(|s| s.join().unwrap()).sum();
        assert!(sorts > 0);
        parked
    });
    figures.phones_served();
    figures.memory_bounded();

    // Three new generations, one after the other, of a few contacts each (a merge is
    // quick, and whether the 20,000 contacts are let go is plain to see); after each,
    // 50 more connections park paged searches on it and stay idle. A generation must
    // be let go once another is served, whatever is parked on it.
    let (figures, (mut parked, after_each)) =
        target.attack("sort, 3 generations published under parked pages", |t| {
            let mut groups = vec![parked];
            let mut after_each = Vec::new();
            for n in 1..=3u8 {
                t.node.publish_csv(&small_book_csv(SEED + u64::from(n)));
                let published = Instant::now();
                let source = [127, 0, 0, 10 + n];
                groups.push(park(t, &[source], 50, |id| paged_msg(id, 1, Vec::new())));
                // Freed memory goes back to the system after 2 s (MIMALLOC_PURGE_DELAY).
                std::thread::sleep(SETTLE.saturating_sub(published.elapsed()));
                after_each.push(rss_kib(t.pid));
            }
            (groups, after_each)
        });
    figures.phones_served();
    figures.memory_bounded();
    // Once the 20,000 contacts are let go, and the allocator has given their memory
    // back, the server is back near or under its idle size (measured: 0.74 - 1.02×
    // idle in release builds, 0.8 - 0.93× in debug builds). Kept by the searches
    // parked on them, it stays a third above it (1.34 - 1.4× and 1.3 - 1.35×, with
    // the line that lets them go removed): the bound is between.
    let bound = target.idle_kib * 11 / 10;
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut settled = *after_each.last().unwrap();
    while settled >= bound && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        settled = rss_kib(target.pid);
    }
    println!(
        "hostile: sort, RSS after each publish | idle RSS {:.1} MiB | {} MiB, then {:.1} MiB",
        mib(target.idle_kib),
        after_each
            .iter()
            .map(|kib| format!("{:.1}", mib(*kib)))
            .collect::<Vec<_>>()
            .join(", "),
        mib(settled),
    );
    assert!(
        settled < bound,
        "RSS after each publish: {after_each:?} KiB, then {settled} KiB, idle {} KiB: the \
         searches parked on the first generation keep it in memory",
        target.idle_kib
    );
    // The searches parked on the first generation ended with it.
    let (c, cookies) = &mut parked[0][0];
    let mut next = sorted(9, many.clone(), true);
    next.ctrl.push(LdapControl::SimplePagedResults {
        size: 1,
        cookie: cookies[MAX_PAGED_SEARCHES - 1].clone(),
    });
    c.send(next);
    let (entries, res, _) = c.search_all();
    assert!(entries.is_empty());
    assert_eq!(res.code, LdapResultCode::UnwillingToPerform, "{res:?}");
}

/// How long after a publish the server's size is read.
const SETTLE: Duration = Duration::from_millis(2500);

/// `per_address` connections from each of `sources` that each park as many paged
/// searches (made by `search`) as the server keeps per connection, reading only
/// their first page; with the cookies of the pages.
fn park(
    target: &Target,
    sources: &[[u8; 4]],
    per_address: usize,
    search: impl Fn(i32) -> LdapMsg,
) -> Vec<(Raw, Vec<Vec<u8>>)> {
    let mut parked = Vec::new();
    for stream in open_from(target, sources, per_address) {
        let mut c = Raw::from(stream);
        let mut requests = Vec::new();
        for id in 1..=MAX_PAGED_SEARCHES as i32 {
            requests.extend(encoded(search(id)));
        }
        c.stream.write_all(&requests).unwrap();
        let mut cookies = Vec::new();
        for _ in 0..MAX_PAGED_SEARCHES {
            let (entries, res, ctrl) = c.search_all();
            assert_eq!(entries.len(), 1, "{res:?}");
            cookies.push(cookie_of(&ctrl));
        }
        parked.push((c, cookies));
    }
    parked
}

/// Idle connections from one address: 2,000 of them, past the per-address cap.
#[test]
fn idle_connections_from_one_address() {
    let target = Target::start(&[]);
    let (figures, conns) = target.attack("2,000 idle connections, 1 address", |t| {
        let conns = open_from(t, &[[127, 0, 0, 2]], 2000);
        std::thread::sleep(HOLD);
        conns
    });
    figures.phones_served();
    figures.memory_bounded();
    assert_eq!(
        held(&conns, MAX_PER_CLIENT),
        MAX_PER_CLIENT,
        "one address holds max_connections_per_address connections, no more"
    );
    figures.server_log_bounded();
}

/// Idle connections from many addresses: 3,000 from 12 addresses, each within
/// the per-address cap, together within max_connections.
#[test]
fn idle_connections_from_many_addresses() {
    let target = Target::start(&[]);
    let (figures, conns) = target.attack("3,000 idle connections, 12 addresses", |t| {
        let sources: Vec<[u8; 4]> = (10..22).map(|n| [127, 0, 0, n]).collect();
        let conns = open_from(t, &sources, 250);
        std::thread::sleep(HOLD);
        conns
    });
    figures.phones_served();
    figures.memory_bounded();
    assert_eq!(held(&conns, conns.len()), conns.len(), "none refused");
}

/// Idle connections to a small node (the sample phone book of 25 contacts, served
/// in a few MiB): 4,000 from 16 addresses, within the limits. What a connection
/// costs the server shows here: a bigger phone book hides it.
#[test]
fn idle_connections_to_a_small_node() {
    const CONNECTIONS: usize = 4000;
    let target = Target::sample(&[]);
    let (figures, conns) =
        target.attack("4,000 idle connections, 16 addresses, 25 contacts", |t| {
            let sources: Vec<[u8; 4]> = (30..46).map(|n| [127, 0, 0, n]).collect();
            let conns = open_from(t, &sources, CONNECTIONS / sources.len());
            std::thread::sleep(HOLD);
            conns
        });
    println!(
        "hostile: idle connections, 25 contacts | {:.1} KiB per connection",
        figures.peak_kib.saturating_sub(figures.idle_kib) as f64 / CONNECTIONS as f64
    );
    figures.phones_served();
    figures.memory_bounded();
    assert_eq!(held(&conns, conns.len()), conns.len(), "none refused");
}

/// More idle connections than the server takes in all (max_connections): 256 from
/// each of 17 addresses. A new connection is not refused while idle ones are held:
/// the one idle longest of the address holding the most is closed for it (that
/// address is told why). So phones opening a connection per search are answered
/// throughout, and so is a new connection once the attackers hold every slot.
#[test]
fn more_idle_connections_than_max_connections() {
    let target = Target::start(&[]);
    let (figures, conns) = target.attack("4,352 idle connections, 17 addresses", |t| {
        let sources: Vec<[u8; 4]> = (1..18).map(|n| [127, 0, 1, n]).collect();
        let conns = open_from(t, &sources, MAX_PER_CLIENT);
        std::thread::sleep(HOLD);
        conns
    });
    figures.phones_served();
    figures.memory_bounded();
    figures.server_log_bounded();
    // Phones' own connections (2 kept, 2 new ones now and then) count too, and a
    // phone's new connection closes an attacker's when every slot is taken (and
    // its own has not been seen closing yet).
    let held = held(&conns, MAX_CONNECTIONS - 2);
    println!("hostile: over max_connections | {held} of the attackers' connections held");
    assert!(
        (MAX_CONNECTIONS * 9 / 10..=MAX_CONNECTIONS - 2).contains(&held),
        "{held} connections held, max_connections {MAX_CONNECTIONS}"
    );
    // The slots the phones held are taken too: every slot is held by an idle
    // connection. A new connection from another address is answered at once.
    let _more = open_from(&target, &[[127, 0, 1, 18]], 8);
    let mut phone = connect(target.port()).ok().unwrap();
    assert!(
        ask(&mut phone, &target.searches[0]).is_ok(),
        "a new connection is answered while every slot is held by idle ones"
    );
    let log = std::fs::read_to_string(target.node.home().join("log/server.log")).unwrap();
    let closed = log
        .lines()
        .filter(|l| l.contains("to make room for"))
        .count();
    assert!(
        (1..=17).contains(&closed),
        "{closed} lines about connections closed to make room: at most one per address"
    );
}
