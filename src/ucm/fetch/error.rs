//! Why a fetch failed, in words an admin can act on. URLs are shown without
//! credentials.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error(
        "`{url}` is not a valid address ({reason}); expected an http://, https:// or file:// URL, or an absolute path"
    )]
    InvalidUrl { url: String, reason: String },
    #[error(
        "unsupported scheme `{scheme}:` in {url}; expected an http://, https:// or file:// URL, or an absolute path"
    )]
    UnsupportedScheme { scheme: String, url: String },
    #[error("{url} answered {code} {reason}; {}", status_hint(*.code))]
    Status {
        url: String,
        code: u16,
        reason: String,
    },
    #[error(
        "{url} redirected more than {max} times; use the final address or raise the redirect limit"
    )]
    TooManyRedirects { url: String, max: u32 },
    #[error("{url} redirects in a loop (back to {again}); the server is misconfigured")]
    RedirectLoop { url: String, again: String },
    #[error(
        "could not connect to {url} within {} (connect timeout); check the host, the port and any firewall",
        secs(*.after)
    )]
    ConnectTimeout { url: String, after: Duration },
    #[error(
        "{url} did not finish within {} (overall deadline, {received} bytes received); the server is too slow or the deadline too short",
        secs(*.after)
    )]
    Deadline {
        url: String,
        after: Duration,
        received: u64,
    },
    #[error("{url} refused the connection; check the port and that the server is running")]
    Refused { url: String },
    #[error(
        "the connection to {url} was reset or closed before the document was complete ({received} bytes received); try again, or ask the server's admin"
    )]
    Reset { url: String, received: u64 },
    #[error("cannot resolve host `{host}` of {url}; check the name and the node's DNS settings")]
    Dns { host: String, url: String },
    #[error("{}", tls_message(url, detail, *untrusted, ca_file.as_deref()))]
    Tls {
        url: String,
        detail: String,
        /// The server's certificate is not signed by a trusted CA.
        untrusted: bool,
        /// The CA file that was used, if any.
        ca_file: Option<PathBuf>,
    },
    #[error("cannot use the CA file {}: {detail}", path.display())]
    CaFile { path: PathBuf, detail: String },
    #[error(
        "{url} is larger than the size limit of {}{}; raise the limit if this size is expected",
        bytes(*.max),
        declared.map(|d| format!(" (it announces {})", bytes(d))).unwrap_or_default()
    )]
    TooLarge {
        url: String,
        max: u64,
        declared: Option<u64>,
    },
    #[error("file {} does not exist", path.display())]
    FileNotFound { path: PathBuf },
    #[error("permission denied reading {}; let the node's user read it", path.display())]
    PermissionDenied { path: PathBuf },
    #[error("{} is a directory; give the path of a file", path.display())]
    NotAFile { path: PathBuf },
    #[error("reading {} failed: {detail}", path.display())]
    FileRead { path: PathBuf, detail: String },
    #[error("fetching {url} failed: {detail}")]
    Network { url: String, detail: String },
}

impl FetchError {
    /// The error for a failed read of a local file.
    pub(super) fn file(path: PathBuf, e: &io::Error) -> FetchError {
        match e.kind() {
            io::ErrorKind::NotFound => FetchError::FileNotFound { path },
            io::ErrorKind::PermissionDenied => FetchError::PermissionDenied { path },
            io::ErrorKind::IsADirectory => FetchError::NotAFile { path },
            _ => FetchError::FileRead {
                path,
                detail: e.to_string(),
            },
        }
    }
}

fn status_hint(code: u16) -> &'static str {
    match code {
        401 | 407 => "check the user and password",
        403 => {
            "the credentials are not allowed to read it; check them and the server's access rules"
        }
        404 | 410 => "check the address",
        400..=499 => "check the address and the credentials",
        500..=599 => "the server failed; try again later or ask its admin",
        _ => "expected 200 OK",
    }
}

fn tls_message(url: &str, detail: &str, untrusted: bool, ca_file: Option<&Path>) -> String {
    match (untrusted, ca_file) {
        (true, None) => format!(
            "TLS with {url} failed: the server's certificate is not trusted ({detail}); if it is signed by your own CA, set the CA file to that CA's PEM certificate"
        ),
        (true, Some(path)) => format!(
            "TLS with {url} failed: the server's certificate is not signed by a CA in the CA file {} ({detail}); set the CA file to the PEM certificate of the CA that signed it",
            path.display()
        ),
        (false, _) => format!("TLS with {url} failed: {detail}"),
    }
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0} s")
    } else {
        format!("{s:.1} s")
    }
}

/// "64 MiB (67108864 bytes)", or "900 bytes".
pub(super) fn bytes(n: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * 1024;
    if n >= MIB && n % MIB == 0 {
        format!("{} MiB ({n} bytes)", n / MIB)
    } else if n >= KIB && n % KIB == 0 {
        format!("{} KiB ({n} bytes)", n / KIB)
    } else {
        format!("{n} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_errors_say_what_went_wrong() {
        let path = PathBuf::from("/srv/ucm/contacts.csv");
        let denied = io::Error::from(io::ErrorKind::PermissionDenied);
        assert_eq!(
            FetchError::file(path.clone(), &denied).to_string(),
            "permission denied reading /srv/ucm/contacts.csv; let the node's user read it"
        );
        let missing = io::Error::from(io::ErrorKind::NotFound);
        assert_eq!(
            FetchError::file(path, &missing).to_string(),
            "file /srv/ucm/contacts.csv does not exist"
        );
    }

    #[test]
    fn sizes_and_durations_read_naturally() {
        assert_eq!(bytes(64 * 1024 * 1024), "64 MiB (67108864 bytes)");
        assert_eq!(bytes(2048), "2 KiB (2048 bytes)");
        assert_eq!(bytes(1000), "1000 bytes");
        assert_eq!(secs(Duration::from_secs(2)), "2 s");
        assert_eq!(secs(Duration::from_millis(1500)), "1.5 s");
    }
}
