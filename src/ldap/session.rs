//! One client connection's protocol state and what it answers to each request.
//! Pure: the transport feeds it decoded messages and writes out what it returns.

use crate::config::BindPolicy;
use crate::directory::dn::{self, Place};
use crate::directory::{Attr, Directory, Filter};
use crate::ldap::access::Record;
use crate::ldap::policy::Policy;
use crate::ldap::rootdse::{STARTTLS_OID, WHOAMI_OID};
use crate::ldap::search::{self, PAGED_RESULTS_OID, SORT_REQUEST_OID};
use crate::ldap::vlv;
use crate::ldap::{encode, frame};
use bytes::BytesMut;
use ldap3_proto::LdapCodec;
use ldap3_proto::control::LdapControl;
use ldap3_proto::proto::{
    LdapBindCred, LdapBindResponse, LdapExtendedResponse, LdapFilter, LdapMsg, LdapOp, LdapResult,
    LdapResultCode,
};
use std::sync::Arc;
use std::time::Instant;
use tokio_util::codec::Decoder;

pub const DISCONNECTION_OID: &str = "1.3.6.1.4.1.1466.20036";

/// What the transport does after writing the replies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    Continue,
    Close,
    /// Switch the connection to TLS before reading anything else.
    StartTls,
}

/// The encoded answer to one request.
pub struct Reply {
    pub out: Vec<u8>,
    /// The rest of a large search answer, to encode and write after `out` a piece
    /// at a time.
    pub more: Option<Remaining>,
    pub after: After,
    pub record: Option<Record>,
    /// The OID of a non-critical control the request carried and the server does
    /// not know (ignored, as RFC 4511 says), for a rate-limited log line.
    pub ignored_control: Option<String>,
}

impl Reply {
    fn new(msgs: Vec<LdapMsg>, after: After, record: Option<Record>) -> Reply {
        let mut out = Vec::new();
        for msg in msgs {
            encode::message(&mut out, msg);
        }
        Reply {
            out,
            more: None,
            after,
            record,
            ignored_control: None,
        }
    }
}

/// Most bytes of a search answer encoded at once: a large page is written a piece at
/// a time, so that a client that does not read holds at most a piece of it in the
/// server's memory. A phone's answer is one piece.
pub const PIECE: usize = 64 * 1024;

/// The entries of a search answer still to encode, then its result.
pub struct Remaining {
    msgid: i32,
    /// The snapshot `ids` refer to (`None`: no entries from it).
    directory: Option<Arc<Directory>>,
    ids: Vec<u32>,
    next: usize,
    selection: search::Selection,
    /// The encoded result, written after the last entry.
    done: Vec<u8>,
}

impl Remaining {
    /// Encodes the next piece into `out` (emptied first); false when the whole
    /// answer was already encoded.
    pub fn next_piece(&mut self, out: &mut Vec<u8>) -> bool {
        out.clear();
        if self.done.is_empty() {
            return false;
        }
        self.fill(out);
        true
    }

    /// Encodes entries into `out` until it holds a piece, then the result after the
    /// last entry. Returns whether entries remain.
    fn fill(&mut self, out: &mut Vec<u8>) -> bool {
        if let Some(dir) = &self.directory {
            let left = self.ids.len() - self.next;
            out.reserve((left * 160).min(PIECE));
            // Reused from entry to entry: no allocation per entry.
            let mut groups = Vec::new();
            while self.next < self.ids.len() && out.len() < PIECE {
                let e = dir.entry(self.ids[self.next]);
                self.next += 1;
                groups.clear();
                groups.extend(e.groups().filter(|g| self.selection.wants(g.attr)));
                encode::search_entry(
                    out,
                    self.msgid,
                    &e.dn_parts(),
                    &groups,
                    self.selection.types_only(),
                );
            }
        }
        if self.next < self.ids.len() {
            return true;
        }
        out.append(&mut self.done);
        false
    }
}

/// Writes a search answer: entries straight from the directory, then the result;
/// what does not fit in the first piece is left for `Remaining::next_piece`.
fn write_answer(msgid: i32, answer: search::Answer) -> (Vec<u8>, Option<Remaining>) {
    let mut out = Vec::new();
    for e in answer.built {
        encode::message(&mut out, LdapMsg::new(msgid, LdapOp::SearchResultEntry(e)));
    }
    let mut done = Vec::new();
    if answer.controls.is_empty() {
        let code = answer.code as i32;
        encode::search_done(&mut done, msgid, code, &answer.matched_dn, &answer.message);
    } else {
        let mut res = result(answer.code, answer.message);
        res.matcheddn = answer.matched_dn;
        encode::message(
            &mut done,
            LdapMsg::new_with_ctrls(msgid, LdapOp::SearchResultDone(res), answer.controls),
        );
    }
    let mut rest = Remaining {
        msgid,
        directory: answer.directory,
        ids: answer.ids,
        next: 0,
        selection: answer.selection,
        done,
    };
    let more = rest.fill(&mut out).then_some(rest);
    (out, more)
}

pub struct Session {
    /// The DN of the last successful bind ("" when anonymous).
    pub bind_dn: String,
    /// For `BindPolicy::Credentials`: the configured DN bound successfully.
    authorized: bool,
    /// The phone book whose own DN bound (`[[phonebooks]] bind_dn`): the only one
    /// this connection sees.
    book: Option<String>,
    pub tls: bool,
    continued: search::Continued,
}

fn result(code: LdapResultCode, message: impl Into<String>) -> LdapResult {
    LdapResult {
        code,
        matcheddn: String::new(),
        message: message.into(),
        referral: Vec::new(),
    }
}

/// The unsolicited notice sent before closing a connection the server cannot go on with.
pub fn notice_of_disconnection(code: LdapResultCode, message: &str) -> LdapMsg {
    LdapMsg::new(
        0,
        LdapOp::ExtendedResponse(LdapExtendedResponse {
            res: result(code, message),
            name: Some(DISCONNECTION_OID.to_string()),
            value: None,
        }),
    )
}

/// The response to a request that did not decode, from its peeked id and operation
/// tag; `None` when no response type fits (the caller then disconnects).
pub fn malformed(msgid: i32, op_tag: u8, why: &str) -> Option<LdapMsg> {
    let res = result(LdapResultCode::ProtocolError, why);
    let op = match op_tag {
        0x60 => LdapOp::BindResponse(LdapBindResponse {
            res,
            saslcreds: None,
        }),
        0x63 => LdapOp::SearchResultDone(res),
        0x66 => LdapOp::ModifyResponse(res),
        0x68 => LdapOp::AddResponse(res),
        0x4a => LdapOp::DelResponse(res),
        0x6c => LdapOp::ModifyDNResponse(res),
        0x6e => LdapOp::CompareResult(res),
        0x77 => LdapOp::ExtendedResponse(LdapExtendedResponse {
            res,
            name: None,
            value: None,
        }),
        _ => return None,
    };
    Some(LdapMsg::new(msgid, op))
}

/// Whether a whole message is a costly request, answered on the slow lane
/// (`slow_lane`): a search with a sort control.
pub fn costly(frame: &[u8]) -> bool {
    frame::peek_id_and_op(frame).is_some_and(|(_, op)| op == 0x63)
        && frame::has_control(frame, SORT_REQUEST_OID)
}

/// Answers one whole message (as framed by `frame::frame`), decoded or not.
pub fn respond(
    session: &mut Session,
    frame: &[u8],
    codec: &mut LdapCodec,
    dir: &Arc<Directory>,
    policy: &Policy,
    now: Instant,
) -> Reply {
    // RFC 4511 4.1.1: a message id out of 0..2^31-1 cannot be answered (a decoder
    // that narrows it would answer 2^32 as 0): a notice of disconnection, then close.
    if frame::message_id(frame).is_some_and(|id| !(0..=i64::from(i32::MAX)).contains(&id)) {
        return Reply::new(
            vec![notice_of_disconnection(
                LdapResultCode::ProtocolError,
                "message id out of range (0 to 2147483647)",
            )],
            After::Close,
            Some(Record::simple(
                "invalid",
                &session.bind_dn,
                LdapResultCode::ProtocolError,
            )),
        );
    }
    let mut bytes = BytesMut::from(frame);
    match codec.decode(&mut bytes) {
        Ok(Some(msg)) => {
            if matches!(msg.op, LdapOp::SearchRequest(_)) && !limits_valid(frame) {
                let res = result(LdapResultCode::ProtocolError, "invalid size or time limit");
                let record = Record::simple("search", &session.bind_dn, res.code.clone());
                return Reply::new(
                    vec![LdapMsg::new(msg.msgid, LdapOp::SearchResultDone(res))],
                    After::Continue,
                    Some(record),
                );
            }
            if msg.ctrl.is_empty() {
                return session.handle(msg, &[], dir, policy, now);
            }
            // Only a request with controls is read again for their criticality.
            let critical = frame::critical_controls(frame);
            let ignored = msg.ctrl.iter().find_map(|c| match c {
                LdapControl::Unknown {
                    oid,
                    criticality: false,
                    ..
                } => Some(oid.clone()),
                _ => None,
            });
            let mut reply = session.handle(msg, &critical, dir, policy, now);
            reply.ignored_control = ignored;
            reply
        }

        Ok(None) | Err(_) => {
            let record = Some(Record::simple(
                "invalid",
                &session.bind_dn,
                LdapResultCode::ProtocolError,
            ));
            let why = "malformed request";
            match frame::peek_id_and_op(frame).and_then(|(id, op)| malformed(id, op, why)) {
                Some(reply) => Reply::new(vec![reply], After::Continue, record),
                None => Reply::new(
                    vec![notice_of_disconnection(LdapResultCode::ProtocolError, why)],
                    After::Close,
                    record,
                ),
            }
        }
    }
}

impl Session {
    pub fn new(tls: bool, salt: u64) -> Session {
        Session {
            bind_dn: String::new(),
            authorized: false,
            book: None,
            tls,
            continued: search::Continued::new(salt),
        }
    }

    /// Whether paged searches are parked, waiting for their next page.
    pub fn has_parked(&self) -> bool {
        !self.continued.paging.is_empty()
    }

    /// Another generation is served: paged searches parked on older ones are dropped.
    pub fn directory_changed(&mut self, dir: &Arc<Directory>) {
        self.continued.keep_only(dir);
    }

    /// Answers one decoded message; `critical` names the controls it marks critical.
    pub fn handle(
        &mut self,
        msg: LdapMsg,
        critical: &[String],
        dir: &Arc<Directory>,
        policy: &Policy,
        now: Instant,
    ) -> Reply {
        self.continued.keep_only(dir);
        let id = msg.msgid;
        let reply = |op: LdapOp, record: Record| {
            Reply::new(vec![LdapMsg::new(id, op)], After::Continue, Some(record))
        };
        // RFC 4511 4.1.11: a critical control that is unknown, or not for this
        // operation, fails the operation. Searches know paging, sorting and list views.
        let known: &[&str] = match msg.op {
            LdapOp::SearchRequest(_) => &[PAGED_RESULTS_OID, SORT_REQUEST_OID, vlv::REQUEST_OID],
            _ => &[],
        };
        if let Some(oid) = critical.iter().find(|o| !known.contains(&o.as_str())) {
            let code = LdapResultCode::UnavailableCriticalExtension;
            let res = result(
                code.clone(),
                format!("critical control {oid} is not supported"),
            );
            if let Some((op, name)) = response_to(&msg.op, res) {
                return reply(op, Record::simple(name, &self.bind_dn, code));
            }
        }
        match msg.op {
            LdapOp::BindRequest(bind) => {
                let (res, record) = self.bind(bind.version, &bind.dn, &bind.cred, policy);
                reply(
                    LdapOp::BindResponse(LdapBindResponse {
                        res,
                        saslcreds: None,
                    }),
                    record,
                )
            }
            LdapOp::SearchRequest(req) => {
                let mut record = if policy.access_log {
                    Record::search(&self.bind_dn, &req)
                } else {
                    Record::simple("search", &self.bind_dn, LdapResultCode::Success)
                };
                if let Some(why) = search_protocol_error(&msg.ctrl) {
                    record.code = LdapResultCode::ProtocolError;
                    let res = result(LdapResultCode::ProtocolError, why);
                    return reply(LdapOp::SearchResultDone(res), record);
                }
                let rootdse = req.base.trim().is_empty()
                    && req.scope == ldap3_proto::proto::LdapSearchScope::Base;
                let (dir, policy) = match rootdse {
                    true => (dir, policy),
                    false => match self.target(&req.base, dir, policy) {
                        Ok(target) => target,
                        Err(refusal) => {
                            record.code = refusal.code.clone();
                            return reply(LdapOp::SearchResultDone(refusal), record);
                        }
                    },
                };
                let refusal = (!rootdse).then(|| self.refuse(policy)).flatten();
                if let Some(refusal) = refusal {
                    record.code = refusal.code.clone();
                    return reply(LdapOp::SearchResultDone(refusal), record);
                }
                let sort_critical = critical.iter().any(|o| o == SORT_REQUEST_OID);
                let answer = search::search(
                    &req,
                    &msg.ctrl,
                    sort_critical,
                    dir,
                    policy,
                    &mut self.continued,
                    now,
                );
                record.entries = answer.count();
                record.code = answer.code.clone();
                let (out, more) = write_answer(id, answer);
                Reply {
                    out,
                    more,
                    after: After::Continue,
                    // Only a log line needs the record; building it formats the filter.
                    record: policy.access_log.then_some(record),
                    ignored_control: None,
                }
            }
            LdapOp::UnbindRequest => Reply::new(
                Vec::new(),
                After::Close,
                Some(Record::simple(
                    "unbind",
                    &self.bind_dn,
                    LdapResultCode::Success,
                )),
            ),
            // Searches finish before the next request is read: nothing is left to abandon.
            LdapOp::AbandonRequest(_) => Reply::new(Vec::new(), After::Continue, None),
            LdapOp::ExtendedRequest(ext) => self.extended(id, &ext.name, policy),
            LdapOp::CompareRequest(cmp) => {
                // A compare tells whether an entry exists and what it holds: the
                // same policy as a search.
                let (code, message) = match self.target(&cmp.dn, dir, policy) {
                    Err(refusal) => (refusal.code, refusal.message),
                    Ok((dir, policy)) => match self.refuse(policy) {
                        Some(refusal) => (refusal.code, refusal.message),
                        None => compare(&cmp.dn, &cmp.atype, &cmp.val, dir, policy),
                    },
                };
                let record = Record::simple("compare", &self.bind_dn, code.clone());
                reply(LdapOp::CompareResult(result(code, message)), record)
            }
            LdapOp::AddRequest(_) => {
                let res = self.write_refused(policy);
                let record = Record::simple("add", &self.bind_dn, res.code.clone());
                reply(LdapOp::AddResponse(res), record)
            }
            LdapOp::ModifyRequest(_) => {
                let res = self.write_refused(policy);
                let record = Record::simple("modify", &self.bind_dn, res.code.clone());
                reply(LdapOp::ModifyResponse(res), record)
            }
            LdapOp::DelRequest(_) => {
                let res = self.write_refused(policy);
                let record = Record::simple("delete", &self.bind_dn, res.code.clone());
                reply(LdapOp::DelResponse(res), record)
            }
            LdapOp::ModifyDNRequest(_) => {
                let res = self.write_refused(policy);
                let record = Record::simple("modrdn", &self.bind_dn, res.code.clone());
                reply(LdapOp::ModifyDNResponse(res), record)
            }
            // A client sending responses is not speaking LDAP to a server.
            _ => Reply::new(
                vec![notice_of_disconnection(
                    LdapResultCode::ProtocolError,
                    "unexpected operation from a client",
                )],
                After::Close,
                Some(Record::simple(
                    "invalid",
                    &self.bind_dn,
                    LdapResultCode::ProtocolError,
                )),
            ),
        }
    }

    fn bind(
        &mut self,
        version: i64,
        bind_dn: &str,
        cred: &LdapBindCred,
        policy: &Policy,
    ) -> (LdapResult, Record) {
        let (res, dn_used) = self.check_bind(version, bind_dn, cred, policy);
        let mut record = Record::simple("bind", dn_used, res.code.clone());
        record.base = bind_dn.to_string();
        (res, record)
    }

    fn check_bind<'a>(
        &mut self,
        version: i64,
        bind_dn: &'a str,
        cred: &LdapBindCred,
        policy: &Policy,
    ) -> (LdapResult, &'a str) {
        use LdapResultCode as C;
        // A failed bind leaves the connection anonymous (RFC 4511 4.2.1).
        self.bind_dn.clear();
        self.authorized = false;
        self.book = None;
        if version != 2 && version != 3 {
            return (
                result(C::ProtocolError, "LDAP version 3 (or 2) only"),
                bind_dn,
            );
        }
        let LdapBindCred::Simple(password) = cred else {
            return (
                result(C::AuthMethodNotSupported, "only simple binds are supported"),
                bind_dn,
            );
        };
        let anonymous = bind_dn.trim().is_empty() && password.is_empty();
        if policy.tls_required && !self.tls && !anonymous {
            return (
                result(
                    C::ConfidentialityRequired,
                    "use LDAPS or StartTLS before binding",
                ),
                bind_dn,
            );
        }
        // A phone book's own DN: that phone book only.
        let norm = dn::normalize(bind_dn);
        if let Some(book) = policy
            .books
            .iter()
            .find(|b| !b.bind_dn_norm.is_empty() && b.bind_dn_norm == norm)
        {
            let ok = book
                .policy
                .bind_password
                .as_deref()
                .is_some_and(|p| constant_time_eq(p.as_bytes(), password.as_bytes()));
            if !ok {
                return (
                    result(C::InvalidCredentials, "invalid DN or password"),
                    bind_dn,
                );
            }
            self.authorized = true;
            self.book = Some(book.name.clone());
            self.bind_dn = bind_dn.to_string();
            return (result(C::Success, ""), bind_dn);
        }
        let ok = match policy.bind {
            BindPolicy::Any => true,
            BindPolicy::Anonymous => anonymous,
            BindPolicy::Credentials => {
                let matches = dn::normalize(bind_dn) == policy.bind_dn_norm
                    && policy
                        .bind_password
                        .as_deref()
                        .is_some_and(|p| constant_time_eq(p.as_bytes(), password.as_bytes()));
                self.authorized = matches;
                anonymous || matches
            }
        };
        if !ok {
            let message = match policy.bind {
                BindPolicy::Anonymous => "this phone book accepts anonymous binds only",
                _ => "invalid DN or password",
            };
            return (result(C::InvalidCredentials, message), bind_dn);
        }
        self.bind_dn = bind_dn.to_string();
        (result(C::Success, ""), bind_dn)
    }

    /// The phone book a request names by its DN (a search's base, a compare's
    /// entry): its directory and the policy it is answered with, among those this
    /// connection may see. Err: the refusal.
    fn target<'a>(
        &self,
        request_dn: &str,
        dir: &'a Arc<Directory>,
        policy: &'a Policy,
    ) -> Result<(&'a Arc<Directory>, &'a Policy), LdapResult> {
        // Without other phone books (most nodes), every request is the main one's;
        // a connection bound to a phone book removed since sees none.
        if policy.books.is_empty() && self.book.is_none() {
            return Ok((dir, policy));
        }
        let norm = dn::normalize(request_dn);
        let book = policy.books.iter().find(|b| match norm.is_empty() {
            // No base: the phone book the connection is bound to, else the main one.
            true => self.book.as_deref() == Some(b.name.as_str()),
            false => dn::place(&norm, &b.base_norm) != Place::Outside,
        });
        match book {
            Some(b) if b.open_to(self.book.as_deref()) => match dir.book(&b.name) {
                Some(d) => Ok((d, &b.policy)),
                // The configuration names it; the directory served does not have it yet.
                None => Err(result(
                    LdapResultCode::Unavailable,
                    format!("phone book {} is being built; try again shortly", b.name),
                )),
            },
            Some(b) => Err(result(
                LdapResultCode::InsufficentAccessRights,
                match &self.book {
                    Some(name) => {
                        format!("bound as phone book {name}: only its entries can be searched")
                    }
                    None => format!(
                        "phone book {} is for phones that bind with its own DN",
                        b.name
                    ),
                },
            )),
            None => match &self.book {
                Some(name) => Err(result(
                    LdapResultCode::InsufficentAccessRights,
                    format!("bound as phone book {name}: only its entries can be searched"),
                )),
                None => Ok((dir, policy)),
            },
        }
    }

    /// Why the bind and TLS policy refuses an operation on the phone book (search,
    /// compare, writes) on this connection as it is; `None` when it allows it. Only
    /// binds, StartTLS, Who am I? and the root DSE are answered before that.
    fn refuse(&self, policy: &Policy) -> Option<LdapResult> {
        if policy.tls_required && !self.tls {
            return Some(result(
                LdapResultCode::ConfidentialityRequired,
                "use LDAPS or StartTLS first",
            ));
        }
        if policy.bind == BindPolicy::Credentials && !self.authorized {
            return Some(result(
                LdapResultCode::InsufficentAccessRights,
                "bind with the phone book's DN and password first",
            ));
        }
        None
    }

    /// What a write gets: the policy's refusal, else unwillingToPerform.
    fn write_refused(&self, policy: &Policy) -> LdapResult {
        self.refuse(policy).unwrap_or_else(|| {
            result(
                LdapResultCode::UnwillingToPerform,
                "this phone book is read-only",
            )
        })
    }

    fn extended(&mut self, id: i32, name: &str, policy: &Policy) -> Reply {
        use LdapResultCode as C;
        let (res, oid, value, after) = match name {
            STARTTLS_OID if !policy.starttls => (
                result(C::ProtocolError, "StartTLS is not enabled on this server"),
                None,
                None,
                After::Continue,
            ),
            STARTTLS_OID if self.tls => (
                result(C::OperationsError, "TLS is already active"),
                None,
                None,
                After::Continue,
            ),
            STARTTLS_OID => (
                result(C::Success, ""),
                Some(STARTTLS_OID),
                None,
                After::StartTls,
            ),
            WHOAMI_OID => {
                let authz = if self.bind_dn.is_empty() {
                    String::new()
                } else {
                    format!("dn:{}", self.bind_dn)
                };
                (
                    result(C::Success, ""),
                    None,
                    Some(authz.into_bytes()),
                    After::Continue,
                )
            }
            other => (
                result(
                    C::ProtocolError,
                    format!("extended operation {other} is not supported"),
                ),
                None,
                None,
                After::Continue,
            ),
        };
        let mut record = Record::simple("extended", &self.bind_dn, res.code.clone());
        record.base = name.to_string();
        let op = LdapOp::ExtendedResponse(LdapExtendedResponse {
            res,
            name: oid.map(str::to_string),
            value,
        });
        Reply::new(vec![LdapMsg::new(id, op)], after, Some(record))
    }
}

/// The response a request gets when it fails as a whole, and the operation's name
/// for the access log; `None` for unbind and abandon, which have no response.
fn response_to(op: &LdapOp, res: LdapResult) -> Option<(LdapOp, &'static str)> {
    Some(match op {
        LdapOp::BindRequest(_) => (
            LdapOp::BindResponse(LdapBindResponse {
                res,
                saslcreds: None,
            }),
            "bind",
        ),
        LdapOp::SearchRequest(_) => (LdapOp::SearchResultDone(res), "search"),
        LdapOp::CompareRequest(_) => (LdapOp::CompareResult(res), "compare"),
        LdapOp::ExtendedRequest(_) => (
            LdapOp::ExtendedResponse(LdapExtendedResponse {
                res,
                name: None,
                value: None,
            }),
            "extended",
        ),
        LdapOp::AddRequest(_) => (LdapOp::AddResponse(res), "add"),
        LdapOp::ModifyRequest(_) => (LdapOp::ModifyResponse(res), "modify"),
        LdapOp::DelRequest(_) => (LdapOp::DelResponse(res), "delete"),
        LdapOp::ModifyDNRequest(_) => (LdapOp::ModifyDNResponse(res), "modrdn"),
        _ => return None,
    })
}

/// Are a search request's size and time limits, as sent, within 0..2^31-1 (RFC 4511
/// 4.5.1)? slapd answers others with protocolError too.
fn limits_valid(frame: &[u8]) -> bool {
    let range = 0..=i64::from(i32::MAX);
    frame::search_limits(frame)
        .is_none_or(|(size, time)| range.contains(&size) && range.contains(&time))
}

/// What RFC 2696 does not allow in a search request (slapd answers it with
/// protocolError too): two paged results controls.
fn search_protocol_error(controls: &[LdapControl]) -> Option<&'static str> {
    let paged = controls
        .iter()
        .filter(|c| matches!(c, LdapControl::SimplePagedResults { .. }))
        .count();
    (paged > 1).then_some("paged results control specified more than once")
}

fn compare(
    entry_dn: &str,
    attr: &str,
    value: &[u8],
    dir: &Directory,
    policy: &Policy,
) -> (LdapResultCode, String) {
    let norm = dn::normalize(entry_dn);
    let Place::Child(uid) = dn::place(&norm, &policy.base_norm) else {
        return (LdapResultCode::NoSuchObject, "no such entry".to_string());
    };
    let Some(id) = dir.find_uid(&dn::unescape(uid)) else {
        return (LdapResultCode::NoSuchObject, "no such entry".to_string());
    };
    if Attr::from_name(attr).is_none() {
        return (
            LdapResultCode::UndefinedAttributeType,
            format!("unknown attribute {attr}"),
        );
    }
    let assertion = LdapFilter::Equality(attr.to_string(), String::from_utf8_lossy(value).into());
    match Filter::compile(
        &assertion,
        &policy.filter_limits,
        dir.rules(),
        dir.base_dn(),
    ) {
        Ok(f) if dir.matches(&f, id) => (LdapResultCode::CompareTrue, String::new()),
        _ => (LdapResultCode::CompareFalse, String::new()),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::config::Config;
    use ldap3_proto::proto::{LdapDerefAliases, LdapSearchRequest, LdapSearchScope};
    use tokio_util::codec::Encoder;

    #[test]
    fn a_large_answer_comes_in_pieces_that_make_the_whole() {
        let dir = Arc::new(crate::bench::phonebook::directory(400, 3));
        let policy = Policy::new(&Config::defaults(), None);
        let search = LdapMsg::new(
            7,
            LdapOp::SearchRequest(LdapSearchRequest {
                base: policy.base_dn.clone(),
                scope: LdapSearchScope::Subtree,
                aliases: LdapDerefAliases::Never,
                sizelimit: 0,
                timelimit: 0,
                typesonly: false,
                filter: LdapFilter::Present("sn".into()),
                attrs: vec!["*".into()],
            }),
        );
        let mut request = BytesMut::new();
        LdapCodec::default().encode(search, &mut request).unwrap();
        let mut session = Session::new(false, 1);
        let mut codec = LdapCodec::default();
        let reply = respond(
            &mut session,
            &request,
            &mut codec,
            &dir,
            &policy,
            Instant::now(),
        );
        let mut whole = BytesMut::from(reply.out.as_slice());
        let mut pieces = 1;
        let mut more = reply.more.unwrap();
        let mut piece = Vec::new();
        while more.next_piece(&mut piece) {
            assert!(piece.len() < PIECE + 4096, "{}", piece.len());
            whole.extend_from_slice(&piece);
            pieces += 1;
        }
        assert!(pieces > 2, "{pieces} pieces");
        let (mut entries, mut done) = (0, None);
        let mut decoder = LdapCodec::new(Some(whole.len()), None);
        while let Some(msg) = decoder.decode(&mut whole).unwrap() {
            assert_eq!(msg.msgid, 7);
            match msg.op {
                LdapOp::SearchResultEntry(_) => entries += 1,
                LdapOp::SearchResultDone(r) => done = Some(r.code),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(entries, 400);
        assert_eq!(done, Some(LdapResultCode::Success));
    }
}
