//! The imported contacts as they travel to a node: `SOPPUSH1\n`, a u32 length and
//! the JSON of a `Header` (format version, content hash, count, origin node, time,
//! size, and each snapshot's `Part`), the SHA-256 of that JSON, then the snapshot
//! files one after the other, as stored, compressed with deflate as one stream.
//! The receiver checks the header against its digest, and everything the header
//! claims against what it decompressed, before anything is stored.
//!
//! Version 4 may carry a snapshot as its changes from one the node holds
//! (`Part::base`, `delta`); a push with none is version 3.
//! Version 3 carries every imported snapshot (the external contacts and each
//! directory source's), each with its source's name and priority; the header's
//! hash names them all (`sync::combined`). Version 2 carried the external
//! snapshot alone, version 1 the same without the header's digest; both are still
//! read, as one external snapshot merged with the receiver's own priority.

use super::sync::{self, SnapshotId};
use crate::store::snapshot::SnapshotMeta;
use crate::ucm::import::EXTERNAL;
use flate2::Compression;
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};

const MAGIC: &[u8; 9] = b"SOPPUSH1\n";
/// The wire format's newest version; a receiver refuses a version it does not know.
pub const VERSION: u32 = 4;
/// The version of a push of whole snapshots (each one named in the header).
const VERSION_WHOLE: u32 = 3;
/// The version that carried the external snapshot alone, still read.
const VERSION_EXTERNAL_ONLY: u32 = 2;
/// The version whose header had no digest either, still read.
const VERSION_WITHOUT_DIGEST: u32 = 1;
/// The largest header accepted.
const MAX_HEADER: usize = 64 * 1024;

/// What a push claims to be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub version: u32,
    /// The hash naming the snapshots together (`sync::combined`; the external
    /// snapshot's own hash when it travels alone).
    pub hash: String,
    /// Contacts in all.
    pub count: u64,
    /// The node whose import the newest snapshot is.
    pub origin: String,
    /// When the newest snapshot was imported, seconds since the Unix epoch.
    pub created: u64,
    /// The node that pushed it.
    pub sender: String,
    /// Size of the snapshot files (of the changes, for those sent as changes),
    /// uncompressed, in all.
    pub bytes: u64,
    /// Each snapshot, in the order of the files (version 3).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<Part>,
}

/// One snapshot of a push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    /// `ext` for the external contacts, else the directory source's name (the
    /// prefix of its contacts' uids).
    pub source: String,
    /// The priority the origin merges it with; None: the receiver's own.
    pub priority: Option<i32>,
    /// SHA-256 of its contacts (the snapshot's own hash).
    pub hash: String,
    pub count: u64,
    /// The node whose import or sync it is.
    pub origin: String,
    /// When it was imported or synced, seconds since the Unix epoch.
    pub created: u64,
    /// Size of its file, uncompressed (of its changes, for a delta).
    pub bytes: u64,
    /// Sent as its changes from the snapshot of this hash, which the node holds
    /// (version 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
}

impl Part {
    pub fn of(source: &str, priority: Option<i32>, meta: &SnapshotMeta, bytes: u64) -> Part {
        Part {
            source: source.to_string(),
            priority,
            hash: meta.hash.clone(),
            count: meta.count,
            origin: meta.origin.clone(),
            created: meta.created,
            bytes,
            base: None,
        }
    }

    pub fn id(&self) -> SnapshotId {
        SnapshotId {
            hash: self.hash.clone(),
            count: self.count,
            origin: self.origin.clone(),
            created: self.created,
        }
    }
}

/// The id of several parts taken as one (`sync::combined`).
pub fn combined(parts: &[Part]) -> Option<SnapshotId> {
    let ids: Vec<SnapshotId> = parts.iter().map(Part::id).collect();
    sync::combined(
        parts
            .iter()
            .zip(&ids)
            .map(|(p, id)| (p.source.as_str(), p.priority, id)),
    )
}

impl Header {
    /// The header of a push of `parts` (at least one), in the current version.
    pub fn of(parts: Vec<Part>, sender: &str) -> Header {
        let id = combined(&parts).unwrap_or_default();
        let delta = parts.iter().any(|p| p.base.is_some());
        Header {
            version: if delta { VERSION } else { VERSION_WHOLE },
            hash: id.hash,
            count: id.count,
            origin: id.origin,
            created: id.created,
            sender: sender.to_string(),
            bytes: parts.iter().map(|p| p.bytes).sum(),
            parts,
        }
    }

    /// The same push with its snapshots whole (a delta rebuilt into its file).
    pub fn with_whole(mut self, parts: Vec<Part>) -> Header {
        self.version = VERSION_WHOLE;
        self.bytes = parts.iter().map(|p| p.bytes).sum();
        self.parts = parts;
        self
    }

    /// The snapshots pushed: as listed, or, from a node of an earlier version, the
    /// one external snapshot the header describes.
    pub fn parts(&self) -> Vec<Part> {
        if self.version >= VERSION_WHOLE {
            return self.parts.clone();
        }
        vec![Part {
            source: EXTERNAL.to_string(),
            priority: None,
            hash: self.hash.clone(),
            count: self.count,
            origin: self.origin.clone(),
            created: self.created,
            bytes: self.bytes,
            base: None,
        }]
    }

    /// Whether the parts are what the header says of them all: at least one, each
    /// source once, their sizes and counts adding up, their hash the header's.
    fn consistent(&self) -> Result<(), String> {
        if self.version < VERSION_WHOLE {
            return Ok(());
        }
        if self.parts.is_empty() {
            return Err("it holds no snapshot".to_string());
        }
        let mut names: Vec<&str> = self.parts.iter().map(|p| p.source.as_str()).collect();
        names.sort_unstable();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(format!("it holds the source {:?} twice", w[0]));
        }
        let sha256 =
            |h: &str| h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if !self
            .parts
            .iter()
            .all(|p| sha256(&p.hash) && p.base.as_deref().is_none_or(sha256))
        {
            return Err("a snapshot's hash is not a SHA-256".to_string());
        }
        let bytes = self
            .parts
            .iter()
            .try_fold(0u64, |n, p| n.checked_add(p.bytes));
        let count = self
            .parts
            .iter()
            .try_fold(0u64, |n, p| n.checked_add(p.count));
        if bytes != Some(self.bytes) || count != Some(self.count) {
            return Err("its snapshots' sizes or counts do not add up".to_string());
        }
        if combined(&self.parts).map(|id| id.hash) != Some(self.hash.clone()) {
            return Err("its snapshots do not match its hash".to_string());
        }
        Ok(())
    }
}

/// Splits the decompressed files of a push into each part's bytes; `decode`
/// checked that they add up.
pub fn split<'a>(header: &Header, body: &'a [u8]) -> Vec<(Part, &'a [u8])> {
    let mut rest = body;
    header
        .parts()
        .into_iter()
        .map(|p| {
            let (this, more) = rest.split_at((p.bytes as usize).min(rest.len()));
            rest = more;
            (p, this)
        })
        .collect()
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WireError {
    #[error("not a pushed snapshot (it does not start with SOPPUSH1); nothing was stored")]
    NotASnapshot,
    #[error("the snapshot's header is damaged; nothing was stored")]
    BadHeader,
    #[error(
        "the snapshot is of format version {0}, this node reads version {VERSION}; update sop on the older node"
    )]
    Version(u32),
    #[error("the snapshot would be {0} bytes, over the limit of {1} bytes; nothing was stored")]
    TooLarge(u64, u64),
    #[error("the snapshot is damaged in transit ({0}); nothing was stored")]
    Damaged(String),
}

/// Compresses snapshot files (their bytes as stored, one after the other, as the
/// header lists them) for a push.
pub fn encode(header: &Header, snapshot: &[u8]) -> std::io::Result<Vec<u8>> {
    let json = serde_json::to_vec(header).map_err(std::io::Error::other)?;
    let mut out = Vec::with_capacity(snapshot.len() / 4 + json.len() + 16);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(json.len() as u32).to_le_bytes());
    out.extend_from_slice(&json);
    if header.version != VERSION_WITHOUT_DIGEST {
        out.extend_from_slice(&Sha256::digest(&json));
    }
    let mut z = DeflateEncoder::new(out, Compression::fast());
    z.write_all(snapshot)?;
    z.finish()
}

/// Reads a push: its header and the snapshot files' bytes (`split` parts them).
/// Refuses a push over `limit` bytes before decompressing more than that.
pub fn decode(bytes: &[u8], limit: u64) -> Result<(Header, Vec<u8>), WireError> {
    let rest = bytes.strip_prefix(MAGIC).ok_or(WireError::NotASnapshot)?;
    if rest.len() < 4 {
        return Err(WireError::BadHeader);
    }
    let (len, rest) = rest.split_at(4);
    let len = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
    if len > MAX_HEADER || len > rest.len() {
        return Err(WireError::BadHeader);
    }
    let (json, rest) = rest.split_at(len);
    let header: Header = serde_json::from_slice(json).map_err(|_| WireError::BadHeader)?;
    let body = match header.version {
        VERSION_WITHOUT_DIGEST => rest,
        VERSION | VERSION_WHOLE | VERSION_EXTERNAL_ONLY => {
            let digest = Sha256::digest(json);
            match rest.split_at_checked(digest.len()) {
                Some((sent, body)) if sent == digest.as_slice() => body,
                _ => return Err(WireError::BadHeader),
            }
        }
        other => return Err(WireError::Version(other)),
    };
    header.consistent().map_err(WireError::Damaged)?;
    if header.bytes > limit {
        return Err(WireError::TooLarge(header.bytes, limit));
    }
    let mut out = Vec::with_capacity(header.bytes as usize);
    DeflateDecoder::new(body)
        .take(header.bytes + 1)
        .read_to_end(&mut out)
        .map_err(|e| WireError::Damaged(format!("cannot decompress: {e}")))?;
    if out.len() as u64 != header.bytes {
        return Err(WireError::Damaged(format!(
            "{} bytes announced, {} received",
            header.bytes,
            out.len()
        )));
    }
    Ok((header, out))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn part(source: &str, bytes: u64) -> Part {
        Part {
            source: source.into(),
            priority: Some(20),
            hash: "ab".repeat(32),
            count: 2,
            origin: "a".into(),
            created: 1_700_000_000,
            bytes,
            base: None,
        }
    }

    #[test]
    fn a_push_of_changes_is_version_4_and_a_whole_one_version_3() {
        let whole = Header::of(vec![part(EXTERNAL, 10)], "a");
        assert_eq!(whole.version, 3);
        let changes = Header::of(
            vec![Part {
                base: Some("cd".repeat(32)),
                ..part(EXTERNAL, 10)
            }],
            "a",
        );
        assert_eq!(changes.version, 4);
        // The same snapshots named by the same hash, however they travel.
        assert_eq!(changes.hash, whole.hash);
        let wire = encode(&changes, &[7u8; 10]).unwrap();
        let (got, _) = decode(&wire, 1 << 20).unwrap();
        assert_eq!(got.parts[0].base, changes.parts[0].base);
        assert_eq!(got.clone().with_whole(got.parts.clone()).version, 3);
    }

    /// A push of one external snapshot of `bytes` bytes.
    fn header(bytes: u64) -> Header {
        Header::of(vec![part(EXTERNAL, bytes)], "a")
    }

    #[test]
    fn round_trip() {
        let body = b"SOPSNAP1\n some snapshot bytes, some snapshot bytes".repeat(100);
        let h = header(body.len() as u64);
        let wire = encode(&h, &body).unwrap();
        assert!(wire.len() < body.len() / 4, "compressed: {}", wire.len());
        assert_eq!(decode(&wire, 1 << 20).unwrap(), (h, body));
    }

    #[test]
    fn several_snapshots_travel_together_and_must_add_up() {
        let (ext, corp) = (vec![1u8; 300], vec![2u8; 500]);
        let mut corp_part = part("corp", 500);
        corp_part.hash = "cd".repeat(32);
        corp_part.created += 10;
        let h = Header::of(vec![part(EXTERNAL, 300), corp_part.clone()], "b");
        assert_eq!((h.bytes, h.count, h.created), (800, 4, 1_700_000_010));
        let wire = encode(&h, &[ext.clone(), corp.clone()].concat()).unwrap();
        let (got, body) = decode(&wire, 1 << 20).unwrap();
        let split = split(&got, &body);
        assert_eq!(split.len(), 2);
        assert_eq!((split[0].0.source.as_str(), split[0].1), ("ext", &ext[..]));
        assert_eq!((split[1].0.clone(), split[1].1), (corp_part, &corp[..]));

        // A header whose parts do not add up, or name a source twice, is refused
        // (its digest is right: the sender made it so).
        let mut short = h.clone();
        short.bytes = 700;
        let wire = encode(&short, &vec![0u8; 700]).unwrap();
        assert!(matches!(decode(&wire, 1 << 20), Err(WireError::Damaged(_))));
        let mut twice = Header::of(vec![part("corp", 300), part("corp", 500)], "b");
        let wire = encode(&twice, &vec![0u8; 800]).unwrap();
        let e = decode(&wire, 1 << 20).unwrap_err().to_string();
        assert!(
            e.contains("\"corp\" twice") && e.contains("nothing was stored"),
            "{e}"
        );
        // A changed priority changes the hash the header names.
        twice.parts = vec![part(EXTERNAL, 300), part("corp", 500)];
        twice.parts[1].hash = "cd".repeat(32);
        twice.parts[1].priority = Some(99);
        let wire = encode(&twice, &vec![0u8; 800]).unwrap();
        assert!(matches!(decode(&wire, 1 << 20), Err(WireError::Damaged(_))));
        let mut odd = h.clone();
        odd.parts[1].hash = "../../x".into();
        let wire = encode(&odd, &vec![0u8; 800]).unwrap();
        assert!(matches!(decode(&wire, 1 << 20), Err(WireError::Damaged(_))));
        let mut none = h;
        none.parts.clear();
        let wire = encode(&none, &vec![0u8; 800]).unwrap();
        assert!(matches!(decode(&wire, 1 << 20), Err(WireError::Damaged(_))));
    }

    #[test]
    fn damage_and_lies_are_refused() {
        let body = vec![7u8; 10_000];
        let wire = encode(&header(body.len() as u64), &body).unwrap();
        assert_eq!(decode(b"PK\x03\x04", 1 << 20), Err(WireError::NotASnapshot));
        assert_eq!(decode(&wire[..12], 1 << 20), Err(WireError::BadHeader));
        assert!(matches!(
            decode(&wire[..wire.len() - 3], 1 << 20),
            Err(WireError::Damaged(_))
        ));
        assert_eq!(decode(&wire, 100), Err(WireError::TooLarge(10_000, 100)));
        // A header that lies about the size: the stream is cut at the claim.
        let mut lying = header(10);
        lying.parts[0].bytes = 10;
        let lying = encode(&lying, &body).unwrap();
        assert!(matches!(
            decode(&lying, 1 << 20),
            Err(WireError::Damaged(_))
        ));
        let mut newer = header(body.len() as u64);
        newer.version = VERSION + 1;
        let wire = encode(&newer, &body).unwrap();
        assert_eq!(decode(&wire, 1 << 20), Err(WireError::Version(VERSION + 1)));
    }

    #[test]
    fn a_changed_header_is_refused_and_versions_1_and_2_still_read() {
        let body = vec![7u8; 1000];
        let h = header(body.len() as u64);
        let wire = encode(&h, &body).unwrap();
        // The sender's name changed in transit: the JSON still reads, the digest
        // does not match.
        let at = wire
            .windows(12)
            .position(|w| w == b"\"sender\":\"a\"")
            .unwrap();
        let mut renamed = wire.clone();
        renamed[at + 10] = b'b';
        assert_eq!(decode(&renamed, 1 << 20), Err(WireError::BadHeader));
        for version in [VERSION_WITHOUT_DIGEST, VERSION_EXTERNAL_ONLY] {
            let old = Header {
                version,
                parts: Vec::new(),
                ..h.clone()
            };
            let wire = encode(&old, &body).unwrap();
            let (got, bytes) = decode(&wire, 1 << 20).unwrap();
            assert_eq!((&got, &bytes), (&old, &body));
            // One external snapshot, merged with the receiver's own priority.
            let parts = got.parts();
            assert_eq!(parts.len(), 1);
            assert_eq!(
                (parts[0].source.as_str(), parts[0].priority),
                (EXTERNAL, None)
            );
            assert_eq!(
                (parts[0].hash.as_str(), parts[0].bytes),
                (h.hash.as_str(), 1000)
            );
        }
    }
}
