//! `sop directory export`: what it writes is what phones get. The LDIF is the
//! answer of `ldapsearch -LLL` to the running node; the CSV and the Yealink phone
//! book, imported into a fresh node, are served with the same names and numbers.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::{BASE, Node, values};
use std::collections::BTreeSet;

/// Two common names, a display name apart from them, every number kind, values
/// that LDIF must base64-encode; and a contact with nothing but a name and a number.
const BOOK: &str = "\
uid,cn,givenName,sn,displayName,o,ou,title,mail,telephoneNumber,mobile,homePhone,ipPhone,otherTelephone,facsimileTelephoneNumber,pager
zs,Zoë Smith ::: Z. Smith,Zoë,Smith,\"Smith, Zoë (Sales)\",Nordwind & Co,Sales,Manager,zoe@example.org,+49 30 1234 100,+49 170 1111111,+49 30 555 0001,4100,+49 30 999 0002,+49 30 1234 199,+49 160 2222222
mx,,Max,,,,,,,+1 555 0100,,,,,,
";

fn node_serving(book: &str) -> Node {
    let node = Node::new(&[]);
    node.publish_csv(book);
    node
}

/// An LDIF's entries as (dn, attribute, value) lines, base64 values decoded.
fn lines(ldif: &str) -> BTreeSet<(String, String, String)> {
    let mut dn = String::new();
    let mut out = BTreeSet::new();
    for line in ldif.lines().filter(|l| !l.is_empty()) {
        let (attr, _) = line.split_once(':').unwrap();
        let value = values(line, attr).remove(0);
        if attr == "dn" {
            dn = value;
        } else {
            out.insert((dn.clone(), attr.to_string(), value));
        }
    }
    out
}

/// Each served entry (base entry left out) as its attribute lines, uid and DN
/// left out: what a phone shows, whatever uid an import gave it.
fn entries(ldif: &str) -> BTreeSet<BTreeSet<(String, String)>> {
    let mut by_dn: std::collections::BTreeMap<String, BTreeSet<(String, String)>> =
        Default::default();
    for (dn, attr, value) in lines(ldif) {
        if dn != BASE && attr != "uid" {
            by_dn.entry(dn).or_default().insert((attr, value));
        }
    }
    by_dn.into_values().collect()
}

fn export(node: &Node, format: &str) -> String {
    node.sop(&["directory", "export", "--format", format])
        .success()
        .stdout()
}

#[test]
fn the_ldif_is_what_ldapsearch_returns() {
    let node = node_serving(BOOK);
    node.start();
    let (answer, code) = node.ldapsearch(&["-b", BASE]);
    assert_eq!(code, 0, "{answer}");
    let exported = node.sop(&["directory", "export"]).success().stdout();
    assert_eq!(lines(&exported), lines(&answer));
    // The contact's values, as the book gives them.
    let cn: BTreeSet<_> = lines(&exported)
        .into_iter()
        .filter(|(dn, a, _)| a == "cn" && dn != BASE)
        .map(|(_, _, v)| v)
        .collect();
    assert_eq!(
        cn,
        ["Max", "Z. Smith", "Zoë Smith"].map(String::from).into()
    );
    assert!(exported.starts_with(&format!("dn: {BASE}\n")), "{exported}");
    // Written to a file, the same text.
    let file = node.home().join("export.ldif");
    node.sop(&["directory", "export", "--output", file.to_str().unwrap()])
        .success();
    assert_eq!(std::fs::read_to_string(&file).unwrap(), exported);
}

#[test]
fn the_csv_imported_into_a_fresh_node_is_served_the_same() {
    let node = node_serving(BOOK);
    let csv = export(&node, "csv");
    // The uid column holds the served uids.
    let uids: BTreeSet<String> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().to_string())
        .collect();
    let served: BTreeSet<String> = values(&export(&node, "ldif"), "uid").into_iter().collect();
    assert_eq!(uids, served);
    let fresh = node_serving(&csv);
    assert_eq!(
        entries(&export(&fresh, "ldif")),
        entries(&export(&node, "ldif"))
    );
}

#[test]
fn the_yealink_book_imported_into_a_fresh_node_has_the_same_names_and_numbers() {
    let node = node_serving(BOOK);
    let xml = export(&node, "yealink-xml");
    let fresh = Node::new(&[]);
    let path = fresh.home().join("book.xml");
    std::fs::write(&path, &xml).unwrap();
    fresh
        .sop(&["contacts", "import", path.to_str().unwrap(), "--replace"])
        .success();
    fresh.sop(&["ucm", "merge"]).success();
    assert_eq!(
        shown(&export(&fresh, "ldif")),
        shown(&export(&node, "ldif"))
    );
    assert!(xml.contains("<Name>Zoë Smith</Name>"), "{xml}");
}

const NUMBERS: [&str; 7] = [
    "telephoneNumber",
    "mobile",
    "homePhone",
    "ipPhone",
    "otherTelephone",
    "facsimileTelephoneNumber",
    "pager",
];

/// What a phone book entry holds: the name phones show (the first cn) and the
/// numbers by attribute.
fn shown(ldif: &str) -> BTreeSet<(String, BTreeSet<(String, String)>)> {
    ldif.split("\n\n")
        .filter(|e| !e.trim().is_empty() && !e.starts_with(&format!("dn: {BASE}\n")))
        .map(|e| {
            let name = values(e, "cn").remove(0);
            let numbers = NUMBERS
                .iter()
                .flat_map(|a| values(e, a).into_iter().map(|v| (a.to_string(), v)))
                .collect();
            (name, numbers)
        })
        .collect()
}

#[test]
fn a_node_without_a_published_generation_says_so() {
    let node = Node::bare(&[]);
    let run = node.sop(&["directory", "export"]).failure();
    assert!(
        run.stderr().contains("no published generation"),
        "{}",
        run.stderr()
    );
    assert!(run.stderr().contains("sop ucm merge"), "{}", run.stderr());
}
