//! The pid file: held locked for the server's lifetime, so a second server on the
//! same home is refused and a pid file left by a killed server is recognised as stale.

use nix::fcntl::{Flock, FlockArg};
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

pub struct PidFile {
    path: PathBuf,
    _lock: Flock<File>,
}

#[derive(Debug, thiserror::Error)]
pub enum PidError {
    #[error("the application server is already running (pid {pid}; pid file {path})")]
    Running { pid: String, path: String },
    #[error("{path}: {source}")]
    Io { path: String, source: io::Error },
}

impl PidFile {
    /// Takes the pid file. Returns the stale pid it replaced, if there was one.
    pub fn acquire(path: &Path) -> Result<(PidFile, Option<String>), PidError> {
        let io_err = |source| PidError::Io {
            path: path.display().to_string(),
            source,
        };
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o644)
            .open(path)
            .map_err(io_err)?;
        let mut lock = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(lock) => lock,
            Err((mut file, _)) => {
                let mut pid = String::new();
                let _ = file.read_to_string(&mut pid);
                return Err(PidError::Running {
                    pid: pid.trim().to_string(),
                    path: path.display().to_string(),
                });
            }
        };
        let mut old = String::new();
        let _ = lock.read_to_string(&mut old);
        let stale = Some(old.trim().to_string()).filter(|s| !s.is_empty());
        lock.set_len(0).map_err(io_err)?;
        lock.rewind().map_err(io_err)?;
        writeln!(lock, "{}", std::process::id()).map_err(io_err)?;
        lock.sync_all().map_err(io_err)?;
        Ok((
            PidFile {
                path: path.to_path_buf(),
                _lock: lock,
            },
            stale,
        ))
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The pid a pid file names, if the file exists and that process is alive.
pub fn live_pid(path: &Path) -> Option<i32> {
    let text = std::fs::read_to_string(path).ok()?;
    let pid: i32 = text.trim().parse().ok()?;
    let alive = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok();
    alive.then_some(pid)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn second_acquire_is_refused_and_stale_files_are_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sop.pid");
        std::fs::write(&path, "999999\n").unwrap();
        let (held, stale) = PidFile::acquire(&path).unwrap();
        assert_eq!(stale.as_deref(), Some("999999"));
        let err = PidFile::acquire(&path).err().unwrap();
        assert!(err.to_string().contains("already running"), "{err}");
        assert_eq!(live_pid(&path), Some(std::process::id() as i32));
        drop(held);
        assert!(!path.exists());
    }
}
