//! Values an admin types, checked where they enter (config load, a form, a CLI
//! flag): the URL of a contact list and a cron spec. Each check says what would be
//! accepted.

/// Whether the import can fetch from this URL (empty: no URL); says what is
/// accepted otherwise.
pub fn check_url(url: &str) -> Result<(), String> {
    let accepted = "\"\" (none), or an https://, http:// or file:// URL, or an absolute path";
    if url.is_empty() || url.starts_with('/') {
        return Ok(());
    }
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(accepted.to_string());
    };
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.contains('@') {
        return Err(
            "a URL without user:password@; keep credentials apart with sop ucm set --credentials-file FILE"
                .to_string(),
        );
    }
    match scheme.to_ascii_lowercase().as_str() {
        "http" | "https" if !rest.is_empty() && !rest.starts_with('/') => Ok(()),
        "file" if rest.starts_with('/') => Ok(()),
        _ => Err(accepted.to_string()),
    }
}

/// The warning for credentials sent in clear: `url` is `http://` and there are
/// credentials, from `[ucm] credentials_file` (`has_credentials`) or in the URL
/// itself. It names the server, never the user or the password.
pub fn cleartext_credentials(url: &str, has_credentials: bool) -> Option<String> {
    let parsed = url::Url::parse(url.trim()).ok()?;
    if parsed.scheme() != "http" {
        return None;
    }
    let in_url = !parsed.username().is_empty() || parsed.password().is_some();
    if !has_credentials && !in_url {
        return None;
    }
    let server = match (parsed.host_str(), parsed.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_string(),
        (None, _) => "the server".to_string(),
    };
    Some(format!(
        "the UCM credentials go to {server} over plain http: anyone on the way can read the password; use an https:// URL ([ucm] url)"
    ))
}

/// Whether a cron spec is valid; says why not.
pub fn check_cron(spec: &str) -> Result<(), String> {
    spec.parse::<crate::schedule::CronSpec>()
        .map(|_| ())
        .map_err(|e| cron_accepted(&e))
}

/// A schedule from what an admin typed ("" for on demand only), parsed once; says
/// why it is not one.
pub fn cron(text: &str) -> Result<crate::schedule::Cron, String> {
    crate::schedule::Cron::parse(text).map_err(|e| cron_accepted(&e))
}

fn cron_accepted(e: &crate::schedule::CronError) -> String {
    format!("a cron spec such as \"0 23 ? * *\" ({e})")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn credentials_over_plain_http_are_warned_of_without_the_password() {
        let warned = cleartext_credentials("http://ucm.example:8080/list.csv", true).unwrap();
        assert!(warned.contains("ucm.example:8080") && warned.contains("plain http"));
        let in_url = cleartext_credentials("HTTP://ucm:s3cret@ucm.example/list.csv", false);
        let in_url = in_url.unwrap();
        assert!(in_url.contains("ucm.example"), "{in_url}");
        assert!(
            !in_url.contains("s3cret") && !in_url.contains("ucm:"),
            "{in_url}"
        );
        for (url, credentials) in [
            ("https://ucm.example/list.csv", true),
            ("http://ucm.example/list.csv", false),
            ("file:///srv/list.csv", true),
            ("/srv/list.csv", true),
            ("", true),
        ] {
            assert_eq!(cleartext_credentials(url, credentials), None, "{url}");
        }
    }
}
