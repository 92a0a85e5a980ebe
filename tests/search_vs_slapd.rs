//! Every filter of the benchmark's matrix (`sop bench filters`: every shape phones
//! send, on every served attribute, typed lengths 1 to 6, finding entries and
//! finding none) returns from `sop` exactly the entries OpenLDAP's `slapd` returns
//! for the same generated phone book of 20,000 contacts, with no size limit, so
//! that the whole set is compared, not the first entries.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::slapd::{self, Slapd};
use common::{BASE, Node};
use ldap3::{LdapConn, Scope, SearchEntry};
use sop::bench::{ldif, phonebook, shapes};

const COUNT: usize = 20_000;
const SEED: u64 = 5;

/// The `mail` values (one per contact) a filter returns, sorted; or the error.
fn mails(conn: &mut LdapConn, filter: &str) -> Result<Vec<String>, String> {
    let (entries, result) = conn
        .search(BASE, Scope::OneLevel, filter, vec!["mail"])
        .map_err(|e| format!("{e}"))?
        .success()
        .map_err(|e| format!("{e}"))
        .map(|(entries, result)| (entries, result.rc))?;
    assert_eq!(result, 0);
    let mut mails: Vec<String> = entries
        .into_iter()
        .flat_map(|e| {
            SearchEntry::construct(e)
                .attrs
                .remove("mail")
                .unwrap_or_default()
        })
        .collect();
    mails.sort();
    Ok(mails)
}

#[test]
fn every_shape_on_every_attribute_returns_what_openldap_returns() {
    let book = phonebook::generate(COUNT, SEED);
    let mut ldif_text = Vec::new();
    ldif::write(&mut ldif_text, &book, BASE).unwrap();
    let index: String = shapes::text_attrs()
        .map(|a| format!("index {} eq,sub\n", a.name()))
        .collect();
    let slapd = Slapd::start(slapd::Options {
        ldif: String::from_utf8(ldif_text).unwrap(),
        suffix: BASE,
        global: "sizelimit unlimited",
        database: &index,
        schema: ldif::SCHEMA,
        ..Default::default()
    });
    let node = Node::new(&[("ldap.size_limit", "100000")]);
    node.start();
    let mut csv = Vec::new();
    sop::formats::csv::export_csv(&book, &mut csv).unwrap();
    node.publish_csv(&String::from_utf8(csv).unwrap());

    let cases = shapes::matrix(&phonebook::directory(COUNT, SEED), SEED, 2);
    let mut reference = LdapConn::new(&format!("ldap://127.0.0.1:{}", slapd.port)).unwrap();
    let mut ours = LdapConn::new(&node.url()).unwrap();
    let mut mismatches = Vec::new();
    let (mut finds, mut none) = (0, 0);
    for case in &cases {
        let want = mails(&mut reference, &case.filter);
        let got = mails(&mut ours, &case.filter);
        match &want {
            Ok(w) if w.is_empty() => none += 1,
            Ok(_) => finds += 1,
            Err(_) => {}
        }
        if want != got {
            let brief = |r: &Result<Vec<String>, String>| match r {
                Ok(v) => format!("{} entries {:?}", v.len(), &v[..v.len().min(3)]),
                Err(e) => e.clone(),
            };
            mismatches.push(format!(
                "{} {}\n  slapd: {}\n  sop:   {}",
                case.class,
                case.filter,
                brief(&want),
                brief(&got)
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} filters disagree:\n{}",
        mismatches.len(),
        cases.len(),
        mismatches.join("\n")
    );
    // The matrix holds both outcomes in quantity, so that agreeing is not agreeing
    // on nothing.
    assert!(cases.len() > 1000, "{} filters", cases.len());
    assert!(
        finds > cases.len() / 3 && none > cases.len() / 4,
        "{finds} find, {none} find none"
    );
}
