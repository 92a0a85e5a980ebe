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
    all.extend(results.iter().map(|(k, v)| (k.clone(), v.clone())));
    let tmp = file.with_extension("tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(&all)?)
        .and_then(|()| std::fs::rename(&tmp, &file))
        .wrap_err_with(|| format!("cannot record the push results in {}", file.display()))
}
