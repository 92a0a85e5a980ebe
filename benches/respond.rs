//! CPU per answered search without the network: the phone mix of `sop bench load`
//! answered by the same code the server runs, against a generated directory; and
//! how exact the index is for each kind of search (candidates checked per match).
//!
//! `cargo bench --bench respond [-- COUNT]`; env `SIZE` (size limit, 50),
//! `ROUNDS` (3) and `MATRIX` (1: answer every class of `sop bench filters` instead
//! of the phone mix, and print the costliest classes); `VLV` (1: browse the phone
//! book as a Poly phone does, in windows of 20, from the first entry to the last,
//! and jump to typed letters; print the CPU per window of each kind, worst last).

use bytes::BytesMut;
use ldap3_proto::LdapCodec;
use sop::bench::{load, phonebook};
use sop::config::Config;
use sop::directory::{Directory, Filter, Generation, MatchRules, ServedContact};
use sop::ldap::policy::Policy;
use sop::ldap::session::{self, Session};
use sop::ldap::vlv;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::codec::Encoder;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let count: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100_000);
    let size_limit = env("SIZE", 50);
    let base = "dc=phonebook,dc=local";
    let generation = Generation {
        number: 1,
        created: 0,
        contacts: phonebook::generate(count, 1)
            .into_iter()
            .map(|c| ServedContact {
                uid: c.id.clone(),
                source: "internal".into(),
                contact: c,
            })
            .collect(),
    };
    let started = Instant::now();
    // FOLD_ACCENTS=1: names matched without their accents ([ldap] fold_accents).
    let rules = MatchRules {
        fold_accents: env("FOLD_ACCENTS", 0) == 1,
        ..MatchRules::default()
    };
    let dir = Arc::new(Directory::build(&generation, base, &rules));
    println!(
        "directory of {count} contacts built in {} ms",
        started.elapsed().as_millis()
    );
    drop(generation);
    let (ids, keys, dense) = dir.index_stats();
    println!("index: {keys} keys, {dense} of them dense, {ids} ids");
    let mut config = Config::defaults();
    config.ldap.base_dn = base.to_string();
    config.ldap.access_log = false;
    let policy = Policy::new(&config, None);
    let opts = load::LoadOptions {
        addr: ([127, 0, 0, 1], 389).into(),
        base_dn: base.to_string(),
        connections: 1,
        duration: Duration::ZERO,
        size_limit: i32::try_from(size_limit).unwrap_or(50),
        seed: 7,
    };

    if let Ok(text) = std::env::var("FILTER") {
        let f = sop::directory::lookup::parse(&text, &dir).expect("filter");
        let cpu = thread_cpu();
        let (candidates, matched) = dir.precision(&f, size_limit);
        println!(
            "{text}: {candidates} candidates, {matched} matched, {:?}\n{f:?}",
            thread_cpu() - cpu
        );
        return;
    }
    if env("MATRIX", 0) == 1 {
        matrix(&dir, &policy, &opts);
        return;
    }
    if env("VLV", 0) == 1 {
        // The M* view is some of the phone book: sorted only up to
        // max_sort_candidates matches, here every one.
        let mut config = config.clone();
        config.ldap.limits.max_sort_candidates = count;
        browse(&dir, &Policy::new(&config, None), &opts);
        return;
    }

    let mut rng = fastrand::Rng::with_seed(7);
    let mut requests = Vec::new();
    // (number, contains, typed characters) -> (searches, candidates, matches)
    let mut kinds: BTreeMap<(bool, bool, usize), (usize, usize, usize)> = BTreeMap::new();
    for msgid in 2..20_002 {
        let (typed, number) = phonebook::typed(&mut rng);
        let contains = rng.bool();
        let filter = load::phone_filter(&typed, number, contains);
        if let Ok(f) = Filter::compile(&filter, &policy.filter_limits, dir.rules(), dir.base_dn()) {
            let (candidates, matched) = dir.precision(&f, size_limit);
            let k = kinds
                .entry((number, contains, typed.chars().count()))
                .or_default();
            *k = (k.0 + 1, k.1 + candidates, k.2 + matched);
        }
        let mut buf = BytesMut::new();
        let _ = LdapCodec::default().encode(load::search(msgid, &opts, filter), &mut buf);
        requests.push(buf.to_vec());
    }
    println!("{count} contacts, size limit {size_limit}");
    println!(
        "{:<8} {:<9} {:>5} {:>11} {:>11}",
        "on", "search", "typed", "candidates", "matches"
    );
    for ((number, contains, typed), (n, candidates, matched)) in kinds {
        println!(
            "{:<8} {:<9} {:>5} {:>11.1} {:>11.1}",
            if number { "numbers" } else { "names" },
            if contains { "contains" } else { "prefix" },
            typed,
            candidates as f64 / n as f64,
            matched as f64 / n as f64
        );
    }

    let mut session = Session::new(false, 1);
    let mut codec = LdapCodec::new(Some(1 << 20), None);
    for round in 0..env("ROUNDS", 3) {
        let mut bytes = 0usize;
        let started = Instant::now();
        for r in &requests {
            let reply = session::respond(&mut session, r, &mut codec, &dir, &policy, started);
            bytes += reply.out.len();
            if let Some(mut more) = reply.more {
                let mut piece = Vec::new();
                while more.next_piece(&mut piece) {
                    bytes += piece.len();
                }
            }
        }
        let took = started.elapsed();
        println!(
            "round {round}: {:.2} us per search, {} bytes per answer",
            took.as_secs_f64() * 1e6 / requests.len() as f64,
            bytes / requests.len(),
        );
    }
}

/// A Poly phone's list view request: sorted by last and first name, `window` says
/// where.
fn list_view(msgid: i32, opts: &load::LoadOptions, filter: &str, window: vlv::Request) -> Vec<u8> {
    let mut msg = load::search(
        msgid,
        opts,
        sop::directory::lookup::parse_text(filter).expect("filter"),
    );
    if let ldap3_proto::proto::LdapOp::SearchRequest(req) = &mut msg.op {
        req.sizelimit = 0;
        req.attrs = ["sn", "givenName", "telephoneNumber", "mobile"]
            .map(String::from)
            .to_vec();
    }
    let key = |name: &str| ldap3_proto::control::ServerSortRequet {
        attribute_name: name.into(),
        ordering_rule: None,
        reverse_order: false,
    };
    msg.ctrl = vec![
        ldap3_proto::control::LdapControl::ServerSort {
            sort_requests: vec![key("sn"), key("givenName")],
        },
        window.control(),
    ];
    let mut buf = BytesMut::new();
    let _ = LdapCodec::default().encode(msg, &mut buf);
    buf.to_vec()
}

/// Browses the phone book in windows of 20, as Poly phones do: the CPU of each
/// window, from the request's bytes to the answer's, for each kind of browse.
fn browse(dir: &Arc<Directory>, policy: &Policy, opts: &load::LoadOptions) {
    let mut session = Session::new(false, 1);
    let mut codec = LdapCodec::new(Some(1 << 20), None);
    let mut answer = |request: &[u8]| {
        let cpu = thread_cpu();
        let reply = session::respond(
            &mut session,
            request,
            &mut codec,
            dir,
            policy,
            Instant::now(),
        );
        let mut bytes = reply.out.len();
        if let Some(mut more) = reply.more {
            let mut piece = Vec::new();
            while more.next_piece(&mut piece) {
                bytes += piece.len();
            }
        }
        (thread_cpu() - cpu, bytes)
    };
    let len = dir.len();
    // `count`: the list's length as the phone last heard it (0: not known yet).
    let at = |offset: usize, count: usize| vlv::Request {
        before: 0,
        after: 19,
        target: vlv::Target::Offset { offset, count },
        context: None,
    };
    let whole = "(objectClass=person)";
    let (first, _) = answer(&list_view(2, opts, whole, at(1, 0)));
    println!(
        "first window of {len} contacts (sorts the phone book once): {} ms",
        first.as_millis()
    );
    let mut kinds: Vec<(String, Vec<Duration>)> = Vec::new();
    // The whole phone book, first entry to last.
    let windows: Vec<Duration> = (0..len.div_ceil(20))
        .map(|w| answer(&list_view(3, opts, whole, at(w * 20 + 1, len))).0)
        .collect();
    kinds.push(("whole book, offset, first to last".into(), windows));
    // Jumping to what is typed, letter by letter.
    let typed: Vec<Duration> = ('a'..='z')
        .flat_map(|a| [a.to_string(), format!("{a}e"), format!("{a}ri")])
        .map(|value| {
            let req = vlv::Request {
                before: 2,
                after: 17,
                target: vlv::Target::Value(value),
                context: None,
            };
            answer(&list_view(4, opts, whole, req)).0
        })
        .collect();
    kinds.push(("whole book, typed value".into(), typed));
    // Some of the phone book (names starting with M): the first window sorts them,
    // the next ones reuse that.
    let some = "(|(sn=m*)(givenName=m*))";
    let (sorting, _) = answer(&list_view(5, opts, some, at(1, 0)));
    let mut windows = Vec::new();
    for w in 1.. {
        let (cpu, bytes) = answer(&list_view(6, opts, some, at(w * 20 + 1, 0)));
        windows.push(cpu);
        if bytes < 200 || w > 5_000 {
            break;
        }
    }
    kinds.push((
        format!("names M*, offset (first window {} ms)", sorting.as_millis()),
        windows,
    ));
    println!(
        "{:<48} {:>8} {:>10} {:>10} {:>10}",
        "browse", "windows", "mean us", "p99 us", "max us"
    );
    kinds.sort_by_key(|(_, w)| w.iter().sum::<Duration>() / w.len().max(1) as u32);
    for (kind, mut windows) in kinds {
        windows.sort();
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        let mean = windows.iter().sum::<Duration>() / windows.len().max(1) as u32;
        println!(
            "{kind:<48} {:>8} {:>10.1} {:>10.1} {:>10.1}",
            windows.len(),
            us(mean),
            us(windows[windows.len() * 99 / 100]),
            us(windows[windows.len() - 1])
        );
    }
}

/// This thread's CPU time: other processes on the machine do not count.
fn thread_cpu() -> Duration {
    use nix::time::{ClockId, clock_gettime};
    clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID).map_or(Duration::ZERO, Duration::from)
}

/// Every class of the filter matrix answered in turn, each filter repeated for
/// about 20 ms of CPU: the CPU per answered search, costliest classes last.
fn matrix(dir: &Arc<Directory>, policy: &Policy, opts: &load::LoadOptions) {
    let cases = sop::bench::shapes::matrix(dir, 11, 6);
    let mut session = Session::new(false, 1);
    let mut codec = LdapCodec::new(Some(1 << 20), None);
    let classes = sop::bench::shapes::by_class(&cases);
    // Once through every filter first: the first touch of a page is not a search's.
    for filter in classes.iter().flat_map(|(_, filters)| filters) {
        if let Ok(ldap) = sop::directory::lookup::parse_text(filter) {
            let mut buf = BytesMut::new();
            let _ = LdapCodec::default().encode(load::search(2, opts, ldap), &mut buf);
            let _ = session::respond(&mut session, &buf, &mut codec, dir, policy, Instant::now());
        }
    }
    let mut costs: Vec<(f64, String, String)> = Vec::new();
    for (class, filters) in classes {
        let mut worst = (0.0, String::new());
        let mut total = 0.0;
        for filter in &filters {
            let Ok(ldap) = sop::directory::lookup::parse_text(filter) else {
                continue;
            };
            let mut buf = BytesMut::new();
            let _ = LdapCodec::default().encode(load::search(2, opts, ldap), &mut buf);
            let started = Instant::now();
            let cpu = thread_cpu();
            let mut n = 0u32;
            while n < 3 || thread_cpu() - cpu < Duration::from_millis(20 / filters.len() as u64) {
                let _ = session::respond(&mut session, &buf, &mut codec, dir, policy, started);
                n += 1;
            }
            let us = (thread_cpu() - cpu).as_secs_f64() * 1e6 / f64::from(n);
            total += us;
            if us > worst.0 {
                worst = (us, filter.clone());
            }
        }
        costs.push((total / filters.len() as f64, class, worst.1));
    }
    costs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let show = env("SHOW", 25).min(costs.len());
    for (us, class, filter) in &costs[costs.len() - show..] {
        println!("{us:>9.1} us  {class:<36} {filter}");
    }
    let over = costs.iter().filter(|c| c.0 > 300.0).count();
    let median = costs[costs.len() / 2].0;
    println!(
        "{} classes, median {median:.1} us, {over} above 300 us",
        costs.len()
    );
}
