//! The connection pool: SQLite (WAL, file created on first start) or PostgreSQL.
use migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection};

use crate::Error;

/// Connects and brings the schema up to date.
pub async fn connect(url: &str) -> Result<DatabaseConnection, Error> {
    let db = connect_only(url).await?;
    Migrator::up(&db, None).await?;
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

/// Runs pending migrations and returns how many were applied.
pub async fn migrate(db: &DatabaseConnection) -> Result<usize, Error> {
    let pending = Migrator::get_pending_migrations(db).await?.len();
    Migrator::up(db, None).await?;
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

#[cfg(test)]
mod tests {
    use sea_orm::ConnectionTrait;

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
