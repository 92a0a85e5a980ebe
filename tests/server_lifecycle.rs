//! The application server as an admin drives it: start, status, stop, and what goes wrong.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::{BASE, Node, values};

const PEOPLE: &str = "givenName,sn,telephoneNumber,mobile,o\n\
Ada,Lovelace,+44 20 7946 0001,,Analytical Engines\n\
Alan,Turing,+44 20 7946 0002,+44 7700 900002,Bletchley Park\n";

#[test]
fn fresh_home_serves_the_sample_at_once() {
    let node = Node::new(&[]);
    let out = node.sop(&["server", "start"]).success().stdout();
    assert!(out.contains("started"), "{out}");
    let (ldif, code) = node.ldapsearch(&["-b", BASE, "(objectClass=inetOrgPerson)", "cn"]);
    assert_eq!(code, 0, "{ldif}");
    assert!(
        values(&ldif, "cn").len() >= 10,
        "the sample phone book is served:\n{ldif}"
    );
}

#[test]
fn status_reports_pid_listeners_generation_and_contacts() {
    let node = Node::new(&[]);
    let stopped = node.sop(&["server", "status"]);
    assert_eq!(stopped.code(), 3);
    assert!(stopped.stdout().contains("stopped"));
    node.start();
    node.publish_csv(PEOPLE);
    let json = node.sop(&["server", "status", "--json"]).success().stdout();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["running"], true);
    assert_eq!(v["status"]["contacts"], 2);
    assert_eq!(v["status"]["listen"][0], format!("127.0.0.1:{}", node.port));
    assert!(v["status"]["pid"].as_u64().unwrap() > 0);
    assert!(v["status"]["generation"].as_u64().unwrap() >= 2);
    let text = node.sop(&["server", "status"]).success().stdout();
    assert!(
        text.contains("running") && text.contains("contacts    2"),
        "{text}"
    );
}

#[test]
fn a_second_start_is_refused_and_stop_is_graceful() {
    let node = Node::new(&[]);
    node.start();
    let again = node.sop(&["server", "start"]).failure();
    assert!(
        again.stderr().contains("already running"),
        "{}",
        again.stderr()
    );
    let stop = node.sop(&["server", "stop"]).success().stdout();
    assert!(stop.contains("stopped"), "{stop}");
    assert!(!node.home().join("run/sop.sock").exists());
    assert!(!node.home().join("run/sop.pid").exists());
    let again = node.sop(&["server", "stop"]).success().stdout();
    assert!(again.contains("not running"), "{again}");

    // Restart starts a stopped server, and replaces a running one.
    let first = node.sop(&["server", "restart"]).success().stdout();
    assert!(first.contains("started (pid"), "{first}");
    let pid = |text: &str| {
        text.split("started (pid ")
            .nth(1)
            .and_then(|r| r.split(')').next())
            .map(str::to_string)
    };
    let second = node.sop(&["server", "restart"]).success().stdout();
    assert!(
        second.contains("stopped (pid") && second.contains("started (pid"),
        "{second}"
    );
    assert_ne!(pid(&first), pid(&second), "a new process");
    let (out, code) = node.ldapsearch(&["-b", BASE, "(objectClass=*)", "1.1"]);
    assert_eq!(code, 0, "{out}");
    node.sop(&["server", "stop"]).success();
}

#[test]
fn a_port_in_use_is_named_with_the_log_path() {
    let node = Node::new(&[]);
    let _taken = std::net::TcpListener::bind(("127.0.0.1", node.port)).unwrap();
    let err = node.sop(&["server", "start"]).failure().stderr();
    assert!(
        err.contains(&format!("cannot listen on 127.0.0.1:{}", node.port)),
        "{err}"
    );
    assert!(
        err.contains("Address already in use") || err.contains("in use"),
        "{err}"
    );
    assert!(err.contains("server.log"), "{err}");
}

#[test]
fn a_stale_pid_file_does_not_block_a_start() {
    let node = Node::new(&[]);
    std::fs::write(node.home().join("run/sop.pid"), "999999\n").unwrap();
    std::fs::write(node.home().join("run/sop.sock"), "").unwrap();
    node.start();
    let (ldif, code) = node.ldapsearch(&["-b", BASE, "-s", "base", "(objectClass=*)", "dn"]);
    assert_eq!(code, 0, "{ldif}");
    let log = std::fs::read_to_string(node.home().join("log/server.log")).unwrap();
    assert!(log.contains("stale pid file"), "{log}");
}

#[test]
fn a_bad_config_is_refused_before_starting_with_key_and_value() {
    let node = Node::new(&[("ldap.size_limit", "-3")]);
    let check = node.sop(&["config", "check"]).failure();
    assert!(
        check.stderr().contains("[ldap] size_limit = -3"),
        "{}",
        check.stderr()
    );
    let start = node.sop(&["server", "start"]).failure();
    assert!(
        start.stderr().contains("[ldap] size_limit = -3"),
        "{}",
        start.stderr()
    );
}

#[test]
fn control_socket_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let node = Node::new(&[]);
    node.start();
    let mode = std::fs::metadata(node.home().join("run/sop.sock"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

/// Runs `sop server run` in the foreground with its standard error going nowhere it
/// can be written (as when the terminal it ran in is closed), and waits until it
/// answers on its control socket.
fn run_with_closed_stderr(node: &Node) -> std::process::Child {
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_sop"))
        .arg("--home")
        .arg(node.home())
        .args(["server", "run"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Nobody reads standard error any more: every write to it fails (EPIPE).
    drop(child.stderr.take());
    for _ in 0..600 {
        if node.sop(&["server", "status"]).code() == 0 {
            return child;
        }
        if let Some(exit) = child.try_wait().unwrap() {
            panic!("the server stopped at once: {exit}");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("the server did not answer");
}

#[test]
fn a_log_that_cannot_be_written_does_not_stop_the_server() {
    let node = Node::new(&[]);
    let mut server = run_with_closed_stderr(&node);
    // A merge logs several lines; each write fails.
    node.publish_csv(PEOPLE);
    assert!(
        server.try_wait().unwrap().is_none(),
        "the server is still running"
    );
    let (ldif, code) = node.ldapsearch(&["-b", BASE, "(sn=turing)", "cn"]);
    assert_eq!(code, 0, "{ldif}");
    assert_eq!(values(&ldif, "cn"), ["Alan Turing"]);
    let json = node.sop(&["server", "status", "--json"]).success().stdout();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(
        v["status"]["log_lines_dropped"].as_u64().unwrap() > 0,
        "{json}"
    );
    let text = node.sop(&["server", "status"]).success().stdout();
    assert!(text.contains("server log and"), "{text}");
    // The server is this test's child: reaped here while `stop` waits for it to go.
    std::thread::scope(|s| {
        let stop = s.spawn(|| node.sop(&["server", "stop"]));
        assert!(server.wait().unwrap().success());
        stop.join().unwrap().success();
    });
}

#[test]
fn stop_removes_a_stale_pid_file_and_signals_nothing() {
    let node = Node::new(&[]);
    // A pid file left by a killed server names a pid that another process has now.
    let mut other = std::process::Command::new("sleep")
        .arg("300")
        .spawn()
        .unwrap();
    let pid_file = node.home().join("run/sop.pid");
    std::fs::write(&pid_file, format!("{}\n", other.id())).unwrap();
    let out = node.sop(&["server", "stop"]).success().stdout();
    assert!(out.contains("stale pid file"), "{out}");
    assert!(out.contains(&other.id().to_string()), "{out}");
    assert!(
        other.try_wait().unwrap().is_none(),
        "the process the stale pid file named was signalled"
    );
    assert!(!pid_file.exists());
    other.kill().unwrap();
    other.wait().unwrap();
}

#[test]
fn stop_without_access_to_the_control_socket_says_permission_denied() {
    let node = Node::new(&[]);
    node.start();
    let run = node.home().join("run");
    // Files this test makes belong to root when it runs as root.
    let as_root = {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(node.config()).unwrap().uid() == 0
    };
    let out = if as_root {
        // As nobody, who cannot enter the home.
        std::process::Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_sop"))
            .arg("--home")
            .arg(node.home())
            .args(["server", "stop"])
            .output()
            .unwrap()
    } else {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o000)).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_sop"))
            .arg("--home")
            .arg(node.home())
            .args(["server", "stop"])
            .output()
            .unwrap();
        std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o755)).unwrap();
        out
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("permission denied"), "{stderr}");
    // The server was not stopped.
    let status = node.sop(&["server", "status"]);
    assert_eq!(status.code(), 0, "{}", status.stdout());
}

#[test]
fn a_home_named_by_mistake_is_not_made_a_new_node() {
    let node = Node::new(&[]);
    let typo = node.home().join("sop-typo");
    let sop = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_sop"))
            .arg("--home")
            .arg(&typo)
            .args(args)
            .output()
            .unwrap()
    };
    for verb in [
        &["server", "status"][..],
        &["server", "start"],
        &["contacts", "list"],
        &["ucm", "show"],
        &["jobs", "list"],
    ] {
        let out = sop(verb);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{verb:?}: {err}");
        assert!(
            err.contains(&format!("no node at {}", typo.display())) && err.contains("init`"),
            "{verb:?}: {err}"
        );
        assert!(!typo.exists(), "{verb:?} created {}", typo.display());
    }
    // The template needs no node; init sets one up, and then the verbs work.
    assert!(sop(&["config", "template"]).status.success());
    assert!(sop(&["init"]).status.success());
    let out = sop(&["server", "status"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("stopped"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn the_checklist_says_what_is_left_and_the_command_for_it() {
    let node = Node::new(&[]);
    let stopped = node.sop(&["checklist"]);
    assert_eq!(stopped.code(), 1, "{}", stopped.stdout());
    let out = stopped.stdout();
    assert!(out.contains("[x] Modules installed"), "{out}");
    assert!(out.contains("[ ] Application server started"), "{out}");
    // The command names the node's home, so that it works when pasted.
    let start = format!("do it: sop --home {} server start", node.home().display());
    assert!(out.contains(&start), "{out}");
    node.start();
    let json = node.sop(&["checklist", "--json"]);
    let items: serde_json::Value = serde_json::from_str(&json.stdout()).unwrap();
    let check = |label: &str| {
        items
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["label"].as_str().unwrap().starts_with(label))
            .map(|i| i["check"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(check("Application server started"), "done");
    assert_eq!(check("Bundles synced"), "done");
    // The test node listens on 127.0.0.1 only: phones on the network cannot reach it.
    assert_eq!(check("Phones get answers"), "todo");
    assert_eq!(json.code(), 1);
}
