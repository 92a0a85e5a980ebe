//! Keys from the terminal: the bytes the terminal sends, decoded into key
//! events of the kind the key tables and the text fields read.
//!
//! crossterm's reader decodes `ESC ESC` read together (two Esc presses that
//! arrive in one packet over SSH, or while the shell is busy) as one Esc, so an
//! admin going back two screens went back one. Here an ESC followed by another
//! ESC is an Esc of its own, and a lone ESC is an Esc once nothing follows it
//! within [`ESC_WAIT`] (a cursor key's sequence split across two reads still
//! decodes as that key).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::io::Read;
use std::time::Duration;
use tokio::sync::mpsc;

/// How long a lone ESC waits for the rest of a sequence before it is an Esc.
pub const ESC_WAIT: Duration = Duration::from_millis(40);

/// The longest control sequence kept while waiting for its end; anything
/// longer is not a key and is dropped.
const LONGEST: usize = 64;

const ESC: u8 = 0x1b;

/// Turns bytes into key events, keeping an unfinished sequence for the next read.
#[derive(Debug, Default)]
pub struct Decoder {
    pending: Vec<u8>,
}

/// What the start of the pending bytes is.
enum Parsed {
    /// A key, and how many bytes it took.
    Key(KeyEvent, usize),
    /// Bytes that are no key (a mouse report, an unknown sequence): dropped.
    Skip(usize),
    /// The start of something that needs more bytes.
    More,
}

impl Decoder {
    /// Decodes what was read; an unfinished sequence waits for the next read.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<KeyEvent> {
        self.pending.extend_from_slice(bytes);
        let mut keys = Vec::new();
        loop {
            match parse(&self.pending) {
                Parsed::Key(key, used) => {
                    keys.push(key);
                    self.pending.drain(..used);
                }
                Parsed::Skip(used) => {
                    self.pending.drain(..used);
                }
                Parsed::More => break,
            }
        }
        keys
    }

    /// Whether bytes wait for more (a lone ESC, half a sequence or character).
    pub fn waiting(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Nothing more came: a lone ESC is an Esc, ESC before an unfinished
    /// sequence too; the rest of an unfinished sequence is dropped.
    pub fn flush(&mut self) -> Vec<KeyEvent> {
        let mut keys = Vec::new();
        if self.pending.first() == Some(&ESC) {
            keys.push(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
        }
        self.pending.clear();
        keys
    }
}

fn parse(b: &[u8]) -> Parsed {
    let Some(&first) = b.first() else {
        return Parsed::More;
    };
    if first != ESC {
        return plain(b);
    }
    match b.get(1) {
        None => Parsed::More,
        // The second ESC starts a key of its own.
        Some(&ESC) => Parsed::Key(key(KeyCode::Esc, KeyModifiers::NONE), 1),
        Some(b'[') => csi(b),
        Some(b'O') => match b.get(2) {
            None => Parsed::More,
            Some(&c) => match ss3(c) {
                Some(code) => Parsed::Key(key(code, KeyModifiers::NONE), 3),
                None => Parsed::Skip(3),
            },
        },
        // ESC before a key: that key with Alt (how terminals send Meta).
        Some(_) => match plain(&b[1..]) {
            Parsed::Key(mut k, used) => {
                k.modifiers |= KeyModifiers::ALT;
                Parsed::Key(k, used + 1)
            }
            Parsed::Skip(used) => Parsed::Skip(used + 1),
            Parsed::More => Parsed::More,
        },
    }
}

fn key(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
    KeyEvent::new(code, modifiers)
}

/// A byte or a UTF-8 character that is not the start of a sequence.
fn plain(b: &[u8]) -> Parsed {
    let first = b[0];
    let none = KeyModifiers::NONE;
    let ctrl = KeyModifiers::CONTROL;
    match first {
        b'\r' | b'\n' => Parsed::Key(key(KeyCode::Enter, none), 1),
        b'\t' => Parsed::Key(key(KeyCode::Tab, none), 1),
        0x7f | 0x08 => Parsed::Key(key(KeyCode::Backspace, none), 1),
        0x00 => Parsed::Key(key(KeyCode::Char(' '), ctrl), 1),
        0x01..=0x1a => Parsed::Key(key(KeyCode::Char((b'a' + first - 1) as char), ctrl), 1),
        0x1c..=0x1f => Parsed::Key(key(KeyCode::Char((b'4' + first - 0x1c) as char), ctrl), 1),
        _ => {
            let len = match first {
                0x00..=0x7f => 1,
                0xc0..=0xdf => 2,
                0xe0..=0xef => 3,
                0xf0..=0xf7 => 4,
                _ => return Parsed::Skip(1),
            };
            if b.len() < len {
                return Parsed::More;
            }
            match std::str::from_utf8(&b[..len])
                .ok()
                .and_then(|s| s.chars().next())
            {
                Some(c) if c.is_uppercase() => {
                    Parsed::Key(key(KeyCode::Char(c), KeyModifiers::SHIFT), len)
                }
                Some(c) => Parsed::Key(key(KeyCode::Char(c), none), len),
                None => Parsed::Skip(1),
            }
        }
    }
}

/// `ESC O x` (cursor keys in application mode), and the final byte of
/// `ESC [ ... x`: cursor keys, Home, End, F1-F4.
fn ss3(c: u8) -> Option<KeyCode> {
    Some(match c {
        b'A' => KeyCode::Up,
        b'B' => KeyCode::Down,
        b'C' => KeyCode::Right,
        b'D' => KeyCode::Left,
        b'H' => KeyCode::Home,
        b'F' => KeyCode::End,
        b'P'..=b'S' => KeyCode::F(1 + c - b'P'),
        _ => return None,
    })
}

/// `ESC [ params final`: cursor and editing keys, with xterm's modifiers.
fn csi(b: &[u8]) -> Parsed {
    // The Linux console's F1-F5: `ESC [ [ A` to `ESC [ [ E`.
    if b.get(2) == Some(&b'[') {
        return match b.get(3) {
            None => Parsed::More,
            Some(&c @ b'A'..=b'E') => {
                Parsed::Key(key(KeyCode::F(1 + c - b'A'), KeyModifiers::NONE), 4)
            }
            Some(_) => Parsed::Skip(4),
        };
    }
    let Some(end) = b[2..].iter().position(|c| (0x40..=0x7e).contains(c)) else {
        return if b.len() > LONGEST {
            Parsed::Skip(b.len())
        } else {
            Parsed::More
        };
    };
    let end = end + 2;
    let used = end + 1;
    let params: Vec<u16> = match std::str::from_utf8(&b[2..end]) {
        Ok(p) if p.bytes().all(|c| c.is_ascii_digit() || c == b';') => {
            p.split(';').map(|n| n.parse().unwrap_or(0)).collect()
        }
        // Private sequences (`ESC [ <` mouse, `ESC [ ?` replies): not keys.
        _ => return Parsed::Skip(used),
    };
    let modifiers = modifiers(params.get(1).copied().unwrap_or(1));
    let code = match b[end] {
        b'Z' => return Parsed::Key(key(KeyCode::BackTab, KeyModifiers::SHIFT), used),
        b'~' => match params.first().copied().unwrap_or(0) {
            1 | 7 => KeyCode::Home,
            2 => KeyCode::Insert,
            3 => KeyCode::Delete,
            4 | 8 => KeyCode::End,
            5 => KeyCode::PageUp,
            6 => KeyCode::PageDown,
            n @ 11..=15 => KeyCode::F((n - 10) as u8),
            n @ 17..=21 => KeyCode::F((n - 11) as u8),
            n @ 23..=24 => KeyCode::F((n - 12) as u8),
            _ => return Parsed::Skip(used),
        },
        // Cursor keys, Home, End, F1-F4, as after `ESC O`.
        c => match ss3(c) {
            Some(code) => code,
            None => return Parsed::Skip(used),
        },
    };
    Parsed::Key(key(code, modifiers), used)
}

/// xterm's modifier parameter: 1 + (Shift 1, Alt 2, Ctrl 4).
fn modifiers(p: u16) -> KeyModifiers {
    let bits = p.saturating_sub(1);
    let mut m = KeyModifiers::NONE;
    if bits & 1 != 0 {
        m |= KeyModifiers::SHIFT;
    }
    if bits & 2 != 0 {
        m |= KeyModifiers::ALT;
    }
    if bits & 4 != 0 {
        m |= KeyModifiers::CONTROL;
    }
    m
}

/// The keys the admin types, read from the terminal on a thread of their own.
pub struct Keys {
    bytes: mpsc::Receiver<std::io::Result<Vec<u8>>>,
    decoder: Decoder,
    ready: std::collections::VecDeque<KeyEvent>,
    /// When waiting bytes are decoded as they stand: set once, so that a wait
    /// interrupted by other work does not start again.
    waited_until: Option<tokio::time::Instant>,
}

impl Keys {
    /// Reads the shell's terminal: standard input when it is one, else `/dev/tty`.
    pub fn open() -> std::io::Result<Keys> {
        use std::io::IsTerminal;
        let mut tty: Box<dyn Read + Send> = if std::io::stdin().is_terminal() {
            Box::new(std::io::stdin())
        } else {
            Box::new(std::fs::File::open("/dev/tty")?)
        };
        let (tx, rx) = mpsc::channel(64);
        std::thread::Builder::new()
            .name("keys".into())
            .spawn(move || {
                let mut buf = [0u8; 1024];
                loop {
                    let read = match tty.read(&mut buf) {
                        Ok(0) => Err(std::io::ErrorKind::UnexpectedEof.into()),
                        Ok(n) => Ok(buf[..n].to_vec()),
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        Err(e) => Err(e),
                    };
                    let gone = read.is_err();
                    if tx.blocking_send(read).is_err() || gone {
                        break;
                    }
                }
            })?;
        Ok(Keys {
            bytes: rx,
            decoder: Decoder::default(),
            ready: Default::default(),
            waited_until: None,
        })
    }

    /// The next key; an error when the terminal is gone.
    pub async fn next(&mut self) -> std::io::Result<KeyEvent> {
        loop {
            if let Some(k) = self.ready.pop_front() {
                return Ok(k);
            }
            let read = if self.decoder.waiting() {
                let until = *self
                    .waited_until
                    .get_or_insert_with(|| tokio::time::Instant::now() + ESC_WAIT);
                match tokio::time::timeout_at(until, self.bytes.recv()).await {
                    Ok(read) => read,
                    Err(_) => {
                        self.waited_until = None;
                        self.ready.extend(self.decoder.flush());
                        continue;
                    }
                }
            } else {
                self.bytes.recv().await
            };
            self.waited_until = None;
            match read {
                Some(Ok(bytes)) => self.ready.extend(self.decoder.feed(&bytes)),
                Some(Err(e)) => return Err(e),
                None => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(bytes: &[u8]) -> Vec<KeyEvent> {
        let mut d = Decoder::default();
        let mut k = d.feed(bytes);
        k.extend(d.flush());
        k
    }

    fn codes(bytes: &[u8]) -> Vec<KeyCode> {
        keys(bytes).into_iter().map(|k| k.code).collect()
    }

    #[test]
    fn two_esc_read_together_are_two_presses() {
        assert_eq!(codes(b"\x1b\x1b"), [KeyCode::Esc, KeyCode::Esc]);
        assert_eq!(codes(b"\x1b\x1b\x1b"), [KeyCode::Esc; 3]);
        // An Esc, then a cursor key, read together.
        assert_eq!(codes(b"\x1b\x1b[A"), [KeyCode::Esc, KeyCode::Up]);
    }

    #[test]
    fn a_lone_esc_waits_for_what_may_follow() {
        let mut d = Decoder::default();
        assert!(d.feed(b"\x1b").is_empty());
        assert!(d.waiting());
        // The rest of a cursor key in the next read.
        assert_eq!(d.feed(b"[B")[0].code, KeyCode::Down);
        assert!(!d.waiting());
        assert!(d.feed(b"\x1b").is_empty());
        assert_eq!(d.flush()[0].code, KeyCode::Esc);
    }

    #[test]
    fn the_keys_of_the_key_tables_and_text_fields() {
        assert_eq!(
            codes(b"\x1b[A\x1b[B\x1b[C\x1b[D\x1bOA\x1b[H\x1b[F\x1b[5~\x1b[6~\x1b[3~\x1b[Z"),
            [
                KeyCode::Up,
                KeyCode::Down,
                KeyCode::Right,
                KeyCode::Left,
                KeyCode::Up,
                KeyCode::Home,
                KeyCode::End,
                KeyCode::PageUp,
                KeyCode::PageDown,
                KeyCode::Delete,
                KeyCode::BackTab,
            ]
        );
        assert_eq!(
            codes(b"\r\t\x7fa\xc3\xbc"),
            [
                KeyCode::Enter,
                KeyCode::Tab,
                KeyCode::Backspace,
                KeyCode::Char('a'),
                KeyCode::Char('ü')
            ]
        );
        let ctrl_s = keys(b"\x13")[0];
        assert_eq!(
            (ctrl_s.code, ctrl_s.modifiers),
            (KeyCode::Char('s'), KeyModifiers::CONTROL)
        );
        let ctrl_left = keys(b"\x1b[1;5D")[0];
        assert_eq!(
            (ctrl_left.code, ctrl_left.modifiers),
            (KeyCode::Left, KeyModifiers::CONTROL)
        );
        let alt_b = keys(b"\x1bb")[0];
        assert_eq!(
            (alt_b.code, alt_b.modifiers),
            (KeyCode::Char('b'), KeyModifiers::ALT)
        );
        assert_eq!(keys(b"A")[0].modifiers, KeyModifiers::SHIFT);
        // The Linux console's F1 is a key, not `[A` typed.
        assert_eq!(codes(b"\x1b[[A"), [KeyCode::F(1)]);
    }

    #[test]
    fn what_is_no_key_is_dropped_and_the_keys_around_it_stay() {
        // A mouse report, a focus report, a character split across reads.
        assert_eq!(
            codes(b"a\x1b[<0;3;4Mb\x1b[Ic"),
            [KeyCode::Char('a'), KeyCode::Char('b'), KeyCode::Char('c')]
        );
        let mut d = Decoder::default();
        assert!(d.feed(b"\xc3").is_empty());
        assert_eq!(d.feed(b"\xa9")[0].code, KeyCode::Char('é'));
        // A runaway sequence does not hold the keys after it.
        let mut long = b"\x1b[".to_vec();
        long.extend(std::iter::repeat_n(b'1', 100));
        assert!(d.feed(&long).is_empty());
        assert!(!d.waiting());
        assert_eq!(d.feed(b"x")[0].code, KeyCode::Char('x'));
    }
}
