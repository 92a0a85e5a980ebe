//! The last push to each node and its result, kept in the home
//! (`data/cluster-pushes.json`), for `sop cluster status` and `--retry-failed`.

use crate::home::Home;
use color_eyre::eyre::{Result, WrapErr};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushRecord {
    /// When the push finished, seconds since the Unix epoch.
    pub at: u64,
    pub ok: bool,
    /// The snapshot pushed.
    pub hash: String,
    pub count: u64,
    pub millis: u64,
    /// What the node answered, or why the push failed.
    pub message: String,
    /// The command that fixes the failure, when there is one.
    pub fix: Option<String>,
    /// Pushes to the node that failed in a row, this one included (0 when it is ok).
    #[serde(default)]
    pub failures: u32,
    /// The snapshots the node holds from the last push that reached it (each
    /// source and its hash): the next push may send only their changes.
    #[serde(default)]
    pub holds: Vec<Held>,
}

/// A snapshot a node holds, as a push left it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Held {
    pub source: String,
    pub hash: String,
}

impl PushRecord {
    /// When the running server pushes to the node again: `retry` after the first
    /// failure, twice as long after each one more, at most `MAX_RETRY` apart. None
    /// when the last push was ok, or retries are off.
    pub fn next_retry(&self, retry: std::time::Duration) -> Option<u64> {
        if self.ok || retry.is_zero() {
            return None;
        }
        let doublings = self.failures.saturating_sub(1).min(16);
        let wait = retry
            .saturating_mul(1 << doublings)
            .min(crate::config::cluster::MAX_RETRY);
        Some(self.at + wait.as_secs())
    }
}

pub type Records = BTreeMap<String, PushRecord>;

fn path(home: &Home) -> PathBuf {
    home.data_dir().join("cluster-pushes.json")
}

/// The last push to each node (none yet: empty; an unreadable file: empty).
pub fn load(home: &Home) -> Records {
    std::fs::read(path(home))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// Records these results over the previous ones, one writer at a time.
pub fn save(home: &Home, results: &Records) -> Result<()> {
    let file = path(home);
    let dir = home.data_dir();
    std::fs::create_dir_all(&dir).wrap_err_with(|| format!("cannot create {}", dir.display()))?;
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(".cluster-pushes.lock"))
        .wrap_err("cannot open the push records' lock")?;
    let _lock = nix::fcntl::Flock::lock(lock, nix::fcntl::FlockArg::LockExclusive)
        .map_err(|(_, e)| e)
        .wrap_err("cannot lock the push records")?;
    let mut all = load(home);
    for (node, record) in results {
        let before = all
            .get(node)
            .filter(|r| !r.ok)
            .map_or(0, |r| r.failures.max(1));
        let failures = if record.ok { 0 } else { before + 1 };
        // A push that failed left the node with what it held.
        let holds = match all.get(node) {
            Some(previous) if !record.ok => previous.holds.clone(),
            _ => record.holds.clone(),
        };
        all.insert(
            node.clone(),
            PushRecord {
                failures,
                holds,
                ..record.clone()
            },
        );
    }
    let tmp = file.with_extension("tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(&all)?)
        .and_then(|()| std::fs::rename(&tmp, &file))
        .wrap_err_with(|| format!("cannot record the push results in {}", file.display()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn failed(failures: u32) -> PushRecord {
        PushRecord {
            at: 1000,
            ok: false,
            hash: String::new(),
            count: 0,
            millis: 0,
            message: String::new(),
            fix: None,
            failures,
            holds: Vec::new(),
        }
    }

    #[test]
    fn retries_back_off_from_retry_secs_doubling_to_fifteen_minutes() {
        let minute = Duration::from_secs(60);
        assert_eq!(failed(1).next_retry(minute), Some(1060));
        assert_eq!(failed(2).next_retry(minute), Some(1120));
        assert_eq!(failed(4).next_retry(minute), Some(1480));
        assert_eq!(
            failed(5).next_retry(minute),
            Some(1900),
            "15 minutes at most"
        );
        assert_eq!(failed(60).next_retry(minute), Some(1900));
        assert_eq!(failed(1).next_retry(Duration::ZERO), None, "retries off");
        let ok = PushRecord {
            ok: true,
            ..failed(0)
        };
        assert_eq!(ok.next_retry(minute), None);
    }

    #[test]
    fn failures_in_a_row_are_counted_and_an_ok_push_resets_them() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::new(dir.path());
        let save_one = |ok: bool| {
            let r = PushRecord { ok, ..failed(1) };
            save(&home, &[("b".to_string(), r)].into_iter().collect()).unwrap();
            load(&home)["b"].failures
        };
        assert_eq!(save_one(false), 1);
        assert_eq!(save_one(false), 2);
        assert_eq!(save_one(false), 3);
        assert_eq!(save_one(true), 0);
        assert_eq!(save_one(false), 1);
    }
}
