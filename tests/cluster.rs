//! Cluster Replication over real OpenSSH: an `sshd` on 127.0.0.1 with keys made
//! for the test, and nodes as homes on this machine, each with its own application
//! server and LDAP port. What a user would check: what phones see on each node.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::slapd::{self, Slapd};
use common::{BASE, Node};
use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const MODULES: &str = "[\"ucm\", \"ldap-server\", \"cluster\"]";

/// An OpenSSH server on a free loopback port, running as the current user, with a
/// host key, an authorized client key and a known_hosts file made for it.
struct Sshd {
    dir: tempfile::TempDir,
    port: u16,
    child: Child,
}

impl Sshd {
    fn start() -> Sshd {
        Sshd::with_sessions(100)
    }

    /// An sshd that opens at most `sessions` sessions on one connection.
    fn with_sessions(sessions: u32) -> Sshd {
        install_sshd();
        let dir = tempfile::Builder::new()
            .prefix("sop-sshd-")
            .tempdir()
            .unwrap();
        let d = dir.path();
        for key in ["host_key", "client_key", "other_key"] {
            let ok = Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-C", key, "-f"])
                .arg(d.join(key))
                .status()
                .unwrap();
            assert!(ok.success(), "ssh-keygen failed");
        }
        std::fs::copy(d.join("client_key.pub"), d.join("authorized_keys")).unwrap();
        let port = common::free_port();
        let config = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_key\nPidFile {d}/sshd.pid\n\
             AuthorizedKeysFile {d}/authorized_keys\nUsePAM no\nStrictModes no\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\n\
             PermitRootLogin prohibit-password\nMaxStartups 100\nMaxSessions {sessions}\nLogLevel INFO\n",
            d = d.display()
        );
        std::fs::write(d.join("sshd_config"), config).unwrap();
        let host = std::fs::read_to_string(d.join("host_key.pub")).unwrap();
        let mut words = host.split_whitespace();
        let (kind, key) = (words.next().unwrap(), words.next().unwrap());
        std::fs::write(
            d.join("known_hosts"),
            format!("[127.0.0.1]:{port} {kind} {key}\n"),
        )
        .unwrap();
        let log = std::fs::File::create(d.join("sshd.log")).unwrap();
        let child = Command::new("/usr/sbin/sshd")
            .args(["-D", "-e", "-f"])
            .arg(d.join("sshd_config"))
            .stderr(log)
            .spawn()
            .unwrap();
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "sshd did not start: {}",
                std::fs::read_to_string(d.join("sshd.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Sshd { dir, port, child }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Connections sshd accepted so far (logins).
    fn logins(&self) -> usize {
        std::fs::read_to_string(self.path("sshd.log"))
            .unwrap_or_default()
            .matches("Accepted publickey")
            .count()
    }

    /// `sop cluster add` arguments for `node`, logging in with `key`.
    fn add_args(&self, name: &str, node: &Node, key: &str) -> Vec<String> {
        vec![
            "cluster".into(),
            "add".into(),
            name.into(),
            "127.0.0.1".into(),
            "--port".into(),
            self.port.to_string(),
            "--identity-file".into(),
            self.path(key).display().to_string(),
            "--sop-path".into(),
            env!("CARGO_BIN_EXE_sop").into(),
            "--remote-home".into(),
            node.home().display().to_string(),
            format!(
                "--ssh-option=-oUserKnownHostsFile={}",
                self.path("known_hosts").display()
            ),
            "--ssh-option=-oIdentitiesOnly=yes".into(),
            "--ssh-option=-F/dev/null".into(),
        ]
    }

    /// Lets `key` log in too.
    fn authorize(&self, key: &str) {
        let public = std::fs::read(self.path(&format!("{key}.pub"))).unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(self.path("authorized_keys"))
            .unwrap()
            .write_all(&public)
            .unwrap();
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Installs OpenSSH's server when it is missing, as `.ci/test` does.
fn install_sshd() {
    if !Path::new("/usr/sbin/sshd").exists() {
        let root = Command::new("id").arg("-u").output().unwrap().stdout == b"0\n";
        let mut apt = if root {
            Command::new("apt-get")
        } else {
            let mut c = Command::new("sudo");
            c.arg("apt-get");
            c
        };
        let ok = apt
            .args([
                "install",
                "-y",
                "-q",
                "--no-install-recommends",
                "openssh-server",
            ])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(
            ok,
            "the cluster tests need OpenSSH's server: apt-get install openssh-server"
        );
    }
    // sshd run by root needs its privilege separation directory.
    if Command::new("id").arg("-u").output().unwrap().stdout == b"0\n" {
        let _ = std::fs::create_dir_all("/run/sshd");
    }
}

/// A node with the cluster module, its external contacts imported from `csv`.
fn origin(csv: &str) -> Node {
    let a = Node::new(&[("modules.installed", MODULES), ("node.name", "\"sop-a\"")]);
    import(&a, csv);
    a
}

fn import(node: &Node, csv: &str) {
    let path = node.home().join("external.csv");
    std::fs::write(&path, csv).unwrap();
    node.sop(&["ucm", "set", "--url", path.to_str().unwrap()])
        .success();
    node.sop(&["ucm", "import", "--force"]).success();
}

fn receiver(name: &str) -> Node {
    let name = format!("\"{name}\"");
    Node::new(&[("modules.installed", MODULES), ("node.name", &name)])
}

/// External contacts: `Ext<tag> Person<i>` with numbers +49 30 <tag><i>.
fn external_csv(tag: &str, n: usize) -> String {
    let mut csv = String::from("uid,givenName,sn,telephoneNumber\n");
    for i in 0..n {
        csv.push_str(&format!(
            "x{tag}{i},Ext{tag},Person{i},+49 30 {tag}{i:04}\n"
        ));
    }
    csv
}

fn count(node: &Node, filter: &str) -> usize {
    let (out, code) = node.ldapsearch(&["-z", "0", "-b", BASE, filter, "dn"]);
    assert!(code == 0, "ldapsearch on {} failed: {out}", node.url());
    out.lines().filter(|l| l.starts_with("dn: ")).count()
}

/// Nodes b, c and d with their servers running, added to `a`, all reached the
/// same way (one key).
fn three_running_nodes(sshd: &Sshd, a: &Node) -> (Node, Node, Node) {
    let (b, c, d) = (receiver("sop-b"), receiver("sop-c"), receiver("sop-d"));
    for (name, node) in [("b", &b), ("c", &c), ("d", &d)] {
        node.start();
        sop(a, &sshd.add_args(name, node, "client_key")).success();
    }
    (b, c, d)
}

fn sop(node: &Node, args: &[String]) -> common::Run {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    node.sop(&args)
}

fn json(run: &common::Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout()).unwrap_or_else(|e| panic!("{e}: {}", run.stdout()))
}

/// An origin that pushes every import to a running node b, which it reaches with
/// `key`; it imports from `external.csv` in its home (the path returned).
fn pushing_to_b(
    sshd: &Sshd,
    key: &str,
    settings: &[(&str, &str)],
) -> (Node, Node, std::path::PathBuf) {
    let mut all = vec![
        ("modules.installed", MODULES),
        ("cluster.push_after_import", "true"),
    ];
    all.extend_from_slice(settings);
    let a = Node::new(&all);
    let b = receiver("sop-b");
    b.start();
    sop(&a, &sshd.add_args("b", &b, key)).success();
    let path = a.home().join("external.csv");
    (a, b, path)
}

/// Waits until `node` serves `n` entries for `filter`; fails with `origin`'s log.
fn wait_served(node: &Node, filter: &str, n: usize, origin: &Node) {
    let started = Instant::now();
    while count(node, filter) < n {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{} never served {n} entries for {filter}: {}",
            node.url(),
            std::fs::read_to_string(origin.home().join("log/server.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn push_reaches_every_node_and_failed_nodes_are_retried() {
    let sshd = Sshd::start();
    let a = origin(&external_csv("1", 50));
    let (b, c, d) = (receiver("sop-b"), receiver("sop-c"), receiver("sop-d"));
    b.start();
    c.start();
    // D's application server is stopped; C logs in with a key sshd refuses.
    sop(&a, &sshd.add_args("b", &b, "client_key")).success();
    sop(&a, &sshd.add_args("c", &c, "other_key")).success();
    sop(&a, &sshd.add_args("d", &d, "client_key")).success();
    let listed = |a: &Node| {
        let out = a.sop(&["cluster", "nodes"]).success().stdout();
        out.lines()
            .filter(|l| !l.starts_with(' '))
            .filter_map(|l| l.split_whitespace().next().map(str::to_string))
            .collect::<Vec<_>>()
    };
    assert_eq!(listed(&a), ["b", "c", "d"]);

    let run = a.sop(&["cluster", "push", "--all"]).failure();
    let out = run.stdout();
    assert!(out.contains("b: ok"), "{out}");
    assert!(
        out.contains("c: FAILED") && out.contains("refused the key"),
        "{out}"
    );
    assert!(out.contains("c: to fix: ssh-copy-id -i "), "{out}");
    assert!(
        out.contains("d: FAILED") && out.contains("stopped"),
        "{out}"
    );
    assert!(out.contains("1 of 3 nodes"), "{out}");
    assert_eq!(count(&b, "(sn=Person*)"), 50);
    assert_eq!(count(&c, "(sn=Person*)"), 0);

    // Fixed: C's key is authorized; D's server started with the command the push
    // gave, pasted as shown. Only they are pushed again.
    sshd.authorize("other_key");
    let hint = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("d: to fix: "))
        .unwrap_or_else(|| panic!("no fix for d: {out}"));
    assert!(
        hint.contains("server start") && hint.contains("--home"),
        "{hint}"
    );
    let pasted = std::process::Command::new("sh")
        .args(["-c", hint])
        .output()
        .unwrap();
    assert!(
        pasted.status.success(),
        "{hint}: {}",
        String::from_utf8_lossy(&pasted.stderr)
    );
    let out = a
        .sop(&["cluster", "push", "--retry-failed"])
        .success()
        .stdout();
    assert!(out.contains("c: ok") && out.contains("d: ok"), "{out}");
    assert!(!out.contains("b: "), "{out}");
    for node in [&b, &c, &d] {
        assert_eq!(count(node, "(sn=Person*)"), 50, "{}", node.url());
        // The node's own internal contacts (the sample phone book) are still served.
        assert!(count(node, "(objectClass=*)") > 50);
    }
    let out = a
        .sop(&["cluster", "push", "--retry-failed"])
        .success()
        .stdout();
    assert!(out.contains("nothing to retry"), "{out}");

    // The same snapshot again changes nothing.
    let generation = |n: &Node| {
        json(&n.sop(&["server", "status", "--json"]).success())["status"]["generation"].clone()
    };
    let before = generation(&b);
    let out = a.sop(&["cluster", "push", "b"]).success().stdout();
    assert!(out.contains("unchanged"), "{out}");
    assert_eq!(generation(&b), before);

    let status = json(&a.sop(&["cluster", "status", "--json"]).success());
    for n in status["nodes"].as_array().unwrap() {
        assert_eq!(n["sync"], "in_sync", "{n}");
        assert_eq!(n["state"]["server_running"], true, "{n}");
        assert_eq!(n["state"]["ldap"]["answered"], true, "{n}");
        assert_eq!(n["state"]["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(n["last_push"]["ok"], true, "{n}");
    }
    // One ssh connection per way of reaching a node stays open for the next calls:
    // b and d (same host, user and key) share one, c (its own key) has its own.
    let sockets = std::fs::read_dir(a.home().join("run/ssh")).unwrap().count();
    assert_eq!(sockets, 2);

    // A newer import on A: the nodes are behind until it is pushed.
    import(&a, &external_csv("2", 60));
    let out = a.sop(&["cluster", "status"]).success().stdout();
    assert_eq!(out.matches("BEHIND").count(), 3, "{out}");
    a.sop(&["cluster", "push", "--all"]).success();
    assert_eq!(count(&c, "(sn=Person*)"), 60);
    assert_eq!(count(&c, "(givenName=Ext1)"), 0);

    // A node whose host key is not known: said so, with the command that fixes it.
    let mut args = sshd.add_args("e", &b, "client_key");
    args.retain(|a| !a.contains("UserKnownHostsFile"));
    args.push("--ssh-option=-oUserKnownHostsFile=/dev/null".into());
    sop(&a, &args).success();
    let out = a.sop(&["cluster", "status"]).failure().stdout();
    assert!(
        out.contains("e (127.0.0.1): UNREACHABLE: the host key of 127.0.0.1 is not known"),
        "{out}"
    );
    let fix = format!(
        "ssh-keyscan -p {} 127.0.0.1 >> ~/.ssh/known_hosts",
        sshd.port
    );
    assert!(out.contains(&fix), "{out}");
    a.sop(&["cluster", "remove", "e"]).success();
    assert_eq!(listed(&a), ["b", "c", "d"]);
}

#[test]
fn nodes_behind_one_shared_connection_are_all_checked_when_sshd_limits_its_sessions() {
    // One session per connection: nodes sharing a connection cannot all use it at once.
    let sshd = Sshd::with_sessions(1);
    let a = origin(&external_csv("1", 10));
    let (b, c, d) = three_running_nodes(&sshd, &a);
    a.sop(&["cluster", "push", "--all"]).success();
    for _ in 0..2 {
        let status = json(&a.sop(&["cluster", "status", "--json"]).success());
        let nodes = status["nodes"].as_array().unwrap();
        assert_eq!(nodes.len(), 3);
        for n in nodes {
            assert_eq!(n["reachable"], true, "{n}");
            assert_eq!(n["sync"], "in_sync", "{n}");
            assert_eq!(n["state"]["server_running"], true, "{n}");
        }
    }
    for node in [&b, &c, &d] {
        assert_eq!(count(node, "(sn=Person*)"), 10, "{}", node.url());
    }
}

#[test]
fn nodes_reached_the_same_way_share_one_new_connection_instead_of_each_opening_one() {
    let sshd = Sshd::start();
    let a = origin(&external_csv("1", 10));
    // Kept to the end: their servers answer the pushes and the status.
    let _nodes = three_running_nodes(&sshd, &a);
    a.sop(&["cluster", "push", "--all"]).success();
    assert_eq!(sshd.logins(), 1, "three pushes at once, one login");
    // The connection closed, the next status opens one again, for all three nodes.
    let sockets: Vec<_> = std::fs::read_dir(a.home().join("run/ssh"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(sockets.len(), 1);
    let closed = Command::new("ssh")
        .arg("-o")
        .arg(format!("ControlPath={}", sockets[0].display()))
        .args(["-O", "exit", "node"])
        .output()
        .unwrap();
    assert!(closed.status.success(), "{closed:?}");
    let status = json(&a.sop(&["cluster", "status", "--json"]).success());
    let nodes = status["nodes"].as_array().unwrap();
    assert!(nodes.iter().all(|n| n["sync"] == "in_sync"), "{status}");
    assert_eq!(sshd.logins(), 2, "a status of three nodes, one login");
}

#[test]
fn a_snapshot_damaged_in_transit_is_refused_and_the_node_keeps_serving() {
    let a = origin(&external_csv("1", 40));
    let b = receiver("sop-b");
    b.start();
    let config = sop::config::Config::load(&a.config()).unwrap();
    let payload = sop::cluster::push::payload(&sop::home::Home::new(a.home()), &config).unwrap();
    let wire = payload.bytes.as_ref().clone();
    let receive = |bytes: &[u8]| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sop"))
            .arg("--home")
            .arg(b.home())
            .args(["cluster", "receive"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let _ = child.stdin.take().unwrap().write_all(bytes);
        child.wait_with_output().unwrap()
    };
    let out = receive(&wire);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(count(&b, "(sn=Person*)"), 40);
    let stored = std::fs::read(b.home().join("data/sources/ext.snap")).unwrap();

    // A newer list, damaged on the way in several ways.
    import(&a, &external_csv("2", 45));
    let payload = sop::cluster::push::payload(&sop::home::Home::new(a.home()), &config).unwrap();
    let good = payload.bytes.as_ref().clone();
    // A bit flipped in the contacts (the payload's tail), and one in the sender's
    // name in its header (the JSON still reads).
    let mut flipped = good.clone();
    let n = flipped.len();
    flipped[n - 16] ^= 0x20;
    let mut renamed = good.clone();
    let at = renamed
        .windows(10)
        .position(|w| w == b"\"sender\":\"")
        .unwrap();
    renamed[at + 10] ^= 0x20;
    let truncated = good[..good.len() - 40].to_vec();
    for (what, bytes) in [
        ("flipped", flipped),
        ("renamed", renamed),
        ("truncated", truncated),
        ("garbage", b"PK\x03\x04 not a snapshot".to_vec()),
        ("empty", Vec::new()),
    ] {
        let out = receive(&bytes);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{what} was accepted");
        assert!(err.contains("nothing was stored"), "{what}: {err}");
        assert_eq!(
            std::fs::read(b.home().join("data/sources/ext.snap")).unwrap(),
            stored,
            "{what}"
        );
        assert_eq!(count(&b, "(sn=Person*)"), 40, "{what}");
    }
    assert!(receive(&good).status.success());
    assert_eq!(count(&b, "(givenName=Ext2)"), 45);

    // Without the module, the commands say how to install it.
    let bare = Node::new(&[]);
    let err = bare.sop(&["cluster", "nodes"]).failure().stderr();
    assert!(err.contains("sop module install cluster"), "{err}");
}

#[test]
fn a_push_during_a_merge_on_the_node_loses_nothing() {
    let sshd = Sshd::start();
    let a = origin(&external_csv("1", 30));
    let b = receiver("sop-b");
    // Enough internal contacts that a merge takes a while.
    let book = b
        .sop(&["bench", "phonebook", "--count", "8000"])
        .success()
        .stdout();
    let path = b.home().join("internal.csv");
    std::fs::write(&path, book).unwrap();
    b.sop(&["contacts", "import", path.to_str().unwrap()])
        .success();
    b.start();
    sop(&a, &sshd.add_args("b", &b, "client_key")).success();
    // A new connection each time: the push works the same without sharing.
    a.set(&[("cluster.share_connections", "0")]);
    let internal = json(&b.sop(&["ucm", "merge", "--json"]).success())["contacts"]
        .as_u64()
        .unwrap();

    let merging = Command::new(env!("CARGO_BIN_EXE_sop"))
        .arg("--home")
        .arg(b.home())
        .args(["ucm", "merge"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let pushed = a.sop(&["cluster", "push", "b"]);
    let merged = merging.wait_with_output().unwrap();
    assert!(merged.status.success());
    pushed.success();
    assert_eq!(count(&b, "(givenName=Ext1)"), 30);
    let served = json(&b.sop(&["server", "status", "--json"]).success())["status"]["contacts"]
        .as_u64()
        .unwrap();
    assert_eq!(served, internal + 30);
    assert!(!a.home().join("run/ssh").exists());
}

#[test]
fn a_scheduled_import_is_pushed_to_every_node_when_configured() {
    let sshd = Sshd::start();
    let (a, b, path) = pushing_to_b(&sshd, "client_key", &[]);
    std::fs::write(&path, external_csv("3", 25)).unwrap();
    a.sop(&[
        "ucm",
        "set",
        "--url",
        path.to_str().unwrap(),
        "--cron",
        "* * * * * *",
    ])
    .success();
    a.start();
    let started = Instant::now();
    wait_served(&b, "(givenName=Ext3)", 25, &a);
    // The node serves the push before the origin has recorded its outcome.
    let mut nodes = json(&a.sop(&["cluster", "nodes", "--json"]).success());
    while nodes[0]["last_push"].is_null() && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(200));
        nodes = json(&a.sop(&["cluster", "nodes", "--json"]).success());
    }
    assert_eq!(nodes[0]["last_push"]["ok"], true, "{nodes}");
}

/// Import now is pushed like a scheduled import: from the CLI with the origin's
/// server stopped (the push's outcome printed), and through its running server.
#[test]
fn an_import_now_is_pushed_from_the_cli_and_through_the_server() {
    let sshd = Sshd::start();
    let (a, b, path) = pushing_to_b(&sshd, "client_key", &[]);
    std::fs::write(&path, external_csv("4", 20)).unwrap();
    a.sop(&["ucm", "set", "--url", path.to_str().unwrap()])
        .success();
    let out = a.sop(&["ucm", "import"]).success().stdout();
    assert!(out.contains("pushed to b: ok"), "{out}");
    assert_eq!(count(&b, "(givenName=Ext4)"), 20);
    // The same list again changes nothing: nothing is pushed.
    let out = a.sop(&["ucm", "import"]).success().stdout();
    assert!(!out.contains("pushed to"), "{out}");

    a.start();
    std::fs::write(&path, external_csv("5", 22)).unwrap();
    a.sop(&["ucm", "import", "--force"]).success();
    wait_served(&b, "(givenName=Ext5)", 22, &a);
}

/// A node that could not be pushed to catches up on its own once it can be
/// reached again: the running server retries it with backoff.
#[test]
fn a_node_that_failed_is_retried_until_it_is_in_sync() {
    let sshd = Sshd::start();
    // b's key is refused: every push to b fails until it is authorized.
    let (a, b, path) = pushing_to_b(&sshd, "other_key", &[("cluster.retry_secs", "1")]);
    std::fs::write(&path, external_csv("6", 15)).unwrap();
    a.sop(&["ucm", "set", "--url", path.to_str().unwrap()])
        .success();
    let out = a.sop(&["ucm", "import"]).success().stdout();
    assert!(out.contains("pushed to b: FAILED"), "{out}");
    a.start();
    let status = a.sop(&["cluster", "status"]).stdout();
    assert!(status.contains("next retry:"), "{status}");
    // Reachable again: no command, and b serves the import within a few retries.
    sshd.authorize("other_key");
    wait_served(&b, "(givenName=Ext6)", 15, &a);
    // The node serves the push before the origin logs its outcome.
    let started = Instant::now();
    loop {
        let log = std::fs::read_to_string(a.home().join("log/server.log")).unwrap();
        if log.contains("caught up") {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "{log}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A node restored from a backup (an older import of the origin's) is noticed by
/// the origin's running server and brought up to date without any command.
#[test]
fn a_node_restored_from_a_backup_is_brought_up_to_date() {
    let sshd = Sshd::start();
    let (a, b, path) = pushing_to_b(&sshd, "client_key", &[("cluster.retry_secs", "1")]);
    std::fs::write(&path, external_csv("7", 12)).unwrap();
    a.sop(&["ucm", "set", "--url", path.to_str().unwrap()])
        .success();
    a.sop(&["ucm", "import"]).success();
    let stored = b.home().join("data/sources/ext.snap");
    let backup = std::fs::read(&stored).unwrap();
    // A second of age between the imports: the backup is the older one.
    std::thread::sleep(Duration::from_millis(1100));
    std::fs::write(&path, external_csv("8", 13)).unwrap();
    a.sop(&["ucm", "import", "--force"]).success();
    assert_eq!(count(&b, "(givenName=Ext8)"), 13);
    // b is restored: it serves the older import again.
    std::fs::write(&stored, &backup).unwrap();
    b.sop(&["ucm", "merge"]).success();
    assert_eq!(count(&b, "(givenName=Ext7)"), 12);
    assert!(a.sop(&["cluster", "status"]).stdout().contains("BEHIND"));
    a.start();
    wait_served(&b, "(givenName=Ext8)", 13, &a);
}

#[test]
fn a_node_without_the_module_refuses_a_large_push_and_says_how_to_install_it() {
    let sshd = Sshd::start();
    let a = Node::new(&[("modules.installed", MODULES)]);
    let book = a
        .sop(&["bench", "phonebook", "--count", "20000"])
        .success()
        .stdout();
    import(&a, &book);
    let bare = Node::new(&[]);
    sop(&a, &sshd.add_args("bare", &bare, "client_key")).success();
    let run = a.sop(&["cluster", "push", "bare"]);
    // Refused before the node read the snapshot: the pusher is told why, not killed.
    assert_eq!(run.code(), 1, "{}{}", run.stdout(), run.stderr());
    let out = run.stdout();
    assert!(out.contains("bare: FAILED"), "{out}");
    assert!(out.contains("sop module install cluster"), "{out}");
}

#[test]
fn a_node_whose_disk_is_full_fails_alone_keeps_serving_and_takes_the_retry() {
    let Some((disk, dir)) = common::tmpfs::Tmpfs::mount("16m") else {
        // SOP_TEST_SKIP_MOUNT=1 and no tmpfs: skipped, as printed.
        return;
    };
    let sshd = Sshd::start();
    let a = origin(&external_csv("1", 2000));
    // Room for every contact in one answer.
    let settings = |name| {
        [
            ("modules.installed", MODULES),
            ("node.name", name),
            ("ldap.size_limit", "5000"),
        ]
    };
    let b = Node::new_in(dir, &settings("\"sop-b\""));
    let c = Node::new(&settings("\"sop-c\""));
    for (name, node) in [("b", &b), ("c", &c)] {
        node.start();
        sop(&a, &sshd.add_args(name, node, "client_key")).success();
    }
    a.sop(&["cluster", "push", "--all"]).success();
    assert_eq!(count(&b, "(givenName=Ext1)"), 2000);

    import(&a, &external_csv("2", 2000));
    let filler = disk.fill(0);
    let out = a.sop(&["cluster", "push", "--all"]).failure().stdout();
    assert!(out.contains("c: ok"), "{out}");
    assert!(
        out.contains("b: FAILED") && out.contains("disk"),
        "the reason names the disk: {out}"
    );
    assert_eq!(
        count(&b, "(givenName=Ext1)"),
        2000,
        "B keeps what it served"
    );
    assert_eq!(count(&b, "(givenName=Ext2)"), 0);
    assert_eq!(count(&c, "(givenName=Ext2)"), 2000);
    assert_eq!(common::tmpfs::leftovers(b.home()), Vec::<String>::new());

    std::fs::remove_file(filler).unwrap();
    let out = a
        .sop(&["cluster", "push", "--retry-failed"])
        .success()
        .stdout();
    assert!(out.contains("b: ok") && !out.contains("c: "), "{out}");
    assert_eq!(count(&b, "(givenName=Ext2)"), 2000);
    assert_eq!(count(&b, "(givenName=Ext1)"), 0);
}

/// A node with the cluster module and Directory Sources, syncing `corp` (the
/// people under `ou=people` of `server` that `filter` finds).
fn syncing_corp(name: &str, server: &Slapd, filter: &str) -> Node {
    let name = format!("\"{name}\"");
    let node = Node::new(&[
        (
            "modules.installed",
            "[\"ucm\", \"ldap-server\", \"cluster\", \"directory-sources\"]",
        ),
        ("node.name", &name),
    ]);
    let password = node.home().join("given-password");
    std::fs::write(&password, format!("{}\n", slapd::READER_PASSWORD)).unwrap();
    node.sop(&[
        "sources",
        "add",
        "corp",
        "--uri",
        &server.url(),
        "--base-dn",
        &format!("ou=people,{}", slapd::SUFFIX),
        "--bind-dn",
        slapd::READER,
        "--password-file",
        password.to_str().unwrap(),
        "--filter",
        filter,
    ])
    .success();
    node.sop(&["sources", "sync", "corp"]).success();
    node
}

/// Every imported contact travels, a directory source's as well as the external
/// ones: a node that syncs nothing itself serves the origin's `corp` beside its
/// own internal contacts, in sync with it; a sync that changes `corp` is pushed
/// like an import. A node that syncs a `corp` of its own keeps serving its own.
#[test]
fn a_directory_sources_contacts_reach_every_node_beside_its_own_contacts() {
    let sshd = Sshd::start();
    let server = Slapd::start(slapd::Options {
        ldif: slapd::people(8),
        ..slapd::Options::default()
    });
    let a = syncing_corp("sop-a", &server, "(uid=*)");
    import(&a, &external_csv("1", 10));
    let b = receiver("sop-b");
    // C syncs one person of the same directory as a corp of its own.
    let c = syncing_corp("sop-c", &server, "(uid=u0000)");
    // B serves the corp contacts it receives as a phone book of their own too.
    let mut config = std::fs::read_to_string(b.config()).unwrap();
    config.push_str(
        "\n[[phonebooks]]\nname = \"staff\"\nbase_dn = \"dc=staff,dc=local\"\nsources = [\"corp\"]\n",
    );
    std::fs::write(b.config(), config).unwrap();
    for (name, node) in [("b", &b), ("c", &c)] {
        node.start();
        sop(&a, &sshd.add_args(name, node, "client_key")).success();
    }
    let internal = count(&b, "(uid=int-*)");
    assert!(internal > 0, "b serves its sample phone book");

    let out = a.sop(&["cluster", "push", "--all"]).success().stdout();
    assert!(out.contains("b: ok") && out.contains("c: ok"), "{out}");
    let (entry, _) = b.ldapsearch(&["-b", BASE, "(uid=corp-u0005)", "telephoneNumber"]);
    assert_eq!(
        common::values(&entry, "telephoneNumber"),
        ["+49 30 1000005"]
    );
    assert_eq!(count(&b, "(uid=corp-*)"), 8);
    let (staff, _) = b.ldapsearch(&["-b", "dc=staff,dc=local", "(objectClass=person)", "uid"]);
    assert_eq!(common::values(&staff, "uid").len(), 8, "{staff}");
    assert_eq!(count(&b, "(givenName=Ext1)"), 10);
    assert_eq!(count(&b, "(uid=int-*)"), internal, "b's own contacts stay");
    // C's own corp decides its corp contacts; the origin's external ones arrive.
    assert_eq!(count(&c, "(uid=corp-*)"), 1);
    assert_eq!(count(&c, "(uid=corp-u0000)"), 1);
    assert_eq!(count(&c, "(givenName=Ext1)"), 10);
    let status = json(&a.sop(&["cluster", "status", "--json"]).success());
    assert_eq!(status["nodes"][0]["name"], "b", "{status}");
    assert_eq!(status["nodes"][0]["sync"], "in_sync", "{status}");
    assert_eq!(
        status["nodes"][0]["state"]["phonebooks"],
        serde_json::json!([["staff", 8]]),
        "{status}"
    );
    let out = a.sop(&["cluster", "status"]).success().stdout();
    assert!(out.contains("phone books: staff 8"), "{out}");
    // C serves a sync of its own: diverged, left alone by the catch-up.
    assert_eq!(status["nodes"][1]["sync"], "diverged", "{status}");
    assert_eq!(
        status["nodes"][1]["state"]["external"]["origin"], "sop-a+sop-c",
        "{status}"
    );
    assert_eq!(
        status["external"]["count"], 18,
        "the external and corp contacts, named as one: {status}"
    );
    let jobs = b.sop(&["jobs", "list"]).success().stdout();
    assert!(jobs.contains("received from sop-a"), "{jobs}");
    let listed = b.sop(&["sources", "list"]).success().stdout();
    assert!(
        listed.contains("received from sop-a") && listed.contains("corp  8 contacts"),
        "{listed}"
    );

    // A person more in the directory: the sync that brings it is pushed.
    a.set(&[("cluster.push_after_import", "true")]);
    server.modify(&format!(
        "dn: uid=u0099,ou=people,{}\nchangetype: add\nobjectClass: inetOrgPerson\n\
         uid: u0099\ncn: Person 0099\nsn: Person\ngivenName: P99\n\
         telephoneNumber: +49 30 1000099\n",
        slapd::SUFFIX
    ));
    let out = a.sop(&["sources", "sync", "corp"]).success().stdout();
    assert!(out.contains("pushed to b: ok"), "{out}");
    assert_eq!(count(&b, "(uid=corp-u0099)"), 1);
    assert_eq!(count(&b, "(uid=corp-*)"), 9);
    assert_eq!(count(&b, "(uid=int-*)"), internal);
    // The same sync again changes nothing: nothing is pushed.
    let out = a.sop(&["sources", "sync", "corp"]).success().stdout();
    assert!(!out.contains("pushed to"), "{out}");

    // Through the origin's running server, the push runs in the background.
    a.start();
    server.modify(&format!(
        "dn: uid=u0005,ou=people,{}\nchangetype: delete\n",
        slapd::SUFFIX
    ));
    a.sop(&["sources", "sync", "corp"]).success();
    let started = Instant::now();
    while count(&b, "(uid=corp-u0005)") > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "b still serves corp-u0005: {}",
            std::fs::read_to_string(a.home().join("log/server.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(count(&b, "(uid=corp-*)"), 8);
    assert_eq!(count(&b, "(uid=int-*)"), internal);
}

#[test]
fn config_check_warns_of_ssh_options_that_run_a_command_on_this_machine() {
    let a = receiver("sop-a");
    let add = |args: &[&str]| {
        let mut all = vec!["cluster", "add"];
        all.extend_from_slice(args);
        a.sop(&all).success()
    };
    // A jump host the recommended way: nothing to say.
    let jump = add(&[
        "b",
        "192.0.2.11",
        "--ssh-option=-o",
        "--ssh-option=ProxyJump=bastion",
    ]);
    assert!(!jump.stderr().contains("warning"), "{}", jump.stderr());
    let check = a.sop(&["config", "check"]).success();
    assert!(!check.stderr().contains("warning"), "{}", check.stderr());

    let proxy = add(&["c", "192.0.2.12", "--ssh-option=-oproxycommand=nc %h %p"]);
    assert!(
        proxy
            .stderr()
            .contains("warning: [[cluster.nodes]] c: ssh_options set ProxyCommand"),
        "{}",
        proxy.stderr()
    );
    add(&[
        "d",
        "192.0.2.13",
        "--ssh-option=-o",
        "--ssh-option=PermitLocalCommand yes",
        "--ssh-option=-o",
        "--ssh-option=LOCALCOMMAND=touch /tmp/x",
    ]);
    // A warning, not an error: the config is valid and the check succeeds.
    let check = a.sop(&["config", "check"]).success();
    assert!(check.stdout().contains("valid"), "{}", check.stdout());
    let stderr = check.stderr();
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("warning: "))
        .map(|l| l.split(", which").next().unwrap())
        .collect();
    assert_eq!(
        warnings,
        [
            "warning: [[cluster.nodes]] c: ssh_options set ProxyCommand",
            "warning: [[cluster.nodes]] d: ssh_options set PermitLocalCommand=yes",
            "warning: [[cluster.nodes]] d: ssh_options set LocalCommand",
        ],
        "{stderr}"
    );
    assert!(
        stderr.contains("ProxyJump (\"-o\", \"ProxyJump=bastion\")"),
        "{stderr}"
    );
}

#[test]
fn a_push_sends_only_the_changes_a_node_lacks_and_the_whole_when_it_lacks_the_base() {
    let sshd = Sshd::start();
    let a = origin(&external_csv("1", 400));
    let b = receiver("sop-b");
    b.start();
    sop(&a, &sshd.add_args("b", &b, "client_key")).success();
    let first = a.sop(&["cluster", "push", "b"]).success().stdout();
    assert!(
        first.contains("b: ok") && !first.contains("changes"),
        "{first}"
    );

    // One person renamed, one gone, one new: only that travels.
    let mut csv = external_csv("1", 400).replace("x11,Ext1,Person1,", "x11,Ext1,Renamed1,");
    csv = csv.replace("x12,Ext1,Person2,+49 30 10002\n", "");
    csv.push_str("xnew,Ext1,Newcomer,+49 30 99999\n");
    import(&a, &csv);
    let second = a.sop(&["cluster", "push", "b"]).success().stdout();
    let kib: u64 = second
        .split("sent as changes, ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not sent as changes: {second}"));
    assert!(kib <= 2, "{second}");
    assert_eq!(count(&b, "(sn=Renamed1)"), 1);
    assert_eq!(count(&b, "(sn=Newcomer)"), 1);
    assert_eq!(count(&b, "(sn=Person*)"), 398);
    let status = json(&a.sop(&["cluster", "status", "--json"]).success());
    assert_eq!(status["nodes"][0]["sync"], "in_sync", "{status}");

    // B imports a list of its own (as a node restored from another backup would
    // hold another snapshot): the changes do not apply there, and the push sends
    // the whole snapshot instead, in the same command.
    import(&b, &external_csv("7", 5));
    csv.push_str("xlater,Ext1,Later,+49 30 99998\n");
    import(&a, &csv);
    let third = a.sop(&["cluster", "push", "b"]).success().stdout();
    assert!(
        third.contains("b: ok") && !third.contains("changes"),
        "{third}"
    );
    assert_eq!(count(&b, "(sn=Later)"), 1);
    assert_eq!(count(&b, "(givenName=Ext7)"), 0);
    let status = json(&a.sop(&["cluster", "status", "--json"]).success());
    assert_eq!(status["nodes"][0]["sync"], "in_sync", "{status}");
}
