//! CPU per answered search without the network: the phone mix of `sop bench load`
//! answered by the same code the server runs, against a generated directory; and
//! how exact the index is for each kind of search (candidates checked per match).
//!
//! `cargo bench --bench respond [-- COUNT]`; env `SIZE` (size limit, 50) and
//! `ROUNDS` (3).

use bytes::BytesMut;
use ldap3_proto::LdapCodec;
use sop::bench::{load, phonebook};
use sop::config::Config;
use sop::directory::{Directory, Filter, Generation, NumberRules, ServedContact};
use sop::ldap::policy::Policy;
use sop::ldap::session::{self, Session};
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
    let dir = Arc::new(Directory::build(&generation, base, &NumberRules::default()));
    println!(
        "directory of {count} contacts built in {} ms",
        started.elapsed().as_millis()
    );
    drop(generation);
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
