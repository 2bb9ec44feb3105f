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
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, TransactionTrait,
};
use tokio::sync::{mpsc, oneshot};

use crate::entities::{account, ledger as ledger_entity};
use crate::usage::{insert_batch, UsageRecord};
use crate::{credits, events, ledger, time, Error};

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

/// One instance's block of an account's credits.
struct Holding {
    hold_id: Option<i64>,
    /// Not yet reserved by a request.
    free: i64,
    in_flight: u32,
    /// Renewed until then (with the safety margin taken off).
    usable_until: Instant,
    last_used: Instant,
    /// The next block's size and when the last one was taken.
    block: i64,
    grown_at: Option<Instant>,
    /// Taken by whoever grows the hold, so concurrent requests wait for one round trip.
    grower: Arc<tokio::sync::Mutex<()>>,
    /// When growing last failed (too few credits): small balances do not try again on
    /// every request.
    refused_at: Option<Instant>,
}

impl Holding {
    fn new() -> Self {
        Self {
            hold_id: None,
            free: 0,
            in_flight: 0,
            usable_until: Instant::now(),
            last_used: Instant::now(),
            block: MIN_BLOCK,
            grown_at: None,
            grower: Arc::default(),
            refused_at: None,
        }
    }

    fn usable(&self) -> bool {
        self.hold_id.is_some() && Instant::now() < self.usable_until
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
    /// Starts the writer and the hold keeper on the current runtime. `warning_percent`:
    /// the credit-warning threshold (share of the balance after the last grant).
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
        tokio::spawn(write_loop(db, rx, warning_percent, failures));
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
        key_id: i64,
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
        let balance =
            credits::reserve_for_key(&self.inner.db, key_id, account_id, amount, reference).await?;
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

    /// The in-memory reservation: no await, one lock.
    fn take(&self, account_id: i64, amount: i64, reference: &str) -> Option<Reservation> {
        let map = &mut self.inner.holdings.lock().ok()?;
        let h = map.get_mut(&account_id)?;
        if !h.usable() || h.free < amount {
            return None;
        }
        h.free -= amount;
        h.in_flight += 1;
        h.last_used = Instant::now();
        Some(Reservation {
            account_id,
            amount,
            reference: reference.to_owned(),
            hold: h.hold_id,
            balance_after: None,
            place: None,
        })
    }

    /// Adds a block to this instance's hold on the account (making one if needed). False
    /// when the account's unheld credits do not cover two blocks (the direct path then).
    async fn grow(&self, account_id: i64, amount: i64) -> Result<bool, Error> {
        use sea_orm::sea_query::ExprTrait;
        let recently_refused = self.holding(account_id, |h| {
            h.refused_at.is_some_and(|t| t.elapsed() < RETRY_GROW_AFTER)
        });
        if recently_refused {
            return Ok(false);
        }
        let (hold_id, block) = self.holding(account_id, |h| {
            let faster = h.grown_at.is_some_and(|t| t.elapsed() < GROW_FASTER_BELOW);
            if faster {
                h.block = std::cmp::min(h.block * 2, MAX_BLOCK);
            }
            h.block = std::cmp::min(std::cmp::max(h.block, amount.saturating_mul(64)), MAX_BLOCK);
            (h.hold_id, h.block)
        });
        if block < amount {
            return Ok(false);
        }
        // Lock order everywhere: hold rows (ascending id), then account rows (ascending id).
        let db = &self.inner.db;
        let txn = db.begin().await?;
        let expires = time::now() + HOLD_TTL.as_secs() as i64;
        let mut kept = None;
        if let Some(id) = hold_id {
            let extended = hold::Entity::update_many()
                .col_expr(
                    hold::Column::Amount,
                    Expr::col(hold::Column::Amount).add(block),
                )
                .col_expr(hold::Column::ExpiresAt, Expr::value(expires))
                .filter(hold::Column::Id.eq(id))
                .filter(hold::Column::Instance.eq(self.inner.instance.as_str()))
                .exec(&txn)
                .await?;
            if extended.rows_affected == 1 {
                kept = Some(id);
            }
        }
        let taken = Query::update()
            .table(account::Entity)
            .value(
                account::Column::Held,
                Expr::col(account::Column::Held).add(block),
            )
            .and_where(Expr::col(account::Column::Id).eq(account_id))
            .and_where(
                Expr::col(account::Column::Credits)
                    .sub(Expr::col(account::Column::Held))
                    .gte(block * 2),
            )
            .to_owned();
        if txn.execute(&taken).await?.rows_affected() != 1 {
            // Dropping the transaction undoes the extension.
            self.holding(account_id, |h| h.refused_at = Some(Instant::now()));
            return Ok(false);
        }
        let id = match kept {
            Some(id) => id,
            None => {
                // A new row locks nothing anyone else waits for.
                hold::Entity::insert(hold::ActiveModel {
                    account_id: Set(account_id),
                    instance: Set(self.inner.instance.clone()),
                    amount: Set(block),
                    expires_at: Set(expires),
                    created_at: Set(time::now()),
                    ..Default::default()
                })
                .exec(&txn)
                .await?
                .last_insert_id
            }
        };
        txn.commit().await?;
        self.holding(account_id, |h| {
            if kept.is_none() {
                // A new hold: whatever the old one had left was swept with it.
                h.free = 0;
            }
            h.hold_id = Some(id);
            h.free += block;
            h.usable_until = Instant::now() + HOLD_TTL - SAFETY;
            h.grown_at = Some(Instant::now());
        });
        Ok(true)
    }
}

/// The `credit_holds` table.
pub mod hold {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "credit_holds")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub account_id: i64,
        pub instance: String,
        /// Credits still held: set aside and not charged yet.
        pub amount: i64,
        pub expires_at: i64,
        pub created_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Renews this instance's holds, gives idle ones back, sweeps expired ones of any
/// instance.
async fn keep_holds(inner: std::sync::Weak<Inner>) {
    let mut tick = tokio::time::interval(RENEW_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        let Some(inner) = inner.upgrade() else { return };
        let idle: Vec<i64> = match inner.holdings.lock() {
            Ok(mut map) => {
                let mut idle = Vec::new();
                map.retain(|_, h| {
                    let drop = h.in_flight == 0 && h.last_used.elapsed() >= IDLE_RELEASE;
                    if drop {
                        idle.extend(h.hold_id);
                    }
                    !drop
                });
                idle
            }
            Err(_) => Vec::new(),
        };
        for id in idle {
            let _ = inner.tx.send(Msg::Release(id)).await;
        }
        if let Err(e) = renew(&inner).await {
            tracing::warn!("credit holds not renewed: {e}");
        }
        if let Err(e) = sweep(&inner.db).await {
            tracing::warn!("expired credit holds not swept: {e}");
        }
    }
}

async fn renew(inner: &Inner) -> Result<(), Error> {
    let started = Instant::now();
    let mut mine: Vec<i64> = match inner.holdings.lock() {
        Ok(map) => map.values().filter_map(|h| h.hold_id).collect(),
        Err(_) => return Ok(()),
    };
    mine.sort_unstable();
    // One row per statement, so renewing never holds two row locks (no deadlock with the
    // writer, which locks several).
    let expires = time::now() + HOLD_TTL.as_secs() as i64;
    let (mut renewed, mut gone) = (Vec::new(), Vec::new());
    for id in mine {
        let res = hold::Entity::update_many()
            .col_expr(hold::Column::ExpiresAt, Expr::value(expires))
            .filter(hold::Column::Id.eq(id))
            .filter(hold::Column::Instance.eq(inner.instance.as_str()))
            .exec(&inner.db)
            .await?;
        if res.rows_affected == 1 {
            renewed.push(id);
        } else {
            gone.push(id);
        }
    }
    if let Ok(mut map) = inner.holdings.lock() {
        for h in map.values_mut() {
            match h.hold_id {
                Some(id) if renewed.contains(&id) => h.usable_until = started + HOLD_TTL - SAFETY,
                Some(id) if gone.contains(&id) => {
                    // Swept while this instance was not renewing: its credits are free
                    // again, so nothing may be reserved against it any more.
                    h.hold_id = None;
                    h.free = 0;
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// Deletes holds past their expiry and frees their credits.
pub async fn sweep(db: &DatabaseConnection) -> Result<u64, Error> {
    let expired = hold::Entity::find()
        .filter(hold::Column::ExpiresAt.lt(time::now()))
        .all(db)
        .await?;
    let mut n = 0;
    for h in expired {
        let txn = db.begin().await?;
        if let Some((account_id, amount)) = delete_hold(&txn, h.id).await? {
            free_held(&txn, account_id, amount).await?;
        }
        txn.commit().await?;
        n += 1;
    }
    Ok(n)
}

/// Deletes hold `id`: the account and what the hold still held, if it existed.
async fn delete_hold(txn: &DatabaseTransaction, id: i64) -> Result<Option<(i64, i64)>, Error> {
    let Some(h) = hold::Entity::find_by_id(id).one(txn).await? else {
        return Ok(None);
    };
    let gone = hold::Entity::delete_by_id(id).exec(txn).await?;
    Ok((gone.rows_affected == 1).then_some((h.account_id, h.amount)))
}

async fn free_held(txn: &DatabaseTransaction, account_id: i64, amount: i64) -> Result<(), Error> {
    use sea_orm::sea_query::ExprTrait;
    if amount == 0 {
        return Ok(());
    }
    // Never below zero, whatever happened in between.
    let held = Expr::col(account::Column::Held).sub(amount);
    account::Entity::update_many()
        .col_expr(
            account::Column::Held,
            Into::<Expr>::into(Expr::case(held.clone().lt(0), 0).finally(held)),
        )
        .filter(account::Column::Id.eq(account_id))
        .exec(txn)
        .await?;
    Ok(())
}

async fn write_loop(
    db: DatabaseConnection,
    mut rx: mpsc::Receiver<Msg>,
    warning_percent: i64,
    failures: Arc<AtomicU64>,
) {
    let mut thresholds = Thresholds::default();
    let mut batch: Vec<Msg> = Vec::with_capacity(BATCH);
    loop {
        let Some(first) = rx.recv().await else { return };
        let mut waiters = Vec::new();
        match first {
            Msg::Flush(w) => waiters.push(w),
            m => batch.push(m),
        }
        // Fill the batch with what is already queued, waiting a little for more.
        let deadline = tokio::time::Instant::now() + MAX_WAIT;
        while batch.len() < BATCH && waiters.is_empty() {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(Msg::Flush(w))) => waiters.push(w),
                Ok(Some(m)) => batch.push(m),
                Ok(None) | Err(_) => break,
            }
        }
        let items = std::mem::take(&mut batch);
        if !items.is_empty() {
            let balances = write_with_retries(&db, items, &failures).await;
            for (account_id, balance) in balances {
                thresholds
                    .check(&db, account_id, balance, warning_percent)
                    .await;
            }
        }
        batch.reserve(BATCH);
        for w in waiters {
            let _ = w.send(());
        }
    }
}

/// Writes a batch, retrying a few times before giving up (and saying so in the log).
/// The balances to check for thresholds, per account charged.
async fn write_with_retries(
    db: &DatabaseConnection,
    items: Vec<Msg>,
    failures: &AtomicU64,
) -> Vec<(i64, i64)> {
    for attempt in 1..=5u32 {
        match write(db, &items).await {
            Ok(balances) => return balances,
            Err(e) => {
                failures.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(attempt, items = items.len(), "usage batch failed: {e}");
                tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
            }
        }
    }
    tracing::error!(items = items.len(), "usage batch lost after retries");
    Vec::new()
}

/// One transaction: charges (per account one balance update, per request one ledger
/// row), released holds, usage rows (in the order they came). Rows are locked in one
/// order, as everywhere in this module: hold rows by ascending id, then account rows by
/// ascending id — so it never deadlocks with a hold being grown, renewed or swept.
async fn write(db: &DatabaseConnection, items: &[Msg]) -> Result<Vec<(i64, i64)>, Error> {
    use sea_orm::sea_query::ExprTrait;
    let charges: Vec<&Charge> = items
        .iter()
        .filter_map(|m| match m {
            Msg::Charge(c) => Some(&**c),
            _ => None,
        })
        .collect();
    let mut per_hold: HashMap<i64, i64> = HashMap::new();
    for c in &charges {
        if let Some((id, n)) = c.hold {
            *per_hold.entry(id).or_default() += n;
        }
    }
    let released: Vec<i64> = items
        .iter()
        .filter_map(|m| match m {
            Msg::Release(id) => Some(*id),
            _ => None,
        })
        .collect();
    let mut hold_ids: Vec<i64> = per_hold
        .keys()
        .copied()
        .chain(released.iter().copied())
        .collect();
    hold_ids.sort_unstable();
    hold_ids.dedup();

    let txn = db.begin().await?;
    // Phase 1, hold rows: charges come off them (a charge comes off `held` only if its
    // hold still exists), then released ones are deleted with what they still held.
    let mut live_holds = Vec::with_capacity(per_hold.len());
    let mut freed: HashMap<i64, i64> = HashMap::new();
    for id in hold_ids {
        if let Some(&n) = per_hold.get(&id) {
            let res = hold::Entity::update_many()
                .col_expr(hold::Column::Amount, Expr::col(hold::Column::Amount).sub(n))
                .filter(hold::Column::Id.eq(id))
                .exec(&txn)
                .await?;
            if res.rows_affected == 1 {
                live_holds.push(id);
            }
        }
        if released.contains(&id) {
            if let Some((account_id, amount)) = delete_hold(&txn, id).await? {
                *freed.entry(account_id).or_default() += amount;
            }
        }
    }
    // Phase 2, account rows.
    let mut accounts: Vec<i64> = charges
        .iter()
        .map(|c| c.account_id)
        .chain(freed.keys().copied())
        .collect();
    accounts.sort_unstable();
    accounts.dedup();
    // What each charge (by its position in `charges`) cost in the end.
    let mut cost = vec![0; charges.len()];
    let mut ledger_rows = Vec::new();
    let mut balances = Vec::with_capacity(accounts.len());
    let now = time::now();
    for account_id in accounts {
        let mine: Vec<usize> = (0..charges.len())
            .filter(|i| charges[*i].account_id == account_id)
            .collect();
        let held_off: i64 = mine
            .iter()
            .filter_map(|i| charges[*i].hold)
            .filter(|(id, _)| live_holds.contains(id))
            .map(|(_, n)| n)
            .sum::<i64>()
            + freed.get(&account_id).copied().unwrap_or(0);
        let list: Vec<&Charge> = mine.iter().map(|i| charges[*i]).collect();
        let applied = apply_charges(&txn, account_id, &list, held_off).await?;
        if list.is_empty() {
            continue;
        }
        let mut balance = applied.balance_before;
        let mut lowest_positive = None;
        for (i, delta) in mine.iter().zip(&applied.per_charge) {
            let c = charges[*i];
            balance += delta;
            // The balances this request saw: after its debit (direct path), after its
            // charge.
            let seen = [c.balance_after_debit, (*delta < 0).then_some(balance)];
            for b in seen.into_iter().flatten().filter(|b| *b > 0) {
                lowest_positive = Some(lowest_positive.map_or(b, |l: i64| std::cmp::min(l, b)));
            }
            if *delta != 0 {
                let reason = if c.hold.is_some() {
                    "charge"
                } else {
                    "settlement"
                };
                ledger_rows.push(ledger_entity::ActiveModel {
                    account_id: Set(account_id),
                    delta: Set(*delta),
                    balance_after: Set(balance),
                    kind: Set(ledger::Kind::Usage.as_str().to_owned()),
                    reason: Set(Some(reason.to_owned())),
                    reference: Set(Some(c.reference.clone())),
                    created_at: Set(now),
                    ..Default::default()
                });
            }
            cost[*i] = charged(c, *delta);
        }
        // The warning threshold may be crossed on the way down within one batch.
        if let Some(b) = lowest_positive.filter(|b| *b != balance) {
            balances.push((account_id, b));
        }
        balances.push((account_id, balance));
    }
    for chunk in ledger_rows.chunks(256) {
        ledger_entity::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    let mut usage = Vec::with_capacity(items.len());
    let mut nth_charge = 0;
    for m in items {
        match m {
            Msg::Row(r) => usage.push((**r).clone()),
            Msg::Charge(c) => {
                let mut row = c.usage.clone();
                row.credits = cost[nth_charge];
                nth_charge += 1;
                usage.push(row);
            }
            Msg::Release(_) | Msg::Flush(_) => {}
        }
    }
    insert_batch(&txn, usage).await?;
    txn.commit().await?;
    Ok(balances)
}

/// What a request cost in the end, from its ledger delta.
fn charged(c: &Charge, delta: i64) -> i64 {
    match c.hold {
        // Nothing was debited before: the delta is the whole charge.
        Some(_) => -delta,
        // The reservation was debited already; the delta returns or adds to it.
        None => c.reserved - delta,
    }
}

struct Applied {
    balance_before: i64,
    per_charge: Vec<i64>,
}

/// Takes the account's charges off its balance (and `held_off` off `held`), never below
/// zero: when the balance cannot cover them all, charges are applied in order as far as it
/// goes and the rest written off (said in the log).
async fn apply_charges(
    txn: &DatabaseTransaction,
    account_id: i64,
    mine: &[&Charge],
    held_off: i64,
) -> Result<Applied, Error> {
    use sea_orm::sea_query::ExprTrait;
    let wanted: Vec<i64> = mine
        .iter()
        .map(|c| c.refund - c.hold.map_or(0, |h| h.1) - c.extra)
        .collect();
    let total: i64 = wanted.iter().sum();
    let held = Expr::col(account::Column::Held).sub(held_off);
    let update = |delta: i64, guard: bool| {
        let mut q = Query::update();
        q.table(account::Entity)
            .value(
                account::Column::Credits,
                Expr::col(account::Column::Credits).add(delta),
            )
            .value(
                account::Column::Held,
                Into::<Expr>::into(Expr::case(held.clone().lt(0), 0).finally(held.clone())),
            )
            .and_where(Expr::col(account::Column::Id).eq(account_id))
            .returning_col(account::Column::Credits);
        if guard && delta < 0 {
            q.and_where(Expr::col(account::Column::Credits).gte(-delta));
        }
        q
    };
    if let Some(row) = txn.query_one(&update(total, true)).await? {
        let after: i64 = row.try_get("", "credits")?;
        return Ok(Applied {
            balance_before: after - total,
            per_charge: wanted,
        });
    }
    // The balance cannot cover everything (an admin took credits away, or answers ran
    // past their reservations): refunds first, then charges in order while it lasts.
    let before = account::Entity::find_by_id(account_id)
        .one(txn)
        .await?
        .ok_or(Error::NotFound)?
        .credits;
    let mut left = before + wanted.iter().filter(|d| **d > 0).sum::<i64>();
    let mut per_charge = Vec::with_capacity(wanted.len());
    for d in &wanted {
        if *d >= 0 {
            per_charge.push(*d);
        } else {
            let take = std::cmp::min(-d, left);
            left -= take;
            per_charge.push(-take);
        }
    }
    let applied: i64 = per_charge.iter().sum();
    tracing::warn!(
        account = account_id,
        written_off = applied - total,
        "charges beyond the balance written off"
    );
    txn.query_one(&update(applied, false)).await?;
    Ok(Applied {
        balance_before: before,
        per_charge,
    })
}

/// The last grant of each account, so the credit thresholds (NOTIF-03/04) cost no query
/// per batch: refreshed after a minute, or at once when the balance is above it (a new
/// grant or purchase came in).
#[derive(Default)]
struct Thresholds {
    entries: HashMap<i64, GrantEntry>,
}

struct GrantEntry {
    grant: Option<(i64, i64)>,
    fetched: Instant,
    /// Dedupe keys this instance already recorded (the table deduplicates across them).
    recorded: Vec<String>,
}

const GRANT_TTL: Duration = Duration::from_secs(60);

impl Thresholds {
    async fn check(
        &mut self,
        db: &DatabaseConnection,
        account_id: i64,
        balance: i64,
        warning_percent: i64,
    ) {
        let fresh = self.entries.get(&account_id).is_some_and(|e| {
            e.fetched.elapsed() < GRANT_TTL && e.grant.is_some_and(|(_, g)| balance <= g)
        });
        if !fresh {
            match events::last_grant(db, account_id).await {
                Ok(grant) => {
                    if self.entries.len() > 100_000 {
                        self.entries.clear();
                    }
                    self.entries.insert(
                        account_id,
                        GrantEntry {
                            grant,
                            fetched: Instant::now(),
                            recorded: Vec::new(),
                        },
                    );
                }
                Err(e) => {
                    tracing::error!("last grant not read: {e}");
                    return;
                }
            }
        }
        let Some(entry) = self.entries.get_mut(&account_id) else {
            return;
        };
        let Some((kind, key)) =
            events::credit_event(account_id, balance, entry.grant, warning_percent)
        else {
            return;
        };
        if entry.recorded.contains(&key) {
            return;
        }
        let payload = serde_json::json!({
            "balance": balance,
            "after_last_grant": entry.grant.map_or(0, |g| g.1),
        });
        match events::record(db, kind, Some(account_id), &key, payload).await {
            Ok(_) => entry.recorded.push(key),
            Err(e) => tracing::error!("credit event not recorded: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{each_db, enterprise_account};
    use crate::Services;
    use sea_orm::PaginatorTrait;

    /// An Enterprise account with `credits` and one API key: (account id, key id).
    async fn account_with(svc: &Services, credits: i64) -> (i64, i64) {
        let a = enterprise_account(svc, credits).await;
        let (key, _) = crate::keys::create(svc, &a, "k").await.unwrap();
        (a.id, key.id)
    }

    /// (balance, sum of the ledger, held).
    async fn books(svc: &Services, id: i64) -> (i64, i64, i64) {
        let a = account::Entity::find_by_id(id)
            .one(&svc.db)
            .await
            .unwrap()
            .unwrap();
        (a.credits, ledger::sum(&svc.db, id).await.unwrap(), a.held)
    }

    fn usage(n: usize) -> UsageRecord {
        UsageRecord {
            request_id: format!("req-{n}"),
            endpoint: "chat.completions",
            status: 200,
            created_at: time::now(),
            ..Default::default()
        }
    }

    /// Reserves `amount` on `meter` from `tasks` concurrent tasks, settling each success
    /// to `cost`; how many succeeded.
    async fn race(meter: &Meter, key: i64, id: i64, tasks: usize, amount: i64, cost: i64) -> i64 {
        let handles: Vec<_> = (0..tasks)
            .map(|n| {
                let meter = meter.clone();
                tokio::spawn(async move {
                    match meter.reserve(key, id, amount, &format!("req-{n}")).await {
                        Ok(r) => {
                            meter.settle(r, cost, usage(n));
                            1
                        }
                        Err(Error::InsufficientCredits) => 0,
                        Err(e) => panic!("{e}"),
                    }
                })
            })
            .collect();
        let mut ok = 0;
        for h in handles {
            ok += h.await.unwrap();
        }
        ok
    }

    #[tokio::test]
    async fn two_hundred_concurrent_requests_on_ten_credits_never_go_below_zero() {
        each_db(|svc| async move {
            let (id, key) = account_with(&svc, 10).await;
            let meter = Meter::start(svc.db.clone(), 20);
            assert_eq!(race(&meter, key, id, 200, 1, 1).await, 10);
            meter.shutdown().await;
            assert_eq!(books(&svc, id).await, (0, 0, 0));
        })
        .await;
    }

    #[tokio::test]
    async fn a_large_balance_is_served_from_a_hold_and_every_charge_is_a_ledger_row() {
        each_db(|svc| async move {
            let (id, key) = account_with(&svc, 100_000).await;
            let meter = Meter::start(svc.db.clone(), 20);
            let r = meter.reserve(key, id, 5, "first").await.unwrap();
            assert!(r.from_hold());
            // Holding moves no credits: the balance and the ledger are untouched.
            let (balance, _, held) = books(&svc, id).await;
            assert_eq!(balance, 100_000);
            assert!(held >= 5, "{held}");
            meter.settle(r, 3, usage(0));
            assert_eq!(race(&meter, key, id, 300, 4, 2).await, 300);
            meter.flush().await;
            let charged = 3 + 300 * 2;
            let (balance, sum, held) = books(&svc, id).await;
            assert_eq!((balance, sum), (100_000 - charged, 100_000 - charged));
            assert!(held > 0, "the hold stays for the next requests");
            // One usage-kind ledger row per request, each with its cost as reference.
            let rows = crate::entities::ledger::Entity::find()
                .filter(crate::entities::ledger::Column::AccountId.eq(id))
                .filter(crate::entities::ledger::Column::Kind.eq("usage"))
                .all(&svc.db)
                .await
                .unwrap();
            assert_eq!(rows.len(), 301);
            assert!(rows
                .iter()
                .any(|r| r.delta == -3 && r.reference.as_deref() == Some("first")));
            meter.shutdown().await;
            assert_eq!(books(&svc, id).await.2, 0, "shutdown gives the hold back");
            let n = hold::Entity::find()
                .filter(hold::Column::AccountId.eq(id))
                .count(&svc.db)
                .await
                .unwrap();
            assert_eq!(n, 0);
        })
        .await;
    }

    #[tokio::test]
    async fn two_instances_never_spend_more_than_the_balance_between_them() {
        each_db(|svc| async move {
            let (id, key) = account_with(&svc, 1_500).await;
            let a = Meter::start(svc.db.clone(), 20);
            let b = Meter::start(svc.db.clone(), 20);
            let (x, y) = tokio::join!(
                race(&a, key, id, 1_000, 1, 1),
                race(&b, key, id, 1_000, 1, 1)
            );
            assert!(x + y <= 1_500);
            a.shutdown().await;
            b.shutdown().await;
            // What one instance held while the other ran dry is usable once given back.
            let c = Meter::start(svc.db.clone(), 20);
            let z = race(&c, key, id, 1_600 - (x + y) as usize, 1, 1).await;
            c.shutdown().await;
            assert_eq!(x + y + z, 1_500, "every credit is usable, none twice");
            assert_eq!(books(&svc, id).await, (0, 0, 0));
        })
        .await;
    }

    #[tokio::test]
    async fn instances_growing_holds_while_their_writers_charge_meet_no_deadlock() {
        // Holds grow (hold row, then account row) while the writers charge (hold rows,
        // then account rows): one lock order, so PostgreSQL never reports a deadlock (a
        // failure would still be retried or fall back to the direct path: counted here).
        each_db(|svc| async move {
            let (id, key) = account_with(&svc, 10_000_000).await;
            let meters: Vec<Meter> = (0..3).map(|_| Meter::start(svc.db.clone(), 20)).collect();
            let mut total = 0;
            for round in 0..4 {
                let runs = meters.iter().map(|m| race(m, key, id, 400, 40 + round, 30));
                total += futures::future::join_all(runs).await.iter().sum::<i64>();
            }
            for m in &meters {
                m.shutdown().await;
                assert_eq!(m.failures(), 0, "database errors on the way");
            }
            assert_eq!(total, 3 * 4 * 400);
            let charged = total * 30;
            assert_eq!(
                books(&svc, id).await,
                (10_000_000 - charged, 10_000_000 - charged, 0)
            );
        })
        .await;
    }

    #[tokio::test]
    async fn settlement_refunds_the_direct_path_and_charges_long_answers_within_the_balance() {
        each_db(|svc| async move {
            let (id, key) = account_with(&svc, 10).await;
            let meter = Meter::start(svc.db.clone(), 20);
            let r = meter.reserve(key, id, 4, "a").await.unwrap();
            assert!(!r.from_hold());
            assert_eq!(books(&svc, id).await.0, 6, "the direct path debits at once");
            meter.settle(r, 1, usage(1));
            meter.flush().await;
            assert_eq!(books(&svc, id).await, (9, 9, 0));
            let r = meter.reserve(key, id, 2, "b").await.unwrap();
            meter.settle(r, 0, usage(2));
            let r = meter.reserve(key, id, 2, "c").await.unwrap();
            meter.settle(r, 50, usage(3));
            meter.flush().await;
            assert_eq!(books(&svc, id).await, (0, 0, 0), "never below zero");
            let rows = crate::usage::for_account(&svc.db, id).await.unwrap();
            assert!(rows.is_empty(), "these usage rows name no account");
            assert!(matches!(
                meter.reserve(key, id, 1, "d").await,
                Err(Error::InsufficientCredits)
            ));
        })
        .await;
    }

    #[tokio::test]
    async fn the_charged_credits_go_into_the_usage_row() {
        each_db(|svc| async move {
            let (id, key) = account_with(&svc, 10).await;
            let meter = Meter::start(svc.db.clone(), 20);
            let r = meter.reserve(key, id, 4, "a").await.unwrap();
            let mut row = usage(1);
            row.account_id = Some(id);
            meter.settle(r, 3, row);
            meter.flush().await;
            let rows = crate::usage::for_account(&svc.db, id).await.unwrap();
            assert_eq!(rows.len(), 1);
            assert_eq!(rows[0].credits, 3);
        })
        .await;
    }

    #[tokio::test]
    async fn a_hold_left_by_a_crashed_instance_expires_and_frees_its_credits() {
        each_db(|svc| async move {
            let (id, key) = account_with(&svc, 100_000).await;
            let crashed = Meter::start(svc.db.clone(), 20);
            let r = crashed.reserve(key, id, 1, "a").await.unwrap();
            assert!(r.from_hold());
            let held = books(&svc, id).await.2;
            assert!(held > 0);
            // The instance stops renewing; its hold's expiry passes.
            hold::Entity::update_many()
                .col_expr(hold::Column::ExpiresAt, Expr::value(time::now() - 1))
                .filter(hold::Column::AccountId.eq(id))
                .exec(&svc.db)
                .await
                .unwrap();
            assert!(sweep(&svc.db).await.unwrap() >= 1);
            assert_eq!(books(&svc, id).await, (100_000, 100_000, 0));
            // Its late charge still lands on the balance, and not on `held`.
            crashed.settle(r, 1, usage(1));
            crashed.flush().await;
            assert_eq!(books(&svc, id).await, (99_999, 99_999, 0));
        })
        .await;
    }
}
