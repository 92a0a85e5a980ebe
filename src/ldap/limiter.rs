//! The connection limits: open connections in total (`max_connections`) and per
//! client address (`max_connections_per_address`). When every slot is taken, a new
//! connection is not refused while an idle one can make room: the oldest idle
//! connection of the address holding the most is closed for it, so that phones
//! opening a connection per search are not locked out by connections held open
//! elsewhere.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;
use tokio::sync::Notify;

/// What the limiter knows of one open connection: whether it is idle, and since when.
pub struct Activity {
    /// Milliseconds since `EPOCH` the connection has been idle since, or `BUSY` (a
    /// request read or answered, paged searches parked) or `CLOSED` (closed for another).
    state: AtomicU64,
    closed: Notify,
}

const BUSY: u64 = u64::MAX;
const CLOSED: u64 = u64::MAX - 1;

fn millis() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    let epoch = *EPOCH.get_or_init(Instant::now);
    u64::try_from(epoch.elapsed().as_millis()).unwrap_or(CLOSED - 1)
}

impl Activity {
    fn idle_since(ms: u64) -> Arc<Activity> {
        Arc::new(Activity {
            state: AtomicU64::new(ms),
            closed: Notify::new(),
        })
    }

    /// A request is being read or answered, or paged searches are parked: the
    /// connection is not to be closed for another. False once it was.
    pub fn busy(&self) -> bool {
        self.update(|_| BUSY)
    }

    /// Waiting for a request with nothing parked: idle from now, if it was not
    /// already. False once the connection was closed for another.
    pub fn idle(&self) -> bool {
        self.update(|s| if s == BUSY { millis() } else { s })
    }

    fn update(&self, next: impl Fn(u64) -> u64) -> bool {
        self.state
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |s| {
                (s != CLOSED).then(|| next(s))
            })
            .is_ok()
    }

    /// Completes when the connection is closed for another.
    pub async fn closed_for_another(&self) {
        self.closed.notified().await;
    }

    /// Idle since when, if idle.
    fn idle_at(&self) -> Option<u64> {
        let s = self.state.load(Ordering::Acquire);
        (s < CLOSED).then_some(s)
    }

    /// Marks an idle connection closed, unless it just became busy.
    fn close(&self, idle_at: u64) -> bool {
        let closed = self
            .state
            .compare_exchange(idle_at, CLOSED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok();
        if closed {
            self.closed.notify_one();
        }
        closed
    }
}

/// The connections open, by client address.
#[derive(Default)]
struct Open {
    total: usize,
    by_address: HashMap<IpAddr, Vec<Arc<Activity>>>,
}

impl Open {
    fn remove(&mut self, ip: IpAddr, activity: &Arc<Activity>) {
        let Some(list) = self.by_address.get_mut(&ip) else {
            return;
        };
        if let Some(i) = list.iter().position(|a| Arc::ptr_eq(a, activity)) {
            list.swap_remove(i);
            self.total -= 1;
        }
        if list.is_empty() {
            self.by_address.remove(&ip);
        }
    }
}

/// The connection to close to make room: the one idle longest (no request read
/// or answered, nothing parked) of the address holding the most connections; of the
/// next address if that one has none idle. `None` when no connection is idle.
fn victim(
    by_address: &HashMap<IpAddr, Vec<Arc<Activity>>>,
) -> Option<(IpAddr, Arc<Activity>, u64)> {
    let mut addresses: Vec<(&IpAddr, &Vec<Arc<Activity>>)> = by_address.iter().collect();
    addresses.sort_by_key(|(ip, list)| (std::cmp::Reverse(list.len()), **ip));
    addresses.into_iter().find_map(|(ip, list)| {
        list.iter()
            .filter_map(|a| a.idle_at().map(|at| (at, a)))
            .min_by_key(|(at, _)| *at)
            .map(|(at, a)| (*ip, a.clone(), at))
    })
}

/// A connection closed to make room for another: its address, and how many
/// connections that address held.
pub struct Closed {
    pub ip: IpAddr,
    pub held: usize,
}

/// Counts open connections, in total and per client address.
pub struct Limiter {
    max_total: AtomicUsize,
    max_per_address: AtomicUsize,
    open: Mutex<Open>,
}

/// Held while a connection is open.
pub struct Slot {
    limiter: Arc<Limiter>,
    ip: IpAddr,
    pub activity: Arc<Activity>,
}

impl Limiter {
    pub fn new(max_total: usize, max_per_address: usize) -> Arc<Limiter> {
        Arc::new(Limiter {
            max_total: AtomicUsize::new(max_total),
            max_per_address: AtomicUsize::new(max_per_address),
            open: Mutex::new(Open::default()),
        })
    }

    /// A slot, and the connection closed to make room for it if one was; or the
    /// reason there is none.
    pub fn acquire(self: &Arc<Self>, ip: IpAddr) -> Result<(Slot, Option<Closed>), &'static str> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let mine = open.by_address.get(&ip).map_or(0, Vec::len);
        if mine >= self.max_per_address.load(Ordering::Relaxed) {
            return Err("too many connections from this address (max_connections_per_address)");
        }
        let mut closed = None;
        while open.total >= self.max_total.load(Ordering::Relaxed) {
            let Some((victim_ip, activity, idle_at)) = victim(&open.by_address) else {
                return Err("too many connections (max_connections), none of them idle");
            };
            // A connection that became busy meanwhile stays: look again.
            if activity.close(idle_at) {
                let held = open.by_address.get(&victim_ip).map_or(0, Vec::len);
                open.remove(victim_ip, &activity);
                closed = Some(Closed {
                    ip: victim_ip,
                    held,
                });
            }
        }
        let activity = Activity::idle_since(millis());
        open.by_address
            .entry(ip)
            .or_default()
            .push(activity.clone());
        open.total += 1;
        let slot = Slot {
            limiter: self.clone(),
            ip,
            activity,
        };
        Ok((slot, closed))
    }

    /// New limits apply to the next connections; open ones stay.
    pub fn set_limits(&self, max_total: usize, max_per_address: usize) {
        self.max_total.store(max_total, Ordering::Relaxed);
        self.max_per_address
            .store(max_per_address, Ordering::Relaxed);
    }

    pub fn open(&self) -> usize {
        self.open.lock().map(|o| o.total).unwrap_or_default()
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.limiter.open.lock().unwrap_or_else(|e| e.into_inner());
        open.remove(self.ip, &self.activity);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ip(n: u8) -> IpAddr {
        IpAddr::from([127, 0, 0, n])
    }

    #[test]
    fn the_oldest_idle_connection_of_the_address_holding_most_makes_room() {
        let limiter = Limiter::new(5, 3);
        let (a1, _) = limiter.acquire(ip(1)).unwrap();
        let (b1, _) = limiter.acquire(ip(2)).unwrap();
        let (b2, _) = limiter.acquire(ip(2)).unwrap();
        let (b3, _) = limiter.acquire(ip(2)).unwrap();
        let (_c1, _) = limiter.acquire(ip(3)).unwrap();
        // Address 2 holds the most: of its connections, b1 is busy, b2 idle longest.
        assert!(b1.activity.busy());
        assert!(b2.activity.busy() && b3.activity.busy());
        b2.activity.state.store(10, Ordering::Release);
        b3.activity.state.store(20, Ordering::Release);
        a1.activity.state.store(0, Ordering::Release);
        let (_d1, closed) = limiter.acquire(ip(4)).unwrap();
        let closed = closed.expect("one closed to make room");
        assert_eq!((closed.ip, closed.held), (ip(2), 3));
        assert!(!b2.activity.idle(), "b2 was closed");
        assert!(b3.activity.idle() && b1.activity.busy());
        assert_eq!(limiter.open(), 5);
        // A closed connection's slot, given back when its task ends, is not counted twice.
        drop(b2);
        assert_eq!(limiter.open(), 5);
    }

    #[test]
    fn refused_when_no_connection_is_idle_or_the_address_is_at_its_cap() {
        let limiter = Limiter::new(2, 1);
        let (a, _) = limiter.acquire(ip(1)).unwrap();
        assert!(limiter.acquire(ip(1)).is_err(), "per-address cap");
        let (b, _) = limiter.acquire(ip(2)).unwrap();
        assert!(a.activity.busy() && b.activity.busy());
        assert!(limiter.acquire(ip(3)).is_err(), "nothing idle to close");
        assert!(b.activity.idle());
        let (_c, closed) = limiter.acquire(ip(3)).unwrap();
        assert_eq!(closed.map(|c| c.ip), Some(ip(2)));
        assert_eq!(limiter.open(), 2);
        drop(a);
        assert_eq!(limiter.open(), 1);
    }
}
