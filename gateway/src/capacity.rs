//! Requests in flight to the local Ollama (QUEUE-01/02, MODEL-03): a counted number of
//! places, shared across instances through Redis when configured, and a bounded wait queue
//! in which Enterprise goes before Pro before Basic (by plan priority). Within a plan the
//! queue is fair between accounts: an account's n-th waiting request goes behind every
//! other account's (n-1)-th, so one account queueing many requests cannot make the others
//! wait for all of them (security review, issue 9); arrival order decides the rest. The
//! queue is per instance; the places it waits for are global.
use std::cmp::Reverse;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

use crate::shared::Redis;

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
    queue: Mutex<BTreeSet<Ticket>>,
    queue_max: usize,
    wait_timeout: Duration,
    freed: Notify,
}

/// A Redis entry older than this belongs to a crashed instance and is dropped.
const STALE_MS: u64 = 15 * 60 * 1000;
/// Waiters re-check this often, for places freed by other instances.
const POLL: Duration = Duration::from_millis(25);

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
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
        Arc::new(Self {
            redis,
            local: AtomicU64::new(0),
            capacity,
            instance: format!("{:016x}", rand::random::<u64>()),
            seq: AtomicU64::new(0),
            queue: Mutex::default(),
            queue_max,
            wait_timeout,
            freed: Notify::new(),
        })
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

    /// A place if one is free now.
    pub async fn try_acquire(self: &Arc<Self>) -> Option<Slot> {
        if let Some((r, key)) = &self.redis {
            let member = format!(
                "{}:{}",
                self.instance,
                self.seq.fetch_add(1, Ordering::Relaxed)
            );
            let now = now_ms();
            let stale = now.saturating_sub(STALE_MS);
            match r
                .try_acquire_slot(key, &member, self.capacity, now, stale)
                .await
            {
                Ok(true) => {
                    return Some(Slot {
                        cap: self.clone(),
                        member: Some(member),
                    })
                }
                Ok(false) => return None,
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
        let ticket = {
            let mut q = self.queue.lock().map_err(|_| WaitError::Full)?;
            if q.len() >= self.queue_max {
                return Err(WaitError::Full);
            }
            let round = q.iter().filter(|t| t.3 == account).count();
            let ticket = (
                Reverse(priority),
                round,
                self.seq.fetch_add(1, Ordering::Relaxed),
                account,
            );
            q.insert(ticket);
            ticket
        };
        let _leave = LeaveQueue { cap: self, ticket };
        let deadline = tokio::time::Instant::now() + self.wait_timeout;
        loop {
            let freed = self.freed.notified();
            let head = self
                .queue
                .lock()
                .map(|q| q.first() == Some(&ticket))
                .unwrap_or(false);
            if head {
                if let Some(slot) = self.try_acquire().await {
                    return Ok(slot);
                }
            }
            tokio::select! {
                _ = freed => {}
                _ = tokio::time::sleep(POLL) => {}
                _ = tokio::time::sleep_until(deadline) => return Err(WaitError::Timeout),
            }
        }
    }

    fn release(&self, member: Option<String>) {
        match (member, &self.redis) {
            (Some(member), Some((r, key))) => {
                let (r, key) = (r.clone(), key.clone());
                let cap_freed = tokio::runtime::Handle::try_current();
                if let Ok(rt) = cap_freed {
                    rt.spawn(async move {
                        if let Err(e) = r.release_slot(&key, &member).await {
                            tracing::warn!("in-flight release via Redis failed: {e}");
                        }
                    });
                }
            }
            _ => {
                self.local.fetch_sub(1, Ordering::SeqCst);
            }
        }
        self.freed.notify_waiters();
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
        self.cap.freed.notify_waiters();
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
