//! A node for process tests: a temporary home, free ports, the real `sop` binary.
#![allow(dead_code, clippy::unwrap_used, clippy::panic)]

pub mod raw;
pub mod slapd;
pub mod tls;
pub mod tmpfs;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const BASE: &str = "dc=phonebook,dc=local";

/// A loopback port nothing listens on, for a server a test starts. Taken below
/// the kernel's ephemeral range (32768 and up), where the source ports of the
/// tests' own client connections (ssh, LDAP) would take it first; each call in a
/// test process gets another one.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    loop {
        let step = NEXT.fetch_add(1, Ordering::Relaxed);
        // 20000 to 31999, from a place of its own for each test process.
        let port = (20_000 + (std::process::id() + step) % 12_000) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

pub struct Node {
    pub dir: tempfile::TempDir,
    pub port: u16,
}

impl Node {
    /// A new home listening on a free loopback port, with config keys set:
    /// `("ldap.size_limit", "3")` (values are TOML).
    pub fn new(settings: &[(&str, &str)]) -> Node {
        Node::init(&["init"], settings)
    }

    /// A node made with `sop init --bare`: no module installed.
    pub fn bare(settings: &[(&str, &str)]) -> Node {
        Node::init(&["init", "--bare"], settings)
    }

    fn init(init: &[&str], settings: &[(&str, &str)]) -> Node {
        let dir = tempfile::Builder::new().prefix("sop-").tempdir().unwrap();
        Node::init_in(dir, init, settings)
    }

    /// A new home in `dir` (a directory the caller prepared, a small file system say).
    pub fn new_in(dir: tempfile::TempDir, settings: &[(&str, &str)]) -> Node {
        Node::init_in(dir, &["init"], settings)
    }

    fn init_in(dir: tempfile::TempDir, init: &[&str], settings: &[(&str, &str)]) -> Node {
        let node = Node {
            dir,
            port: free_port(),
        };
        node.sop(init).success();
        let listen = format!("[\"127.0.0.1:{}\"]", node.port);
        let mut all = vec![("ldap.listen", listen.as_str())];
        all.extend_from_slice(settings);
        node.set(&all);
        node
    }

    /// Sets config keys in config.toml, keeping its comments.
    pub fn set(&self, settings: &[(&str, &str)]) {
        let text = std::fs::read_to_string(self.config()).unwrap();
        let mut doc: toml_edit::DocumentMut = text.parse().unwrap();
        for (key, value) in settings {
            let parts: Vec<&str> = key.split('.').collect();
            let (last, tables) = parts.split_last().unwrap();
            let mut table = doc.as_table_mut();
            for t in tables {
                table = table
                    .entry(t)
                    .or_insert(toml_edit::table())
                    .as_table_mut()
                    .unwrap();
            }
            let value: toml_edit::Value = value.parse().unwrap();
            table[*last] = toml_edit::value(value);
        }
        std::fs::write(self.config(), doc.to_string()).unwrap();
    }

    pub fn home(&self) -> &Path {
        self.dir.path()
    }

    pub fn config(&self) -> PathBuf {
        self.home().join("config.toml")
    }

    pub fn url(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.port)
    }

    /// Runs `sop --home HOME args...`.
    pub fn sop(&self, args: &[&str]) -> Run {
        let out = Command::new(env!("CARGO_BIN_EXE_sop"))
            .arg("--home")
            .arg(self.home())
            .args(args)
            .output()
            .unwrap();
        Run {
            args: args.join(" "),
            out,
        }
    }

    pub fn start(&self) {
        self.sop(&["server", "start"]).success();
    }

    /// Writes a CSV file in the home and imports it as the whole set of internal
    /// contacts (`--replace --force`: the test means to replace them), then merges.
    pub fn publish_csv(&self, csv: &str) {
        self.publish_file("import.csv", csv);
    }

    /// `publish_csv` for a list in any format, named by `file_name`'s extension.
    pub fn publish_file(&self, file_name: &str, text: &str) {
        self.replace_contacts(file_name, text);
        self.sop(&["ucm", "merge"]).success();
    }

    /// Writes `text` to `file_name` in the home and makes it the whole set of
    /// internal contacts (`contacts import --replace --force`), without a merge.
    pub fn replace_contacts(&self, file_name: &str, text: &str) {
        let path = self.home().join(file_name);
        std::fs::write(&path, text).unwrap();
        self.sop(&[
            "contacts",
            "import",
            path.to_str().unwrap(),
            "--replace",
            "--force",
        ])
        .success();
    }

    /// `ldapsearch -x -LLL` against this node; returns stdout and the exit code.
    pub fn ldapsearch(&self, args: &[&str]) -> (String, i32) {
        let out = Command::new("ldapsearch")
            .args(["-x", "-LLL", "-o", "ldif-wrap=no", "-H", &self.url()])
            .args(args)
            .output()
            .expect("ldapsearch (package ldap-utils) must be installed");
        (
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
            out.status.code().unwrap_or(-1),
        )
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = Command::new(env!("CARGO_BIN_EXE_sop"))
            .arg("--home")
            .arg(self.home())
            .args(["server", "stop"])
            .output();
    }
}

pub struct Run {
    pub args: String,
    pub out: Output,
}

impl Run {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }
    pub fn success(self) -> Run {
        assert!(
            self.out.status.success(),
            "sop {} failed ({}):\n{}\n{}",
            self.args,
            self.out.status,
            self.stdout(),
            self.stderr()
        );
        self
    }
    pub fn failure(self) -> Run {
        assert!(
            !self.out.status.success(),
            "sop {} should have failed:\n{}\n{}",
            self.args,
            self.stdout(),
            self.stderr()
        );
        self
    }
    pub fn code(&self) -> i32 {
        self.out.status.code().unwrap_or(-1)
    }
}

/// `ldapsearch` of the server at `url` under `base` with a virtual list view, as
/// a phone browses (`-E !sss=SORT -E !vlv=WINDOW`, then `rest`: more options, the
/// filter, the attributes): its output for the first window only. ldapsearch then
/// asks on stdin for the next window; one it cannot read ends it (EOF would ask
/// for the next window, forever).
pub fn ldapsearch_view(url: &str, base: &str, sort: &str, window: &str, rest: &[&str]) -> String {
    use std::io::Write;
    let (sss, vlv) = (format!("!sss={sort}"), format!("!vlv={window}"));
    let mut child = Command::new("ldapsearch")
        .args(["-x", "-o", "ldif-wrap=no", "-H", url, "-b", base])
        .args(["-E", &sss, "-E", &vlv])
        .args(rest)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("ldapsearch (package ldap-utils) must be installed");
    child.stdin.take().unwrap().write_all(b"end\n").unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The LDIF `ldapsearch` prints for a one-level search under `BASE` of the server
/// on `port`, with no size limit, or its error.
pub fn search_one(port: u16, filter: &str, attrs: &[&str]) -> Result<String, String> {
    let out = Command::new("ldapsearch")
        .args(["-x", "-LLL", "-o", "ldif-wrap=no", "-z", "0", "-s", "one"])
        .args(["-b", BASE, "-H", &format!("ldap://127.0.0.1:{port}")])
        .arg(filter)
        .args(attrs)
        .output()
        .unwrap();
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Values of `attr` in ldapsearch LDIF output (base64 values decoded).
pub fn values(ldif: &str, attr: &str) -> Vec<String> {
    let plain = format!("{attr}: ");
    let coded = format!("{attr}:: ");
    ldif.lines()
        .filter_map(|l| {
            if let Some(v) = l.strip_prefix(&plain) {
                Some(v.to_string())
            } else {
                l.strip_prefix(&coded).map(decode64)
            }
        })
        .collect()
}

fn decode64(s: &str) -> String {
    let table = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in s.bytes().filter(|c| *c != b'=') {
        let Some(v) = table.iter().position(|t| *t == c) else {
            continue;
        };
        bits = (bits << 6) | v as u32;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
