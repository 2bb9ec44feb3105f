//! Which models a plan may use (MODEL-01..04); what a request costs is [`crate::pricing`].
//!
//! Plans are cumulative by priority: a plan may use its own list and the lists of every
//! plan of lower priority. The permanent deny list wins over everything and is never
//! revealed: a denied model looks exactly like one that does not exist.
use crate::catalog::{Catalog, Model, Plan};

/// The answer to "may this plan use this model?".
#[derive(Debug, Clone, Copy)]
pub enum Access<'a> {
    Allowed(&'a Model),
    /// The model exists but needs this (higher) plan.
    NeedsPlan(&'a Plan),
    /// Unknown or denied: the caller answers 404 either way.
    NotFound,
}

impl Catalog {
    /// True for the models that are never listed or served (`bge-m3`, `BGE-M3` and
    /// `bge-m3:latest` all name the same model).
    pub fn is_denied(&self, id: &str) -> bool {
        // Without `:latest` and letter case, compared without allocating (asked on every
        // request).
        let id = id.strip_suffix(":latest").unwrap_or(id);
        self.denied_models.iter().any(|d| {
            d.strip_suffix(":latest")
                .unwrap_or(d)
                .eq_ignore_ascii_case(id)
        })
    }

    /// The lowest plan that may use `model`: the first plan (by priority) listing it, or the
    /// lowest plan for embedding models no plan lists.
    pub fn plan_for_model(&self, model: &Model) -> Option<&Plan> {
        self.plans
            .iter()
            .filter(|p| p.models.iter().any(|m| m == &model.id))
            .min_by_key(|p| p.priority)
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
    use crate::catalog::ModelKind;

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
            context_tokens: None,
            max_output_tokens: None,
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
        assert!(c.is_denied("bge-m3"));
        assert!(!c.is_denied("bge-m3x"));
        assert!(!c.is_denied("llama3.2:3b"));
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
}
