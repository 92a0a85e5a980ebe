//! `sop phones list|setup|lookup|browse`: the desk phone presets, the settings to
//! give them for this node, a lookup as a phone sends it, and the phone book as a
//! phone browses it.

use super::PhonesCommand;
use crate::config::Config;
use crate::control::{self, Reply, Request};
use crate::directory::lookup::{self, Found};
use crate::home::Home;
use crate::phones::{self, Preset, Query, setup};
use color_eyre::eyre::{Result, eyre};
use std::time::Duration;

pub fn run(home: &Home, command: PhonesCommand) -> Result<i32> {
    match command {
        PhonesCommand::List { json } => {
            if json {
                println!("{}", serde_json::to_string_pretty(&phones::PRESETS)?);
                return Ok(0);
            }
            for p in &phones::PRESETS {
                println!("{:<12} {} ({})", p.id, p.vendor, p.models);
                println!("{:<12} names:   {}", "", p.name_filter);
                match p.number_filter {
                    Some(f) => println!("{:<12} numbers: {f}", ""),
                    None => println!("{:<12} numbers: not looked up", ""),
                }
            }
            Ok(0)
        }
        PhonesCommand::Setup { vendor, phonebook } => {
            let config = load(home)?;
            let mut node = setup::Node::from_config(&config, home);
            if let Some(name) = phonebook {
                let book = config
                    .phonebooks
                    .iter()
                    .find(|b| b.name == name)
                    .ok_or_else(|| {
                        let names: Vec<&str> =
                            config.phonebooks.iter().map(|b| b.name.as_str()).collect();
                        eyre!(
                            "no phone book {name:?} in {} ([[phonebooks]]: {})",
                            home.config_file().display(),
                            if names.is_empty() {
                                "none".to_string()
                            } else {
                                names.join(", ")
                            }
                        )
                    })?;
                node = node.for_phonebook(book, home);
            }
            let presets: Vec<&'static Preset> = match vendor {
                Some(v) => vec![find(&v)?],
                None => phones::PRESETS.iter().collect(),
            };
            let several = presets.len() > 1;
            for p in presets {
                let s = setup::snippet(p, &node);
                // The lines alone on stdout, so that `> file` keeps only them.
                if several {
                    println!("## {} ({}): {}", p.vendor, p.models, s.target);
                } else {
                    eprintln!("{} ({}): {}", p.vendor, p.models, s.target);
                }
                for line in &s.lines {
                    println!("{line}");
                }
                for note in &s.notes {
                    eprintln!("note: {note}");
                }
                if several {
                    println!();
                }
            }
            Ok(0)
        }
        PhonesCommand::Lookup {
            vendor,
            text,
            incoming,
            json,
        } => {
            let p = find(&vendor)?;
            let config = load(home)?;
            let Some(mut query) = p.query(&text, incoming) else {
                eprintln!(
                    "{} phones do not look numbers up over LDAP: an incoming call shows the caller's number",
                    p.vendor
                );
                return Ok(1);
            };
            query.size_limit = query.size_limit.min(config.ldap.size_limit as usize);
            let found = search(home, &query)?;
            print_lookup(p, &text, &query, &found, json)?;
            Ok(0)
        }
        PhonesCommand::Browse {
            vendor,
            text,
            from,
            json,
        } => {
            let p = find(&vendor)?;
            let Some(browse) = p.browse else {
                let browsing: Vec<&str> = phones::PRESETS
                    .iter()
                    .filter(|p| p.browse.is_some())
                    .map(|p| p.id)
                    .collect();
                eprintln!(
                    "{} phones do not browse the phone book: they search as a name is typed \
                     (`sop phones lookup {}`). Presets that browse: {}",
                    p.vendor,
                    p.id,
                    browsing.join(", ")
                );
                return Ok(1);
            };
            let config = load(home)?;
            let limit = p.max_hits.min(config.ldap.size_limit as usize);
            let from = match (text, from) {
                (Some(text), _) => lookup::From::Value(text),
                (None, at) => lookup::From::Offset(at.unwrap_or(1).saturating_sub(1)),
            };
            let request = Request::Browse {
                filter: browse.filter.to_string(),
                sort: browse.sort.iter().map(|s| s.to_string()).collect(),
                from,
                limit,
            };
            let found = ask(home, &request)?;
            print_browse(p, &browse, &found, json)?;
            Ok(0)
        }
    }
}

/// The entries as the phone shows them, for `--json`.
fn entries_json(p: &Preset, found: &Found) -> Vec<serde_json::Value> {
    found
        .entries
        .iter()
        .map(|e| serde_json::json!({"dn": e.dn, "shows": p.shows(e), "numbers": p.numbers(e)}))
        .collect()
}

/// An entry's numbers as the phone lists them: `attribute number`, two spaces apart.
fn numbers(p: &Preset, e: &lookup::FoundEntry) -> String {
    let numbers: Vec<String> = p
        .numbers(e)
        .iter()
        .map(|(attr, n)| format!("{attr} {n}"))
        .collect();
    numbers.join("  ")
}

fn print_browse(p: &Preset, browse: &phones::Browse, found: &Found, json: bool) -> Result<()> {
    let window = found
        .window
        .unwrap_or(lookup::Window { first: 0, total: 0 });
    if json {
        let entries = entries_json(p, found);
        let out = serde_json::json!({
            "preset": p.id,
            "filter": browse.filter,
            "sort": browse.sort,
            "first": window.first + 1,
            "total": window.total,
            "entries": entries,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    println!(
        "{} ({}) browses {} sorted by {}",
        p.vendor,
        p.models,
        browse.filter,
        browse.sort.join(", ")
    );
    println!();
    for (at, e) in found.entries.iter().enumerate() {
        println!(
            "{:>7}  {:<28} {}",
            window.first + at + 1,
            p.shows(e),
            numbers(p, e)
        );
    }
    let shown = found.entries.len();
    if shown == 0 {
        println!("The phone book is empty: the phone lists nothing.");
    } else {
        println!(
            "\nentries {} to {} of {} ({:.1} ms on the server)",
            window.first + 1,
            window.first + shown,
            window.total,
            found.micros as f64 / 1000.0
        );
    }
    Ok(())
}

fn find(vendor: &str) -> Result<&'static Preset> {
    phones::preset(vendor).ok_or_else(|| {
        eyre!(
            "{vendor:?} is not a phone preset; accepted: {}",
            phones::ids()
        )
    })
}

fn load(home: &Home) -> Result<Config> {
    crate::node::prepare(home)?;
    Ok(Config::load(&home.config_file())?)
}

/// Asks the running server, which answers as it answers phones.
fn search(home: &Home, query: &Query) -> Result<Found> {
    let request = Request::Search {
        filter: query.filter.clone(),
        limit: query.size_limit,
    };
    ask(home, &request)
}

fn ask(home: &Home, request: &Request) -> Result<Found> {
    let rt = super::runtime()?;
    let reply = rt
        .block_on(control::call(
            &home.socket(),
            request,
            Duration::from_secs(10),
        ))
        .map_err(|e| eyre!("{e}: phones get no answer from this node until `sop server start`"))?;
    match reply {
        Reply::Found(found) => Ok(found),
        Reply::Error { message } => Err(eyre!("{message}")),
        other => Err(eyre!("unexpected reply {other:?}")),
    }
}

fn print_lookup(p: &Preset, text: &str, q: &Query, found: &Found, json: bool) -> Result<()> {
    let cut = found.matched > q.size_limit;
    if json {
        let entries = entries_json(p, found);
        let out = serde_json::json!({
            "preset": p.id,
            "typed": text,
            "lookup": q.lookup,
            "filter": q.filter,
            "size_limit": q.size_limit,
            "attributes": q.attributes,
            "size_limit_exceeded": cut,
            "fallback": found.fallback,
            "entries": entries,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    println!(
        "{} ({}), {} for {text:?}",
        p.vendor,
        p.models,
        q.lookup.label()
    );
    println!("filter      {}", q.filter);
    println!("size limit  {}", q.size_limit);
    println!("attributes  {}", q.attributes.join(" "));
    println!();
    if let Some(rule) = &found.fallback {
        println!("No entry holds that number; the caller-ID fallback's {rule} found:");
    }
    for e in &found.entries {
        println!("{:<28} {}", p.shows(e), numbers(p, e));
    }
    let shown = found.entries.len();
    let more = if cut {
        ", more match: the phone gets the first ones and a size-limit result"
    } else {
        ""
    };
    println!(
        "\n{shown} entr{}{more} ({:.1} ms on the server)",
        if shown == 1 { "y" } else { "ies" },
        found.micros as f64 / 1000.0
    );
    Ok(())
}
