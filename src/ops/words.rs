//! How the jobs' reports read, for the CLI (whole, a line each) and the shell (one
//! line in its message bar): the same words in both.

use super::jobs::{Imported, Merged, RolledBack, Synced};
use crate::cluster::push::Outcome;
use crate::directory::merge::Changes;

/// "+1 added ~2 updated -0 removed".
pub fn changes(c: &Changes) -> String {
    format!(
        "+{} added ~{} updated -{} removed",
        c.added, c.updated, c.removed
    )
}

/// Where a published generation is served.
fn served(served: bool) -> &'static str {
    if served {
        "the application server serves it now"
    } else {
        "the application server is stopped; it serves it when started"
    }
}

/// An import, whole.
pub fn import(i: &Imported) -> Vec<String> {
    let (id, r) = (i.job, &i.report);
    if r.unchanged {
        return vec![format!(
            "the list has not changed since the last import: nothing to do ({} contacts)",
            r.imported
        )];
    }
    let mut lines = vec![format!(
        "{}: {} bytes, {}: {} contacts read, {} skipped",
        r.url, r.fetched_bytes, r.format, r.parsed, r.skipped
    )];
    lines.extend(r.warnings.iter().map(|w| format!("  note: {w}")));
    lines.extend(
        r.errors
            .iter()
            .take(10)
            .map(|e| format!("  skipped {}: {}", e.position, e.reason)),
    );
    if r.errors.len() > 10 {
        lines.push(format!("  ... (sop jobs show {id})"));
    }
    lines.push(format!("change: {}", changes(&r.changes)));
    if r.sample_removed > 0 {
        lines.push(format!(
            "the sample phone book ({} contacts) was removed: this is the node's first import",
            r.sample_removed
        ));
    }
    lines.extend(pushed(i.pushed.as_ref()));
    lines.push(match &r.held {
        Some(why) => format!("held, not applied: {why}"),
        None if r.dry_run => "dry run: nothing would be applied".to_string(),
        None => format!(
            "imported {} external contacts in {} ms (job {id}); they are served after the next merge (sop ucm merge)",
            r.imported, r.millis
        ),
    });
    lines
}

/// The push to the cluster that followed an import or a sync, a line per node.
pub fn pushed(pushed: Option<&Result<Vec<Outcome>, String>>) -> Vec<String> {
    match pushed {
        None => Vec::new(),
        Some(Err(e)) => vec![format!("push to the cluster failed: {e}")],
        Some(Ok(outcomes)) => outcomes
            .iter()
            .map(|o| {
                let status = if o.record.ok { "ok" } else { "FAILED" };
                let fix = o
                    .record
                    .fix
                    .as_ref()
                    .map(|f| format!("; to fix: {f}"))
                    .unwrap_or_default();
                format!("pushed to {}: {status}: {}{fix}", o.node, o.record.message)
            })
            .collect(),
    }
}

/// The push that followed an import or a sync, when there was one.
fn pushed_after(p: &Option<Result<Vec<Outcome>, String>>) -> String {
    match p {
        Some(Ok(outcomes)) => format!(
            "; pushed to {} of {} nodes (Cluster shows each)",
            outcomes.iter().filter(|o| o.record.ok).count(),
            outcomes.len()
        ),
        Some(Err(e)) => format!("; the push to the cluster failed: {e}"),
        None => String::new(),
    }
}

/// An import in one line: Err when it was held.
pub fn import_line(i: &Imported) -> Result<String, String> {
    let (id, r) = (i.job, &i.report);
    if r.unchanged {
        return Ok(format!(
            "the list has not changed since the last import ({} contacts)",
            r.imported
        ));
    }
    let change = changes(&r.changes);
    let read = format!("{}: {} read, {} skipped", r.format, r.parsed, r.skipped);
    match &r.held {
        Some(why) => Err(format!(
            "import held, not applied: {why} ({read}; {change})"
        )),
        None if r.dry_run => Ok(format!("dry run: {change} ({read}); nothing applied")),
        None => Ok(format!(
            "imported (job {id}): {change} ({read}); served after the next merge{}",
            pushed_after(&i.pushed)
        )),
    }
}

/// A merge, whole: warnings first (for standard error), then the report.
pub fn merge(m: &Merged) -> (Vec<String>, Vec<String>) {
    let r = &m.report;
    if let Some(kept) = &r.kept {
        return (Vec::new(), vec![kept.clone()]);
    }
    let warnings = r.problems.clone();
    let mut lines = vec![format!(
        "generation {} published: {} contacts ({}) in {} ms",
        r.generation,
        r.contacts,
        changes(&r.changes),
        r.millis
    )];
    for s in &r.stats.sources {
        lines.push(format!(
            "  {:<10} priority {:<4} {} contacts, {} served",
            s.name, s.priority, s.contacts, s.served
        ));
    }
    let st = &r.stats;
    for (count, what, examples) in [
        (st.duplicates, "folded as one person", &st.fold_examples),
        (
            st.kept_apart,
            "kept apart (different names sharing a number or e-mail address)",
            &st.apart_examples,
        ),
        (
            st.skipped,
            "skipped (a uid already taken)",
            &st.skipped_examples,
        ),
    ] {
        if count == 0 {
            continue;
        }
        lines.push(format!("  {count} {what}:"));
        lines.extend(examples.iter().take(5).map(|e| format!("    {e}")));
        if count > 5 {
            lines.push(format!("    … {} more: sop jobs show {}", count - 5, r.job));
        }
    }
    if st.conflicts > 0 {
        lines.push(format!("  {} conflicting fields:", st.conflicts));
        lines.extend(
            st.conflict_examples
                .iter()
                .take(5)
                .map(|e| format!("    {e}")),
        );
    }
    lines.push(served(m.served).to_string());
    (warnings, lines)
}

/// A merge in one line.
pub fn merge_line(m: &Merged) -> String {
    let r = &m.report;
    if let Some(kept) = &r.kept {
        return kept.clone();
    }
    let st = &r.stats;
    let folds = if st.duplicates + st.kept_apart + st.skipped > 0 {
        format!(
            "; {} folded, {} kept apart, {} skipped (Jobs lists them)",
            st.duplicates, st.kept_apart, st.skipped
        )
    } else {
        String::new()
    };
    format!(
        "generation {} published: {} contacts (+{} ~{} -{}) in {} ms{folds}; {}",
        r.generation,
        r.contacts,
        r.changes.added,
        r.changes.updated,
        r.changes.removed,
        r.millis,
        if m.served {
            "served now"
        } else {
            "served when the application server starts"
        }
    )
}

pub fn rollback(r: &RolledBack) -> String {
    let held = "; it stays served until an import or sync changes the imported lists";
    match r.served {
        Some(contacts) => format!(
            "generation {} is current again; the application server serves it now ({contacts} contacts){held}",
            r.generation
        ),
        None => format!(
            "generation {} is current again; {}{held}",
            r.generation,
            served(false)
        ),
    }
}

/// A sync in one line: Err when it was held.
pub fn sync_line(s: &Synced) -> Result<String, String> {
    let r = &s.report;
    let change = changes(&r.changes);
    match (&r.held, &s.merged) {
        (Some(why), _) => Err(format!("sync of {} held (job {}): {why}", r.source, s.job)),
        (None, Some(m)) => Ok(format!(
            "synced {} (job {}): {} read, {change}; {}{}",
            r.source,
            s.job,
            r.read,
            merge_line(m),
            pushed_after(&s.pushed)
        )),
        (None, None) => Ok(format!(
            "synced {} (job {}): {} read, {change}",
            r.source, s.job, r.read
        )),
    }
}
