//! The settings to give each vendor's phones for this node: server, port, base DN,
//! bind, TLS, filters and attributes, in the vendor's provisioning syntax.

use super::{POLYCOM_PREFIX, PRESETS, Preset, Syntax};
use crate::config::phonebooks::PhonebookSettings;
use crate::config::{BindPolicy, Config};
use crate::home::Home;
use std::net::{IpAddr, SocketAddr};

/// What phones need to know of this node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The address phones reach the node at.
    pub host: String,
    /// The plain LDAP port, if the node listens for it.
    pub port: Option<u16>,
    pub ldaps_port: Option<u16>,
    pub starttls: bool,
    pub tls_required: bool,
    pub base_dn: String,
    /// The DN phones bind with, when the node asks for credentials.
    pub bind_dn: Option<String>,
    /// Where that DN's password is kept on the node.
    pub password_file: Option<String>,
}

impl Node {
    pub fn from_config(config: &Config, home: &Home) -> Node {
        let ldap = &config.ldap;
        let first = ldap
            .listen
            .first()
            .or(ldap.tls.ldaps_listen.first())
            .copied();
        let credentials = ldap.bind == BindPolicy::Credentials;
        Node {
            host: first.map_or_else(|| "127.0.0.1".to_string(), advertised_host),
            port: ldap.listen.first().map(SocketAddr::port),
            ldaps_port: ldap.tls.ldaps_listen.first().map(SocketAddr::port),
            starttls: ldap.tls.starttls,
            tls_required: ldap.tls.required,
            base_dn: ldap.base_dn.clone(),
            bind_dn: credentials.then(|| ldap.bind_dn.clone()),
            password_file: credentials
                .then(|| home.path(&ldap.bind_password_file).display().to_string()),
        }
    }

    /// The settings for the phones of one of the other phone books
    /// (`[[phonebooks]]`): its base DN, and its own bind DN when it has one.
    pub fn for_phonebook(mut self, book: &PhonebookSettings, home: &Home) -> Node {
        self.base_dn = book.base_dn.clone();
        if !book.bind_dn.is_empty() {
            self.bind_dn = Some(book.bind_dn.clone());
            self.password_file = Some(home.path(&book.password_file).display().to_string());
        }
        self
    }
}

/// The address to give phones for a listener: itself, or for a wildcard one the
/// address this machine reaches its network from (no packet is sent), or its name.
pub fn advertised_host(addr: SocketAddr) -> String {
    let ip = addr.ip();
    if !ip.is_unspecified() {
        return ip.to_string();
    }
    let probe = || -> std::io::Result<IpAddr> {
        let (bind, target) = if ip.is_ipv4() {
            ("0.0.0.0:0", "192.0.2.1:9")
        } else {
            ("[::]:0", "[2001:db8::1]:9")
        };
        let socket = std::net::UdpSocket::bind(bind)?;
        socket.connect(target)?;
        Ok(socket.local_addr()?.ip())
    };
    match probe() {
        Ok(ip) if !ip.is_unspecified() => ip.to_string(),
        _ => nix::unistd::gethostname()
            .ok()
            .and_then(|h| h.into_string().ok())
            .unwrap_or_else(|| "127.0.0.1".to_string()),
    }
}

/// How a phone reaches the node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Plain(u16),
    StartTls(u16),
    Ldaps(u16),
}

/// The transport a phone should use, and a warning when it cannot use what the
/// node requires.
fn transport(node: &Node, phones: &Preset) -> (Transport, Option<String>) {
    if let (Some(port), true) = (node.ldaps_port, phones.ldaps) {
        return (Transport::Ldaps(port), None);
    }
    match node.port {
        Some(port) if node.starttls && phones.starttls => (Transport::StartTls(port), None),
        Some(port) if node.tls_required => (
            Transport::Plain(port),
            Some(
                "This node requires TLS ([ldap.tls] required) and these phones can use \
                 neither its StartTLS nor an LDAPS listener it has: they will be refused. \
                 Add an LDAPS listener ([ldap.tls] ldaps_listen) or allow plain LDAP."
                    .to_string(),
            ),
        ),
        Some(port) => (Transport::Plain(port), None),
        None => (
            Transport::Ldaps(node.ldaps_port.unwrap_or(636)),
            Some(
                "This node listens for LDAPS only, which these phones cannot use: add a \
                 plain listener ([ldap] listen) for them."
                    .to_string(),
            ),
        ),
    }
}

/// The settings for one vendor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snippet {
    pub preset: &'static Preset,
    /// Where the lines go.
    pub target: &'static str,
    /// The lines to paste, as they are.
    pub lines: Vec<String>,
    /// What to know before pasting them.
    pub notes: Vec<String>,
}

/// The settings for every vendor.
pub fn all(node: &Node) -> Vec<Snippet> {
    PRESETS.iter().map(|p| snippet(p, node)).collect()
}

pub fn snippet(preset: &'static Preset, node: &Node) -> Snippet {
    let (transport, warning) = transport(node, preset);
    let mut notes: Vec<String> = warning.into_iter().collect();
    if let Some(file) = &node.password_file {
        notes.push(format!(
            "Replace PASSWORD with the bind password kept in {file} (not shown here)."
        ));
    }
    let (target, lines) = match preset.syntax {
        Syntax::YealinkCfg => ("a .cfg provisioning file", yealink(preset, node, transport)),
        Syntax::SnomXml => (
            "<phone-settings> of a settings XML",
            snom(preset, node, transport),
        ),
        Syntax::GigasetWeb => {
            notes.push(
                "Gigaset: enter these in the web interface's LDAP directory settings.".into(),
            );
            ("its web interface", gigaset(preset, node, transport))
        }
        Syntax::PolycomCfg => ("a UC Software .cfg file", polycom(preset, node, transport)),
        Syntax::GrandstreamP => {
            if matches!(transport, Transport::Ldaps(_)) {
                notes.push(
                    "Grandstream: set the LDAP connection mode to LDAPS in the web interface."
                        .into(),
                );
            }
            (
                "a config template (P-values)",
                grandstream(preset, node, transport),
            )
        }
        Syntax::CiscoXml => ("an MPP XML configuration", cisco(preset, node, transport)),
    };
    if preset.number_filter.is_none() {
        notes.push(format!(
            "{} phones search names only: an incoming call is not looked up here.",
            preset.vendor
        ));
    }
    Snippet {
        preset,
        target,
        lines,
        notes,
    }
}

fn port(t: Transport) -> u16 {
    match t {
        Transport::Plain(p) | Transport::StartTls(p) | Transport::Ldaps(p) => p,
    }
}

fn user(node: &Node) -> (&str, &str) {
    match &node.bind_dn {
        Some(dn) => (dn.as_str(), "PASSWORD"),
        None => ("", ""),
    }
}

fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn yealink(p: &Preset, node: &Node, t: Transport) -> Vec<String> {
    let (dn, password) = user(node);
    let tls_mode = match t {
        Transport::Plain(_) => 0,
        Transport::StartTls(_) => 1,
        Transport::Ldaps(_) => 2,
    };
    vec![
        "ldap.enable = 1".into(),
        format!("ldap.host = {}", node.host),
        format!("ldap.port = {}", port(t)),
        format!("ldap.tls_mode = {tls_mode}"),
        format!("ldap.base = {}", node.base_dn),
        format!("ldap.user = {dn}"),
        format!("ldap.password = {password}"),
        "ldap.version = 3".into(),
        format!("ldap.name_filter = {}", p.name_filter),
        format!(
            "ldap.number_filter = {}",
            p.number_filter.unwrap_or_default()
        ),
        format!("ldap.name_attr = {}", p.name_attributes.join(" ")),
        format!("ldap.numb_attr = {}", p.number_attributes.join(" ")),
        format!("ldap.display_name = {}", p.display),
        format!("ldap.max_hits = {}", p.max_hits),
        "ldap.call_in_lookup = 1".into(),
        "ldap.ldap_sort = 1".into(),
    ]
}

fn snom(p: &Preset, node: &Node, t: Transport) -> Vec<String> {
    let (dn, password) = user(node);
    let over_tls = if matches!(t, Transport::Ldaps(_)) {
        "on"
    } else {
        "off"
    };
    [
        ("ldap_server", node.host.clone()),
        ("ldap_port", port(t).to_string()),
        ("ldap_over_tls", over_tls.to_string()),
        ("ldap_base", node.base_dn.clone()),
        ("ldap_username", dn.to_string()),
        ("ldap_password", password.to_string()),
        ("ldap_search_filter", p.name_filter.to_string()),
        (
            "ldap_number_filter",
            p.number_filter.unwrap_or_default().to_string(),
        ),
        ("ldap_name_attributes", p.name_attributes.join(" ")),
        ("ldap_number_attributes", p.number_attributes.join(" ")),
        ("ldap_display_name", p.display.to_string()),
        ("ldap_max_hits", p.max_hits.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| format!("<{k} perm=\"\">{}</{k}>", xml(&v)))
    .collect()
}

fn gigaset(p: &Preset, node: &Node, t: Transport) -> Vec<String> {
    let (dn, password) = user(node);
    let mut lines = vec![
        format!("Server address: {}", node.host),
        format!("Server port: {}", port(t)),
    ];
    if matches!(t, Transport::Ldaps(_)) {
        lines.push("LDAPS (TLS): on".into());
    }
    lines.extend([
        format!("Search base (BaseDN): {}", node.base_dn),
        format!("User name: {dn}"),
        format!("Password: {password}"),
        format!("Name filter: {}", p.name_filter),
        format!("Number filter: {}", p.number_filter.unwrap_or_default()),
        format!("Display format: {}", p.display),
        format!("Maximum number of search results: {}", p.max_hits),
    ]);
    lines
}

fn polycom(p: &Preset, node: &Node, t: Transport) -> Vec<String> {
    let (dn, password) = user(node);
    let transport = if matches!(t, Transport::Ldaps(_)) {
        "TLS"
    } else {
        "TCP"
    };
    let attrs = [
        ("feature.corporateDirectory.enabled", "1".to_string()),
        ("dir.corp.address", node.host.clone()),
        ("dir.corp.port", port(t).to_string()),
        ("dir.corp.transport", transport.to_string()),
        ("dir.corp.baseDN", node.base_dn.clone()),
        ("dir.corp.scope", "sub".to_string()),
        ("dir.corp.filterPrefix", POLYCOM_PREFIX.to_string()),
        ("dir.corp.user", dn.to_string()),
        ("dir.corp.password", password.to_string()),
        ("dir.corp.pageSize", p.max_hits.to_string()),
        // Browse the whole phone book in windows (virtual list view), sorted as
        // the phone shows names.
        ("dir.corp.vlv.allow", "1".to_string()),
        (
            "dir.corp.vlv.sortOrder",
            p.browse.map_or(String::new(), |b| b.sort.join(" ")),
        ),
    ];
    let columns = [
        ("sn", "Last name", "last_name", "1"),
        ("givenName", "First name", "first_name", "1"),
        ("telephoneNumber", "Work", "phone_number", "0"),
        ("mobile", "Mobile", "phone_number", "0"),
    ];
    let mut lines = vec!["<dir".to_string()];
    lines.extend(
        attrs
            .into_iter()
            .map(|(k, v)| format!("  {k}=\"{}\"", xml(&v))),
    );
    for (i, (name, label, kind, searchable)) in columns.into_iter().enumerate() {
        let key = format!("dir.corp.attribute.{}", i + 1);
        lines.push(format!("  {key}.name=\"{name}\" {key}.label=\"{label}\""));
        lines.push(format!(
            "  {key}.type=\"{kind}\" {key}.searchable=\"{searchable}\""
        ));
    }
    lines.push("/>".into());
    lines
}
fn grandstream(p: &Preset, node: &Node, t: Transport) -> Vec<String> {
    let (dn, password) = user(node);
    [
        ("P8020", "server", node.host.clone()),
        ("P8021", "port", port(t).to_string()),
        ("P8022", "base DN", node.base_dn.clone()),
        ("P8023", "user name", dn.to_string()),
        ("P8024", "password", password.to_string()),
        (
            "P8025",
            "number filter",
            p.number_filter.unwrap_or_default().to_string(),
        ),
        ("P8026", "name filter", p.name_filter.to_string()),
        ("P8028", "name attributes", p.name_attributes.join(" ")),
        ("P8029", "number attributes", p.number_attributes.join(" ")),
        ("P8030", "display name", p.display.to_string()),
        ("P8031", "max hits", p.max_hits.to_string()),
    ]
    .into_iter()
    .map(|(k, what, v)| format!("{k} = {v}  # {what}"))
    .collect()
}

fn cisco(p: &Preset, node: &Node, t: Transport) -> Vec<String> {
    let (dn, password) = user(node);
    let server = match port(t) {
        389 => node.host.clone(),
        port => format!("{}:{port}", node.host),
    };
    let display: String = p
        .name_attributes
        .iter()
        .map(|a| format!("a={a};"))
        .chain(p.number_attributes.iter().map(|a| format!("a={a},t=p;")))
        .collect();
    let auth = if dn.is_empty() { "None" } else { "Simple" };
    [
        ("LDAP_Dir_Enable", "Yes".to_string()),
        ("LDAP_Corp_Dir_Name", "Phone book".to_string()),
        ("LDAP_Server", server),
        ("LDAP_Auth_Method", auth.to_string()),
        ("LDAP_Client_DN", dn.to_string()),
        ("LDAP_Password", password.to_string()),
        ("LDAP_Search_Base", node.base_dn.clone()),
        ("LDAP_First_Name_Filter", "cn:(cn=$VALUE*)".to_string()),
        ("LDAP_Last_Name_Filter", "sn:(sn=$VALUE*)".to_string()),
        ("LDAP_Display_Attrs", display),
    ]
    .into_iter()
    .map(|(k, v)| format!("<{k} ua=\"na\">{}</{k}>", xml(&v)))
    .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::phones::preset;

    fn node() -> Node {
        Node {
            host: "192.0.2.10".into(),
            port: Some(3389),
            ldaps_port: None,
            starttls: false,
            tls_required: false,
            base_dn: "dc=phonebook,dc=local".into(),
            bind_dn: None,
            password_file: None,
        }
    }

    fn text(s: &Snippet) -> String {
        s.lines.join("\n")
    }

    #[test]
    fn every_vendor_gets_the_server_port_and_base() {
        for s in all(&node()) {
            let t = text(&s);
            assert!(t.contains("192.0.2.10"), "{}: {t}", s.preset.id);
            assert!(t.contains("3389"), "{}: {t}", s.preset.id);
            assert!(t.contains("dc=phonebook,dc=local"), "{}: {t}", s.preset.id);
            assert!(!t.contains("PASSWORD"), "{}: {t}", s.preset.id);
        }
    }

    #[test]
    fn filters_are_escaped_for_xml_and_kept_for_cfg() {
        let n = node();
        let snom = text(&snippet(preset("snom").unwrap(), &n));
        assert!(snom.contains(
            "<ldap_search_filter perm=\"\">(|(cn=%)(sn=%)(givenName=%))</ldap_search_filter>"
        ));
        let polycom = text(&snippet(preset("polycom").unwrap(), &n));
        assert!(
            polycom.contains("dir.corp.filterPrefix=\"(objectClass=person)\""),
            "{polycom}"
        );
        assert!(polycom.contains("dir.corp.vlv.allow=\"1\""), "{polycom}");
        assert!(
            polycom.contains("dir.corp.vlv.sortOrder=\"sn givenName\""),
            "{polycom}"
        );
        let filter = preset("polycom").unwrap().name_filter;
        assert!(
            filter.starts_with(&format!("(&{POLYCOM_PREFIX}(")),
            "{filter}"
        );
        let yealink = text(&snippet(preset("yealink").unwrap(), &n));
        assert!(yealink.contains("ldap.name_filter = (|(cn=%)(sn=%)(givenName=%))"));
        assert!(yealink.contains("ldap.tls_mode = 0"));
    }

    #[test]
    fn ldaps_is_used_where_the_node_and_phone_have_it() {
        let n = Node {
            ldaps_port: Some(636),
            starttls: true,
            ..node()
        };
        let yealink = text(&snippet(preset("yealink").unwrap(), &n));
        assert!(yealink.contains("ldap.tls_mode = 2") && yealink.contains("ldap.port = 636"));
        let snom = text(&snippet(preset("snom").unwrap(), &n));
        assert!(snom.contains("<ldap_over_tls perm=\"\">on</ldap_over_tls>"));
        let cisco = snippet(preset("cisco").unwrap(), &n);
        assert!(text(&cisco).contains("<LDAP_Server ua=\"na\">192.0.2.10:3389</LDAP_Server>"));
        let standard = Node {
            port: Some(389),
            ..node()
        };
        let cisco = snippet(preset("cisco").unwrap(), &standard);
        assert!(text(&cisco).contains("<LDAP_Server ua=\"na\">192.0.2.10</LDAP_Server>"));
    }

    #[test]
    fn a_phone_that_cannot_meet_required_tls_is_warned_about() {
        let n = Node {
            starttls: true,
            tls_required: true,
            ..node()
        };
        let yealink = snippet(preset("yealink").unwrap(), &n);
        assert!(text(&yealink).contains("ldap.tls_mode = 1"));
        assert!(yealink.notes.is_empty(), "{:?}", yealink.notes);
        let snom = snippet(preset("snom").unwrap(), &n);
        assert!(
            snom.notes.iter().any(|w| w.contains("refused")),
            "{:?}",
            snom.notes
        );
    }

    #[test]
    fn a_bind_gets_its_dn_and_a_password_placeholder_never_the_password() {
        let n = Node {
            bind_dn: Some("cn=phones,dc=phonebook,dc=local".into()),
            password_file: Some("/var/lib/sop/secrets/ldap-bind".into()),
            ..node()
        };
        for s in all(&n) {
            let t = text(&s);
            assert!(
                t.contains("cn=phones,dc=phonebook,dc=local"),
                "{}: {t}",
                s.preset.id
            );
            assert!(t.contains("PASSWORD"), "{}: {t}", s.preset.id);
            assert!(
                s.notes
                    .iter()
                    .any(|w| w.contains("/var/lib/sop/secrets/ldap-bind"))
            );
        }
    }

    #[test]
    fn a_wildcard_listener_is_given_as_a_reachable_address() {
        let host = advertised_host("0.0.0.0:389".parse().unwrap());
        assert_ne!(host, "0.0.0.0");
        assert!(!host.is_empty());
        assert_eq!(advertised_host("10.1.2.3:389".parse().unwrap()), "10.1.2.3");
    }
}
