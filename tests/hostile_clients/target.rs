//! A node under attack: the server's memory read from /proc, the phones searching
//! meanwhile, and the figures of each attack.

use crate::common::Node;
use crate::common::raw::still_serving;
use crate::phones::{
    CONTACTS, LOCKED_OUT, Phone, Phones, SEED, Tally, ask, book_csv, connect, phone_searches,
};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, UNIX_EPOCH};

/// How long the phones search before an attack, for the quiet figures.
pub const QUIET: Duration = Duration::from_secs(1);

fn proc_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

pub fn rss_kib(pid: u32) -> u64 {
    proc_kib(pid, "VmRSS:")
}

/// The kernel's memory for the TCP buffers of the whole system, in KiB
/// (`/proc/net/sockstat` counts it in pages): where answers wait that a client does
/// not read. The server's resident memory does not include it.
fn tcp_kib() -> u64 {
    let stat = std::fs::read_to_string("/proc/net/sockstat").unwrap();
    let pages = stat
        .lines()
        .find(|l| l.starts_with("TCP:"))
        .and_then(|l| {
            let mut words = l.split_whitespace().skip_while(|w| *w != "mem");
            words.nth(1).and_then(|v| v.parse::<u64>().ok())
        })
        .unwrap_or(0);
    let page = nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
        .ok()
        .flatten()
        .unwrap_or(4096) as u64;
    pages * page / 1024
}

/// The highest resident memory of the server from its start to its stop, sampled
/// every 2 ms and read from the kernel's own high-water mark (VmHWM, reset at the
/// start with `clear_refs`), which catches a peak between two samples; and the
/// highest TCP buffer memory meanwhile.
struct Peak {
    pid: u32,
    stop: Arc<AtomicBool>,
    rss: Arc<AtomicU64>,
    tcp: Arc<AtomicU64>,
    tcp_before: u64,
    sampler: JoinHandle<()>,
    kernel_reset: bool,
}

impl Peak {
    fn start(pid: u32) -> Peak {
        let kernel_reset = std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok();
        let stop = Arc::new(AtomicBool::new(false));
        let rss = Arc::new(AtomicU64::new(rss_kib(pid)));
        let tcp_before = tcp_kib();
        let tcp = Arc::new(AtomicU64::new(tcp_before));
        let sampler = {
            let (stop, rss, tcp) = (stop.clone(), rss.clone(), tcp.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    rss.fetch_max(rss_kib(pid), Ordering::Relaxed);
                    tcp.fetch_max(tcp_kib(), Ordering::Relaxed);
                    std::thread::sleep(Duration::from_millis(2));
                }
            })
        };
        Peak {
            pid,
            stop,
            rss,
            tcp,
            tcp_before,
            sampler,
            kernel_reset,
        }
    }

    /// The peak resident memory, and the most TCP buffer memory added.
    fn stop(self) -> (u64, u64) {
        self.stop.store(true, Ordering::Relaxed);
        self.sampler.join().unwrap();
        let mut rss = self.rss.load(Ordering::Relaxed).max(rss_kib(self.pid));
        if self.kernel_reset {
            rss = rss.max(proc_kib(self.pid, "VmHWM:"));
        }
        let tcp = self
            .tcp
            .load(Ordering::Relaxed)
            .saturating_sub(self.tcp_before);
        (rss, tcp)
    }
}

pub fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

pub struct Target {
    pub node: Node,
    pub pid: u32,
    /// Resident memory once the phone book is loaded and a few searches answered.
    pub idle_kib: u64,
    pub searches: Arc<Vec<Vec<u8>>>,
}

/// Sizes of the files in the node's log directory.
fn log_sizes(node: &Node) -> BTreeMap<String, u64> {
    std::fs::read_dir(node.home().join("log"))
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                e.metadata().unwrap().len(),
            )
        })
        .collect()
}

fn lines_of(node: &Node, log: &str) -> usize {
    std::fs::read_to_string(node.home().join("log").join(log))
        .unwrap_or_default()
        .lines()
        .count()
}

fn server_pid(node: &Node) -> u32 {
    let json = node.sop(&["server", "status", "--json"]).success().stdout();
    let status: serde_json::Value = serde_json::from_str(&json).unwrap();
    status["status"]["pid"].as_u64().unwrap() as u32
}

/// A node's `data/` holding the generated phone book, merged once for the `sop`
/// binary under test and kept in the target's tmp directory: a merge of 20,000
/// contacts takes some 13 s in a debug build, loading the image it saves half a second.
fn merged_book() -> &'static Path {
    static DATA: OnceLock<PathBuf> = OnceLock::new();
    DATA.get_or_init(|| {
        let bin = std::fs::metadata(env!("CARGO_BIN_EXE_sop")).unwrap();
        let built = bin.modified().unwrap().duration_since(UNIX_EPOCH).unwrap();
        let root = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let profile = if cfg!(debug_assertions) {
            "hostile-book-debug-"
        } else {
            "hostile-book-release-"
        };
        let name = format!(
            "{profile}{CONTACTS}-{SEED}-{}-{}",
            built.as_nanos(),
            bin.len()
        );
        let dir = root.join(&name);
        if !dir.exists() {
            let node = Node::new(&[]);
            node.publish_csv(&book_csv());
            let partial = root.join(format!("{name}.{}", std::process::id()));
            copy_dir(&node.home().join("data"), &partial);
            // Another test process may have made it meanwhile: either copy will do.
            if std::fs::rename(&partial, &dir).is_err() {
                let _ = std::fs::remove_dir_all(&partial);
            }
            // Those of earlier builds of the same profile.
            for old in std::fs::read_dir(root).unwrap().flatten() {
                let old_name = old.file_name().to_string_lossy().into_owned();
                if old_name.starts_with(profile) && !old_name.starts_with(&name) {
                    let _ = std::fs::remove_dir_all(old.path());
                }
            }
        }
        dir
    })
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

impl Target {
    /// A node with these settings serving the generated phone book, loaded and warmed.
    pub fn start(settings: &[(&str, &str)]) -> Target {
        let node = Node::new(settings);
        // Merged before the start: the server loads the phone book as it does at a
        // restart, and its memory holds no trace of the import or the merge.
        let data = node.home().join("data");
        std::fs::remove_dir_all(&data).unwrap();
        copy_dir(merged_book(), &data);
        Target::serving(node)
    }

    /// A node serving the sample phone book `sop init` makes (25 contacts): a small
    /// node, whose idle size is little more than the server's own.
    pub fn sample(settings: &[(&str, &str)]) -> Target {
        Target::serving(Node::new(settings))
    }

    fn serving(node: Node) -> Target {
        node.start();
        let pid = server_pid(&node);
        let searches = Arc::new(phone_searches());
        let mut warm = connect(node.port).ok().unwrap();
        for request in searches.iter().take(40) {
            assert!(ask(&mut warm, request).is_ok(), "the server answers");
        }
        drop(warm);
        let idle_kib = rss_kib(pid);
        Target {
            node,
            pid,
            idle_kib,
            searches,
        }
    }

    pub fn port(&self) -> u16 {
        self.node.port
    }

    pub fn addr(&self) -> SocketAddr {
        ([127, 0, 0, 1], self.node.port).into()
    }

    /// Runs `attack` while the phones search, and prints the figures. The attack is
    /// over when `attack` returns (what it returns, such as open connections, is
    /// handed back to the caller).
    pub fn attack<T>(&self, name: &str, attack: impl FnOnce(&Target) -> T) -> (Figures, T) {
        let phones = Phones::start(self.port(), self.searches.clone());
        std::thread::sleep(QUIET);
        let logs_before = log_sizes(&self.node);
        let server_lines_before = lines_of(&self.node, "server.log");
        let access_lines_before = lines_of(&self.node, "access.log");
        let peak = Peak::start(self.pid);
        let started = Instant::now();
        let kept = attack(self);
        let ended = Instant::now();
        let (peak_kib, tcp_kib) = peak.stop();
        let tallies = phones.stop();
        // Everything the attack sent was handled once a new search is answered
        // (access log lines are written in the background: give it a moment).
        still_serving(self.port());
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(
            server_pid(&self.node),
            self.pid,
            "{name}: the same server still runs"
        );
        let logs_after = log_sizes(&self.node);
        let grown = |file: &str| {
            logs_after.get(file).copied().unwrap_or(0) - logs_before.get(file).copied().unwrap_or(0)
        };
        let figures = Figures {
            name: name.to_string(),
            idle_kib: self.idle_kib,
            peak_kib,
            tcp_kib,
            during: Latencies::of(&tallies, |at| at >= started && at < ended),
            quiet: Latencies::of(&tallies, |at| at < started),
            log_bytes: logs_after.keys().map(|f| grown(f)).sum(),
            server_log_bytes: grown("server.log"),
            server_log_lines: lines_of(&self.node, "server.log") - server_lines_before,
            access_log_lines: lines_of(&self.node, "access.log") - access_lines_before,
            phone_operations: tallies.iter().map(|t| t.operations).sum(),
            failed: tallies
                .iter()
                .flat_map(|t| t.failed.iter().map(|(_, why)| why.clone()))
                .collect(),
            refused: tallies.iter().map(|t| t.refused.len()).sum(),
            refused_kept: tallies
                .iter()
                .filter(|t| t.phone == Phone::Persistent)
                .map(|t| t.refused.len())
                .sum(),
            new_connection_searches: tallies
                .iter()
                .filter(|t| t.phone == Phone::NewConnection)
                .map(|t| t.answered.len() + t.refused.len() + t.failed.len())
                .sum(),
        };
        figures.print();
        (figures, kept)
    }
}

struct Latencies {
    count: usize,
    p50: Duration,
    p99: Duration,
    max: Duration,
}

impl Latencies {
    fn of(tallies: &[Tally], when: impl Fn(Instant) -> bool) -> Latencies {
        let mut all: Vec<Duration> = tallies
            .iter()
            .flat_map(|t| t.answered.iter())
            .filter(|(at, _)| when(*at))
            .map(|(_, took)| *took)
            .collect();
        all.sort();
        let at = |q: f64| {
            let i = ((all.len() as f64 * q).ceil() as usize).saturating_sub(1);
            all.get(i).copied().unwrap_or_default()
        };
        Latencies {
            count: all.len(),
            p50: at(0.50),
            p99: at(0.99),
            max: all.last().copied().unwrap_or_default(),
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub struct Figures {
    name: String,
    pub idle_kib: u64,
    pub peak_kib: u64,
    /// TCP buffer memory added (the whole system's: the attackers' sockets and the
    /// server's).
    tcp_kib: u64,
    /// Phones' searches started during the attack, and before it.
    during: Latencies,
    quiet: Latencies,
    /// Bytes added to every log file, and to server.log alone.
    log_bytes: u64,
    server_log_bytes: u64,
    server_log_lines: usize,
    pub access_log_lines: usize,
    pub phone_operations: u64,
    /// Phones' searches that got no answer (why), or a refusal (busy).
    failed: Vec<String>,
    refused: usize,
    refused_kept: usize,
    new_connection_searches: usize,
}

impl Figures {
    pub fn print(&self) {
        let refused = if self.refused > 0 {
            format!(
                ", {} of {} new connections refused (busy)",
                self.refused, self.new_connection_searches
            )
        } else {
            String::new()
        };
        println!(
            "hostile: {} | idle RSS {:.1} MiB | peak RSS {:.1} MiB ({:.2}× idle) | others: {} \
             searches, p50 {:.2} ms, p99 {:.2} ms, max {:.1} ms (quiet p99 {:.2} ms){refused} \
             | log +{} KiB (server.log +{} KiB) | TCP buffers +{:.1} MiB",
            self.name,
            mib(self.idle_kib),
            mib(self.peak_kib),
            self.peak_kib as f64 / self.idle_kib as f64,
            self.during.count,
            ms(self.during.p50),
            ms(self.during.p99),
            ms(self.during.max),
            ms(self.quiet.p99),
            self.log_bytes.div_ceil(1024),
            self.server_log_bytes.div_ceil(1024),
            mib(self.tcp_kib),
        );
    }

    /// Every phone got its answers throughout, none slower than "locked out".
    pub fn phones_served(&self) {
        assert!(
            self.failed.is_empty(),
            "{}: phones got no answer {} times: {:?}",
            self.name,
            self.failed.len(),
            &self.failed[..self.failed.len().min(5)]
        );
        assert_eq!(self.refused, 0, "{}: phones refused as busy", self.name);
        self.kept_connections_served();
    }

    /// Phones on the connections they keep got their answers throughout.
    pub fn kept_connections_served(&self) {
        assert!(self.failed.is_empty(), "{}: {:?}", self.name, self.failed);
        assert_eq!(self.refused_kept, 0, "{}", self.name);
        assert!(
            self.during.count > 0,
            "{}: phones were answered during the attack",
            self.name
        );
        assert!(
            self.during.max < LOCKED_OUT,
            "{}: a phone waited {:?}",
            self.name,
            self.during.max
        );
    }

    /// The server's own log grew by less than 64 KiB: lines about what a client sends
    /// or tries are written at most once a minute per client address.
    pub fn server_log_bounded(&self) {
        assert!(
            self.server_log_bytes < 64 * 1024,
            "{}: server.log grew by {} bytes ({} lines)",
            self.name,
            self.server_log_bytes,
            self.server_log_lines
        );
    }

    /// The peak of resident memory stays under twice its idle value.
    pub fn memory_bounded(&self) {
        assert!(
            self.peak_kib < 2 * self.idle_kib,
            "{}: peak RSS {:.1} MiB, idle {:.1} MiB",
            self.name,
            mib(self.peak_kib),
            mib(self.idle_kib)
        );
    }
}
