//! What a node says of itself when asked over ssh (`sop cluster state`, and the
//! answer of `sop cluster receive`): its version, whether its application server
//! runs and what it serves, its imported contacts, and whether its LDAP listener
//! answers a search.

use super::sync::SnapshotId;
use crate::config::Config;
use crate::control::{self, Reply, Request};
use crate::home::Home;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

/// How long the server and its LDAP listener get to answer.
const ASK_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeState {
    pub node: String,
    pub version: String,
    pub server_running: bool,
    /// The generation served (or current, when the server is stopped).
    pub generation: Option<u64>,
    /// Contacts served; None when the server is stopped.
    pub contacts: Option<usize>,
    /// Its imported contacts (external and directory sources) named as one
    /// (`external`); a node of an earlier version names its external ones.
    pub external: Option<SnapshotId>,
    pub ldap: LdapCheck,
    /// What went wrong while looking (a damaged snapshot...).
    pub problems: Vec<String>,
    /// Its other phone books (`[[phonebooks]]`) and their contacts served; empty
    /// from a node of an earlier version.
    #[serde(default)]
    pub phonebooks: Vec<(String, usize)>,
}

/// Whether the node's LDAP listener answered a search.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LdapCheck {
    /// The address searched, `host:port`.
    pub address: Option<String>,
    pub answered: bool,
    /// The result, or why there was none.
    pub message: String,
}

/// This node's imported contacts named as one, as a push from it names them
/// (`imported::identity`: its external contacts alone keep their snapshot's
/// own id); only what the files say of themselves is read (their contacts are
/// checked when they are merged). Err says why one is unreadable.
pub fn external(home: &Home, config: &Config) -> Result<Option<SnapshotId>, String> {
    super::imported::identity(home, config).map_err(|e| format!("{e:#}"))
}

/// This node's state.
pub async fn local(home: &Home, config: &Config) -> NodeState {
    let mut problems = Vec::new();
    let running = control::call(&home.socket(), &Request::Status, ASK_TIMEOUT).await;
    let mut phonebooks = Vec::new();
    let (server_running, generation, contacts, listen) = match running {
        Ok(Reply::Status(s)) => {
            phonebooks = s
                .phonebooks
                .iter()
                .map(|b| (b.name.clone(), b.contacts))
                .collect();
            (true, Some(s.generation), Some(s.contacts), s.listen)
        }
        Ok(_) => (true, None, None, Vec::new()),
        Err(control::CallError::NotRunning(_)) => (
            false,
            crate::store::generations::current_number(&home.generations_dir()),
            None,
            Vec::new(),
        ),
        Err(e) => {
            problems.push(e.to_string());
            (false, None, None, Vec::new())
        }
    };
    let (h, c) = (home.clone(), config.clone());
    let snap = tokio::task::spawn_blocking(move || external(&h, &c))
        .await
        .unwrap_or_else(|_| Err("reading the imported snapshots failed".to_string()));
    let external = snap.unwrap_or_else(|e| {
        problems.push(e);
        None
    });
    let ldap = match listen.first().and_then(|a| a.parse::<SocketAddr>().ok()) {
        Some(addr) => {
            let base = config.ldap.base_dn.clone();
            tokio::task::spawn_blocking(move || search(reachable(addr), &base))
                .await
                .unwrap_or_default()
        }
        None if server_running => LdapCheck {
            message: "no LDAP listener (the LDAP Server module is not installed)".to_string(),
            ..LdapCheck::default()
        },
        None => LdapCheck {
            message: "the application server is stopped".to_string(),
            ..LdapCheck::default()
        },
    };
    NodeState {
        node: config.node.name.clone(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        server_running,
        generation,
        contacts,
        external,
        ldap,
        problems,
        phonebooks,
    }
}

/// A listener on every address is searched on loopback.
fn reachable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => (Ipv4Addr::LOCALHOST, addr.port()).into(),
        IpAddr::V6(ip) if ip.is_unspecified() => (Ipv6Addr::LOCALHOST, addr.port()).into(),
        _ => addr,
    }
}

/// Searches the listener as a phone would: one entry under the base DN.
fn search(addr: SocketAddr, base_dn: &str) -> LdapCheck {
    let url = format!("ldap://{addr}");
    let attempt = || -> Result<String, ldap3::LdapError> {
        let settings = ldap3::LdapConnSettings::new().set_conn_timeout(ASK_TIMEOUT);
        let mut ldap = ldap3::LdapConn::with_settings(settings, &url)?;
        let result = ldap
            .with_timeout(ASK_TIMEOUT)
            .with_search_options(ldap3::SearchOptions::new().sizelimit(1))
            .search(
                base_dn,
                ldap3::Scope::Subtree,
                "(objectClass=*)",
                vec!["cn"],
            )?;
        let _ = ldap.unbind();
        Ok(format!(
            "a search answered (result code {}, {} entry)",
            result.1.rc,
            result.0.len()
        ))
    };
    match attempt() {
        Ok(message) => LdapCheck {
            address: Some(addr.to_string()),
            answered: true,
            message,
        },
        Err(e) => LdapCheck {
            address: Some(addr.to_string()),
            answered: false,
            message: format!("no answer to a search: {e}"),
        },
    }
}
