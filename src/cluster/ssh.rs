//! Running `sop` on a node with the system's `ssh` client, in batch mode: it
//! honours `~/.ssh/config`, `known_hosts` and the agent, never asks a question, and
//! opens no port of its own. A failure is told as what it is (unknown host key,
//! refused key, no route...) with the command that fixes it.

use super::config::NodeSpec;
use std::time::Duration;

/// The arguments of `ssh` that run `sop <verb...>` on `node`.
pub fn args(node: &NodeSpec, connect_timeout: Duration, verb: &[&str]) -> Vec<String> {
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
    a.push(node.host.clone());
    a.push(remote_command(node, verb));
    a
}

/// Runs `sop <verb...>` on `node`, with `input` on its standard input; returns its
/// standard output, or why it failed. Killed after `timeout`.
pub async fn run(
    node: &NodeSpec,
    connect_timeout: Duration,
    timeout: Duration,
    verb: &[&str],
    input: Option<std::sync::Arc<Vec<u8>>>,
) -> Result<Vec<u8>, Failure> {
    use tokio::io::AsyncWriteExt;
    // A node that refuses before reading closes the pipe: that must be an error
    // on the write (ignored; its message says why), not SIGPIPE ending this process.
    let _ = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::pipe());
    let spawned = tokio::process::Command::new("ssh")
        .args(args(node, connect_timeout, verb))
        .stdin(if input.is_some() {
            std::process::Stdio::piped()
        } else {
            std::process::Stdio::null()
        })
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn();
    let mut child = spawned.map_err(|e| Failure {
        message: format!("cannot run ssh: {e}"),
        fix: Some("apt-get install openssh-client".to_string()),
    })?;
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
        Ok(out.stdout)
    } else {
        Err(failure(
            node,
            out.status.code(),
            &String::from_utf8_lossy(&out.stderr),
        ))
    }
}

/// The command line the node's shell runs, each word quoted.
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
        .then(|| format!("ssh {} sop module install cluster", node.destination()));
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

    fn node() -> NodeSpec {
        let mut n = NodeSpec::new("b", "10.0.0.2");
        n.port = Some(2222);
        n.user = Some("sop".into());
        n.home = Some("/var/lib/sop b".into());
        n
    }

    #[test]
    fn arguments_quote_the_remote_command() {
        let a = args(&node(), Duration::from_secs(5), &["cluster", "receive"]);
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
