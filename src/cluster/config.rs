//! `[cluster]` and its `[[cluster.nodes]]`: the other nodes this one pushes its
//! imported contacts to, and how ssh reaches them. Parsed here, at the edge: a
//! node entry with a missing, bad or unknown key is refused with the key, the value
//! and what is accepted.

use std::time::Duration;

/// `[cluster]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterConfig {
    pub nodes: Vec<NodeSpec>,
    /// Push every successful scheduled import to all nodes.
    pub push_after_import: bool,
    /// A received snapshot is merged at once (else at this node's merge cron).
    pub merge_on_receive: bool,
    /// Nodes pushed to at once.
    pub parallel: usize,
    /// How long ssh may take to connect.
    pub connect_timeout: Duration,
    /// How long a push or a status check may take in all.
    pub timeout: Duration,
    /// How long one ssh connection per node stays open for the next calls; zero:
    /// a new connection each time.
    pub share_connections: Duration,
}

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
}
