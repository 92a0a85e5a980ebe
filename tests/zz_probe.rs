#![allow(clippy::unwrap_used)]
use sop::bench::{load::phone_filter, phonebook};
use sop::directory::*;
#[test]
#[ignore]
fn probe() {
    let contacts = phonebook::generate(100_000, 1);
    let g = Generation { number: 1, created: 0, contacts: contacts.into_iter().map(|c| ServedContact { uid: format!("int-{}", c.id), source: "int".into(), contact: c }).collect() };
    let t = std::time::Instant::now();
    let d = Directory::build(&g, "dc=x", &NumberRules::default());
    eprintln!("build {:?} heap {} B/contact", t.elapsed(), d.heap_bytes() / 100_000);
    let mut rng = fastrand::Rng::with_seed(5);
    let limits = FilterLimits { max_depth: 32, max_terms: 512 };
    let mut stats = std::collections::BTreeMap::new();
    for _ in 0..4000 {
        let (typed, number) = phonebook::typed(&mut rng);
        let contains = rng.bool();
        let f = Filter::compile(&phone_filter(&typed, number, contains), &limits, &NumberRules::default()).unwrap();
        let t = std::time::Instant::now();
        let n = d.search(&f).take(51).count();
        let us = t.elapsed().as_micros();
        let key = format!("{}{}{}", if number {"num"} else {"name"}, if contains {"-contains-"} else {"-prefix-"}, typed.chars().count());
        let e = stats.entry(key).or_insert((0u128, 0usize, 0usize, 0u128));
        e.0 += us; e.1 += 1; e.2 += n; e.3 = e.3.max(us);
    }
    for (k, (us, cnt, n, max)) in stats { eprintln!("{k:22} avg {:>6.1} us  max {max:>6} us  avg results {:.1}", us as f64 / cnt as f64, n as f64 / cnt as f64); }
}
