//! `sop contacts import` as an admin runs it more than once: a list imported again
//! updates the contacts it already holds instead of adding copies, `--replace` has
//! the removal guard of imports, and the first import replaces the sample phone book.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::{BASE, Node, values};

fn import(node: &Node, name: &str, csv: &str, extra: &[&str]) -> common::Run {
    let path = node.home().join(name);
    std::fs::write(&path, csv).unwrap();
    let mut args = vec!["contacts", "import", path.to_str().unwrap()];
    args.extend_from_slice(extra);
    node.sop(&args)
}

fn count(node: &Node) -> usize {
    node.sop(&["contacts", "count"])
        .success()
        .stdout()
        .trim()
        .parse()
        .unwrap()
}

const LIST: &str = "givenName,sn,mail,telephoneNumber\n\
    Anna,Berg,anna@acme.example,+49 30 1000001\n\
    Boris,Berg,,+49 30 1000002\n\
    Carla,Diaz,carla@acme.example,+49 30 1000003\n";

#[test]
fn the_first_import_replaces_the_sample_and_says_so() {
    let node = Node::new(&[]);
    assert_eq!(count(&node), 25, "a new node holds the sample phone book");
    let out = import(&node, "list.csv", LIST, &[]).success().stdout();
    assert!(
        out.contains("the sample phone book (25 contacts) was removed"),
        "{out}"
    );
    assert_eq!(count(&node), 3);
    // A second list adds to the first: the sample is gone already.
    let more = "givenName,sn,telephoneNumber\nDora,Eck,+49 30 1000004\n";
    let out = import(&node, "more.csv", more, &[]).success().stdout();
    assert!(!out.contains("sample"), "{out}");
    assert_eq!(count(&node), 4);
}

#[test]
fn importing_a_list_again_updates_instead_of_adding_copies() {
    let node = Node::new(&[]);
    import(&node, "list.csv", LIST, &[]).success();
    let out = import(&node, "list.csv", LIST, &[]).success().stdout();
    assert!(
        out.contains("0 added, 0 updated, 3 unchanged, 0 removed"),
        "{out}"
    );
    assert_eq!(count(&node), 3);

    node.start();
    node.sop(&["ucm", "merge"]).success();
    let dn_of = |filter: &str| {
        let (ldif, code) = node.ldapsearch(&["-b", BASE, filter, "1.1"]);
        assert_eq!(code, 0, "{ldif}");
        values(&ldif, "dn")
    };
    let carla = dn_of("(sn=Diaz)");
    let boris = dn_of("(givenName=Boris)");
    // Carla's number changed (found by her e-mail); Boris's e-mail is new (found
    // by his name and number); the list is in another order.
    let edited = "givenName,sn,mail,telephoneNumber\n\
        Boris,Berg,boris@acme.example,+49 30 1000002\n\
        Carla,Diaz,carla@acme.example,+49 30 2000003\n\
        Anna,Berg,anna@acme.example,+49 30 1000001\n";
    let out = import(&node, "edited.csv", edited, &[]).success().stdout();
    assert!(
        out.contains("0 added, 2 updated, 1 unchanged, 0 removed"),
        "{out}"
    );
    node.sop(&["ucm", "merge"]).success();
    assert_eq!(dn_of("(telephoneNumber=+49 30 2000003)"), carla);
    assert_eq!(dn_of("(mail=boris@acme.example)"), boris);
    assert_eq!(dn_of("(sn=Berg)").len(), 2);
}

#[test]
fn a_replace_that_removes_too_many_is_held_until_forced() {
    let node = Node::new(&[]);
    let mut ten = String::from("givenName,sn,telephoneNumber\n");
    for i in 0..10 {
        ten.push_str(&format!("P{i},Ten,+49 30 300000{i}\n"));
    }
    import(&node, "ten.csv", &ten, &[]).success();
    let two = "givenName,sn,telephoneNumber\nP0,Ten,+49 30 3000000\nNew,One,+49 30 4000000\n";
    let held = import(&node, "two.csv", two, &["--replace"]);
    assert_eq!(held.code(), 2, "{}", held.stderr());
    assert!(
        held.stderr()
            .contains("would remove 9 of the 10 internal contacts"),
        "{}",
        held.stderr()
    );
    assert_eq!(count(&node), 10, "nothing was changed");
    let out = import(&node, "two.csv", two, &["--replace", "--force"])
        .success()
        .stdout();
    assert!(
        out.contains("1 added, 0 updated, 1 unchanged, 9 removed"),
        "{out}"
    );
    assert_eq!(count(&node), 2);
}

/// The smallest JPEG header phones accept as a photo: SOI, APP0 "JFIF".
const JPEG: &[u8] = &[
    0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01,
    0x00, 0x01, 0x00, 0x00, 0xFF, 0xD9,
];

#[test]
fn a_contact_added_by_hand_is_served_with_its_names_address_and_photo() {
    let node = Node::new(&[]);
    node.start();
    let photo = node.home().join("jean-luc.jpg");
    std::fs::write(&photo, JPEG).unwrap();
    let not_a_photo = node.home().join("notes.txt");
    std::fs::write(&not_a_photo, "not a picture").unwrap();
    let mut args = vec![
        "contacts",
        "add",
        "--cn",
        "Jean-Luc Haddad",
        "--cn",
        "JL Haddad",
        "--display",
        "Haddad, Jean-Luc",
        "--work",
        "+33 1 4000 0001",
        "--street",
        "12 Rue de la Paix",
        "--city",
        "Paris",
        "--postal-code",
        "75002",
        "--state",
        "Île-de-France",
        "--country",
        "FR",
        "--description",
        "Front desk",
        "--photo",
    ];
    // A file that is not a JPEG image: refused by name, nothing added.
    let mut refused = args.clone();
    refused.push(not_a_photo.to_str().unwrap());
    let before = count(&node);
    let err = node.sop(&refused).failure().stderr();
    assert!(err.contains("not a JPEG image"), "{err}");
    assert_eq!(count(&node), before, "nothing was added");

    args.push(photo.to_str().unwrap());
    node.sop(&args).success();
    node.sop(&["ucm", "merge"]).success();
    let (ldif, code) = node.ldapsearch(&[
        "-b",
        BASE,
        "(cn=jean*)",
        "cn",
        "displayName",
        "street",
        "l",
        "postalCode",
        "st",
        "c",
        "description",
    ]);
    assert_eq!(code, 0, "{ldif}");
    assert_eq!(values(&ldif, "cn"), ["Jean-Luc Haddad", "JL Haddad"]);
    assert_eq!(values(&ldif, "displayName"), ["Haddad, Jean-Luc"]);
    assert_eq!(values(&ldif, "street"), ["12 Rue de la Paix"]);
    assert_eq!(values(&ldif, "l"), ["Paris"]);
    assert_eq!(values(&ldif, "postalCode"), ["75002"]);
    assert_eq!(values(&ldif, "c"), ["FR"]);
    assert_eq!(values(&ldif, "description"), ["Front desk"]);
    let (ldif, _) = node.ldapsearch(&["-b", BASE, "(&(l=paris)(jpegPhoto=*))", "cn"]);
    assert_eq!(values(&ldif, "cn"), ["Jean-Luc Haddad", "JL Haddad"]);
}

#[test]
fn a_contact_is_edited_from_the_command_line_field_by_field() {
    let node = Node::new(&[]);
    import(&node, "list.csv", LIST, &[]).success();
    let list = node.sop(&["contacts", "list", "--json"]).success().stdout();
    let contacts: serde_json::Value = serde_json::from_str(&list).unwrap();
    let boris = contacts
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["given_name"] == "Boris")
        .unwrap();
    let id = boris["id"].as_str().unwrap();
    let out = node
        .sop(&[
            "contacts",
            "edit",
            id,
            "--company",
            "ACME",
            "--work",
            "+49 30 2000002",
            "--city",
            "Berlin",
        ])
        .success()
        .stdout();
    assert!(
        out.contains(&format!("saved contact {id}: Boris Berg")),
        "{out}"
    );
    // A name removed and nothing left to show: refused, nothing changed.
    let err = node
        .sop(&[
            "contacts",
            "edit",
            id,
            "--given",
            "",
            "--surname",
            "",
            "--company",
            "",
            "--work",
            "",
        ])
        .failure()
        .stderr();
    assert!(err.contains("nothing was changed"), "{err}");
    let err = node
        .sop(&["contacts", "edit", "999999", "--company", "X"])
        .failure()
        .stderr();
    assert!(err.contains("no internal contact with id 999999"), "{err}");
    node.start();
    node.sop(&["ucm", "merge"]).success();
    let (ldif, _) =
        node.ldapsearch(&["-b", BASE, "(givenName=Boris)", "o", "telephoneNumber", "l"]);
    assert_eq!(values(&ldif, "o"), ["ACME"]);
    assert_eq!(values(&ldif, "telephoneNumber"), ["+49 30 2000002"]);
    assert_eq!(values(&ldif, "l"), ["Berlin"]);
}
