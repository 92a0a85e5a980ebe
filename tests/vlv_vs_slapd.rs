//! Virtual list views (the VLV control, with server-side sorting) answer as OpenLDAP's
//! `slapd` with its sssvlv overlay answers, on the same generated phone book: the
//! same entries in the same order, the same target position and content count,
//! the same result, for windows by offset and by typed value, over the whole
//! phone book and over some of it, asked by `ldapsearch -E vlv=...`.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::slapd::{self, Slapd};
use common::{BASE, Node};
use sop::bench::{ldif, phonebook};

const COUNT: usize = 2_000;
const SEED: u64 = 11;

/// What a user compares in `ldapsearch`'s answer: the entries' mail in order,
/// the view's result without its context (each server names its own), and the
/// search's result. (Only the first window: slapd may answer the next ones that
/// Enter asks for with "busy", as its sort of the previous window ends.)
fn answer(url: &str, filter: &str, sort: &str, vlv: &str) -> Vec<String> {
    let out = common::ldapsearch_view(url, BASE, sort, vlv, &[filter, "mail"]);
    out.lines()
        .filter(|l| {
            l.starts_with("mail:") || l.starts_with("vlvResult:") || l.starts_with("result:")
        })
        .map(|l| match l.split_once(" context=") {
            Some((before, after)) => {
                let code = after.split_once(' ').map_or("", |(_, c)| c);
                format!("{before} {code}")
            }
            None => l.to_string(),
        })
        .collect()
}

#[test]
fn windows_of_sorted_lists_are_those_of_openldaps_sssvlv() {
    let book = phonebook::generate(COUNT, SEED);
    let mut ldif_text = Vec::new();
    ldif::write(&mut ldif_text, &book, BASE).unwrap();
    let slapd = Slapd::start(slapd::Options {
        ldif: String::from_utf8(ldif_text).unwrap(),
        suffix: BASE,
        global: "sizelimit unlimited\nmoduleload sssvlv",
        database: "overlay sssvlv",
        schema: ldif::SCHEMA,
        ..Default::default()
    });
    let node = Node::new(&[
        ("ldap.size_limit", "100000"),
        ("ldap.limits.max_sort_candidates", "100000"),
    ]);
    node.start();
    let mut csv = Vec::new();
    sop::formats::csv::export_csv(&book, &mut csv).unwrap();
    node.publish_csv(&String::from_utf8(csv).unwrap());

    // OpenLDAP's name attributes have no ordering rule of their own: the sort
    // names one (sop sorts as that rule does whether named or not).
    let rule = ":caseIgnoreOrderingMatch";
    let sorts = [
        format!("sn{rule}/givenName{rule}/mail{rule}"),
        format!("-cn{rule}/mail{rule}"),
        format!("displayName{rule}/mail{rule}"),
        format!("o{rule}/sn{rule}/mail{rule}"),
    ];
    let filters = [
        // The whole phone book, as Poly phones browse it.
        "(objectClass=person)",
        // Some of it.
        "(|(sn=M*)(givenName=M*)(o=M*))",
        "(&(objectClass=person)(telephoneNumber=*))",
        // None of it.
        "(sn=zzzzzz*)",
    ];
    let windows = [
        "0/19/1/0",
        "0/19/20/0",
        "0/19/39/0",
        "2/2/5/0",
        "5/5/1000/0",
        "10/0/2000/2000",
        "3/3/50/100",
        "0/0/0/0",
        "4/4/1/1",
        "1/1/5000/0",
        "1/1/300/200",
        "2/2:m",
        "0/5:Mül",
        "3/3:zzzz",
        "0/0:zzzz",
        "4/4:A",
        "2/7:ber",
    ];
    let (mut compared, mut listed) = (0, 0);
    let mut mismatches = Vec::new();
    for sort in &sorts {
        for filter in filters {
            for window in windows {
                let want = answer(&slapd.url(), filter, sort, window);
                let got = answer(&node.url(), filter, sort, window);
                compared += 1;
                if want.iter().any(|l| l.starts_with("mail:")) {
                    listed += 1;
                }
                if want != got {
                    mismatches.push(format!(
                        "sss={sort} vlv={window} {filter}\n  slapd: {want:?}\n  sop:   {got:?}"
                    ));
                }
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {compared} views disagree:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    // Most views list entries, so that agreeing is not agreeing on nothing.
    assert!(listed > compared / 2, "{listed} of {compared} list entries");
}

#[test]
fn the_root_dse_names_the_control() {
    let node = Node::new(&[]);
    node.start();
    let (root, _) = node.ldapsearch(&["-b", "", "-s", "base", "supportedControl"]);
    assert!(root.contains("2.16.840.1.113730.3.4.9"), "{root}");
}
