//! [`sync`]: writes a catalog (normally the file built in, `Catalog::builtin`) into the
//! catalog tables — the explicit step that brings a change of `catalog/catalog.toml` into a
//! database (`resayil catalog sync`), and the base of an admin editor. Idempotent: a second
//! run changes nothing. One transaction: the portal never sees half a catalog.
//!
//! Plans, packs, models and the deny list are replaced by the catalog's (rows the catalog
//! no longer has are deleted); `catalog_values` gets `welcome_credits` and every gateway
//! limit. Message templates have no tables and are not touched.
use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait};

use super::Catalog;
use crate::entities::catalog::{denied_model, model, pack, plan, plan_model, value};
use crate::Error;

/// What a sync changed, by comparing the catalog before and after.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SyncReport {
    pub plans: usize,
    pub packs: usize,
    pub models: usize,
    pub denied_models: usize,
    /// False when the database already held exactly this catalog.
    pub changed: bool,
}

/// Replaces the catalog tables' rows with `catalog`'s.
pub async fn sync(db: &DatabaseConnection, catalog: &Catalog) -> Result<SyncReport, Error> {
    let before = Catalog::load(db).await.ok();
    let txn = crate::db::begin_write(db).await?;
    plan_model::Entity::delete_many().exec(&txn).await?;
    plan::Entity::delete_many().exec(&txn).await?;
    pack::Entity::delete_many().exec(&txn).await?;
    denied_model::Entity::delete_many().exec(&txn).await?;
    value::Entity::delete_many().exec(&txn).await?;
    model::Entity::delete_many().exec(&txn).await?;
    // All models in one statement: a fallback may name a model further down.
    if !catalog.models.is_empty() {
        model::Entity::insert_many(catalog.models.iter().zip(0_i64..).map(|(m, position)| {
            model::ActiveModel {
                id: Set(m.id.clone()),
                position: Set(position),
                kind: Set(m.kind),
                multiplier: Set(m.multiplier),
                cloud_fallback: Set(m.cloud_fallback.clone()),
                embedding: Set(m.embedding),
                context_tokens: Set(m.context_tokens.map(to_i64)),
                max_output_tokens: Set(m.max_output_tokens.map(to_i64)),
            }
        }))
        .exec_without_returning(&txn)
        .await?;
    }
    for (p, position) in catalog.plans.iter().zip(0_i64..) {
        plan::Entity::insert(plan::ActiveModel {
            id: Set(p.id.clone()),
            position: Set(position),
            price_fils: Set(p.price_fils),
            credits: Set(p.credits),
            requests_per_minute: Set(p.requests_per_minute.into()),
            max_keys: Set(p.max_keys.into()),
            priority: Set(p.priority.into()),
            period_days: Set(p.period_days),
            concurrent_requests: Set(p.concurrent_requests.map(i64::from)),
        })
        .exec(&txn)
        .await?;
        for (m, position) in p.models.iter().zip(0_i64..) {
            plan_model::Entity::insert(plan_model::ActiveModel {
                plan_id: Set(p.id.clone()),
                model: Set(m.clone()),
                position: Set(position),
            })
            .exec(&txn)
            .await?;
        }
    }
    for (p, position) in catalog.packs.iter().zip(0_i64..) {
        pack::Entity::insert(pack::ActiveModel {
            id: Set(p.id.clone()),
            position: Set(position),
            credits: Set(p.credits),
            price_fils: Set(p.price_fils),
        })
        .exec(&txn)
        .await?;
    }
    for (m, position) in catalog.denied_models.iter().zip(0_i64..) {
        denied_model::Entity::insert(denied_model::ActiveModel {
            model: Set(m.clone()),
            position: Set(position),
        })
        .exec(&txn)
        .await?;
    }
    for (name, literal) in values(catalog)? {
        value::Entity::insert(value::ActiveModel {
            name: Set(name),
            value: Set(literal),
        })
        .exec(&txn)
        .await?;
    }
    let after = Catalog::load(&txn).await?;
    if before.as_ref() != Some(&after) {
        // Running instances reload it (`catalog::watch`).
        super::live::bump_revision(&txn).await?;
    }
    txn.commit().await?;
    Ok(SyncReport {
        plans: after.plans.len(),
        packs: after.packs.len(),
        models: after.models.len(),
        denied_models: after.denied_models.len(),
        changed: before.as_ref() != Some(&after),
    })
}

/// `welcome_credits` and `gateway.<key>` for every gateway limit, as TOML literals.
fn values(catalog: &Catalog) -> Result<Vec<(String, String)>, Error> {
    let mut out = vec![(
        "welcome_credits".to_owned(),
        catalog.welcome_credits.to_string(),
    )];
    match toml::Value::try_from(&catalog.gateway) {
        Ok(toml::Value::Table(t)) => {
            out.extend(
                t.iter()
                    .map(|(k, v)| (format!("gateway.{k}"), v.to_string())),
            );
            Ok(out)
        }
        other => Err(Error::Internal(format!(
            "catalog gateway limits are not a table: {other:?}"
        ))),
    }
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{each_db, rewriting_the_catalog};

    #[tokio::test]
    async fn a_sync_writes_the_file_and_a_second_one_changes_nothing() {
        each_db(|svc| async move {
            rewriting_the_catalog(&svc.db, async {
                let file = Catalog::builtin();
                let first = sync(&svc.db, &file).await.unwrap();
                assert_eq!(Catalog::load(&svc.db).await.unwrap(), file);
                assert_eq!(first.plans, file.plans.len());
                let second = sync(&svc.db, &file).await.unwrap();
                assert!(!second.changed);
                assert_eq!(Catalog::load(&svc.db).await.unwrap(), file);
            })
            .await;
        })
        .await;
    }

    #[tokio::test]
    async fn a_changed_catalog_reaches_the_database_and_removed_rows_go() {
        // The PostgreSQL database is shared: the edit (a pack removed) must not be what
        // another test's services load.
        each_db(|svc| async move {
            rewriting_the_catalog(&svc.db, async {
                let mut edited = Catalog::builtin();
                edited.plans[0].price_fils = 5_500;
                edited.packs.pop();
                edited.models.retain(|m| m.id != "all-minilm");
                edited.gateway.cloud_daily_cap = 900;
                edited.welcome_credits = 50;
                let report = sync(&svc.db, &edited).await.unwrap();
                assert!(report.changed);
                let loaded = Catalog::load(&svc.db).await.unwrap();
                assert_eq!(loaded.plans[0].price_fils, 5_500);
                assert_eq!(loaded.packs.len(), edited.packs.len());
                assert!(loaded.model("all-minilm").is_none());
                assert_eq!(loaded.gateway.cloud_daily_cap, 900);
                assert_eq!(loaded.welcome_credits, 50);
                // The file's deny list stays in force whatever the tables say.
                let mut no_deny = edited.clone();
                no_deny.denied_models.clear();
                sync(&svc.db, &no_deny).await.unwrap();
                assert!(Catalog::load(&svc.db).await.unwrap().is_denied("bge-m3"));
            })
            .await
        })
        .await;
    }
}
