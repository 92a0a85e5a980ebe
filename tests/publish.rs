//! Merging and publishing generations while phones are searching.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::{BASE, Node, values};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn book(n: usize, tag: &str) -> String {
    let mut csv = String::from("givenName,sn,telephoneNumber\n");
    for i in 0..n {
        csv.push_str(&format!("{tag}{i},Family{i},+49 30 {i:07}\n"));
    }
    csv
}

fn served(node: &Node) -> u64 {
    let json = node.sop(&["server", "status", "--json"]).success().stdout();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["status"]["contacts"].as_u64().unwrap()
}

#[test]
fn a_merge_swaps_generations_without_dropping_a_connection_or_failing_a_query() {
    let node = Node::new(&[]);
    node.start();
    node.publish_csv(&book(200, "Old"));
    // One persistent connection searching all the time, as a busy phone would.
    let url = node.url();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let searcher = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut ldap = ldap3::LdapConn::new(&url).unwrap();
            let (mut ok, mut saw_new) = (0, false);
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let (entries, res) = ldap
                    .search(BASE, ldap3::Scope::Subtree, "(sn=family1*)", vec!["cn"])
                    .unwrap()
                    .success()
                    .unwrap_or_else(|e| panic!("a search failed during the swap: {e}"));
                assert_eq!(res.rc, 0);
                let names: Vec<String> = entries
                    .into_iter()
                    .map(|e| ldap3::SearchEntry::construct(e).attrs["cn"][0].clone())
                    .collect();
                assert!(!names.is_empty());
                // Every answer comes whole from one generation.
                let old = names.iter().filter(|n| n.starts_with("Old")).count();
                assert!(
                    old == 0 || old == names.len(),
                    "mixed generations: {names:?}"
                );
                saw_new |= old == 0;
                ok += 1;
            }
            (ok, saw_new)
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    for round in 0..3 {
        node.publish_csv(&book(200 + round, "New"));
    }
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (ok, saw_new) = searcher.join().unwrap();
    assert!(ok > 10, "the connection kept searching ({ok} searches)");
    assert!(saw_new, "the same connection sees the new generation");
    assert_eq!(served(&node), 202);
}

/// Runs `sop ARGS` against the running server, and kills the server with SIGKILL
/// as soon as `tmp` appears: the file the job writes before it renames it into
/// place. Checks that the kill cut the job: the client does not succeed, and `tmp`
/// was never renamed (once the client sees the server gone, no thread of it runs).
fn kill_while_writing(node: &Node, args: &[&str], tmp: &Path) {
    let json = node.sop(&["server", "status", "--json"]).success().stdout();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let pid = Pid::from_raw(v["status"]["pid"].as_u64().unwrap() as i32);
    assert!(!tmp.exists(), "{} is there before the job", tmp.display());
    let mut client = Command::new(env!("CARGO_BIN_EXE_sop"))
        .arg("--home")
        .arg(node.home())
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !tmp.exists() {
        if let Some(status) = client.try_wait().unwrap() {
            panic!(
                "sop {} ended ({status}) before {} was seen",
                args.join(" "),
                tmp.display()
            );
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "{} never appeared",
            tmp.display()
        );
        std::thread::sleep(Duration::from_micros(200));
    }
    kill(pid, Signal::SIGKILL).unwrap();
    let status = client.wait().unwrap();
    assert!(
        !status.success(),
        "sop {} succeeded: the kill came after the work",
        args.join(" ")
    );
    assert!(
        tmp.exists(),
        "{} was renamed into place before the kill",
        tmp.display()
    );
}

/// The number of the generation `current` names.
fn current_generation(node: &Node) -> u64 {
    let gens = node.home().join("data/generations");
    let current = std::fs::read_to_string(gens.join("current")).unwrap();
    current.trim().parse().unwrap()
}

#[test]
fn sigkill_during_a_merge_loses_nothing() {
    let node = Node::new(&[]);
    node.start();
    node.publish_csv(&book(1000, "Kept"));
    let kept = current_generation(&node);
    node.replace_contacts("big.csv", &book(60_000, "Big"));
    // A merge through the server, killed while it writes the new generation.
    let next = node
        .home()
        .join(format!("data/generations/gen-{:08}.tmp", kept + 1));
    kill_while_writing(&node, &["ucm", "merge"], &next);

    // The new generation was never published: the old one is served, whole.
    assert_eq!(current_generation(&node), kept);
    node.start();
    assert_eq!(served(&node), 1000);
    let (ldif, code) = node.ldapsearch(&["-b", BASE, "(sn=family999)", "cn"]);
    assert_eq!(code, 0, "{ldif}");
    assert_eq!(values(&ldif, "cn"), ["Kept999 Family999"]);
    // The store is intact: a new merge publishes everything, in the place of the
    // generation that was cut, whose partial file is gone.
    node.sop(&["ucm", "merge"]).success();
    assert_eq!(current_generation(&node), kept + 1);
    assert!(!next.exists(), "{} is left over", next.display());
    assert_eq!(served(&node), 60_000);
    let (ldif, _) = node.ldapsearch(&["-b", BASE, "(sn=family59999)", "cn"]);
    assert_eq!(values(&ldif, "cn"), ["Big59999 Family59999"]);
}

#[test]
fn an_exported_book_imported_back_with_replace_keeps_every_dn() {
    let node = Node::new(&[]);
    node.start();
    node.publish_csv(&book(20, "Kept"));
    let dns = |node: &Node| {
        let (ldif, _) = node.ldapsearch(&["-b", BASE, "(sn=family*)", "1.1"]);
        let mut v = values(&ldif, "dn");
        v.sort();
        v
    };
    let before = dns(&node);
    assert_eq!(before.len(), 20);
    let exported = node.sop(&["contacts", "export"]).success().stdout();
    // An admin edits a number and drops one contact in a spreadsheet.
    let edited: String = exported
        .lines()
        .filter(|l| !l.contains("Kept7,"))
        .map(|l| l.replace("+49 30 0000003", "+49 30 9999999") + "\n")
        .collect();
    node.publish_csv(&edited);
    let after = dns(&node);
    assert_eq!(after.len(), 19);
    assert!(
        after.iter().all(|dn| before.contains(dn)),
        "{after:?} vs {before:?}"
    );
    let (ldif, _) = node.ldapsearch(&["-b", BASE, "(telephoneNumber=+49309999999)", "cn"]);
    assert_eq!(values(&ldif, "cn"), vec!["Kept3 Family3"]);
}

#[test]
fn sigkill_during_an_import_loses_nothing() {
    let node = Node::new(&[]);
    let path = node.home().join("external.csv");
    std::fs::write(&path, book(1000, "Old")).unwrap();
    node.sop(&["ucm", "set", "--url", path.to_str().unwrap()])
        .success();
    node.sop(&["ucm", "import"]).success();
    node.start();
    node.sop(&["ucm", "merge"]).success();
    let generation = current_generation(&node);
    std::fs::write(&path, book(200_000, "New")).unwrap();
    // An import through the server, killed while it writes the new external contacts.
    let snapshot = node.home().join("data/sources/ext.snap");
    let before = std::fs::read(&snapshot).unwrap();
    kill_while_writing(
        &node,
        &["ucm", "import", "--force"],
        &snapshot.with_extension("tmp"),
    );

    // The external contacts are the old list, whole, and what was served is served
    // again.
    assert!(
        std::fs::read(&snapshot).unwrap() == before,
        "{} changed",
        snapshot.display()
    );
    node.start();
    assert_eq!(current_generation(&node), generation);
    let (ldif, _) = node.ldapsearch(&["-b", BASE, "(sn=family999)", "cn"]);
    assert_eq!(values(&ldif, "cn"), ["Old999 Family999"], "{ldif}");
    let show = node.sop(&["ucm", "show", "--json"]).success().stdout();
    let show: serde_json::Value = serde_json::from_str(&show).unwrap();
    assert_eq!(show["external"]["count"], 1000, "{show}");
    // The killed import was not recorded as done.
    assert_eq!(show["last_import"]["status"], "ok", "{show}");
    assert!(
        show["last_import"]["counts"]
            .as_str()
            .unwrap()
            .contains("\"imported\":1000"),
        "{show}"
    );
    node.sop(&["ucm", "merge"]).success();
    // The node's first import replaced the sample phone book.
    assert_eq!(served(&node), 1000, "the old list");
    // Nothing is stuck: the same import now goes through.
    node.sop(&["ucm", "import", "--force"]).success();
    node.sop(&["ucm", "merge"]).success();
    assert_eq!(served(&node), 200_000, "the new list");
}

/// The saved image of the served directory, once the server has written it.
fn wait_for_image(node: &Node) -> std::path::PathBuf {
    let gens = node.home().join("data/generations");
    let current = std::fs::read_to_string(gens.join("current")).unwrap();
    let image = gens.join(format!(
        "gen-{:08}.dir",
        current.trim().parse::<u64>().unwrap()
    ));
    let started = Instant::now();
    while !image.exists() && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(image.exists(), "{} was not saved", image.display());
    image
}

fn server_log(node: &Node) -> String {
    std::fs::read_to_string(node.home().join("log/server.log")).unwrap()
}

fn restart(node: &Node) {
    node.sop(&["server", "stop"]).success();
    node.start();
}

#[test]
fn a_restart_reads_the_saved_directory_and_never_a_damaged_or_outdated_one() {
    let node = Node::new(&[
        ("numbers.country_code", "\"49\""),
        ("numbers.trunk_prefix", "\"0\""),
    ]);
    node.start();
    node.publish_csv(&book(300, "Saved"));
    let image = wait_for_image(&node);
    let ask = |base: &str| {
        let mut answers = Vec::new();
        for filter in [
            "(sn=family1*)",
            "(cn=*ved12*)",
            "(telephoneNumber=0300000123)",
        ] {
            let (ldif, code) = node.ldapsearch(&["-b", base, filter, "cn", "telephoneNumber"]);
            assert_eq!(code, 0, "{filter}: {ldif}");
            assert!(ldif.contains("dn: "), "{filter}: {ldif}");
            answers.push(ldif);
        }
        answers
    };
    let before = ask(BASE);

    restart(&node);
    assert!(server_log(&node).contains("read the directory from"));
    assert_eq!(ask(BASE), before);

    // A damaged image: the directory is built from the generation, and saved again.
    let mut bytes = std::fs::read(&image).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    std::fs::write(&image, &bytes).unwrap();
    restart(&node);
    assert!(
        server_log(&node).contains("not used (damaged: checksum mismatch)"),
        "{}",
        server_log(&node)
    );
    assert_eq!(ask(BASE), before);
    wait_for_image(&node);
    let saved = std::fs::read(&image).unwrap();
    assert!(saved.len() == bytes.len() && saved != bytes, "saved again");

    // Another base DN: the image made for the old one is not used.
    node.sop(&["server", "stop"]).success();
    node.set(&[("ldap.base_dn", "\"o=moved\"")]);
    node.start();
    assert!(server_log(&node).contains("another base DN"));
    let moved = ask("o=moved");
    assert_eq!(moved.len(), before.len());
    assert!(moved[0].contains(",o=moved"), "{}", moved[0]);
    assert_eq!(values(&moved[2], "cn"), values(&before[2], "cn"));
}

#[test]
fn a_merge_while_no_server_runs_saves_the_directory_for_the_next_start() {
    let node = Node::new(&[]);
    node.publish_csv(&book(50, "Cold"));
    let gens = node.home().join("data/generations");
    let current = std::fs::read_to_string(gens.join("current")).unwrap();
    let image = gens.join(format!(
        "gen-{:08}.dir",
        current.trim().parse::<u64>().unwrap()
    ));
    assert!(image.exists(), "the merge saved {}", image.display());
    node.start();
    assert!(server_log(&node).contains("read the directory from"));
    let (ldif, code) = node.ldapsearch(&["-b", BASE, "(sn=family4)", "cn"]);
    assert_eq!(code, 0, "{ldif}");
    assert_eq!(values(&ldif, "cn"), vec!["Cold4 Family4"]);
}

/// A merge that changes a few contacts patches the directory served (through
/// the server, and from the saved image with no server running): it answers
/// exactly what the directory built from the same generation answers, and the
/// change is served.
#[test]
fn a_patched_directory_answers_as_the_one_built_from_its_generation() {
    let node = Node::new(&[]);
    node.start();
    node.publish_csv(&book(400, "Patch"));
    wait_for_image(&node);
    let filters = [
        "(sn=family1*)",
        "(cn=*tch3*)",
        "(|(cn=pa*)(sn=*ly*))",
        "(telephoneNumber=*0000*)",
        "(&(objectClass=person)(!(sn=*7*)))",
        "(sn=newcomer)",
        "(sn=family5x*)",
        "(sn=family7)",
    ];
    let answers = |node: &Node| -> Vec<String> {
        filters
            .iter()
            .map(|filter| {
                let (ldif, code) = node.ldapsearch(&["-b", BASE, filter, "cn", "sn"]);
                assert_eq!(code, 0, "{filter}: {ldif}");
                ldif
            })
            .collect()
    };
    // Built again, from the generation: without its image.
    let built = |node: &Node| -> Vec<String> {
        node.sop(&["server", "stop"]).success();
        std::fs::remove_file(wait_for_image(node)).unwrap();
        node.start();
        answers(node)
    };
    let changed = |round: usize| {
        let mut csv = book(400, "Patch")
            .replace("Family5,", &format!("Family5x{round},"))
            .replace("Patch7,Family7,+49 30 0000007\n", "");
        csv.push_str(&format!("Newcomer{round},Newcomer,+49 30 999{round}\n"));
        csv
    };

    node.publish_csv(&changed(1));
    assert!(server_log(&node).contains("patched the directory"));
    let patched = answers(&node);
    assert!(patched[5].contains("Newcomer1"), "{}", patched[5]);
    assert!(!patched[7].contains("dn: "), "{}", patched[7]);
    assert_eq!(patched, built(&node));

    // With no server running: from the image saved by the server.
    wait_for_image(&node);
    node.sop(&["server", "stop"]).success();
    node.publish_csv(&changed(2));
    node.start();
    assert!(server_log(&node).contains("read the directory from"));
    let patched = answers(&node);
    assert!(patched[5].contains("Newcomer2"), "{}", patched[5]);
    assert_eq!(patched, built(&node));
}
