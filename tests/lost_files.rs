//! Lost files never make a silent empty phone book: a store, generation files or
//! imported contacts that are missing are errors that say what is missing and how
//! to restore it, and the phone book served stays as it was.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::{BASE, Node};

/// How many entries a search for `filter` returns.
fn served(node: &Node, filter: &str) -> usize {
    let (out, code) = node.ldapsearch(&["-z", "0", "-b", BASE, filter, "1.1"]);
    assert_eq!(code, 0, "ldapsearch {filter}: {out}");
    out.lines().filter(|l| l.starts_with("dn: ")).count()
}

/// `n` contacts of the family `family`, with numbers from `first`.
fn list(family: &str, n: usize, first: usize) -> String {
    let mut csv = String::from("givenName,sn,telephoneNumber\n");
    for i in first..first + n {
        csv.push_str(&format!("Person{i},{family},+49 30 {i:07}\n"));
    }
    csv
}

/// A node serving 30 internal contacts (family Inside) and 20 imported ones
/// (family Outside).
fn node() -> Node {
    let node = Node::new(&[("ldap.size_limit", "1000")]);
    let url = node.home().join("outside.csv");
    std::fs::write(&url, list("Outside", 20, 1000)).unwrap();
    node.sop(&["ucm", "set", "--url", url.to_str().unwrap()])
        .success();
    node.sop(&["ucm", "import"]).success();
    node.publish_csv(&list("Inside", 30, 1));
    node.start();
    assert_eq!(served(&node, "(sn=Inside)"), 30);
    assert_eq!(served(&node, "(sn=Outside)"), 20);
    node
}

#[test]
fn a_missing_store_is_an_error_at_merge_and_at_start() {
    let node = node();
    let store = node.home().join("data/sop.db");
    std::fs::remove_file(&store).unwrap();

    let merge = node.sop(&["ucm", "merge"]).failure();
    let said = merge.stderr();
    assert!(
        said.contains("sop.db is missing") && said.contains("Restore it from a backup"),
        "{said}"
    );
    assert_eq!(served(&node, "(sn=Inside)"), 30, "the phone book stays");
    assert!(!store.exists(), "no empty store was made in its place");

    node.sop(&["server", "stop"]).success();
    let start = node.sop(&["server", "start"]).failure();
    assert!(
        start.stderr().contains("sop.db is missing"),
        "{}",
        start.stderr()
    );

    // The admin chooses to go on without the internal contacts.
    node.sop(&["ucm", "merge", "--force"]).success();
    node.start();
    assert_eq!(served(&node, "(sn=Inside)"), 0);
    assert_eq!(served(&node, "(sn=Outside)"), 20);
}

#[test]
fn missing_generation_files_are_an_error_at_start() {
    let node = node();
    node.sop(&["server", "stop"]).success();
    let gens = node.home().join("data/generations");
    for entry in std::fs::read_dir(&gens).unwrap().flatten() {
        std::fs::remove_file(entry.path()).unwrap();
    }

    let start = node.sop(&["server", "start"]).failure();
    let said = start.stderr();
    assert!(
        said.contains("no generation to serve") && said.contains("sop ucm merge"),
        "{said}"
    );
    // As the message says: a merge publishes again from the store and the import.
    node.sop(&["ucm", "merge"]).success();
    node.start();
    assert_eq!(served(&node, "(sn=Inside)"), 30);
    assert_eq!(served(&node, "(sn=Outside)"), 20);
}

#[test]
fn a_merge_that_would_drop_a_source_whose_files_are_missing_is_held() {
    let node = node();
    std::fs::remove_file(node.home().join("data/sources/ext.snap")).unwrap();

    let merge = node.sop(&["ucm", "merge"]).failure();
    let said = merge.stderr();
    assert!(
        said.contains("held") && said.contains("ext (20 served now)"),
        "{said}"
    );
    assert_eq!(served(&node, "(sn=Outside)"), 20, "the phone book stays");
    let jobs = node.sop(&["jobs", "list"]).success().stdout();
    assert!(
        jobs.lines()
            .any(|l| l.contains("merge") && l.contains("held")),
        "{jobs}"
    );

    // Imported again, the contacts are back, and the merge goes through.
    node.sop(&["ucm", "import"]).success();
    node.sop(&["ucm", "merge"]).success();
    assert_eq!(served(&node, "(sn=Outside)"), 20);

    // Or the admin publishes without them.
    std::fs::remove_file(node.home().join("data/sources/ext.snap")).unwrap();
    node.sop(&["ucm", "merge", "--force"]).success();
    assert_eq!(served(&node, "(sn=Outside)"), 0);
    assert_eq!(served(&node, "(sn=Inside)"), 30);
}

#[test]
fn a_merge_that_would_remove_what_no_import_removed_is_held() {
    let node = node();
    // The store as it was before the 30 internal contacts: a backup restored over
    // it, with a history that knows nothing of them.
    let store = node.home().join("data/sop.db");
    let backup = node.home().join("backup.db");
    std::fs::copy(&store, &backup).unwrap();
    node.sop(&["server", "stop"]).success();
    let before = Node::new(&[]);
    std::fs::copy(before.home().join("data/sop.db"), &store).unwrap();
    node.start();

    let merge = node.sop(&["ucm", "merge"]).failure();
    let said = merge.stderr();
    assert!(
        said.contains("held") && said.contains("max_removal_percent") && said.contains("--force"),
        "{said}"
    );
    assert_eq!(served(&node, "(sn=Inside)"), 30, "the phone book stays");

    // Contacts removed on purpose (a forced --replace) are expected to go.
    node.sop(&["server", "stop"]).success();
    std::fs::copy(&backup, &store).unwrap();
    node.start();
    node.publish_csv(&list("Inside", 3, 1));
    assert_eq!(served(&node, "(sn=Inside)"), 3);
    // And so are contacts deleted one by one.
    let listed = node.sop(&["contacts", "list", "--json"]).success().stdout();
    let ids: Vec<String> = serde_json::from_str::<serde_json::Value>(&listed)
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["id"].as_str().map(str::to_string))
        .collect();
    assert_eq!(ids.len(), 3, "{listed}");
    node.sop(&["contacts", "remove", &ids[0], &ids[1]])
        .success();
    node.sop(&["ucm", "merge"]).success();
    assert_eq!(served(&node, "(sn=Inside)"), 1);
}
