//! The catalog a running instance serves, replaced without a restart when an admin edits
//! the catalog tables.
//!
//! Every edit raises `catalog_revision.revision` in its own transaction. [`watch`] polls
//! that one row ([`POLL`]) and reloads when it moved, so an edit on any instance reaches
//! every other within a poll (the instance that made the edit reloads at once, [`reload`]).
//!
//! Readers take `&Catalog` through `Deref`, as when the catalog was loaded once: each
//! version is leaked (`Box::leak`) so a reference stays valid while a request holds it.
//! A version is a few kilobytes and is only made by an admin's edit, so the memory kept is
//! bounded by the number of edits since start.
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait};

use super::Catalog;
use crate::entities::catalog::revision;
use crate::Error;

/// How often each instance looks at the catalog revision.
pub const POLL: Duration = Duration::from_millis(250);

/// The current catalog and the revision it was loaded at.
pub struct Live {
    current: RwLock<(&'static Catalog, i64)>,
}

impl Live {
    /// A catalog that is not tied to any revision (tests, the built-in file).
    pub fn new(catalog: Catalog) -> Self {
        Self::at(catalog, -1)
    }

    fn at(catalog: Catalog, revision: i64) -> Self {
        Self {
            current: RwLock::new((Box::leak(Box::new(catalog)), revision)),
        }
    }

    /// The catalog now; holding it across an edit keeps the version it was.
    pub fn get(&self) -> &'static Catalog {
        match self.current.read() {
            Ok(c) => c.0,
            Err(poisoned) => poisoned.into_inner().0,
        }
    }

    pub fn revision(&self) -> i64 {
        match self.current.read() {
            Ok(c) => c.1,
            Err(poisoned) => poisoned.into_inner().1,
        }
    }

    /// Serves `catalog` from now on (tests use it to change a value in one instance).
    pub fn replace(&self, catalog: Catalog) {
        let revision = self.revision();
        self.set(catalog, revision);
    }

    fn set(&self, catalog: Catalog, revision: i64) {
        let leaked: &'static Catalog = Box::leak(Box::new(catalog));
        match self.current.write() {
            Ok(mut c) => *c = (leaked, revision),
            Err(poisoned) => *poisoned.into_inner() = (leaked, revision),
        }
    }
}

impl std::ops::Deref for Live {
    type Target = Catalog;
    fn deref(&self) -> &Catalog {
        self.get()
    }
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live")
            .field("revision", &self.revision())
            .finish_non_exhaustive()
    }
}

/// The catalog revision the database is at.
pub async fn current_revision<C: ConnectionTrait>(db: &C) -> Result<i64, Error> {
    Ok(revision::Entity::find_by_id(1)
        .one(db)
        .await?
        .map_or(0, |r| r.revision))
}

/// Raises the revision in the edit's transaction: every instance reloads after it.
pub async fn bump_revision<C: ConnectionTrait>(txn: &C) -> Result<(), Error> {
    use sea_orm::sea_query::{Expr, ExprTrait};
    use sea_orm::{ColumnTrait, QueryFilter};
    revision::Entity::update_many()
        .col_expr(
            revision::Column::Revision,
            Expr::col(revision::Column::Revision).add(1),
        )
        .filter(revision::Column::Id.eq(1))
        .exec(txn)
        .await?;
    Ok(())
}

/// Loads the catalog with the revision it belongs to.
pub async fn load_live(db: &DatabaseConnection) -> Result<Live, Error> {
    let rev = current_revision(db).await?;
    Ok(Live::at(Catalog::load(db).await?, rev))
}

/// Reloads `live` if the database's revision differs from the one it holds.
pub async fn reload(db: &DatabaseConnection, live: &Live) -> Result<bool, Error> {
    let rev = current_revision(db).await?;
    if rev == live.revision() {
        return Ok(false);
    }
    let catalog = Catalog::load(db).await?;
    live.set(catalog, rev);
    tracing::info!(revision = rev, "catalog reloaded");
    Ok(true)
}

/// Keeps `live` at the database's revision until it is dropped (started by the server).
pub fn watch(db: DatabaseConnection, live: &Arc<Live>) {
    let weak: Weak<Live> = Arc::downgrade(live);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(live) = weak.upgrade() else { return };
            if let Err(e) = reload(&db, &live).await {
                tracing::warn!("catalog reload failed: {e}");
            }
        }
    });
}
