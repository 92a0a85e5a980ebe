//! A full disk: an import or a merge that cannot be written fails with the reason,
//! nothing half-written is left, and the phone book served stays as it was. The
//! node's home is on a small tmpfs that the test fills; where none can be mounted
//! the test fails, or is skipped with `SOP_TEST_SKIP_MOUNT=1`.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::Node;
use common::tmpfs::{Tmpfs, leftovers};

fn served(node: &Node, filter: &str) -> usize {
    let (out, code) = node.ldapsearch(&["-b", common::BASE, filter, "cn"]);
    assert!(code == 0 || code == 4, "ldapsearch {filter}: {code} {out}");
    out.lines().filter(|l| l.starts_with("dn: ")).count()
}

fn generation(node: &Node) -> u64 {
    let run = node.sop(&["server", "status", "--json"]).success();
    let status: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    status["status"]["generation"].as_u64().unwrap()
}

/// A list of `n` contacts named `<tag> Person<i>`.
fn list(tag: &str, n: usize) -> String {
    let mut csv = String::from("givenName,sn,telephoneNumber\n");
    for i in 0..n {
        csv.push_str(&format!("{tag},Person{i},+49 30 {:07}\n", i + 1));
    }
    csv
}

#[test]
fn a_full_disk_fails_the_import_and_the_merge_and_the_phone_book_stays() {
    let Some((disk, dir)) = Tmpfs::mount("16m") else {
        // SOP_TEST_SKIP_MOUNT=1 and no tmpfs: skipped, as printed.
        return;
    };
    let node = Node::new_in(dir, &[]);
    // The list is fetched from elsewhere: only the home is on the small disk.
    let source = tempfile::tempdir().unwrap();
    let url = source.path().join("list.csv");
    std::fs::write(&url, list("Anna", 20_000)).unwrap();
    node.sop(&["ucm", "set", "--url", url.to_str().unwrap()])
        .success();
    node.start();
    node.sop(&["ucm", "import"]).success();
    node.sop(&["ucm", "merge"]).success();
    assert_eq!(served(&node, "(givenName=Anna)"), 500, "the size limit");
    let before = generation(&node);

    // A changed list arrives when the disk is full: not even the store opens.
    std::fs::write(&url, list("Boris", 20_000)).unwrap();
    let filler = disk.fill(0);
    let import = node.sop(&["ucm", "import"]).failure();
    assert!(import.stderr().contains("is full"), "{}", import.stderr());
    let merge = node.sop(&["ucm", "merge"]).failure();
    assert!(
        merge.stderr().contains("is full") && merge.stderr().contains("keeps serving"),
        "{}",
        merge.stderr()
    );
    assert_eq!(generation(&node), before);
    assert_eq!(served(&node, "(givenName=Anna)"), 500);
    assert_eq!(served(&node, "(givenName=Boris)"), 0);
    assert_eq!(leftovers(node.home()), Vec::<String>::new());

    // Room for the list, then too little for the new generation: the merge fails
    // while writing it, and what it had written is removed.
    std::fs::remove_file(filler).unwrap();
    // Every contact changes: the removal guard holds it without --force.
    node.sop(&["ucm", "import", "--force"]).success();
    let filler = disk.fill(256 * 1024);
    let merge = node.sop(&["ucm", "merge"]).failure();
    assert!(
        merge.stderr().contains("No space left on device") && merge.stderr().contains("is full"),
        "{}",
        merge.stderr()
    );
    assert_eq!(generation(&node), before);
    assert_eq!(served(&node, "(givenName=Anna)"), 500);
    assert_eq!(leftovers(node.home()), Vec::<String>::new());

    // Room again: the same command works, and the new list is served.
    std::fs::remove_file(filler).unwrap();
    node.sop(&["ucm", "merge"]).success();
    assert!(generation(&node) > before);
    assert_eq!(served(&node, "(givenName=Boris)"), 500);
    assert_eq!(served(&node, "(givenName=Anna)"), 0);
    drop(node);
}
