//! Contact list formats as an admin meets them: every documented sample imports
//! and is served; malformed, truncated, wrongly encoded, oversized and hostile
//! lists get a clear report and nothing already served is lost.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::{BASE, Node, values};
use std::path::{Path, PathBuf};

fn json(run: common::Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout()).unwrap()
}

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("assets/formats")
        .join(name)
}

/// Imports `path` as the external list (forced: every sample replaces the last).
fn import(node: &Node, path: &Path, force: bool) -> serde_json::Value {
    node.sop(&["ucm", "set", "--url", path.to_str().unwrap()])
        .success();
    let mut args = vec!["ucm", "import", "--json"];
    if force {
        args.push("--force");
    }
    let run = node.sop(&args);
    serde_json::from_str(&run.stdout())
        .unwrap_or_else(|e| panic!("{e}: {} {}", run.stdout(), run.stderr()))
}

#[test]
fn every_sample_imports_and_is_served() {
    let node = Node::new(&[]);
    node.start();
    // (file, format reported, a name it holds, a number of that contact)
    let samples = [
        (
            "ldap-attributes.csv",
            "CSV",
            "O'Brien, Zoë",
            "+353 1 555 0100",
        ),
        (
            "outlook.csv",
            "CSV (Outlook)",
            "Amélie Laurent",
            "+33 6 12 34 56 78",
        ),
        (
            "outlook-de.csv",
            "CSV (Outlook, German)",
            "Jürgen Müller",
            "+49 172 7654321",
        ),
        (
            "outlook-fr.csv",
            "CSV (Outlook, French)",
            "Amélie Laurent",
            "+33 6 12 34 56 78",
        ),
        (
            "thunderbird-de.csv",
            "CSV (Thunderbird, German)",
            "Ingrid Svensson",
            "+46 70 234 56 78",
        ),
        (
            "google.csv",
            "CSV (Google Contacts)",
            "Hiroshi Tanaka",
            "+81 90 2345 6789",
        ),
        (
            "3cx.csv",
            "CSV (3CX)",
            "Ingrid Svensson",
            "+46 70 765 43 21",
        ),
        (
            "yeastar.csv",
            "CSV (Yeastar)",
            "Carlos García",
            "+34 622 456 789",
        ),
        (
            "contacts-3.0.vcf",
            "vCard",
            "Jürgen Müller",
            "+49 170 1234567",
        ),
        ("contacts-4.0.vcf", "vCard", "田中 博", "+81-90-3456-7890"),
        ("contacts.ldif", "LDIF", "Zoë O'Brien", "+353 1 555 0177"),
        ("contacts.json", "JSON", "Jürgen Müller", "+49 170 1234567"),
        (
            "yealink.xml",
            "XML (Yealink)",
            "Zoë O'Brien & Co",
            "+353 1 555 0199",
        ),
        (
            "yealink-remote.xml",
            "XML (Yealink remote phone book)",
            "Wei Zhang",
            "+86 138 0013 8000",
        ),
        (
            "cisco.xml",
            "XML (Cisco)",
            "Linus Torvalds",
            "+1 503 555 0100",
        ),
        ("snom.xml", "XML (Snom)", "Marek Nowak", "+48 22 765 43 21"),
        (
            "snom-tbook.xml",
            "XML (Snom tbook)",
            "Carlos García",
            "+34 91 765 43 21",
        ),
        (
            "grandstream.xml",
            "XML (Grandstream)",
            "Daan de Vries",
            "+31 10 765 4321",
        ),
        (
            "yealink-local.xml",
            "XML (Yealink local contacts)",
            "Priya Sharma",
            "+91 98200 12345",
        ),
        (
            "fanvil.xml",
            "XML (Fanvil)",
            "Marek Nowak",
            "+48 601 555 010",
        ),
        (
            "fritzbox.xml",
            "XML (FRITZ!Box)",
            "Jürgen Müller",
            "+49 30 4455667",
        ),
        (
            "polycom.xml",
            "XML (Polycom)",
            "Niccolò (Napoli)",
            "+39 06 7654 3211",
        ),
    ];
    for (file, format, name, number) in samples {
        let report = import(&node, &sample(file), true);
        assert_eq!(report["format"], format, "{file}: {report}");
        assert_eq!(report["skipped"], 0, "{file}: {report}");
        assert!(report["held"].is_null(), "{file}: {report}");
        node.sop(&["ucm", "merge"]).success();
        let (ldif, code) = node.ldapsearch(&[
            "-b",
            BASE,
            &format!("(cn={})", name.replace('(', "\\28").replace(')', "\\29")),
            "cn",
            "mobile",
            "telephoneNumber",
            "homePhone",
            "pager",
        ]);
        assert_eq!(code, 0, "{file}: {ldif}");
        // The sample phone book may hold a namesake: the one imported is there.
        assert!(
            values(&ldif, "cn").iter().any(|cn| cn == name),
            "{file}: {ldif}"
        );
        assert!(
            ldif.contains(number) || ldif.contains(&b64(number)),
            "{file}: {number} not in {ldif}"
        );
    }
}

/// How ldapsearch prints a value that is not plain ASCII.
fn b64(value: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(value)
}

#[test]
fn bad_lists_are_reported_and_nothing_served_is_lost() {
    let node = Node::new(&[("ucm.max_removal_percent", "100")]);
    let good = node.home().join("good.csv");
    std::fs::write(
        &good,
        "cn,telephoneNumber\nAda Lovelace,+44 20 7946 0001\nAlan Turing,+44 20 7946 0002\n",
    )
    .unwrap();
    assert_eq!(import(&node, &good, false)["imported"], 2);
    node.sop(&["ucm", "merge"]).success();
    node.start();
    let still_served = |why: &str| {
        let (ldif, _) = node.ldapsearch(&["-b", BASE, "(cn=Ada Lovelace)", "cn"]);
        assert_eq!(values(&ldif, "cn"), ["Ada Lovelace"], "after {why}: {ldif}");
    };

    // Lists that are not lists: held with their reason, the previous contacts stay.
    let mut nested = String::from("[");
    nested.push_str(&"[".repeat(5000));
    let held = [
        (
            "cut.csv",
            b"cn,telephoneNumber,mail\nAda,1,a@x\n\"Bob,2".to_vec(),
            "truncated",
        ),
        (
            "cut.vcf",
            b"BEGIN:VCARD\nFN:A\nTEL:1\nEND:VCARD\nBEGIN:VCARD\nFN:B".to_vec(),
            "truncated",
        ),
        (
            "cut.json",
            b"[{\"cn\": \"A\", \"telephoneNumber\": \"1\"}, {\"cn\": \"B".to_vec(),
            "truncated",
        ),
        ("deep.json", nested.into_bytes(), "cannot be read"),
        (
            "cut.xml",
            b"<CiscoIPPhoneDirectory><DirectoryEntry><Name>A</Name><Telephone>1</Tel".to_vec(),
            "truncated",
        ),
        (
            "bomb.xml",
            b"<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]><CiscoIPPhoneDirectory><DirectoryEntry><Name>&b;</Name><Telephone>1</Telephone></DirectoryEntry></CiscoIPPhoneDirectory>".to_vec(),
            "entity declarations",
        ),
        (
            "book.xlsx",
            b"PK\x03\x04\x14\x00\x06\x00\x08\x00".to_vec(),
            "spreadsheet",
        ),
        ("empty.csv", Vec::new(), "empty"),
        (
            "page.csv",
            b"<html><head><title>404</title></head></html>".to_vec(),
            "HTML page",
        ),
        (
            "prose.txt",
            b"Dear admin, the export failed.".to_vec(),
            "not recognised",
        ),
        (
            "nobody.csv",
            b"foo,bar\n1,2\n".to_vec(),
            "no column is a contact field",
        ),
    ];
    for (name, bytes, reason) in held {
        let path = node.home().join(name);
        std::fs::write(&path, bytes).unwrap();
        let report = import(&node, &path, false);
        let why = report["held"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: {report}"));
        assert!(why.contains(reason), "{name}: {why}");
        assert!(why.contains("previous contacts stay"), "{name}: {why}");
        still_served(name);
    }

    // Bad entries are skipped with their position and reason; the rest is imported.
    let mut latin1_in_utf8 = "cn,telephoneNumber\nJürgen Müller,+49 30 1\n"
        .as_bytes()
        .to_vec();
    latin1_in_utf8.extend_from_slice(b"J\xfcrgen Schmidt,+49 30 2\n");
    let long = "x".repeat(5000);
    let skipped = [
        (
            "mixed.csv",
            latin1_in_utf8,
            "entry 2 (line 3)",
            "not valid UTF-8",
        ),
        (
            "long.csv",
            format!("cn,telephoneNumber\nAda,1\n{long},2\n").into_bytes(),
            "entry 2 (line 3)",
            "longer than 1024 bytes",
        ),
        (
            "cards.vcf",
            b"BEGIN:VCARD\nFN:One\nTEL:1\nEND:VCARD\nBEGIN:VCARD\nFN:Two\nTEL:none\nEND:VCARD\n"
                .to_vec(),
            "entry 2 (line 5)",
            "no digit",
        ),
        (
            "entries.ldif",
            b"dn: cn=one\ncn: One\ntelephoneNumber: 1\n\ndn: cn=two\ncn:: %%%\n".to_vec(),
            "entry 2 (line 5)",
            "bad base64",
        ),
        (
            "objects.json",
            b"[\n{\"cn\": \"One\", \"telephoneNumber\": \"1\"},\n\"just text\"\n]".to_vec(),
            "entry 2 (line 3)",
            "not a contact object",
        ),
    ];
    for (name, bytes, position, reason) in skipped {
        let path = node.home().join(name);
        std::fs::write(&path, bytes).unwrap();
        let report = import(&node, &path, false);
        assert!(report["held"].is_null(), "{name}: {report}");
        assert_eq!(report["imported"], 1, "{name}: {report}");
        assert_eq!(report["skipped"], 1, "{name}: {report}");
        let error = &report["errors"][0];
        assert_eq!(error["position"], position, "{name}: {report}");
        assert!(
            error["reason"].as_str().unwrap().contains(reason),
            "{name}: {report}"
        );
    }

    // A whole file in Windows-1252 (an old Excel export) is read as such, and says so.
    let path = node.home().join("ansi.csv");
    std::fs::write(
        &path,
        b"Vorname;Nachname;Telefon\nJ\xf6rg;Gr\xf6\xdfer;+49 30 1\n",
    )
    .unwrap();
    let report = import(&node, &path, false);
    assert_eq!(report["imported"], 1, "{report}");
    assert!(
        report["warnings"][0]
            .as_str()
            .unwrap()
            .contains("Windows-1252"),
        "{report}"
    );
    node.sop(&["ucm", "merge"]).success();
    let (ldif, _) = node.ldapsearch(&["-b", BASE, "(sn=Größer)", "cn"]);
    assert_eq!(values(&ldif, "cn"), ["Jörg Größer"], "{ldif}");

    // The human report says the same.
    let out = node
        .sop(&[
            "ucm",
            "set",
            "--url",
            node.home().join("cards.vcf").to_str().unwrap(),
        ])
        .success();
    drop(out);
    let text = node.sop(&["ucm", "import", "--dry-run"]).success().stdout();
    assert!(text.contains("vCard: 1 contacts read, 1 skipped"), "{text}");
    assert!(
        text.contains("skipped entry 2 (line 5): number \"none\" has no digit"),
        "{text}"
    );
    let jobs = json(node.sop(&["jobs", "list", "--json"]).success());
    assert!(jobs.as_array().unwrap().len() >= 10, "{jobs}");
}

#[test]
fn a_url_to_a_file_that_is_not_a_list_is_held_without_showing_what_it_holds() {
    let node = Node::new(&[]);
    // A file the import can read but that is no contact list: its first line is a
    // secret, and no message, job or log may repeat any of it.
    let elsewhere = tempfile::tempdir().unwrap();
    let path = elsewhere.path().join("app.conf");
    let secret = "db_password=Zq7-hunter2-Xy9";
    std::fs::write(&path, format!("{secret}\nlisten=0.0.0.0\n")).unwrap();
    let url = format!("file://{}", path.display());
    node.sop(&["ucm", "set", "--url", &url]).success();
    let check = |what: &str, text: &str| {
        for part in [secret, "Zq7", "hunter2", "db_password"] {
            assert!(!text.contains(part), "{what} shows {part:?}:\n{text}");
        }
    };

    // Without a server (the import runs in this process), then through one.
    let here = node.sop(&["ucm", "import"]);
    node.start();
    let there = node.sop(&["ucm", "import"]);
    for run in [&here, &there] {
        assert_eq!(run.code(), 2, "held: {} {}", run.stdout(), run.stderr());
        let shown = run.stdout() + &run.stderr();
        check("sop ucm import", &shown);
        assert!(
            shown.contains(
                "held, not applied: the format is not recognised: expected CSV with a header row"
            ) && shown.contains("got 43 bytes of text in 2 lines that is none of these"),
            "{shown}"
        );
    }
    let jobs = json(node.sop(&["jobs", "list", "--json"]).success());
    let held: Vec<i64> = jobs
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| j["kind"] == "import")
        .map(|j| {
            assert_eq!(j["status"], "held", "{j}");
            assert!(
                j["message"]
                    .as_str()
                    .unwrap()
                    .contains("the format is not recognised"),
                "{j}"
            );
            j["id"].as_i64().unwrap()
        })
        .collect();
    assert_eq!(held.len(), 2, "{jobs}");
    check("sop jobs list --json", &jobs.to_string());
    check(
        "sop jobs list",
        &node.sop(&["jobs", "list"]).success().stdout(),
    );
    for id in held {
        let id = id.to_string();
        let shown = node.sop(&["jobs", "show", &id]).success().stdout();
        assert!(shown.contains("status    held"), "{shown}");
        check("sop jobs show", &shown);
        check(
            "sop jobs show --json",
            &node
                .sop(&["jobs", "show", &id, "--json"])
                .success()
                .stdout(),
        );
    }
    check(
        "sop ucm show",
        &node.sop(&["ucm", "show"]).success().stdout(),
    );
    check(
        "log/server.log",
        &std::fs::read_to_string(node.home().join("log/server.log")).unwrap(),
    );
}

/// A list whose columns are not recognised reads with a mapping: `--map` for
/// `sop contacts import`, `[ucm.mapping]` for `sop ucm import`. A mapping to an
/// unknown field is refused with the fields accepted, and nothing is changed.
#[test]
fn columns_are_mapped_on_the_command_line_and_in_the_config() {
    let node = Node::new(&[]);
    let count = || node.sop(&["contacts", "count"]).success().stdout();
    let before = count();
    let path = node.home().join("pbx.csv");
    std::fs::write(
        &path,
        "Teilnehmer;Durchwahl;Telefon Zentrale;Bemerkung\nAda Byron-King;2001;+44 20 7946 0777;VIP\n",
    )
    .unwrap();
    let file = path.to_str().unwrap();
    let err = node.sop(&["contacts", "import", file]).failure().stderr();
    assert!(err.contains("no column is a contact field"), "{err}");
    assert!(err.contains("--map"), "{err}");
    let err = node
        .sop(&["contacts", "import", file, "--map", "Durchwahl=extension"])
        .failure()
        .stderr();
    assert!(
        err.contains("column \"Durchwahl\": \"extension\" is not a field"),
        "{err}"
    );
    assert!(
        err.contains("telephoneNumber, mobile, homePhone, ipPhone"),
        "{err}"
    );
    assert!(err.contains("nothing was changed"), "{err}");
    assert_eq!(count(), before);
    let run = node
        .sop(&[
            "contacts",
            "import",
            file,
            "--map",
            "Teilnehmer=cn",
            "--map",
            "Durchwahl=ipPhone",
            "--map",
            "telefon zentrale=telephoneNumber",
        ])
        .success();
    assert!(
        run.stderr().contains("ignored columns: Bemerkung"),
        "{}",
        run.stderr()
    );
    node.sop(&["ucm", "merge"]).success();
    node.start();
    let (ldif, _) = node.ldapsearch(&[
        "-b",
        BASE,
        "(cn=Ada Byron-King)",
        "ipPhone",
        "telephoneNumber",
    ]);
    assert_eq!(values(&ldif, "ipPhone"), ["2001"], "{ldif}");
    assert_eq!(
        values(&ldif, "telephoneNumber"),
        ["+44 20 7946 0777"],
        "{ldif}"
    );

    // The same for the external list, from the config.
    let mut config = std::fs::read_to_string(node.config()).unwrap();
    config.push_str("\n[ucm.mapping]\n\"Rufnummer\" = \"mobile\"\nName = \"cn\"\n");
    std::fs::write(node.config(), &config).unwrap();
    let list = node.home().join("ext.csv");
    std::fs::write(&list, "Name,Rufnummer\nGrace Murray,+1 202 555 0101\n").unwrap();
    let report = import(&node, &list, true);
    assert_eq!(report["imported"], 1, "{report}");
    node.sop(&["ucm", "merge"]).success();
    let (ldif, _) = node.ldapsearch(&["-b", BASE, "(cn=Grace Murray)", "mobile"]);
    assert_eq!(values(&ldif, "mobile"), ["+1 202 555 0101"], "{ldif}");

    // A mapping to an unknown field in the config is refused at check.
    config.push_str("Fax = \"fax\"\n");
    std::fs::write(node.config(), &config).unwrap();
    let err = node.sop(&["config", "check"]).failure();
    let text = err.stdout() + &err.stderr();
    assert!(text.contains("[ucm.mapping] \"Fax\""), "{text}");
    assert!(text.contains("facsimileTelephoneNumber"), "{text}");
}
