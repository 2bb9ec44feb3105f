//! Requests in flight to the local Ollama (QUEUE-01/02, MODEL-03): a counted number of
//! places, shared across instances through Redis when configured, and a bounded wait queue
//! in which Enterprise goes before Pro before Basic (by plan priority). Within a plan the
//! queue is fair between accounts: an account's n-th waiting request goes behind every
//! other account's (n-1)-th, so one account queueing many requests cannot make the others
//! wait for all of them (security review, issue 9); arrival order decides the rest. The
//! queue is per instance; the places it waits for are global.
use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

use crate::shared::{AdmitArgs, Redis};

/// A place counted as in flight until dropped.
pub struct Slot {
    cap: Arc<LocalCapacity>,
    /// The Redis member when the place was taken there.
    member: Option<String>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum WaitError {
    /// The wait queue is full.
    Full,
    /// No place came free in time.
    Timeout,
}

/// (plan priority, the account's round, arrival, account): the order of the queue.
type Ticket = (Reverse<u8>, usize, u64, i64);

pub struct LocalCapacity {
    redis: Option<(Redis, String)>,
    /// Places taken in this process (all of them without Redis).
    local: AtomicU64,
    capacity: u64,
    instance: String,
    seq: AtomicU64,
    /// The waiters, each with its own wake-up: a freed place wakes the head of the queue
    /// only (waking every waiter to find the head cost more the longer the queue).
    queue: Mutex<BTreeMap<Ticket, Arc<Notify>>>,
    queue_max: usize,
    wait_timeout: Duration,
    /// Places given back and not yet removed from Redis.
    give_back: Arc<GiveBack>,
}

/// A Redis entry older than this belongs to a crashed instance and is dropped.
const STALE_MS: u64 = 15 * 60 * 1000;
/// The head of the queue re-checks this often, for places freed by other instances.
const POLL: Duration = Duration::from_millis(25);
/// A place given back waits at most this long for the next script of this instance to
/// carry it to Redis; then it is sent on its own (batched with any others).
const GIVE_BACK_WITHIN: Duration = Duration::from_millis(2);
/// Places given back that one script carries at most.
const GIVE_BACK_BATCH: usize = 128;

/// The places given back to Redis lazily: the next admission or acquisition script of
/// this instance removes them first (no round trip of their own), and a background task
/// sends those still waiting after [`GIVE_BACK_WITHIN`] in one `ZREM`. Places of this
/// instance are free for it at once (its next script removes them before it counts);
/// other instances see them free within that delay. A batch whose script failed or was
/// cancelled is put back, so none is lost (`ZREM` of a member already gone is a no-op).
struct GiveBack {
    pending: Mutex<Vec<String>>,
    wake: Notify,
    closed: AtomicBool,
}

impl GiveBack {
    fn push(&self, member: String) {
        if let Ok(mut p) = self.pending.lock() {
            p.push(member);
        }
        self.wake.notify_one();
    }

    /// Takes up to a batch of pending members; they go back to the list unless the
    /// batch is [`Batch::done`].
    fn take(self: &Arc<Self>) -> Batch {
        let members = match self.pending.lock() {
            Ok(mut p) if p.len() > GIVE_BACK_BATCH => {
                let at = p.len() - GIVE_BACK_BATCH;
                p.split_off(at)
            }
            Ok(mut p) => std::mem::take(&mut *p),
            Err(_) => Vec::new(),
        };
        Batch {
            gb: self.clone(),
            members,
        }
    }
}

/// Members taken from the give-back list for one script.
struct Batch {
    gb: Arc<GiveBack>,
    members: Vec<String>,
}

impl Batch {
    /// The script that carried them ran.
    fn done(mut self) {
        self.members.clear();
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        if self.members.is_empty() {
            return;
        }
        let members = std::mem::take(&mut self.members);
        if let Ok(mut p) = self.gb.pending.lock() {
            p.extend(members);
        }
        self.gb.wake.notify_one();
    }
}

/// A member a script may have added: given back unless it becomes a [`Slot`] (the script
/// said no, failed, or its future was dropped while the answer was on its way).
struct Claim {
    gb: Arc<GiveBack>,
    member: Option<String>,
}

impl Claim {
    fn into_member(mut self) -> String {
        self.member.take().unwrap_or_default()
    }

    /// The script answered that it added nothing.
    fn not_added(mut self) {
        self.member = None;
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        if let Some(m) = self.member.take() {
            self.gb.push(m);
        }
    }
}

/// Sends the places given back that no script carried within [`GIVE_BACK_WITHIN`].
async fn flush_give_backs(gb: Arc<GiveBack>, redis: Redis, key: String) {
    loop {
        gb.wake.notified().await;
        let closed = gb.closed.load(Ordering::Relaxed);
        if !closed {
            // Let the next request's script carry them.
            tokio::time::sleep(GIVE_BACK_WITHIN).await;
        }
        loop {
            let batch = gb.take();
            if batch.members.is_empty() {
                break;
            }
            match redis.release_slots(&key, &batch.members).await {
                Ok(()) => batch.done(),
                Err(e) => {
                    tracing::warn!("in-flight release via Redis failed (retrying): {e}");
                    drop(batch);
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
            }
        }
        if closed {
            return;
        }
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The outcome of [`LocalCapacity::admit`].
pub struct Admitted {
    /// The rate-limit window's count, this request included.
    pub count: u64,
    pub slot: Option<Slot>,
}

impl LocalCapacity {
    pub fn new(
        redis: Option<Redis>,
        upstream: &str,
        capacity: u64,
        queue_max: usize,
        wait_timeout: Duration,
    ) -> Arc<Self> {
        let redis = redis.map(|r| {
            let key = r.key(&format!("inflight:{upstream}"));
            (r, key)
        });
        let give_back = Arc::new(GiveBack {
            pending: Mutex::default(),
            wake: Notify::new(),
            closed: AtomicBool::new(false),
        });
        if let (Some((r, key)), Ok(rt)) = (&redis, tokio::runtime::Handle::try_current()) {
            rt.spawn(flush_give_backs(give_back.clone(), r.clone(), key.clone()));
        }
        Arc::new(Self {
            redis,
            local: AtomicU64::new(0),
            capacity,
            instance: format!("{:016x}", rand::random::<u64>()),
            seq: AtomicU64::new(0),
            queue: Mutex::default(),
            queue_max,
            wait_timeout,
            give_back,
        })
    }

    /// Whether places are counted in Redis (then [`LocalCapacity::admit`] is one round
    /// trip for the rate-limit window and the place).
    pub fn shared(&self) -> bool {
        self.redis.is_some()
    }

    /// Requests waiting in this instance's queue.
    pub fn waiting(&self) -> usize {
        self.queue.lock().map(|q| q.len()).unwrap_or(0)
    }

    /// Requests in flight (across instances with Redis).
    pub async fn in_flight(&self) -> u64 {
        if let Some((r, key)) = &self.redis {
            if let Ok(n) = r.slots_in_use(key).await {
                return n;
            }
        }
        self.local.load(Ordering::SeqCst)
    }

    /// Sends every place given back to Redis now (at shutdown).
    pub async fn flush(&self) {
        let Some((r, key)) = &self.redis else {
            return;
        };
        loop {
            let batch = self.give_back.take();
            if batch.members.is_empty() {
                return;
            }
            match r.release_slots(key, &batch.members).await {
                Ok(()) => batch.done(),
                Err(e) => {
                    tracing::warn!("in-flight release via Redis failed at shutdown: {e}");
                    return;
                }
            }
        }
    }

    fn member(&self) -> String {
        format!(
            "{}:{}",
            self.instance,
            self.seq.fetch_add(1, Ordering::Relaxed)
        )
    }

    /// With Redis, in one round trip: counts a request in the rate-limit window
    /// `window_key` (expiring `ttl_secs` after its first use) and, when `want_place`, the
    /// count is within `limit` and nobody waits in this instance's queue, takes a place if
    /// one is free (as [`LocalCapacity::acquire_now`]); places given back since the last
    /// script are removed first. An error means nothing is known to be counted or taken
    /// (a place the script may have taken is given back).
    pub async fn admit(
        self: &Arc<Self>,
        window_key: &str,
        ttl_secs: u64,
        limit: u32,
        want_place: bool,
    ) -> Result<Admitted, redis::RedisError> {
        let Some((r, key)) = &self.redis else {
            return Err(redis::RedisError::from((
                redis::ErrorKind::Client,
                "no Redis configured",
            )));
        };
        let claim = (want_place && self.waiting() == 0).then(|| Claim {
            gb: self.give_back.clone(),
            member: Some(self.member()),
        });
        let batch = self.give_back.take();
        let now = now_ms();
        let (count, took) = r
            .admit(&AdmitArgs {
                window_key,
                window_ttl_secs: ttl_secs,
                limit,
                slots_key: key,
                member: claim.as_ref().and_then(|c| c.member.as_deref()),
                capacity: self.capacity,
                now_ms: now,
                stale_before_ms: now.saturating_sub(STALE_MS),
                give_back: &batch.members,
            })
            .await?;
        batch.done();
        let slot = match claim {
            Some(claim) if took => Some(Slot {
                cap: self.clone(),
                member: Some(claim.into_member()),
            }),
            Some(claim) => {
                claim.not_added();
                None
            }
            None => None,
        };
        Ok(Admitted { count, slot })
    }

    /// A place if one is free now.
    pub async fn try_acquire(self: &Arc<Self>) -> Option<Slot> {
        if let Some((r, key)) = &self.redis {
            let claim = Claim {
                gb: self.give_back.clone(),
                member: Some(self.member()),
            };
            let batch = self.give_back.take();
            let now = now_ms();
            let stale = now.saturating_sub(STALE_MS);
            let member = claim.member.as_deref().unwrap_or_default();
            match r
                .try_acquire_slot(key, member, self.capacity, now, stale, &batch.members)
                .await
            {
                Ok(true) => {
                    batch.done();
                    return Some(Slot {
                        cap: self.clone(),
                        member: Some(claim.into_member()),
                    });
                }
                Ok(false) => {
                    batch.done();
                    claim.not_added();
                    return None;
                }
                Err(e) => tracing::warn!("in-flight count via Redis failed, counting locally: {e}"),
            }
        }
        let took = self
            .local
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < self.capacity).then_some(n + 1)
            })
            .is_ok();
        took.then(|| Slot {
            cap: self.clone(),
            member: None,
        })
    }

    /// A place now if nobody is waiting and one is free.
    pub async fn acquire_now(self: &Arc<Self>) -> Option<Slot> {
        if self.waiting() > 0 {
            return None;
        }
        self.try_acquire().await
    }

    /// Waits in the priority queue for a place (higher `priority` first, then fair
    /// between accounts).
    pub async fn wait(self: &Arc<Self>, priority: u8, account: i64) -> Result<Slot, WaitError> {
        let wake = Arc::new(Notify::new());
        let ticket = {
            let mut q = self.queue.lock().map_err(|_| WaitError::Full)?;
            if q.len() >= self.queue_max {
                return Err(WaitError::Full);
            }
            let round = q.keys().filter(|t| t.3 == account).count();
            let ticket = (
                Reverse(priority),
                round,
                self.seq.fetch_add(1, Ordering::Relaxed),
                account,
            );
            q.insert(ticket, wake.clone());
            ticket
        };
        let _leave = LeaveQueue { cap: self, ticket };
        let deadline = tokio::time::Instant::now() + self.wait_timeout;
        loop {
            let head = self
                .queue
                .lock()
                .map(|q| q.keys().next() == Some(&ticket))
                .unwrap_or(false);
            if head {
                if let Some(slot) = self.try_acquire().await {
                    return Ok(slot);
                }
            }
            // Woken when a place of this instance is freed while this is the head, or
            // when the head leaves; the head also polls for other instances' places.
            // (A wake-up that came since the check above is kept by the Notify.)
            let poll = async {
                if head {
                    tokio::time::sleep(POLL).await
                } else {
                    std::future::pending().await
                }
            };
            tokio::select! {
                _ = wake.notified() => {}
                _ = poll => {}
                _ = tokio::time::sleep_until(deadline) => return Err(WaitError::Timeout),
            }
        }
    }

    /// Wakes the waiter at the head of the queue, if any.
    fn wake_head(&self) {
        if let Ok(q) = self.queue.lock() {
            if let Some(wake) = q.values().next() {
                wake.notify_one();
            }
        }
    }

    fn release(&self, member: Option<String>) {
        match member {
            Some(member) => self.give_back.push(member),
            None => {
                self.local.fetch_sub(1, Ordering::SeqCst);
            }
        }
        self.wake_head();
    }
}

impl Drop for LocalCapacity {
    fn drop(&mut self) {
        // The flusher sends what is left and ends.
        self.give_back.closed.store(true, Ordering::Relaxed);
        self.give_back.wake.notify_one();
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.cap.release(self.member.take());
    }
}

/// Leaves the queue however the wait ends (a place, a timeout, the client going away) and
/// lets the next in line look.
struct LeaveQueue<'a> {
    cap: &'a LocalCapacity,
    ticket: Ticket,
}

impl Drop for LeaveQueue<'_> {
    fn drop(&mut self) {
        if let Ok(mut q) = self.cap.queue.lock() {
            q.remove(&self.ticket);
        }
        // The next in line is the head now (or was already, if this one timed out).
        self.cap.wake_head();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The order in which `waiters` (name, plan priority, account), queued one after the
    /// other behind a held place, are served once it is freed.
    async fn served(waiters: &[(&'static str, u8, i64)]) -> Vec<&'static str> {
        let cap = LocalCapacity::new(None, "t", 1, 10, Duration::from_secs(5));
        let held = cap.try_acquire().await.unwrap();
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for &(name, priority, account) in waiters {
            let (c, order) = (cap.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                let slot = c.wait(priority, account).await.unwrap();
                order.lock().unwrap().push(name);
                tokio::time::sleep(Duration::from_millis(5)).await;
                drop(slot);
            }));
            // Let each join the queue before the next, so arrival order is known.
            while cap.waiting() < tasks.len() {
                tokio::task::yield_now().await;
            }
        }
        drop(held);
        for t in tasks {
            t.await.unwrap();
        }
        let served = order.lock().unwrap().clone();
        served
    }

    #[tokio::test]
    async fn waiters_are_served_by_plan_priority_then_arrival() {
        let waiters = [
            ("basic", 1, 1),
            ("pro", 2, 2),
            ("enterprise", 3, 3),
            ("pro2", 2, 4),
        ];
        assert_eq!(
            served(&waiters).await,
            ["enterprise", "pro", "pro2", "basic"]
        );
    }

    #[tokio::test]
    async fn a_full_queue_or_a_long_wait_is_refused() {
        let cap = LocalCapacity::new(None, "t", 1, 1, Duration::from_millis(50));
        let _held = cap.try_acquire().await.unwrap();
        let waiter = {
            let cap = cap.clone();
            tokio::spawn(async move { cap.wait(1, 1).await.err() })
        };
        while cap.waiting() < 1 {
            tokio::task::yield_now().await;
        }
        assert_eq!(cap.wait(3, 2).await.err(), Some(WaitError::Full));
        assert_eq!(waiter.await.unwrap(), Some(WaitError::Timeout));
        assert_eq!(cap.waiting(), 0);
    }

    #[tokio::test]
    async fn within_a_plan_one_account_cannot_queue_ahead_of_the_others() {
        // Account 1 queues four requests, then account 2 one: 2 goes second, not fifth.
        let waiters = [
            ("a1", 1, 1),
            ("a2", 1, 1),
            ("a3", 1, 1),
            ("a4", 1, 1),
            ("b1", 1, 2),
        ];
        assert_eq!(served(&waiters).await, ["a1", "b1", "a2", "a3", "a4"]);
    }
}
