//! The product catalog (plans, packs, models, grants) from `catalog/catalog.toml`.
//! Nothing else may hard-code these numbers.
use serde::{Deserialize, Serialize};

const BUILTIN: &str = include_str!("../../catalog/catalog.toml");

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Catalog {
    pub welcome_credits: i64,
    pub denied_models: Vec<String>,
    pub plans: Vec<Plan>,
    pub packs: Vec<Pack>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    pub id: String,
    pub price_fils: i64,
    pub credits: i64,
    pub requests_per_minute: u32,
    pub max_keys: u32,
    /// Higher plans include the models of every lower one.
    pub priority: u8,
    pub models: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pack {
    pub id: String,
    pub credits: i64,
    pub price_fils: i64,
}

impl Catalog {
    /// The catalog shipped with this build.
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
        assert_eq!(c.welcome_credits, 1000);
    }

    #[test]
    fn lapsed_or_missing_plans_fall_back_to_basic() {
        let c = Catalog::builtin();
        assert_eq!(c.effective_plan(Some("pro"), Some(100), 50).id, "pro");
        assert_eq!(c.effective_plan(Some("pro"), Some(100), 150).id, "basic");
        assert_eq!(c.effective_plan(None, None, 0).id, "basic");
    }
}
