//! Which models a plan may use (MODEL-01..04) and what a request costs (API-02).
//!
//! Plans are cumulative by priority: a plan may use its own list and the lists of every
//! plan of lower priority. The permanent deny list wins over everything and is never
//! revealed: a denied model looks exactly like one that does not exist.
use crate::catalog::{Catalog, Model, ModelKind, Plan};

/// The answer to "may this plan use this model?".
#[derive(Debug, Clone, Copy)]
pub enum Access<'a> {
    Allowed(&'a Model),
    /// The model exists but needs this (higher) plan.
    NeedsPlan(&'a Plan),
    /// Unknown or denied: the caller answers 404 either way.
    NotFound,
}

/// `bge-m3`, `BGE-M3` and `bge-m3:latest` all name the same model.
fn normalise(id: &str) -> String {
    id.strip_suffix(":latest")
        .unwrap_or(id)
        .to_ascii_lowercase()
}

impl Catalog {
    /// True for the models that are never listed or served.
    pub fn is_denied(&self, id: &str) -> bool {
        let id = normalise(id);
        self.denied_models.iter().any(|d| normalise(d) == id)
    }

    /// The lowest plan that may use `model`: the first plan (by priority) listing it, or the
    /// lowest plan for embedding models no plan lists.
    pub fn plan_for_model(&self, model: &Model) -> Option<&Plan> {
        let mut plans: Vec<&Plan> = self.plans.iter().collect();
        plans.sort_by_key(|p| p.priority);
        plans
            .into_iter()
            .find(|p| p.models.iter().any(|m| m == &model.id))
            .or_else(|| model.embedding.then(|| self.lowest_plan()))
    }

    pub fn access(&self, plan: &Plan, model_id: &str) -> Access<'_> {
        if self.is_denied(model_id) {
            return Access::NotFound;
        }
        let Some(model) = self.model(model_id) else {
            return Access::NotFound;
        };
        match self.plan_for_model(model) {
            Some(needed) if needed.priority <= plan.priority => Access::Allowed(model),
            Some(needed) => Access::NeedsPlan(needed),
            None => Access::NotFound,
        }
    }

    /// The models `plan` may use, in catalog order, never a denied one.
    pub fn models_for_plan(&self, plan: &Plan) -> Vec<&Model> {
        self.models
            .iter()
            .filter(|m| matches!(self.access(plan, &m.id), Access::Allowed(_)))
            .collect()
    }

    /// Credits per 1000 tokens in thousandths (integer arithmetic for billing).
    pub fn multiplier_milli(&self, model: &Model) -> i64 {
        let m = model.multiplier.unwrap_or(match model.kind {
            ModelKind::Local => self.gateway.local_multiplier,
            ModelKind::Cloud => self.gateway.cloud_multiplier,
        });
        (m * 1000.0).round().max(0.0) as i64
    }

    /// ceil(total_tokens × multiplier / 1000), at least 1 (API-02).
    pub fn cost(&self, model: &Model, total_tokens: u64) -> i64 {
        let tokens = i64::try_from(total_tokens).unwrap_or(i64::MAX / 1_000_000);
        let milli = tokens.saturating_mul(self.multiplier_milli(model));
        (milli + 999_999).div_euclid(1_000_000).max(1)
    }
}

/// Display name of a plan in messages ("pro" → "Pro").
pub fn plan_name(plan: &Plan) -> String {
    let mut c = plan.id.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(c: &Catalog, plan: &str) -> Vec<String> {
        let plan = c.plan(plan).unwrap();
        c.models_for_plan(plan)
            .into_iter()
            .map(|m| m.id.clone())
            .collect()
    }

    #[test]
    fn plans_are_cumulative_and_the_deny_list_is_never_listed() {
        let mut c = Catalog::builtin();
        // Even when an admin puts a restricted model into a plan, it stays hidden.
        c.plans[0].models.push("bge-m3".into());
        c.models.push(Model {
            id: "bge-m3".into(),
            kind: ModelKind::Local,
            multiplier: None,
            cloud_fallback: None,
            embedding: true,
        });
        let basic = ids(&c, "basic");
        assert!(basic.contains(&"llama3.2:3b".to_string()));
        assert!(!basic.contains(&"qwen3.5:cloud".to_string()));
        let enterprise = ids(&c, "enterprise");
        for m in ["llama3.2:3b", "qwen3.5:cloud", "gpt-oss:20b", "all-minilm"] {
            assert!(enterprise.contains(&m.to_string()), "{m}");
        }
        for denied in ["glm-4.7-flash", "bge-m3", "nomic-embed-text"] {
            assert!(!enterprise.contains(&denied.to_string()));
            assert!(matches!(
                c.access(c.plan("enterprise").unwrap(), denied),
                Access::NotFound
            ));
        }
        assert!(c.is_denied("BGE-M3:latest"));
    }

    #[test]
    fn a_model_of_a_higher_plan_names_the_plan_that_unlocks_it() {
        let c = Catalog::builtin();
        let basic = c.plan("basic").unwrap();
        match c.access(basic, "deepseek-v3.2:cloud") {
            Access::NeedsPlan(p) => assert_eq!(plan_name(p), "Pro"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(c.access(basic, "no-such-model"), Access::NotFound));
        assert!(matches!(
            c.access(basic, "smollm2:135m"),
            Access::Allowed(_)
        ));
    }

    #[test]
    fn cost_is_ceil_of_tokens_times_multiplier_per_thousand_at_least_one() {
        let c = Catalog::builtin();
        let local = c.model("llama3.2:3b").unwrap();
        let cloud = c.model("qwen3.5:cloud").unwrap();
        assert_eq!(c.cost(local, 0), 1);
        assert_eq!(c.cost(local, 1), 1);
        assert_eq!(c.cost(local, 1000), 1);
        assert_eq!(c.cost(local, 1001), 2);
        assert_eq!(c.cost(cloud, 500), 1);
        assert_eq!(c.cost(cloud, 501), 2);
        assert_eq!(c.cost(cloud, 2500), 5);
        let mut custom = local.clone();
        custom.multiplier = Some(1.5);
        assert_eq!(c.cost(&custom, 1000), 2);
        assert_eq!(c.cost(&custom, 666), 1);
    }
}
