//! The connection pool: SQLite (WAL, file created on first start) or PostgreSQL.
use migrations::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr,
    SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait, Value,
};

use crate::Error;

/// Connects and brings the schema up to date.
pub async fn connect(url: &str) -> Result<DatabaseConnection, Error> {
    let db = connect_only(url).await?;
    migrate(&db).await?;
    Ok(db)
}

/// Connects without migrating (for `resayil migrate`, which reports what it does).
pub async fn connect_only(url: &str) -> Result<DatabaseConnection, Error> {
    if let Some(path) = sqlite_path(url) {
        if let Some(dir) = std::path::Path::new(path).parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| Error::Internal(format!("create {}: {e}", dir.display())))?;
            }
        }
    }
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.sqlx_logging(false);
    if url.starts_with("sqlite:") {
        // One writer at a time is SQLite's rule; a small pool plus a busy timeout keeps
        // concurrent writers waiting instead of failing. The pragmas are set on every
        // pooled connection (a statement after connecting would reach only one of them).
        opts.max_connections(8).min_connections(1);
        opts.map_sqlx_sqlite_opts(|o| {
            use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(std::time::Duration::from_secs(10))
                .foreign_keys(true)
        });
    } else {
        opts.max_connections(32).min_connections(2);
    }
    let db = Database::connect(opts).await?;
    Ok(db)
}

/// Begins a transaction that writes; every transaction of the domain starts here (clippy's
/// `disallowed-methods` refuses a plain `begin`).
///
/// On SQLite it takes the write lock at `BEGIN` (`BEGIN IMMEDIATE`). A deferred transaction
/// reads from a snapshot, and when another connection commits before its first write, that
/// snapshot cannot become a write: SQLite answers `SQLITE_BUSY_SNAPSHOT` at once, without
/// waiting out the busy timeout — an admin's save could fail with a 500 when a background
/// job committed in between. Taking the lock first, the transaction waits its turn (up to
/// the busy timeout) instead. On PostgreSQL this is a plain `BEGIN`; its row locks do the rest.
pub async fn begin_write<C: TransactionTrait>(db: &C) -> Result<C::Transaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

/// The PostgreSQL advisory lock migrations are run under ("resayil" in ASCII).
const MIGRATION_LOCK: i64 = 0x72_65_73_61_79_69_6c;

/// Runs pending migrations and returns how many were applied.
///
/// On PostgreSQL, instances starting together would race to create the migrations table
/// and apply the same migration (the loser fails its start-up on a duplicate key): there
/// one instance migrates at a time, in a transaction holding an advisory lock, and the next
/// finds the schema current. (SQLite's single writer already serialises them.)
pub async fn migrate(db: &DatabaseConnection) -> Result<usize, Error> {
    if db.get_database_backend() != DbBackend::Postgres {
        let pending = Migrator::get_pending_migrations(db).await?.len();
        Migrator::up(db, None).await?;
        return Ok(pending);
    }
    let txn = begin_write(db).await?;
    txn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_advisory_xact_lock($1)",
        [MIGRATION_LOCK.into()],
    ))
    .await?;
    let pending = Migrator::get_pending_migrations(&txn).await?.len();
    Migrator::up(&txn, None).await?;
    txn.commit().await?;
    Ok(pending)
}

/// Migrations this binary knows that the database has not applied (0: the schema is
/// current). A newer instance may have applied migrations this one does not know; that
/// still counts as current here.
pub async fn pending_migrations(db: &DatabaseConnection) -> Result<usize, Error> {
    Ok(Migrator::get_pending_migrations(db).await?.len())
}

/// The file of a SQLite URL (None for PostgreSQL or an in-memory database).
pub fn sqlite_file(url: &str) -> Option<&str> {
    sqlite_path(url)
}

fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then_some(path)
}

/// Row counts of the multi-row INSERTs [`insert_rows`] sends: a handful of distinct
/// statements, so they stay in the connection's prepared-statement cache instead of
/// pushing the hot path's statements out of it.
const INSERT_SHAPES: [usize; 5] = [256, 64, 16, 4, 1];

/// Inserts `rows` (values in the order of `columns`) into `table` in multi-row INSERTs of
/// [`INSERT_SHAPES`] rows. Each statement's values are taken from `rows` as it is built,
/// not all of a batch first: a batch of a few hundred rows is thousands of values, and
/// building them whole, then moving them again into each statement, cost the server a
/// few percent of its CPU in memory traffic (BENCHMARKS.md, "Session 25"). The statement
/// is written here rather than by the query builder: the batched usage writer inserts two
/// rows per request, and building them through sea-orm's active models and sea-query was
/// about a third of its cost.
pub(crate) async fn insert_rows<C: ConnectionTrait, const N: usize>(
    db: &C,
    table: &str,
    columns: [&str; N],
    mut rows: impl ExactSizeIterator<Item = [Value; N]>,
) -> Result<(), sea_orm::DbErr> {
    let backend = db.get_database_backend();
    loop {
        let left = rows.len();
        if left == 0 {
            return Ok(());
        }
        let n = INSERT_SHAPES.into_iter().find(|n| *n <= left).unwrap_or(1);
        let values: Vec<Value> = rows.by_ref().take(n).flatten().collect();
        let sql = cached_insert_sql(backend, table, &columns, n);
        db.execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?;
    }
}

/// [`insert_sql`], written once per statement: the writer sends a few shapes thousands of
/// times a second, and writing a placeholder list of up to 4,096 entries each time cost
/// more than copying it.
fn cached_insert_sql(backend: DbBackend, table: &str, columns: &[&str], rows: usize) -> String {
    struct Written {
        backend: DbBackend,
        table: String,
        columns: Vec<String>,
        rows: usize,
        sql: String,
    }
    // A handful of entries (tables × shapes × backends): a list is the fastest lookup.
    static WRITTEN: std::sync::Mutex<Vec<Written>> = std::sync::Mutex::new(Vec::new());
    let mut written = WRITTEN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let found = written.iter().find(|w| {
        w.backend == backend && w.rows == rows && w.table == table && w.columns == columns
    });
    if let Some(w) = found {
        return w.sql.clone();
    }
    let sql = insert_sql(backend, table, columns, rows);
    written.push(Written {
        backend,
        table: table.to_owned(),
        columns: columns.iter().map(|c| (*c).to_owned()).collect(),
        rows,
        sql: sql.clone(),
    });
    sql
}

/// `INSERT INTO "table" ("a", "b") VALUES (?, ?), (?, ?)` for `rows` rows, with the
/// placeholders of `backend` (`$1…` on PostgreSQL).
fn insert_sql(backend: DbBackend, table: &str, columns: &[&str], rows: usize) -> String {
    use std::fmt::Write;
    let mut sql = String::with_capacity(64 + columns.len() * (16 + rows * 6));
    let _ = write!(sql, "INSERT INTO \"{table}\" (");
    for (i, c) in columns.iter().enumerate() {
        let sep = if i == 0 { "" } else { ", " };
        let _ = write!(sql, "{sep}\"{c}\"");
    }
    sql.push_str(") VALUES ");
    let mut param = 0;
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ", (" });
        for i in 0..columns.len() {
            param += 1;
            let sep = if i == 0 { "" } else { ", " };
            match backend {
                DbBackend::Postgres => {
                    let _ = write!(sql, "{sep}${param}");
                }
                _ => {
                    let _ = write!(sql, "{sep}?");
                }
            }
        }
        sql.push(')');
    }
    sql
}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectionTrait, DatabaseConnection, Statement, TryGetable};

    /// The first column of every row the statement returns.
    async fn first_column<T: TryGetable>(db: &DatabaseConnection, sql: Statement) -> Vec<T> {
        let rows = db.query_all_raw(sql).await.unwrap();
        rows.iter()
            .map(|r| r.try_get_by_index(0).unwrap())
            .collect()
    }

    #[test]
    fn an_insert_is_written_once_and_the_same_every_time() {
        use sea_orm::DbBackend;
        let cases = [
            (
                DbBackend::Sqlite,
                "t",
                vec!["a", "b"],
                1,
                r#"INSERT INTO "t" ("a", "b") VALUES (?, ?)"#,
            ),
            (
                DbBackend::Postgres,
                "t",
                vec!["a", "b"],
                2,
                r#"INSERT INTO "t" ("a", "b") VALUES ($1, $2), ($3, $4)"#,
            ),
            (
                DbBackend::Sqlite,
                "t",
                vec!["a"],
                2,
                r#"INSERT INTO "t" ("a") VALUES (?), (?)"#,
            ),
            (
                DbBackend::Sqlite,
                "u",
                vec!["a", "b"],
                1,
                r#"INSERT INTO "u" ("a", "b") VALUES (?, ?)"#,
            ),
        ];
        // Twice over: the second round comes from the cache and must not mix up entries
        // that differ in one part only.
        for _ in 0..2 {
            for (backend, table, columns, rows, sql) in &cases {
                assert_eq!(
                    super::cached_insert_sql(*backend, table, columns, *rows),
                    *sql
                );
            }
        }
    }

    /// The bundled SQLite is built with the options of `.cargo/config.toml`:
    /// `SQLITE_DEFAULT_MEMSTATUS=0` (with the statistics on, each of SQLite's allocations
    /// takes a global mutex — a dozen per request in the usage writer; BENCHMARKS.md,
    /// "Session 13") and `SQLITE_ENABLE_QPSG` (without it every `.one()`, a `LIMIT ?`, is
    /// prepared again at each execution; "Session 21"). A build that misses the workspace's
    /// cargo configuration loses them without a word; this says so.
    #[tokio::test]
    async fn sqlite_is_built_with_the_workspace_options() {
        use sea_orm::DbBackend;
        let db = super::connect_only("sqlite::memory:").await.unwrap();
        let options: Vec<String> = first_column(
            &db,
            Statement::from_string(
                DbBackend::Sqlite,
                "SELECT compile_options FROM pragma_compile_options",
            ),
        )
        .await;
        for wanted in ["DEFAULT_MEMSTATUS=0", "ENABLE_QPSG"] {
            assert!(
                options.iter().any(|o| o == wanted),
                "{wanted} not in SQLite's compile options: {options:?}"
            );
        }
    }

    /// A transaction that reads, then writes after another connection committed, still
    /// commits: [`super::begin_write`] holds SQLite's write lock from `BEGIN`, so the other
    /// writer waits for it. (With a deferred `BEGIN` the late write failed at once with
    /// `SQLITE_BUSY`, busy timeout or not.) On PostgreSQL both commit.
    #[tokio::test]
    async fn a_transaction_that_reads_then_writes_is_not_refused_for_a_commit_in_between() {
        let dir = tempfile::tempdir().unwrap();
        let sqlite = format!("sqlite://{}/race.db?mode=rwc", dir.path().display());
        let mut urls = vec![sqlite];
        urls.extend(
            std::env::var("TEST_DATABASE_URL")
                .ok()
                .filter(|u| u.starts_with("postgres")),
        );
        for url in urls {
            let db = super::connect_only(&url).await.unwrap();
            let backend = db.get_database_backend();
            let table = format!("begin_write_race_{}", std::process::id());
            let sql = |q: String| Statement::from_string(backend, q);
            db.execute_raw(sql(format!("DROP TABLE IF EXISTS {table}")))
                .await
                .unwrap();
            db.execute_raw(sql(format!(
                "CREATE TABLE {table} (id BIGINT PRIMARY KEY, n BIGINT NOT NULL)"
            )))
            .await
            .unwrap();
            db.execute_raw(sql(format!(
                "INSERT INTO {table} (id, n) VALUES (1, 0), (2, 0)"
            )))
            .await
            .unwrap();
            // This transaction reads first …
            let txn = super::begin_write(&db).await.unwrap();
            txn.query_one_raw(sql(format!("SELECT n FROM {table} WHERE id = 1")))
                .await
                .unwrap();
            // … another connection writes a different row and commits meanwhile (on SQLite
            // it waits for this transaction's lock) …
            let other = {
                let db = db.clone();
                let table = table.clone();
                tokio::spawn(async move {
                    let txn = super::begin_write(&db).await?;
                    txn.execute_raw(Statement::from_string(
                        backend,
                        format!("UPDATE {table} SET n = n + 1 WHERE id = 2"),
                    ))
                    .await?;
                    txn.commit().await
                })
            };
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            // … and this one's write still goes through.
            txn.execute_raw(sql(format!("UPDATE {table} SET n = n + 1 WHERE id = 1")))
                .await
                .expect("the late write is not refused");
            txn.commit().await.unwrap();
            other.await.unwrap().expect("the other writer commits too");
            let n: Vec<i64> =
                first_column(&db, sql(format!("SELECT n FROM {table} ORDER BY id"))).await;
            assert_eq!(n, [1, 1], "{url}");
            db.execute_raw(sql(format!("DROP TABLE {table}")))
                .await
                .unwrap();
        }
    }

    /// Instances started together on an empty PostgreSQL database all come up, and the
    /// schema is migrated once (without the advisory lock, all but one failed on a
    /// duplicate key creating the migrations table or applying the same migration).
    #[tokio::test]
    async fn instances_started_together_on_an_empty_postgres_database_all_migrate_it() {
        use sea_orm::DbBackend;
        let Some(pg) = std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|u| u.starts_with("postgres"))
        else {
            return;
        };
        let server = pg.split('?').next().unwrap().rsplit_once('/').unwrap().0;
        let admin = super::connect_only(&format!("{server}/postgres"))
            .await
            .unwrap();
        let name = format!("resayil_migrate_race_{}", std::process::id());
        let sql = |q: String| Statement::from_string(DbBackend::Postgres, q);
        admin
            .execute_raw(sql(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
            .await
            .unwrap();
        admin
            .execute_raw(sql(format!("CREATE DATABASE {name}")))
            .await
            .unwrap();
        let url = format!("{server}/{name}");
        let started = futures::future::join_all((0..4).map(|_| super::connect(&url))).await;
        let mut migrated = Vec::new();
        for db in started {
            let db = db.expect("every instance comes up");
            migrated.push(super::pending_migrations(&db).await.unwrap());
            db.close().await.unwrap();
        }
        admin
            .execute_raw(sql(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
            .await
            .unwrap();
        assert_eq!(migrated, [0, 0, 0, 0]);
    }

    /// Session 14's index migrations go down and up again (on SQLite: the PostgreSQL test
    /// database is shared, its schema is not taken down under the other tests).
    #[tokio::test]
    async fn the_index_migrations_go_down_and_up_again() {
        use migrations::MigratorTrait;
        use sea_orm::DbBackend;
        async fn indexes(db: &sea_orm::DatabaseConnection) -> Vec<String> {
            let sql = Statement::from_string(
                DbBackend::Sqlite,
                "SELECT name FROM sqlite_master WHERE type = 'index' \
                 AND tbl_name IN ('api_usage', 'ledger') AND sql IS NOT NULL ORDER BY name",
            );
            first_column(db, sql).await
        }
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/down.db?mode=rwc", dir.path().display());
        let db = super::connect_only(&url).await.unwrap();
        migrations::Migrator::up(&db, None).await.unwrap();
        let up = indexes(&db).await;
        assert_eq!(
            up,
            [
                "idx_api_usage_account_time",
                "idx_ledger_account",
                "idx_ledger_grants"
            ]
        );
        let all = migrations::Migrator::migrations();
        let first = all
            .iter()
            .position(|m| m.name() == "m20261206_000100_drop_usage_time_index")
            .unwrap();
        let steps = u32::try_from(all.len() - first).unwrap();
        migrations::Migrator::down(&db, Some(steps)).await.unwrap();
        assert_eq!(
            indexes(&db).await,
            [
                "idx_api_usage_account_time",
                "idx_api_usage_time",
                "idx_ledger_account",
                "idx_ledger_account_kind"
            ]
        );
        migrations::Migrator::up(&db, None).await.unwrap();
        assert_eq!(indexes(&db).await, up);
    }

    /// sqlx 0.9.0 opened its PostgreSQL sockets without TCP_NODELAY: a statement longer than
    /// one TCP segment (the usage writer's batch inserts) then waited for the server's
    /// delayed ACK, ~40 ms each, and one instance on PostgreSQL fell to a third of its
    /// throughput (BENCHMARKS.md, "Session 9"). Every connection of this process to the
    /// database's port must send without delay.
    #[tokio::test]
    async fn connections_to_postgresql_have_nagle_off() {
        use rustix::process::{getpid, pidfd_getfd, pidfd_open, PidfdFlags, PidfdGetfdFlags};
        let url = match std::env::var("TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => url,
            _ => return,
        };
        let db = super::connect_only(&url).await.unwrap();
        db.execute_unprepared("SELECT 1").await.unwrap();
        let port = url::Url::parse(&url).unwrap().port().unwrap_or(5432);
        // A duplicate of each of this process's descriptors, to read its socket options.
        let me = pidfd_open(getpid(), PidfdFlags::empty()).expect("pidfd_open");
        let mut checked = 0;
        for entry in std::fs::read_dir("/proc/self/fd").unwrap().flatten() {
            let Some(n) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
                continue;
            };
            let Ok(fd) = pidfd_getfd(&me, n, PidfdGetfdFlags::empty()) else {
                continue;
            };
            let Ok(Some(peer)) = rustix::net::getpeername(&fd) else {
                continue;
            };
            let Ok(peer) = std::net::SocketAddr::try_from(peer) else {
                continue;
            };
            if peer.port() != port {
                continue;
            }
            assert!(
                rustix::net::sockopt::tcp_nodelay(&fd).unwrap(),
                "the connection to {peer} delays small writes (Nagle)"
            );
            checked += 1;
        }
        assert!(checked > 0, "no connection to port {port} found");
    }
}
