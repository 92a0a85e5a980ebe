//! Directory sources against a real OpenLDAP `slapd` on 127.0.0.1: paging past the
//! server's size limit, LDAPS and StartTLS with a CA the test makes, the errors an
//! admin meets (wrong password, unreachable server, bad filter, missing base DN, a
//! search failing half-way) leaving the served contacts as they were, the AD
//! preset, and the policies for entries gone from the directory. What is checked
//! is what an admin sees: the contacts `sop` serves over LDAP, and the CLI.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::slapd::{self, Options, READER, READER_PASSWORD, Slapd};
use common::{BASE, Node, values};
use std::os::unix::fs::PermissionsExt;

const PEOPLE: &str = "ou=people,dc=corp,dc=example";

/// A node with Directory Sources installed, its server running.
fn node() -> Node {
    let node = Node::new(&[]);
    node.sop(&["module", "install", "directory-sources"])
        .success();
    node.start();
    node
}

/// The uids `sop` serves for a source, sorted.
fn served(node: &Node, source: &str) -> Vec<String> {
    let (out, code) = node.ldapsearch(&[
        "-b",
        BASE,
        "-E",
        "pr=500/noprompt",
        "(objectClass=*)",
        "uid",
    ]);
    assert_eq!(code, 0, "{out}");
    let prefix = format!("{source}-");
    let mut uids: Vec<String> = values(&out, "uid")
        .into_iter()
        .filter(|u| u.starts_with(&prefix))
        .collect();
    uids.sort();
    uids
}

fn password_file(node: &Node, password: &str) -> String {
    let path = node.home().join("given-password");
    std::fs::write(&path, format!("{password}\n")).unwrap();
    path.to_str().unwrap().to_string()
}

/// `sop sources add NAME` against `uri`, reading `ou=people` as the reader.
fn add(node: &Node, name: &str, uri: &str, extra: &[&str]) {
    let password = password_file(node, READER_PASSWORD);
    let mut args = vec![
        "sources",
        "add",
        name,
        "--uri",
        uri,
        "--base-dn",
        PEOPLE,
        "--bind-dn",
        READER,
        "--password-file",
        &password,
    ];
    args.extend_from_slice(extra);
    node.sop(&args).success();
}

#[test]
fn paging_gets_every_entry_past_the_servers_size_limit() {
    let node = Node::new(&[]);
    let refused = node.sop(&["sources", "list"]).failure();
    assert!(
        refused
            .stderr()
            .contains("sop module install directory-sources"),
        "{}",
        refused.stderr()
    );
    node.sop(&["module", "install", "directory-sources"])
        .success();
    node.start();
    // The server returns at most 100 entries to one search; paged searches get all.
    let server = Slapd::start(Options {
        ldif: slapd::people(250),
        database: "limits * size.soft=100 size.hard=100 size.prtotal=unlimited",
        ..Options::default()
    });
    let before = std::fs::read_to_string(node.config()).unwrap();
    add(
        &node,
        "corp",
        &server.url(),
        &["--page-size", "50", "--filter", "(uid=*)"],
    );
    let config = std::fs::read_to_string(node.config()).unwrap();
    assert!(
        config.starts_with(before.trim_end()),
        "the admin's file is kept as it was:\n{config}"
    );
    assert!(config.contains("[[sources]]\nname = \"corp\""), "{config}");
    assert!(
        !config.contains(READER_PASSWORD),
        "the password stays out of the config"
    );
    let secret = node.home().join("secrets/sources/corp.password");
    let mode = std::fs::metadata(&secret).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);

    let test = node.sop(&["sources", "test", "corp"]).success();
    let out = test.stdout();
    assert!(out.contains("250 entries read, 0 skipped"), "{out}");
    assert!(
        out.contains("u0000") && out.contains("Person 0000"),
        "{out}"
    );
    assert!(out.contains("+250 added ~0 updated -0 removed"), "{out}");
    assert!(out.contains("nothing was applied"), "{out}");
    assert!(!out.contains(READER_PASSWORD));
    assert!(served(&node, "corp").is_empty(), "a test applies nothing");

    let sync = node.sop(&["sources", "sync", "corp"]).success();
    assert!(
        sync.stdout().contains("synced 250 contacts"),
        "{}",
        sync.stdout()
    );
    let uids = served(&node, "corp");
    assert_eq!(uids.len(), 250);
    assert_eq!(uids[0], "corp-u0000");
    let (entry, _) = node.ldapsearch(&["-b", BASE, "(uid=corp-u0007)", "cn", "telephoneNumber"]);
    assert_eq!(values(&entry, "telephoneNumber"), ["+49 30 1000007"]);

    let jobs = node.sop(&["jobs", "list"]).success().stdout();
    assert!(jobs.contains("corp: +250 ~0 -0, 250 read"), "{jobs}");
    let list = node.sop(&["sources", "list"]).success().stdout();
    assert!(list.contains("last sync   ok"), "{list}");

    // Without paging, the server's cap stops the search: nothing is applied.
    node.sop(&["sources", "edit", "corp", "--page-size", "0"])
        .success();
    let capped = node.sop(&["sources", "sync", "corp"]).failure();
    assert!(
        capped.stderr().contains("sizeLimitExceeded")
            && capped.stderr().contains("previous contacts stay"),
        "{}",
        capped.stderr()
    );
    assert_eq!(served(&node, "corp").len(), 250);
}

#[test]
fn failures_are_explained_and_keep_the_served_contacts() {
    let node = node();
    // Unpaged searches are not capped; paged ones stop after 120 entries.
    let mut server = Slapd::start(Options {
        ldif: slapd::people(200),
        database: "limits * size.soft=unlimited size.hard=unlimited size.prtotal=120",
        ..Options::default()
    });
    add(&node, "corp", &server.url(), &["--page-size", "0"]);
    node.sop(&["sources", "sync", "corp"]).success();
    assert_eq!(served(&node, "corp").len(), 200);

    let check = |args: &[&str], expected: &str| {
        let run = node.sop(args);
        let all = run.stdout() + &run.stderr();
        assert!(!run.out.status.success(), "{args:?} should fail: {all}");
        assert!(
            all.contains(expected),
            "{args:?}: expected {expected:?} in {all}"
        );
        assert!(!all.contains(READER_PASSWORD));
        assert_eq!(served(&node, "corp").len(), 200, "after {args:?}");
    };
    // Half-way: two pages come, the third ends in an error.
    node.sop(&["sources", "edit", "corp", "--page-size", "50"])
        .success();
    check(&["sources", "sync", "corp"], "sizeLimitExceeded");
    node.sop(&["sources", "edit", "corp", "--page-size", "0"])
        .success();

    let wrong = password_file(&node, "not-the-password");
    node.sop(&["sources", "edit", "corp", "--password-file", &wrong])
        .success();
    check(&["sources", "sync", "corp"], "wrong bind DN or password");
    let right = password_file(&node, READER_PASSWORD);
    node.sop(&["sources", "edit", "corp", "--password-file", &right])
        .success();

    node.sop(&[
        "sources",
        "edit",
        "corp",
        "--base-dn",
        "ou=nobody,dc=corp,dc=example",
    ])
    .success();
    check(
        &["sources", "sync", "corp"],
        "base DN ou=nobody,dc=corp,dc=example does not exist",
    );
    node.sop(&["sources", "edit", "corp", "--base-dn", PEOPLE])
        .success();

    // A filter that is not one is refused before anything is written.
    let config = std::fs::read_to_string(node.config()).unwrap();
    check(
        &["sources", "edit", "corp", "--filter", "(cn=a"],
        "nothing was changed",
    );
    assert_eq!(std::fs::read_to_string(node.config()).unwrap(), config);
    // A filter that matches nothing holds the sync.
    node.sop(&["sources", "edit", "corp", "--filter", "(cn=nobody)"])
        .success();
    check(&["sources", "sync", "corp"], "returned no entry");
    node.sop(&[
        "sources",
        "edit",
        "corp",
        "--filter",
        "(objectClass=person)",
    ])
    .success();

    server.stop();
    check(
        &["sources", "sync", "corp"],
        "cannot connect to ldap://127.0.0.1",
    );
    check(&["sources", "test", "corp"], "cannot connect");

    let jobs = node.sop(&["jobs", "list"]).success().stdout();
    assert!(jobs.contains("failed"), "{jobs}");
    assert!(jobs.contains("held"), "{jobs}");
}

#[test]
fn ldaps_and_starttls_trust_the_given_ca_only() {
    let node = node();
    let tls = tempfile::tempdir().unwrap();
    common::tls::write_ca_and_server_cert(tls.path());
    let other = tempfile::tempdir().unwrap();
    common::tls::write_ca_and_server_cert(other.path());
    let server = Slapd::start(Options {
        ldif: slapd::people(3),
        tls: Some(tls.path()),
        ..Options::default()
    });
    let ca = tls.path().join("ca.pem");
    let ca = ca.to_str().unwrap();
    add(&node, "secure", &server.ldaps_url(), &["--ca-file", ca]);
    add(
        &node,
        "upgraded",
        &server.url(),
        &["--starttls", "--ca-file", ca],
    );
    add(&node, "unknown", &server.ldaps_url(), &[]);
    let other_ca = other.path().join("ca.pem");
    add(
        &node,
        "other",
        &server.url(),
        &["--starttls", "--ca-file", other_ca.to_str().unwrap()],
    );

    for name in ["secure", "upgraded"] {
        let out = node.sop(&["sources", "test", name]).success().stdout();
        assert!(out.contains("3 entries read"), "{name}: {out}");
    }
    node.sop(&["sources", "sync", "secure"]).success();
    assert_eq!(served(&node, "secure").len(), 3);
    for name in ["unknown", "other"] {
        let refused = node.sop(&["sources", "sync", name]).failure();
        assert!(
            refused.stderr().contains("certificate is not trusted"),
            "{name}: {}",
            refused.stderr()
        );
    }
    let loud = node
        .sop(&["sources", "edit", "other", "--insecure-skip-verify", "true"])
        .success();
    assert!(loud.stdout().contains("NOT checked"), "{}", loud.stdout());
    node.sop(&["sources", "test", "other"]).success();
}

#[test]
fn ad_preset_maps_account_names_and_numbers() {
    // A JPEG's first bytes, then bytes that are not UTF-8; and a photo over 64 KiB.
    const PHOTO: &str = "/9j/4AAQSkZJRgABAQAAAQABAAD/2Q==";
    let big = {
        use base64::Engine;
        let mut bytes = vec![0xff, 0xd8, 0xff, 0xe0];
        bytes.resize(70_000, 0xfe);
        base64::engine::general_purpose::STANDARD.encode(bytes)
    };
    let node = node();
    let entry = |sam: &str, extra: &str| {
        format!(
            "dn: cn={sam},{PEOPLE}\nobjectClass: user\ncn: {sam}\nsn: {sam}\nsAMAccountName: {sam}\n{extra}\n"
        )
    };
    let ldif = [
        entry(
            "jdoe",
            &format!(
                "displayName: Jane Doe\ntelephoneNumber: +1 404 555 7100\n\
                 otherTelephone: +1 404 555 7101\notherTelephone: +1 404 555 7102\n\
                 ipPhone: 2001\nmobile: +1 404 555 7199\ncompany: Corp\n\
                 streetAddress: 1 Peachtree St\nl: Atlanta\npostalCode: 30303\nst: GA\nc: US\n\
                 description: Reception\nthumbnailPhoto:: {PHOTO}\n"
            ),
        ),
        entry(
            "rroe",
            &format!("displayName: Richard Roe\nipPhone: 2002\nthumbnailPhoto:: {big}\n"),
        ),
        // A second account with the same sAMAccountName: skipped, with its reason.
        format!(
            "dn: cn=jdoe2,{PEOPLE}\nobjectClass: user\ncn: jdoe2\nsn: Doe\nsAMAccountName: jdoe\n\n"
        ),
    ]
    .concat();
    let server = Slapd::start(Options {
        ldif,
        schema: slapd::AD_SCHEMA,
        ..Options::default()
    });
    add(
        &node,
        "ad",
        &server.url(),
        &["--preset", "ad", "--filter", "(objectClass=user)"],
    );
    let out = node.sop(&["sources", "sync", "ad"]).success().stdout();
    assert!(out.contains("3 entries read, 1 skipped"), "{out}");
    let job = out
        .split("(job ")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .unwrap();
    let shown = node.sop(&["jobs", "show", job]).success().stdout();
    assert!(
        shown.contains("cn=jdoe2,ou=people,dc=corp,dc=example")
            && shown.contains("the same id \"jdoe\""),
        "{shown}"
    );
    assert!(
        shown.contains("cn=rroe,ou=people,dc=corp,dc=example")
            && shown.contains("photo is larger than 64 KiB"),
        "{shown}"
    );
    assert_eq!(served(&node, "ad"), ["ad-jdoe", "ad-rroe"]);
    let (jane, _) = node.ldapsearch(&[
        "-b",
        BASE,
        "(uid=ad-jdoe)",
        "cn",
        "telephoneNumber",
        "ipPhone",
        "mobile",
        "o",
        "street",
        "l",
        "postalCode",
        "st",
        "c",
        "description",
        "jpegPhoto",
    ]);
    assert_eq!(values(&jane, "cn"), ["Jane Doe"]);
    for (attr, value) in [
        ("street", "1 Peachtree St"),
        ("l", "Atlanta"),
        ("postalCode", "30303"),
        ("st", "GA"),
        ("c", "US"),
        ("description", "Reception"),
    ] {
        assert_eq!(values(&jane, attr), [value], "{attr}");
    }
    assert!(jane.contains(&format!("jpegPhoto:: {PHOTO}\n")), "{jane}");
    let (richard, _) = node.ldapsearch(&["-b", BASE, "(uid=ad-rroe)", "*"]);
    assert!(
        richard.contains("ipPhone: 2002") && !richard.contains("jpegPhoto"),
        "{richard}"
    );
    assert_eq!(
        values(&jane, "telephoneNumber"),
        ["+1 404 555 7100", "+1 404 555 7101", "+1 404 555 7102"]
    );
    assert_eq!(values(&jane, "ipPhone"), ["2001"]);
    assert_eq!(values(&jane, "mobile"), ["+1 404 555 7199"]);
    assert_eq!(values(&jane, "o"), ["Corp"]);
}

#[test]
fn remove_keep_and_age_policies_over_several_syncs() {
    let node = node();
    let server = Slapd::start(Options {
        ldif: slapd::people(5),
        ..Options::default()
    });
    add(&node, "corp", &server.url(), &["--filter", "(uid=*)"]);
    let sync = || node.sop(&["sources", "sync", "corp"]).success().stdout();
    let gone = |uid: &str| server.modify(&format!("dn: uid={uid},{PEOPLE}\nchangetype: delete\n"));
    sync();
    assert_eq!(served(&node, "corp").len(), 5);

    gone("u0001");
    let out = sync();
    assert!(out.contains("+0 added ~0 updated -1 removed"), "{out}");
    assert!(!served(&node, "corp").contains(&"corp-u0001".to_string()));

    node.sop(&["sources", "edit", "corp", "--policy", "keep"])
        .success();
    gone("u0002");
    server.modify(&format!(
        "dn: uid=u0003,{PEOPLE}\nchangetype: modify\nreplace: telephoneNumber\ntelephoneNumber: +49 30 999\n"
    ));
    let out = sync();
    assert!(
        out.contains("~1 updated -0 removed (1 gone from the directory, kept"),
        "{out}"
    );
    assert_eq!(served(&node, "corp").len(), 4);

    node.sop(&["sources", "edit", "corp", "--policy", "age:1"])
        .success();
    gone("u0003");
    sync();
    assert_eq!(
        served(&node, "corp"),
        ["corp-u0000", "corp-u0002", "corp-u0003", "corp-u0004"]
    );
    // Two hours pass for u0002: last seen two hours earlier than recorded.
    let seen_path = node.home().join("data/sources/dir-corp.seen");
    let mut seen: std::collections::HashMap<String, u64> =
        serde_json::from_slice(&std::fs::read(&seen_path).unwrap()).unwrap();
    *seen.get_mut("u0002").unwrap() -= 2 * 3600;
    std::fs::write(&seen_path, serde_json::to_vec(&seen).unwrap()).unwrap();
    let out = sync();
    assert!(out.contains("-1 removed"), "{out}");
    assert_eq!(
        served(&node, "corp"),
        ["corp-u0000", "corp-u0003", "corp-u0004"]
    );

    node.sop(&["sources", "remove", "corp"]).success();
    assert!(served(&node, "corp").is_empty());
    assert!(!node.home().join("secrets/sources/corp.password").exists());
}

#[test]
fn the_server_syncs_each_source_on_its_cron() {
    let node = node();
    let server = Slapd::start(Options {
        ldif: slapd::people(3),
        ..Options::default()
    });
    // Every second, with seconds first: the running server picks it up at once.
    add(&node, "corp", &server.url(), &["--cron", "* * * * * *"]);
    let started = std::time::Instant::now();
    while served(&node, "corp").len() < 3 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "the scheduled sync did not run"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    node.sop(&["sources", "edit", "corp", "--cron", ""])
        .success();
    let jobs = node.sop(&["jobs", "list"]).success().stdout();
    assert!(jobs.contains("corp: +3 ~0 -0, 3 read"), "{jobs}");
}

#[test]
fn a_server_that_refuses_paging_is_searched_without_it() {
    let node = node();
    let server = Slapd::start(Options {
        ldif: slapd::people(30),
        database: "limits * size.soft=unlimited size.hard=unlimited size.prtotal=disabled",
        ..Options::default()
    });
    add(&node, "corp", &server.url(), &["--page-size", "10"]);
    let out = node.sop(&["sources", "sync", "corp"]).success().stdout();
    assert!(out.contains("30 entries read"), "{out}");
    assert_eq!(served(&node, "corp").len(), 30);
}
