//! Fetching over HTTP and HTTPS. Redirects are followed here, not by the
//! client, to detect loops, keep credentials to the first origin and keep one
//! deadline over all of it.

use super::error::FetchError;
use super::{
    Credentials, Document, FetchOptions, Fetched, Validators, clean_file_name, percent_decode,
    redact,
};
use base64::Engine;
use std::io::{self, Read};
use std::time::Instant;
use tokio_rustls::rustls;
use ureq::tls::{PemItem, RootCerts, TlsConfig};
use ureq::{Agent, Body};
use url::Url;

pub(super) fn fetch(
    url: Url,
    opts: &FetchOptions,
    progress: &mut dyn FnMut(u64, Option<u64>),
) -> Result<Fetched, FetchError> {
    let started = Instant::now();
    let agent = agent(opts)?;
    let authorization = credentials(&url, opts).map(|c| basic(&c));
    let origin = url.origin();
    let mut current = without_credentials(url);
    let mut seen = vec![current.clone()];
    loop {
        // Credentials go to the first server only, never to one it redirects to.
        let auth = authorization
            .as_deref()
            .filter(|_| current.origin() == origin);
        let response = send(&agent, &current, opts, started, auth)?;
        let status = response.status();
        match status.as_u16() {
            304 => return Ok(Fetched::Unchanged),
            300..=399 => current = follow(&response, &current, &mut seen, opts)?,
            200..=299 => {
                return document(response, &current, opts, started, progress)
                    .map(Fetched::Document);
            }
            code => {
                return Err(FetchError::Status {
                    url: redact(&current),
                    code,
                    reason: status.canonical_reason().unwrap_or("").to_string(),
                });
            }
        }
    }
}

/// One GET within what is left of the deadline, conditional when there are
/// previous validators.
fn send(
    agent: &Agent,
    url: &Url,
    opts: &FetchOptions,
    started: Instant,
    authorization: Option<&str>,
) -> Result<ureq::http::Response<Body>, FetchError> {
    let remaining = opts
        .deadline
        .checked_sub(started.elapsed())
        .filter(|d| !d.is_zero())
        .ok_or_else(|| deadline(url, opts, 0))?;
    let mut request = agent
        .get(url.as_str())
        .config()
        .timeout_global(Some(remaining))
        .build()
        .header("Accept", "*/*");
    if let Some(previous) = &opts.previous {
        if let Some(etag) = &previous.etag {
            request = request.header("If-None-Match", etag);
        }
        if let Some(date) = &previous.last_modified {
            request = request.header("If-Modified-Since", date);
        }
    }
    if let Some(value) = authorization {
        request = request.header("Authorization", value);
    }
    request.call().map_err(|e| classify(e, url, opts, 0))
}

/// Where a redirect leads, unless it loops or goes one step too far.
fn follow(
    response: &ureq::http::Response<Body>,
    current: &Url,
    seen: &mut Vec<Url>,
    opts: &FetchOptions,
) -> Result<Url, FetchError> {
    let next = location(response, current)?;
    let first = seen.first().unwrap_or(current);
    if seen.contains(&next) {
        return Err(FetchError::RedirectLoop {
            url: redact(first),
            again: redact(&next),
        });
    }
    if seen.len() > opts.max_redirects as usize {
        return Err(FetchError::TooManyRedirects {
            url: redact(first),
            max: opts.max_redirects,
        });
    }
    seen.push(next.clone());
    Ok(next)
}

/// The body of a 2xx answer, with what names it.
fn document(
    response: ureq::http::Response<Body>,
    url: &Url,
    opts: &FetchOptions,
    started: Instant,
    progress: &mut dyn FnMut(u64, Option<u64>),
) -> Result<Document, FetchError> {
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let validators = Validators {
        etag: header("etag"),
        last_modified: header("last-modified"),
    };
    let content_type = header("content-type");
    let file_name = header("content-disposition")
        .and_then(|d| disposition_file_name(&d))
        .or_else(|| url_file_name(url));
    let body = read_body(response.into_body(), url, opts, started, progress)?;
    Ok(Document {
        body,
        file_name,
        content_type,
        validators,
        url: redact(url),
    })
}

fn agent(opts: &FetchOptions) -> Result<Agent, FetchError> {
    let mut tls = TlsConfig::builder();
    if let Some(path) = &opts.ca_file {
        let ca_error = |detail: String| FetchError::CaFile {
            path: path.clone(),
            detail,
        };
        let pem = std::fs::read(path).map_err(|e| ca_error(e.to_string()))?;
        let mut certs = Vec::new();
        for item in ureq::tls::parse_pem(&pem) {
            if let PemItem::Certificate(cert) = item.map_err(|e| ca_error(e.to_string()))? {
                certs.push(cert);
            }
        }
        if certs.is_empty() {
            return Err(ca_error(
                "it holds no PEM certificate (-----BEGIN CERTIFICATE-----)".to_string(),
            ));
        }
        tls = tls.root_certs(RootCerts::new_with_certs(&certs));
    }
    let config = Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_connect(Some(opts.connect_timeout))
        .user_agent(concat!("sop/", env!("CARGO_PKG_VERSION")))
        .tls_config(tls.build())
        .build();
    Ok(Agent::new_with_config(config))
}

/// The options' credentials, else those in the URL.
fn credentials(url: &Url, opts: &FetchOptions) -> Option<Credentials> {
    if let Some(c) = &opts.credentials {
        return Some(c.clone());
    }
    (!url.username().is_empty()).then(|| Credentials {
        user: percent_decode(url.username()),
        password: percent_decode(url.password().unwrap_or_default()),
    })
}

fn basic(c: &Credentials) -> String {
    let pair = format!("{}:{}", c.user, c.password);
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

fn without_credentials(url: Url) -> Url {
    let mut url = url;
    let _ = url.set_password(None);
    let _ = url.set_username("");
    url
}

fn location(response: &ureq::http::Response<Body>, current: &Url) -> Result<Url, FetchError> {
    let status = response.status();
    let bad = |reason: String| FetchError::Status {
        url: redact(current),
        code: status.as_u16(),
        reason,
    };
    let value = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| bad("redirect without a usable Location header".to_string()))?;
    let next = current
        .join(value)
        .map_err(|e| bad(format!("redirect to an invalid Location `{value}` ({e})")))?;
    match next.scheme() {
        "http" | "https" => Ok(without_credentials(next)),
        _ => Err(bad(format!(
            "redirect to `{}`, which is not http(s)",
            redact(&next)
        ))),
    }
}

fn read_body(
    body: Body,
    url: &Url,
    opts: &FetchOptions,
    started: Instant,
    progress: &mut dyn FnMut(u64, Option<u64>),
) -> Result<Vec<u8>, FetchError> {
    let declared = body.content_length();
    let too_large = |declared| FetchError::TooLarge {
        url: redact(url),
        max: opts.max_bytes,
        declared,
    };
    if declared.is_some_and(|n| n > opts.max_bytes) {
        return Err(too_large(declared));
    }
    let mut reader = body.into_with_config().limit(u64::MAX).reader();
    let mut out = Vec::new();
    let mut buf = vec![0; 64 * 1024];
    loop {
        // Never read more than one byte past the cap.
        let room = opts
            .max_bytes
            .saturating_sub(out.len() as u64)
            .saturating_add(1);
        let want = buf.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        let received = out.len() as u64;
        let n = reader
            .read(&mut buf[..want])
            .map_err(|e| classify(ureq::Error::from(e), url, opts, received))?;
        if n == 0 {
            return Ok(out);
        }
        if received + n as u64 > opts.max_bytes {
            return Err(too_large(declared));
        }
        out.extend_from_slice(&buf[..n]);
        progress(out.len() as u64, declared);
        if started.elapsed() > opts.deadline {
            return Err(deadline(url, opts, out.len() as u64));
        }
    }
}

fn deadline(url: &Url, opts: &FetchOptions, received: u64) -> FetchError {
    FetchError::Deadline {
        url: redact(url),
        after: opts.deadline,
        received,
    }
}

/// Turns the client's error into one that says what to do.
fn classify(e: ureq::Error, url: &Url, opts: &FetchOptions, received: u64) -> FetchError {
    let shown = redact(url);
    let tls = match &e {
        ureq::Error::Io(io) => io.get_ref().and_then(|inner| find_source(inner)),
        other => find_source::<rustls::Error>(other),
    };
    if let Some(tls) = tls {
        return tls_error(tls, shown, opts);
    }
    match e {
        ureq::Error::Timeout(ureq::Timeout::Connect) => FetchError::ConnectTimeout {
            url: shown,
            after: opts.connect_timeout,
        },
        ureq::Error::Timeout(_) => deadline(url, opts, received),
        ureq::Error::HostNotFound => FetchError::Dns {
            host: url.host_str().unwrap_or_default().to_string(),
            url: shown,
        },
        ureq::Error::Rustls(tls) => tls_error(&tls, shown, opts),
        ureq::Error::Tls(detail) => FetchError::Tls {
            url: shown,
            detail: detail.to_string(),
            untrusted: false,
            ca_file: opts.ca_file.clone(),
        },
        ureq::Error::BodyExceedsLimit(_) => FetchError::TooLarge {
            url: shown,
            max: opts.max_bytes,
            declared: None,
        },
        ureq::Error::Io(io) => io_error(&io, url, opts, received),
        other => FetchError::Network {
            url: shown,
            detail: other.to_string(),
        },
    }
}

fn io_error(e: &io::Error, url: &Url, opts: &FetchOptions, received: u64) -> FetchError {
    let shown = redact(url);
    match e.kind() {
        io::ErrorKind::ConnectionRefused => FetchError::Refused { url: shown },
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe
        | io::ErrorKind::UnexpectedEof => FetchError::Reset {
            url: shown,
            received,
        },
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => deadline(url, opts, received),
        _ => FetchError::Network {
            url: shown,
            detail: e.to_string(),
        },
    }
}

fn tls_error(e: &rustls::Error, url: String, opts: &FetchOptions) -> FetchError {
    use rustls::CertificateError as C;
    let (detail, untrusted) = match e {
        rustls::Error::InvalidCertificate(C::UnknownIssuer | C::BadSignature) => {
            (e.to_string(), true)
        }
        rustls::Error::InvalidCertificate(C::Expired | C::ExpiredContext { .. }) => (
            format!("the server's certificate has expired ({e}); it must be renewed on the server"),
            false,
        ),
        rustls::Error::InvalidCertificate(C::NotValidYet | C::NotValidYetContext { .. }) => (
            format!(
                "the server's certificate is not valid yet ({e}); check the clocks of the node and the server"
            ),
            false,
        ),
        rustls::Error::InvalidCertificate(
            C::NotValidForName | C::NotValidForNameContext { .. },
        ) => (
            format!(
                "the server's certificate is for another host name ({e}); use the name the certificate is for"
            ),
            false,
        ),
        _ => (e.to_string(), false),
    };
    FetchError::Tls {
        url,
        detail,
        untrusted,
        ca_file: opts.ca_file.clone(),
    }
}

/// The first error of type `T` in `e` and its sources.
fn find_source<'a, T: std::error::Error + 'static>(
    e: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    let mut current = Some(e);
    while let Some(err) = current {
        if let Some(found) = err.downcast_ref::<T>() {
            return Some(found);
        }
        if let Some(io) = err.downcast_ref::<io::Error>() {
            if let Some(inner) = io.get_ref() {
                if let Some(found) = find_source::<T>(inner) {
                    return Some(found);
                }
            }
        }
        current = err.source();
    }
    None
}

/// `attachment; filename="list.csv"` or `filename*=UTF-8''list%20a.csv`.
fn disposition_file_name(value: &str) -> Option<String> {
    let mut plain = None;
    for part in value.split(';').map(str::trim) {
        let Some((key, raw)) = part.split_once('=') else {
            continue;
        };
        let raw = raw.trim();
        match key.trim().to_ascii_lowercase().as_str() {
            "filename*" => {
                let encoded = raw.rsplit('\'').next().unwrap_or(raw);
                return clean_file_name(&percent_decode(encoded));
            }
            "filename" => plain = clean_file_name(raw.trim_matches('"')),
            _ => {}
        }
    }
    plain
}

fn url_file_name(url: &Url) -> Option<String> {
    let last = url.path_segments()?.next_back()?;
    clean_file_name(&percent_decode(last))
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn file_names_from_content_disposition() {
        let name = |v: &str| disposition_file_name(v);
        assert_eq!(
            name("attachment; filename=\"list.csv\"").as_deref(),
            Some("list.csv")
        );
        assert_eq!(
            name("attachment; filename=list.csv").as_deref(),
            Some("list.csv")
        );
        assert_eq!(
            name("attachment; filename=\"x.csv\"; filename*=UTF-8''caf%C3%A9.csv").as_deref(),
            Some("café.csv")
        );
        assert_eq!(
            name("attachment; filename=\"../../x.csv\"").as_deref(),
            Some("x.csv")
        );
        assert_eq!(name("inline").as_deref(), None);
    }

    #[test]
    fn client_errors_become_errors_an_admin_acts_on() {
        let url = Url::parse("https://ucm:s3cret@directory.example.com:8443/export.csv").ok();
        let Some(url) = url else {
            panic!("test URL does not parse")
        };
        let opts = FetchOptions::default();
        let dns = classify(ureq::Error::HostNotFound, &url, &opts, 0);
        assert_eq!(
            dns.to_string(),
            "cannot resolve host `directory.example.com` of https://directory.example.com:8443/export.csv; check the name and the node's DNS settings"
        );
        let expired = rustls::Error::InvalidCertificate(rustls::CertificateError::Expired);
        let io = io::Error::new(io::ErrorKind::InvalidData, expired);
        let tls = classify(ureq::Error::Io(io), &url, &opts, 0);
        assert!(
            matches!(
                tls,
                FetchError::Tls {
                    untrusted: false,
                    ..
                }
            ),
            "{tls:?}"
        );
        assert!(
            tls.to_string()
                .contains("the server's certificate has expired"),
            "{tls}"
        );
        let reset = io::Error::from(io::ErrorKind::ConnectionReset);
        assert_eq!(
            classify(ureq::Error::Io(reset), &url, &opts, 42),
            FetchError::Reset {
                url: "https://directory.example.com:8443/export.csv".to_string(),
                received: 42
            }
        );
    }

    #[test]
    fn basic_credentials_are_encoded() {
        let c = Credentials {
            user: "Aladdin".to_string(),
            password: "open sesame".to_string(),
        };
        assert_eq!(basic(&c), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    }
}
