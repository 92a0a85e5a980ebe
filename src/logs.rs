//! The server's logs can never take it down: a line that cannot be written (a full
//! disk, the closed terminal of a foreground `sop server run`) is dropped and
//! counted, and `sop server status` shows the counts.

use std::collections::HashMap;
use std::io::{self, Write};
use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

static SERVER_DROPPED: AtomicU64 = AtomicU64::new(0);
static ACCESS_DROPPED: AtomicU64 = AtomicU64::new(0);

/// Server log lines that could not be written.
pub fn server_dropped() -> u64 {
    SERVER_DROPPED.load(Ordering::Relaxed)
}

/// Access log lines that could not be written, or found the queue to the writer full.
pub fn access_dropped() -> u64 {
    ACCESS_DROPPED.load(Ordering::Relaxed)
}

pub fn count_access_dropped() {
    ACCESS_DROPPED.fetch_add(1, Ordering::Relaxed);
}

/// Standard error for the server log: a write that fails is counted, and reported
/// as done, so that the logger neither retries nor complains on standard error
/// (which fails too, and would abort the process).
pub struct Stderr;

impl Write for Stderr {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        loop {
            match io::stderr().write(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => {
                    SERVER_DROPPED.fetch_add(1, Ordering::Relaxed);
                    return Ok(buf.len());
                }
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        let _ = io::stderr().flush();
        Ok(())
    }
}

/// The server logs to standard error: the journal under systemd, log/server.log when
/// started with `sop server start`. `RUST_LOG` tunes it (default: info). The LDAP
/// decoder's own messages are never written: they carry the raw bytes of requests,
/// one line per request, before any bind or TLS check.
pub fn init_server() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let filter = match "ldap3_proto=off".parse() {
        Ok(quiet) => filter.add_directive(quiet),
        Err(_) => filter,
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| Stderr)
        .with_ansi(false)
        .log_internal_errors(false)
        .try_init();
    // A panic report that cannot be written is dropped too: the default report
    // panics again when standard error fails, and the process aborts.
    std::panic::set_hook(Box::new(|info| {
        let mut out = Stderr;
        let _ = writeln!(out, "panic: {info}");
    }));
}

/// Text a client chose (a control's OID, a DN, a filter), made safe for one log
/// line: control characters are escaped, so that no client can start a line.
pub fn escaped(text: &str) -> String {
    text.escape_debug().to_string()
}

/// At most one line per client address per period, for what a client may send on
/// every request. Remembers a bounded number of addresses.
pub struct PerClient {
    every: Duration,
    max_addresses: usize,
    last: Mutex<HashMap<IpAddr, Instant>>,
}

impl PerClient {
    pub fn new(every: Duration, max_addresses: usize) -> PerClient {
        PerClient {
            every,
            max_addresses,
            last: Mutex::new(HashMap::new()),
        }
    }

    /// May a line about this client be written now?
    pub fn allow(&self, ip: IpAddr, now: Instant) -> bool {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(at) = last.get(&ip) {
            if now.saturating_duration_since(*at) < self.every {
                return false;
            }
        }
        if last.len() >= self.max_addresses {
            let every = self.every;
            last.retain(|_, at| now.saturating_duration_since(*at) < every);
            if last.len() >= self.max_addresses {
                // Too many clients at once: their lines wait for the next period.
                return false;
            }
        }
        last.insert(ip, now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_client_per_period() {
        let limit = PerClient::new(Duration::from_secs(60), 2);
        let t = Instant::now();
        let (a, b, c): (IpAddr, IpAddr, IpAddr) = (
            [10, 0, 0, 1].into(),
            [10, 0, 0, 2].into(),
            [10, 0, 0, 3].into(),
        );
        assert!(limit.allow(a, t));
        assert!(!limit.allow(a, t + Duration::from_secs(59)));
        assert!(limit.allow(b, t + Duration::from_secs(1)));
        // Two addresses remembered: a third waits until one's period is over.
        assert!(!limit.allow(c, t + Duration::from_secs(2)));
        assert!(limit.allow(a, t + Duration::from_secs(60)));
        assert!(limit.allow(c, t + Duration::from_secs(61)));
    }

    #[test]
    fn client_text_cannot_start_a_log_line() {
        let forged = "1.2.3\n2026-01-01T00:00:00Z ERROR forged\r\u{1b}[31m";
        let safe = escaped(forged);
        assert!(!safe.contains(['\n', '\r', '\u{1b}']), "{safe}");
        assert!(safe.starts_with("1.2.3\\n"));
    }
}
