//! A small file system (tmpfs) for a node's home, to fill up in tests.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A tmpfs of `size` mounted on a new temporary directory; unmounted when dropped.
pub struct Tmpfs {
    path: PathBuf,
}

/// Set to `1`, a test that cannot mount a tmpfs is skipped (and says so) instead
/// of failing.
pub const SKIP_MOUNT: &str = "SOP_TEST_SKIP_MOUNT";

impl Tmpfs {
    /// Where this user may not mount one, the test fails with the reason, or,
    /// with `SOP_TEST_SKIP_MOUNT=1`, it is skipped: None, with the reason printed.
    pub fn mount(size: &str) -> Option<(Tmpfs, tempfile::TempDir)> {
        let mounted = Tmpfs::try_mount(size);
        if let Err(why) = &mounted {
            let why = format!(
                "cannot mount a tmpfs here ({why}); the test needs root or a mount namespace (unshare -rm)"
            );
            if std::env::var(SKIP_MOUNT).as_deref() == Ok("1") {
                eprintln!("skipped, as {SKIP_MOUNT}=1 asks: {why}");
            } else {
                panic!("{why}; set {SKIP_MOUNT}=1 to skip this test instead");
            }
        }
        mounted.ok()
    }

    fn try_mount(size: &str) -> Result<(Tmpfs, tempfile::TempDir), String> {
        let dir = tempfile::Builder::new()
            .prefix("sop-full-")
            .tempdir()
            .unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .map_err(|e| format!("mount: {e}"))?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
        }
        let mount = Tmpfs {
            path: dir.path().to_path_buf(),
        };
        Ok((mount, dir))
    }

    /// Writes a file until the file system has `left` bytes free (about); returns
    /// its path.
    pub fn fill(&self, left: u64) -> PathBuf {
        let path = self.path.join("filler");
        let mut f = std::fs::File::create(&path).unwrap();
        let block = vec![0u8; 64 * 1024];
        while f.write_all(&block).is_ok() {}
        // What is left is smaller than a block: take that too.
        while f.write_all(&[0u8; 512]).is_ok() {}
        let size = f.metadata().unwrap().len();
        f.set_len(size.saturating_sub(left)).unwrap();
        path
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

/// Names of what is left over in a directory and its subdirectories: `*.tmp` files.
pub fn leftovers(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let path = e.path();
        if path.is_dir() {
            out.extend(leftovers(&path));
        } else if path.to_string_lossy().ends_with(".tmp") {
            out.push(path.display().to_string());
        }
    }
    out
}
