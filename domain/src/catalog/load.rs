//! [`Catalog::load`]: the catalog from its tables (migration `m20261126_000020_catalog`), in
//! the order of the file.
use std::collections::HashMap;

use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder};

use super::{Catalog, GatewayLimits, Model, Pack, Plan};
use crate::entities::catalog::{
    denied_model, disabled_model, model, pack, plan, plan_model, value,
};
use crate::Error;

impl Catalog {
    /// The catalog the database holds: seeded from `catalog/catalog.toml`, perhaps edited
    /// since. The message templates and texts, which have no tables, come from the file
    /// built in, and so does any `[gateway]` value the table lacks.
    ///
    /// The file's deny list stays in force whatever `catalog_denied_models` says: the table
    /// can add models to it, never take one away (PRODUCT.md: "whatever an admin says").
    pub async fn load<C: ConnectionTrait>(db: &C) -> Result<Self, Error> {
        let file = Self::builtin();
        let plans = load_plans(db).await?;
        if plans.is_empty() {
            return Err(Error::Internal(
                "catalog_plans is empty: the portal needs at least one plan".into(),
            ));
        }
        let mut denied_models = load_denied(db).await?;
        for id in &file.denied_models {
            if !denied_models.contains(id) {
                denied_models.push(id.clone());
            }
        }
        let (welcome_credits, gateway) = load_values(db, &file).await?;
        Ok(Self {
            welcome_credits,
            denied_models,
            plans,
            packs: load_packs(db).await?,
            models: load_models(db).await?,
            gateway,
            templates: file.templates,
            messages: file.messages,
        })
    }
}

async fn load_plans<C: ConnectionTrait>(db: &C) -> Result<Vec<Plan>, Error> {
    let mut lists: HashMap<String, Vec<String>> = HashMap::new();
    let listed = plan_model::Entity::find()
        .order_by_asc(plan_model::Column::Position)
        .order_by_asc(plan_model::Column::Model)
        .all(db)
        .await?;
    for row in listed {
        lists.entry(row.plan_id).or_default().push(row.model);
    }
    let rows = plan::Entity::find()
        .order_by_asc(plan::Column::Position)
        .order_by_asc(plan::Column::Id)
        .all(db)
        .await?;
    rows.into_iter()
        .map(|row| {
            Ok(Plan {
                requests_per_minute: narrow(
                    row.requests_per_minute,
                    "requests_per_minute",
                    &row.id,
                )?,
                max_keys: narrow(row.max_keys, "max_keys", &row.id)?,
                priority: narrow(row.priority, "priority", &row.id)?,
                models: lists.remove(&row.id).unwrap_or_default(),
                price_fils: row.price_fils,
                credits: row.credits,
                period_days: row.period_days,
                concurrent_requests: row
                    .concurrent_requests
                    .map(|n| narrow(n, "concurrent_requests", &row.id))
                    .transpose()?,
                id: row.id,
            })
        })
        .collect()
}

async fn load_packs<C: ConnectionTrait>(db: &C) -> Result<Vec<Pack>, Error> {
    let rows = pack::Entity::find()
        .order_by_asc(pack::Column::Position)
        .order_by_asc(pack::Column::Id)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| Pack {
            id: row.id,
            credits: row.credits,
            price_fils: row.price_fils,
        })
        .collect())
}

async fn load_models<C: ConnectionTrait>(db: &C) -> Result<Vec<Model>, Error> {
    // Models an admin switched off (`crate::admin::catalog`) are not served at all.
    let disabled: std::collections::HashSet<String> = disabled_model::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|row| row.model)
        .collect();
    let rows = model::Entity::find()
        .order_by_asc(model::Column::Position)
        .order_by_asc(model::Column::Id)
        .all(db)
        .await?;
    rows.into_iter()
        .filter(|row| !disabled.contains(&row.id))
        .map(|row| {
            let tokens = |v: Option<i64>, column: &str| {
                v.map(|n| {
                    u64::try_from(n).map_err(|_| {
                        Error::Internal(format!("catalog_models: {column} of {} is {n}", row.id))
                    })
                })
                .transpose()
            };
            Ok(Model {
                context_tokens: tokens(row.context_tokens, "context_tokens")?,
                max_output_tokens: tokens(row.max_output_tokens, "max_output_tokens")?,
                id: row.id,
                kind: row.kind,
                multiplier: row.multiplier,
                cloud_fallback: row.cloud_fallback,
                embedding: row.embedding,
            })
        })
        .collect()
}

async fn load_denied<C: ConnectionTrait>(db: &C) -> Result<Vec<String>, Error> {
    let rows = denied_model::Entity::find()
        .order_by_asc(denied_model::Column::Position)
        .order_by_asc(denied_model::Column::Model)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|row| row.model).collect())
}

/// `welcome_credits` and the gateway limits: each row of `catalog_values` over the file's
/// value, typed by the same serde types that read the file.
async fn load_values<C: ConnectionTrait>(
    db: &C,
    file: &Catalog,
) -> Result<(i64, GatewayLimits), Error> {
    let bad = |name: &str, e: &dyn std::fmt::Display| {
        Error::Internal(format!("catalog_values {name}: {e}"))
    };
    let mut welcome_credits = file.welcome_credits;
    let mut gateway = match toml::Value::try_from(&file.gateway) {
        Ok(toml::Value::Table(t)) => t,
        Ok(other) => return Err(bad("gateway", &other.type_str())),
        Err(e) => return Err(bad("gateway", &e)),
    };
    for row in value::Entity::find().all(db).await? {
        let parsed: toml::Value = row.value.parse().map_err(|e| bad(&row.name, &e))?;
        if row.name == "welcome_credits" {
            welcome_credits = parsed
                .as_integer()
                .ok_or_else(|| bad(&row.name, &"not an integer"))?;
        } else if let Some(key) = row.name.strip_prefix("gateway.") {
            gateway.insert(key.to_owned(), parsed);
        } else {
            tracing::warn!(name = %row.name, "catalog_values: unknown name, ignored");
        }
    }
    let gateway = toml::Value::Table(gateway)
        .try_into()
        .map_err(|e| bad("gateway", &e))?;
    Ok((welcome_credits, gateway))
}

/// A `BIGINT` column into the catalog's narrower type, refusing what does not fit.
fn narrow<T: TryFrom<i64>>(value: i64, column: &str, plan: &str) -> Result<T, Error> {
    T::try_from(value).map_err(|_| {
        Error::Internal(format!(
            "catalog_plans: {column} of {plan} is out of range ({value})"
        ))
    })
}

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::Expr;
    use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

    use std::sync::Arc;

    use crate::catalog::Catalog;
    use crate::entities::catalog::{denied_model, model, plan, plan_model};
    use crate::models::Access;
    use crate::testing::{each_db, new_account};
    use crate::{payments, Services};

    #[tokio::test]
    async fn a_fresh_database_holds_the_frozen_seed_and_after_a_sync_the_file() {
        each_db(|svc| async move {
            let migrated = Catalog::load(&svc.db).await.unwrap();
            assert_eq!(
                *svc.catalog.get(),
                migrated,
                "the services use the database's"
            );
            let file = Catalog::builtin();
            let ids = |c: &Catalog| c.plans.iter().map(|p| p.id.clone()).collect::<Vec<_>>();
            assert_eq!(ids(&migrated), ["basic", "pro", "enterprise"]);
            crate::testing::rewriting_the_catalog(&svc.db, async {
                crate::catalog::sync(&svc.db, &file).await.unwrap();
                assert_eq!(Catalog::load(&svc.db).await.unwrap(), file);
            })
            .await;
        })
        .await;
    }

    #[tokio::test]
    async fn a_plan_price_changed_in_the_table_is_the_price_an_order_charges() {
        each_db(|svc| async move {
            // In a transaction rolled back at once: other tests share the PostgreSQL
            // database and must keep seeing the seeded prices.
            let txn = crate::db::begin_write(&svc.db).await.unwrap();
            plan::Entity::update_many()
                .col_expr(plan::Column::PriceFils, Expr::value(17_500_i64))
                .filter(plan::Column::Id.eq("pro"))
                .exec(&txn)
                .await
                .unwrap();
            let catalog = Catalog::load(&txn).await.unwrap();
            txn.rollback().await.unwrap();
            assert_eq!(catalog.plan("pro").map(|p| p.price_fils), Some(17_500));

            let svc = Services {
                catalog: Arc::new(crate::catalog::Live::new(catalog)),
                ..svc
            };
            let buyer = new_account(&svc).await;
            let started = payments::checkout(&svc, &buyer, "pro", "en").await.unwrap();
            let order = payments::order_for_account(&svc.db, buyer.id, started.order_id)
                .await
                .unwrap();
            assert_eq!(order.amount_fils, 17_500);
        })
        .await;
    }

    #[tokio::test]
    async fn denied_models_are_seeded_and_stay_refused_when_deleted_from_the_table() {
        each_db(|svc| async move {
            let seeded: Vec<String> = denied_model::Entity::find()
                .all(&svc.db)
                .await
                .unwrap()
                .into_iter()
                .map(|row| row.model)
                .collect();
            for id in ["glm-4.7-flash", "bge-m3", "nomic-embed-text"] {
                assert!(seeded.iter().any(|m| m == id), "{id} is not in the table");
            }

            // Someone empties the deny list and offers bge-m3 to Enterprise.
            let txn = crate::db::begin_write(&svc.db).await.unwrap();
            denied_model::Entity::delete_many()
                .exec(&txn)
                .await
                .unwrap();
            model::Entity::insert(model::ActiveModel {
                id: Set("bge-m3".into()),
                position: Set(100),
                kind: Set(crate::catalog::ModelKind::Local),
                multiplier: Set(None),
                cloud_fallback: Set(None),
                embedding: Set(true),
                context_tokens: Set(None),
                max_output_tokens: Set(None),
            })
            .exec(&txn)
            .await
            .unwrap();
            plan_model::Entity::insert(plan_model::ActiveModel {
                plan_id: Set("enterprise".into()),
                model: Set("bge-m3".into()),
                position: Set(0),
            })
            .exec(&txn)
            .await
            .unwrap();
            assert_eq!(denied_model::Entity::find().count(&txn).await.unwrap(), 0);
            let catalog = Catalog::load(&txn).await.unwrap();
            txn.rollback().await.unwrap();

            let enterprise = catalog.plan("enterprise").unwrap();
            assert!(enterprise.models.iter().any(|m| m == "bge-m3"));
            for id in ["glm-4.7-flash", "bge-m3", "nomic-embed-text"] {
                assert!(catalog.is_denied(id), "{id}");
                assert!(matches!(catalog.access(enterprise, id), Access::NotFound));
            }
            assert!(catalog
                .models_for_plan(enterprise)
                .iter()
                .all(|m| m.id != "bge-m3"));
        })
        .await;
    }
}
