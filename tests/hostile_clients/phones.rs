//! The phones of the hostile-client tests: the generated phone book, what phones
//! ask of it, and threads that search as phones do while an attack runs, timing
//! every search.

use crate::common::BASE;
use crate::common::raw::{Next, Raw, eq};
use bytes::BytesMut;
use ldap3_proto::LdapCodec;
use ldap3_proto::proto::*;
use sop::bench::phonebook;
use sop::contacts::Contact;
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio_util::codec::Encoder;

pub const CONTACTS: usize = 20_000;
pub const SEED: u64 = 21;
/// A phone search that takes this long means the phones are locked out.
pub const LOCKED_OUT: Duration = Duration::from_secs(5);
/// A phone sends its next search this long after the last answer.
pub const PHONE_PACE: Duration = Duration::from_millis(5);

/// The generated phone book, generated once per test process.
pub fn book() -> &'static [Contact] {
    static BOOK: OnceLock<Vec<Contact>> = OnceLock::new();
    BOOK.get_or_init(|| phonebook::generate(CONTACTS, SEED))
}

pub fn book_csv() -> String {
    let mut csv = Vec::new();
    sop::formats::csv::export_csv(book(), &mut csv).unwrap();
    String::from_utf8(csv).unwrap()
}

/// A phone book of a few contacts, for generations that are quick to merge.
pub fn small_book_csv(seed: u64) -> String {
    let mut csv = Vec::new();
    sop::formats::csv::export_csv(&phonebook::generate(200, seed), &mut csv).unwrap();
    String::from_utf8(csv).unwrap()
}

pub fn encoded(msg: LdapMsg) -> Vec<u8> {
    let mut out = BytesMut::new();
    LdapCodec::default().encode(msg, &mut out).unwrap();
    out.to_vec()
}

/// A search as phones send it: size limit 50, the name and the numbers.
pub fn phone_search(filter: LdapFilter) -> Vec<u8> {
    encoded(LdapMsg::new(
        2,
        LdapOp::SearchRequest(LdapSearchRequest {
            base: BASE.to_string(),
            scope: LdapSearchScope::Subtree,
            aliases: LdapDerefAliases::Never,
            sizelimit: 50,
            timelimit: 0,
            typesonly: false,
            filter,
            attrs: ["cn", "telephoneNumber", "mobile"]
                .map(String::from)
                .to_vec(),
        }),
    ))
}

/// What phones send, in turns: three letters typed of a name (`(|(cn=mar*)(sn=mar*)
/// (givenName=mar*))`), and an incoming call's number.
pub fn phone_searches() -> Vec<Vec<u8>> {
    let prefix = |attr: &str, typed: &str| {
        LdapFilter::Substring(
            attr.to_string(),
            LdapSubstringFilter {
                initial: Some(typed.to_string()),
                any: Vec::new(),
                final_: None,
            },
        )
    };
    let mut out = Vec::new();
    for contact in book().iter().step_by(97) {
        let typed: String = contact.surname.to_lowercase().chars().take(3).collect();
        out.push(phone_search(LdapFilter::Or(vec![
            prefix("cn", &typed),
            prefix("sn", &typed),
            prefix("givenName", &typed),
        ])));
        let number = &contact.phones[0].number;
        out.push(phone_search(LdapFilter::Or(vec![
            eq("telephoneNumber", number),
            eq("mobile", number),
            eq("homePhone", number),
        ])));
    }
    out
}

#[derive(Clone, Copy, PartialEq)]
pub enum Phone {
    /// Keeps its connection.
    Persistent,
    /// Connects, searches, unbinds.
    NewConnection,
}

pub struct Tally {
    pub phone: Phone,
    /// When each answered search started, and how long it took.
    pub answered: Vec<(Instant, Duration)>,
    /// Searches not answered: when, and why.
    pub failed: Vec<(Instant, String)>,
    /// New connections refused as busy (a notice of disconnection).
    pub refused: Vec<Instant>,
    /// Operations sent (searches and unbinds), for the access log's count.
    pub operations: u64,
}

pub struct Phones {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<Tally>>,
}

impl Phones {
    pub fn start(port: u16, searches: Arc<Vec<Vec<u8>>>) -> Phones {
        let stop = Arc::new(AtomicBool::new(false));
        let kinds = [
            Phone::Persistent,
            Phone::Persistent,
            Phone::NewConnection,
            Phone::NewConnection,
        ];
        let threads = kinds
            .into_iter()
            .enumerate()
            .map(|(n, phone)| {
                let stop = stop.clone();
                let searches = searches.clone();
                std::thread::spawn(move || phone_loop(port, phone, n, &searches, &stop))
            })
            .collect();
        Phones { stop, threads }
    }

    pub fn stop(self) -> Vec<Tally> {
        self.stop.store(true, Ordering::Relaxed);
        self.threads
            .into_iter()
            .map(|t| t.join().unwrap())
            .collect()
    }
}

fn phone_loop(port: u16, phone: Phone, n: usize, searches: &[Vec<u8>], stop: &AtomicBool) -> Tally {
    let mut tally = Tally {
        phone,
        answered: Vec::new(),
        failed: Vec::new(),
        refused: Vec::new(),
        operations: 0,
    };
    let unbind = encoded(LdapMsg::new(3, LdapOp::UnbindRequest));
    let mut kept: Option<Raw> = None;
    let mut turn = n * 7;
    while !stop.load(Ordering::Relaxed) {
        let request = &searches[turn % searches.len()];
        turn += 1;
        let started = Instant::now();
        let conn = match kept.take() {
            Some(c) => Ok(c),
            None => connect(port),
        };
        let outcome = conn.and_then(|mut c| {
            tally.operations += 1;
            ask(&mut c, request).map(|()| c)
        });
        match outcome {
            Ok(mut c) => {
                tally.answered.push((started, started.elapsed()));
                match phone {
                    Phone::Persistent => kept = Some(c),
                    Phone::NewConnection => {
                        tally.operations += 1;
                        let _ = c.stream.write_all(&unbind);
                    }
                }
            }
            Err(Failure::Busy) => tally.refused.push(started),
            Err(Failure::Other(why)) => tally.failed.push((started, why)),
        }
        std::thread::sleep(PHONE_PACE);
    }
    tally
}

pub enum Failure {
    /// Refused with a notice of disconnection saying busy.
    Busy,
    Other(String),
}

pub fn connect(port: u16) -> Result<Raw, Failure> {
    let server: SocketAddr = ([127, 0, 0, 1], port).into();
    let stream = TcpStream::connect_timeout(&server, LOCKED_OUT)
        .map_err(|e| Failure::Other(format!("connect: {e}")))?;
    let _ = stream.set_nodelay(true);
    let c = Raw::from(stream);
    c.stream.set_read_timeout(Some(LOCKED_OUT)).unwrap();
    Ok(c)
}

/// Sends one search and reads its answer.
pub fn ask(c: &mut Raw, request: &[u8]) -> Result<(), Failure> {
    if let Err(e) = c.stream.write_all(request) {
        return Err(Failure::Other(format!("write: {e}")));
    }
    loop {
        match c.next() {
            Next::Msg(m) => match m.op {
                LdapOp::SearchResultEntry(_) => {}
                LdapOp::SearchResultDone(r)
                    if matches!(
                        r.code,
                        LdapResultCode::Success | LdapResultCode::SizeLimitExceeded
                    ) =>
                {
                    return Ok(());
                }
                LdapOp::ExtendedResponse(r) if r.res.code == LdapResultCode::Busy => {
                    return Err(Failure::Busy);
                }
                other => return Err(Failure::Other(format!("answered {other:?}"))),
            },
            Next::Closed => return Err(Failure::Other("closed without an answer".into())),
            Next::TimedOut => return Err(Failure::Other(format!("no answer in {LOCKED_OUT:?}"))),
        }
    }
}
