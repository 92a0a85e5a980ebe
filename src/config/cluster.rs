//! `[cluster]` and its `[[cluster.nodes]]`: the other nodes this one pushes its
//! imported contacts to, and how ssh reaches them. Parsed here, at the edge: a
//! node entry with a missing, bad or unknown key is refused with the key, the value
//! and what is accepted.

use std::time::Duration;

/// `[cluster]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterConfig {
    pub nodes: Vec<NodeSpec>,
    /// Push every import that changed the external contacts to all nodes.
    pub push_after_import: bool,
    /// A received snapshot is merged at once (else at this node's merge cron).
    pub merge_on_receive: bool,
    /// Nodes pushed to at once.
    pub parallel: usize,
    /// A failed node is retried by the running server after this, doubling up to
    /// [`MAX_RETRY`]; zero: only by hand.
    pub retry: Duration,
    /// How long ssh may take to connect.
    pub connect_timeout: Duration,
    /// How long a push or a status check may take in all.
    pub timeout: Duration,
    /// How long one ssh connection per node stays open for the next calls; zero:
    /// a new connection each time.
    pub share_connections: Duration,
}

/// The longest wait between two retries of a failed node.
pub const MAX_RETRY: Duration = Duration::from_secs(15 * 60);

impl ClusterConfig {
    pub fn node(&self, name: &str) -> Option<&NodeSpec> {
        self.nodes.iter().find(|n| n.name == name)
    }
}

/// One `[[cluster.nodes]]` entry: how to run `sop` on another node over ssh.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NodeSpec {
    pub name: String,
    /// A name or address for ssh (`~/.ssh/config` host aliases work).
    pub host: String,
    /// None: as `~/.ssh/config` says, else 22.
    pub port: Option<u16>,
    /// None: as `~/.ssh/config` says, else the local user.
    pub user: Option<String>,
    /// None: ssh's own keys and agent.
    pub identity_file: Option<String>,
    /// The `sop` binary on the node.
    pub sop_path: String,
    /// The node's home; None: the node's default home.
    pub home: Option<String>,
    /// More arguments for ssh, before the host.
    pub ssh_options: Vec<String>,
}

impl NodeSpec {
    /// A node with the defaults for everything but its name and host.
    pub fn new(name: &str, host: &str) -> NodeSpec {
        NodeSpec {
            name: name.to_string(),
            host: host.to_string(),
            port: None,
            user: None,
            identity_file: None,
            sop_path: "sop".to_string(),
            home: None,
            ssh_options: Vec::new(),
        }
    }

    /// `user@host` as ssh-copy-id and the messages show it.
    pub fn destination(&self) -> String {
        match &self.user {
            Some(u) => format!("{u}@{}", self.host),
            None => self.host.clone(),
        }
    }
}

/// The keys of a node entry.
pub const NODE_KEYS: &str = "name, host, port, user, identity_file, sop_path, home, ssh_options";

/// A refused value: the key (as `[[cluster.nodes]] host`), the value, what is accepted.
pub type Refused = (String, String, String);

fn refused(index: usize, key: &str, value: impl ToString, accepted: &str) -> Refused {
    (
        format!("[[cluster.nodes]] #{} {key}", index + 1),
        value.to_string(),
        accepted.to_string(),
    )
}

/// Whether `s` is a node name: letters, digits, `.`, `_`, `-`.
pub fn check_name(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 64
        && !s.starts_with('-')
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(
            "a name of letters, digits, '.', '_' and '-' (at most 64), not starting with '-'"
                .into(),
        )
    }
}

/// Whether `s` is a host ssh can be given safely: no space, not an option.
pub fn check_host(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && !s.starts_with('-')
        && !s.contains('@')
        && s.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(())
    } else {
        Err("a host name or address, such as \"sop2.example.net\" or \"192.0.2.11\" (the user goes in user)".into())
    }
}

/// ssh's options that take a value (from its getopt string): the value is the
/// rest of the argument, or the next one.
const SSH_OPTIONS_WITH_VALUE: &str = "bceilmopBDEFIJLOPQRSwW";

/// The options in a node's `ssh_options` that make ssh run a command on this
/// machine, as ssh reads them (`-o Key=value`, `-oKey value`, `-vo Key=value`, any
/// case): `ProxyCommand` (not `none`), `LocalCommand`, `PermitLocalCommand=yes`,
/// `KnownHostsCommand` (not `none`). Named as ssh's documentation spells them.
pub fn local_commands(ssh_options: &[String]) -> Vec<&'static str> {
    let mut found = Vec::new();
    let mut args = ssh_options.iter();
    while let Some(arg) = args.next() {
        let Some(flags) = arg.strip_prefix('-') else {
            continue;
        };
        if flags.starts_with('-') {
            // `--` ends ssh's options.
            if flags == "-" {
                break;
            }
            continue;
        }
        let Some((at, flag)) = flags
            .char_indices()
            .find(|(_, c)| SSH_OPTIONS_WITH_VALUE.contains(*c))
        else {
            continue;
        };
        let rest = &flags[at + flag.len_utf8()..];
        let value = if rest.is_empty() {
            args.next().map(String::as_str)
        } else {
            Some(rest)
        };
        if let (Some(option), 'o') = (value.and_then(local_command), flag) {
            if !found.contains(&option) {
                found.push(option);
            }
        }
    }
    found
}

/// Whether one `-o` option (`Key=value`, `Key value`, `Key = value`) runs a local
/// command; its name if so.
fn local_command(option: &str) -> Option<&'static str> {
    let option = option.trim();
    let end = option
        .find(|c: char| c == '=' || c.is_whitespace())
        .unwrap_or(option.len());
    let (key, value) = option.split_at(end);
    let value = value.trim().trim_start_matches('=').trim();
    let none = value.eq_ignore_ascii_case("none");
    match key.to_ascii_lowercase().as_str() {
        "proxycommand" if !none => Some("ProxyCommand"),
        "knownhostscommand" if !none => Some("KnownHostsCommand"),
        "localcommand" => Some("LocalCommand"),
        "permitlocalcommand"
            if value.eq_ignore_ascii_case("yes") || value.eq_ignore_ascii_case("true") =>
        {
            Some("PermitLocalCommand=yes")
        }
        _ => None,
    }
}

/// What `sop config check` says of a node whose `ssh_options` run a local command.
pub fn local_command_warnings(node: &NodeSpec) -> Vec<String> {
    local_commands(&node.ssh_options)
        .into_iter()
        .map(|option| {
            let instead = if option == "ProxyCommand" {
                "for a jump host, ProxyJump (\"-o\", \"ProxyJump=bastion\") needs no command"
            } else {
                "remove it unless the command is meant to run"
            };
            format!(
                "[[cluster.nodes]] {}: ssh_options set {option}, which runs a command on this machine, as the user running sop, each time sop reaches the node over ssh; {instead}",
                node.name
            )
        })
        .collect()
}

/// Parses the `nodes` array.
pub fn nodes(value: Option<&toml::Value>) -> Result<Vec<NodeSpec>, Refused> {
    let items = match value {
        None => return Ok(Vec::new()),
        Some(toml::Value::Array(items)) => items,
        Some(other) => {
            return Err((
                "[cluster] nodes".to_string(),
                other.to_string(),
                "[[cluster.nodes]] tables (sop cluster add)".to_string(),
            ));
        }
    };
    let mut out: Vec<NodeSpec> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let Some(table) = item.as_table() else {
            return Err(refused(i, "", item, "a [[cluster.nodes]] table"));
        };
        let node = node(i, table)?;
        if out.iter().any(|n| n.name == node.name) {
            return Err(refused(i, "name", &node.name, "a name no other node has"));
        }
        out.push(node);
    }
    Ok(out)
}

fn node(i: usize, t: &toml::Table) -> Result<NodeSpec, Refused> {
    if let Some(k) = t
        .keys()
        .find(|k| !NODE_KEYS.split(", ").any(|n| n == k.as_str()))
    {
        let value = t.get(k).map(ToString::to_string).unwrap_or_default();
        return Err(refused(
            i,
            k,
            value,
            &format!("a known key (a typo?): {NODE_KEYS}"),
        ));
    }
    let string = |key: &str, required: bool| -> Result<Option<String>, Refused> {
        match t.get(key) {
            None if required => Err(refused(i, key, "(missing)", "a string in double quotes")),
            None => Ok(None),
            Some(toml::Value::String(s)) if s.trim().is_empty() && required => {
                Err(refused(i, key, "\"\"", "a non-empty string"))
            }
            Some(toml::Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s.trim().to_string())),
            Some(v) => Err(refused(i, key, v, "a string in double quotes")),
        }
    };
    let name = string("name", true)?.unwrap_or_default();
    check_name(&name).map_err(|why| refused(i, "name", format!("{name:?}"), &why))?;
    let host = string("host", true)?.unwrap_or_default();
    check_host(&host).map_err(|why| refused(i, "host", format!("{host:?}"), &why))?;
    let port = match t.get("port") {
        None => None,
        Some(toml::Value::Integer(p)) if (1..=65535).contains(p) => Some(*p as u16),
        Some(v) => return Err(refused(i, "port", v, "a port from 1 to 65535")),
    };
    let user = string("user", false)?;
    if let Some(u) = &user {
        if u.starts_with('-') || u.contains('@') || u.contains(char::is_whitespace) {
            return Err(refused(i, "user", format!("{u:?}"), "a user name"));
        }
    }
    let ssh_options = match t.get("ssh_options") {
        None => Vec::new(),
        Some(toml::Value::Array(a)) if a.iter().all(toml::Value::is_str) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        Some(v) => {
            return Err(refused(
                i,
                "ssh_options",
                v,
                "a list of strings such as [\"-o\", \"ProxyJump=bastion\"]",
            ));
        }
    };
    Ok(NodeSpec {
        name,
        host,
        port,
        user,
        identity_file: string("identity_file", false)?,
        sop_path: string("sop_path", false)?.unwrap_or_else(|| "sop".to_string()),
        home: string("home", false)?,
        ssh_options,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<NodeSpec>, Refused> {
        let t: toml::Table = text.parse().unwrap();
        nodes(t.get("nodes"))
    }

    #[test]
    fn nodes_take_defaults_and_refuse_bad_keys() {
        let n = parse("[[nodes]]\nname = \"b\"\nhost = \"h\"\n").unwrap();
        assert_eq!(n, vec![NodeSpec::new("b", "h")]);
        let n = parse("[[nodes]]\nname = \"b\"\nhost = \"h\"\nport = 2222\nuser = \"sop\"\nssh_options = [\"-o\", \"A=b\"]\n").unwrap();
        assert_eq!(n[0].port, Some(2222));
        assert_eq!(n[0].destination(), "sop@h");
        let e = parse("[[nodes]]\nname = \"b\"\n").unwrap_err();
        assert_eq!(e.0, "[[cluster.nodes]] #1 host");
        let e = parse("[[nodes]]\nname = \"b\"\nhost = \"-oProxyCommand=x\"\n").unwrap_err();
        assert_eq!(e.0, "[[cluster.nodes]] #1 host");
        let e = parse("[[nodes]]\nname = \"b\"\nhost = \"h\"\nprot = 22\n").unwrap_err();
        assert!(e.2.contains("port"), "{e:?}");
        let e = parse("[[nodes]]\nname = \"b\"\nhost = \"h\"\nport = 0\n").unwrap_err();
        assert_eq!(e.1, "0");
        let e =
            parse("[[nodes]]\nname = \"b\"\nhost = \"h\"\n[[nodes]]\nname = \"b\"\nhost = \"i\"\n")
                .unwrap_err();
        assert_eq!(e.0, "[[cluster.nodes]] #2 name");
    }

    #[test]
    fn options_that_run_a_local_command_are_found_in_every_form() {
        let found =
            |args: &[&str]| local_commands(&args.iter().map(|a| a.to_string()).collect::<Vec<_>>());
        assert_eq!(found(&["-o", "ProxyCommand=nc %h %p"]), ["ProxyCommand"]);
        assert_eq!(found(&["-oproxycommand ssh -W %h:%p b"]), ["ProxyCommand"]);
        assert_eq!(found(&["-vo", "PROXYCOMMAND = nc %h %p"]), ["ProxyCommand"]);
        assert_eq!(found(&["-4voProxyCommand=x"]), ["ProxyCommand"]);
        assert_eq!(
            found(&[
                "-o",
                "PermitLocalCommand=yes",
                "-o",
                "LocalCommand=touch /tmp/x"
            ]),
            ["PermitLocalCommand=yes", "LocalCommand"]
        );
        assert_eq!(
            found(&["-oPermitLocalCommand true"]),
            ["PermitLocalCommand=yes"]
        );
        assert_eq!(
            found(&["-o", "KnownHostsCommand=/bin/x %H"]),
            ["KnownHostsCommand"]
        );
        assert_eq!(
            found(&["-o", "ProxyCommand=a", "-o", "ProxyCommand=b"]),
            ["ProxyCommand"]
        );
        // What runs nothing.
        for args in [
            &["-o", "ProxyJump=bastion"][..],
            &["-J", "bastion"],
            &["-o", "ProxyCommand=none"],
            &["-o", "PermitLocalCommand=no"],
            &["-o", "StrictHostKeyChecking=yes"],
            // The value of another option, or no option at all.
            &["-l", "-oProxyCommand=x"],
            &["-F", "-oProxyCommand=x"],
            &["ProxyCommand=x"],
            &["--", "-oProxyCommand=x"],
            &["-o"],
        ] {
            assert!(found(args).is_empty(), "{args:?}");
        }
        let mut node = NodeSpec::new("sop2", "h");
        node.ssh_options = vec!["-o".into(), "ProxyCommand=nc %h %p".into()];
        let w = local_command_warnings(&node);
        assert_eq!(w.len(), 1);
        assert!(
            w[0].contains("sop2") && w[0].contains("ProxyCommand") && w[0].contains("ProxyJump"),
            "{w:?}"
        );
    }
}
