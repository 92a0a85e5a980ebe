//! The pid file: held locked for the server's lifetime, so a second server on the
//! same home is refused and a pid file left by a killed server is recognised as stale.

use nix::fcntl::{Flock, FlockArg};
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::os::unix::ffi::OsStrExt;
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

/// Who a home's pid file says runs its server.
#[derive(Debug, PartialEq, Eq)]
pub enum Holder {
    /// No pid file.
    Nobody,
    /// A pid file no server holds (left by a killed server): the pid it names
    /// may be any process by now.
    Stale(String),
    /// The running server of this home.
    Server(i32),
}

/// Reads the pid file of the home at `home`. A server holds its pid file locked
/// while it runs, and the lock ends with the process: a file nobody holds is stale.
/// A held one is checked against the process too, where /proc tells.
pub fn holder(path: &Path, home: &Path) -> Result<Holder, PidError> {
    let io_err = |source| PidError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Holder::Nobody),
        Err(e) => return Err(io_err(e)),
    };
    let mut text = String::new();
    file.read_to_string(&mut text).map_err(io_err)?;
    let text = text.trim().to_string();
    if Flock::lock(file, FlockArg::LockSharedNonblock).is_ok() {
        return Ok(Holder::Stale(text));
    }
    let pid: i32 = text.parse().map_err(|_| {
        io_err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{text:?} is not a pid"),
        ))
    })?;
    match names_server_of(pid, home) {
        Some(false) => Err(io_err(io::Error::other(format!(
            "the file is locked but pid {pid} is not this home's sop server; \
             nothing was signalled"
        )))),
        Some(true) | None => Ok(Holder::Server(pid)),
    }
}

/// Does /proc/PID/cmdline name sop running this home's server? `None` when /proc
/// does not tell.
fn names_server_of(pid: i32, home: &Path) -> Option<bool> {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
    let program = args
        .first()
        .map(|a| Path::new(std::ffi::OsStr::from_bytes(a)));
    let is_sop = program
        .and_then(Path::file_name)
        .is_some_and(|n| n.to_string_lossy().starts_with("sop"));
    let home = home.as_os_str().as_bytes();
    // `--home` names it, or the server runs with the default home.
    let names_home = args.contains(&home)
        || !args
            .iter()
            .any(|a| *a == b"--home".as_slice() || a.starts_with(b"--home="));
    let runs = args
        .windows(2)
        .any(|w| w == [b"server".as_slice(), b"run".as_slice()]);
    Some(is_sop && names_home && runs)
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

    #[test]
    fn a_pid_file_nobody_holds_is_stale_whatever_pid_it_names() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sop.pid");
        assert_eq!(holder(&path, dir.path()).unwrap(), Holder::Nobody);
        // This very process is alive, but holds no lock on the file.
        std::fs::write(&path, format!("{}\n", std::process::id())).unwrap();
        assert_eq!(
            holder(&path, dir.path()).unwrap(),
            Holder::Stale(std::process::id().to_string())
        );
        // Held by a process that is not sop's server (this test binary): refused.
        let (_held, _) = PidFile::acquire(&path).unwrap();
        let err = holder(&path, dir.path()).unwrap_err();
        assert!(
            err.to_string().contains("not this home's sop server"),
            "{err}"
        );
    }
}
