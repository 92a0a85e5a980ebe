//! The code's layers: no two top-level modules of `src/` import each other, so that
//! every module can be read (and changed) knowing only those below it. Unit tests
//! (a file's `#[cfg(test)]` module) are left out: they may use any module.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The top-level modules: the folders and files of `src/` (not `lib.rs`, `main.rs`).
fn modules(src: &Path) -> BTreeSet<String> {
    std::fs::read_dir(src)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter_map(|p| {
            let name = p.file_stem()?.to_str()?.to_string();
            (p.is_dir() || p.extension().is_some_and(|e| e == "rs")).then_some(name)
        })
        .filter(|n| n != "lib" && n != "main")
        .collect()
}

/// Every Rust file under `path` (a folder or one file).
fn files(path: &Path, out: &mut Vec<std::path::PathBuf>) {
    if path.is_dir() {
        for e in std::fs::read_dir(path).unwrap() {
            files(&e.unwrap().path(), out);
        }
    } else if path.extension().is_some_and(|e| e == "rs") {
        out.push(path.to_path_buf());
    }
}

/// The other top-level modules that `text` names as `crate::NAME`.
fn named(text: &str, all: &BTreeSet<String>) -> BTreeSet<String> {
    named_after(text, "crate::", all)
}

/// The modules of `all` that `text` names right after `prefix`.
fn named_after(text: &str, prefix: &str, all: &BTreeSet<String>) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (at, _) in text.match_indices(prefix) {
        // `super::super::x` is not `super::x`.
        if text[..at].ends_with("super::") {
            continue;
        }
        let rest = &text[at + prefix.len()..];
        let ident = |s: &str| -> String {
            s.trim_start()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect()
        };
        // `prefix{a, b::c}` names a and b.
        let names: Vec<String> = match rest.strip_prefix('{') {
            Some(group) => group
                .split('}')
                .next()
                .unwrap_or_default()
                .split(',')
                .map(ident)
                .collect(),
            None => vec![ident(rest)],
        };
        found.extend(names.into_iter().filter(|n| all.contains(n)));
    }
    found
}

fn imports(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let all = modules(src);
    let mut graph = BTreeMap::new();
    for m in &all {
        let mut paths = Vec::new();
        let dir = src.join(m);
        let root = if dir.is_dir() {
            dir
        } else {
            src.join(format!("{m}.rs"))
        };
        files(&root, &mut paths);
        let mut to = BTreeSet::new();
        for p in paths {
            let text = std::fs::read_to_string(&p).unwrap();
            // A file's unit tests (its last module, by the house's habit) may use
            // what is above it, such as the benchmark's phone book generator.
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            to.extend(named(code, &all));
        }
        to.remove(m);
        graph.insert(m.clone(), to);
    }
    graph
}

fn two_way(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    for (a, to) in graph {
        for b in to {
            if a < b && graph.get(b).is_some_and(|back| back.contains(a)) {
                pairs.push((a.clone(), b.clone()));
            }
        }
    }
    pairs
}

/// A circle of imports through three or more modules, if there is one.
fn circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        m: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == m) {
            return Some(path[at..].to_vec());
        }
        if done.contains(m) {
            return None;
        }
        path.push(m.to_string());
        for next in graph.get(m).into_iter().flatten() {
            if let Some(c) = visit(next, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(m.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|m| visit(m, graph, &mut Vec::new(), &mut done))
}

#[test]
fn top_level_modules_import_downward_only() {
    let graph = imports(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    assert!(graph.len() > 10, "{graph:?}");
    assert_eq!(two_way(&graph), [] as [(String, String); 0], "{graph:#?}");
    assert_eq!(circle(&graph), None, "{graph:#?}");
}

/// The shell's modules (the files and folders of `src/tui`, its unit tests
/// left out) and those each one imports: `super::NAME` from a file of `tui`,
/// `super::super::NAME` from a file of a folder in it.
fn shell_imports(tui: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut all = modules(tui);
    all.remove("mod");
    all.remove("tests");
    let mut graph = BTreeMap::new();
    for m in &all {
        let dir = tui.join(m);
        let mut paths = Vec::new();
        files(
            &if dir.is_dir() {
                dir
            } else {
                tui.join(format!("{m}.rs"))
            },
            &mut paths,
        );
        let mut to = BTreeSet::new();
        for p in paths {
            let text = std::fs::read_to_string(&p).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            let inner = p.parent() != Some(tui) && p.file_name().is_some_and(|n| n != "mod.rs");
            let prefix = if inner { "super::super::" } else { "super::" };
            to.extend(named_after(code, prefix, &all));
            to.extend(named_after(code, "crate::tui::", &all));
        }
        to.remove(m);
        graph.insert(m.clone(), to);
    }
    graph
}

#[test]
fn the_shells_modules_import_downward_only() {
    let graph = shell_imports(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src/tui"));
    // The screens read what they share with the shell, not the shell itself.
    assert!(graph["screens"].contains("component"), "{graph:#?}");
    assert!(!graph["screens"].contains("app"), "{graph:#?}");
    assert!(!graph["component"].contains("screens"), "{graph:#?}");
    assert_eq!(two_way(&graph), [] as [(String, String); 0], "{graph:#?}");
    assert_eq!(circle(&graph), None, "{graph:#?}");
}

#[test]
fn a_module_importing_one_that_imports_it_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    std::fs::create_dir(src.join("config")).unwrap();
    std::fs::write(src.join("config/mod.rs"), "use crate::ucm::check;\n").unwrap();
    std::fs::write(src.join("ucm.rs"), "fn f(c: &crate::config::Config) {}\n").unwrap();
    std::fs::write(src.join("home.rs"), "use crate::config::TEMPLATE;\n").unwrap();
    std::fs::write(
        src.join("bench.rs"),
        "use crate::home::Home;\n#[cfg(test)]\nmod tests { use crate::ucm::f; }\n",
    )
    .unwrap();
    assert_eq!(
        two_way(&imports(src)),
        [("config".to_string(), "ucm".to_string())]
    );
    // And a longer circle: ucm -> home -> config -> ucm, once the pair is gone.
    std::fs::write(src.join("config/mod.rs"), "use crate::home::x;\n").unwrap();
    std::fs::write(src.join("home.rs"), "use crate::ucm::y;\n").unwrap();
    let graph = imports(src);
    assert_eq!(two_way(&graph), [] as [(String, String); 0]);
    assert!(circle(&graph).is_some_and(|c| c.len() == 3), "{graph:?}");
    // Names in braces are imports too.
    std::fs::write(src.join("home.rs"), "use crate::{bench, ucm::y};\n").unwrap();
    assert!(imports(src)["home"].contains("ucm"), "{:?}", imports(src));
}
