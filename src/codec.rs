//! The binary form of contacts in the node's files (generations, source
//! snapshots): little-endian, strings as a u32 length and UTF-8, a CRC-32 at the
//! end of each file. Fast to write and read at a million contacts.

use crate::contacts::{Contact, Detail, Phone, PhoneKind};
use std::io::{self, Write};

pub fn write_str(out: &mut impl Write, s: &str) -> io::Result<()> {
    out.write_all(&(s.len() as u32).to_le_bytes())?;
    out.write_all(s.as_bytes())
}

/// The tags of extra fields (format 2): 1 a common name, 2 to 7 the details in
/// `Detail::ALL` order (description, street, l, postalCode, st, country), 8 the
/// photo (its bytes).
const EXTRA_CN: u8 = 1;
const EXTRA_PHOTO: u8 = 8;

fn detail_tag(d: Detail) -> u8 {
    Detail::ALL.iter().position(|x| *x == d).unwrap_or(0) as u8 + 2
}

/// The details and the photo a contact has, tagged, in the order they are written.
pub fn details_and_photo(c: &Contact) -> impl Iterator<Item = (u8, &[u8])> {
    Detail::ALL
        .iter()
        .map(|d| (detail_tag(*d), c.detail(*d).as_bytes()))
        .chain([(EXTRA_PHOTO, c.photo.as_slice())])
        .filter(|(_, v)| !v.is_empty())
}

/// A contact: its text fields (id first), a u8 count of numbers, each a u8 kind and a
/// string; then (format 2) a u8 count of extra fields, each a u8 tag and a string:
/// the common names, the details and the photo (bytes) it has. More than 255
/// numbers or extras are cut at 255 (common names first give way).
pub fn write_contact(out: &mut impl Write, c: &Contact) -> io::Result<()> {
    for field in c.text_fields() {
        write_str(out, field)?;
    }
    let phones = &c.phones[..c.phones.len().min(255)];
    out.write_all(&[phones.len() as u8])?;
    for p in phones {
        let kind = PhoneKind::ALL
            .iter()
            .position(|k| *k == p.kind)
            .unwrap_or(0);
        out.write_all(&[kind as u8])?;
        write_str(out, &p.number)?;
    }
    let mut extras: Vec<(u8, &[u8])> = details_and_photo(c).collect();
    let room = 255 - extras.len();
    extras.splice(
        0..0,
        c.cn.iter().take(room).map(|v| (EXTRA_CN, v.as_bytes())),
    );
    out.write_all(&[extras.len() as u8])?;
    for (tag, v) in extras {
        out.write_all(&[tag])?;
        out.write_all(&(v.len() as u32).to_le_bytes())?;
        out.write_all(v)?;
    }
    Ok(())
}

/// Reads what the writers above wrote; `None` when the bytes do not fit.
#[derive(Clone)]
pub struct Reader<'a> {
    pub buf: &'a [u8],
    /// Contacts have extra fields (format 2) or not (format 1).
    extras: bool,
}

impl<'a> Reader<'a> {
    /// Reads contacts as `write_contact` writes them now.
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, extras: true }
    }

    /// Reads contacts of format 1, written before contacts had extra fields.
    pub fn format1(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, extras: false }
    }
    pub fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.buf.len() < n {
            return None;
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Some(head)
    }
    pub fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    pub fn u32(&mut self) -> Option<u32> {
        self.take(4)?.try_into().ok().map(u32::from_le_bytes)
    }
    pub fn u64(&mut self) -> Option<u64> {
        self.take(8)?.try_into().ok().map(u64::from_le_bytes)
    }
    pub fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }
    /// A string, borrowed from the bytes.
    pub fn str(&mut self) -> Option<&'a str> {
        std::str::from_utf8(self.bytes()?).ok()
    }
    pub fn string(&mut self) -> Option<String> {
        let n = self.u32()? as usize;
        std::str::from_utf8(self.take(n)?).ok().map(str::to_string)
    }
    /// Steps over a string without reading it.
    pub fn skip_string(&mut self) -> Option<()> {
        let n = self.u32()? as usize;
        self.take(n).map(drop)
    }
    /// Steps over what `string`, `string` and `contact` read: a served contact.
    pub fn skip_served(&mut self) -> Option<()> {
        // uid, source, then the contact's eight text fields.
        for _ in 0..10 {
            self.skip_string()?;
        }
        for _ in 0..self.u8()? {
            self.u8()?;
            self.skip_string()?;
        }
        if self.extras {
            for _ in 0..self.u8()? {
                self.u8()?;
                self.skip_string()?;
            }
        }
        Some(())
    }
    /// A contact as its record holds it, borrowed from the bytes and checked as
    /// `contact` reads it (text is UTF-8, kinds are known), without allocating.
    pub fn contact_parts(&mut self) -> Option<Parts<'a>> {
        let mut fields = [""; 8];
        for f in &mut fields {
            *f = self.str()?;
        }
        let phones_from = self.buf;
        for _ in 0..self.u8()? {
            PhoneKind::ALL.get(usize::from(self.u8()?))?;
            self.str()?;
        }
        let phones = &phones_from[..phones_from.len() - self.buf.len()];
        let extras_from = self.buf;
        if self.extras {
            for _ in 0..self.u8()? {
                let tag = self.u8()?;
                let value = self.bytes()?;
                // The common names and the details are text; other tags are passed over.
                if (EXTRA_CN..EXTRA_CN + 1 + Detail::ALL.len() as u8).contains(&tag) {
                    std::str::from_utf8(value).ok()?;
                }
            }
        }
        let extras = &extras_from[..extras_from.len() - self.buf.len()];
        Some(Parts {
            text: fields,
            phones,
            extras,
        })
    }

    pub fn contact(&mut self) -> Option<Contact> {
        let mut c = Contact {
            id: self.string()?,
            cn: Vec::new(),
            given_name: self.string()?,
            surname: self.string()?,
            display_name: self.string()?,
            company: self.string()?,
            department: self.string()?,
            title: self.string()?,
            email: self.string()?,
            phones: Vec::new(),
            ..Contact::default()
        };
        let phones = self.u8()?;
        for _ in 0..phones {
            let kind = *PhoneKind::ALL.get(usize::from(self.u8()?))?;
            c.phones.push(Phone {
                kind,
                number: self.string()?,
            });
        }
        if self.extras {
            for _ in 0..self.u8()? {
                let tag = self.u8()?;
                let value = self.bytes()?;
                if tag == EXTRA_PHOTO {
                    c.photo = value.to_vec();
                    continue;
                }
                let text = std::str::from_utf8(value).ok()?.to_string();
                match Detail::ALL.into_iter().find(|d| detail_tag(*d) == tag) {
                    Some(d) => *c.detail_mut(d) = text,
                    None if tag == EXTRA_CN => c.cn.push(text),
                    // Tags this version does not know are passed over.
                    None => {}
                }
            }
        }
        Some(c)
    }
}

/// A contact's record, borrowed and checked (`Reader::contact_parts`): its eight
/// text fields (`Contact::text_fields`) and its numbers and extra fields as
/// written.
pub struct Parts<'a> {
    pub text: [&'a str; 8],
    phones: &'a [u8],
    /// Empty in format 1.
    extras: &'a [u8],
}

impl<'a> Parts<'a> {
    /// Its numbers, in order.
    pub fn phones(&self) -> impl Iterator<Item = (PhoneKind, &'a str)> + 'a {
        let mut r = Reader::new(self.phones);
        let n = r.u8().unwrap_or(0);
        (0..n).map_while(move |_| {
            let kind = *PhoneKind::ALL.get(usize::from(r.u8()?))?;
            Some((kind, r.str()?))
        })
    }

    /// Its extra fields as written, tagged.
    fn extras(&self) -> impl Iterator<Item = (u8, &'a [u8])> + 'a {
        let mut r = Reader::new(self.extras);
        let n = r.u8().unwrap_or(0);
        (0..n).map_while(move |_| Some((r.u8()?, r.bytes()?)))
    }

    /// Its common names as the source gave them, in order.
    pub fn common_names(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.extras()
            .filter(|(tag, _)| *tag == EXTRA_CN)
            .filter_map(|(_, value)| std::str::from_utf8(value).ok())
    }

    /// Its details and photo, tagged as `details_and_photo` gives them.
    pub fn details_and_photo(&self) -> impl Iterator<Item = (u8, &'a [u8])> + 'a {
        self.extras()
            .filter(|(tag, _)| (EXTRA_CN + 1..=EXTRA_PHOTO).contains(tag))
    }
}

/// Computes the CRC of everything written through it.
pub struct Crc32Writer<W> {
    inner: W,
    crc: crc32fast::Hasher,
}

impl<W: Write> Crc32Writer<W> {
    pub fn new(inner: W) -> Self {
        Crc32Writer {
            inner,
            crc: crc32fast::Hasher::new(),
        }
    }

    /// The inner writer and the CRC of what went through.
    pub fn finish(self) -> (W, u32) {
        (self.inner, self.crc.finalize())
    }
}

impl<W: Write> Write for Crc32Writer<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.crc.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Writes a file at `tmp` with `body`, its CRC-32 at its end, and syncs it; on any
/// failure (a full disk) removes what was written rather than leave it taking room.
pub fn write_checked(
    tmp: &std::path::Path,
    body: impl FnOnce(&mut std::io::BufWriter<Crc32Writer<std::fs::File>>) -> io::Result<()>,
) -> io::Result<()> {
    let written = (|| -> io::Result<()> {
        let file = std::fs::File::create(tmp)?;
        // Buffered before the CRC, so that it sums large blocks, not single values.
        let mut out = std::io::BufWriter::with_capacity(1 << 20, Crc32Writer::new(file));
        body(&mut out)?;
        let (mut file, crc) = out.into_inner().map_err(|e| e.into_error())?.finish();
        file.write_all(&crc.to_le_bytes())?;
        file.sync_all()
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(tmp);
    }
    written
}

/// Splits a file's bytes into its body and checks the CRC-32 at its end.
pub fn checked_body(bytes: &[u8]) -> Option<&[u8]> {
    if bytes.len() < 4 {
        return None;
    }
    let (body, tail) = bytes.split_at(bytes.len() - 4);
    let stored = u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]);
    (crc32fast::hash(body) == stored).then_some(body)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn common_names_travel_and_format_1_is_still_read() {
        let mut c = Contact {
            id: "7".into(),
            given_name: "Jean-Luc".into(),
            display_name: "Haddad, Jean-Luc".into(),
            phones: vec![Phone {
                kind: PhoneKind::Work,
                number: "+33 1 40 00 00 26".into(),
            }],
            ..Contact::default()
        };
        let mut plain = Vec::new();
        write_contact(&mut plain, &c).unwrap();
        // Format 1 is format 2 without the extras' count.
        let format1 = &plain[..plain.len() - 1];
        assert_eq!(Reader::format1(format1).contact(), Some(c.clone()));
        c.cn = vec!["Jean-Luc Haddad".into(), "JL Haddad".into()];
        let mut with_cn = Vec::new();
        write_contact(&mut with_cn, &c).unwrap();
        let mut r = Reader::new(&with_cn);
        assert_eq!(r.contact(), Some(c));
        assert!(r.buf.is_empty());
    }

    #[test]
    fn details_and_photos_travel() {
        let mut c = Contact {
            id: "8".into(),
            cn: vec!["Ana Ruiz".into()],
            street: "Calle Mayor 1".into(),
            locality: "Madrid".into(),
            postal_code: "28013".into(),
            state: "Madrid".into(),
            country: "ES".into(),
            description: "Front desk".into(),
            photo: vec![0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0xff, 0xd9],
            ..Contact::default()
        };
        let mut bytes = Vec::new();
        write_contact(&mut bytes, &c).unwrap();
        let mut r = Reader::new(&bytes);
        assert_eq!(r.contact(), Some(c.clone()));
        assert!(r.buf.is_empty());
        let mut served = Vec::new();
        write_str(&mut served, "uid").unwrap();
        write_str(&mut served, "source").unwrap();
        served.extend_from_slice(&bytes);
        let mut r = Reader::new(&served);
        r.skip_served().unwrap();
        assert!(r.buf.is_empty());
        // Many common names give way to the details.
        c.cn = (0..300).map(|i| format!("n{i}")).collect();
        let mut crowded = Vec::new();
        write_contact(&mut crowded, &c).unwrap();
        let back = Reader::new(&crowded).contact().unwrap();
        assert_eq!((back.cn.len(), back.photo.len()), (248, 8));
        assert_eq!(back.country, "ES");
    }
}
