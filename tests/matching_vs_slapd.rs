//! Matching agrees with OpenLDAP: the same phone book is loaded into a real `slapd`
//! (back-mdb, inetOrgPerson, eq and sub indexes) and into `sop`, and the same
//! phone-style filters, sent by OpenLDAP's own `ldapsearch`, must return the same
//! entries from both.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::{BASE, Node, free_port, values};
use sop::contacts::{Contact, Phone, PhoneKind};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Slapd {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Slapd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn slapd_binary() -> &'static str {
    let path = "/usr/sbin/slapd";
    assert!(
        std::path::Path::new(path).exists(),
        "OpenLDAP's slapd is needed (Debian package slapd; `bash .ci/test` installs it)"
    );
    path
}

fn start_slapd(ldif: &str) -> Slapd {
    let slapd = slapd_binary();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    std::fs::create_dir(&db).unwrap();
    let conf = dir.path().join("slapd.conf");
    std::fs::write(
        &conf,
        format!(
            "include /etc/ldap/schema/core.schema\n\
             include /etc/ldap/schema/cosine.schema\n\
             include /etc/ldap/schema/inetorgperson.schema\n\
             modulepath /usr/lib/ldap\n\
             moduleload back_mdb\n\
             pidfile {pid}\n\
             sizelimit unlimited\n\
             database mdb\n\
             maxsize 104857600\n\
             suffix \"{BASE}\"\n\
             directory {db}\n\
             index objectClass eq\n\
             index cn,sn,givenName,telephoneNumber,mobile,homePhone eq,sub\n",
            pid = dir.path().join("slapd.pid").display(),
            db = db.display(),
        ),
    )
    .unwrap();
    let ldif_path = dir.path().join("book.ldif");
    std::fs::write(&ldif_path, ldif).unwrap();
    let out = Command::new("/usr/sbin/slapadd")
        .args(["-q", "-f"])
        .arg(&conf)
        .arg("-l")
        .arg(&ldif_path)
        .output()
        .unwrap();
    assert!(out.status.success(), "slapadd: {out:?}");
    let port = free_port();
    let child = Command::new(slapd)
        .arg("-f")
        .arg(&conf)
        .args(["-h", &format!("ldap://127.0.0.1:{port}/"), "-d", "0"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "slapd did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Slapd {
        child,
        port,
        _dir: dir,
    }
}

fn contact(
    id: &str,
    given: &str,
    sur: &str,
    display: &str,
    numbers: &[(PhoneKind, &str)],
) -> Contact {
    Contact {
        id: id.to_string(),
        given_name: given.to_string(),
        surname: sur.to_string(),
        display_name: display.to_string(),
        company: "Edge Cases".to_string(),
        email: format!("{id}@example.org"),
        phones: numbers
            .iter()
            .map(|(kind, n)| Phone {
                kind: *kind,
                number: n.to_string(),
            })
            .collect(),
        ..Contact::default()
    }
}

/// Hand-picked contacts that exercise the matching rules, plus a generated book.
fn book() -> Vec<Contact> {
    use PhoneKind::*;
    let mut book = vec![
        contact(
            "e1",
            "Jürgen",
            "Müller",
            "Jürgen Müller",
            &[(Work, "+49 30 1234567")],
        ),
        contact("e2", "JÜRGEN", "MÜLLER", "", &[(Work, "+49-30-1234567")]),
        contact(
            "e3",
            "E\u{301}lodie",
            "Dubois",
            "",
            &[(Mobile, "06 12 34 56 78")],
        ),
        contact(
            "e4",
            "Élodie",
            "Dubois-Martin",
            "Élodie  Dubois-Martin",
            &[(Mobile, "0612345678")],
        ),
        contact("e5", "Anna", "Groß", "", &[(Work, "(030) 555-0100")]),
        contact(
            "e6",
            "",
            "",
            "Reception",
            &[(Work, "+49 30 1234000"), (Home, "0049 30 1234000")],
        ),
        contact("e7", "John", "Smith", "", &[(Work, "+1 555 0100")]),
        contact("e8", "John", "Smith", "", &[(Work, "+1 555 0199")]),
        contact("e9", "Ayşe", "Öztürk", "", &[(Mobile, "+90 532 123 45 67")]),
        contact(
            "e10",
            "Łukasz",
            "Wiśniewski",
            "",
            &[(Work, "+48 22 123 45 67"), (Pager, "12345")],
        ),
        contact("e11", "Mary", "O'Brien", "", &[(Work, "+44 20 7946 0958")]),
        contact(
            "e12",
            "Jean",
            "de la Fontaine",
            "",
            &[(Work, "+33 1 23 45 67 89")],
        ),
        contact("e13", "Åsa", "Andersson", "", &[(Fax, "+46 8 123 456 78")]),
    ];
    book.extend(sop::bench::phonebook::generate(400, 11));
    book
}

const FILTERS: &[&str] = &[
    // Yealink, Snom, Gigaset, Polycom-style searches as people type.
    "(|(cn=*ü*)(telephoneNumber=*ü*)(mobile=*ü*))",
    "(|(cn=jü*)(sn=jü*)(givenName=jü*))",
    "(|(cn=*mül*)(sn=*mül*))",
    "(|(cn=*MUL*)(sn=*MUL*))",
    "(|(cn=*ll*)(sn=*ll*)(givenName=*ll*))",
    "(cn=*é*)",
    "(givenName=élodie)",
    "(givenName=ÉLODIE)",
    "(sn=dubois*)",
    "(sn=*-martin)",
    "(cn=élodie dubois-martin)",
    "(cn=*odie dub*)",
    "(sn=groß)",
    "(sn=gross)",
    "(sn=o'brien)",
    "(sn=de la*)",
    "(sn=de*la*fon*)",
    "(cn=john smith)",
    "(cn=JOHN SMITH)",
    "(cn=john*smith)",
    "(&(objectClass=person)(|(cn=ay*)(sn=ay*)))",
    "(&(objectClass=inetOrgPerson)(sn=öz*))",
    "(objectClass=organizationalPerson)",
    "(objectClass=*)",
    "(telephoneNumber=+49301234567)",
    "(telephoneNumber=+49 30 1234567)",
    "(telephoneNumber=+49-30-123-4567)",
    "(telephoneNumber=*1234567)",
    "(telephoneNumber=+49*)",
    "(telephoneNumber=*30 12*)",
    "(telephoneNumber=*(030)*)",
    "(telephoneNumber=(030)555-0100)",
    "(mobile=0612345678)",
    "(mobile=06*)",
    "(mobile=*5678)",
    "(|(telephoneNumber=+15550100)(mobile=+15550100)(homePhone=+15550100))",
    "(homePhone=0049301234000)",
    "(homePhone=*)",
    "(pager=12345)",
    "(!(mobile=*))",
    "(&(sn=smith)(!(telephoneNumber=*0199)))",
    "(|(nosuchattribute=x)(sn=müller))",
    "(&(nosuchattribute=x)(sn=müller))",
    "(!(nosuchattribute=x))",
    "(sn>=m)",
    "(cn<=m)",
    "(!(sn>=m))",
    "(telephoneNumber>=+4)",
    "(cn~=smith)",
    "(cn~=jon smyth)",
    "(sn~=mueller)",
    "(telephoneNumber~=+1 555 0100)",
    "(mail=E1@EXAMPLE.ORG)",
    "(mail=*@example.org)",
    "(facsimileTelephoneNumber=*)",
    "(facsimileTelephoneNumber=+46812345678)",
    "(gn=anna)",
    "(surname=*son)",
    "(cn=*)",
    "(|(cn=ma*)(sn=ma*)(telephoneNumber=*12*))",
    "(|(cn=sch*)(telephoneNumber=0*))",
    "(&(|(cn=*a*)(sn=*a*))(mobile=+*))",
];

/// The `mail` values (unique per contact) a filter returns, sorted.
fn found(port: u16, filter: &str) -> Result<Vec<String>, String> {
    let out = Command::new("ldapsearch")
        .args(["-x", "-LLL", "-o", "ldif-wrap=no", "-z", "0"])
        .args([
            "-H",
            &format!("ldap://127.0.0.1:{port}"),
            "-b",
            BASE,
            "-s",
            "one",
        ])
        .arg(filter)
        .arg("mail")
        .output()
        .unwrap();
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let mut mails = values(&String::from_utf8_lossy(&out.stdout), "mail");
    mails.sort();
    Ok(mails)
}

#[test]
fn phone_filters_return_what_openldap_returns() {
    let book = book();
    let mut ldif = Vec::new();
    sop::bench::ldif::write(&mut ldif, &book, BASE).unwrap();
    let slapd = start_slapd(&String::from_utf8(ldif).unwrap());

    let node = Node::new(&[("ldap.size_limit", "100000")]);
    node.start();
    let mut csv = Vec::new();
    sop::sources::csv::export_csv(&book, &mut csv).unwrap();
    node.publish_csv(&String::from_utf8(csv).unwrap());

    let mut mismatches = Vec::new();
    let mut nonempty = 0;
    for filter in FILTERS {
        let reference = found(slapd.port, filter);
        let ours = found(node.port, filter);
        if reference.as_ref().is_ok_and(|r| !r.is_empty()) {
            nonempty += 1;
        }
        if reference != ours {
            mismatches.push(format!(
                "{filter}\n  slapd: {reference:?}\n  sop:   {ours:?}"
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} filters disagree:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    assert!(
        nonempty > FILTERS.len() / 2,
        "most filters find something ({nonempty})"
    );
}
