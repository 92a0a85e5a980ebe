//! Request framing ahead of decoding.
//!
//! An LDAP message is a BER SEQUENCE whose header declares its length. Reading that
//! header first lets the server refuse an oversized request from the declared length,
//! before buffering it, and find the message id and operation of a request that then
//! fails to decode, so the client gets a result code for it rather than a hang-up.

/// What the start of the read buffer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame {
    /// Not enough bytes yet to know.
    Incomplete,
    /// A whole message of this many bytes (header included) is at the start of the buffer.
    Complete(usize),
    /// The header declares a message larger than the limit.
    TooLarge(u64),
    /// Not an LDAP message: the first byte is not a SEQUENCE, or the length is malformed.
    Garbage,
}

/// Reads the header of the message at the start of `buf`.
pub fn frame(buf: &[u8], max_bytes: usize) -> Frame {
    let Some(&tag) = buf.first() else {
        return Frame::Incomplete;
    };
    if tag != 0x30 {
        return Frame::Garbage;
    }
    let (header, len) = match length(&buf[1..]) {
        Length::Incomplete => return Frame::Incomplete,
        Length::Invalid => return Frame::Garbage,
        Length::Definite { header, len } => (1 + header, len),
    };
    // Saturating: an 8-byte length near u64::MAX must not wrap to a small size.
    let total = (header as u64).saturating_add(len);
    if total > max_bytes as u64 {
        return Frame::TooLarge(total);
    }
    let total = total as usize;
    if buf.len() < total {
        Frame::Incomplete
    } else {
        Frame::Complete(total)
    }
}

enum Length {
    Incomplete,
    Invalid,
    /// `header` bytes of length encoding, declaring `len` bytes of content.
    Definite {
        header: usize,
        len: u64,
    },
}

fn length(buf: &[u8]) -> Length {
    let Some(&first) = buf.first() else {
        return Length::Incomplete;
    };
    if first < 0x80 {
        return Length::Definite {
            header: 1,
            len: u64::from(first),
        };
    }
    let n = usize::from(first & 0x7f);
    // 0x80 is the indefinite form, which LDAP forbids; more than 8 bytes cannot be a length.
    if n == 0 || n > 8 {
        return Length::Invalid;
    }
    let Some(bytes) = buf.get(1..=n) else {
        return Length::Incomplete;
    };
    let len = bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    Length::Definite { header: 1 + n, len }
}

/// The message id and operation tag of a whole message, read without decoding the
/// rest, for answering a request that does not decode. Returns `None` when even those
/// cannot be found.
pub fn peek_id_and_op(msg: &[u8]) -> Option<(i32, u8)> {
    let Length::Definite { header, .. } = length(msg.get(1..)?) else {
        return None;
    };
    let rest = msg.get(1 + header..)?;
    if *rest.first()? != 0x02 {
        return None;
    }
    let Length::Definite { header: h, len } = length(rest.get(1..)?) else {
        return None;
    };
    if len == 0 || len > 4 {
        return None;
    }
    let start = 1 + h;
    let bytes = rest.get(start..start + len as usize)?;
    let id = bytes.iter().fold(0i64, |acc, b| (acc << 8) | i64::from(*b));
    let op = *rest.get(start + len as usize)?;
    Some((i32::try_from(id).ok()?, op))
}

/// One BER element at the start of `buf`: its tag, its content and what follows it.
fn element(buf: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *buf.first()?;
    let Length::Definite { header, len } = length(buf.get(1..)?) else {
        return None;
    };
    let start = 1 + header;
    let end = start.checked_add(usize::try_from(len).ok()?)?;
    Some((tag, buf.get(start..end)?, buf.get(end..)?))
}

/// The value of a BER INTEGER of at most 8 bytes, sign included.
fn integer(tag: u8, content: &[u8]) -> Option<i64> {
    if tag != 0x02 || content.is_empty() || content.len() > 8 {
        return None;
    }
    let start = if content[0] & 0x80 != 0 { -1i64 } else { 0 };
    Some(
        content
            .iter()
            .fold(start, |acc, b| (acc << 8) | i64::from(*b)),
    )
}

/// The message id of a whole message as sent, before it is narrowed to the
/// protocol's range (0 to 2^31 - 1): a decoder that truncates would answer 2^32 as 0.
pub fn message_id(msg: &[u8]) -> Option<i64> {
    let (_, body, _) = element(msg)?;
    let (tag, id, _) = element(body)?;
    integer(tag, id)
}

/// The size and time limits of a whole search request as sent: the decoder reads a
/// negative number as a large positive one, and narrows larger ones.
pub fn search_limits(msg: &[u8]) -> Option<(i64, i64)> {
    let (_, body, _) = element(msg)?;
    let (_, _, rest) = element(body)?;
    let (0x63, search, _) = element(rest)? else {
        return None;
    };
    // baseObject, scope, derefAliases, then the two limits.
    let (_, _, rest) = element(search)?;
    let (_, _, rest) = element(rest)?;
    let (_, _, rest) = element(rest)?;
    let (tag, size, rest) = element(rest)?;
    let size = integer(tag, size)?;
    let (tag, time, _) = element(rest)?;
    Some((size, integer(tag, time)?))
}

/// The OIDs of the controls a whole message marks critical (the decoder keeps the
/// criticality of only some controls).
pub fn critical_controls(msg: &[u8]) -> Vec<String> {
    controls(msg)
        .into_iter()
        .filter(|(_, critical)| *critical)
        .map(|(oid, _)| String::from_utf8_lossy(oid).into_owned())
        .collect()
}

/// Whether a whole message carries a control of this OID.
pub fn has_control(msg: &[u8], oid: &str) -> bool {
    controls(msg).iter().any(|(o, _)| *o == oid.as_bytes())
}

/// The controls of a whole message: each one's OID and whether it is marked critical.
fn controls(msg: &[u8]) -> Vec<(&[u8], bool)> {
    let mut out = Vec::new();
    let Some((_, body, _)) = element(msg) else {
        return out;
    };
    // The message id, then the operation, then the controls ([0]).
    let Some((_, _, rest)) = element(body) else {
        return out;
    };
    let Some((_, _, rest)) = element(rest) else {
        return out;
    };
    let Some((0xa0, mut controls, _)) = element(rest) else {
        return out;
    };
    while let Some((_, control, next)) = element(controls) {
        controls = next;
        let Some((0x04, oid, after)) = element(control) else {
            continue;
        };
        let critical = matches!(element(after), Some((0x01, [flag], _)) if *flag != 0);
        out.push((oid, critical));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_lengths() {
        assert_eq!(frame(&[], 100), Frame::Incomplete);
        assert_eq!(frame(&[0x30], 100), Frame::Incomplete);
        assert_eq!(frame(&[0x30, 0x02, 0x01], 100), Frame::Incomplete);
        assert_eq!(
            frame(&[0x30, 0x02, 0x01, 0x02, 0xff], 100),
            Frame::Complete(4)
        );
        assert_eq!(frame(&[0x30, 0x81, 0x01, 0x00], 100), Frame::Complete(4));
        assert_eq!(frame(&[0x30, 0x82, 0x01], 100), Frame::Incomplete);
    }

    #[test]
    fn oversized_is_refused_from_the_header_alone() {
        // 1 GiB declared, nothing else sent.
        assert_eq!(
            frame(&[0x30, 0x84, 0x40, 0x00, 0x00, 0x00], 65536),
            Frame::TooLarge(6 + (1 << 30))
        );
    }

    #[test]
    fn the_largest_lengths_do_not_wrap() {
        let mut msg = vec![0x30, 0x88];
        msg.extend([0xff; 8]);
        assert_eq!(frame(&msg, 65536), Frame::TooLarge(u64::MAX));
    }

    #[test]
    fn garbage_is_recognised() {
        assert_eq!(frame(&[0x04, 0x00], 100), Frame::Garbage);
        assert_eq!(frame(&[0x30, 0x80], 100), Frame::Garbage);
        assert_eq!(frame(&[0x30, 0x89], 100), Frame::Garbage);
    }

    #[test]
    fn peeks_message_id_and_operation() {
        // SEQUENCE { INTEGER 7, [APPLICATION 3] ... }
        let msg = [0x30, 0x05, 0x02, 0x01, 0x07, 0x63, 0x00];
        assert_eq!(peek_id_and_op(&msg), Some((7, 0x63)));
        assert_eq!(peek_id_and_op(&[0x30, 0x02, 0x04, 0x00]), None);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod control_tests {
    use super::*;
    use bytes::BytesMut;
    use ldap3_proto::LdapCodec;
    use ldap3_proto::proto::{LdapMsg, LdapOp};
    use tokio_util::codec::Encoder;

    fn encoded(msg: LdapMsg) -> Vec<u8> {
        let mut out = BytesMut::new();
        LdapCodec::default().encode(msg, &mut out).unwrap();
        out.to_vec()
    }

    /// `[control(oid, critical)]` appended to an unbind request with id 3.
    fn with_controls(controls: &[(&str, Option<bool>)]) -> Vec<u8> {
        let mut list = Vec::new();
        for (oid, critical) in controls {
            let mut c = vec![0x04, oid.len() as u8];
            c.extend(oid.as_bytes());
            if let Some(flag) = critical {
                c.extend([0x01, 0x01, if *flag { 0xff } else { 0x00 }]);
            }
            list.push(0x30);
            list.push(c.len() as u8);
            list.extend(c);
        }
        let mut body = vec![0x02, 0x01, 0x03, 0x42, 0x00, 0xa0, list.len() as u8];
        body.extend(list);
        let mut msg = vec![0x30, body.len() as u8];
        msg.extend(body);
        msg
    }

    #[test]
    fn critical_controls_are_read_from_the_bytes() {
        let msg = with_controls(&[
            ("1.2.3", Some(true)),
            ("1.2.4", Some(false)),
            ("1.2.5", None),
            ("1.2.840.113556.1.4.473", Some(true)),
        ]);
        assert_eq!(critical_controls(&msg), ["1.2.3", "1.2.840.113556.1.4.473"]);
        assert!(critical_controls(&encoded(LdapMsg::new(1, LdapOp::UnbindRequest))).is_empty());
        assert!(critical_controls(&[0x30, 0x05, 0x02]).is_empty());
        assert!(has_control(&msg, "1.2.5"));
        assert!(!has_control(&msg, "1.2.6"));
    }

    #[test]
    fn search_limits_are_read_with_their_sign() {
        use ldap3_proto::proto::{
            LdapDerefAliases, LdapFilter, LdapSearchRequest, LdapSearchScope,
        };
        let search = |size, time| {
            encoded(LdapMsg::new(
                1,
                LdapOp::SearchRequest(LdapSearchRequest {
                    base: "dc=x".into(),
                    scope: LdapSearchScope::Subtree,
                    aliases: LdapDerefAliases::Never,
                    sizelimit: size,
                    timelimit: time,
                    typesonly: false,
                    filter: LdapFilter::Present("cn".into()),
                    attrs: vec![],
                }),
            ))
        };
        assert_eq!(search_limits(&search(50, 10)), Some((50, 10)));
        assert_eq!(search_limits(&search(-1, 0)), Some((-1, 0)));
        assert_eq!(
            search_limits(&search(0, i32::MIN)),
            Some((0, i64::from(i32::MIN)))
        );
        assert_eq!(
            search_limits(&encoded(LdapMsg::new(1, LdapOp::UnbindRequest))),
            None
        );
    }

    #[test]
    fn message_ids_are_read_whole() {
        let id = |bytes: &[u8]| {
            let mut body = vec![0x02, bytes.len() as u8];
            body.extend(bytes);
            body.extend([0x42, 0x00]);
            let mut msg = vec![0x30, body.len() as u8];
            msg.extend(body);
            message_id(&msg)
        };
        assert_eq!(id(&[0x07]), Some(7));
        assert_eq!(id(&[0x7f, 0xff, 0xff, 0xff]), Some(i64::from(i32::MAX)));
        assert_eq!(id(&[0x00, 0x80, 0x00, 0x00, 0x00]), Some(1 << 31));
        assert_eq!(id(&[0x01, 0x00, 0x00, 0x00, 0x00]), Some(1 << 32));
        assert_eq!(id(&[0xff]), Some(-1));
        assert_eq!(id(&[]), None);
    }
}
