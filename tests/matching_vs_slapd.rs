//! Matching agrees with OpenLDAP: the same phone book is loaded into a real `slapd`
//! (back-mdb, inetOrgPerson, eq and sub indexes) and into `sop`, and the same
//! phone-style filters, sent by OpenLDAP's own `ldapsearch`, must return the same
//! entries from both.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::slapd::{self, Servers, Slapd};
use common::{BASE, Node, values};
use sop::contacts::{Contact, Phone, PhoneKind};

/// `slapd` serving `ldif` under `BASE`, indexed as a phone book would be.
fn start_slapd(ldif: &str) -> Slapd {
    Slapd::start(slapd::Options {
        ldif: ldif.to_string(),
        suffix: BASE,
        global: "sizelimit unlimited",
        database: "index cn,sn,givenName,telephoneNumber,mobile,homePhone eq,sub",
        schema: sop::bench::ldif::SCHEMA,
        ..Default::default()
    })
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

fn serve(book: &[Contact]) -> Servers {
    let slapd = start_slapd(&slapd::served_ldif(book));
    let node = Node::new(&[("ldap.size_limit", "100000")]);
    node.start();
    let mut csv = Vec::new();
    sop::formats::csv::export_csv(book, &mut csv).unwrap();
    node.publish_csv(&String::from_utf8(csv).unwrap());
    Servers { slapd, node }
}

/// The LDIF `ldapsearch` prints for a one-level search, or its error.
fn ldapsearch(port: u16, filter: &str, attrs: &[&str]) -> Result<String, String> {
    common::search_one(port, filter, attrs)
}

/// The filters whose results differ between the two servers, described, and how
/// many found something on slapd. `found` names the entries a search returned.
fn disagreements(
    servers: &Servers,
    filters: &[&str],
    found: fn(u16, &str) -> Result<Vec<String>, String>,
) -> (Vec<String>, usize) {
    let mut mismatches = Vec::new();
    let mut nonempty = 0;
    for filter in filters {
        let reference = found(servers.slapd.port, filter);
        let ours = found(servers.node.port, filter);
        if reference.as_ref().is_ok_and(|r| !r.is_empty()) {
            nonempty += 1;
        }
        if reference != ours {
            mismatches.push(format!(
                "{filter}\n  slapd: {reference:?}\n  sop:   {ours:?}"
            ));
        }
    }
    (mismatches, nonempty)
}

/// The `mail` values (unique per contact) a filter returns, sorted.
fn mails(port: u16, filter: &str) -> Result<Vec<String>, String> {
    let mut mails = values(&ldapsearch(port, filter, &["mail"])?, "mail");
    mails.sort();
    Ok(mails)
}

#[test]
fn phone_filters_return_what_openldap_returns() {
    let servers = serve(&book());
    let (mismatches, nonempty) = disagreements(&servers, FILTERS, mails);
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

type Row = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Vec<Phone>,
);

fn phone(kind: PhoneKind, number: &str) -> Phone {
    Phone {
        kind,
        number: number.to_string(),
    }
}

/// Contacts chosen for the corners of the matching rules: compatibility forms, combining
/// marks, Greek, Cyrillic, Chinese, spaces, hyphens, parentheses, several numbers.
fn edge_book() -> Vec<Contact> {
    use PhoneKind::*;
    let rows: Vec<Row> = vec![
        (
            "u01",
            "Anna",
            "Schmidt",
            "",
            "ACME GmbH",
            "Sales",
            "Manager",
            "anna.schmidt@acme.de",
            vec![
                phone(Work, "+49 30 1234567"),
                phone(Mobile, "+49 170 1111111"),
            ],
        ),
        (
            "u02",
            "Émile",
            "Zola",
            "",
            "Éditions Charpentier",
            "",
            "Écrivain",
            "emile@zola.fr",
            vec![phone(Work, "+33 1 23 45 67 89")],
        ),
        (
            "u03",
            "Jürgen",
            "Müller",
            "",
            "Müller & Söhne",
            "Einkauf",
            "",
            "j.mueller@example.de",
            vec![phone(Work, "030-9876543"), phone(Home, "030 555 12 34")],
        ),
        (
            "u04",
            "Hans",
            "Straße",
            "",
            "",
            "",
            "",
            "",
            vec![phone(Mobile, "0171 2222222")],
        ),
        (
            "u05",
            "Peter",
            "STRASSE",
            "",
            "",
            "",
            "",
            "",
            vec![phone(Work, "0049 89 7654321")],
        ),
        (
            "u06",
            "Anne-Marie",
            "Dupont-Durand",
            "",
            "La Poste",
            "",
            "",
            "am.dupont@laposte.fr",
            vec![
                phone(Work, "+33 (0)1 44 55 66 77"),
                phone(Fax, "+33 1 44 55 66 78"),
            ],
        ),
        (
            "u07",
            "John",
            "Smith",
            "",
            "Smith & Co",
            "",
            "CEO",
            "john@smith.example",
            vec![phone(Work, "+1 212 555 0100"), phone(Pager, "555-0199")],
        ),
        (
            "u08",
            "Jon",
            "Smyth",
            "",
            "",
            "",
            "",
            "JON@SMYTH.EXAMPLE",
            vec![phone(Mobile, "+44 7700 900123")],
        ),
        (
            "u09",
            "",
            "",
            "Reception",
            "ACME GmbH",
            "",
            "",
            "",
            vec![phone(Work, "4711")],
        ),
        (
            "u10",
            "",
            "",
            "",
            "Pizza Roma",
            "",
            "",
            "",
            vec![phone(Work, "(030) 44 33 22")],
        ),
        (
            "u11",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            vec![phone(Mobile, "+49 171 3333333")],
        ),
        (
            "u12",
            "Anna  Maria",
            "von  Berg",
            "",
            "",
            "",
            "",
            "",
            vec![phone(Work, "+49 40 123-456-0")],
        ),
        (
            "u13",
            "Çağla",
            "Yılmaz",
            "",
            "",
            "",
            "",
            "",
            vec![phone(Mobile, "+90 532 123 45 67")],
        ),
        (
            "u14",
            "Δημήτρης",
            "Παπαδόπουλος",
            "",
            "",
            "",
            "",
            "",
            vec![phone(Work, "+30 21 0123 4567")],
        ),
        (
            "u15",
            "Дмитрий",
            "Иванов",
            "",
            "",
            "",
            "",
            "",
            vec![phone(Work, "+7 495 123-45-67")],
        ),
        (
            "u16",
            "Zoë",
            "Ångström",
            "",
            "Nordic AB",
            "",
            "",
            "",
            vec![
                phone(Work, "+46 8 123 456 78"),
                phone(Mobile, "+46 70 123 45 67"),
                phone(Mobile, "+46 70 765 43 21"),
            ],
        ),
        (
            "u17",
            "Marc",
            "O'Brien",
            "",
            "",
            "",
            "",
            "marc.obrien@example.ie",
            vec![phone(Work, "+353 1 234 5678")],
        ),
        (
            "u18",
            "Li",
            "Wang",
            "王力",
            "",
            "",
            "",
            "",
            vec![phone(Work, "+86 10 1234 5678")],
        ),
        (
            "u19",
            "Sophie",
            "Meyer",
            "",
            "Meyer AG",
            "IT",
            "Admin",
            "",
            vec![phone(Work, "+49 30 1234568"), phone(Home, "+49 30 9999999")],
        ),
        (
            "u20",
            "Sofie",
            "Maier",
            "",
            "",
            "",
            "",
            "",
            vec![phone(Work, "+49 89 1112223")],
        ),
        (
            "u21",
            "Ｆｕｌｌ",
            "Ｗｉｄｔｈ",
            "",
            "",
            "",
            "",
            "",
            vec![phone(Work, "0221 123456")],
        ),
        (
            "u22",
            "Ella",
            "ﬁscher",
            "",
            "",
            "",
            "",
            "",
            vec![phone(Work, "+49 221 654321")],
        ),
        (
            "u23",
            "André",
            "Andre\u{301}as",
            "",
            "",
            "",
            "",
            "",
            vec![phone(Work, "+49 69 1234567")],
        ),
        (
            "u24",
            "Tom",
            "Smith",
            "Tom Smith (Support)",
            "Smith & Co",
            "",
            "",
            "support@smith.example",
            vec![phone(Work, "+1 212 555 0101")],
        ),
        (
            "u25",
            "Ivan",
            "Petrov",
            "",
            "",
            "",
            "",
            "",
            vec![
                phone(Other, "+7 812 000 00 00"),
                phone(Work, "+7 812 000 00 01"),
            ],
        ),
    ];
    let mut book: Vec<Contact> = rows
        .into_iter()
        .map(
            |(id, given, surname, display, company, department, title, email, phones)| Contact {
                id: id.to_string(),
                given_name: given.to_string(),
                surname: surname.to_string(),
                display_name: display.to_string(),
                company: company.to_string(),
                department: department.to_string(),
                title: title.to_string(),
                email: email.to_string(),
                phones,
                ..Contact::default()
            },
        )
        .collect();
    // Common names as the list gives them: not the display name, and two of them.
    book.push(Contact {
        id: "u26".into(),
        cn: vec!["Jean-Luc Haddad".into(), "JL Haddad".into()],
        given_name: "Jean-Luc".into(),
        surname: "Haddad".into(),
        display_name: "Haddad, Jean-Luc".into(),
        phones: vec![phone(Work, "+33 1 40 00 00 26")],
        ..Contact::default()
    });
    book.push(Contact {
        id: "u27".into(),
        cn: vec!["Dr. Maria Keller".into()],
        given_name: "Maria".into(),
        surname: "Keller".into(),
        phones: vec![phone(Work, "+41 44 000 00 27")],
        ..Contact::default()
    });
    book
}

const EDGE_FILTERS: &[&str] = &[
    // Common names as given, apart from the display name
    "(cn=jean*)",
    "(cn=jl*)",
    "(cn=JL Haddad)",
    "(cn=Haddad, Jean-Luc)",
    "(displayName=haddad*)",
    "(displayName=jean*)",
    "(|(cn=jean*)(displayName=jean*))",
    "(cn=dr. maria*)",
    "(cn=maria*)",
    "(cn=*keller)",
    "(displayName=*)",
    "(!(displayName=*))",
    // Yealink
    "(|(cn=*an*)(telephoneNumber=*an*)(mobile=*an*))",
    "(|(cn=*30*)(telephoneNumber=*30*)(mobile=*30*))",
    "(|(cn=an*)(sn=an*)(telephoneNumber=03*))",
    "(|(cn=sm*)(sn=sm*)(telephoneNumber=+1*))",
    // Snom
    "(|(cn=*mü*)(sn=*mü*)(givenName=*mü*))",
    "(|(cn=*MÜ*)(sn=*MÜ*)(givenName=*MÜ*))",
    "(telephoneNumber=*123*)",
    "(telephoneNumber=*12 34*)",
    "(telephoneNumber=*12-34*)",
    // Gigaset
    "(&(objectClass=person)(|(cn=an*)(sn=an*)))",
    "(&(objectClass=inetOrgPerson)(|(cn=z*)(sn=z*)))",
    // Reverse lookup
    "(|(telephoneNumber=+49301234567)(mobile=+49301234567)(homePhone=+49301234567))",
    "(|(telephoneNumber=+49 30 123 4567)(mobile=+49 30 123 4567))",
    "(telephoneNumber=+49-30-1234567)",
    "(telephoneNumber=0301234567)",
    "(telephoneNumber=004989 7654321)",
    "(homePhone=030-555-1234)",
    "(mobile=+46707654321)",
    "(telephoneNumber=4711)",
    "(telephoneNumber=\\28030\\29 443322)",
    "(telephoneNumber=\\28030\\29*)",
    "(pager=5550199)",
    // Case, accents, compatibility forms, spaces
    "(cn=émile zola)",
    "(cn=ÉMILE ZOLA)",
    "(cn=Emile Zola)",
    "(sn=STRASSE)",
    "(sn=straße)",
    "(sn=STRAẞE)",
    "(sn=strasse)",
    "(givenName=full)",
    "(sn=fischer)",
    "(sn=andréas)",
    "(sn=andre\\cc\\81as)",
    "(givenName=çağla)",
    "(sn=yilmaz)",
    "(sn=παπαδόπουλος)",
    "(sn=ΠΑΠΑΔΌΠΟΥΛΟΣ)",
    "(cn=дмитрий*)",
    "(sn=ångström)",
    "(cn=anna maria von berg)",
    "(cn=  Anna   Maria  von Berg )",
    "(cn=anna maria *)",
    "(cn=anna *)",
    "(cn=* berg)",
    "(cn=*a m*)",
    "(cn=* maria*)",
    "(cn=*maria *)",
    "(cn=anna*berg)",
    "(cn=a*a*a*)",
    "(cn=*n*n*n*)",
    "(sn=dupont-durand)",
    "(sn=dupont*)",
    "(sn=*-*)",
    "(cn=*\\28support\\29*)",
    "(cn=tom smith \\28support\\29)",
    "(displayName=*)",
    "(displayName=王*)",
    "(cn=王力)",
    "(o=acme gmbh)",
    "(o=*&*)",
    "(ou=sales)",
    "(title=écrivain)",
    "(mail=JON@smyth.example)",
    "(mail=*@smith.example)",
    "(mail=*SMITH*)",
    // Presence, NOT, absent attributes, unknown attributes
    "(givenName=*)",
    "(!(givenName=*))",
    "(!(mobile=*))",
    "(!(mail=*smith*))",
    "(!(title=ceo))",
    "(facsimileTelephoneNumber=*)",
    "(nickname=x)",
    "(!(nickname=x))",
    "(|(nickname=x)(sn=zola))",
    "(&(nickname=x)(sn=zola))",
    "(!(&(nickname=x)(sn=zola)))",
    "(!(|(nickname=x)(sn=hugo)))",
    "(nickname=*)",
    "(&)",
    "(|)",
    "(!(&))",
    // objectClass
    "(objectClass=*)",
    "(objectClass=PERSON)",
    "(objectClass=organizationalPerson)",
    "(objectClass=2.5.6.6)",
    "(objectClass=groupOfNames)",
    "(!(objectClass=groupOfNames))",
    "(objectClass=nonexistentclass)",
    "(!(objectClass=nonexistentclass))",
    "(objectClass=1.2.3.4)",
    "(!(objectClass=1.2.3.4))",
    "(!(objectClass=account))",
    "(!(objectClass=extensibleObject))",
    "(!(objectClass=2.5.6.9))",
    "(objectClass=*person*)",
    "(!(objectClass=*person*))",
    // Ordering: no ORDERING rule anywhere
    "(cn>=m)",
    "(cn<=m)",
    "(!(cn>=m))",
    "(sn>=a)",
    "(telephoneNumber>=+4)",
    "(!(telephoneNumber<=+4))",
    "(mail>=a)",
    // Approx
    "(cn~=jon smyth)",
    "(sn~=smith)",
    "(sn~=smyth)",
    "(sn~=mayer)",
    "(sn~=meyer)",
    "(sn~=muller)",
    "(sn~=mueller)",
    "(givenName~=sofie)",
    "(cn~=zola)",
    "(cn~=anna berg)",
    "(cn~=berg anna)",
    "(sn~=Иванов)",
    "(mail~=john@smith.example)",
    "(telephoneNumber~=+49 30 1234567)",
    "(objectClass~=person)",
    // Invalid assertions, no matching rule
    "(telephoneNumber=#4711)",
    "(!(telephoneNumber=#4711))",
    "(telephoneNumber=*ä*)",
    "(mail=jürgen@example.de)",
    "(!(mail=jürgen@example.de))",
    "(facsimileTelephoneNumber=+33 1 44 55 66 78)",
    "(!(facsimileTelephoneNumber=+33 1 44 55 66 78))",
    "(facsimileTelephoneNumber=*44*)",
    // Supertype and aliases
    "(name=smith)",
    "(name=acme*)",
    "(surname=smith)",
    "(gn=john)",
    "(commonName=*smith*)",
    "(mobileTelephoneNumber=+44*)",
    "(2.5.4.4=zola)",
    "(organizationName=la poste)",
    // Extensible
    "(sn:=zola)",
    "(sn:caseIgnoreMatch:=ZOLA)",
    "(sn:2.5.13.2:=ZOLA)",
    "(sn:caseExactMatch:=Zola)",
    "(sn:caseExactMatch:=ZOLA)",
    "(sn:2.5.13.5:=Zola)",
    "(!(sn:caseExactMatch:=Zola))",
    "(cn:caseExactMatch:=Jürgen Müller)",
    "(cn:caseExactMatch:=jürgen müller)",
    "(mail:caseExactIA5Match:=emile@zola.fr)",
    "(mail:caseExactIA5Match:=Emile@zola.fr)",
    "(mail:caseExactMatch:=emile@zola.fr)",
    "(mail:caseIgnoreMatch:=EMILE@zola.fr)",
    "(telephoneNumber:caseIgnoreMatch:=+33 1 23 45 67 89)",
    "(telephoneNumber:caseExactMatch:=+33123456789)",
    "(o:caseExactMatch:=ACME GmbH)",
    "(o:caseExactMatch:=acme gmbh)",
    "(o:caseExactMatch:=  ACME   GmbH )",
    "(sn:caseIgnoreIA5Match:=zola)",
    "(sn:telephoneNumberMatch:=zola)",
    "(:caseExactMatch:=Zola)",
    "(:caseIgnoreIA5Match:=emile@zola.fr)",
    "(:caseIgnoreMatch:=+33 1 23 45 67 89)",
    "(:telephoneNumberMatch:=+33123456789)",
    "(:caseIgnoreMatch:=emile@zola.fr)",
    "(:dn:caseIgnoreIA5Match:=phonebook)",
    "(:dn:caseExactIA5Match:=phonebook)",
    "(dc:dn:caseExactIA5Match:=PHONEBOOK)",
    "(domainComponent:dn:=local)",
    "(cn:dn:=phonebook)",
    "(telephoneNumber:caseExactMatch:=+49 30 1234567)",
    "(sn:dn:=zola)",
    "(dc:dn:=phonebook)",
    "(dc:dn:=PhoneBook)",
    "(!(dc:dn:=phonebook))",
    "(dc:dn:=nowhere)",
    "(!(dc:dn:=nowhere))",
    "(!(sn:dn:=zola))",
    "(:dn:caseIgnoreMatch:=phonebook)",
    "(:caseIgnoreMatch:=zola)",
    "(sn:dn:caseExactMatch:=Zola)",
    // Substrings with empty parts
    "(sn=**)",
    "(sn=z**a)",
    "(sn=***)",
    "(!(sn=**))",
];

/// What identifies an entry on both servers: its cn, sn and numbers.
fn entries(port: u16, filter: &str) -> Result<Vec<String>, String> {
    const ATTRS: [&str; 6] = [
        "cn",
        "sn",
        "telephoneNumber",
        "mobile",
        "homePhone",
        "pager",
    ];
    let ldif = ldapsearch(port, filter, &ATTRS)?;
    let mut entries: Vec<String> = ldif
        .split("\n\n")
        .filter(|e| !e.trim().is_empty())
        .map(|e| {
            let mut v: Vec<String> = ATTRS.iter().flat_map(|a| values(e, a)).collect();
            v.sort();
            v.join("|")
        })
        .collect();
    entries.sort();
    Ok(entries)
}

#[test]
fn edge_cases_return_what_openldap_returns() {
    let servers = serve(&edge_book());
    let (mismatches, nonempty) = disagreements(&servers, EDGE_FILTERS, entries);
    assert!(
        mismatches.is_empty(),
        "{} of {} filters disagree:\n{}",
        mismatches.len(),
        EDGE_FILTERS.len(),
        mismatches.join("\n")
    );
    // Agreeing on nothing proves nothing: both serve the whole book, and most
    // edge cases find someone.
    let everyone = entries(servers.node.port, "(objectClass=*)").unwrap();
    assert_eq!(everyone.len(), edge_book().len());
    assert!(
        nonempty * 2 > EDGE_FILTERS.len(),
        "{nonempty} of {} filters find something",
        EDGE_FILTERS.len()
    );
}
