//! Metering of API requests without a database write before the answer (API-02), and the
//! batched writer of usage rows (every request, success or failure).
//!
//! **Credit holds.** For an account with credits to spare, a gateway instance sets aside a
//! block of them — a *hold*: `accounts.held` grows in one guarded `UPDATE` (the account's
//! credits minus everything already held must cover twice the block) and a
//! `credit_holds` row records it — and then reserves requests against the block in
//! memory. Holding moves no credits: the balance and the ledger do not change until
//! requests are charged. So several instances can never spend more than the balance
//! between them, and a request with a hold behind it costs no database round trip before
//! its answer.
//!
//! **Charges.** After the answer, [`Meter::settle`] queues the charge with the request's
//! usage row; the writer task applies a batch of them in one transaction: per account one
//! `UPDATE` of the balance (guarded, never below zero) and of `held`, one ledger row per
//! charged request (`usage`, the request id as reference, the running balance after it),
//! and the usage rows. So every credit movement is still a ledger row written with the
//! balance column, only a few hundred milliseconds later. Threshold events (credit warning,
//! exhausted) follow each batch.
//!
//! **Small balances** (less than twice a block) take the direct path: the reservation is a
//! ledger debit in its own transaction ([`credits::reserve_for_key`], exact across
//! instances, and it re-checks that the key is live) and the settlement returns the unused
//! part through the writer.
//!
//! **Lifetime of a hold.** Its instance renews it every [`RENEW_EVERY`]; an instance that
//! stops (a crash) leaves it to expire after [`HOLD_TTL`], when any instance's sweeper
//! deletes it and frees its credits. An instance uses a hold only while its last renewal
//! is fresh, releases holds idle for [`IDLE_RELEASE`], and releases all of them on
//! [`Meter::shutdown`] after the last charge is written. What a crash costs the customer:
//! nothing — charges not yet written are lost to us, not to them.
//!
//! Layout: this file is the metering API ([`Meter`]: reserve, settle, record, flush,
//! shutdown); `holds` the credit holds (take, grow, renew, sweep); `writer` the batched
//! writer, its transaction split at its phases; `thresholds` the credit warnings after
//! each batch; `tests` the tests of all of it, on SQLite and PostgreSQL.
use foldhash::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sea_orm::DatabaseConnection;
use tokio::sync::{mpsc, oneshot};

use crate::usage::UsageRecord;
use crate::{credits, Error};

mod holds;
#[cfg(test)]
mod tests;
mod thresholds;
mod writer;

pub use holds::sweep;
use holds::{keep_holds, Holding};

/// How long a hold lives without renewal.
pub const HOLD_TTL: Duration = Duration::from_secs(60);
/// How often an instance renews its holds (and sweeps expired ones).
pub const RENEW_EVERY: Duration = Duration::from_secs(10);
/// A hold nobody reserved against for this long is given back.
pub const IDLE_RELEASE: Duration = Duration::from_secs(30);
/// An instance stops using a hold this long before it would expire unrenewed.
const SAFETY: Duration = Duration::from_secs(20);
/// Smallest and largest block taken at once.
const MIN_BLOCK: i64 = 256;
const MAX_BLOCK: i64 = 50_000;
/// After too few credits for a block, the direct path is used this long before trying again
/// (a purchase meanwhile is noticed then).
const RETRY_GROW_AFTER: Duration = Duration::from_secs(2);
/// A block lasting less than this is followed by one twice as large.
const GROW_FASTER_BELOW: Duration = Duration::from_secs(5);

/// Items per write, and how long an item may wait for its batch to fill.
const BATCH: usize = 512;
const MAX_WAIT: Duration = Duration::from_millis(200);
/// How often the writer looks at its queue while a batch fills.
const TICK: Duration = Duration::from_millis(20);
/// Items queued at most. Every reservation takes its place in the queue first (so its
/// charge can always be queued, without waiting, when it settles): past this many open
/// requests and unwritten charges, new reservations wait — back-pressure, never an
/// unbounded queue. A refusal's usage row that finds the queue full is dropped and
/// counted ([`Meter::dropped_rows`]).
const CAPACITY: usize = 16_384;

/// Credits reserved for one request, to be settled exactly once with [`Meter::settle`].
#[derive(Debug)]
pub struct Reservation {
    pub account_id: i64,
    pub amount: i64,
    /// The request id, written as the ledger row's reference.
    pub reference: String,
    /// The hold it came from; None on the direct path (already debited in the ledger).
    hold: Option<i64>,
    /// Direct path: the balance right after the debit (for the threshold events).
    balance_after: Option<i64>,
    /// The charge's place in the writer's queue, taken before reserving.
    place: Option<mpsc::OwnedPermit<Msg>>,
}

impl Reservation {
    /// True when no database write was needed (tests, benchmark).
    pub fn from_hold(&self) -> bool {
        self.hold.is_some()
    }
}

/// A settled request on its way to the database.
struct Charge {
    account_id: i64,
    /// Charged against a hold (comes off `held` too, if the hold still exists).
    hold: Option<(i64, i64)>,
    /// Charged beyond any hold, as far as the balance goes.
    extra: i64,
    /// Given back (direct path: the reservation was more than the cost).
    refund: i64,
    /// What was reserved (and, on the direct path, already debited).
    reserved: i64,
    /// Direct path: the balance right after the debit.
    balance_after_debit: Option<i64>,
    reference: String,
    usage: UsageRecord,
}

enum Msg {
    Row(Box<UsageRecord>),
    Charge(Box<Charge>),
    /// Gives the rest of a hold back.
    Release(i64),
    /// Answer once everything received before this message is written.
    Flush(oneshot::Sender<()>),
}

struct Inner {
    db: DatabaseConnection,
    instance: String,
    /// Database errors met on the way (a hold not grown, a batch attempt that failed).
    failures: Arc<AtomicU64>,
    /// Refusal rows dropped because the writer's queue was full.
    dropped_rows: AtomicU64,
    holdings: Mutex<HashMap<i64, Holding>>,
    tx: mpsc::Sender<Msg>,
}

/// The metering of one process: cheap to clone.
#[derive(Clone)]
pub struct Meter {
    inner: Arc<Inner>,
}

impl Meter {
    /// Starts the writer (on a thread of its own, below the requests' CPU priority, with a
    /// database connection of its own) and the hold keeper (on the current runtime).
    /// `warning_percent`: the credit-warning threshold (share of the balance after the
    /// last grant).
    pub fn start(db: DatabaseConnection, warning_percent: i64) -> Self {
        let (tx, rx) = mpsc::channel(CAPACITY);
        let failures = Arc::new(AtomicU64::new(0));
        let inner = Arc::new(Inner {
            db: db.clone(),
            instance: format!("{}-{}", std::process::id(), crate::keys::random_token(12)),
            failures: failures.clone(),
            dropped_rows: AtomicU64::new(0),
            holdings: Mutex::default(),
            tx,
        });
        writer::spawn(&db, rx, warning_percent, failures);
        tokio::spawn(keep_holds(Arc::downgrade(&inner)));
        Self { inner }
    }

    /// Reserves `amount` (> 0) credits for a request made with key `key_id`: from this
    /// instance's hold when it can, else by growing the hold, else directly in the ledger.
    /// [`Error::InsufficientCredits`] when the balance cannot cover it;
    /// [`Error::Unauthorized`] when the direct path finds the key revoked.
    pub async fn reserve(
        &self,
        key_id: i64,
        account_id: i64,
        amount: i64,
        reference: &str,
    ) -> Result<Reservation, Error> {
        self.reserve_as(Some(key_id), account_id, amount, reference)
            .await
    }

    /// As [`Meter::reserve`] for `key_id` Some; None: a request the portal authenticated
    /// by its session (the playground), whose direct path checks no key.
    pub async fn reserve_as(
        &self,
        key_id: Option<i64>,
        account_id: i64,
        amount: i64,
        reference: &str,
    ) -> Result<Reservation, Error> {
        if amount <= 0 {
            return Err(Error::Internal(format!("reservation of {amount} credits")));
        }
        let place = self
            .inner
            .tx
            .clone()
            .reserve_owned()
            .await
            .map_err(|_| Error::Internal("the usage writer has stopped".into()))?;
        self.reserve_with(key_id, account_id, amount, reference)
            .await
            .map(|mut r| {
                r.place = Some(place);
                r
            })
    }

    async fn reserve_with(
        &self,
        key_id: Option<i64>,
        account_id: i64,
        amount: i64,
        reference: &str,
    ) -> Result<Reservation, Error> {
        if let Some(r) = self.take(account_id, amount, reference) {
            return Ok(r);
        }
        let grower = self.holding(account_id, |h| h.grower.clone());
        {
            let _one_at_a_time = grower.lock().await;
            if let Some(r) = self.take(account_id, amount, reference) {
                return Ok(r);
            }
            match self.grow(account_id, amount).await {
                Ok(true) => {
                    if let Some(r) = self.take(account_id, amount, reference) {
                        return Ok(r);
                    }
                }
                Ok(false) => {}
                // The direct path below still answers (and fails itself if the database
                // is down).
                Err(e) => {
                    self.inner.failures.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(account_id, "credit hold not grown: {e}");
                }
            }
        }
        let balance = match key_id {
            Some(key_id) => {
                credits::reserve_for_key(&self.inner.db, key_id, account_id, amount, reference)
                    .await?
            }
            None => {
                credits::reserve_for_session(&self.inner.db, account_id, amount, reference).await?
            }
        };
        Ok(Reservation {
            account_id,
            amount,
            reference: reference.to_owned(),
            hold: None,
            balance_after: Some(balance),
            place: None,
        })
    }

    /// Settles `r` to `actual` credits (0: nothing is charged) and queues the request's
    /// usage row, whose `credits` the writer sets to what was charged in the end.
    pub fn settle(&self, mut r: Reservation, actual: i64, usage: UsageRecord) {
        let actual = actual.max(0);
        let place = r.place.take();
        let charge = match r.hold {
            Some(hold_id) => {
                let mut from_hold = actual.min(r.amount);
                let mut extra = actual - from_hold;
                if let Ok(mut map) = self.inner.holdings.lock() {
                    if let Some(h) = map.get_mut(&r.account_id) {
                        h.in_flight = h.in_flight.saturating_sub(1);
                        if h.hold_id == Some(hold_id) {
                            h.free += r.amount - from_hold;
                            // An answer longer than reserved takes the rest from the
                            // hold while it lasts.
                            let more = extra.min(h.free);
                            h.free -= more;
                            from_hold += more;
                            extra -= more;
                        }
                    }
                }
                Charge {
                    account_id: r.account_id,
                    hold: Some((hold_id, from_hold)),
                    extra,
                    refund: 0,
                    reserved: r.amount,
                    balance_after_debit: None,
                    reference: r.reference,
                    usage,
                }
            }
            None => Charge {
                account_id: r.account_id,
                hold: None,
                extra: (actual - r.amount).max(0),
                refund: (r.amount - actual).max(0),
                reserved: r.amount,
                balance_after_debit: r.balance_after,
                reference: r.reference,
                usage,
            },
        };
        let msg = Msg::Charge(Box::new(charge));
        match place {
            Some(place) => {
                place.send(msg);
            }
            None => self.send(msg),
        }
    }

    /// Queues the usage row of a request that reserved nothing (a refusal); dropped and
    /// counted when the queue is full.
    pub fn record(&self, row: UsageRecord) {
        self.send(Msg::Row(Box::new(row)));
    }

    /// Refusal rows dropped because the writer's queue was full, since start.
    pub fn dropped_rows(&self) -> u64 {
        self.inner.dropped_rows.load(Ordering::Relaxed)
    }

    /// Waits until everything queued before this call is in the database.
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.inner.tx.send(Msg::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }

    /// Gives every hold back (after the last charge against it) and writes everything
    /// queued. For a graceful shutdown, once no request is open.
    pub async fn shutdown(&self) {
        let holds: Vec<i64> = match self.inner.holdings.lock() {
            Ok(mut map) => map.drain().filter_map(|(_, h)| h.hold_id).collect(),
            Err(_) => Vec::new(),
        };
        for id in holds {
            if self.inner.tx.send(Msg::Release(id)).await.is_err() {
                tracing::error!(hold = id, "hold not given back: writer stopped");
            }
        }
        self.flush().await;
    }

    /// Database errors met so far (each was retried or fell back to the direct path).
    pub fn failures(&self) -> u64 {
        self.inner.failures.load(Ordering::Relaxed)
    }

    /// Items waiting for the writer: queued charges and rows, plus the places taken by
    /// open reservations (each charge's place is taken before it reserves).
    pub fn backlog(&self) -> usize {
        self.inner.tx.max_capacity() - self.inner.tx.capacity()
    }

    /// This instance's credit holds: how many, and the credits in them not reserved.
    pub fn holds(&self) -> (usize, i64) {
        self.inner.holdings.lock().map_or((0, 0), |m| {
            m.values()
                .filter(|h| h.hold_id.is_some())
                .fold((0, 0), |(n, free), h| (n + 1, free + h.free))
        })
    }

    /// Credits this instance holds and has not reserved, per account (tests, admin).
    pub fn free_in_holds(&self, account_id: i64) -> i64 {
        self.inner
            .holdings
            .lock()
            .ok()
            .and_then(|m| m.get(&account_id).map(|h| h.free))
            .unwrap_or(0)
    }

    /// Queues `msg` without waiting: a reservation's charge has its place already; what
    /// else finds the queue full (a refusal's row) is dropped and counted.
    fn send(&self, msg: Msg) {
        match self.inner.tx.try_send(msg) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(msg)) => {
                let n = self.inner.dropped_rows.fetch_add(1, Ordering::Relaxed);
                if n.is_power_of_two() {
                    tracing::warn!(dropped = n + 1, "usage writer queue full: rows dropped");
                }
                if let Msg::Charge(c) = msg {
                    // Not reached: charges come with their place. Kept safe regardless.
                    tracing::error!(reference = %c.reference, "charge without a queue place dropped");
                }
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                tracing::error!("usage dropped: writer stopped");
            }
        }
    }

    fn holding<T>(&self, account_id: i64, f: impl FnOnce(&mut Holding) -> T) -> T {
        let mut map = self
            .inner
            .holdings
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(map.entry(account_id).or_insert_with(Holding::new))
    }
}
