//! Fetching documents for import from a real HTTP(S) server on 127.0.0.1
//! (written here, raw HTTP/1.1) and from files.
#![allow(clippy::unwrap_used, clippy::panic)]

#[path = "common/tls.rs"]
mod tls;

use base64::Engine;
use sop::ucm::fetch::{
    Credentials, Document, FetchError, FetchOptions, Fetched, Validators, fetch,
};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;
use tokio_rustls::rustls;

const LIST: &str = "name,number\nAlice,100\nBob,101\n";
const ETAG: &str = "\"v1\"";
const LAST_MODIFIED: &str = "Sat, 21 Nov 2026 10:00:00 GMT";
const USER: &str = "ucm";
const PASSWORD: &str = "s3cret-Pa55";

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    headers: Vec<(String, String)>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

struct Server {
    addr: SocketAddr,
    scheme: &'static str,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    fn http() -> Server {
        Server::start(None)
    }

    fn https(dir: &Path) -> Server {
        tls::write_ca_and_server_cert(dir);
        let certs = rustls_pemfile::certs(&mut BufReader::new(
            std::fs::File::open(dir.join("cert.pem")).unwrap(),
        ))
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
        let key = rustls_pemfile::private_key(&mut BufReader::new(
            std::fs::File::open(dir.join("key.pem")).unwrap(),
        ))
        .unwrap()
        .unwrap();
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
        Server::start(Some(Arc::new(config)))
    }

    fn start(tls: Option<Arc<rustls::ServerConfig>>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let server = Server {
            addr,
            scheme: if tls.is_some() { "https" } else { "http" },
            seen: seen.clone(),
        };
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let seen = seen.clone();
                let tls = tls.clone();
                thread::spawn(move || serve(stream, tls, addr, &seen));
            }
        });
        server
    }

    fn url(&self, path: &str) -> String {
        format!("{}://{}{path}", self.scheme, self.addr)
    }

    fn seen(&self, path: &str) -> Vec<Seen> {
        let seen = self.seen.lock().unwrap();
        seen.iter().filter(|s| s.path == path).cloned().collect()
    }
}

fn serve(
    stream: TcpStream,
    tls: Option<Arc<rustls::ServerConfig>>,
    addr: SocketAddr,
    seen: &Mutex<Vec<Seen>>,
) {
    let raw = stream.try_clone().unwrap();
    match tls {
        None => handle(stream, &raw, addr, seen),
        Some(config) => {
            let conn = rustls::ServerConnection::new(config).unwrap();
            handle(rustls::StreamOwned::new(conn, stream), &raw, addr, seen);
        }
    }
}

fn handle<S: Read + Write>(stream: S, raw: &TcpStream, addr: SocketAddr, seen: &Mutex<Vec<Seen>>) {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return; // e.g. a client that refused our certificate
    }
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((n, v)) = h.trim_end().split_once(':') {
            headers.push((n.trim().to_string(), v.trim().to_string()));
        }
    }
    let request = Seen { path, headers };
    seen.lock().unwrap().push(request.clone());
    let mut out = reader.into_inner();
    respond(&request, &mut out, raw, addr);
    let _ = out.flush();
}

fn head(out: &mut impl Write, status: &str, headers: &[(&str, String)]) {
    let mut text = format!("HTTP/1.1 {status}\r\nConnection: close\r\n");
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    out.write_all(text.as_bytes()).unwrap();
}

fn full(out: &mut impl Write, status: &str, content_type: &str, body: &[u8]) {
    head(
        out,
        status,
        &[
            ("Content-Type", content_type.to_string()),
            ("Content-Length", body.len().to_string()),
        ],
    );
    out.write_all(body).unwrap();
}

fn redirect(out: &mut impl Write, status: &str, to: String) {
    head(
        out,
        status,
        &[("Location", to), ("Content-Length", "0".to_string())],
    );
}

fn respond(req: &Seen, out: &mut impl Write, raw: &TcpStream, addr: SocketAddr) {
    let csv = "text/csv; charset=utf-8";
    match req.path.as_str() {
        "/contacts.csv" => full(out, "200 OK", csv, LIST.as_bytes()),
        "/export" => {
            head(
                out,
                "200 OK",
                &[
                    ("Content-Type", csv.to_string()),
                    (
                        "Content-Disposition",
                        "attachment; filename=\"ucm-export.csv\"".to_string(),
                    ),
                    ("Content-Length", LIST.len().to_string()),
                ],
            );
            out.write_all(LIST.as_bytes()).unwrap();
        }
        "/etag.csv" if req.header("If-None-Match") == Some(ETAG) => {
            head(out, "304 Not Modified", &[("ETag", ETAG.to_string())]);
        }
        "/etag.csv" => {
            head(
                out,
                "200 OK",
                &[
                    ("ETag", ETAG.to_string()),
                    ("Content-Length", LIST.len().to_string()),
                ],
            );
            out.write_all(LIST.as_bytes()).unwrap();
        }
        "/dated.csv" if req.header("If-Modified-Since") == Some(LAST_MODIFIED) => {
            head(out, "304 Not Modified", &[]);
        }
        "/dated.csv" => {
            head(
                out,
                "200 OK",
                &[
                    ("Last-Modified", LAST_MODIFIED.to_string()),
                    ("Content-Length", LIST.len().to_string()),
                ],
            );
            out.write_all(LIST.as_bytes()).unwrap();
        }
        "/page" => full(
            out,
            "200 OK",
            "text/html; charset=utf-8",
            b"<!DOCTYPE html><html><body>Please log in</body></html>",
        ),
        "/missing.csv" => full(out, "404 Not Found", "text/plain", b"no such file"),
        "/broken.csv" => full(out, "500 Internal Server Error", "text/plain", b"oops"),
        "/r1" => redirect(out, "302 Found", "/r2".to_string()),
        "/r2" => redirect(
            out,
            "301 Moved Permanently",
            format!("http://{addr}/dir/r3"),
        ),
        "/dir/r3" => redirect(out, "307 Temporary Redirect", "../contacts.csv".to_string()),
        path if path.starts_with("/go?to=") => {
            redirect(out, "302 Found", path["/go?to=".len()..].to_string());
        }
        "/loop-a" => redirect(out, "302 Found", "/loop-b".to_string()),
        "/loop-b" => redirect(out, "302 Found", "/loop-a".to_string()),
        "/drip" => {
            head(out, "200 OK", &[("Content-Length", "30".to_string())]);
            for _ in 0..30 {
                if out.write_all(b"x").and_then(|()| out.flush()).is_err() {
                    return;
                }
                thread::sleep(Duration::from_secs(1));
            }
        }
        "/reset" => {
            head(out, "200 OK", &[("Content-Length", "100000".to_string())]);
            out.write_all(&[b'x'; 1000]).unwrap();
            out.flush().unwrap();
            // Closing with a zero linger sends a reset instead of a clean end.
            socket2::SockRef::from(raw)
                .set_linger(Some(Duration::ZERO))
                .unwrap();
            let _ = raw.shutdown(std::net::Shutdown::Both);
        }
        "/big" => full(out, "200 OK", csv, &[b'x'; 5000]),
        "/big-unsized" => {
            // No Content-Length: the body ends when the connection closes.
            head(out, "200 OK", &[("Content-Type", csv.to_string())]);
            for _ in 0..1000 {
                if out.write_all(&[b'x'; 1024]).is_err() {
                    return;
                }
            }
        }
        "/private.csv" => {
            let expected = format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))
            );
            if req.header("Authorization") == Some(expected.as_str()) {
                full(out, "200 OK", csv, LIST.as_bytes());
            } else {
                head(
                    out,
                    "401 Unauthorized",
                    &[
                        ("WWW-Authenticate", "Basic realm=\"ucm\"".to_string()),
                        ("Content-Length", "0".to_string()),
                    ],
                );
            }
        }
        _ => full(out, "404 Not Found", "text/plain", b"unknown"),
    }
}

fn get(url: &str, opts: &FetchOptions) -> Result<Fetched, FetchError> {
    fetch(url, opts, &mut |_, _| {})
}

fn document(url: &str, opts: &FetchOptions) -> Document {
    match get(url, opts) {
        Ok(Fetched::Document(d)) => d,
        other => panic!("{url}: {other:?}"),
    }
}

fn error(url: &str, opts: &FetchOptions) -> FetchError {
    match get(url, opts) {
        Err(e) => e,
        Ok(other) => panic!("{url} gave {other:?}"),
    }
}

fn quick() -> FetchOptions {
    FetchOptions {
        connect_timeout: Duration::from_secs(2),
        deadline: Duration::from_secs(20),
        ..FetchOptions::default()
    }
}

#[test]
fn a_list_comes_with_its_name_type_and_progress() {
    let server = Server::http();
    let mut calls = Vec::new();
    let fetched = fetch(&server.url("/contacts.csv"), &quick(), &mut |n, total| {
        calls.push((n, total));
    })
    .unwrap();
    let Fetched::Document(doc) = fetched else {
        panic!("{fetched:?}")
    };
    assert_eq!(doc.body, LIST.as_bytes());
    assert_eq!(doc.file_name.as_deref(), Some("contacts.csv"));
    assert_eq!(doc.content_type.as_deref(), Some("text/csv; charset=utf-8"));
    assert_eq!(doc.url, server.url("/contacts.csv"));
    let total = LIST.len() as u64;
    assert_eq!(calls.last(), Some(&(total, Some(total))));
}

#[test]
fn content_disposition_names_the_file() {
    let server = Server::http();
    let doc = document(&server.url("/export"), &quick());
    assert_eq!(doc.file_name.as_deref(), Some("ucm-export.csv"));
}

#[test]
fn an_html_page_is_fetched_with_its_content_type() {
    let server = Server::http();
    let doc = document(&server.url("/page"), &quick());
    assert_eq!(
        doc.content_type.as_deref(),
        Some("text/html; charset=utf-8")
    );
    assert!(doc.body.starts_with(b"<!DOCTYPE html>"));
}

#[test]
fn not_found_and_server_error_name_the_status_and_the_url() {
    let server = Server::http();
    let e = error(&server.url("/missing.csv"), &quick());
    assert!(matches!(e, FetchError::Status { code: 404, .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        format!(
            "{} answered 404 Not Found; check the address",
            server.url("/missing.csv")
        )
    );
    let e = error(&server.url("/broken.csv"), &quick());
    assert!(matches!(e, FetchError::Status { code: 500, .. }), "{e:?}");
    assert!(
        e.to_string()
            .contains("answered 500 Internal Server Error; the server failed"),
        "{e}"
    );
}

#[test]
fn a_redirect_chain_is_followed_to_its_end() {
    let server = Server::http();
    let doc = document(&server.url("/r1"), &quick());
    assert_eq!(doc.body, LIST.as_bytes());
    assert_eq!(doc.url, server.url("/contacts.csv"));
    assert_eq!(doc.file_name.as_deref(), Some("contacts.csv"));
}

#[test]
fn too_many_redirects_is_an_error() {
    let server = Server::http();
    let opts = FetchOptions {
        max_redirects: 2,
        ..quick()
    };
    let e = error(&server.url("/r1"), &opts);
    assert_eq!(
        e.to_string(),
        format!(
            "{} redirected more than 2 times; use the final address or raise the redirect limit",
            server.url("/r1")
        )
    );
    // Three redirects are allowed with a limit of three.
    let opts = FetchOptions {
        max_redirects: 3,
        ..quick()
    };
    assert_eq!(document(&server.url("/r1"), &opts).body, LIST.as_bytes());
}

#[test]
fn a_redirect_loop_is_named_as_such() {
    let server = Server::http();
    let e = error(&server.url("/loop-a"), &quick());
    assert!(matches!(e, FetchError::RedirectLoop { .. }), "{e:?}");
    assert!(
        e.to_string().contains("redirects in a loop (back to"),
        "{e}"
    );
    assert!(e.to_string().contains("/loop-a"), "{e}");
    assert_eq!(server.seen("/loop-a").len(), 1);
}

#[test]
fn a_slow_drip_fails_at_the_deadline() {
    let server = Server::http();
    let opts = FetchOptions {
        connect_timeout: Duration::from_secs(1),
        deadline: Duration::from_secs(2),
        ..FetchOptions::default()
    };
    let e = error(&server.url("/drip"), &opts);
    let FetchError::Deadline {
        received, after, ..
    } = &e
    else {
        panic!("{e:?}")
    };
    // It gave up long before the 30 bytes the server drips, one a second.
    assert!(*received < 10, "{e}");
    assert_eq!(*after, Duration::from_secs(2));
    assert!(
        e.to_string()
            .contains("did not finish within 2 s (overall deadline"),
        "{e}"
    );
}

#[test]
fn a_connection_reset_mid_body_is_reported() {
    let server = Server::http();
    let e = error(&server.url("/reset"), &quick());
    assert!(matches!(e, FetchError::Reset { .. }), "{e:?}");
    assert!(
        e.to_string()
            .contains("was reset or closed before the document was complete"),
        "{e}"
    );
}

#[test]
fn a_refused_connection_is_reported() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let e = error(&format!("http://127.0.0.1:{port}/contacts.csv"), &quick());
    assert!(matches!(e, FetchError::Refused { .. }), "{e:?}");
    assert!(e.to_string().contains("refused the connection"), "{e}");
}

#[test]
fn a_connect_that_hangs_is_a_connect_timeout() {
    // A listener whose accept queue is full drops new connection attempts.
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket
        .bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
        .unwrap();
    socket.listen(0).unwrap();
    let addr = socket.local_addr().unwrap().as_socket().unwrap();
    let mut held = Vec::new();
    for _ in 0..4 {
        if let Ok(s) = TcpStream::connect_timeout(&addr, Duration::from_millis(300)) {
            held.push(s);
        }
    }
    let opts = FetchOptions {
        connect_timeout: Duration::from_secs(1),
        deadline: Duration::from_secs(10),
        ..FetchOptions::default()
    };
    let e = error(&format!("http://{addr}/contacts.csv"), &opts);
    assert!(matches!(e, FetchError::ConnectTimeout { .. }), "{e:?}");
    assert!(
        e.to_string().contains("within 1 s (connect timeout)"),
        "{e}"
    );
}

#[test]
fn a_body_over_the_cap_is_refused_with_and_without_content_length() {
    let server = Server::http();
    let opts = FetchOptions {
        max_bytes: 1024,
        ..quick()
    };
    let e = error(&server.url("/big"), &opts);
    assert_eq!(
        e,
        FetchError::TooLarge {
            url: server.url("/big"),
            max: 1024,
            declared: Some(5000)
        }
    );
    assert!(
        e.to_string()
            .contains("larger than the size limit of 1 KiB (1024 bytes) (it announces 5000 bytes)"),
        "{e}"
    );
    let mut read = 0;
    let e = fetch(&server.url("/big-unsized"), &opts, &mut |n, _| read = n).unwrap_err();
    assert!(
        matches!(e, FetchError::TooLarge { declared: None, .. }),
        "{e:?}"
    );
    assert!(read <= 1024, "read {read} bytes");
}

#[test]
fn an_unchanged_etag_gives_unchanged() {
    let server = Server::http();
    let doc = document(&server.url("/etag.csv"), &quick());
    assert_eq!(doc.validators.etag.as_deref(), Some(ETAG));
    let opts = FetchOptions {
        previous: Some(doc.validators.clone()),
        ..quick()
    };
    assert_eq!(get(&server.url("/etag.csv"), &opts), Ok(Fetched::Unchanged));
    assert_eq!(
        server.seen("/etag.csv")[1].header("If-None-Match"),
        Some(ETAG)
    );
    // Another version is fetched again.
    let opts = FetchOptions {
        previous: Some(Validators {
            etag: Some("\"v0\"".to_string()),
            last_modified: None,
        }),
        ..quick()
    };
    assert_eq!(
        document(&server.url("/etag.csv"), &opts).body,
        LIST.as_bytes()
    );
}

#[test]
fn an_unchanged_last_modified_gives_unchanged() {
    let server = Server::http();
    let doc = document(&server.url("/dated.csv"), &quick());
    assert_eq!(doc.validators.last_modified.as_deref(), Some(LAST_MODIFIED));
    let opts = FetchOptions {
        previous: Some(doc.validators),
        ..quick()
    };
    assert_eq!(
        get(&server.url("/dated.csv"), &opts),
        Ok(Fetched::Unchanged)
    );
}

#[test]
fn basic_auth_is_sent_and_the_password_never_shown() {
    let server = Server::http();
    let opts = FetchOptions {
        credentials: Some(Credentials {
            user: USER.to_string(),
            password: PASSWORD.to_string(),
        }),
        ..quick()
    };
    assert_eq!(
        document(&server.url("/private.csv"), &opts).body,
        LIST.as_bytes()
    );
    assert!(
        server.seen("/private.csv")[0]
            .header("Authorization")
            .unwrap()
            .starts_with("Basic ")
    );
    assert!(!format!("{opts:?}").contains(PASSWORD));

    // Wrong password: the error names the fix, never the password.
    let wrong = FetchOptions {
        credentials: Some(Credentials {
            user: USER.to_string(),
            password: format!("{PASSWORD}-old"),
        }),
        ..quick()
    };
    let e = error(&server.url("/private.csv"), &wrong);
    assert!(matches!(e, FetchError::Status { code: 401, .. }), "{e:?}");
    assert!(e.to_string().contains("check the user and password"), "{e}");
    assert!(!e.to_string().contains(PASSWORD) && !format!("{e:?}").contains(PASSWORD));

    // Credentials in the URL work too, and do not show in errors.
    let url = format!("http://{USER}:{PASSWORD}@{}/private.csv", server.addr);
    assert_eq!(document(&url, &quick()).body, LIST.as_bytes());
    let url = format!("http://{USER}:{PASSWORD}@{}/missing.csv", server.addr);
    let e = error(&url, &quick());
    assert!(!e.to_string().contains(PASSWORD), "{e}");
    assert!(e.to_string().contains(&server.url("/missing.csv")), "{e}");
}

#[test]
fn credentials_are_not_sent_to_another_server_on_redirect() {
    let first = Server::http();
    let other = Server::http();
    let opts = FetchOptions {
        credentials: Some(Credentials {
            user: USER.to_string(),
            password: PASSWORD.to_string(),
        }),
        ..quick()
    };
    // Same server: the credentials follow the redirect.
    let same = format!("/go?to={}", first.url("/private.csv"));
    assert_eq!(document(&first.url(&same), &opts).body, LIST.as_bytes());
    // Another server (another port): they do not.
    let elsewhere = format!("/go?to={}", other.url("/private.csv"));
    let e = error(&first.url(&elsewhere), &opts);
    assert!(matches!(e, FetchError::Status { code: 401, .. }), "{e:?}");
    assert_eq!(other.seen("/private.csv")[0].header("Authorization"), None);
}

#[test]
fn https_with_the_ca_file_works_and_without_it_names_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::https(dir.path());
    let opts = FetchOptions {
        ca_file: Some(dir.path().join("ca.pem")),
        ..quick()
    };
    let doc = document(&server.url("/contacts.csv"), &opts);
    assert_eq!(doc.body, LIST.as_bytes());

    let e = error(&server.url("/contacts.csv"), &quick());
    assert!(
        matches!(
            e,
            FetchError::Tls {
                untrusted: true,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("certificate is not trusted"), "{e}");
    assert!(e.to_string().contains("set the CA file"), "{e}");

    // Another CA's file: the message names the file.
    let other = tempfile::tempdir().unwrap();
    tls::write_ca_and_server_cert(other.path());
    let wrong = other.path().join("ca.pem");
    let opts = FetchOptions {
        ca_file: Some(wrong.clone()),
        ..quick()
    };
    let e = error(&server.url("/contacts.csv"), &opts);
    assert!(
        matches!(
            e,
            FetchError::Tls {
                untrusted: true,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(
        e.to_string().contains(&format!(
            "not signed by a CA in the CA file {}",
            wrong.display()
        )),
        "{e}"
    );
}

#[test]
fn a_ca_file_that_is_not_a_certificate_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ca.pem");
    std::fs::write(&path, "not a certificate\n").unwrap();
    let opts = FetchOptions {
        ca_file: Some(path.clone()),
        ..quick()
    };
    let e = error("https://127.0.0.1:1/x.csv", &opts);
    assert!(matches!(e, FetchError::CaFile { .. }), "{e:?}");
    assert!(e.to_string().contains(&path.display().to_string()), "{e}");
    assert!(e.to_string().contains("no PEM certificate"), "{e}");
}

#[test]
fn unsupported_schemes_and_relative_paths_are_refused() {
    let e = error("ftp://127.0.0.1/contacts.csv", &quick());
    assert_eq!(
        e.to_string(),
        "unsupported scheme `ftp:` in ftp://127.0.0.1/contacts.csv; expected an http://, https:// or file:// URL, or an absolute path"
    );
    let e = error("contacts.csv", &quick());
    assert!(matches!(e, FetchError::InvalidUrl { .. }), "{e:?}");
    let e = error("", &quick());
    assert!(matches!(e, FetchError::InvalidUrl { .. }), "{e:?}");
}

#[test]
fn files_by_url_and_by_path_with_unchanged_detection() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("phone book.csv");
    std::fs::write(&path, LIST).unwrap();
    let url = url::Url::from_file_path(&path).unwrap().to_string();
    assert!(url.starts_with("file:///") && url.contains("%20"), "{url}");

    let doc = document(&url, &quick());
    assert_eq!(doc.body, LIST.as_bytes());
    assert_eq!(doc.file_name.as_deref(), Some("phone book.csv"));
    assert_eq!(doc.content_type.as_deref(), Some("text/csv"));
    assert!(doc.validators.etag.is_some() && doc.validators.last_modified.is_some());
    let by_path = document(path.to_str().unwrap(), &quick());
    assert_eq!(by_path.validators, doc.validators);

    let opts = FetchOptions {
        previous: Some(doc.validators.clone()),
        ..quick()
    };
    assert_eq!(get(&url, &opts), Ok(Fetched::Unchanged));

    // Changed size: fetched again.
    std::fs::write(&path, format!("{LIST}Carol,102\n")).unwrap();
    let again = document(&url, &opts);
    assert!(again.body.ends_with(b"Carol,102\n"));
    assert_ne!(again.validators, doc.validators);
}

#[test]
fn file_errors_name_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.csv");
    let e = error(missing.to_str().unwrap(), &quick());
    assert_eq!(
        e.to_string(),
        format!("file {} does not exist", missing.display())
    );
    let e = error(dir.path().to_str().unwrap(), &quick());
    assert!(matches!(e, FetchError::NotAFile { .. }), "{e:?}");
    let e = error("file://server/share/x.csv", &quick());
    assert!(matches!(e, FetchError::InvalidUrl { .. }), "{e:?}");
}

#[test]
fn a_file_over_the_cap_is_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.csv");
    std::fs::write(&path, [b'x'; 5000]).unwrap();
    let opts = FetchOptions {
        max_bytes: 1024,
        ..quick()
    };
    let mut calls = 0;
    let e = fetch(path.to_str().unwrap(), &opts, &mut |_, _| calls += 1).unwrap_err();
    assert!(
        matches!(
            e,
            FetchError::TooLarge {
                declared: Some(5000),
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(calls, 0);
}
