//! Edit Unified Communication Model: settings, imports with their guards, merges
//! of internal and external contacts, rollback and the job history.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::{BASE, Node, values};

fn external(node: &Node, rows: &[&str]) -> String {
    let path = node.home().join("external.csv");
    let mut text = String::from("First Name,Last Name,Company,Business Phone,E-mail Address\n");
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    std::fs::write(&path, text).unwrap();
    format!("file://{}", path.display())
}

fn json(run: common::Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout()).unwrap()
}

#[test]
fn settings_are_checked_and_saved_keeping_comments() {
    let node = Node::new(&[]);
    let e = node
        .sop(&["ucm", "set", "--merge-cron", "30 25 * * *"])
        .failure()
        .stderr();
    assert!(e.contains("[ucm] merge_cron"), "{e}");
    assert!(e.contains("nothing was changed"), "{e}");
    let e = node
        .sop(&["ucm", "set", "--url", "ftp://example.org/list.csv"])
        .failure()
        .stderr();
    assert!(e.contains("[ucm] url"), "{e}");
    let e = node
        .sop(&[
            "ucm",
            "set",
            "--url",
            "https://bob:secret@example.org/a.csv",
        ])
        .failure()
        .stderr();
    assert!(e.contains("credentials"), "{e}");
    assert!(!e.contains("secret@"), "the password is never printed: {e}");

    let creds = node.home().join("creds.txt");
    std::fs::write(&creds, "bob:s3cret\n").unwrap();
    let out = node
        .sop(&[
            "ucm",
            "set",
            "--url",
            "https://example.org/contacts.csv",
            "--cron",
            "0 23 ? * *",
            "--priority",
            "5",
            "--credentials-file",
            creds.to_str().unwrap(),
        ])
        .success()
        .stdout();
    assert!(out.contains("next: "), "{out}");
    assert!(!out.contains("s3cret"), "{out}");
    let saved = node.home().join("secrets/ucm-url-credentials");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&saved).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let config = std::fs::read_to_string(node.config()).unwrap();
    assert!(config.contains("url = \"https://example.org/contacts.csv\""));
    assert!(config.contains("# When to merge internal and external contacts"));
    assert!(!config.contains("s3cret"));
    let show = json(node.sop(&["ucm", "show", "--json"]).success());
    assert_eq!(show["priority"], 5);
    assert_eq!(show["credentials"], true);
    assert_eq!(show["next_import"].as_array().unwrap().len(), 3);
    assert!(show["last_import"].is_null(), "never imported: {show}");
}

#[test]
fn import_then_merge_serves_external_contacts_folded_with_internal_ones() {
    let node = Node::new(&[]);
    node.start();
    // An internal contact the admin adds; the sample phone book goes at the first
    // import.
    node.sop(&[
        "contacts",
        "add",
        "--given",
        "Ada",
        "--surname",
        "Lovelace",
        "--work",
        "+44 20 7946 0001",
    ])
    .success();
    let url = external(
        &node,
        &[
            // Also an internal contact, with a company it lacks there.
            "Ada,Lovelace,Analytical Engines,+44 20 7946 0001,",
            "Hedy,Lamarr,MGM,+1 310 555 0142,hedy@example.org",
            "Katherine,Johnson,NASA,+1 757 555 0199,",
            ",,,,",
        ],
    );
    node.sop(&["ucm", "set", "--url", &url]).success();
    let dry = json(
        node.sop(&["ucm", "import", "--dry-run", "--json"])
            .success(),
    );
    assert_eq!(dry["changes"]["added"], 3, "{dry}");
    let (ldif, _) = node.ldapsearch(&["-b", BASE, "(sn=Lamarr)", "cn"]);
    assert!(values(&ldif, "cn").is_empty(), "a dry run applies nothing");

    let report = json(node.sop(&["ucm", "import", "--json"]).success());
    assert_eq!(report["imported"], 3, "{report}");
    let merged = json(node.sop(&["ucm", "merge", "--json"]).success());
    assert!(
        merged["stats"]["duplicates"].as_u64().unwrap() >= 1,
        "{merged}"
    );
    let (ldif, code) = node.ldapsearch(&["-b", BASE, "(sn=Lamarr)", "cn", "mail"]);
    assert_eq!(code, 0, "{ldif}");
    assert_eq!(values(&ldif, "cn"), ["Hedy Lamarr"]);
    assert_eq!(values(&ldif, "mail"), ["hedy@example.org"]);
    let (ldif, _) = node.ldapsearch(&["-b", BASE, "(sn=Lovelace)", "cn", "o"]);
    assert_eq!(values(&ldif, "cn").len(), 1, "one entry for Ada: {ldif}");

    // The same list again: nothing to do.
    let again = json(node.sop(&["ucm", "import", "--json"]).success());
    assert_eq!(again["unchanged"], true, "{again}");

    let jobs = json(node.sop(&["jobs", "list", "--json"]).success());
    let kinds: Vec<&str> = jobs
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["kind"].as_str().unwrap())
        .collect();
    assert_eq!(&kinds[..3], ["import", "merge", "import"], "{jobs}");
}

#[test]
fn guards_hold_bad_imports_and_the_previous_contacts_stay() {
    let node = Node::new(&[]);
    let many: Vec<String> = (0..10)
        .map(|i| format!("Person{i},Family{i},ACME,+49 30 555 010{i},"))
        .collect();
    let rows: Vec<&str> = many.iter().map(String::as_str).collect();
    let url = external(&node, &rows);
    node.sop(&["ucm", "set", "--url", &url]).success();
    node.sop(&["ucm", "import"]).success();

    // Most contacts gone: held.
    external(&node, &rows[..3]);
    let held = node.sop(&["ucm", "import"]);
    assert_eq!(held.code(), 2);
    assert!(
        held.stdout().contains("held, not applied"),
        "{}",
        held.stdout()
    );
    assert!(
        held.stdout().contains("remove 7 of the 10"),
        "{}",
        held.stdout()
    );
    node.sop(&["ucm", "merge"]).success();
    node.start();
    let (ldif, _) = node.ldapsearch(&["-b", BASE, "(sn=Family9)", "cn"]);
    assert_eq!(values(&ldif, "cn"), ["Person9 Family9"], "kept: {ldif}");

    // An HTML error page: held.
    let page = node.home().join("external.csv");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><body>502 Bad Gateway</body></html>",
    )
    .unwrap();
    let held = node.sop(&["ucm", "import"]);
    assert_eq!(held.code(), 2);
    assert!(held.stdout().contains("HTML page"), "{}", held.stdout());

    // --force applies what the guard held.
    external(&node, &rows[..3]);
    node.sop(&["ucm", "import", "--force"]).success();
    node.sop(&["ucm", "merge"]).success();
    let (ldif, _) = node.ldapsearch(&["-b", BASE, "(sn=Family9)", "cn"]);
    assert!(values(&ldif, "cn").is_empty(), "{ldif}");

    // And rollback serves the previous generation again.
    let out = node.sop(&["ucm", "rollback"]).success().stdout();
    assert!(out.contains("serves it now"), "{out}");
    let (ldif, _) = node.ldapsearch(&["-b", BASE, "(sn=Family9)", "cn"]);
    assert_eq!(values(&ldif, "cn"), ["Person9 Family9"], "{ldif}");
    // ... and keeps serving it at the next merges, while the bad list is unchanged.
    let shown = node.sop(&["ucm", "show"]).success().stdout();
    assert!(shown.contains("Rollback    generation"), "{shown}");
    let kept = node.sop(&["ucm", "merge"]).success().stdout();
    assert!(kept.contains("rollback kept"), "{kept}");
    let again = node.sop(&["ucm", "import"]).success().stdout();
    assert!(again.contains("has not changed"), "{again}");
    assert!(
        node.sop(&["ucm", "merge"])
            .success()
            .stdout()
            .contains("rollback kept")
    );
    let (ldif, _) = node.ldapsearch(&["-b", BASE, "(sn=Family9)", "cn"]);
    assert_eq!(values(&ldif, "cn"), ["Person9 Family9"], "still: {ldif}");
    // A list that changes releases it: the merge publishes the new list.
    let mut fixed = rows.clone();
    fixed[9] = "Person9,Family9,ACME Labs,+49 30 555 0109,";
    external(&node, &fixed);
    node.sop(&["ucm", "import", "--force"]).success();
    let published = node.sop(&["ucm", "merge"]).success().stdout();
    assert!(published.contains("published"), "{published}");
    let (ldif, _) = node.ldapsearch(&["-b", BASE, "(sn=Family9)", "o"]);
    assert_eq!(values(&ldif, "o"), ["ACME Labs"], "{ldif}");
    let shown = node.sop(&["ucm", "show"]).success().stdout();
    assert!(!shown.contains("Rollback    generation"), "{shown}");

    let jobs = json(node.sop(&["jobs", "list", "--json"]).success());
    let held_job = jobs
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["status"] == "held")
        .unwrap();
    let id = held_job["id"].to_string();
    let shown = node.sop(&["jobs", "show", &id]).success().stdout();
    assert!(shown.contains("status    held"), "{shown}");
}

#[test]
fn skipped_rows_are_listed_in_the_job() {
    let node = Node::new(&[]);
    let path = node.home().join("external.csv");
    std::fs::write(
        &path,
        "givenName,sn,telephoneNumber\nAda,Lovelace,+44 1\nBad,Row,+44 2,extra\nNo,Digits,n/a\n",
    )
    .unwrap();
    node.sop(&["ucm", "set", "--url", path.to_str().unwrap()])
        .success();
    let report = json(node.sop(&["ucm", "import", "--json"]).success());
    assert_eq!(report["imported"], 1, "{report}");
    assert!(report["skipped"].as_u64().unwrap() >= 1, "{report}");
    let jobs = json(node.sop(&["jobs", "list", "--json"]).success());
    let id = jobs[0]["id"].to_string();
    let shown = json(node.sop(&["jobs", "show", &id, "--json"]).success());
    assert_eq!(
        shown["errors"].as_array().unwrap().len() as u64,
        report["skipped"].as_u64().unwrap(),
        "{shown}"
    );
}

#[test]
fn the_crons_import_and_merge_in_the_running_server() {
    let node = Node::new(&[]);
    let url = external(&node, &["Hedy,Lamarr,MGM,+1 310 555 0142,hedy@example.org"]);
    // 6 fields, seconds first: every second.
    node.sop(&[
        "ucm",
        "set",
        "--url",
        &url,
        "--cron",
        "* * * * * *",
        "--merge-cron",
        "*/2 * * * * *",
    ])
    .success();
    node.start();
    let status = node.sop(&["server", "status"]).success().stdout();
    assert!(status.contains("last import  never"), "{status}");
    let mut served = Vec::new();
    for _ in 0..100 {
        let (ldif, _) = node.ldapsearch(&["-b", BASE, "(sn=Lamarr)", "cn"]);
        served = values(&ldif, "cn");
        if !served.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(served, ["Hedy Lamarr"], "imported and merged by the crons");
    let jobs = json(node.sop(&["jobs", "list", "--json"]).success());
    let kinds: Vec<&str> = jobs
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"import") && kinds.contains(&"merge"),
        "{jobs}"
    );
    let status = json(node.sop(&["server", "status", "--json"]).success());
    let crons: Vec<&str> = status["status"]["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["cron"].as_str().unwrap())
        .collect();
    assert_eq!(crons, ["* * * * * *", "*/2 * * * * *"]);
}

/// A web server on 127.0.0.1 that answers every request with what `answer` holds.
fn web(answer: std::sync::Arc<std::sync::Mutex<String>>) -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let reply = answer.lock().unwrap().clone();
            let _ = stream.write_all(reply.as_bytes());
        }
    });
    port
}

fn http(status: &str, content_type: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

#[test]
fn failures_of_the_url_are_failed_jobs_and_the_previous_contacts_stay() {
    let node = Node::new(&[]);
    let list = "First Name,Last Name,Business Phone\nHedy,Lamarr,+1 310 555 0142\n";
    let answer = std::sync::Arc::new(std::sync::Mutex::new(http("200 OK", "text/csv", list)));
    let port = web(answer.clone());
    node.start();
    node.sop(&[
        "ucm",
        "set",
        "--url",
        &format!("http://127.0.0.1:{port}/contacts.csv"),
    ])
    .success();
    node.sop(&["ucm", "import"]).success();
    node.sop(&["ucm", "merge"]).success();

    *answer.lock().unwrap() = http("404 Not Found", "text/plain", "no");
    let e = node.sop(&["ucm", "import"]).failure().stderr();
    assert!(e.contains("404"), "{e}");
    *answer.lock().unwrap() = http("500 Internal Server Error", "text/plain", "oops");
    let e = node.sop(&["ucm", "import"]).failure().stderr();
    assert!(e.contains("500"), "{e}");
    *answer.lock().unwrap() = http(
        "200 OK",
        "text/html",
        "<html><body>Please log in</body></html>",
    );
    let held = node.sop(&["ucm", "import"]);
    assert_eq!(held.code(), 2, "{}", held.stdout());
    assert!(held.stdout().contains("HTML page"), "{}", held.stdout());

    node.sop(&["ucm", "merge"]).success();
    let (ldif, _) = node.ldapsearch(&["-b", BASE, "(sn=Lamarr)", "cn"]);
    assert_eq!(
        values(&ldif, "cn"),
        ["Hedy Lamarr"],
        "the previous contacts stay"
    );
    let jobs = json(node.sop(&["jobs", "list", "--json"]).success());
    let statuses: Vec<&str> = jobs
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| j["kind"] == "import")
        .map(|j| j["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["held", "failed", "failed", "ok"], "{jobs}");
    let failed = jobs
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["status"] == "failed")
        .unwrap();
    assert!(
        failed["message"].as_str().unwrap().contains("500"),
        "{failed}"
    );
}

#[test]
fn credentials_over_plain_http_are_warned_of_without_showing_the_password() {
    let node = Node::new(&[]);
    let list = "First Name,Last Name,Business Phone\nHedy,Lamarr,+1 310 555 0142\n";
    let answer = std::sync::Arc::new(std::sync::Mutex::new(http("200 OK", "text/csv", list)));
    let port = web(answer);
    let password = "Pw-9f3k-s3cret";
    let creds = node.home().join("creds.txt");
    std::fs::write(&creds, format!("ucm:{password}\n")).unwrap();
    let warning = format!(
        "the UCM credentials go to 127.0.0.1:{port} over plain http: anyone on the way can read the password; use an https:// URL"
    );
    let shows_password = |what: &str, text: &str| {
        assert!(
            !text.contains(password),
            "{what} shows the password:\n{text}"
        );
    };

    // Over https, nothing to say.
    let https = format!("https://127.0.0.1:{port}/contacts.csv");
    let set = node
        .sop(&[
            "ucm",
            "set",
            "--url",
            &https,
            "--credentials-file",
            creds.to_str().unwrap(),
        ])
        .success();
    assert!(!set.stderr().contains("plain http"), "{}", set.stderr());
    let check = node.sop(&["config", "check"]).success();
    assert!(!check.stderr().contains("warning"), "{}", check.stderr());

    // Over plain http: said when set, by the config check and by every import.
    let http_url = format!("http://127.0.0.1:{port}/contacts.csv");
    let set = node.sop(&["ucm", "set", "--url", &http_url]).success();
    assert!(
        set.stderr().contains(&format!("warning: {warning}")),
        "{}",
        set.stderr()
    );
    shows_password("sop ucm set", &(set.stdout() + &set.stderr()));
    let check = node.sop(&["config", "check"]).success();
    assert!(check.stdout().contains("valid"), "{}", check.stdout());
    assert!(
        check.stderr().contains(&format!("warning: {warning}")),
        "{}",
        check.stderr()
    );
    shows_password("sop config check", &(check.stdout() + &check.stderr()));
    let here = node.sop(&["ucm", "import"]).success();
    node.start();
    let there = node.sop(&["ucm", "import", "--force"]).success();
    for run in [&here, &there] {
        assert!(
            run.stdout().contains(&format!("note: {warning}")),
            "{}",
            run.stdout()
        );
        shows_password("sop ucm import", &(run.stdout() + &run.stderr()));
    }
    let jobs = json(node.sop(&["jobs", "list", "--json"]).success());
    let imports: Vec<&serde_json::Value> = jobs
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| j["kind"] == "import")
        .collect();
    assert_eq!(imports.len(), 2, "{jobs}");
    for job in imports {
        let id = job["id"].to_string();
        let shown = node.sop(&["jobs", "show", &id]).success().stdout();
        assert!(shown.contains(&warning), "{shown}");
        shows_password("sop jobs show", &shown);
    }
    let log = std::fs::read_to_string(node.home().join("log/server.log")).unwrap();
    assert!(
        log.lines()
            .any(|l| l.contains(" WARN ") && l.contains(&warning)),
        "{log}"
    );
    shows_password("log/server.log", &log);

    // Credentials typed into the URL are refused, and not repeated.
    let typed = format!("http://ucm:{password}@127.0.0.1:{port}/contacts.csv");
    let refused = node.sop(&["ucm", "set", "--url", &typed]).failure();
    shows_password("sop ucm set", &(refused.stdout() + &refused.stderr()));

    // Without credentials, plain http is nobody's secret.
    let set = node.sop(&["ucm", "set", "--no-credentials"]).success();
    assert!(!set.stderr().contains("plain http"), "{}", set.stderr());
    let check = node.sop(&["config", "check"]).success();
    assert!(!check.stderr().contains("warning"), "{}", check.stderr());
    let import = node.sop(&["ucm", "import", "--force"]).success();
    assert!(
        !import.stdout().contains("plain http"),
        "{}",
        import.stdout()
    );
}
