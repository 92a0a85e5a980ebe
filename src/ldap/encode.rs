//! Writing responses. Search result entries, the bulk of every answer, are written
//! straight from the directory into the output buffer as BER: no intermediate
//! message tree, no copies of values. Everything else goes through `ldap3_proto`.

use crate::directory::served::Group;
use bytes::BytesMut;
use ldap3_proto::LdapCodec;
use ldap3_proto::proto::LdapMsg;
use tokio_util::codec::Encoder;

/// Appends one message encoded by `ldap3_proto`.
pub fn message(out: &mut Vec<u8>, msg: LdapMsg) {
    let mut buf = BytesMut::new();
    // Encoding into memory cannot fail for messages the server builds.
    let _ = LdapCodec::default().encode(msg, &mut buf);
    out.extend_from_slice(&buf);
}

/// Bytes taken by a BER length.
#[inline]
fn len_len(n: usize) -> usize {
    match n {
        0..=0x7f => 1,
        0x80..=0xff => 2,
        0x100..=0xffff => 3,
        0x1_0000..=0xff_ffff => 4,
        _ => 5,
    }
}

/// Bytes taken by a whole TLV whose content is `n` bytes.
#[inline]
fn tlv(n: usize) -> usize {
    1 + len_len(n) + n
}

#[inline]
fn put_len(out: &mut Vec<u8>, n: usize) {
    match len_len(n) {
        1 => out.push(n as u8),
        k => {
            out.push(0x80 | (k as u8 - 1));
            for i in (0..k - 1).rev() {
                out.push((n >> (8 * i)) as u8);
            }
        }
    }
}

#[inline]
fn put_octets(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(0x04);
    put_len(out, bytes.len());
    out.extend_from_slice(bytes);
}

/// The minimal two's complement bytes of a message id (0..2^31-1).
fn msgid_bytes(id: i32) -> ([u8; 5], usize) {
    let be = i64::from(id).to_be_bytes();
    // Keep one leading zero byte when the next byte's top bit is set.
    let mut start = 3;
    while start < 7 && be[start] == 0 && be[start + 1] & 0x80 == 0 {
        start += 1;
    }
    let mut buf = [0u8; 5];
    let n = 8 - start;
    buf[..n].copy_from_slice(&be[start..]);
    (buf, n)
}

/// Appends a SearchResultDone without controls (those with controls go through
/// `message`).
pub fn search_done(out: &mut Vec<u8>, msgid: i32, code: i32, matched_dn: &str, message: &str) {
    let (id, id_len) = msgid_bytes(msgid);
    let (code, code_len) = msgid_bytes(code);
    let result_content = tlv(code_len) + tlv(matched_dn.len()) + tlv(message.len());
    let msg_content = tlv(id_len) + tlv(result_content);
    out.reserve(tlv(msg_content));
    out.push(0x30);
    put_len(out, msg_content);
    out.push(0x02);
    put_len(out, id_len);
    out.extend_from_slice(&id[..id_len]);
    out.push(0x65);
    put_len(out, result_content);
    out.push(0x0a);
    put_len(out, code_len);
    out.extend_from_slice(&code[..code_len]);
    put_octets(out, matched_dn.as_bytes());
    put_octets(out, message.as_bytes());
}

/// An attribute as the encoder sees it: its name and its values, whose lengths
/// are known before the values are read.
pub trait Attribute {
    fn name(&self) -> &str;
    fn lens(&self) -> impl Iterator<Item = usize>;
    fn values(&self) -> impl Iterator<Item = &[u8]>;
}

impl Attribute for Group<'_> {
    fn name(&self) -> &str {
        self.attr.name()
    }
    fn lens(&self) -> impl Iterator<Item = usize> {
        Group::lens(self)
    }
    fn values(&self) -> impl Iterator<Item = &[u8]> {
        self.raws()
    }
}

/// Appends a SearchResultEntry. `dn` is given in pieces written one after the
/// other. With `types_only`, value sets are empty; attributes without values are
/// left out.
pub fn search_entry<A: Attribute>(
    out: &mut Vec<u8>,
    msgid: i32,
    dn: &[&str],
    attrs: &[A],
    types_only: bool,
) {
    // The content lengths of an attribute's value set and of the whole attribute.
    let sizes = |a: &A| -> (usize, usize) {
        let vals = if types_only {
            0
        } else {
            a.lens().map(tlv).sum()
        };
        (vals, tlv(a.name().len()) + tlv(vals))
    };
    let attrs_content: usize = attrs
        .iter()
        .filter(|a| a.lens().next().is_some())
        .map(|a| tlv(sizes(a).1))
        .sum();
    let dn_len: usize = dn.iter().map(|p| p.len()).sum();
    let entry_content = tlv(dn_len) + tlv(attrs_content);
    let (id, id_len) = msgid_bytes(msgid);
    let msg_content = tlv(id_len) + tlv(entry_content);
    out.reserve(tlv(msg_content));

    out.push(0x30);
    put_len(out, msg_content);
    out.push(0x02);
    put_len(out, id_len);
    out.extend_from_slice(&id[..id_len]);
    out.push(0x64);
    put_len(out, entry_content);
    out.push(0x04);
    put_len(out, dn_len);
    for part in dn {
        out.extend_from_slice(part.as_bytes());
    }
    out.push(0x30);
    put_len(out, attrs_content);
    for a in attrs.iter().filter(|a| a.lens().next().is_some()) {
        let (vals, pa) = sizes(a);
        out.push(0x30);
        put_len(out, pa);
        put_octets(out, a.name().as_bytes());
        out.push(0x31);
        put_len(out, vals);
        if !types_only {
            for v in a.values() {
                put_octets(out, v);
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use ldap3_proto::proto::{LdapOp, LdapPartialAttribute, LdapSearchResultEntry};
    use tokio_util::codec::Decoder;

    impl Attribute for (&str, Vec<&str>) {
        fn name(&self) -> &str {
            self.0
        }
        fn lens(&self) -> impl Iterator<Item = usize> {
            self.1.iter().map(|v| v.len())
        }
        fn values(&self) -> impl Iterator<Item = &[u8]> {
            self.1.iter().map(|v| v.as_bytes())
        }
    }

    fn decode(out: &mut BytesMut) -> LdapMsg {
        LdapCodec::new(Some(1 << 24), None)
            .decode(out)
            .unwrap()
            .unwrap()
    }

    #[test]
    fn search_done_decodes_as_ldap3_proto_expects() {
        use ldap3_proto::proto::{LdapResult, LdapResultCode};
        for (msgid, code, matched, message) in [
            (2, LdapResultCode::Success, "", ""),
            (300, LdapResultCode::SizeLimitExceeded, "dc=x", "more"),
            (i32::MAX, LdapResultCode::Canceled, "", &*"m".repeat(200)),
        ] {
            let mut out = Vec::new();
            search_done(&mut out, msgid, code.clone() as i32, matched, message);
            let mut bytes = BytesMut::from(out.as_slice());
            let expected = LdapMsg::new(
                msgid,
                LdapOp::SearchResultDone(LdapResult {
                    code,
                    matcheddn: matched.to_string(),
                    message: message.to_string(),
                    referral: Vec::new(),
                }),
            );
            assert_eq!(decode(&mut bytes), expected);
            assert!(bytes.is_empty());
        }
    }

    #[test]
    fn entries_decode_as_ldap3_proto_expects() {
        let long = "x".repeat(70_000);
        for (msgid, dn, types_only) in [
            (1, "uid=a,dc=x", false),
            (127, "uid=b,dc=x", false),
            (128, "uid=ü,dc=x", true),
            (65_535, &*format!("uid={},dc=x", "y".repeat(300)), false),
            (i32::MAX, "uid=c", false),
        ] {
            let attrs = [
                ("cn", vec!["Jürgen Müller", long.as_str()]),
                ("mail", vec![]),
                ("telephoneNumber", vec!["+49 30 1", "+49 30 2"]),
            ];
            let mut out = Vec::new();
            search_entry(&mut out, msgid, &["", dn], &attrs, types_only);
            let mut out = BytesMut::from(out.as_slice());
            let msg = decode(&mut out);
            assert!(out.is_empty());
            let value = |s: &str| {
                if types_only {
                    vec![]
                } else {
                    vec![s.as_bytes().to_vec()]
                }
            };
            let expected = LdapMsg::new(
                msgid,
                LdapOp::SearchResultEntry(LdapSearchResultEntry {
                    dn: dn.to_string(),
                    attributes: vec![
                        LdapPartialAttribute {
                            atype: "cn".into(),
                            vals: [value("Jürgen Müller"), value(&long)].concat(),
                        },
                        LdapPartialAttribute {
                            atype: "telephoneNumber".into(),
                            vals: [value("+49 30 1"), value("+49 30 2")].concat(),
                        },
                    ],
                }),
            );
            assert_eq!(msg, expected, "msgid {msgid}");
        }
    }
}
