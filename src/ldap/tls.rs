//! TLS for LDAPS and StartTLS (rustls).

use std::io;
use std::path::Path;
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::{self, ServerConfig};

/// Builds the acceptor from PEM files; errors name the file and what is wrong with it.
pub fn acceptor(certificate: &Path, key: &Path) -> io::Result<TlsAcceptor> {
    fn named(path: &Path, what: &'static str) -> impl Fn(io::Error) -> io::Error {
        let path = path.display().to_string();
        move |e: io::Error| io::Error::new(e.kind(), format!("{what} {path}: {e}"))
    }
    let cert_pem = std::fs::read(certificate).map_err(named(certificate, "TLS certificate"))?;
    let certs: Vec<_> = rustls_pemfile::certs(&mut cert_pem.as_slice())
        .collect::<Result<_, _>>()
        .map_err(named(certificate, "TLS certificate"))?;
    if certs.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "TLS certificate {}: no PEM certificate (-----BEGIN CERTIFICATE-----) in it",
                certificate.display()
            ),
        ));
    }
    let key_pem = std::fs::read(key).map_err(named(key, "TLS key"))?;
    let key_der = rustls_pemfile::private_key(&mut key_pem.as_slice())
        .map_err(named(key, "TLS key"))?
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("TLS key {}: no PEM private key in it", key.display()),
            )
        })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(certs, key_der))
        .map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "TLS certificate {} and key {}: {e}",
                    certificate.display(),
                    key.display()
                ),
            )
        })?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}
