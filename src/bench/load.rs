//! A load client that types like phones: several connections, each sending prefix
//! and contains searches of 2 to 4 characters on names and numbers, one after the
//! other, and timing each search until its last result arrives.

use crate::bench::phonebook;
use crate::ldap::frame::{self, Frame};
use bytes::BytesMut;
use futures::{SinkExt, StreamExt};
use ldap3_proto::LdapCodec;
use ldap3_proto::proto::{
    LdapBindCred, LdapBindRequest, LdapDerefAliases, LdapFilter, LdapMsg, LdapOp, LdapResult,
    LdapResultCode, LdapSearchRequest, LdapSearchScope, LdapSubstringFilter,
};
use serde::Serialize;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::codec::Framed;
use tokio_util::codec::{Decoder, Encoder};

#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub addr: SocketAddr,
    pub base_dn: String,
    pub connections: usize,
    pub duration: Duration,
    pub size_limit: i32,
    pub seed: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct LoadReport {
    pub connections: usize,
    pub searches: u64,
    pub failed: u64,
    pub entries: u64,
    pub seconds: f64,
    pub per_second: f64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
}

/// One of the phone mix's filters for what was typed.
pub fn phone_filter(typed: &str, number: bool, contains: bool) -> LdapFilter {
    let sub = |attr: &str| {
        LdapFilter::Substring(
            attr.to_string(),
            if contains {
                LdapSubstringFilter {
                    initial: None,
                    any: vec![typed.to_string()],
                    final_: None,
                }
            } else {
                LdapSubstringFilter {
                    initial: Some(typed.to_string()),
                    any: Vec::new(),
                    final_: None,
                }
            },
        )
    };
    let attrs: &[&str] = if number {
        &["telephoneNumber", "mobile", "homePhone"]
    } else {
        &["cn", "sn", "givenName"]
    };
    LdapFilter::Or(attrs.iter().map(|a| sub(a)).collect())
}

pub fn search(msgid: i32, opts: &LoadOptions, filter: LdapFilter) -> LdapMsg {
    LdapMsg::new(
        msgid,
        LdapOp::SearchRequest(LdapSearchRequest {
            base: opts.base_dn.clone(),
            scope: LdapSearchScope::Subtree,
            aliases: LdapDerefAliases::Never,
            sizelimit: opts.size_limit,
            timelimit: 0,
            typesonly: false,
            filter,
            attrs: vec![
                "cn".to_string(),
                "telephoneNumber".to_string(),
                "mobile".to_string(),
            ],
        }),
    )
}

type Conn = Framed<TcpStream, LdapCodec>;

async fn connect(opts: &LoadOptions) -> std::io::Result<Conn> {
    let stream = TcpStream::connect(opts.addr).await?;
    stream.set_nodelay(true)?;
    let mut conn = Framed::new(stream, LdapCodec::new(Some(4 << 20), None));
    conn.send(LdapMsg::new(
        1,
        LdapOp::BindRequest(LdapBindRequest {
            version: 3,
            dn: String::new(),
            cred: LdapBindCred::Simple(String::new()),
        }),
    ))
    .await?;
    match conn.next().await {
        Some(Ok(LdapMsg {
            op: LdapOp::BindResponse(r),
            ..
        })) if r.res.code == LdapResultCode::Success => Ok(conn),
        other => Err(std::io::Error::other(format!("bind failed: {other:?}"))),
    }
}

#[derive(Default)]
struct Tally {
    latencies: Vec<u32>,
    failed: u64,
    entries: u64,
}

/// The 50th and 99th percentiles and the largest of latencies, sorted in place.
fn percentiles(latencies: &mut [u32]) -> (u64, u64, u64) {
    latencies.sort_unstable();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0) as u64
    };
    (pct(0.50), pct(0.99), pct(1.0))
}

/// One connection searching until the deadline. Entries are only framed and
/// counted, not decoded, so that the client spends as little CPU as it can beside the
/// server it measures; the final result is decoded for its code.
async fn worker(opts: LoadOptions, n: usize, deadline: Instant) -> std::io::Result<Tally> {
    let mut client = Client::new(connect(&opts).await?.into_inner());
    let mut rng = fastrand::Rng::with_seed(opts.seed.wrapping_add(n as u64));
    let mut tally = Tally::default();
    while Instant::now() < deadline {
        let (typed, number) = phonebook::typed(&mut rng);
        let filter = phone_filter(&typed, number, rng.bool());
        client.search(&opts, filter, &mut tally).await?;
    }
    Ok(tally)
}

/// One connection, searching one request at a time.
struct Client {
    stream: TcpStream,
    codec: LdapCodec,
    buf: BytesMut,
    request: BytesMut,
    msgid: i32,
}

impl Client {
    fn new(stream: TcpStream) -> Client {
        Client {
            stream,
            codec: LdapCodec::new(Some(MAX_MESSAGE), None),
            buf: BytesMut::with_capacity(64 * 1024),
            request: BytesMut::new(),
            msgid: 1,
        }
    }

    /// Sends one search and reads its answer, counting it in `tally`.
    async fn search(
        &mut self,
        opts: &LoadOptions,
        filter: LdapFilter,
        tally: &mut Tally,
    ) -> std::io::Result<()> {
        self.msgid += 1;
        let started = Instant::now();
        self.request.clear();
        self.codec
            .encode(search(self.msgid, opts, filter), &mut self.request)?;
        self.stream.write_all(&self.request).await?;
        loop {
            while let Frame::Complete(len) = frame::frame(&self.buf, MAX_MESSAGE) {
                let mut msg = self.buf.split_to(len);
                match frame::peek_id_and_op(&msg).map(|(_, op)| op) {
                    Some(0x64) => tally.entries += 1,
                    Some(0x65) => {
                        let ok = matches!(
                            self.codec.decode(&mut msg),
                            Ok(Some(LdapMsg {
                                op: LdapOp::SearchResultDone(LdapResult {
                                    code: LdapResultCode::Success
                                        | LdapResultCode::SizeLimitExceeded,
                                    ..
                                }),
                                ..
                            }))
                        );
                        if !ok {
                            tally.failed += 1;
                        }
                        let us = started.elapsed().as_micros();
                        tally.latencies.push(u32::try_from(us).unwrap_or(u32::MAX));
                        return Ok(());
                    }
                    _ => {}
                }
            }
            if self.stream.read_buf(&mut self.buf).await? == 0 {
                return Err(std::io::Error::other("server closed the connection"));
            }
        }
    }
}

/// Largest message the load client accepts.
const MAX_MESSAGE: usize = 4 << 20;

/// Runs the load and summarises it.
pub async fn run(opts: LoadOptions) -> std::io::Result<LoadReport> {
    let started = Instant::now();
    let deadline = started + opts.duration;
    let tasks: Vec<_> = (0..opts.connections.max(1))
        .map(|n| tokio::spawn(worker(opts.clone(), n, deadline)))
        .collect();
    let mut latencies = Vec::new();
    let (mut failed, mut entries) = (0, 0);
    for t in tasks {
        let tally = t.await.map_err(std::io::Error::other)??;
        latencies.extend(tally.latencies);
        failed += tally.failed;
        entries += tally.entries;
    }
    let seconds = started.elapsed().as_secs_f64();
    let (p50_us, p99_us, max_us) = percentiles(&mut latencies);
    Ok(LoadReport {
        connections: opts.connections,
        searches: latencies.len() as u64,
        failed,
        entries,
        seconds,
        per_second: latencies.len() as f64 / seconds,
        p50_us,
        p99_us,
        max_us,
    })
}

/// What one class of filters cost.
#[derive(Debug, Clone, Serialize)]
pub struct ClassReport {
    pub class: String,
    pub filters: usize,
    pub searches: u64,
    pub failed: u64,
    pub entries_per_search: f64,
    pub per_second: f64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
    /// The server's CPU time per search (with `server_pid`).
    pub cpu_us_per_search: Option<f64>,
}

/// Runs each class of filters in turn on `opts.connections` connections, for
/// `per_class` (at least one search per connection), each connection taking the
/// class's filters in turn; calls `report` after each class.
pub async fn run_classes(
    opts: &LoadOptions,
    classes: Vec<(String, Vec<LdapFilter>)>,
    per_class: Duration,
    server_pid: Option<u32>,
    mut report: impl FnMut(ClassReport),
) -> std::io::Result<()> {
    let mut clients = Vec::new();
    for _ in 0..opts.connections.max(1) {
        clients.push(Client::new(connect(opts).await?.into_inner()));
    }
    for (class, filters) in classes {
        let filters = std::sync::Arc::new(filters);
        let cpu_before = server_pid.map(super::process::cpu_ns).transpose()?;
        let started = Instant::now();
        let deadline = started + per_class;
        let tasks: Vec<_> = clients
            .drain(..)
            .enumerate()
            .map(|(n, mut client)| {
                let (opts, filters) = (opts.clone(), filters.clone());
                tokio::spawn(async move {
                    let mut tally = Tally::default();
                    let mut i = n;
                    loop {
                        let filter = filters[i % filters.len()].clone();
                        client.search(&opts, filter, &mut tally).await?;
                        i += 1;
                        if Instant::now() >= deadline {
                            return Ok::<_, std::io::Error>((client, tally));
                        }
                    }
                })
            })
            .collect();
        let mut all = Tally::default();
        for t in tasks {
            let (client, tally) = t.await.map_err(std::io::Error::other)??;
            clients.push(client);
            all.latencies.extend(tally.latencies);
            all.failed += tally.failed;
            all.entries += tally.entries;
        }
        let seconds = started.elapsed().as_secs_f64();
        let cpu_after = server_pid.map(super::process::cpu_ns).transpose()?;
        let searches = all.latencies.len() as u64;
        let (p50_us, p99_us, max_us) = percentiles(&mut all.latencies);
        report(ClassReport {
            class,
            filters: filters.len(),
            searches,
            failed: all.failed,
            entries_per_search: all.entries as f64 / searches.max(1) as f64,
            per_second: searches as f64 / seconds,
            p50_us,
            p99_us,
            max_us,
            cpu_us_per_search: cpu_before
                .zip(cpu_after)
                .map(|(b, a)| a.saturating_sub(b) as f64 / 1000.0 / searches.max(1) as f64),
        });
    }
    Ok(())
}
