//! What the shell measures of itself, for the benchmark (`tests/bench/shell.sh`):
//! the first frame, each key press until its frame is drawn, and each search as
//! typed until its results are drawn. The figures go to the shell log on exit.

use std::collections::HashMap;
use std::time::{Duration, Instant};

#[derive(Debug, Default)]
pub struct Timings {
    pub first_frame: Option<Duration>,
    keys: Vec<Duration>,
    searches: Vec<Duration>,
    /// When the key that sent each search (by sequence number) arrived.
    pending: HashMap<u64, Instant>,
}

impl Timings {
    pub fn key(&mut self, arrived: Instant, drawn: Instant) {
        self.keys.push(drawn - arrived);
    }

    pub fn search_sent(&mut self, seq: u64, key_at: Instant) {
        self.pending.insert(seq, key_at);
    }

    pub fn search_drawn(&mut self, seq: u64, drawn: Instant) {
        if let Some(at) = self.pending.remove(&seq) {
            self.searches.push(drawn - at);
        }
        // Answers that were superseded are never drawn: forget them.
        self.pending.retain(|s, _| *s > seq);
    }

    /// One log line: counts, median, 99th percentile and worst, in milliseconds.
    pub fn summary(&mut self) -> String {
        let first = self
            .first_frame
            .map_or("-".to_string(), |d| format!("{:.1}", ms(d)));
        format!(
            "first_frame_ms={first} {} {}",
            stats("key", &mut self.keys),
            stats("search", &mut self.searches)
        )
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn stats(name: &str, v: &mut [Duration]) -> String {
    if v.is_empty() {
        return format!("{name}s=0");
    }
    v.sort();
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    format!(
        "{name}s={} {name}_p50_ms={:.2} {name}_p99_ms={:.2} {name}_max_ms={:.2}",
        v.len(),
        ms(at(0.5)),
        ms(at(0.99)),
        ms(v[v.len() - 1])
    )
}
