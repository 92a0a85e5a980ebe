//! What a valid configuration does that its admin should know: `sop config check`
//! prints it, and it never makes a configuration invalid.

use super::Config;

/// The warnings for `config`; `ucm_credentials` says whether the file of
/// `[ucm] credentials_file` exists.
pub fn warnings(config: &Config, ucm_credentials: bool) -> Vec<String> {
    let mut out = Vec::new();
    out.extend(crate::validate::cleartext_credentials(
        &config.ucm.url,
        ucm_credentials,
    ));
    for node in &config.cluster.nodes {
        out.extend(super::cluster::local_command_warnings(node));
    }
    out.extend(phonebook_warnings(config));
    out
}

/// A phone book naming a source this node neither has nor is likely to receive:
/// it lists nothing of it (a directory source pushed from another node keeps its
/// name, so a name may be right on a node that receives it).
fn phonebook_warnings(config: &Config) -> Vec<String> {
    let known =
        |name: &str| matches!(name, "int" | "ext") || config.sources.iter().any(|s| s.name == name);
    config
        .phonebooks
        .iter()
        .flat_map(|b| b.sources.iter().map(move |s| (b, s)))
        .filter(|(_, s)| !known(s))
        .map(|(b, s)| {
            format!(
                "[[phonebooks]] {}: source {s:?} is not one of this node's ([[sources]], \
                 int, ext); the phone book lists its contacts only if another node pushes \
                 a source of that name here",
                b.name
            )
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::config::cluster::NodeSpec;

    #[test]
    fn the_defaults_warn_of_nothing_and_risky_settings_are_named() {
        let mut config = Config::defaults();
        assert!(warnings(&config, true).is_empty());
        config.ucm.url = "http://ucm.example/list.csv".to_string();
        assert!(warnings(&config, false).is_empty());
        assert_eq!(warnings(&config, true).len(), 1);
        let mut jump = NodeSpec::new("b", "h");
        jump.ssh_options = vec!["-o".into(), "ProxyJump=bastion".into()];
        let mut proxy = NodeSpec::new("c", "h");
        proxy.ssh_options = vec!["-oProxyCommand=nc %h %p".into()];
        config.cluster.nodes = vec![jump, proxy];
        let w = warnings(&config, false);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].starts_with("[[cluster.nodes]] c: "), "{w:?}");
        config.cluster.nodes.clear();
        config.phonebooks = vec![crate::config::phonebooks::PhonebookSettings {
            name: "sales".into(),
            base_dn: "dc=sales".into(),
            sources: vec!["int".into(), "ext".into(), "crm".into()],
            bind_dn: String::new(),
            password_file: "x".into(),
            size_limit: None,
        }];
        let w = warnings(&config, false);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("sales: source \"crm\""), "{w:?}");
    }
}
