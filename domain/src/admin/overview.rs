//! The numbers of the admin overview (ADMIN-01, ADMIN-04, ADMIN-05). Usage comes from the
//! hourly rollups (`crate::rollup`), never the raw rows; accounts and paid orders are read
//! through their indexes (`m20261129_000200_admin_console`).
use std::collections::BTreeMap;

use sea_orm::{
    sea_query::{Expr, ExprTrait},
    ColumnTrait, DatabaseConnection, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter,
    QuerySelect,
};
use serde::{Deserialize, Serialize};

use crate::catalog::Catalog;
use crate::entities::{account, order};
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

    // Usage from the platform's hourly sums (`super::platform`), never the raw rows.
    let hours = super::platform::hours(db, first_day, midnight + 86_400).await?;
    let mut requests_local = vec![0u64; CHART_DAYS as usize];
    let mut requests_cloud = vec![0u64; CHART_DAYS as usize];
    let (mut requests_today, mut credits_today, mut cloud_today) = (0u64, 0i64, 0u64);
    for h in hours {
        let n = Ord::max(h.requests, 0) as u64;
        if h.hour >= midnight {
            requests_today += n;
            credits_today += h.credits;
            if h.provider == "cloud" {
                cloud_today += n;
            }
        }
        let Some(i) = index(h.hour) else { continue };
        match h.provider.as_str() {
            "cloud" => requests_cloud[i] += n,
            "local" => requests_local[i] += n,
            _ => {}
        }
    }

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
