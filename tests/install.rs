//! `install.sh` as an admin runs it on a machine without systemd: install as root
//! into a prefix and a home of the test's own, install again (an upgrade that
//! keeps the admin's config), uninstall (the home stays), purge (asked first).
//! It adds and removes the system user `sop`, so it runs as root only.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

fn install(dir: &Path, args: &[&str]) -> Output {
    Command::new("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("install.sh"))
        .args(args)
        .env("PREFIX", dir.join("usr"))
        .env("SOP_HOME", dir.join("home"))
        .env("UNIT_DIR", dir.join("units"))
        .env("SOP_BIN", env!("CARGO_BIN_EXE_sop"))
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn install_upgrade_uninstall_and_purge_without_systemd() {
    if !nix_is_root() {
        eprintln!("install.sh needs root: not run");
        return;
    }
    let user_before = Command::new("id")
        .arg("sop")
        .output()
        .unwrap()
        .status
        .success();
    let dir = tempfile::tempdir().unwrap();
    // The sop user must reach its home through the test's folder.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let home = dir.path().join("home");
    let bin = dir.path().join("usr/bin/sop");

    let out = install(dir.path(), &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(bin.exists(), "{}", text(&out));
    assert!(text(&out).contains("runuser -u sop"), "{}", text(&out));
    let config = home.join("config.toml");
    assert!(config.exists(), "{}", text(&out));
    let owner = Command::new("stat")
        .args(["-c", "%U"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&owner.stdout).trim(), "sop");

    // Again, after the admin changed the config: an upgrade keeps it.
    let mut changed = std::fs::read_to_string(&config).unwrap();
    changed.push_str("\n# the admin's note\n");
    std::fs::write(&config, &changed).unwrap();
    let out = install(dir.path(), &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("keeping the existing"),
        "{}",
        text(&out)
    );
    assert_eq!(std::fs::read_to_string(&config).unwrap(), changed);

    let out = install(dir.path(), &["--uninstall"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!bin.exists());
    assert!(config.exists(), "the home stays");

    // A purge without a terminal and without --yes removes nothing.
    let out = install(dir.path(), &["--uninstall", "--purge"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("--yes"), "{}", text(&out));
    assert!(config.exists());
    if user_before {
        eprintln!("the sop user was there before: not purged");
        return;
    }
    let out = install(dir.path(), &["--uninstall", "--purge", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!home.exists());
    assert!(
        !Command::new("id")
            .arg("sop")
            .output()
            .unwrap()
            .status
            .success()
    );
}

fn nix_is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}
