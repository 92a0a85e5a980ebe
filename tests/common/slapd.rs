//! A real OpenLDAP `slapd` on 127.0.0.1 with a fixture loaded, as an upstream
//! directory for directory sources.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const SUFFIX: &str = "dc=corp,dc=example";
pub const ADMIN: &str = "cn=admin,dc=corp,dc=example";
pub const ADMIN_PASSWORD: &str = "secret";
/// An ordinary account, subject to the size limits.
pub const READER: &str = "cn=reader,dc=corp,dc=example";
pub const READER_PASSWORD: &str = "read-only";

/// Active Directory's user attributes, with their AD OIDs, for AD-style fixtures.
pub const AD_SCHEMA: &str = "\
attributetype ( 1.2.840.113556.1.4.221 NAME 'sAMAccountName' EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.721 NAME 'ipPhone' EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )
attributetype ( 1.2.840.113556.1.2.18 NAME 'otherTelephone' EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )
attributetype ( 1.2.840.113556.1.2.146 NAME 'company' EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )
attributetype ( 1.2.840.113556.1.2.141 NAME 'department' EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )
attributetype ( 2.16.840.1.113730.3.1.35 NAME 'thumbnailPhoto' SYNTAX 1.3.6.1.4.1.1466.115.121.1.40 )
objectclass ( 1.2.840.113556.1.5.9 NAME 'user' SUP inetOrgPerson STRUCTURAL MAY ( sAMAccountName $ ipPhone $ otherTelephone $ company $ department $ c $ thumbnailPhoto ) )
";

#[derive(Default)]
pub struct Options<'a> {
    /// Entries under the suffix (the suffix, `ou=people` and the reader are added
    /// under `SUFFIX`).
    pub ldif: String,
    /// The database's suffix, `SUFFIX` when empty. Under another suffix `ldif` brings
    /// every entry itself, the suffix's own included.
    pub suffix: &'a str,
    /// Lines before the database section, such as `sizelimit unlimited`.
    pub global: &'a str,
    /// Lines for the database section, such as `limits * size.soft=100`.
    pub database: &'a str,
    /// Extra schema text (attribute types, object classes).
    pub schema: &'a str,
    /// A directory with ca.pem, cert.pem and key.pem: also listen for LDAPS.
    pub tls: Option<&'a Path>,
}

pub struct Slapd {
    child: Child,
    pub port: u16,
    pub tls_port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Slapd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The suffix, `ou=people` and the reader account.
fn base_ldif() -> String {
    format!(
        "dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: corp\no: Corp\n\n\
         dn: ou=people,{SUFFIX}\nobjectClass: organizationalUnit\nou: people\n\n\
         dn: {READER}\nobjectClass: person\ncn: reader\nsn: reader\nuserPassword: {READER_PASSWORD}\n\n"
    )
}

impl Slapd {
    pub fn start(o: Options) -> Slapd {
        assert!(
            Path::new("/usr/sbin/slapd").exists(),
            "OpenLDAP's slapd is needed (Debian package slapd)"
        );
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db");
        std::fs::create_dir(&db).unwrap();
        let schema = dir.path().join("extra.schema");
        std::fs::write(&schema, o.schema).unwrap();
        let tls = o.tls.map_or(String::new(), |t| {
            format!(
                "TLSCACertificateFile {}\nTLSCertificateFile {}\nTLSCertificateKeyFile {}\n",
                t.join("ca.pem").display(),
                t.join("cert.pem").display(),
                t.join("key.pem").display()
            )
        });
        let (suffix, entries) = match o.suffix {
            "" | SUFFIX => (SUFFIX, base_ldif() + &o.ldif),
            other => (other, o.ldif),
        };
        let conf = dir.path().join("slapd.conf");
        std::fs::write(
            &conf,
            format!(
                "include /etc/ldap/schema/core.schema\n\
                 include /etc/ldap/schema/cosine.schema\n\
                 include /etc/ldap/schema/inetorgperson.schema\n\
                 include {schema}\n\
                 modulepath /usr/lib/ldap\n\
                 moduleload back_mdb\n\
                 pidfile {pid}\n\
                 {tls}\
                 {global}\n\
                 database mdb\n\
                 maxsize 1073741824\n\
                 suffix \"{suffix}\"\n\
                 rootdn \"cn=admin,{suffix}\"\n\
                 rootpw {ADMIN_PASSWORD}\n\
                 directory {db}\n\
                 index objectClass eq\n\
                 {database}\n",
                schema = schema.display(),
                pid = dir.path().join("slapd.pid").display(),
                global = o.global,
                db = db.display(),
                database = o.database,
            ),
        )
        .unwrap();
        let ldif = dir.path().join("fixture.ldif");
        std::fs::write(&ldif, entries).unwrap();
        let out = Command::new("/usr/sbin/slapadd")
            .args(["-q", "-f"])
            .arg(&conf)
            .arg("-l")
            .arg(&ldif)
            .output()
            .unwrap();
        assert!(out.status.success(), "slapadd: {out:?}");
        let port = super::free_port();
        let tls_port = super::free_port();
        let mut urls = format!("ldap://127.0.0.1:{port}/");
        if o.tls.is_some() {
            urls.push_str(&format!(" ldaps://127.0.0.1:{tls_port}/"));
        }
        let child = Command::new("/usr/sbin/slapd")
            .arg("-f")
            .arg(&conf)
            .args(["-h", &urls, "-d", "0"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "slapd did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Slapd {
            child,
            port,
            tls_port,
            dir,
        }
    }

    pub fn url(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.port)
    }

    pub fn ldaps_url(&self) -> String {
        format!("ldaps://127.0.0.1:{}", self.tls_port)
    }

    /// Applies LDIF changes as the administrator (`ldapmodify`).
    pub fn modify(&self, ldif: &str) {
        let path = self.dir.path().join("change.ldif");
        std::fs::write(&path, ldif).unwrap();
        let out = Command::new("ldapmodify")
            .args([
                "-x",
                "-H",
                &self.url(),
                "-D",
                ADMIN,
                "-w",
                ADMIN_PASSWORD,
                "-f",
            ])
            .arg(&path)
            .output()
            .unwrap();
        assert!(out.status.success(), "ldapmodify: {out:?}");
    }

    /// Stops the server (it can no longer be reached).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `count` inetOrgPerson entries `uid=u0000...` under `ou=people`.
pub fn people(count: usize) -> String {
    let mut out = String::new();
    for i in 0..count {
        out.push_str(&format!(
            "dn: uid=u{i:04},ou=people,{SUFFIX}\nobjectClass: inetOrgPerson\nuid: u{i:04}\n\
             cn: Person {i:04}\nsn: Person\ngivenName: P{i}\ntelephoneNumber: +49 30 {n}\n\n",
            n = 1_000_000 + i
        ));
    }
    out
}

/// `slapd` and `sop`, each serving the same contacts.
pub struct Servers {
    pub slapd: Slapd,
    pub node: super::Node,
}

/// The LDIF of the entries `sop` serves for `book` as internal contacts under
/// `BASE`, for loading into `slapd` (with `sop::bench::ldif::SCHEMA`).
pub fn served_ldif(book: &[sop::contacts::Contact]) -> String {
    let mut ldif = Vec::new();
    sop::bench::ldif::write(&mut ldif, book, super::BASE).unwrap();
    String::from_utf8(ldif).unwrap()
}
