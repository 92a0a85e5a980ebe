//! The phone presets against the real server: what `sop phones lookup` says a
//! phone shows is what `ldapsearch` gets for the same filter and size limit, and
//! the settings of `sop phones setup` reach the node.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::{BASE, Node, values};

const BOOK: &str = "\
givenName,sn,telephoneNumber,mobile,o
Anna,Andersson,+46 8 123 456,+46 70 111 22 33,Nordic AB
Andreas,Berg,+49 30 1234 567,,Berg GmbH
Annette,Müller,+49 30 7654 321,+49 170 999,Müller KG
Bernd,Anders,0301234999,,
Zoe,Zhang,+86 10 5555 0000,,
";

const PRESETS: [&str; 6] = [
    "yealink",
    "snom",
    "gigaset",
    "polycom",
    "grandstream",
    "cisco",
];

fn lookup(node: &Node, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["phones", "lookup"];
    all.extend_from_slice(args);
    all.push("--json");
    serde_json::from_str(&node.sop(&all).success().stdout()).unwrap()
}

/// The DNs ldapsearch gets for a filter with a size limit, sorted.
fn ldapsearch_dns(node: &Node, filter: &str, size_limit: u64) -> Vec<String> {
    let limit = size_limit.to_string();
    let (out, code) = node.ldapsearch(&["-b", BASE, "-z", &limit, filter, "1.1"]);
    // 4: sizeLimitExceeded, with the entries up to the limit.
    assert!(code == 0 || code == 4, "ldapsearch {filter}: {code}\n{out}");
    let mut dns = values(&out, "dn");
    dns.sort();
    dns
}

/// What the phone shows of each entry.
fn shows(answer: &serde_json::Value) -> Vec<String> {
    answer["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["shows"].as_str().unwrap().to_string())
        .collect()
}

fn dns(answer: &serde_json::Value) -> Vec<String> {
    let mut v: Vec<String> = answer["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["dn"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn what_a_phone_shows_is_what_the_server_answers_it() {
    let node = Node::new(&[]);
    node.publish_csv(BOOK);
    node.start();
    for preset in PRESETS {
        for typed in ["an", "AND", "Mü", "+49 30", "0301", "z"] {
            let answer = lookup(&node, &[preset, typed]);
            let filter = answer["filter"].as_str().unwrap();
            let limit = answer["size_limit"].as_u64().unwrap();
            assert_eq!(
                dns(&answer),
                ldapsearch_dns(&node, filter, limit),
                "{preset} typing {typed:?} sends {filter}"
            );
        }
    }
    // Letters find names by prefix on every model (Cisco's on cn only).
    for preset in PRESETS {
        let shown = shows(&lookup(&node, &[preset, "ann"]));
        assert!(
            shown.iter().any(|s| s.contains("Andersson")),
            "{preset}: {shown:?}"
        );
    }
}

#[test]
fn an_incoming_call_finds_its_caller_exactly() {
    let node = Node::new(&[]);
    node.publish_csv(BOOK);
    node.start();
    let answer = lookup(&node, &["yealink", "+49 30 1234 567", "--incoming"]);
    assert_eq!(answer["lookup"], "incoming-call");
    assert_eq!(shows(&answer), vec!["Andreas Berg"]);
    // A prefix of a number is not a caller.
    let none = lookup(&node, &["snom", "+49 30", "--incoming"]);
    assert_eq!(none["entries"].as_array().unwrap().len(), 0);
    // Phones without number lookups say so.
    let cisco = node
        .sop(&["phones", "lookup", "cisco", "+49 30 1234 567", "--incoming"])
        .failure();
    assert!(
        cisco.stderr().contains("do not look numbers up"),
        "{}",
        cisco.stderr()
    );
}

#[test]
fn a_phone_gets_at_most_its_size_limit() {
    let node = Node::new(&[("ldap.size_limit", "3")]);
    node.publish_csv(BOOK);
    node.start();
    // The server's cap of 3 is below every model's own.
    let answer = lookup(&node, &["grandstream", "a"]);
    assert_eq!(answer["size_limit"], 3);
    assert_eq!(answer["entries"].as_array().unwrap().len(), 3);
    assert_eq!(answer["size_limit_exceeded"], true);
}

#[test]
fn the_setup_lines_reach_this_node() {
    let node = Node::new(&[]);
    node.publish_csv(BOOK);
    node.start();
    let out = node.sop(&["phones", "setup", "yealink"]).success().stdout();
    let setting = |key: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(&format!("{key} = ")))
            .unwrap_or_else(|| panic!("no {key} in\n{out}"))
            .to_string()
    };
    assert_eq!(setting("ldap.host"), "127.0.0.1");
    assert_eq!(setting("ldap.port"), node.port.to_string());
    // The filter as the phone fills it in, sent to the host, port and base given.
    let filter = setting("ldap.name_filter").replace('%', "Ann*");
    let url = format!("ldap://{}:{}", setting("ldap.host"), setting("ldap.port"));
    let ldap = std::process::Command::new("ldapsearch")
        .args([
            "-x",
            "-LLL",
            "-H",
            &url,
            "-b",
            &setting("ldap.base"),
            &filter,
            "cn",
        ])
        .output()
        .unwrap();
    let found = values(&String::from_utf8_lossy(&ldap.stdout), "cn");
    assert!(found.contains(&"Anna Andersson".to_string()), "{found:?}");
    assert!(found.contains(&"Annette Müller".to_string()), "{found:?}");

    // Every vendor; only the lines on stdout, the notes on stderr.
    let all = node.sop(&["phones", "setup"]).success();
    for vendor in [
        "Yealink",
        "Snom",
        "Gigaset",
        "Polycom",
        "Grandstream",
        "Cisco",
    ] {
        assert!(all.stdout().contains(&format!("## {vendor}")), "{vendor}");
    }
    assert!(
        all.stderr()
            .contains("note: Polycom phones search names only")
    );
    let bad = node.sop(&["phones", "setup", "nokia"]).failure();
    assert!(
        bad.stderr().contains("accepted: yealink, snom"),
        "{}",
        bad.stderr()
    );
}

#[test]
fn a_stopped_server_is_said_to_answer_no_phone() {
    let node = Node::new(&[]);
    let run = node.sop(&["phones", "lookup", "yealink", "an"]).failure();
    assert!(
        run.stderr().contains("phones get no answer"),
        "{}",
        run.stderr()
    );
}

/// Names as their owners write them, and as a keypad without accents types them.
const ACCENTED: &str = "\
givenName,sn,telephoneNumber
Annette,Müller,+49 30 7654 321
Hans,Mueller,+49 30 7654 999
Søren,Kierkegaard,+45 33 12 34 56
José,García,+34 91 123 45 67
Johann,Strauß,+43 1 123 456
Åsa,Lindqvist,+46 8 765 432
Jürgen,Weiß,+49 89 555 0
";

/// The surnames a preset's search for `typed` finds, through the real server.
fn surnames_found(node: &Node, preset: &str, typed: &str) -> Vec<String> {
    let answer = lookup(node, &[preset, typed]);
    let filter = answer["filter"].as_str().unwrap();
    let (out, code) = node.ldapsearch(&["-b", BASE, filter, "sn"]);
    assert!(code == 0 || code == 4, "{preset} {filter}: {code}\n{out}");
    let mut found = values(&out, "sn");
    found.sort();
    found
}

#[test]
fn with_fold_accents_a_keypad_without_accents_finds_every_spelling() {
    let node = Node::new(&[("ldap.fold_accents", "true")]);
    node.publish_csv(ACCENTED);
    node.start();
    // First names, which every model finds (Cisco searches cn by its first
    // letters), then surnames, which the others find too.
    let first_names: [(&str, &[&str]); 5] = [
        ("soren", &["Kierkegaard"]),
        ("jose", &["García"]),
        ("asa", &["Lindqvist"]),
        ("juergen", &["Weiß"]),
        ("jurgen", &["Weiß"]),
    ];
    let surnames: [(&str, &[&str]); 5] = [
        ("muller", &["Mueller", "Müller"]),
        ("mueller", &["Mueller", "Müller"]),
        ("müll", &["Mueller", "Müller"]),
        ("strauss", &["Strauß"]),
        ("garcia", &["García"]),
    ];
    for preset in PRESETS {
        let cases = first_names
            .iter()
            .chain(surnames.iter().filter(|_| preset != "cisco"));
        for (typed, expected) in cases {
            assert_eq!(
                surnames_found(&node, preset, typed),
                expected.to_vec(),
                "{preset} typing {typed:?}"
            );
        }
    }
    // An equality on a name, as a caller-ID lookup by name would send it.
    let (out, _) = node.ldapsearch(&["-b", BASE, "(sn=weiss)", "sn"]);
    assert_eq!(values(&out, "sn"), ["Weiß"], "{out}");
}

#[test]
fn without_fold_accents_names_match_as_in_openldap() {
    let node = Node::new(&[]);
    node.publish_csv(ACCENTED);
    node.start();
    assert_eq!(surnames_found(&node, "yealink", "muller"), [] as [&str; 0]);
    assert_eq!(surnames_found(&node, "yealink", "mül"), ["Müller"]);
    assert_eq!(surnames_found(&node, "yealink", "soren"), [] as [&str; 0]);
}

/// A company with a main line and direct-dial numbers, one person of it in the
/// phone book, and a person elsewhere.
const COMPANY: &str = "\
givenName,sn,o,telephoneNumber
,,ACME GmbH,+49 30 1234000
Anna,Berg,ACME GmbH,+49 30 1234567
Bob,Stein,,+44 20 7946 0123
";

/// What the preset's incoming-call lookup for `number` gets from the server over
/// LDAP (ldapsearch, with the filter the phone sends), and what `sop phones
/// lookup` says found it.
fn caller(node: &Node, preset: &str, number: &str) -> (Vec<String>, serde_json::Value) {
    let answer = lookup(node, &[preset, number, "--incoming"]);
    let filter = answer["filter"].as_str().unwrap();
    let (out, code) = node.ldapsearch(&["-b", BASE, filter, "cn"]);
    assert_eq!(code, 0, "{filter}: {out}");
    (values(&out, "cn"), answer["fallback"].clone())
}

#[test]
fn a_direct_dial_call_shows_its_company_with_the_main_line_fallback() {
    let node = Node::new(&[("numbers.fallback", "\"main-line\"")]);
    node.publish_csv(COMPANY);
    node.start();
    for preset in ["yealink", "snom", "gigaset", "grandstream"] {
        let (shown, rule) = caller(&node, preset, "+49 30 1234 123");
        assert_eq!(shown, ["ACME GmbH"], "{preset}");
        assert!(rule.as_str().unwrap().starts_with("main-line"), "{rule}");
        // The caller's own entry still wins.
        let (shown, rule) = caller(&node, preset, "+49 30 1234 567");
        assert_eq!(shown, ["Anna Berg"], "{preset}");
        assert!(rule.is_null(), "{rule}");
    }
    // Not a number of another company, nor beyond an extension.
    assert_eq!(
        caller(&node, "yealink", "+49 30 9999 123").0,
        [] as [&str; 0]
    );
    assert_eq!(
        caller(&node, "yealink", "+49 30 12 999 999").0,
        [] as [&str; 0]
    );
    let text = node
        .sop(&[
            "phones",
            "lookup",
            "yealink",
            "+49 30 1234 123",
            "--incoming",
        ])
        .success()
        .stdout();
    assert!(text.contains("main-line rule"), "{text}");
}

#[test]
fn the_last_digits_fallback_finds_a_caller_written_another_way() {
    let node = Node::new(&[
        ("numbers.fallback", "\"last-digits\""),
        ("numbers.last_digits", "8"),
    ]);
    node.publish_csv(COMPANY);
    node.start();
    // The UK number as a national call shows it: 020 7946 0123.
    let (shown, rule) = caller(&node, "yealink", "020 7946 0123");
    assert_eq!(shown, ["Bob Stein"]);
    assert!(rule.as_str().unwrap().contains("last 8 digits"), "{rule}");
    // Without the fallback, as OpenLDAP: nothing.
    let off = Node::new(&[]);
    off.publish_csv(COMPANY);
    off.start();
    assert_eq!(caller(&off, "yealink", "020 7946 0123").0, [] as [&str; 0]);
}

/// `sop phones browse ... --json`.
fn browse(node: &Node, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["phones", "browse"];
    all.extend_from_slice(args);
    all.push("--json");
    serde_json::from_str(&node.sop(&all).success().stdout()).unwrap()
}

/// The DNs of one window as a phone browsing with a virtual list view gets them
/// (`ldapsearch -E sss=... -E vlv=before/after/offset/0`), in order.
fn vlv_dns(node: &Node, sort: &str, window: &str) -> Vec<String> {
    let out = common::ldapsearch_view(
        &node.url(),
        BASE,
        sort,
        window,
        &["-LLL", "(objectClass=person)", "1.1"],
    );
    values(&out, "dn")
}

#[test]
fn a_polycom_browses_the_phone_book_in_order_a_window_at_a_time() {
    let node = Node::new(&[]);
    node.start();
    let surnames = [
        "Zhang",
        "Müller",
        "Andersson",
        "Mueller",
        "berg",
        "Anders",
        "Ørsted",
    ];
    let mut csv = String::from("givenName,sn,telephoneNumber\n");
    for i in 0..100 {
        csv.push_str(&format!(
            "Given{:02},{},+49 30 {i:04}\n",
            99 - i,
            surnames[i % 7]
        ));
    }
    node.publish_csv(&csv);

    // The first window: what the phone's own request gets, in the same order.
    let first = browse(&node, &["polycom"]);
    assert_eq!(
        (first["first"].as_u64(), first["total"].as_u64()),
        (Some(1), Some(100))
    );
    let listed: Vec<String> = first["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["dn"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(listed.len(), 32, "Polycom's page size");
    assert_eq!(listed, vlv_dns(&node, "sn/givenName", "0/31/1/0"));
    let names = shows(&first);
    assert_eq!(names[0], "Anders, Given03", "{names:?}");
    let mut sorted = names.clone();
    sorted.sort_by_key(|n| n.to_lowercase());
    assert_eq!(names, sorted, "sorted by last name, then first name");

    // Typing jumps to the first name at or after it, as a phone's view by value.
    let jump = browse(&node, &["polycom", "mu"]);
    let jumped: Vec<String> = jump["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["dn"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(jumped, vlv_dns(&node, "sn/givenName", "0/31:mu"));
    let at = shows(&jump);
    assert!(at[0].starts_with("Mueller, "), "{at:?}");
    assert!(at.iter().any(|n| n.starts_with("Müller, ")), "{at:?}");
    // A window near the end shows the last page, as the phone scrolls to it.
    let end = browse(&node, &["polycom", "--from", "90"]);
    assert_eq!(end["first"].as_u64(), Some(69));
    assert_eq!(shows(&end).last().unwrap(), "Ørsted, Given93");

    // A model that does not browse says so, and how it finds names instead.
    let run = node.sop(&["phones", "browse", "yealink"]).failure();
    assert!(run.stderr().contains("do not browse"), "{}", run.stderr());
    assert!(run.stderr().contains("polycom"), "{}", run.stderr());
}
