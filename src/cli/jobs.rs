//! `sop jobs list|show`: the job history.

use super::JobsCommand;
use crate::home::Home;
use crate::store::Job;
use color_eyre::eyre::Result;

pub fn run(home: &Home, command: JobsCommand) -> Result<i32> {
    crate::node::prepare(home)?;
    if let JobsCommand::Cancel = command {
        use crate::control::{self, Reply, Request};
        let rt = super::runtime()?;
        let reply = rt.block_on(control::call(
            &home.socket(),
            &Request::Cancel,
            crate::server::daemon::CONTROL_TIMEOUT,
        ))?;
        return Ok(match reply {
            Reply::Ok => {
                println!("the running job stops at its next step; nothing it did is applied");
                0
            }
            Reply::Error { message } => {
                eprintln!("{message}");
                1
            }
            other => {
                eprintln!("unexpected reply {other:?}");
                1
            }
        });
    }
    let store = crate::ucm::open_store(home)?;
    match command {
        JobsCommand::List { limit, json } => {
            let jobs = store.jobs(limit)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&jobs)?);
                return Ok(0);
            }
            if jobs.is_empty() {
                println!("no job yet");
            }
            println!(
                "{:>5}  {:<9} {:<16} {:>6}  {:<10} SUMMARY",
                "ID", "KIND", "STARTED", "SECS", "STATUS"
            );
            for j in jobs {
                println!(
                    "{:>5}  {:<9} {:<16} {:>6}  {:<10} {}",
                    j.id,
                    j.kind,
                    time(j.started),
                    j.finished - j.started,
                    j.status,
                    summary(&j)
                );
            }
        }
        JobsCommand::Cancel => {}
        JobsCommand::Show { id, json } => {
            let Some(job) = store.job(id)? else {
                eprintln!("no job {id} (sop jobs list shows the last ones)");
                return Ok(1);
            };
            let errors = store.job_errors(id)?;
            if json {
                let value = serde_json::json!({
                    "job": job,
                    "counts": serde_json::from_str::<serde_json::Value>(&job.counts).unwrap_or_default(),
                    "errors": errors.iter().map(|(p, r)| serde_json::json!({"position": p, "reason": r})).collect::<Vec<_>>(),
                });
                println!("{}", serde_json::to_string_pretty(&value)?);
                return Ok(0);
            }
            println!("job {} ({})", job.id, job.kind);
            println!("status    {}", job.status);
            println!("started   {}", time(job.started));
            println!("finished  {}", time(job.finished));
            if !job.message.is_empty() {
                println!("message   {}", job.message);
            }
            if let Ok(serde_json::Value::Object(counts)) = serde_json::from_str(&job.counts) {
                for (k, v) in counts {
                    let k = k.replace('_', " ");
                    match v {
                        // Per-source counts: one source a line.
                        serde_json::Value::Array(items) if items.iter().any(|i| i.is_object()) => {
                            println!("{k}:");
                            for item in &items {
                                println!("  {}", plain(item));
                            }
                        }
                        v => println!("{k:<14} {}", plain(&v)),
                    }
                }
            }
            if job.kind == "merge" {
                // A merge's details: every fold, pair kept apart and skipped contact.
                for what in ["folded", "kept apart", "skipped"] {
                    let lines: Vec<&String> = errors
                        .iter()
                        .filter(|(p, _)| p == what)
                        .map(|(_, r)| r)
                        .collect();
                    if !lines.is_empty() {
                        println!("{what} ({}):", lines.len());
                        for line in lines {
                            println!("  {line}");
                        }
                    }
                }
            } else if !errors.is_empty() {
                println!("{} entries skipped:", errors.len());
                for (position, reason) in errors {
                    println!("  {position}: {reason}");
                }
            }
        }
    }
    Ok(0)
}

/// A value of a job's counts as a person reads it: text without quotes, lists
/// joined, objects as `key: value` pairs.
fn plain(v: &serde_json::Value) -> String {
    use serde_json::Value;
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(plain).collect::<Vec<_>>().join(", "),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{}: {}", k.replace('_', " "), plain(v)))
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

fn time(epoch: i64) -> String {
    chrono::DateTime::from_timestamp(epoch, 0)
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

/// One line of counts: "+3 ~1 -0, 120 contacts".
fn summary(j: &Job) -> String {
    let v: serde_json::Value = serde_json::from_str(&j.counts).unwrap_or_default();
    let n = |k: &str| v.get(k).and_then(serde_json::Value::as_u64).unwrap_or(0);
    let mut out = match j.kind.as_str() {
        "import" => format!(
            "+{} ~{} -{}, {} read, {} skipped",
            n("added"),
            n("updated"),
            n("removed"),
            n("parsed"),
            n("skipped")
        ),
        "merge" => format!(
            "generation {}: {} contacts, +{} ~{} -{}",
            n("generation"),
            n("contacts"),
            n("added"),
            n("updated"),
            n("removed")
        ),
        "rollback" => format!("generation {} serves again", n("generation")),
        "contacts" if v.get("imported").is_some() => format!(
            "+{} ~{} -{}, {} imported into the internal contacts",
            n("added"),
            n("updated"),
            n("removed") + n("sample_removed"),
            n("imported")
        ),
        "contacts" => format!("{} internal contacts removed", n("removed")),
        "sync" => format!(
            "{}: +{} ~{} -{}, {} read, {} skipped",
            v.get("source")
                .and_then(serde_json::Value::as_str)
                .unwrap_or(""),
            n("added"),
            n("updated"),
            n("removed"),
            n("read"),
            n("skipped")
        ),
        _ => String::new(),
    };
    if !j.message.is_empty() {
        out.push_str(" | ");
        out.push_str(&j.message);
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::plain;

    #[test]
    fn counts_read_as_text_not_json() {
        let v: serde_json::Value = serde_json::from_str(
            r#"{"warnings":["credentials over http","a \"quoted\" word"],"source":{"name":"ext","served_now":20}}"#,
        )
        .unwrap();
        assert_eq!(
            plain(&v["warnings"]),
            "credentials over http, a \"quoted\" word"
        );
        assert_eq!(plain(&v["source"]), "name: ext, served now: 20");
    }
}
