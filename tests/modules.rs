//! Advanced > Module Configuration and Subsystems > Application Server > Sync
//! bundles, as an admin drives them from the command line.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::{BASE, Node, free_port, values};

const PEOPLE: &str = "givenName,sn,telephoneNumber\n\
Ada,Lovelace,+44 20 7946 0001\n\
Alan,Turing,+44 20 7946 0002\n\
Grace,Hopper,+1 202 555 0103\n";

fn pid(node: &Node) -> u64 {
    let json = node.sop(&["server", "status", "--json"]).success().stdout();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["status"]["pid"].as_u64().unwrap()
}

fn bundle_state(node: &Node, bundle: &str) -> String {
    let json = node.sop(&["server", "status", "--json"]).success().stdout();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["status"]["bundles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["name"] == bundle)
        .map(|b| b["state"].as_str().unwrap().to_string())
        .unwrap()
}

#[test]
fn fresh_node_has_the_recommended_profile() {
    let node = Node::new(&[]);
    let list = node.sop(&["module", "list", "--json"]).success().stdout();
    let rows: serde_json::Value = serde_json::from_str(&list).unwrap();
    let installed: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["installed"] == true)
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(installed, ["ucm", "ldap-server"]);
}

#[test]
fn install_brings_dependencies_and_sync_starts_the_bundle_without_a_restart() {
    let node = Node::bare(&[]);
    node.start();
    let before = pid(&node);
    assert_eq!(bundle_state(&node, "ldap"), "not installed");
    let (out, code) = node.ldapsearch(&["-b", BASE, "(cn=*)"]);
    assert_ne!(
        code, 0,
        "nothing listens before the module is installed: {out}"
    );

    let out = node
        .sop(&["module", "install", "ldap-server"])
        .success()
        .stdout();
    assert!(
        out.contains(
            "LDAP Server 1.4.0 needs Unified Communication Model 1.2.0: installing it first"
        ),
        "{out}"
    );
    let ucm = out.find("installed Unified Communication Model").unwrap();
    let ldap = out.find("installed LDAP Server").unwrap();
    assert!(ucm < ldap, "dependencies first: {out}");
    assert!(out.contains("sop server sync"), "{out}");
    let again = node
        .sop(&["module", "install", "ldap-server"])
        .success()
        .stdout();
    assert!(again.contains("already installed"), "{again}");

    let synced = node.sop(&["server", "sync"]).success().stdout();
    assert!(synced.contains("LDAP listening on"), "{synced}");
    node.publish_csv(PEOPLE);
    let (ldif, code) = node.ldapsearch(&["-b", BASE, "(sn=Lovelace)", "cn"]);
    assert_eq!(code, 0, "{ldif}");
    assert_eq!(values(&ldif, "cn"), ["Ada Lovelace"]);
    assert_eq!(pid(&node), before, "no restart");
    assert_eq!(bundle_state(&node, "ldap"), "running");
    let nothing = node.sop(&["server", "sync"]).success().stdout();
    assert!(nothing.contains("nothing to change"), "{nothing}");
}

#[test]
fn remove_is_refused_while_needed_and_asks_for_confirmation() {
    let node = Node::new(&[]);
    node.start();
    let refused = node.sop(&["module", "remove", "ucm"]).failure().stderr();
    assert!(
        refused.contains(
            "Unified Communication Model is needed by LDAP Server: remove LDAP Server first"
        ),
        "{refused}"
    );
    // Without a terminal, only --yes confirms.
    let unconfirmed = node.sop(&["module", "remove", "ldap-server"]).failure();
    assert!(
        unconfirmed.stderr().contains("--yes"),
        "{}",
        unconfirmed.stderr()
    );
    let config = std::fs::read_to_string(node.config()).unwrap();
    assert!(
        config.contains("\"ldap-server\""),
        "nothing changed:\n{config}"
    );

    node.sop(&["module", "remove", "ldap-server", "--yes"])
        .success();
    let (out, code) = node.ldapsearch(&["-b", BASE, "(cn=*)", "cn"]);
    assert_eq!(code, 0, "still served until the sync: {out}");
    let synced = node.sop(&["server", "sync"]).success().stdout();
    assert!(synced.contains("LDAP listeners stopped"), "{synced}");
    let (out, code) = node.ldapsearch(&["-b", BASE, "(cn=*)"]);
    assert_ne!(code, 0, "{out}");
    assert_eq!(bundle_state(&node, "ldap"), "not installed");
    let config = std::fs::read_to_string(node.config()).unwrap();
    assert!(
        config.contains("# Installed modules; the application server runs their bundles."),
        "the template's comments are kept:\n{config}"
    );
}

#[test]
fn a_low_baseline_refuses_and_says_why() {
    let node = Node::bare(&[("node.baseline", "1")]);
    let e = node
        .sop(&["module", "install", "ldap-server"])
        .failure()
        .stderr();
    assert!(
        e.contains("LDAP Server needs baseline 2, and this node is on baseline 1"),
        "{e}"
    );
    node.sop(&["module", "install", "ucm"]).success();
    let info = node
        .sop(&["module", "info", "ldap-server"])
        .success()
        .stdout();
    assert!(info.contains("Release notes"), "{info}");
    assert!(info.contains("baseline:  2 or later"), "{info}");
}

#[test]
fn a_hand_edited_module_list_is_checked() {
    let node = Node::new(&[("modules.installed", "[\"ldap-server\"]")]);
    let e = node.sop(&["config", "check"]).failure().stderr();
    assert!(e.contains("[modules] installed"), "{e}");
    assert!(e.contains("needs ucm installed too"), "{e}");
}

#[test]
fn sync_applies_changed_settings_and_keeps_open_connections() {
    let node = Node::new(&[]);
    node.start();
    node.publish_csv(PEOPLE);
    let mut ldap = ldap3::LdapConn::new(&node.url()).unwrap();
    let all = |ldap: &mut ldap3::LdapConn| {
        let r = ldap
            .search(
                BASE,
                ldap3::Scope::Subtree,
                "(objectClass=person)",
                vec!["cn"],
            )
            .unwrap();
        (r.0.len(), r.1.rc)
    };
    assert_eq!(all(&mut ldap), (3, 0));

    let second = free_port();
    let listen = format!("[\"127.0.0.1:{}\", \"127.0.0.1:{second}\"]", node.port);
    node.set(&[("ldap.size_limit", "2"), ("ldap.listen", &listen)]);
    let synced = node.sop(&["server", "sync"]).success().stdout();
    assert!(
        synced.contains(&format!("now listens on 127.0.0.1:{second}")),
        "{synced}"
    );

    assert_eq!(all(&mut ldap), (2, 4), "same connection, new size limit");
    let out = std::process::Command::new("ldapsearch")
        .args(["-x", "-LLL", "-H", &format!("ldap://127.0.0.1:{second}")])
        .args(["-b", BASE, "(sn=Hopper)", "cn"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("cn: Grace Hopper"));

    // A config that does not load changes nothing.
    node.set(&[("ldap.size_limit", "0")]);
    let e = node.sop(&["server", "sync"]).failure().stderr();
    assert!(e.contains("size_limit = 0"), "{e}");
    assert_eq!(all(&mut ldap), (2, 4));
}
