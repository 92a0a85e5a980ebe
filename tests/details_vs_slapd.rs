//! The details and photos agree with OpenLDAP: a list whose entries have common
//! names apart from their display names (two of them for some), addresses,
//! descriptions, countries as codes and as names, and JPEG photos is loaded into a
//! real `slapd` (core, cosine and inetorgperson schemas) and into `sop`, and
//! filters on the new attributes, sent by `ldapsearch`, return the same entries
//! from both; the photos come back byte for byte.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::slapd::{self, Servers, Slapd};
use common::{BASE, Node, search_one as ldapsearch, values};
use sop::contacts::{Contact, Phone, PhoneKind};

/// Bytes that start and end as a JPEG image does, with every byte value between.
fn photo(seed: u8, len: usize) -> Vec<u8> {
    let mut bytes = vec![0xff, 0xd8, 0xff, 0xe0];
    bytes.extend((0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)));
    bytes.extend([0xff, 0xd9]);
    bytes
}

#[allow(clippy::too_many_arguments)]
fn person(
    id: &str,
    cn: &[&str],
    display: &str,
    (street, l, postal_code, st, country): (&str, &str, &str, &str, &str),
    description: &str,
    photo: Vec<u8>,
) -> Contact {
    let mut words = display.split_whitespace();
    Contact {
        id: id.to_string(),
        cn: cn.iter().map(|s| s.to_string()).collect(),
        given_name: words.next().unwrap_or_default().to_string(),
        surname: words.last().unwrap_or("X").to_string(),
        display_name: display.to_string(),
        email: format!("{id}@example.org"),
        street: street.to_string(),
        locality: l.to_string(),
        postal_code: postal_code.to_string(),
        state: st.to_string(),
        country: country.to_string(),
        description: description.to_string(),
        photo,
        phones: vec![Phone {
            kind: PhoneKind::Work,
            number: format!("+49 30 555 {:04}", id.len() * 7),
        }],
        ..Contact::default()
    }
}

fn book() -> Vec<Contact> {
    vec![
        person(
            "d1",
            &["Jean-Luc Haddad", "JL Haddad"],
            "Haddad, Jean-Luc",
            ("12 Rue de la Paix", "Paris", "75002", "Île-de-France", "FR"),
            "Front desk",
            photo(1, 3000),
        ),
        person(
            "d2",
            &["Jürgen Müller"],
            "Müller, Jürgen",
            ("Schloßallee 3", "München", "80331", "Bayern", "Deutschland"),
            "Ansprechpartner für Rechnungen",
            Vec::new(),
        ),
        person(
            "d3",
            &[],
            "Ana Ruiz",
            ("Calle Mayor 1", "Sevilla", "41001", "Andalucía", "ES"),
            "",
            photo(7, 40),
        ),
        person(
            "d4",
            &["Ken Sato", "佐藤 健"],
            "佐藤 健",
            ("銀座 1-2-3", "東京", "100-0001", "東京都", "日本"),
            "Night shift",
            Vec::new(),
        ),
        person(
            "d5",
            &["Mary O'Brien"],
            "Mary O'Brien",
            ("1 High Street", "London", "EC1A 1BB", "", "gb"),
            "On call at weekends",
            Vec::new(),
        ),
        person(
            "d6",
            &["Paris Hilton"],
            "Paris Hilton",
            ("", "Lyon", "", "", ""),
            "Not in Paris",
            Vec::new(),
        ),
        person(
            "d7",
            &["No Address"],
            "Nobody Anywhere",
            ("", "", "", "", ""),
            "",
            Vec::new(),
        ),
    ]
}

const FILTERS: &[&str] = &[
    // Equality, prefix, contains, suffix and presence on each new attribute.
    "(street=12 rue de la paix)",
    "(street=12 RUE*)",
    "(street=*allee*)",
    "(street=*allée*)",
    "(street=*straße*)",
    "(street=*strasse*)",
    "(street=*1-2-3)",
    "(street=*)",
    "(streetAddress=calle mayor 1)",
    "(l=paris)",
    "(l=PAR*)",
    "(l=*ünch*)",
    "(l=*don)",
    "(l=東京)",
    "(l=*)",
    "(localityName=lyon)",
    "(postalCode=75002)",
    "(postalCode=ec1a 1bb)",
    "(postalCode=EC1A1BB)",
    "(postalCode=*1bb)",
    "(postalCode=80*)",
    "(postalCode=*00*)",
    "(postalCode=*)",
    "(st=bayern)",
    "(st=île*)",
    "(st=*anda*)",
    "(st=*都)",
    "(st=*)",
    "(c=fr)",
    "(c=FR)",
    "(c=gb)",
    "(c=G*)",
    "(c=*s)",
    "(c=*)",
    "(c=Deutschland)",
    "(c=deutsch*)",
    "(countryName=es)",
    "(co=deutschland)",
    "(co=*land)",
    "(co=日*)",
    "(co=*)",
    "(friendlyCountryName=deutschland)",
    "(description=front desk)",
    "(description=*shift)",
    "(description=*für*)",
    "(description=on call*)",
    "(description=*)",
    "(description=*paris*)",
    // NOT, inside OR and AND, with names
    "(!(street=*))",
    "(!(l=paris))",
    "(!(c=*))",
    "(!(co=*))",
    "(!(description=*desk*))",
    "(|(l=paris)(cn=paris*))",
    "(|(cn=*paris*)(l=*paris*)(description=*paris*))",
    "(&(l=*)(|(c=fr)(co=*)))",
    "(&(postalCode=*)(!(st=*)))",
    "(&(objectClass=inetOrgPerson)(|(l=m*)(l=s*)))",
    "(|(street=*1*)(postalCode=*1*))",
    "(!(|(l=paris)(l=lyon)))",
    // The name supertype reaches l, st and c
    "(name=paris)",
    "(name=bayern)",
    "(name=fr)",
    "(name=lon*)",
    // Common names apart from the display name, two of them
    "(cn=jean*)",
    "(cn=jl haddad)",
    "(cn=haddad, jean-luc)",
    "(displayName=haddad*)",
    "(cn=佐藤*)",
    "(cn=ken*)",
    "(cn=ana ruiz)",
    // Approximate matches on the new attributes
    "(l~=munchen)",
    "(street~=high street)",
    // The photo: present, absent, never matched by value
    "(jpegPhoto=*)",
    "(!(jpegPhoto=*))",
    "(jpegPhoto=abc)",
    "(!(jpegPhoto=abc))",
    "(jpegPhoto=*ab*)",
    "(&(jpegPhoto=*)(l=paris))",
    // Ordering rules there are none of
    "(postalCode>=5)",
    "(l<=m)",
];

/// The same list in `slapd` (as the LDIF `sop` serves it) and in `sop` (imported
/// as that LDIF).
fn serve(book: &[Contact]) -> Servers {
    let ldif = slapd::served_ldif(book);
    let slapd = Slapd::start(slapd::Options {
        ldif: ldif.clone(),
        suffix: BASE,
        global: "sizelimit unlimited",
        database: "index cn,l,street,postalCode,st,c,co,description eq,sub",
        schema: sop::bench::ldif::SCHEMA,
        ..Default::default()
    });
    let node = Node::new(&[("ldap.size_limit", "100000")]);
    node.start();
    node.publish_file("import.ldif", &ldif);
    Servers { slapd, node }
}

fn entries(port: u16, filter: &str, attrs: &[&str]) -> Vec<String> {
    ldapsearch(port, filter, attrs)
        .unwrap()
        .split("\n\n")
        .filter(|e| !e.trim().is_empty())
        .map(str::to_string)
        .collect()
}

/// The mails (one per contact) a filter returns, sorted.
fn found(port: u16, filter: &str) -> Result<Vec<String>, String> {
    let mut mails = values(&ldapsearch(port, filter, &["mail"])?, "mail");
    mails.sort();
    Ok(mails)
}

/// An entry's `attr` values as the base64 text `ldapsearch` prints them.
fn coded(entry: &str, attr: &str) -> Vec<String> {
    let prefix = format!("{attr}:: ");
    entry
        .lines()
        .filter_map(|l| l.strip_prefix(&prefix).map(str::to_string))
        .collect()
}

fn mail_of(entry: &str) -> String {
    values(entry, "mail").into_iter().next().unwrap_or_default()
}

#[test]
fn filters_on_details_and_photos_return_what_openldap_returns() {
    let book = book();
    let s = serve(&book);
    let mut mismatches = Vec::new();
    let mut nonempty = 0;
    for filter in FILTERS {
        let reference = found(s.slapd.port, filter);
        let ours = found(s.node.port, filter);
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
        "{} of {} filters disagree:\n{}",
        mismatches.len(),
        FILTERS.len(),
        mismatches.join("\n")
    );
    assert_eq!(
        found(s.node.port, "(objectClass=*)").unwrap().len(),
        book.len()
    );
    assert!(
        nonempty * 3 > FILTERS.len() * 2,
        "{nonempty} of {} find something",
        FILTERS.len()
    );

    // Photos come back byte for byte, asked for by name, with `*`, and when no
    // attribute is named (all user attributes, as slapd sends them).
    let want: Vec<(String, Vec<u8>)> = book
        .iter()
        .filter(|c| !c.photo.is_empty())
        .map(|c| (c.email.clone(), c.photo.clone()))
        .collect();
    for attrs in [&["jpegPhoto", "mail"][..], &["*"][..], &[][..]] {
        for port in [s.slapd.port, s.node.port] {
            let got: Vec<(String, Vec<u8>)> = entries(port, "(jpegPhoto=*)", attrs)
                .iter()
                .map(|e| {
                    let photos = coded(e, "jpegPhoto");
                    assert_eq!(photos.len(), 1, "{attrs:?} port {port}: {e}");
                    (mail_of(e), decode(&photos[0]))
                })
                .collect();
            let mut got = got;
            got.sort();
            let mut want = want.clone();
            want.sort();
            assert_eq!(got, want, "{attrs:?} from port {port}");
        }
    }
    // Asked for other attributes only, no photo is sent; the attribute types sent
    // for `*` are slapd's (objectClass, the names, the details, the photo).
    let named = entries(s.node.port, "(jpegPhoto=*)", &["cn", "l"]);
    assert!(
        named.iter().all(|e| coded(e, "jpegPhoto").is_empty()),
        "{named:?}"
    );
    let types = |port: u16| {
        let mut all: Vec<(String, Vec<String>)> = entries(port, "(objectClass=*)", &["*"])
            .iter()
            .map(|e| {
                let mut t: Vec<String> = e
                    .lines()
                    .skip(1)
                    .filter_map(|l| l.split(':').next())
                    .map(str::to_string)
                    .collect();
                t.dedup();
                t.sort();
                t.dedup();
                (mail_of(e), t)
            })
            .collect();
        all.sort();
        all
    };
    assert_eq!(types(s.node.port), types(s.slapd.port));
}

fn decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}
