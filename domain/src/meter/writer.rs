//! The batched writer: charges, ledger rows, released holds and usage rows, a batch per
//! transaction, then the credit thresholds of the accounts it charged.
use foldhash::HashMap;

use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, IdenStatic,
    QueryFilter, Value,
};

use super::holds::delete_hold;
use super::thresholds::Thresholds;
use super::*;
use crate::entities::credit_hold;
use crate::entities::{account, ledger as ledger_entity};
use crate::usage::insert_batch;
use crate::{ledger, time};

/// How much lower the writer's CPU priority is than the process's (nice values): a batch
/// being written does not take a core from an answer in progress, and still gets its share
/// when the cores are busy (the queue's back-pressure stops new reservations before it
/// falls behind). The price, only when the cores are saturated: its transaction takes
/// longer, and a write waiting for its locks (a hold growing, a small balance's direct
/// reservation) waits longer.
pub(super) const WRITER_NICER: i32 = 10;
/// The name of the writer's thread, and of its SQLite connection's (shown by `top -H`).
pub(super) const WRITER_THREAD: &str = "usage-writer";
pub(super) const WRITER_DB_THREAD: &str = "usage-writer-db";

/// Starts the writer on a thread of its own, its priority lowered by [`WRITER_NICER`], with
/// a connection of its own made there (so SQLite's thread for it inherits the priority).
pub(super) fn spawn(
    db: &DatabaseConnection,
    rx: mpsc::Receiver<Msg>,
    warning_percent: i64,
    failures: Arc<AtomicU64>,
) {
    let own = OwnConnection::like(db);
    let started = std::thread::Builder::new()
        .name(WRITER_THREAD.into())
        .spawn(move || {
            if let Err(e) = lower_priority() {
                tracing::warn!("usage writer priority not lowered: {e}");
            }
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    tracing::error!("usage writer not started: {e}");
                    return;
                }
            };
            rt.block_on(async move {
                let db = own.connect();
                write_loop(db.clone(), rx, warning_percent, failures).await;
                let _ = db.close().await;
            });
        });
    if let Err(e) = started {
        tracing::error!("usage writer not started: {e}");
    }
}

/// This thread's nice value [`WRITER_NICER`] above what it was (at most 19, the lowest);
/// threads it starts inherit it.
pub(super) fn lower_priority() -> rustix::io::Result<()> {
    use rustix::process::{getpriority_process, setpriority_process};
    let now = getpriority_process(None)?;
    setpriority_process(None, (now + WRITER_NICER).min(19))
}

/// A pool like the given one (same connection and pool options), of one connection.
enum OwnConnection {
    Sqlite(
        sea_orm::sqlx::pool::PoolOptions<sea_orm::sqlx::Sqlite>,
        sea_orm::sqlx::sqlite::SqliteConnectOptions,
    ),
    Postgres(
        sea_orm::sqlx::pool::PoolOptions<sea_orm::sqlx::Postgres>,
        sea_orm::sqlx::postgres::PgConnectOptions,
    ),
}

impl OwnConnection {
    fn like(db: &DatabaseConnection) -> Self {
        match db.get_database_backend() {
            sea_orm::DbBackend::Postgres => {
                let pool = db.get_postgres_connection_pool();
                Self::Postgres(pool.options().clone(), (*pool.connect_options()).clone())
            }
            _ => {
                let pool = db.get_sqlite_connection_pool();
                Self::Sqlite(pool.options().clone(), (*pool.connect_options()).clone())
            }
        }
    }

    /// Lazily: the connection is made at the first write, on the thread that writes (a
    /// pool's background tasks start on the runtime it is made in).
    fn connect(self) -> DatabaseConnection {
        match self {
            Self::Sqlite(pool, o) => sea_orm::SqlxSqliteConnector::from_sqlx_sqlite_pool(
                pool.max_connections(1)
                    .min_connections(0)
                    .connect_lazy_with(o.thread_name(|_| WRITER_DB_THREAD.to_owned())),
            ),
            Self::Postgres(pool, o) => sea_orm::SqlxPostgresConnector::from_sqlx_postgres_pool(
                pool.max_connections(1)
                    .min_connections(0)
                    .connect_lazy_with(o),
            ),
        }
    }
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
        let received = std::time::Instant::now();
        let mut waiters = Vec::new();
        match first {
            Msg::Flush(w) => waiters.push(w),
            m => batch.push(m),
        }
        // Fill the batch with what is queued, looking again every TICK until it is full,
        // a flush asks for it, or its first item has waited MAX_WAIT: a request's charge
        // does not wake the writer (on its own thread, each wake-up would be a system call
        // on the request's worker, and a timer set and cancelled here).
        let deadline = tokio::time::Instant::now() + MAX_WAIT;
        while waiters.is_empty() {
            let open = drain(&mut rx, &mut batch, &mut waiters);
            if !open || batch.len() >= BATCH || !waiters.is_empty() {
                break;
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                break;
            }
            tokio::time::sleep_until(deadline.min(now + TICK)).await;
        }
        let items = std::mem::take(&mut batch);
        if !items.is_empty() {
            let balances = write_with_retries(&db, items, &failures).await;
            // Lag: from the batch's first item reaching the writer to its commit.
            metrics::histogram!("resayil_usage_writer_lag_seconds")
                .record(received.elapsed().as_secs_f64());
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

/// Moves what is queued into `batch` (up to [`BATCH`] items) and `waiters`, stopping at a
/// flush. False once the queue is closed and empty.
pub(super) fn drain(
    rx: &mut mpsc::Receiver<Msg>,
    batch: &mut Vec<Msg>,
    waiters: &mut Vec<oneshot::Sender<()>>,
) -> bool {
    while batch.len() < BATCH {
        match rx.try_recv() {
            Ok(Msg::Flush(w)) => {
                waiters.push(w);
                return true;
            }
            Ok(m) => batch.push(m),
            Err(mpsc::error::TryRecvError::Empty) => return true,
            Err(mpsc::error::TryRecvError::Disconnected) => return false,
        }
    }
    true
}

/// Writes a batch, retrying a few times before giving up (and saying so in the log).
/// The balances to check for thresholds, per account charged.
async fn write_with_retries(
    db: &DatabaseConnection,
    mut items: Vec<Msg>,
    failures: &AtomicU64,
) -> Vec<(i64, i64)> {
    for attempt in 1..=5u32 {
        match write(db, &mut items).await {
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
/// The balances to check for thresholds, per account charged. Each charge's usage row is
/// given its final cost here (again on a retry, which decides it again).
async fn write(db: &DatabaseConnection, items: &mut [Msg]) -> Result<Vec<(i64, i64)>, Error> {
    let batch = Batch::of(items);
    let txn = crate::db::begin_write(db).await?;
    let holds = batch.write_holds(&txn).await?;
    let accounts = batch.write_accounts(&txn, &holds).await?;
    crate::db::insert_rows(
        &txn,
        ledger_entity::Entity.as_str(),
        ledger_columns(),
        accounts.ledger_rows.into_iter(),
    )
    .await?;
    let charges = items.iter_mut().filter_map(|m| match m {
        Msg::Charge(c) => Some(&mut c.usage),
        _ => None,
    });
    for (usage, cost) in charges.zip(&accounts.cost) {
        usage.credits = *cost;
    }
    write_usage(&txn, items).await?;
    txn.commit().await?;
    Ok(accounts.balances)
}

/// A batch's charges and released holds.
struct Batch<'a> {
    charges: Vec<&'a Charge>,
    /// Credits charged against each hold.
    per_hold: HashMap<i64, i64>,
    released: Vec<i64>,
}

/// What phase 1 left for phase 2.
struct HoldsWritten {
    /// Holds that still exist (their charges come off `held`).
    live: Vec<i64>,
    /// What deleted holds still held, per account.
    freed: HashMap<i64, i64>,
}

/// What phase 2 decided.
struct AccountsWritten {
    /// What each charge (by its position in the batch's charges) cost in the end.
    cost: Vec<i64>,
    /// In the order of [`ledger_columns`].
    ledger_rows: Vec<[Value; 7]>,
    balances: Vec<(i64, i64)>,
}

impl<'a> Batch<'a> {
    fn of(items: &'a [Msg]) -> Self {
        let charges: Vec<&Charge> = items
            .iter()
            .filter_map(|m| match m {
                Msg::Charge(c) => Some(&**c),
                _ => None,
            })
            .collect();
        let mut per_hold: HashMap<i64, i64> = HashMap::default();
        for c in &charges {
            if let Some((id, n)) = c.hold {
                *per_hold.entry(id).or_default() += n;
            }
        }
        let released = items
            .iter()
            .filter_map(|m| match m {
                Msg::Release(id) => Some(*id),
                _ => None,
            })
            .collect();
        Self {
            charges,
            per_hold,
            released,
        }
    }

    /// Phase 1, hold rows by ascending id: charges come off them (a charge comes off
    /// `held` only if its hold still exists), then released ones are deleted with what
    /// they still held.
    async fn write_holds(&self, txn: &DatabaseTransaction) -> Result<HoldsWritten, Error> {
        use sea_orm::sea_query::ExprTrait;
        let mut ids: Vec<i64> = self
            .per_hold
            .keys()
            .copied()
            .chain(self.released.iter().copied())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let mut written = HoldsWritten {
            live: Vec::with_capacity(self.per_hold.len()),
            freed: HashMap::default(),
        };
        for id in ids {
            if let Some(&n) = self.per_hold.get(&id) {
                let res = credit_hold::Entity::update_many()
                    .col_expr(
                        credit_hold::Column::Amount,
                        Expr::col(credit_hold::Column::Amount).sub(n),
                    )
                    .filter(credit_hold::Column::Id.eq(id))
                    .exec(txn)
                    .await?;
                if res.rows_affected == 1 {
                    written.live.push(id);
                }
            }
            if self.released.contains(&id) {
                if let Some((account_id, amount)) = delete_hold(txn, id).await? {
                    *written.freed.entry(account_id).or_default() += amount;
                }
            }
        }
        Ok(written)
    }

    /// Phase 2, account rows by ascending id: each account's charges in one update, a
    /// ledger row per charged request with the running balance.
    async fn write_accounts(
        &self,
        txn: &DatabaseTransaction,
        holds: &HoldsWritten,
    ) -> Result<AccountsWritten, Error> {
        let charges = &self.charges;
        let mut accounts: Vec<i64> = charges
            .iter()
            .map(|c| c.account_id)
            .chain(holds.freed.keys().copied())
            .collect();
        accounts.sort_unstable();
        accounts.dedup();
        let mut out = AccountsWritten {
            cost: vec![0; charges.len()],
            ledger_rows: Vec::new(),
            balances: Vec::with_capacity(accounts.len()),
        };
        let now = time::now();
        for account_id in accounts {
            let mine: Vec<usize> = (0..charges.len())
                .filter(|i| charges[*i].account_id == account_id)
                .collect();
            let held_off: i64 = mine
                .iter()
                .filter_map(|i| charges[*i].hold)
                .filter(|(id, _)| holds.live.contains(id))
                .map(|(_, n)| n)
                .sum::<i64>()
                + holds.freed.get(&account_id).copied().unwrap_or(0);
            let list: Vec<&Charge> = mine.iter().map(|i| charges[*i]).collect();
            let applied = apply_charges(txn, account_id, &list, held_off).await?;
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
                    out.ledger_rows
                        .push(ledger_row(account_id, c, *delta, balance, now));
                }
                out.cost[*i] = charged(c, *delta);
            }
            // The warning threshold may be crossed on the way down within one batch.
            if let Some(b) = lowest_positive.filter(|b| *b != balance) {
                out.balances.push((account_id, b));
            }
            out.balances.push((account_id, balance));
        }
        Ok(out)
    }
}

/// The columns of [`ledger_row`]'s values.
fn ledger_columns() -> [&'static str; 7] {
    use ledger_entity::Column as C;
    [
        C::AccountId,
        C::Delta,
        C::BalanceAfter,
        C::Kind,
        C::Reason,
        C::Reference,
        C::CreatedAt,
    ]
    .map(|c| c.as_str())
}

fn ledger_row(account_id: i64, c: &Charge, delta: i64, balance: i64, now: i64) -> [Value; 7] {
    let reason = if c.hold.is_some() {
        "charge"
    } else {
        "settlement"
    };
    [
        account_id.into(),
        delta.into(),
        balance.into(),
        ledger::Kind::Usage.as_str().into(),
        Some(reason).into(),
        Some(c.reference.clone()).into(),
        now.into(),
    ]
}

/// Phase 3: the usage rows, in the order they came, and their hourly buckets. Read in
/// place: the batch is kept whole for a retry, and each row's texts are copied once, into
/// the statement's values.
async fn write_usage(txn: &DatabaseTransaction, items: &[Msg]) -> Result<(), Error> {
    let usage: Vec<&UsageRecord> = items
        .iter()
        .filter_map(|m| match m {
            Msg::Row(r) => Some(&**r),
            Msg::Charge(c) => Some(&c.usage),
            Msg::Release(_) | Msg::Flush(_) => None,
        })
        .collect();
    // Their hourly buckets in the same transaction: the totals always equal the rows.
    crate::rollup::add(txn, &usage).await?;
    insert_batch(txn, &usage).await
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
