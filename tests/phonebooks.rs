//! Several phone books (`[[phonebooks]]`): each serves its sources under its own
//! base DN, and a phone book with a bind DN is seen by the phones that bind with it
//! and by no other; checked with `ldapsearch` under each bind DN.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::{BASE, Node, values};

const LOBBY: &str = "dc=lobby,dc=local";
const SALES: &str = "dc=sales,dc=local";
const SALES_DN: &str = "cn=phones,dc=sales,dc=local";

/// The surnames a search finds, sorted, and ldapsearch's exit code.
fn surnames(node: &Node, bind: &[&str], base: &str, filter: &str) -> (Vec<String>, i32) {
    let mut args = bind.to_vec();
    args.extend(["-b", base, filter, "sn"]);
    let (out, code) = node.ldapsearch(&args);
    let mut names = values(&out, "sn");
    names.sort();
    (names, code)
}

#[test]
fn each_phone_book_shows_its_sources_to_the_phones_it_is_for() {
    let node = Node::new(&[]);
    node.replace_contacts(
        "internal.csv",
        "givenName,sn,telephoneNumber\nAnna,Ahlberg,100\nBert,Brandt,101\n",
    );
    let external = node.home().join("external.csv");
    std::fs::write(
        &external,
        "First Name,Last Name,Company,Business Phone\nCarla,Cruz,Acme,+49 30 1\n\
         Dan,Dorn,Acme,+49 30 2\nEve,Ernst,Acme,+49 30 3\n",
    )
    .unwrap();
    let url = format!("file://{}", external.display());
    node.sop(&["ucm", "set", "--url", &url]).success();
    node.sop(&["ucm", "import"]).success();
    let mut config = std::fs::read_to_string(node.config()).unwrap();
    config.push_str(&format!(
        "\n[[phonebooks]]\nname = \"lobby\"\nbase_dn = \"{LOBBY}\"\nsources = [\"int\"]\n\
         \n[[phonebooks]]\nname = \"sales\"\nbase_dn = \"{SALES}\"\nsources = [\"int\", \"ext\"]\n\
         bind_dn = \"{SALES_DN}\"\nsize_limit = 4\n"
    ));
    std::fs::write(node.config(), config).unwrap();
    // A phone book with a bind DN and no password is refused at start, with the file to write.
    let refused = node.sop(&["server", "start"]).failure().stderr();
    assert!(
        refused.contains("secrets/phonebooks/sales.password"),
        "{refused}"
    );
    std::fs::create_dir_all(node.home().join("secrets/phonebooks")).unwrap();
    std::fs::write(
        node.home().join("secrets/phonebooks/sales.password"),
        "s4les\n",
    )
    .unwrap();
    node.start();
    node.sop(&["ucm", "merge"]).success();

    let all = ["Ahlberg", "Brandt", "Cruz", "Dorn", "Ernst"];
    let anyone: &[&str] = &[];
    let sales: &[&str] = &["-D", SALES_DN, "-w", "s4les"];
    // The main phone book: every source, to any phone.
    assert_eq!(
        surnames(&node, anyone, BASE, "(sn=*)"),
        (all.map(String::from).to_vec(), 0)
    );
    // The lobby: internal contacts only, to any phone; its entries are under its base.
    assert_eq!(
        surnames(&node, anyone, LOBBY, "(objectClass=person)"),
        (vec!["Ahlberg".to_string(), "Brandt".to_string()], 0)
    );
    let (out, _) = node.ldapsearch(&["-b", LOBBY, "(telephoneNumber=101)", "1.1"]);
    let dns = values(&out, "dn");
    assert!(
        dns.len() == 1 && dns[0].starts_with("uid=int-") && dns[0].ends_with(",dc=lobby,dc=local"),
        "{dns:?}"
    );
    assert_eq!(surnames(&node, anyone, LOBBY, "(sn=cruz)"), (vec![], 0));
    // Sales: refused to anonymous phones (50) and to a wrong password (49).
    assert_eq!(surnames(&node, anyone, SALES, "(sn=*)").1, 50);
    assert_eq!(
        surnames(&node, &["-D", SALES_DN, "-w", "nope"], SALES, "(sn=*)").1,
        49
    );
    // Bound as sales: internal and external, at most its own size limit of 4.
    let (found, code) = surnames(&node, sales, SALES, "(sn=*)");
    assert_eq!((found.len(), code), (4, 4), "{found:?}");
    assert_eq!(
        surnames(&node, sales, SALES, "(sn=e*)"),
        (vec!["Ernst".to_string()], 0)
    );
    // ... and nothing else: neither the main phone book nor the lobby.
    assert_eq!(surnames(&node, sales, BASE, "(sn=*)").1, 50);
    assert_eq!(surnames(&node, sales, LOBBY, "(sn=*)").1, 50);

    // A phone browsing the lobby (a virtual list view) lists the lobby's entries.
    let out = common::ldapsearch_view(
        &node.url(),
        LOBBY,
        "sn",
        "0/9/1/0",
        &["(objectClass=person)", "sn"],
    );
    assert_eq!(values(&out, "sn"), ["Ahlberg", "Brandt"], "{out}");
    assert!(out.contains("vlvResult: pos=1 count=2"), "{out}");

    // The root DSE names every phone book.
    let (root, _) = node.ldapsearch(&["-b", "", "-s", "base", "namingContexts"]);
    for base in [BASE, LOBBY, SALES] {
        assert!(root.contains(base), "{root}");
    }
    // server status lists them with their contacts.
    let status = node.sop(&["server", "status"]).success().stdout();
    assert!(
        status.contains("lobby") && status.contains(LOBBY),
        "{status}"
    );
    assert!(
        status.contains(&format!("phones bound as {SALES_DN}")),
        "{status}"
    );
    // The phones' settings name the phone book's base and bind DN.
    let lines = node
        .sop(&["phones", "setup", "yealink", "--phonebook", "sales"])
        .success()
        .stdout();
    assert!(lines.contains(SALES) && lines.contains(SALES_DN), "{lines}");
    let unknown = node
        .sop(&["phones", "setup", "yealink", "--phonebook", "hall"])
        .failure()
        .stderr();
    assert!(unknown.contains("lobby, sales"), "{unknown}");
}
