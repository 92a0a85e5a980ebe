//! The open-file limit: raised to the hard limit at start, and the share of it that
//! LDAP connections may take, so that they never leave the control socket, the
//! logs or a merge without a file descriptor.

use nix::sys::resource::{Resource, getrlimit, setrlimit};

/// File descriptors kept for everything but LDAP connections: the listeners, the
/// control socket and its clients, the logs, the store and generation files, and a
/// job's fetches and pushes.
pub const RESERVED: u64 = 64;

/// Raises the soft open-file limit to the hard limit. Returns the limit in force,
/// or `None` when it cannot be read.
pub fn raise() -> Option<u64> {
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).ok()?;
    // An unlimited hard limit still stops at the kernel's per-process maximum.
    let ceiling = std::fs::read_to_string("/proc/sys/fs/nr_open")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(1 << 20);
    let target = hard.min(ceiling);
    if soft >= target {
        return Some(soft);
    }
    match setrlimit(Resource::RLIMIT_NOFILE, target, hard) {
        Ok(()) => {
            tracing::info!("open-file limit raised from {soft} to {target}");
            Some(target)
        }
        Err(e) => {
            tracing::warn!("cannot raise the open-file limit from {soft} to {target}: {e}");
            Some(soft)
        }
    }
}

/// The soft open-file limit in force.
pub fn current() -> Option<u64> {
    getrlimit(Resource::RLIMIT_NOFILE)
        .ok()
        .map(|(soft, _)| soft)
}

/// The connections to allow: `configured`, or fewer when the open-file limit
/// `limit` has no room for them, with the warning to log then.
pub fn cap(configured: usize, limit: Option<u64>) -> (usize, Option<String>) {
    let Some(limit) = limit else {
        return (configured, None);
    };
    let room = usize::try_from(limit.saturating_sub(RESERVED))
        .unwrap_or(usize::MAX)
        .max(1);
    if configured <= room {
        return (configured, None);
    }
    let warning = format!(
        "[ldap.limits] max_connections = {configured} is more than the open-file limit \
         ({limit}, less {RESERVED} for the server itself) allows: at most {room} connections \
         are accepted; raise LimitNOFILE (systemd) or `ulimit -n` for more"
    );
    (room, Some(warning))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_are_capped_to_what_the_limit_leaves() {
        assert_eq!(cap(4096, Some(65536)), (4096, None));
        assert_eq!(cap(4096, None), (4096, None));
        let (n, warning) = cap(4096, Some(1024));
        assert_eq!(n, 1024 - RESERVED as usize);
        let warning = warning.unwrap_or_default();
        assert!(warning.contains("max_connections = 4096"), "{warning}");
        assert!(warning.contains("at most 960"), "{warning}");
        assert_eq!(cap(10, Some(3)).0, 1);
    }
}
