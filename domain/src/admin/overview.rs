//! The numbers of the admin overview (ADMIN-01, ADMIN-04, ADMIN-05). Every query is a
//! range over an index (accounts by creation, paid orders by payment time, usage by
//! time), never a scan of all usage rows.
use std::collections::BTreeMap;

use sea_orm::{
    sea_query::{Expr, ExprTrait},
    ColumnTrait, DatabaseConnection, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter,
    QuerySelect,
};
use serde::{Deserialize, Serialize};

use crate::catalog::Catalog;
use crate::entities::{account, api_usage, order};
use crate::payments::{ItemKind, OrderStatus};
use crate::{time, Error};

/// Days the charts cover.
pub const CHART_DAYS: i64 = 30;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    pub users_total: u64,
    pub users_new_week: u64,
    /// (plan id, accounts with it active), in catalog order.
    pub active_plans: Vec<(String, u64)>,
    pub revenue_today_fils: i64,
    pub revenue_month_fils: i64,
    pub requests_today: u64,
    pub credits_today: i64,
    pub cloud_today: u64,
    pub cloud_cap: u64,
    pub cloud_warn_percent: u64,
    /// The next midnight in Kuwait (unix seconds), when the cloud count starts again.
    pub cloud_resets_at: i64,
    /// Kuwait days (unix time of their midnight), oldest first.
    pub days: Vec<i64>,
    /// Revenue per day in fils: (series name — a plan id or `packs`, one value per day).
    pub revenue_series: Vec<(String, Vec<i64>)>,
    pub requests_local: Vec<u64>,
    pub requests_cloud: Vec<u64>,
}

impl Overview {
    /// The cloud gauge's colour: `green`, `amber` from the warning share, `red` at the cap
    /// (cloud is off until midnight).
    pub fn cloud_level(&self) -> &'static str {
        level(self.cloud_today, self.cloud_cap, self.cloud_warn_percent)
    }
}

pub fn level(used: u64, cap: u64, warn_percent: u64) -> &'static str {
    if used >= cap {
        "red"
    } else if used.saturating_mul(100) >= cap.saturating_mul(warn_percent) {
        "amber"
    } else {
        "green"
    }
}

/// Unix time of the first midnight of the month in Kuwait.
pub fn kuwait_month_start(now: i64) -> i64 {
    let (_, _, d, _) = locale::kuwait_civil(now);
    time::kuwait_midnight(now) - (d - 1) * 86_400
}

#[derive(FromQueryResult)]
struct PlanCount {
    plan: Option<String>,
    n: i64,
}

#[derive(FromQueryResult)]
struct DayCount {
    day: i64,
    provider: Option<String>,
    n: i64,
}

#[derive(FromQueryResult)]
struct Totals {
    n: i64,
    credits: Option<i64>,
}

#[derive(FromQueryResult)]
struct PaidRow {
    paid_at: Option<i64>,
    kind: ItemKind,
    item: String,
    amount_fils: i64,
}

/// Builds the overview at `now` for the catalog's plans and cloud budget.
pub async fn overview(
    db: &DatabaseConnection,
    catalog: &Catalog,
    now: i64,
) -> Result<Overview, Error> {
    let midnight = time::kuwait_midnight(now);
    let first_day = midnight - (CHART_DAYS - 1) * 86_400;
    let month = kuwait_month_start(now);

    let users_total = account::Entity::find().count(db).await?;
    let users_new_week = account::Entity::find()
        .filter(account::Column::CreatedAt.gte(now - 7 * 86_400))
        .count(db)
        .await?;
    let plan_counts = account::Entity::find()
        .select_only()
        .column(account::Column::Plan)
        .column_as(Expr::col(account::Column::Id).count(), "n")
        .filter(account::Column::Plan.is_not_null())
        .filter(account::Column::PlanExpiresAt.gt(now))
        .group_by(account::Column::Plan)
        .into_model::<PlanCount>()
        .all(db)
        .await?;
    let active_plans = catalog
        .plans
        .iter()
        .map(|p| {
            let n = plan_counts
                .iter()
                .find(|c| c.plan.as_deref() == Some(p.id.as_str()))
                .map_or(0, |c| Ord::max(c.n, 0) as u64);
            (p.id.clone(), n)
        })
        .collect();

    // Paid orders since the earlier of the chart's first day and the month's start.
    let since = Ord::min(first_day, month);
    let paid = order::Entity::find()
        .select_only()
        .columns([
            order::Column::PaidAt,
            order::Column::Kind,
            order::Column::Item,
            order::Column::AmountFils,
        ])
        .filter(order::Column::Status.eq(OrderStatus::Paid))
        .filter(order::Column::PaidAt.gte(since))
        .into_model::<PaidRow>()
        .all(db)
        .await?;
    let days: Vec<i64> = (0..CHART_DAYS).map(|i| first_day + i * 86_400).collect();
    let index = |ts: i64| -> Option<usize> {
        let i = (time::kuwait_midnight(ts) - first_day) / 86_400;
        (0..CHART_DAYS).contains(&i).then_some(i as usize)
    };
    let mut series: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let mut revenue_today_fils = 0;
    let mut revenue_month_fils = 0;
    for o in &paid {
        let Some(at) = o.paid_at else { continue };
        if at >= midnight {
            revenue_today_fils += o.amount_fils;
        }
        if at >= month {
            revenue_month_fils += o.amount_fils;
        }
        if let Some(i) = index(at) {
            let name = match o.kind {
                ItemKind::Plan => o.item.clone(),
                ItemKind::Pack => "packs".to_owned(),
            };
            series
                .entry(name)
                .or_insert_with(|| vec![0; CHART_DAYS as usize])[i] += o.amount_fils;
        }
    }
    // Plans in catalog order, then packs.
    let mut revenue_series = Vec::new();
    for p in &catalog.plans {
        if let Some(v) = series.remove(&p.id) {
            revenue_series.push((p.id.clone(), v));
        }
    }
    revenue_series.extend(series);

    let today = api_usage::Entity::find()
        .select_only()
        .column_as(Expr::col(api_usage::Column::Id).count(), "n")
        .column_as(Expr::col(api_usage::Column::Credits).sum(), "credits")
        .filter(api_usage::Column::CreatedAt.gte(midnight))
        .into_model::<Totals>()
        .one(db)
        .await?;
    let (requests_today, credits_today) = today.map_or((0, 0), |t| {
        (Ord::max(t.n, 0) as u64, t.credits.unwrap_or(0))
    });
    let (requests_local, requests_cloud, cloud_today) =
        requests_per_day(db, first_day, midnight).await?;

    Ok(Overview {
        users_total,
        users_new_week,
        active_plans,
        revenue_today_fils,
        revenue_month_fils,
        requests_today,
        credits_today,
        cloud_today,
        cloud_cap: catalog.gateway.cloud_daily_cap,
        cloud_warn_percent: catalog.gateway.cloud_budget_warn_percent,
        cloud_resets_at: midnight + 86_400,
        days,
        revenue_series,
        requests_local,
        requests_cloud,
    })
}

/// Requests per Kuwait day, local and cloud, from `first_day` for [`CHART_DAYS`] days, and
/// today's cloud requests.
async fn requests_per_day(
    db: &DatabaseConnection,
    first_day: i64,
    midnight: i64,
) -> Result<(Vec<u64>, Vec<u64>, u64), Error> {
    let day_expr = format!("(created_at + {}) / 86400", locale::KUWAIT_OFFSET_SECS);
    let rows = api_usage::Entity::find()
        .select_only()
        .column_as(Expr::cust(day_expr.clone()), "day")
        .column(api_usage::Column::Provider)
        .column_as(Expr::col(api_usage::Column::Id).count(), "n")
        .filter(api_usage::Column::CreatedAt.gte(first_day))
        .group_by(Expr::cust(day_expr))
        .group_by(api_usage::Column::Provider)
        .into_model::<DayCount>()
        .all(db)
        .await?;
    let first = time::kuwait_day(first_day);
    let today = time::kuwait_day(midnight);
    let mut local = vec![0u64; CHART_DAYS as usize];
    let mut cloud = vec![0u64; CHART_DAYS as usize];
    let mut cloud_today = 0;
    for r in rows {
        let i = r.day - first;
        if !(0..CHART_DAYS).contains(&i) {
            continue;
        }
        let n = Ord::max(r.n, 0) as u64;
        if r.provider.as_deref() == Some("cloud") {
            cloud[i as usize] += n;
            if r.day == today {
                cloud_today += n;
            }
        } else if r.provider.is_some() {
            local[i as usize] += n;
        }
    }
    Ok((local, cloud, cloud_today))
}
