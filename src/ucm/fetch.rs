//! Fetching a document to import: from `http://`, `https://`, `file://` or a
//! plain absolute path, with a connect timeout, an overall deadline, a size
//! cap, a redirect limit, an optional CA file and credentials, and
//! conditional requests so an unchanged document is not read again.
//!
//! Blocking: run it on a blocking thread.

mod error;
mod file;
mod http;

pub use error::FetchError;

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;
use url::Url;

/// How to fetch. [`FetchOptions::default`] has sensible limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchOptions {
    /// How long to wait for the TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// How long the whole fetch may take, redirects and body included.
    pub deadline: Duration,
    /// The largest document accepted, in bytes.
    pub max_bytes: u64,
    /// How many redirects are followed.
    pub max_redirects: u32,
    /// PEM file with the CA certificates to trust for `https://` instead of
    /// the built-in public roots.
    pub ca_file: Option<PathBuf>,
    /// HTTP basic credentials. User and password in the URL are used when
    /// this is `None`.
    pub credentials: Option<Credentials>,
    /// The validators of the previous fetch: when the document has not
    /// changed since, the answer is [`Fetched::Unchanged`].
    pub previous: Option<Validators>,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            connect_timeout: Duration::from_secs(10),
            deadline: Duration::from_secs(300),
            max_bytes: 64 * 1024 * 1024,
            max_redirects: 5,
            ca_file: None,
            credentials: None,
            previous: None,
        }
    }
}

/// HTTP basic credentials. The password never shows in `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub user: String,
    pub password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// What tells whether a document changed: the server's `ETag` and
/// `Last-Modified`; for a file, its size and modification time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

impl Validators {
    pub fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none()
    }
}

/// The result of a fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// Not changed since the fetch that gave [`FetchOptions::previous`].
    Unchanged,
    Document(Document),
}

/// A fetched document.
#[derive(Clone, PartialEq, Eq)]
pub struct Document {
    pub body: Vec<u8>,
    /// From `Content-Disposition`, else the last segment of the URL path.
    pub file_name: Option<String>,
    /// The `Content-Type` the server gave; for a file, guessed from its extension.
    pub content_type: Option<String>,
    /// To pass as [`FetchOptions::previous`] next time.
    pub validators: Validators,
    /// Where the document came from after redirects, without credentials.
    pub url: String,
}

impl fmt::Debug for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Document")
            .field("bytes", &self.body.len())
            .field("file_name", &self.file_name)
            .field("content_type", &self.content_type)
            .field("validators", &self.validators)
            .field("url", &self.url)
            .finish()
    }
}

/// Fetches `url`: `http://`, `https://`, `file://` or an absolute path.
/// `progress` is called with the bytes read so far and the size announced,
/// if any.
pub fn fetch(
    url: &str,
    opts: &FetchOptions,
    progress: &mut dyn FnMut(u64, Option<u64>),
) -> Result<Fetched, FetchError> {
    let text = url.trim();
    if text.is_empty() {
        return Err(FetchError::InvalidUrl {
            url: String::new(),
            reason: "no address given".to_string(),
        });
    }
    if text.starts_with('/') {
        return file::fetch(&PathBuf::from(text), opts, progress);
    }
    let parsed = Url::parse(text).map_err(|e| FetchError::InvalidUrl {
        url: redact_text(text),
        reason: e.to_string(),
    })?;
    match parsed.scheme() {
        "http" | "https" => http::fetch(parsed, opts, progress),
        "file" => {
            let path = parsed.to_file_path().map_err(|()| FetchError::InvalidUrl {
                url: redact(&parsed),
                reason: "a file URL needs an absolute path and no host".to_string(),
            })?;
            file::fetch(&path, opts, progress)
        }
        scheme => Err(FetchError::UnsupportedScheme {
            scheme: scheme.to_string(),
            url: redact(&parsed),
        }),
    }
}

/// The URL as it may be shown: without user and password.
fn redact(url: &Url) -> String {
    let mut shown = url.clone();
    // Both fail only for URLs that cannot have credentials anyway.
    let _ = shown.set_password(None);
    let _ = shown.set_username("");
    shown.to_string()
}

/// A URL that did not parse, with anything between `://` and `@` hidden.
fn redact_text(text: &str) -> String {
    match (text.find("://"), text.rfind('@')) {
        (Some(start), Some(at)) if at > start => {
            format!("{}://***{}", &text[..start], &text[at..])
        }
        _ => text.to_string(),
    }
}

/// Decodes `%xx` escapes; invalid UTF-8 is replaced.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A file name safe to use as one: no directories, not empty.
fn clean_file_name(name: &str) -> Option<String> {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default().trim();
    (!last.is_empty() && last != "." && last != "..").then(|| last.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_redacted() {
        let c = Credentials {
            user: "ucm".to_string(),
            password: "s3cret".to_string(),
        };
        let opts = FetchOptions {
            credentials: Some(c),
            ..FetchOptions::default()
        };
        let shown = format!("{opts:?}");
        assert!(shown.contains("ucm"), "{shown}");
        assert!(!shown.contains("s3cret"), "{shown}");
        let url = Url::parse("https://ucm:s3cret@example.com/a.csv").ok();
        assert_eq!(
            url.map(|u| redact(&u)).as_deref(),
            Some("https://example.com/a.csv")
        );
        assert_eq!(redact_text("htp:/x:y@z"), "htp:/x:y@z");
        assert_eq!(redact_text("ht tp://u:p@host/"), "ht tp://***@host/");
    }

    #[test]
    fn percent_decoding_and_file_names() {
        assert_eq!(percent_decode("phone%20book.csv"), "phone book.csv");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%C3%A9"), "é");
        assert_eq!(
            clean_file_name("../../etc/passwd").as_deref(),
            Some("passwd")
        );
        assert_eq!(
            clean_file_name("C:\\x\\list.csv").as_deref(),
            Some("list.csv")
        );
        assert_eq!(clean_file_name(".."), None);
        assert_eq!(clean_file_name(""), None);
    }
}
