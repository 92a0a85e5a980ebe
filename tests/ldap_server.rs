//! The LDAP server as phones and OpenLDAP's own tools see it.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::{BASE, Node, values};
use std::process::Command;

const BOOK: &str = "\u{feff}givenName,sn,displayName,telephoneNumber,mobile,homePhone,mail,o,ou,title\n\
Ada,Lovelace,Ada Lovelace,+44 20 7946 0001,,,ada@example.org,Analytical Engines,R&D,Countess\n\
Alan,Turing,Alan Turing,+44 20 7946 0002,+44 7700 900002,,alan@example.org,Bletchley Park,Hut 8,\n\
Élodie,Dubois,Élodie Dubois,+33 1 23 45 67 89,06-12-34-56-78,,,Société Générale,,\n\
Jürgen,Müller,Jürgen Müller,030 1234567,,+49 30 7654321,,Nordwind GmbH,,\n\
John,Smith,John Smith,+1 555 0100,,,,ACME,Sales,\n\
John,Smith,John Smith,+1 555 0199,,,,ACME,Support,\n";

fn node_with_book(settings: &[(&str, &str)]) -> Node {
    let node = Node::new(settings);
    node.start();
    node.publish_csv(BOOK);
    node
}

fn cns(ldif: &str) -> Vec<String> {
    let mut v = values(ldif, "cn");
    v.sort();
    v
}

#[test]
fn root_dse_names_the_phone_book_and_its_features() {
    let node = node_with_book(&[]);
    let (ldif, code) = node.ldapsearch(&["-b", "", "-s", "base", "(objectClass=*)", "+"]);
    assert_eq!(code, 0, "{ldif}");
    assert_eq!(values(&ldif, "namingContexts"), vec![BASE]);
    assert_eq!(values(&ldif, "supportedLDAPVersion"), vec!["3"]);
    let controls = values(&ldif, "supportedControl");
    assert!(
        controls.contains(&"1.2.840.113556.1.4.319".to_string()),
        "paged results"
    );
    assert!(
        controls.contains(&"1.2.840.113556.1.4.473".to_string()),
        "server-side sort"
    );
}

#[test]
fn phone_style_filters_find_what_people_type() {
    let node = node_with_book(&[]);
    let search = |f: &str| cns(&node.ldapsearch(&["-b", BASE, f, "cn"]).0);
    assert_eq!(search("(|(cn=ad*)(sn=ad*))"), vec!["Ada Lovelace"]);
    assert_eq!(search("(cn=*URIN*)"), vec!["Alan Turing"]);
    assert_eq!(search("(sn=müll*)"), vec!["Jürgen Müller"]);
    assert_eq!(search("(givenName=élodie)"), vec!["Élodie Dubois"]);
    assert_eq!(
        search("(telephoneNumber=*7946*)"),
        vec!["Ada Lovelace", "Alan Turing"]
    );
    // Spaces and hyphens in numbers are ignored, as telephoneNumberMatch does.
    assert_eq!(search("(mobile=0612345678)"), vec!["Élodie Dubois"]);
    assert_eq!(
        search("(telephoneNumber=+442079460002)"),
        vec!["Alan Turing"]
    );
    // Two contacts with the same name are two entries.
    assert_eq!(search("(cn=John Smith)"), vec!["John Smith", "John Smith"]);
    // An unknown attribute makes its branch Undefined, not the search fail.
    assert_eq!(search("(|(nosuchattr=x)(sn=turing))"), vec!["Alan Turing"]);
    assert_eq!(
        search("(&(objectClass=person)(sn=lovelace))"),
        vec!["Ada Lovelace"]
    );
}

#[test]
fn values_come_back_exactly_as_stored() {
    let node = node_with_book(&[]);
    let (ldif, _) = node.ldapsearch(&["-b", BASE, "(sn=dubois)"]);
    assert_eq!(values(&ldif, "mobile"), vec!["06-12-34-56-78"]);
    assert_eq!(values(&ldif, "o"), vec!["Société Générale"]);
    let classes = values(&ldif, "objectClass");
    for oc in ["top", "person", "organizationalPerson", "inetOrgPerson"] {
        assert!(classes.contains(&oc.to_string()), "{classes:?}");
    }
}

#[test]
fn an_entry_read_by_its_dn_returns_that_entry_and_keeps_its_dn() {
    let node = node_with_book(&[]);
    let (ldif, _) = node.ldapsearch(&["-b", BASE, "(sn=turing)", "1.1"]);
    let dn = values(&ldif, "dn").pop().unwrap();
    let (entry, code) = node.ldapsearch(&["-b", &dn, "-s", "base", "(objectClass=*)"]);
    assert_eq!(code, 0, "{entry}");
    assert_eq!(values(&entry, "cn"), vec!["Alan Turing"]);
    // The same contact keeps its DN in the next generation.
    node.sop(&["ucm", "merge"]).success();
    let (again, _) = node.ldapsearch(&["-b", BASE, "(sn=turing)", "1.1"]);
    assert_eq!(values(&again, "dn"), vec![dn]);
    let (missing, code) = node.ldapsearch(&[
        "-b",
        &format!("uid=nobody,{BASE}"),
        "-s",
        "base",
        "(objectClass=*)",
    ]);
    assert_eq!(code, 32, "noSuchObject: {missing}");
}

#[test]
fn size_limits_return_the_first_entries_and_code_4() {
    let node = node_with_book(&[("ldap.size_limit", "3")]);
    let (ldif, code) = node.ldapsearch(&["-b", BASE, "(objectClass=inetOrgPerson)", "cn"]);
    assert_eq!(code, 4, "sizeLimitExceeded: {ldif}");
    assert_eq!(values(&ldif, "cn").len(), 3);
    let (ldif, code) =
        node.ldapsearch(&["-z", "2", "-b", BASE, "(objectClass=inetOrgPerson)", "cn"]);
    assert_eq!(code, 4);
    assert_eq!(values(&ldif, "cn").len(), 2);
    let (ldif, code) = node.ldapsearch(&["-z", "2", "-b", BASE, "(sn=turing)", "cn"]);
    assert_eq!((code, values(&ldif, "cn").len()), (0, 1));
}

#[test]
fn paged_results_return_everything_page_by_page() {
    let node = node_with_book(&[("ldap.size_limit", "3")]);
    let (ldif, code) = node.ldapsearch(&[
        "-E",
        "pr=2/noprompt",
        "-b",
        BASE,
        "-s",
        "one",
        "(objectClass=inetOrgPerson)",
        "cn",
    ]);
    assert_eq!(code, 0, "{ldif}");
    assert_eq!(values(&ldif, "cn").len(), 6, "{ldif}");
}

#[test]
fn server_side_sorting_orders_by_any_attribute() {
    let node = node_with_book(&[]);
    let (ldif, code) = node.ldapsearch(&[
        "-E",
        "sss=telephoneNumber",
        "-b",
        BASE,
        "-s",
        "one",
        "(cn=*)",
        "sn",
    ]);
    assert_eq!(code, 0, "{ldif}");
    let (ldif_rev, _) =
        node.ldapsearch(&["-E", "sss=-sn", "-b", BASE, "-s", "one", "(cn=*)", "sn"]);
    let sn = values(&ldif_rev, "sn");
    let mut sorted = sn.clone();
    sorted.sort_by_key(|s| s.to_lowercase());
    sorted.reverse();
    assert_eq!(sn, sorted);
    assert_eq!(values(&ldif, "sn").len(), 6);
}

#[test]
fn attribute_selection_and_types_only() {
    let node = node_with_book(&[]);
    let (ldif, _) = node.ldapsearch(&["-b", BASE, "(sn=lovelace)", "gn", "MAIL"]);
    assert_eq!(values(&ldif, "givenName"), vec!["Ada"]);
    assert_eq!(values(&ldif, "mail"), vec!["ada@example.org"]);
    assert!(values(&ldif, "cn").is_empty(), "{ldif}");
    let (ldif, _) = node.ldapsearch(&["-b", BASE, "(sn=lovelace)", "1.1"]);
    assert_eq!(ldif.lines().filter(|l| !l.is_empty()).count(), 1, "{ldif}");
    let (ldif, _) = node.ldapsearch(&["-A", "-b", BASE, "(sn=lovelace)", "cn"]);
    assert!(ldif.lines().any(|l| l.trim() == "cn:"), "{ldif}");
}

#[test]
fn writes_and_unknown_operations_get_result_codes() {
    let node = node_with_book(&[]);
    let ldif = format!("dn: uid=new,{BASE}\nchangetype: add\nobjectClass: person\ncn: x\nsn: x\n");
    let path = node.home().join("add.ldif");
    std::fs::write(&path, ldif).unwrap();
    let out = Command::new("ldapmodify")
        .args(["-x", "-H", &node.url(), "-f", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(53), "unwillingToPerform: {out:?}");
    let out = Command::new("ldapexop")
        .args(["-x", "-H", &node.url(), "1.2.3.4.5"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Protocol error (2)"), "protocolError: {out:?}");
    let out = Command::new("ldapwhoami")
        .args(["-x", "-H", &node.url()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "anonymous");
    // The connection and the server survive all that.
    assert_eq!(node.ldapsearch(&["-b", BASE, "(sn=turing)", "cn"]).1, 0);
}

#[test]
fn bind_policies() {
    // any: phones that always send credentials are let in.
    let node = node_with_book(&[]);
    let (_, code) = node.ldapsearch(&[
        "-D",
        "cn=phone",
        "-w",
        "whatever",
        "-b",
        BASE,
        "(sn=turing)",
    ]);
    assert_eq!(code, 0);

    let anon = node_with_book(&[("ldap.bind", "\"anonymous\"")]);
    let (_, code) = anon.ldapsearch(&["-D", "cn=phone", "-w", "x", "-b", BASE, "(sn=turing)"]);
    assert_eq!(code, 49, "invalidCredentials");
    assert_eq!(anon.ldapsearch(&["-b", BASE, "(sn=turing)"]).1, 0);

    let creds = Node::new(&[
        ("ldap.bind", "\"credentials\""),
        ("ldap.bind_dn", "\"cn=phones,dc=phonebook,dc=local\""),
    ]);
    std::fs::write(creds.home().join("secrets/ldap-bind-password"), "s3cret\n").unwrap();
    creds.start();
    let (_, code) = creds.ldapsearch(&[
        "-D",
        "cn=phones,dc=phonebook,dc=local",
        "-w",
        "wrong",
        "-b",
        BASE,
    ]);
    assert_eq!(code, 49, "invalidCredentials");
    let (_, code) = creds.ldapsearch(&["-b", BASE, "(objectClass=*)"]);
    assert_eq!(code, 50, "insufficientAccessRights without the bind");
    let (_, code) = creds.ldapsearch(&[
        "-D",
        "CN=Phones, dc=phonebook,dc=local",
        "-w",
        "s3cret",
        "-b",
        BASE,
    ]);
    assert_eq!(code, 0);
    let log = std::fs::read_to_string(creds.home().join("log/access.log")).unwrap();
    assert!(!log.contains("s3cret"), "passwords never reach the log");
}

#[test]
fn access_log_has_one_line_per_operation() {
    let node = node_with_book(&[]);
    node.ldapsearch(&["-z", "5", "-b", BASE, "(cn=*tur*)", "cn", "mobile"]);
    // The log is written in the background: give it a moment.
    let mut log = String::new();
    for _ in 0..50 {
        log = std::fs::read_to_string(node.home().join("log/access.log")).unwrap();
        if log.contains("(cn=*tur*)") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let line = log
        .lines()
        .find(|l| l.contains("(cn=*tur*)"))
        .unwrap_or_else(|| panic!("{log}"));
    for part in [
        "client=127.0.0.1:",
        "op=search",
        "bind=\"\"",
        &format!("base=\"{BASE}\""),
        "scope=sub",
        "attrs=\"cn,mobile\"",
        "sizelimit=5",
        "entries=1",
        "result=0",
        " us=",
    ] {
        assert!(line.contains(part), "{part} missing in {line}");
    }
}

fn tls_node(settings: &[(&str, &str)]) -> Node {
    let node = Node::new(settings);
    common::tls::write_ca_and_server_cert(node.home());
    node.start();
    node.publish_csv(BOOK);
    node
}

fn ldapsearch_tls(node: &Node, url: &str, args: &[&str]) -> (String, i32) {
    let out = Command::new("ldapsearch")
        .env("LDAPTLS_CACERT", node.home().join("ca.pem"))
        .env("LDAPTLS_REQCERT", "demand")
        .args(["-x", "-LLL", "-H", url])
        .args(args)
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn starttls_ldaps_and_tls_required() {
    let ldaps_port = common::free_port();
    let ldaps = format!("[\"127.0.0.1:{ldaps_port}\"]");
    let node = tls_node(&[
        ("ldap.tls.starttls", "true"),
        ("ldap.tls.required", "true"),
        ("ldap.tls.certificate", "\"cert.pem\""),
        ("ldap.tls.key", "\"key.pem\""),
        ("ldap.tls.ldaps_listen", &ldaps),
    ]);
    // In clear: refused with confidentialityRequired.
    let (out, code) = node.ldapsearch(&["-b", BASE, "(sn=turing)"]);
    assert_eq!(code, 13, "{out}");
    // StartTLS.
    let (out, code) = ldapsearch_tls(
        &node,
        &node.url(),
        &["-ZZ", "-b", BASE, "(sn=turing)", "cn"],
    );
    assert_eq!(code, 0, "{out}");
    assert_eq!(values(&out, "cn"), vec!["Alan Turing"]);
    // LDAPS.
    let url = format!("ldaps://127.0.0.1:{ldaps_port}");
    let (out, code) = ldapsearch_tls(&node, &url, &["-b", BASE, "(sn=lovelace)", "cn"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(values(&out, "cn"), vec!["Ada Lovelace"]);
}

#[test]
fn phones_that_bind_with_ldap_v2_are_served() {
    let node = node_with_book(&[]);
    let (ldif, code) = node.ldapsearch(&["-P", "2", "-b", BASE, "(sn=turing)", "cn"]);
    assert_eq!(code, 0, "{ldif}");
    assert_eq!(values(&ldif, "cn"), vec!["Alan Turing"]);
}

#[test]
fn reverse_lookup_finds_a_number_in_any_form_once_configured() {
    // Stored as "030 1234567" (work) and "+49 30 7654321" (home).
    let incoming = [
        "(telephoneNumber=+49301234567)",
        "(homePhone=00493076543 21)",
        "(homePhone=030 7654321)",
    ];
    let plain = node_with_book(&[]);
    for f in incoming {
        let (ldif, _) = plain.ldapsearch(&["-b", BASE, f, "cn"]);
        assert!(
            values(&ldif, "cn").is_empty(),
            "unconfigured, {f} matches as OpenLDAP: {ldif}"
        );
    }
    let node = node_with_book(&[
        ("numbers.country_code", "\"49\""),
        ("numbers.trunk_prefix", "\"0\""),
    ]);
    for f in incoming {
        let (ldif, _) = node.ldapsearch(&["-b", BASE, f, "cn"]);
        assert_eq!(values(&ldif, "cn"), vec!["Jürgen Müller"], "{f}");
    }
}
