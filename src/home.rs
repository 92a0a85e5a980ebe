//! Where a node keeps its config, data, control socket and logs.
//!
//! ```text
//! HOME/config.toml          the node's settings (created from the template on first use)
//! HOME/data/sop.db          the store: internal contacts, job history
//! HOME/data/generations/    published generations of the served directory
//! HOME/run/sop.sock         the application server's control socket (mode 0600)
//! HOME/run/sop.pid          the application server's pid file
//! HOME/log/server.log       the application server's log
//! HOME/log/access.log       one line per LDAP operation
//! HOME/secrets/             passwords kept apart from the config (mode 0700)
//! ```

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The home of a system install (see `install.sh`).
pub const SYSTEM_HOME: &str = "/var/lib/sop";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Home {
    root: PathBuf,
}

impl Home {
    pub fn new(root: impl Into<PathBuf>) -> Home {
        Home { root: root.into() }
    }

    /// `--home` / `SOP_HOME` when given; else the system home when it is set up and
    /// readable; else the per-user data directory.
    pub fn resolve(explicit: Option<PathBuf>) -> io::Result<Home> {
        if let Some(dir) = explicit {
            return Ok(Home::new(absolute(&dir)?));
        }
        let system = Path::new(SYSTEM_HOME);
        if fs::File::open(system.join("config.toml")).is_ok() {
            return Ok(Home::new(system));
        }
        let dirs = directories::ProjectDirs::from("", "", "sop").ok_or_else(|| {
            io::Error::other("no home directory found: pass --home DIR or set SOP_HOME")
        })?;
        Ok(Home::new(dirs.data_dir()))
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A failure's message, with what to do when the disk holding the home is full
    /// (under 16 MiB free): a full disk makes SQLite answer "disk I/O error", which
    /// does not say so.
    pub fn explain_failure(&self, message: String) -> String {
        match self.free_bytes() {
            Some(free) if free < 16 << 20 => format!(
                "{message}; the disk holding {} is full ({} KiB free): free space there \
                 and run it again",
                self.root.display(),
                free >> 10
            ),
            _ => message,
        }
    }

    /// Bytes free for this user on the file system holding the home.
    pub fn free_bytes(&self) -> Option<u64> {
        let at = if self.root.exists() {
            self.root.as_path()
        } else {
            self.root.parent()?
        };
        nix::sys::statvfs::statvfs(at)
            .ok()
            .map(|s| s.blocks_available().saturating_mul(s.fragment_size()))
    }
    pub fn config_file(&self) -> PathBuf {
        self.root.join("config.toml")
    }
    pub fn data_dir(&self) -> PathBuf {
        self.root.join("data")
    }
    pub fn store_file(&self) -> PathBuf {
        self.data_dir().join("sop.db")
    }
    pub fn generations_dir(&self) -> PathBuf {
        self.data_dir().join("generations")
    }
    /// Snapshots of imported sources (external contacts, directory sources).
    pub fn sources_dir(&self) -> PathBuf {
        self.data_dir().join("sources")
    }
    pub fn run_dir(&self) -> PathBuf {
        self.root.join("run")
    }
    pub fn socket(&self) -> PathBuf {
        self.run_dir().join("sop.sock")
    }
    pub fn pid_file(&self) -> PathBuf {
        self.run_dir().join("sop.pid")
    }
    pub fn log_dir(&self) -> PathBuf {
        self.root.join("log")
    }
    pub fn server_log(&self) -> PathBuf {
        self.log_dir().join("server.log")
    }
    pub fn access_log(&self) -> PathBuf {
        self.log_dir().join("access.log")
    }
    pub fn secrets_dir(&self) -> PathBuf {
        self.root.join("secrets")
    }

    /// A path from the config: relative paths are relative to the home.
    pub fn path(&self, configured: &Path) -> PathBuf {
        if configured.is_absolute() {
            configured.to_path_buf()
        } else {
            self.root.join(configured)
        }
    }

    /// Holds the home no node: its `config.toml` is not there. A home that cannot
    /// be read is not missing (what fails to read it says why).
    pub fn is_missing(&self) -> bool {
        matches!(
            fs::metadata(self.config_file()),
            Err(e) if e.kind() == io::ErrorKind::NotFound
        )
    }

    /// Creates the folders and, when missing, `config.toml` holding `template`.
    /// Returns true when the config was created (a new node). An existing config
    /// is never touched.
    pub fn ensure(&self, template: &str) -> io::Result<bool> {
        for (dir, mode) in [
            (self.root.clone(), 0o755),
            (self.data_dir(), 0o750),
            (self.generations_dir(), 0o750),
            (self.log_dir(), 0o750),
            (self.run_dir(), 0o700),
            (self.secrets_dir(), 0o700),
        ] {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(mode)
                .create(&dir)
                .map_err(|e| with_path(e, &dir))?;
        }
        let config = self.config_file();
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o640)
            .open(&config)
        {
            Ok(mut f) => {
                f.write_all(template.as_bytes())
                    .and_then(|()| f.sync_all())
                    .map_err(|e| with_path(e, &config))?;
                Ok(true)
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(with_path(e, &config)),
        }
    }
}

fn absolute(dir: &Path) -> io::Result<PathBuf> {
    if dir.is_absolute() {
        Ok(dir.to_path_buf())
    } else {
        Ok(std::env::current_dir()?.join(dir))
    }
}

/// An I/O error that says which file it was about.
pub fn with_path(e: io::Error, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn ensure_creates_config_once_and_keeps_the_admins() {
        const TEMPLATE: &str = "# the template\n";
        let dir = tempfile::tempdir().unwrap();
        let home = Home::new(dir.path().join("node"));
        assert!(home.ensure(TEMPLATE).unwrap());
        assert_eq!(fs::read_to_string(home.config_file()).unwrap(), TEMPLATE);
        fs::write(home.config_file(), "# mine\n").unwrap();
        assert!(!home.ensure(TEMPLATE).unwrap());
        assert_eq!(fs::read_to_string(home.config_file()).unwrap(), "# mine\n");
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(home.run_dir()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }

    #[test]
    fn relative_config_paths_are_under_home() {
        let home = Home::new("/srv/node");
        assert_eq!(
            home.path(Path::new("tls/cert.pem")),
            PathBuf::from("/srv/node/tls/cert.pem")
        );
        assert_eq!(
            home.path(Path::new("/etc/x.pem")),
            PathBuf::from("/etc/x.pem")
        );
    }
}
