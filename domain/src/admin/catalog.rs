//! The catalog editor (issue 12): models (on/off, tier, multiplier, local/cloud, fallback),
//! plan and pack prices, and the cloud budget settings. Each edit is validated, written
//! with its audit row and a raised `catalog_revision` in one transaction, then served at
//! once here and within [`crate::catalog::live::POLL`] on every other instance
//! ([`crate::catalog::watch`]). The file's deny list is never overridden: a restricted
//! model can never be enabled.
use std::collections::HashSet;

use sea_orm::{
    sea_query::{Expr, OnConflict},
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
};
use serde::{Deserialize, Serialize};

use crate::accounts::Account;
use crate::audit::{self, actions, Actor, Change};
use crate::catalog::{Catalog, ModelKind};
use crate::entities::catalog::{
    denied_model, disabled_model, model, pack, plan, plan_model, value,
};
use crate::{Error, ErrorCode, Services};

use super::ensure_admin;

/// A model as the editor shows it (every row, disabled ones too).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelRow {
    pub id: String,
    pub kind: ModelKind,
    /// None: the kind's default.
    pub multiplier: Option<f64>,
    pub cloud_fallback: Option<String>,
    pub embedding: bool,
    pub enabled: bool,
    /// The lowest plan listing it (its tier), if any.
    pub tier: Option<String>,
    /// On the deny list: never served, cannot be enabled.
    pub restricted: bool,
}

/// A plan or a pack with its price, as the editor shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceRow {
    pub id: String,
    pub price_fils: i64,
    pub credits: i64,
}

/// Everything the models page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Editor {
    pub models: Vec<ModelRow>,
    pub plans: Vec<PriceRow>,
    pub packs: Vec<PriceRow>,
    pub cloud_daily_cap: u64,
    pub cloud_budget_warn_percent: u64,
    pub local_multiplier: f64,
    pub cloud_multiplier: f64,
}

/// What the model form sends (text fields, validated here).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ModelEdit {
    pub id: String,
    pub enabled: bool,
    /// A plan id, or empty for none.
    pub tier: String,
    /// Empty: the kind's default.
    pub multiplier: String,
    /// `local` or `cloud`.
    pub kind: String,
    /// A model id, or empty for none.
    pub fallback: String,
}

async fn denied_ids<C: ConnectionTrait>(db: &C) -> Result<Vec<String>, Error> {
    let mut ids: Vec<String> = denied_model::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.model)
        .collect();
    ids.extend(Catalog::builtin().denied_models);
    Ok(ids)
}

fn is_denied(denied: &[String], id: &str) -> bool {
    let norm = |s: &str| s.strip_suffix(":latest").unwrap_or(s).to_ascii_lowercase();
    let id = norm(id);
    denied.iter().any(|d| norm(d) == id)
}

/// The editor's data, read from the tables (not the loaded catalog, which lacks the
/// disabled models).
pub async fn editor(db: &DatabaseConnection, catalog: &Catalog) -> Result<Editor, Error> {
    let plans = plan::Entity::find()
        .order_by_asc(plan::Column::Position)
        .all(db)
        .await?;
    let mut by_priority = plans.clone();
    by_priority.sort_by_key(|p| p.priority);
    let listed = plan_model::Entity::find().all(db).await?;
    let disabled: HashSet<String> = disabled_model::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.model)
        .collect();
    let denied = denied_ids(db).await?;
    let models = model::Entity::find()
        .order_by_asc(model::Column::Position)
        .order_by_asc(model::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|m| {
            let tier = by_priority
                .iter()
                .find(|p| listed.iter().any(|l| l.plan_id == p.id && l.model == m.id))
                .map(|p| p.id.clone());
            let restricted = is_denied(&denied, &m.id);
            ModelRow {
                enabled: !disabled.contains(&m.id) && !restricted,
                tier,
                restricted,
                id: m.id,
                kind: m.kind,
                multiplier: m.multiplier,
                cloud_fallback: m.cloud_fallback,
                embedding: m.embedding,
            }
        })
        .collect();
    let packs = pack::Entity::find()
        .order_by_asc(pack::Column::Position)
        .all(db)
        .await?;
    Ok(Editor {
        models,
        plans: plans
            .into_iter()
            .map(|p| PriceRow {
                id: p.id,
                price_fils: p.price_fils,
                credits: p.credits,
            })
            .collect(),
        packs: packs
            .into_iter()
            .map(|p| PriceRow {
                id: p.id,
                price_fils: p.price_fils,
                credits: p.credits,
            })
            .collect(),
        cloud_daily_cap: catalog.gateway.cloud_daily_cap,
        cloud_budget_warn_percent: catalog.gateway.cloud_budget_warn_percent,
        local_multiplier: catalog.gateway.local_multiplier,
        cloud_multiplier: catalog.gateway.cloud_multiplier,
    })
}

/// An optional reason, at most 200 characters.
fn optional_reason(raw: &str) -> Result<Option<&str>, Error> {
    let r = raw.trim();
    if r.chars().count() > 200 {
        return Err(Error::invalid("reason", ErrorCode::TooLong));
    }
    Ok((!r.is_empty()).then_some(r))
}

/// A multiplier: empty (the kind's default) or a finite number greater than zero.
pub fn parse_multiplier(raw: &str) -> Result<Option<f64>, Error> {
    let t = raw.trim();
    if t.is_empty() {
        return Ok(None);
    }
    match t.parse::<f64>() {
        Ok(m) if m.is_finite() && m > 0.0 && m <= 1000.0 => Ok(Some(m)),
        _ => Err(Error::invalid("multiplier", ErrorCode::NotPositive)),
    }
}

/// A price in KWD with at most three decimals (`5`, `5.5`, `12.345`), in fils.
pub fn parse_price(raw: &str) -> Result<i64, Error> {
    let t = raw.trim();
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || whole.len() > 9 || frac.len() > 3 || !digits(whole) || !digits(frac) {
        return Err(Error::invalid("price", ErrorCode::NotAnInteger));
    }
    let whole: i64 = whole
        .parse()
        .map_err(|_| Error::invalid("price", ErrorCode::NotAnInteger))?;
    let frac: i64 = format!("{frac:0<3}")
        .parse()
        .map_err(|_| Error::invalid("price", ErrorCode::NotAnInteger))?;
    let fils = whole * 1000 + frac;
    if fils <= 0 {
        return Err(Error::invalid("price", ErrorCode::NotPositive));
    }
    Ok(fils)
}

fn parse_count(raw: &str, field: &'static str, min: i64, max: i64) -> Result<i64, Error> {
    let n: i64 = raw
        .trim()
        .parse()
        .map_err(|_| Error::invalid(field, ErrorCode::NotAnInteger))?;
    if n < min || n > max {
        return Err(Error::invalid(field, ErrorCode::NotPositive));
    }
    Ok(n)
}

/// After a commit: this instance serves the new catalog at once.
async fn reload_here(svc: &Services) {
    if let Err(e) = crate::catalog::reload(&svc.db, &svc.catalog).await {
        tracing::error!("catalog not reloaded after an edit: {e}");
    }
}

/// Saves one model's settings. Refused, with nothing changed: an unknown model, a
/// multiplier that is not a number above zero, a fallback that does not exist (or is the
/// model itself, or restricted), an unknown tier, enabling a restricted model.
pub async fn update_model(
    svc: &Services,
    admin: &Account,
    ip: &str,
    edit: &ModelEdit,
    why: &str,
) -> Result<(), Error> {
    let why = optional_reason(why)?;
    let multiplier = parse_multiplier(&edit.multiplier)?;
    let kind = match edit.kind.as_str() {
        "local" => ModelKind::Local,
        "cloud" => ModelKind::Cloud,
        _ => return Err(Error::invalid("kind", ErrorCode::Required)),
    };
    let txn = crate::db::begin_write(&svc.db).await?;
    let admin = ensure_admin(&txn, admin).await?;
    let before = model::Entity::find_by_id(edit.id.clone())
        .one(&txn)
        .await?
        .ok_or(Error::NotFound)?;
    let denied = denied_ids(&txn).await?;
    if edit.enabled && is_denied(&denied, &before.id) {
        return Err(Error::invalid("enabled", ErrorCode::ModelRestricted));
    }
    let fallback = edit.fallback.trim();
    let fallback = if fallback.is_empty() {
        None
    } else {
        let exists = model::Entity::find_by_id(fallback.to_owned())
            .one(&txn)
            .await?
            .is_some();
        if !exists || fallback == before.id || is_denied(&denied, fallback) {
            return Err(Error::invalid("fallback", ErrorCode::UnknownModel));
        }
        Some(fallback.to_owned())
    };
    let tier = edit.tier.trim();
    let tier = if tier.is_empty() {
        None
    } else {
        plan::Entity::find_by_id(tier.to_owned())
            .one(&txn)
            .await?
            .ok_or(Error::invalid("tier", ErrorCode::Required))?;
        Some(tier.to_owned())
    };
    let was_disabled = disabled_model::Entity::find_by_id(before.id.clone())
        .one(&txn)
        .await?
        .is_some();
    let old_tiers: Vec<String> = plan_model::Entity::find()
        .filter(plan_model::Column::Model.eq(before.id.clone()))
        .all(&txn)
        .await?
        .into_iter()
        .map(|r| r.plan_id)
        .collect();

    model::Entity::update_many()
        .col_expr(model::Column::Kind, Expr::value(kind))
        .col_expr(model::Column::Multiplier, Expr::value(multiplier))
        .col_expr(model::Column::CloudFallback, Expr::value(fallback.clone()))
        .filter(model::Column::Id.eq(before.id.clone()))
        .exec(&txn)
        .await?;
    if edit.enabled && was_disabled {
        disabled_model::Entity::delete_by_id(before.id.clone())
            .exec(&txn)
            .await?;
    } else if !edit.enabled && !was_disabled {
        disabled_model::Entity::insert(disabled_model::ActiveModel {
            model: Set(before.id.clone()),
        })
        .exec(&txn)
        .await?;
    }
    // The tier: the model is listed by exactly that plan (plans are cumulative upwards).
    let tier_changed = match &tier {
        Some(t) => old_tiers.len() != 1 || &old_tiers[0] != t,
        None => !old_tiers.is_empty(),
    };
    if tier_changed {
        plan_model::Entity::delete_many()
            .filter(plan_model::Column::Model.eq(before.id.clone()))
            .exec(&txn)
            .await?;
        if let Some(t) = &tier {
            let last = plan_model::Entity::find()
                .filter(plan_model::Column::PlanId.eq(t.clone()))
                .order_by_desc(plan_model::Column::Position)
                .one(&txn)
                .await?
                .map_or(0, |r| r.position + 1);
            plan_model::Entity::insert(plan_model::ActiveModel {
                plan_id: Set(t.clone()),
                model: Set(before.id.clone()),
                position: Set(last),
            })
            .exec(&txn)
            .await?;
        }
    }
    crate::catalog::bump_revision(&txn).await?;
    audit::record(
        &txn,
        &Actor::admin(&admin, ip),
        Change {
            action: actions::MODEL_UPDATE,
            target: Some(&before.id),
            before: Some(serde_json::json!({
                "enabled": !was_disabled,
                "kind": before.kind,
                "multiplier": before.multiplier,
                "fallback": before.cloud_fallback,
                "tiers": old_tiers,
            })),
            after: Some(serde_json::json!({
                "enabled": edit.enabled,
                "kind": kind,
                "multiplier": multiplier,
                "fallback": fallback,
                "tiers": tier.iter().collect::<Vec<_>>(),
            })),
            reason: why,
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    reload_here(svc).await;
    Ok(())
}

/// What the price form sends: a plan's (`is_plan`) or a pack's price (KWD text) and credits.
#[derive(Debug, Clone, Copy)]
pub struct PriceEdit<'a> {
    pub is_plan: bool,
    pub id: &'a str,
    pub price: &'a str,
    pub credits: &'a str,
}

/// Saves a plan's or a pack's price and credits.
pub async fn update_price(
    svc: &Services,
    admin: &Account,
    ip: &str,
    edit: PriceEdit<'_>,
    why: &str,
) -> Result<(), Error> {
    let PriceEdit {
        is_plan,
        id,
        price,
        credits,
    } = edit;
    let why = optional_reason(why)?;
    let price_fils = parse_price(price)?;
    let credits = parse_count(credits, "credits", 0, 1_000_000_000_000)?;
    let txn = crate::db::begin_write(&svc.db).await?;
    let admin = ensure_admin(&txn, admin).await?;
    let (before_price, before_credits) = if is_plan {
        let p = plan::Entity::find_by_id(id.to_owned())
            .one(&txn)
            .await?
            .ok_or(Error::NotFound)?;
        plan::Entity::update_many()
            .col_expr(plan::Column::PriceFils, Expr::value(price_fils))
            .col_expr(plan::Column::Credits, Expr::value(credits))
            .filter(plan::Column::Id.eq(id))
            .exec(&txn)
            .await?;
        (p.price_fils, p.credits)
    } else {
        let p = pack::Entity::find_by_id(id.to_owned())
            .one(&txn)
            .await?
            .ok_or(Error::NotFound)?;
        pack::Entity::update_many()
            .col_expr(pack::Column::PriceFils, Expr::value(price_fils))
            .col_expr(pack::Column::Credits, Expr::value(credits))
            .filter(pack::Column::Id.eq(id))
            .exec(&txn)
            .await?;
        (p.price_fils, p.credits)
    };
    crate::catalog::bump_revision(&txn).await?;
    audit::record(
        &txn,
        &Actor::admin(&admin, ip),
        Change {
            action: if is_plan {
                actions::PLAN_UPDATE
            } else {
                actions::PACK_UPDATE
            },
            target: Some(id),
            before: Some(
                serde_json::json!({ "price_fils": before_price, "credits": before_credits }),
            ),
            after: Some(serde_json::json!({ "price_fils": price_fils, "credits": credits })),
            reason: why,
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    reload_here(svc).await;
    Ok(())
}

/// The cloud budget (ADMIN-05): the daily cap of cloud requests (0 turns cloud off) and
/// the share of it at which admins are warned (1–100 %).
pub async fn update_budget(
    svc: &Services,
    admin: &Account,
    ip: &str,
    cap: &str,
    warn_percent: &str,
    why: &str,
) -> Result<(), Error> {
    let why = optional_reason(why)?;
    let cap = parse_count(cap, "cap", 0, 10_000_000)?;
    let warn = parse_count(warn_percent, "warn_percent", 1, 100)?;
    let txn = crate::db::begin_write(&svc.db).await?;
    let admin = ensure_admin(&txn, admin).await?;
    let before = svc.catalog.get().gateway.clone();
    for (name, v) in [
        ("gateway.cloud_daily_cap", cap),
        ("gateway.cloud_budget_warn_percent", warn),
    ] {
        value::Entity::insert(value::ActiveModel {
            name: Set(name.to_owned()),
            value: Set(v.to_string()),
        })
        .on_conflict(
            OnConflict::column(value::Column::Name)
                .update_column(value::Column::Value)
                .to_owned(),
        )
        .exec(&txn)
        .await?;
    }
    crate::catalog::bump_revision(&txn).await?;
    audit::record(
        &txn,
        &Actor::admin(&admin, ip),
        Change {
            action: actions::SETTINGS_UPDATE,
            target: Some("cloud_budget"),
            before: Some(serde_json::json!({
                "cloud_daily_cap": before.cloud_daily_cap,
                "cloud_budget_warn_percent": before.cloud_budget_warn_percent,
            })),
            after: Some(serde_json::json!({
                "cloud_daily_cap": cap,
                "cloud_budget_warn_percent": warn,
            })),
            reason: why,
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    reload_here(svc).await;
    Ok(())
}
