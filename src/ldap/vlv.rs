//! Virtual list views (draft-ietf-ldapext-ldapv3-vlv-09): one window of a sorted
//! search, chosen by position or by the value typed, as Poly phones browse the phone
//! book (`dir.corp.vlv.allow`). The control, the window and the answer are those of
//! OpenLDAP's sssvlv overlay, edge cases included, so that a phone set up for one
//! behaves the same with the other.
//!
//! A view of the whole phone book is the directory's kept order (`Directory::order`):
//! a window costs what its entries cost. A view of some entries is sorted once and
//! kept for the connection's next window (`LastView`).

use crate::directory::order::{SortKey, View};
use crate::directory::{Directory, Filter};
use bytes::BytesMut;
use ldap3_lber::common::TagClass;
use ldap3_lber::structure::{PL, StructureTag};
use ldap3_lber::structures::{ASNTag, Enumerated, Integer, OctetString, Sequence, Tag};
use ldap3_lber::universal::Types;
use ldap3_proto::control::LdapControl;
use std::sync::Arc;

pub const REQUEST_OID: &str = "2.16.840.1.113730.3.4.9";
const RESPONSE_OID: &str = "2.16.840.1.113730.3.4.10";

/// The view's own results, numbered as OpenLDAP writes them (the draft numbers
/// them 60 and 61; clients print what they receive).
pub const SORT_MISSING: i64 = 76;
pub const RANGE_ERROR: i64 = 77;

/// At most how many sort keys a view has (sssvlv's default).
pub const MAX_KEYS: usize = 5;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub before: usize,
    pub after: usize,
    pub target: Target,
    pub context: Option<Vec<u8>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The entry at `offset` (from 1) of a list the client believes `count` long
    /// (0: it does not know).
    Offset { offset: usize, count: usize },
    /// The first entry whose first sort key is at or after this value.
    Value(String),
}

impl Request {
    /// The control as a client sends it (for benchmarks and tests).
    pub fn control(&self) -> LdapControl {
        let int = integer;
        let target = match &self.target {
            Target::Offset { offset, count } => Tag::Sequence(Sequence {
                id: 0,
                class: TagClass::Context,
                inner: vec![int(*offset), int(*count)],
            }),
            Target::Value(v) => Tag::OctetString(OctetString {
                id: 1,
                class: TagClass::Context,
                inner: v.as_bytes().to_vec(),
            }),
        };
        let mut inner = vec![int(self.before), int(self.after), target];
        if let Some(context) = &self.context {
            inner.push(octets(context));
        }
        LdapControl::Unknown {
            oid: REQUEST_OID.to_string(),
            criticality: true,
            value: Some(ber(inner)),
        }
    }
}

/// Reads the request control's value; None when it is not one.
pub fn parse(value: &[u8]) -> Option<Request> {
    let (rest, tag) = ldap3_lber::parse::parse_tag(value, 4).ok()?;
    if !rest.is_empty() {
        return None;
    }
    let mut parts = tag
        .match_class(TagClass::Universal)?
        .match_id(Types::Sequence as u64)?
        .expect_constructed()?
        .into_iter();
    let before = count(parts.next()?)?;
    let after = count(parts.next()?)?;
    let target = match parts.next()? {
        StructureTag {
            class: TagClass::Context,
            id: 0,
            payload: PL::C(pair),
        } => match <[StructureTag; 2]>::try_from(pair).ok()? {
            [offset, count_] => Target::Offset {
                offset: count(offset)?,
                count: count(count_)?,
            },
        },
        StructureTag {
            class: TagClass::Context,
            id: 1,
            payload: PL::P(bytes),
        } => Target::Value(String::from_utf8(bytes).ok()?),
        _ => return None,
    };
    let context = match parts.next() {
        None => None,
        Some(t) => Some(
            t.match_class(TagClass::Universal)?
                .match_id(Types::OctetString as u64)?
                .expect_primitive()?,
        ),
    };
    parts.next().is_none().then_some(Request {
        before,
        after,
        target,
        context,
    })
}

/// A non-negative INTEGER, as a count (saturating: no window is that large).
fn count(tag: StructureTag) -> Option<usize> {
    let bytes = tag
        .match_class(TagClass::Universal)?
        .match_id(Types::Integer as u64)?
        .expect_primitive()?;
    if bytes.is_empty() || bytes[0] & 0x80 != 0 {
        return None;
    }
    let n = bytes.iter().fold(0u64, |n, b| {
        n.saturating_mul(256).saturating_add(u64::from(*b))
    });
    Some(usize::try_from(n).unwrap_or(usize::MAX))
}

/// Which entries of a view of `len` entries a request wants.
#[derive(Debug, PartialEq, Eq)]
pub struct Window {
    /// Places in the view, from `start` up to `end` (excluded).
    pub start: usize,
    pub end: usize,
    /// The target's position as the response reports it (from 1).
    pub target: usize,
}

/// An offset past the end of the list (`RANGE_ERROR`).
#[derive(Debug, PartialEq, Eq)]
pub struct OutOfRange;

/// The window of a view of `len` entries; `place_of` finds where a value would
/// sort.
pub fn window(
    req: &Request,
    len: usize,
    place_of: impl FnOnce(&str) -> usize,
) -> Result<Window, OutOfRange> {
    if len == 0 {
        return Ok(Window {
            start: 0,
            end: 0,
            target: 0,
        });
    }
    let last = len - 1;
    let (node, target) = match &req.target {
        // As sssvlv: the last entry when the offset is the count (both 0 included),
        // the first for offset 1, else the offset scaled to the count the client
        // gave, when it gave one that is not the list's.
        Target::Offset { offset, count } if offset == count => (last, len),
        Target::Offset { offset: 1, .. } => (0, 1),
        Target::Offset { offset, count } => {
            let target = if *count != 0 && *count != len {
                if offset > count {
                    return Err(OutOfRange);
                }
                // offset < count here, so the target is below len.
                (len as u128 * *offset as u128 / *count as u128) as usize
            } else {
                if *offset > len {
                    return Err(OutOfRange);
                }
                *offset
            };
            (target.saturating_sub(1), target)
        }
        Target::Value(value) => {
            let at = place_of(value);
            if at >= len {
                // Past the end: the last entries, `before` of them (at least one).
                let start = len - req.before.clamp(1, len);
                return Ok(Window {
                    start,
                    end: len,
                    target: len + 1,
                });
            }
            (at, at + 1)
        }
    };
    let start = node - req.before.min(node);
    let end = node.saturating_add(req.after).saturating_add(1).min(len);
    Ok(Window { start, end, target })
}

/// The response control: target position, content count, result and the context.
pub fn response(target: usize, count: usize, result: i64, context: Option<&[u8]>) -> LdapControl {
    let mut inner = vec![
        integer(target),
        integer(count),
        Tag::Enumerated(Enumerated {
            id: Types::Enumerated as u64,
            class: TagClass::Universal,
            inner: result,
        }),
    ];
    if let Some(context) = context {
        inner.push(octets(context));
    }
    LdapControl::Unknown {
        oid: RESPONSE_OID.to_string(),
        criticality: false,
        value: Some(ber(inner)),
    }
}

fn integer(n: usize) -> Tag {
    Tag::Integer(Integer {
        id: Types::Integer as u64,
        class: TagClass::Universal,
        inner: i64::try_from(n).unwrap_or(i64::MAX),
    })
}

fn octets(bytes: &[u8]) -> Tag {
    Tag::OctetString(OctetString {
        id: Types::OctetString as u64,
        class: TagClass::Universal,
        inner: bytes.to_vec(),
    })
}

/// A SEQUENCE of `inner`, encoded.
fn ber(inner: Vec<Tag>) -> Vec<u8> {
    let sequence = Tag::Sequence(Sequence {
        id: Types::Sequence as u64,
        class: TagClass::Universal,
        inner,
    });
    let mut out = BytesMut::new();
    // Writing into memory does not fail.
    let _ = ldap3_lber::write::encode_into(&mut out, sequence.into_structure());
    out.to_vec()
}

/// The last view of some entries a connection browsed, for its next window: a
/// phone scrolling its list asks for the same view again and again.
#[derive(Default)]
pub struct LastView {
    view: Option<(Arc<Directory>, u64, View)>,
}

impl LastView {
    /// The view of `filter` sorted by `keys` on `dir` (see `View::of`); `search`
    /// names the search (its base, scope, filter and keys).
    pub fn get(
        &mut self,
        dir: &Arc<Directory>,
        search: u64,
        filter: &Filter,
        keys: &[SortKey],
        max: usize,
    ) -> Option<View> {
        if let Some((kept, id, view)) = &self.view
            && Arc::ptr_eq(kept, dir)
            && *id == search
        {
            return Some(view.clone());
        }
        let view = dir.view(filter, keys, max)?;
        // The whole phone book's order is kept by the directory itself.
        self.view = matches!(view, View::Some(_)).then(|| (dir.clone(), search, view.clone()));
        Some(view)
    }

    /// Forgets a view of another generation than `dir`.
    pub fn keep_only(&mut self, dir: &Arc<Directory>) {
        if self
            .view
            .as_ref()
            .is_some_and(|(kept, _, _)| !dir.serves(kept))
        {
            *self = LastView::default();
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn offset(before: usize, after: usize, offset: usize, count: usize) -> Request {
        Request {
            before,
            after,
            target: Target::Offset { offset, count },
            context: None,
        }
    }

    fn w(start: usize, end: usize, target: usize) -> Result<Window, OutOfRange> {
        Ok(Window { start, end, target })
    }

    #[test]
    fn reads_what_ldapsearch_sends() {
        // ldapsearch -E 'vlv=1/2/3/0': before 1, after 2, offset 3, count 0.
        let by_offset = [
            0x30, 0x0e, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02, 0xa0, 0x06, 0x02, 0x01, 0x03, 0x02,
            0x01, 0x00,
        ];
        assert_eq!(parse(&by_offset), Some(offset(1, 2, 3, 0)));
        // -E 'vlv=0/9:Mue' with a context.
        let by_value = [
            0x30, 0x10, 0x02, 0x01, 0x00, 0x02, 0x01, 0x09, 0x81, 0x03, b'M', b'u', b'e', 0x04,
            0x03, 1, 2, 3,
        ];
        assert_eq!(
            parse(&by_value),
            Some(Request {
                before: 0,
                after: 9,
                target: Target::Value("Mue".into()),
                context: Some(vec![1, 2, 3]),
            })
        );
        // Negative counts, a missing target, trailing bytes: not a request.
        assert_eq!(
            parse(&[0x30, 0x06, 0x02, 0x01, 0xff, 0x02, 0x01, 0x00]),
            None
        );
        assert_eq!(
            parse(&[0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00]),
            None
        );
        let mut trailing = by_offset.to_vec();
        trailing.push(0);
        assert_eq!(parse(&trailing), None);
        assert_eq!(parse(&[]), None);
        // What `control` writes reads back.
        for req in [
            offset(3, 19, 1_000_001, 1_000_000),
            parse(&by_value).unwrap(),
        ] {
            let LdapControl::Unknown { value, .. } = req.control() else {
                unreachable!();
            };
            assert_eq!(parse(&value.unwrap()), Some(req));
        }
    }

    #[test]
    fn windows_are_sssvlvs() {
        let never = |_: &str| unreachable!();
        // The first, the last, the middle; before and after cut at the ends.
        assert_eq!(window(&offset(1, 2, 1, 0), 10, never), w(0, 3, 1));
        assert_eq!(window(&offset(2, 2, 10, 10), 10, never), w(7, 10, 10));
        assert_eq!(window(&offset(2, 2, 5, 0), 10, never), w(2, 7, 5));
        // A count the client guessed scales the offset: 50 of 100 is the 5th of 10.
        assert_eq!(window(&offset(0, 1, 50, 100), 10, never), w(4, 6, 5));
        // Out of range.
        assert_eq!(window(&offset(0, 1, 11, 0), 10, never), Err(OutOfRange));
        assert_eq!(window(&offset(0, 1, 101, 100), 10, never), Err(OutOfRange));
        // Offset 0 and count 0 is the last entry; offset 0 of a count is the first.
        assert_eq!(window(&offset(0, 0, 0, 0), 10, never), w(9, 10, 10));
        assert_eq!(window(&offset(0, 1, 0, 5), 10, never), w(0, 2, 0));
        // By value: where it sorts, or past the end (the last `before`, at least one).
        let value = |before, after| Request {
            before,
            after,
            target: Target::Value("m".into()),
            context: None,
        };
        assert_eq!(window(&value(1, 1,), 10, |_| 4), w(3, 6, 5));
        assert_eq!(window(&value(3, 5), 10, |_| 10), w(7, 10, 11));
        assert_eq!(window(&value(0, 5), 10, |_| 10), w(9, 10, 11));
        // An empty view has no window.
        assert_eq!(window(&offset(1, 1, 5, 0), 0, never), w(0, 0, 0));
    }

    #[test]
    fn the_response_is_what_openldap_writes() {
        // slapd's answer to vlv=1/2/3/0 over 7 entries: pos=3 count=7, success, with
        // its 8-byte context.
        let context = [0xf0, 0x28, 0x00, 0x2c, 0x12, 0x7f, 0x00, 0x00];
        let control = response(3, 7, 0, Some(&context));
        let LdapControl::Unknown { oid, value, .. } = control else {
            unreachable!("{control:?}");
        };
        assert_eq!(oid, RESPONSE_OID);
        let mut want = vec![
            0x30, 0x13, 0x02, 0x01, 0x03, 0x02, 0x01, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x08,
        ];
        want.extend(context);
        assert_eq!(value.unwrap(), want);
    }
}
