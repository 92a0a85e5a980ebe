//! A snapshot sent as its changes from one the node already holds: the records
//! of the new snapshot, in its order, either copied from runs of the base
//! snapshot's records or carried as they are. The node rebuilds the new file
//! byte for byte from its copy of the base, then checks it as any pushed file.
//!
//! `SOPDELT1\n`, the base snapshot's hash (u32 length, text), the new snapshot's
//! meta (u32 length, JSON) and contact count (u64), then operations until the
//! end: `0`, first record and count (u64 each): copy that run of the base's
//! records; `1`, a length (u64) and that many bytes: records as they are.

use crate::store::snapshot;
use foldhash::HashMap;

const MAGIC: &[u8; 9] = b"SOPDELT1\n";
/// What a node answers when it does not hold the snapshot changes apply to (a
/// node restored from a backup): the pushing node then sends it whole.
pub const NO_BASE: &str = "this node does not hold the snapshot the changes apply to";
const COPY: u8 = 0;
const CARRY: u8 = 1;

/// A record's bytes.
fn record<'a>(l: &snapshot::Layout<'a>, i: usize) -> &'a [u8] {
    &l.bytes[l.records[i].clone()]
}

/// The changes from `base` to `new` (two snapshot files), or None when either is
/// unreadable as a current snapshot.
pub fn make(base_hash: &str, base: &[u8], new: &[u8]) -> Option<Vec<u8>> {
    let b = snapshot::layout(base)?;
    let n = snapshot::layout(new)?;
    // The first place of each record in the base.
    let mut at: HashMap<&[u8], usize> = HashMap::default();
    at.reserve(b.records.len());
    for i in (0..b.records.len()).rev() {
        at.insert(record(&b, i), i);
    }
    let mut out = Vec::new();
    out.extend_from_slice(MAGIC);
    put_bytes(&mut out, base_hash.as_bytes());
    put_bytes(&mut out, &n.bytes[n.meta_json.clone()]);
    out.extend_from_slice(&(n.records.len() as u64).to_le_bytes());
    // The run being copied (first, count), or the records being carried.
    let mut run: Option<(usize, usize)> = None;
    let mut carried: Vec<u8> = Vec::new();
    let flush_run = |out: &mut Vec<u8>, run: &mut Option<(usize, usize)>| {
        if let Some((first, count)) = run.take() {
            out.push(COPY);
            out.extend_from_slice(&(first as u64).to_le_bytes());
            out.extend_from_slice(&(count as u64).to_le_bytes());
        }
    };
    let flush_carried = |out: &mut Vec<u8>, carried: &mut Vec<u8>| {
        if !carried.is_empty() {
            out.push(CARRY);
            out.extend_from_slice(&(carried.len() as u64).to_le_bytes());
            out.append(carried);
        }
    };
    for j in 0..n.records.len() {
        let r = record(&n, j);
        if let Some((first, count)) = &mut run
            && b.records
                .get(*first + *count)
                .is_some_and(|_| record(&b, *first + *count) == r)
        {
            *count += 1;
            continue;
        }
        match at.get(r) {
            Some(&i) => {
                flush_run(&mut out, &mut run);
                flush_carried(&mut out, &mut carried);
                run = Some((i, 1));
            }
            None => {
                flush_run(&mut out, &mut run);
                carried.extend_from_slice(r);
            }
        }
    }
    flush_run(&mut out, &mut run);
    flush_carried(&mut out, &mut carried);
    Some(out)
}

/// The base snapshot's hash a delta applies to; None when it is not a delta.
pub fn base_of(delta: &[u8]) -> Option<String> {
    let mut rest = delta.strip_prefix(MAGIC)?;
    String::from_utf8(take_bytes(&mut rest)?.to_vec()).ok()
}

/// The new snapshot file, from the base file and the delta, at most `max` bytes;
/// why not when they do not fit together.
pub fn apply(base: &[u8], delta: &[u8], max: u64) -> Result<Vec<u8>, String> {
    let damaged = || "the changes sent are damaged".to_string();
    let b = snapshot::layout(base).ok_or("the snapshot the changes apply to is damaged")?;
    let mut rest = delta.strip_prefix(MAGIC).ok_or_else(damaged)?;
    take_bytes(&mut rest).ok_or_else(damaged)?;
    let meta = take_bytes(&mut rest).ok_or_else(damaged)?;
    let count = take_u64(&mut rest).ok_or_else(damaged)?;
    let mut body: Result<(), String> = Ok(());
    let file = snapshot::assemble(meta, count, |out| {
        body = (|| {
            while let Some((&op, more)) = rest.split_first() {
                rest = more;
                match op {
                    COPY => {
                        let first = take_u64(&mut rest).ok_or_else(damaged)? as usize;
                        let n = take_u64(&mut rest).ok_or_else(damaged)? as usize;
                        let end = first
                            .checked_add(n)
                            .filter(|&end| n > 0 && end <= b.records.len())
                            .ok_or("the changes copy records the base does not have")?;
                        let span = b.records[first].start..b.records[end - 1].end;
                        out.extend_from_slice(&b.bytes[span]);
                    }
                    CARRY => {
                        let n = take_u64(&mut rest).ok_or_else(damaged)? as usize;
                        let bytes = rest.get(..n).ok_or_else(damaged)?;
                        rest = &rest[n..];
                        out.extend_from_slice(bytes);
                    }
                    _ => return Err(damaged()),
                }
                if out.len() as u64 > max {
                    return Err(format!("the changes make a snapshot over {max} bytes"));
                }
            }
            Ok(())
        })();
    });
    body?;
    // The records carried are counted, and every record checked against the
    // snapshot's hash, when the rebuilt file is read whole.
    Ok(file)
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u32).to_le_bytes());
    out.extend_from_slice(b);
}

fn take_u64(rest: &mut &[u8]) -> Option<u64> {
    let (n, more) = rest.split_at_checked(8)?;
    *rest = more;
    Some(u64::from_le_bytes(n.try_into().ok()?))
}

fn take_bytes<'a>(rest: &mut &'a [u8]) -> Option<&'a [u8]> {
    let (n, more) = rest.split_at_checked(4)?;
    let n = u32::from_le_bytes(n.try_into().ok()?) as usize;
    let (b, more) = more.split_at_checked(n)?;
    *rest = more;
    Some(b)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::contacts::Contact;
    use crate::store::snapshot::SnapshotMeta;

    fn contact(id: usize) -> Contact {
        Contact {
            id: format!("u{id}"),
            given_name: format!("Given{id}"),
            surname: format!("Surname{id}"),
            ..Contact::default()
        }
    }

    fn file(dir: &std::path::Path, contacts: &[Contact]) -> (String, Vec<u8>) {
        let path = dir.join("s.snap");
        let meta = snapshot::write(&path, SnapshotMeta::default(), contacts).unwrap();
        (meta.hash, std::fs::read(&path).unwrap())
    }

    #[test]
    fn a_few_changes_travel_as_little_and_rebuild_the_same_file() {
        let dir = tempfile::tempdir().unwrap();
        let before: Vec<Contact> = (0..5000).map(contact).collect();
        let mut after = before.clone();
        after[10].surname = "Changed".into();
        after.remove(2000);
        after.insert(4000, contact(9999));
        after.push(contact(10_000));
        let (base_hash, base) = file(dir.path(), &before);
        let (_, new) = file(dir.path(), &after);
        let delta = make(&base_hash, &base, &new).unwrap();
        assert!(
            delta.len() * 20 < new.len(),
            "{} of {}",
            delta.len(),
            new.len()
        );
        assert_eq!(base_of(&delta).unwrap(), base_hash);
        assert_eq!(apply(&base, &delta, u64::MAX).unwrap(), new);
        // Nothing changed: a few bytes.
        let same = make(&base_hash, &base, &base).unwrap();
        assert!(same.len() < 400, "{}", same.len());
        assert_eq!(apply(&base, &same, u64::MAX).unwrap(), base);
        // Another order is still rebuilt exactly.
        let mut reversed = before.clone();
        reversed.reverse();
        let (_, new) = file(dir.path(), &reversed);
        assert_eq!(
            apply(&base, &make(&base_hash, &base, &new).unwrap(), u64::MAX).unwrap(),
            new
        );
    }

    #[test]
    fn changes_that_do_not_fit_the_base_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (hash, base) = file(dir.path(), &(0..100).map(contact).collect::<Vec<_>>());
        let (_, small) = file(dir.path(), &(0..10).map(contact).collect::<Vec<_>>());
        let delta = make(&hash, &base, &base).unwrap();
        // Applied to a base with fewer records: a copy reaches past its end.
        let e = apply(&small, &delta, u64::MAX).unwrap_err();
        assert!(e.contains("does not have"), "{e}");
        // Cut short.
        assert!(apply(&base, &delta[..delta.len() - 3], u64::MAX).is_err());
        assert!(apply(&base, b"SOPSNAP2\n", u64::MAX).is_err());
        // Copies of the whole base over and over: refused at the limit, not
        // allocated without end.
        let mut hostile = delta[..delta.len() - 17].to_vec();
        for _ in 0..1000 {
            hostile.push(COPY);
            hostile.extend_from_slice(&0u64.to_le_bytes());
            hostile.extend_from_slice(&100u64.to_le_bytes());
        }
        let e = apply(&base, &hostile, 1 << 20).unwrap_err();
        assert!(e.contains("over 1048576 bytes"), "{e}");
    }
}
