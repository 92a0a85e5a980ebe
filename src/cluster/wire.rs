//! The snapshot as it travels to a node: `SOPPUSH1\n`, a u32 length and the JSON
//! of a `Header` (format version, content hash, count, origin node, time, size),
//! the SHA-256 of that JSON, then the snapshot file compressed with deflate. The
//! receiver checks the header against its digest, and everything the header
//! claims against what it decompressed, before anything is stored. Version 1
//! (before the header had a digest) is still read.

use crate::store::snapshot::SnapshotMeta;
use flate2::Compression;
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};

const MAGIC: &[u8; 9] = b"SOPPUSH1\n";
/// The wire format's version; a receiver refuses a version it does not know.
pub const VERSION: u32 = 2;
/// The version whose header had no digest, still read.
const VERSION_WITHOUT_DIGEST: u32 = 1;
/// The largest header accepted.
const MAX_HEADER: usize = 64 * 1024;

/// What a pushed snapshot claims to be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub version: u32,
    /// SHA-256 of the contacts (the snapshot's own hash).
    pub hash: String,
    pub count: u64,
    /// The node whose import it is.
    pub origin: String,
    /// When it was imported, seconds since the Unix epoch.
    pub created: u64,
    /// The node that pushed it.
    pub sender: String,
    /// Size of the snapshot file, uncompressed.
    pub bytes: u64,
}

impl Header {
    pub fn of(meta: &SnapshotMeta, sender: &str, bytes: u64) -> Header {
        Header {
            version: VERSION,
            hash: meta.hash.clone(),
            count: meta.count,
            origin: meta.origin.clone(),
            created: meta.created,
            sender: sender.to_string(),
            bytes,
        }
    }
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

/// Compresses a snapshot file (its bytes as stored) for a push.
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

/// Reads a pushed snapshot: its header and the snapshot file's bytes. Refuses a
/// snapshot over `limit` bytes before decompressing more than that.
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
        VERSION => {
            let digest = Sha256::digest(json);
            match rest.split_at_checked(digest.len()) {
                Some((sent, body)) if sent == digest.as_slice() => body,
                _ => return Err(WireError::BadHeader),
            }
        }
        other => return Err(WireError::Version(other)),
    };
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

    fn header(bytes: u64) -> Header {
        Header {
            version: VERSION,
            hash: "ab".repeat(32),
            count: 2,
            origin: "a".into(),
            created: 1_700_000_000,
            sender: "a".into(),
            bytes,
        }
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
        let lying = encode(&header(10), &body).unwrap();
        assert!(matches!(
            decode(&lying, 1 << 20),
            Err(WireError::Damaged(_))
        ));
        let mut newer = header(body.len() as u64);
        newer.version = 3;
        let wire = encode(&newer, &body).unwrap();
        assert_eq!(decode(&wire, 1 << 20), Err(WireError::Version(3)));
    }

    #[test]
    fn a_changed_header_is_refused_and_version_1_still_read() {
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
        let old = Header {
            version: VERSION_WITHOUT_DIGEST,
            ..h
        };
        let wire = encode(&old, &body).unwrap();
        assert_eq!(decode(&wire, 1 << 20), Ok((old, body)));
    }
}
