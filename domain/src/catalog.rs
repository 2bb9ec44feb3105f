//! The product catalog: plans, packs, models, the deny list, grants and gateway limits.
//! Nothing else may hard-code these numbers.
//!
//! `catalog/catalog.toml` is the one data file. The migration `m20261126_000020_catalog`
//! seeds it into tables, and [`Catalog::load`] (used by `Services::build`) reads them back
//! into this struct, so the database is what the portal serves and bills. The message
//! templates and texts (`[[templates]]`, `[messages]`) have no tables: they must match the
//! wording approved at Meta, so they come from the file built in ([`Catalog::builtin`]).
//!
//! The migration's seed is frozen (what the file was when it landed); a later change of
//! `catalog.toml` reaches a database through [`sync`] (`resayil catalog sync`), an
//! explicit, idempotent step.
use sea_orm::sea_query::StringLen;
use sea_orm::{DeriveActiveEnum, EnumIter};
use serde::{Deserialize, Serialize};

mod live;
mod load;
mod sync;

pub use live::{bump_revision, current_revision, load_live, reload, watch, Live};

pub use sync::{sync, SyncReport};

const BUILTIN: &str = include_str!("../../catalog/catalog.toml");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    pub welcome_credits: i64,
    pub denied_models: Vec<String>,
    pub plans: Vec<Plan>,
    pub packs: Vec<Pack>,
    /// How each model is served and billed (see [`crate::models`] for access rules).
    #[serde(default)]
    pub models: Vec<Model>,
    /// The gateway's limits: cloud budget, queue depth, reservation estimate.
    #[serde(default)]
    pub gateway: GatewayLimits,
    /// WhatsApp messages, one per event kind that notifies someone (see [`crate::notify`]).
    #[serde(default)]
    pub templates: Vec<Template>,
    /// What the messages need besides their templates.
    #[serde(default)]
    pub messages: Messages,
}

/// Who receives a template's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// The account the event is about, in its language.
    User,
    /// Every number of `ADMIN_PHONES`, in `ADMIN_LANG`.
    Admins,
}

/// One WhatsApp message, in both languages, with `{named}` placeholders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Template {
    /// The event kind it announces (`events::Kind::as_str`).
    pub kind: String,
    pub to: Audience,
    /// The approved template's name at Meta (the other providers send the text).
    pub meta_name: String,
    pub ar: String,
    pub en: String,
}

impl Template {
    /// The text in `lang` (`en`, else Arabic).
    pub fn text(&self, lang: &str) -> &str {
        if lang == "en" {
            &self.en
        } else {
            &self.ar
        }
    }
}

/// Words in both languages.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LocalText {
    pub ar: String,
    pub en: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Messages {
    /// Meta's language code of each translation (`ar`, `en`, `en_US` … are distinct).
    pub meta_languages: std::collections::BTreeMap<String, String>,
    /// How messages name each plan.
    pub plan_names: std::collections::BTreeMap<String, LocalText>,
}

/// Where a model runs (`catalog_models.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, EnumIter, DeriveActiveEnum)]
#[serde(rename_all = "snake_case")]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum ModelKind {
    /// The local Ollama (`OLLAMA_URL`).
    #[sea_orm(string_value = "local")]
    Local,
    /// The cloud Ollama (`OLLAMA_CLOUD_URL`), counted against the daily cloud cap.
    #[sea_orm(string_value = "cloud")]
    Cloud,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    pub id: String,
    pub kind: ModelKind,
    /// Credits per 1000 tokens; when absent the kind's default of [`GatewayLimits`].
    #[serde(default)]
    pub multiplier: Option<f64>,
    /// A cloud model that serves this local model's requests when the local queue is deep.
    #[serde(default)]
    pub cloud_fallback: Option<String>,
    /// Served by `/v1/embeddings` rather than chat completions.
    #[serde(default)]
    pub embedding: bool,
    /// The context window: a request asking for more completion tokens is refused.
    #[serde(default)]
    pub context_tokens: Option<u64>,
    /// Completion tokens one request may ask for at most; when absent
    /// [`GatewayLimits::max_output_tokens`]. Also what the upstream is told when a request
    /// sets no limit, so no request holds a model server for longer.
    #[serde(default)]
    pub max_output_tokens: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GatewayLimits {
    pub cloud_daily_cap: u64,
    pub cloud_budget_warn_percent: u64,
    pub credit_warning_percent: i64,
    pub local_parallel: u64,
    pub queue_failover_depth: u64,
    pub wait_queue_max: usize,
    pub wait_timeout_ms: u64,
    pub default_max_tokens: u64,
    pub max_body_bytes: usize,
    pub local_multiplier: f64,
    pub cloud_multiplier: f64,
    /// Completion tokens per request at most, for models without their own limit.
    pub max_output_tokens: u64,
    /// Requests an account may have open at once, for plans without their own number.
    pub concurrent_requests: u32,
}

impl Default for GatewayLimits {
    fn default() -> Self {
        Self {
            cloud_daily_cap: 500,
            cloud_budget_warn_percent: 80,
            credit_warning_percent: 20,
            local_parallel: 1,
            queue_failover_depth: 3,
            wait_queue_max: 64,
            wait_timeout_ms: 30_000,
            default_max_tokens: 512,
            max_body_bytes: 4 << 20,
            local_multiplier: 1.0,
            cloud_multiplier: 2.0,
            max_output_tokens: 8192,
            concurrent_requests: 4,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub id: String,
    pub price_fils: i64,
    pub credits: i64,
    pub requests_per_minute: u32,
    pub max_keys: u32,
    /// Higher plans include the models of every lower one.
    pub priority: u8,
    pub models: Vec<String>,
    /// How long one purchase of the plan lasts.
    #[serde(default = "default_period_days")]
    pub period_days: i64,
    /// Requests one account may have open at once (a team shares its owner's); when absent
    /// [`GatewayLimits::concurrent_requests`].
    #[serde(default)]
    pub concurrent_requests: Option<u32>,
}

fn default_period_days() -> i64 {
    30
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pack {
    pub id: String,
    pub credits: i64,
    pub price_fils: i64,
}

impl Catalog {
    /// The catalog of the file shipped with this build (what a fresh database is seeded
    /// with); the portal serves the database's, [`Catalog::load`].
    pub fn builtin() -> Self {
        // The file is part of the source tree and checked by a unit test, so a parse
        // failure here is a build defect, not a runtime condition.
        toml::from_str(BUILTIN).unwrap_or_else(|e| panic!("catalog/catalog.toml: {e}"))
    }

    pub fn plan(&self, id: &str) -> Option<&Plan> {
        self.plans.iter().find(|p| p.id == id)
    }

    /// The plan whose limits apply to an account: its active plan, or the lowest one.
    pub fn effective_plan(&self, plan: Option<&str>, expires_at: Option<i64>, now: i64) -> &Plan {
        let active = plan.filter(|_| expires_at.is_some_and(|t| t > now));
        active
            .and_then(|id| self.plan(id))
            .unwrap_or_else(|| self.lowest_plan())
    }

    pub fn pack(&self, id: &str) -> Option<&Pack> {
        self.packs.iter().find(|p| p.id == id)
    }

    /// The message template announcing events of `kind`, if that kind notifies anyone.
    pub fn template(&self, kind: &str) -> Option<&Template> {
        self.templates.iter().find(|t| t.kind == kind)
    }

    pub fn model(&self, id: &str) -> Option<&Model> {
        self.models.iter().find(|m| m.id == id)
    }

    pub fn lowest_plan(&self) -> &Plan {
        self.plans
            .iter()
            .min_by_key(|p| p.priority)
            .unwrap_or_else(|| panic!("catalog has no plans"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_catalog_has_the_three_plans_and_packs_of_the_product() {
        let c = Catalog::builtin();
        let ids: Vec<_> = c.plans.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["basic", "pro", "enterprise"]);
        assert_eq!(c.plan("pro").map(|p| p.requests_per_minute), Some(30));
        assert_eq!(c.packs.len(), 3);
        assert_eq!(c.welcome_credits, 100);
    }

    #[test]
    fn every_listed_model_says_how_it_is_served_and_fallbacks_are_cloud_models() {
        let c = Catalog::builtin();
        for plan in &c.plans {
            for id in &plan.models {
                assert!(
                    c.model(id).is_some(),
                    "{id} of {} has no [[models]]",
                    plan.id
                );
            }
        }
        for m in &c.models {
            if let Some(f) = &m.cloud_fallback {
                assert_eq!(
                    c.model(f).map(|f| f.kind),
                    Some(ModelKind::Cloud),
                    "{}",
                    m.id
                );
            }
        }
        assert_eq!(c.gateway.cloud_daily_cap, 500);
        assert_eq!(c.gateway.queue_failover_depth, 3);
    }

    #[test]
    fn lapsed_or_missing_plans_fall_back_to_basic() {
        let c = Catalog::builtin();
        assert_eq!(c.effective_plan(Some("pro"), Some(100), 50).id, "pro");
        assert_eq!(c.effective_plan(Some("pro"), Some(100), 150).id, "basic");
        assert_eq!(c.effective_plan(None, None, 0).id, "basic");
    }
}
