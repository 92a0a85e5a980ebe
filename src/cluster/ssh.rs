//! Running `sop` on a node with the system's `ssh` client, in batch mode: it
//! honours `~/.ssh/config`, `known_hosts` and the agent, never asks a question, and
//! opens no port of its own. A failure is told as what it is (unknown host key,
//! refused key, no route...) with the command that fixes it.

use super::config::NodeSpec;
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::time::Duration;

/// One connection per way of reaching a node, kept open `persist` after a call for
/// the next ones (OpenSSH's ControlMaster), with its socket in `dir`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    pub dir: PathBuf,
    pub persist: Duration,
}

impl Share {
    /// Sharing as `[cluster] share_connections` says, sockets in the home's `run/ssh`.
    pub fn of(home: &crate::home::Home, persist: Duration) -> Option<Share> {
        (!persist.is_zero()).then(|| Share {
            dir: home.run_dir().join("ssh"),
            persist,
        })
    }

    /// The socket for a way of reaching a node: the same host, port, user, key and
    /// options share one. None when the path cannot be a socket's or an option's.
    fn socket(&self, args: &[String], host: &str) -> Option<String> {
        let mut h = Sha256::new();
        for a in args {
            h.update(a.as_bytes());
            h.update([0]);
        }
        h.update(host.as_bytes());
        let name: String = h.finalize()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let path = self.dir.join(name);
        let text = path.to_str()?;
        // A Unix socket's path has at most 107 bytes; ssh expands `%` and splits on blanks.
        let plain = !text.contains(|c: char| c == '%' || c == '"' || c.is_whitespace());
        (plain && text.len() < 100).then(|| text.to_string())
    }
}

/// The arguments of `ssh` that run `sop <verb...>` on `node`.
pub fn args(
    node: &NodeSpec,
    connect_timeout: Duration,
    share: Option<&Share>,
    verb: &[&str],
) -> Vec<String> {
    let mut a = reach(node, connect_timeout);
    if let Some((share, socket)) = share.and_then(|s| Some((s, s.socket(&a, &node.host)?))) {
        a.extend([
            "-o".to_string(),
            "ControlMaster=auto".to_string(),
            "-o".to_string(),
            format!("ControlPath={socket}"),
            "-o".to_string(),
            format!("ControlPersist={}s", share.persist.as_secs().max(1)),
        ]);
    }
    a.push(node.host.clone());
    a.push(remote_command(node, verb));
    a
}

/// The arguments that say how to reach `node`, before the host.
fn reach(node: &NodeSpec, connect_timeout: Duration) -> Vec<String> {
    let mut a: Vec<String> = [
        "-T",
        "-o",
        "BatchMode=yes",
        "-o",
        &format!("ConnectTimeout={}", connect_timeout.as_secs().max(1)),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if let Some(port) = node.port {
        a.extend(["-p".to_string(), port.to_string()]);
    }
    if let Some(user) = &node.user {
        a.extend(["-l".to_string(), user.clone()]);
    }
    if let Some(identity) = &node.identity_file {
        a.extend(["-i".to_string(), identity.clone()]);
    }
    a.extend(node.ssh_options.iter().cloned());
    a
}

/// Calls that would share a connection not open yet wait for the first of them to
/// open it, instead of each opening one of its own at the same moment (ten nodes
/// reached the same way would cost ten handshakes, and sshd drops unauthenticated
/// connections beyond `MaxStartups`). One lock per socket, for this process.
async fn opening(socket: &str) -> Option<tokio::sync::OwnedMutexGuard<()>> {
    use std::collections::HashMap;
    use std::sync::{Arc, LazyLock, Mutex};
    static OPENING: LazyLock<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>> =
        LazyLock::new(Mutex::default);
    if std::path::Path::new(socket).exists() {
        return None;
    }
    let lock = OPENING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .entry(socket.to_string())
        .or_default()
        .clone();
    match lock.clone().try_lock_owned() {
        // The first: it opens the connection, and holds the others until it is
        // open (`opened`).
        Ok(guard) => Some(guard),
        // Another call is opening it: wait for that one, then go together. When it
        // failed, each goes its own way: a dead node is not tried once per call in turn.
        Err(_) => {
            drop(lock.lock().await);
            None
        }
    }
}

/// Waits until the shared connection `socket` that `child` opens is there (or
/// `child` ended, or did not open it within `within`): the calls waiting for it
/// then go through it, while `child` runs on.
async fn opened(socket: &str, child: &mut tokio::process::Child, within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    while !std::path::Path::new(socket).exists()
        && matches!(child.try_wait(), Ok(None))
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Runs `sop <verb...>` on `node`, with `input` on its standard input; returns its
/// standard output, or why it failed. Killed after `timeout`. With `share`, through
/// the node's shared connection (ssh itself opens one of its own when that
/// connection refuses one more session, as sshd's `MaxSessions` may).
pub async fn run(
    node: &NodeSpec,
    connect_timeout: Duration,
    timeout: Duration,
    share: Option<&Share>,
    verb: &[&str],
    input: Option<std::sync::Arc<Vec<u8>>>,
) -> Result<Vec<u8>, Failure> {
    use tokio::io::AsyncWriteExt;
    let share = share.filter(|s| {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&s.dir)
            .is_ok()
    });
    // A node that refuses before reading closes the pipe: that must be an error
    // on the write (ignored; its message says why), not SIGPIPE ending this process.
    let _ = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::pipe());
    // The connection kept open for the next calls runs in the background and, with
    // some OpenSSH versions, keeps its standard error: a file, not a pipe read to its end.
    let errors = match share {
        Some(_) => Some(tempfile::tempfile().map_err(|e| Failure {
            message: format!("cannot make a temporary file for ssh's messages: {e}"),
            fix: None,
        })?),
        None => None,
    };
    let stderr = match &errors {
        Some(f) => std::process::Stdio::from(f.try_clone().map_err(|e| Failure {
            message: format!("cannot use a temporary file for ssh's messages: {e}"),
            fix: None,
        })?),
        None => std::process::Stdio::piped(),
    };
    let socket = share.and_then(|s| s.socket(&reach(node, connect_timeout), &node.host));
    let opening = match &socket {
        Some(socket) => opening(socket).await,
        None => None,
    };
    let spawned = tokio::process::Command::new("ssh")
        .args(args(node, connect_timeout, share, verb))
        .stdin(if input.is_some() {
            std::process::Stdio::piped()
        } else {
            std::process::Stdio::null()
        })
        .stdout(std::process::Stdio::piped())
        .stderr(stderr)
        .kill_on_drop(true)
        .spawn();
    let mut child = spawned.map_err(|e| Failure {
        message: format!("cannot run ssh: {e}"),
        fix: Some("apt-get install openssh-client".to_string()),
    })?;
    if let (Some(guard), Some(socket)) = (opening, &socket) {
        // The connection is open once authenticated, which `ConnectTimeout` does
        // not bound: the others wait as long as this call may take.
        opened(socket, &mut child, timeout).await;
        drop(guard);
    }
    let writer = match (input, child.stdin.take()) {
        (Some(bytes), Some(mut stdin)) => Some(tokio::spawn(async move {
            // A node that refuses early closes the pipe: its own message says why.
            let _ = stdin.write_all(&bytes).await;
            let _ = stdin.shutdown().await;
        })),
        _ => None,
    };
    let out = match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(Ok(out)) => out,
        Ok(Err(e)) => {
            return Err(Failure {
                message: format!("ssh to {} failed: {e}", node.host),
                fix: None,
            });
        }
        Err(_) => {
            return Err(Failure {
                message: format!(
                    "{} did not finish within {} s ([cluster] timeout)",
                    node.name,
                    timeout.as_secs()
                ),
                fix: None,
            });
        }
    };
    if let Some(w) = writer {
        let _ = w.await;
    }
    if out.status.success() {
        return Ok(out.stdout);
    }
    let stderr = match errors {
        Some(mut f) => {
            use std::io::{Read, Seek};
            let mut text = String::new();
            let _ = f.rewind().and_then(|()| f.read_to_string(&mut text));
            text
        }
        None => String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    Err(failure(node, out.status.code(), &stderr))
}

/// The command line the node's shell runs, each word quoted.
/// The command an admin pastes to run `sop <verb...>` on `node` by hand: ssh with
/// the node's port, user, identity and options, and `sop_path --home HOME` there.
pub fn command_line(node: &NodeSpec, verb: &[&str]) -> String {
    let mut words = vec!["ssh".to_string()];
    if let Some(port) = node.port {
        words.extend(["-p".to_string(), port.to_string()]);
    }
    if let Some(identity) = &node.identity_file {
        words.extend(["-i".to_string(), quote(identity)]);
    }
    words.extend(node.ssh_options.iter().map(|o| quote(o)));
    words.push(quote(&node.destination()));
    words.push(quote(&remote_command(node, verb)));
    words.join(" ")
}

fn remote_command(node: &NodeSpec, verb: &[&str]) -> String {
    let mut words = vec![quote(&node.sop_path)];
    if let Some(home) = &node.home {
        words.push("--home".to_string());
        words.push(quote(home));
    }
    words.extend(verb.iter().map(|w| quote(w)));
    words.join(" ")
}

/// Quotes a word for a POSIX shell.
fn quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-=+:,@%".contains(&b))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Why running `sop` on a node failed, and what fixes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub message: String,
    /// The command that fixes it, when there is one.
    pub fix: Option<String>,
}

/// Reads a failed run: ssh's exit code 255 is ssh's own failure; another code is
/// `sop`'s (or the node's shell's) on the node.
pub fn failure(node: &NodeSpec, code: Option<i32>, stderr: &str) -> Failure {
    let text = stderr.trim();
    let last = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_string();
    let has = |s: &str| text.contains(s);
    let port = node.port.map(|p| format!(" -p {p}")).unwrap_or_default();
    let fail = |message: String, fix: Option<String>| Failure { message, fix };
    if code == Some(255) || code.is_none() && text.is_empty() {
        if has("REMOTE HOST IDENTIFICATION HAS CHANGED") {
            return fail(
                format!(
                    "the host key of {} has CHANGED since it was recorded in known_hosts (a reinstalled node, or someone in between)",
                    node.host
                ),
                Some(format!(
                    "ssh-keygen -R {}  # then, after checking the new key's fingerprint: ssh-keyscan{port} {} >> ~/.ssh/known_hosts",
                    known_hosts_name(node),
                    node.host
                )),
            );
        }
        if has("Host key verification failed")
            || has("No ED25519 host key is known")
            || has("host key is known for")
        {
            return fail(
                format!(
                    "the host key of {} is not known (not in known_hosts)",
                    node.host
                ),
                Some(format!(
                    "ssh-keyscan{port} {} >> ~/.ssh/known_hosts  # check the fingerprint with the node's admin first",
                    node.host
                )),
            );
        }
        if has("Permission denied") {
            let identity = node
                .identity_file
                .as_ref()
                .map(|i| format!(" -i {i}"))
                .unwrap_or_default();
            return fail(
                format!("{} refused the key (Permission denied)", node.destination()),
                Some(format!(
                    "ssh-copy-id{identity}{port} {}",
                    node.destination()
                )),
            );
        }
        if has("Connection refused") {
            return fail(
                format!(
                    "{}: connection refused (is sshd running on the node?)",
                    node.host
                ),
                None,
            );
        }
        if has("Could not resolve hostname") {
            return fail(format!("{}: no such host name", node.host), None);
        }
        if has("timed out") || has("No route to host") || has("Network is unreachable") {
            return fail(format!("{}: no answer ({last})", node.host), None);
        }
        return fail(format!("ssh to {} failed: {last}", node.host), None);
    }
    if code == Some(127)
        || has("command not found")
        || has("No such file or directory") && has(&node.sop_path)
    {
        return fail(
            format!(
                "sop is not found on {} at {:?} ({last})",
                node.name, node.sop_path
            ),
            Some(format!(
                "sop cluster add {} {} --sop-path /path/to/sop",
                node.name, node.host
            )),
        );
    }
    let message = if last.is_empty() {
        format!(
            "sop on {} failed with exit code {}",
            node.name,
            code.unwrap_or(-1)
        )
    } else {
        last.trim_start_matches("sop: ").to_string()
    };
    let fix = (message.contains("sop module install cluster"))
        .then(|| command_line(node, &["module", "install", "cluster"]));
    fail(message, fix)
}

/// How known_hosts names the host (`[host]:port` for another port than 22).
fn known_hosts_name(node: &NodeSpec) -> String {
    match node.port {
        Some(p) if p != 22 => format!("'[{}]:{p}'", node.host),
        _ => node.host.clone(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The first call through a connection lets the others go once it is open,
    /// not once that call is done: pushes to nodes reached the same way run side
    /// by side.
    #[tokio::test]
    async fn the_others_go_once_the_shared_connection_is_open() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("shared");
        let mut first = tokio::process::Command::new("sleep")
            .arg("60")
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let path = socket.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            std::fs::write(&path, b"").unwrap();
        });
        let waited = std::time::Instant::now();
        opened(
            socket.to_str().unwrap(),
            &mut first,
            Duration::from_secs(30),
        )
        .await;
        assert!(socket.exists());
        assert!(
            matches!(first.try_wait(), Ok(None)),
            "the first call runs on"
        );
        assert!(waited.elapsed() < Duration::from_secs(30), "{waited:?}");
        // A call that ends without opening it lets the others go when it ends.
        let mut failed = tokio::process::Command::new("false").spawn().unwrap();
        let never = dir.path().join("never");
        opened(
            never.to_str().unwrap(),
            &mut failed,
            Duration::from_secs(30),
        )
        .await;
        assert!(matches!(failed.try_wait(), Ok(Some(_))));
    }

    fn node() -> NodeSpec {
        let mut n = NodeSpec::new("b", "10.0.0.2");
        n.port = Some(2222);
        n.user = Some("sop".into());
        n.home = Some("/var/lib/sop b".into());
        n
    }

    #[test]
    fn one_connection_is_shared_per_way_of_reaching_a_node() {
        let share = Share {
            dir: "/var/lib/sop/run/ssh".into(),
            persist: Duration::from_secs(60),
        };
        let path = |n: &NodeSpec| {
            let a = args(
                n,
                Duration::from_secs(5),
                Some(&share),
                &["cluster", "state"],
            );
            assert!(a.contains(&"ControlMaster=auto".to_string()), "{a:?}");
            assert!(a.contains(&"ControlPersist=60s".to_string()), "{a:?}");
            a.into_iter()
                .find_map(|o| o.strip_prefix("ControlPath=").map(str::to_string))
                .unwrap()
        };
        let b = node();
        // Another home on the same node, through the same ssh: the same connection.
        let mut other_home = node();
        other_home.name = "b2".into();
        other_home.home = Some("/srv/sop".into());
        assert_eq!(path(&b), path(&other_home));
        // Another key: a connection of its own.
        let mut other_key = node();
        other_key.identity_file = Some("/root/.ssh/other".into());
        assert_ne!(path(&b), path(&other_key));
        assert!(path(&b).starts_with("/var/lib/sop/run/ssh/"));
        // Without sharing, or where the socket's path cannot be used: no ControlMaster.
        let plain = args(&b, Duration::from_secs(5), None, &["cluster", "state"]);
        assert!(!plain.iter().any(|o| o.starts_with("Control")), "{plain:?}");
        for dir in ["/tmp/a b", "/tmp/100%", &"/long".repeat(30)] {
            let odd = Share {
                dir: dir.into(),
                persist: Duration::from_secs(60),
            };
            let a = args(
                &b,
                Duration::from_secs(5),
                Some(&odd),
                &["cluster", "state"],
            );
            assert!(!a.iter().any(|o| o.starts_with("Control")), "{dir}: {a:?}");
        }
    }

    #[test]
    fn arguments_quote_the_remote_command() {
        let a = args(
            &node(),
            Duration::from_secs(5),
            None,
            &["cluster", "receive"],
        );
        assert_eq!(
            a[..5],
            ["-T", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5"]
        );
        assert!(a.windows(2).any(|w| w == ["-p", "2222"]));
        assert_eq!(a[a.len() - 2], "10.0.0.2");
        assert_eq!(
            a[a.len() - 1],
            "sop --home '/var/lib/sop b' cluster receive"
        );
        assert_eq!(quote("it's"), "'it'\\''s'");
    }

    /// The fix hint is a command that works when pasted in a shell: run through
    /// `sh -c`, its words are ssh's arguments, the last the remote command whole.
    #[test]
    fn a_hint_names_port_identity_sop_path_and_home() {
        let mut n = node();
        n.identity_file = Some("/root/.ssh/cluster key".into());
        n.sop_path = "/opt/sop/bin/sop".into();
        let line = command_line(&n, &["server", "start"]);
        assert_eq!(
            line,
            "ssh -p 2222 -i '/root/.ssh/cluster key' sop@10.0.0.2 \
             '/opt/sop/bin/sop --home '\\''/var/lib/sop b'\\'' server start'"
        );
        let out = std::process::Command::new("sh")
            .args(["-c", &format!("printf '%s\\n' {}", &line[4..])])
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "-p\n2222\n-i\n/root/.ssh/cluster key\nsop@10.0.0.2\n\
             /opt/sop/bin/sop --home '/var/lib/sop b' server start\n"
        );
    }

    #[test]
    fn failures_say_what_fixes_them() {
        let f = failure(
            &node(),
            Some(255),
            "No ED25519 host key is known for [10.0.0.2]:2222 and you have requested strict checking.\r\nHost key verification failed.\r\n",
        );
        assert!(f.message.contains("not known"), "{f:?}");
        assert_eq!(
            f.fix.unwrap(),
            "ssh-keyscan -p 2222 10.0.0.2 >> ~/.ssh/known_hosts  # check the fingerprint with the node's admin first"
        );
        let f = failure(
            &node(),
            Some(255),
            "sop@10.0.0.2: Permission denied (publickey).\n",
        );
        assert_eq!(f.fix.unwrap(), "ssh-copy-id -p 2222 sop@10.0.0.2");
        let f = failure(
            &node(),
            Some(255),
            "ssh: connect to host 10.0.0.2 port 2222: Connection refused\n",
        );
        assert!(f.message.contains("connection refused"), "{f:?}");
        let f = failure(&node(), Some(127), "sh: 1: sop: not found\n");
        assert!(f.message.contains("sop is not found"), "{f:?}");
        let f = failure(
            &node(),
            Some(1),
            "sop: the snapshot is damaged in transit (x); nothing was stored\n",
        );
        assert_eq!(
            f.message,
            "the snapshot is damaged in transit (x); nothing was stored"
        );
    }
}
