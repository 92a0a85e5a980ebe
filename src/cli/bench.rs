//! `sop bench phonebook|load`: how many phones can a node take?

use super::{BenchCommand, runtime};
use crate::bench::load::{self, LoadOptions};
use crate::bench::{formats, phonebook, process, shapes};
use crate::directory::lookup;
use color_eyre::eyre::{Result, WrapErr, eyre};
use ldap3_proto::proto::LdapFilter;
use std::io::Write;
use std::time::Duration;

pub fn run(command: BenchCommand) -> Result<i32> {
    match command {
        BenchCommand::Phonebook {
            count,
            seed,
            ldif,
            format,
            schema,
        } => {
            use crate::formats::Format;
            if schema {
                print!("{}", crate::bench::ldif::SCHEMA);
                return Ok(0);
            }
            let contacts = phonebook::generate(count, seed);
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            match (ldif, format) {
                (Some(base), _) => crate::bench::ldif::write(&mut out, &contacts, &base)?,
                (None, Some(Format::Ldif)) => {
                    crate::bench::ldif::write(&mut out, &contacts, "dc=phonebook,dc=local")?
                }
                (None, Some(Format::VCard)) => formats::write_vcard(&mut out, &contacts)?,
                (None, Some(Format::Json)) => formats::write_json(&mut out, &contacts)?,
                (None, Some(Format::Xml)) => formats::write_yealink_xml(&mut out, &contacts)?,
                (None, Some(Format::Csv) | None) => {
                    crate::formats::csv::export_csv(&contacts, &mut out)
                        .map_err(|e| eyre!("writing CSV: {e}"))?
                }
            }
            out.flush()?;
        }
        BenchCommand::Filters {
            count,
            seed,
            per_class,
        } => {
            let started = std::time::Instant::now();
            let dir = phonebook::directory(count, seed);
            let (ids, keys, dense) = dir.index_stats();
            eprintln!(
                "directory of {count} contacts built in {} ms; index: {keys} keys ({dense} without a list), {ids} ids",
                started.elapsed().as_millis()
            );
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            for case in shapes::matrix(&dir, seed, per_class) {
                writeln!(out, "{}\t{}", case.class, case.filter)?;
            }
            out.flush()?;
        }
        BenchCommand::Load {
            addr,
            base_dn,
            connections,
            seconds,
            size_limit,
            seed,
            server_pid,
            filters,
            class_seconds,
            json,
        } => {
            let addr = crate::config::parse_address(&addr)
                .map_err(|e| eyre!("--addr {addr}: {e}; expected host:port"))?;
            let opts = LoadOptions {
                addr,
                base_dn,
                connections,
                duration: Duration::from_secs_f64(seconds),
                size_limit,
                seed,
            };
            if let Some(file) = filters {
                let classes = read_classes(&file)?;
                let per_class = Duration::from_secs_f64(class_seconds);
                let stdout = std::io::stdout();
                runtime()?
                    .block_on(load::run_classes(&opts, classes, per_class, server_pid, |r| {
                        let mut out = stdout.lock();
                        let _ = if json {
                            writeln!(out, "{}", serde_json::json!(r))
                        } else {
                            writeln!(
                                out,
                                "{:<40} {:>8.0}/s p99 {:>7} us cpu {:>9} us/search {:>5.1} entries",
                                r.class,
                                r.per_second,
                                r.p99_us,
                                r.cpu_us_per_search.map_or("-".into(), |c| format!("{c:.1}")),
                                r.entries_per_search
                            )
                        };
                    }))
                    .wrap_err_with(|| format!("load against {addr} failed"))?;
                return Ok(0);
            }
            let before = server_pid.map(process::sample).transpose()?;
            let report = runtime()?
                .block_on(load::run(opts))
                .wrap_err_with(|| format!("load against {addr} failed"))?;
            let after = server_pid.map(process::sample).transpose()?;
            let cpu_per_search = match (before, after) {
                (Some(b), Some(a)) if report.searches > 0 => {
                    Some((a.cpu_us - b.cpu_us) as f64 / report.searches as f64)
                }
                _ => None,
            };
            let rss = after.map(|a| a.rss_kib);
            if json {
                let mut v = serde_json::to_value(&report)?;
                v["server_cpu_us_per_search"] = serde_json::json!(cpu_per_search);
                v["server_rss_kib"] = serde_json::json!(rss);
                println!("{v}");
            } else {
                println!(
                    "{} searches in {:.1} s over {} connections: {:.0}/s, p50 {} us, p99 {} us, max {} us, {} failed, {:.1} entries/search",
                    report.searches,
                    report.seconds,
                    report.connections,
                    report.per_second,
                    report.p50_us,
                    report.p99_us,
                    report.max_us,
                    report.failed,
                    report.entries as f64 / report.searches.max(1) as f64
                );
                if let Some(cpu) = cpu_per_search {
                    println!("server CPU {cpu:.1} us/search");
                }
                if let Some(rss) = rss {
                    println!("server resident memory {} MiB", rss / 1024);
                }
            }
        }
    }
    Ok(0)
}

/// The classes of a `bench filters` file, each with its filters parsed.
fn read_classes(file: &std::path::Path) -> Result<Vec<(String, Vec<LdapFilter>)>> {
    let text =
        std::fs::read_to_string(file).wrap_err_with(|| format!("reading {}", file.display()))?;
    let cases: Vec<shapes::Case> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(n, line)| match line.split_once('\t') {
            Some((class, filter)) => Ok(shapes::Case {
                class: class.to_string(),
                filter: filter.to_string(),
            }),
            None => Err(eyre!(
                "{}:{}: expected class<TAB>filter",
                file.display(),
                n + 1
            )),
        })
        .collect::<Result<_>>()?;
    shapes::by_class(&cases)
        .into_iter()
        .map(|(class, filters)| {
            let parsed = filters
                .iter()
                .map(|f| lookup::parse_text(f).map_err(|e| eyre!("{}: {e}", file.display())))
                .collect::<Result<Vec<_>>>()?;
            Ok((class, parsed))
        })
        .collect()
}
