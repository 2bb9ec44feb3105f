//! Server functions of the public pages (landing page and docs): the catalog as a visitor
//! may see it. No session needed; a session only changes the call to action.
use leptos::prelude::*;

use crate::dto::{AppError, PublicCatalog};
#[cfg(feature = "ssr")]
use crate::server::*;

/// Plans, packs and models from the catalog tables, read on every call (an admin's change
/// shows without a restart), priced in the page's language. Denied models never appear.
#[server(prefix = "/api", endpoint = "public-catalog")]
pub async fn load_public_catalog() -> Result<PublicCatalog, AppError> {
    // The request's context first: read after an await, it may be gone (crate::server).
    let svc = services()?;
    let (token, lang) = (session_token(), crate::request_lang());
    let catalog = domain::catalog::Catalog::load(&svc.db)
        .await
        .map_err(fail)?;
    let signed_in = match token {
        Some(token) => domain::sessions::account(&svc.db, &token).await.is_ok(),
        None => false,
    };
    Ok(map::public(
        &catalog,
        lang,
        &svc.settings.public_base_url,
        signed_in,
    ))
}

#[cfg(feature = "ssr")]
pub(crate) mod map {
    use domain::catalog::{Catalog, ModelKind};
    use locale::{fmt_int, fmt_kwd};

    use crate::dto::{PackCard, PublicCatalog, PublicModel, PublicPlan};
    use crate::Lang;

    pub fn public(catalog: &Catalog, lang: Lang, base_url: &str, signed_in: bool) -> PublicCatalog {
        let mut plans: Vec<_> = catalog.plans.iter().collect();
        plans.sort_by_key(|p| p.priority);
        let plans: Vec<PublicPlan> = plans
            .into_iter()
            .map(|p| PublicPlan {
                id: p.id.clone(),
                price: fmt_kwd(lang, p.price_fils),
                credits: p.credits,
                requests_per_minute: p.requests_per_minute,
                concurrent_requests: catalog.concurrent_requests(p),
                max_keys: p.max_keys,
                period_days: p.period_days,
                models: catalog
                    .models_for_plan(p)
                    .into_iter()
                    .map(|m| PublicModel {
                        id: m.id.clone(),
                        cloud: m.kind == ModelKind::Cloud,
                        embedding: m.embedding,
                        multiplier: multiplier(lang, catalog.multiplier_milli(m)),
                    })
                    .collect(),
            })
            .collect();
        let lowest = plans.first().map(|p| p.models.as_slice()).unwrap_or(&[]);
        let example_model = lowest
            .iter()
            .find(|m| !m.embedding && !m.cloud)
            .or_else(|| lowest.iter().find(|m| !m.embedding))
            .map(|m| m.id.clone())
            .unwrap_or_else(|| "MODEL".into());
        let example_embedding = lowest.iter().find(|m| m.embedding).map(|m| m.id.clone());
        let g = &catalog.gateway;
        PublicCatalog {
            base_url: base_url.trim_end_matches('/').to_owned(),
            signed_in,
            packs: catalog
                .packs
                .iter()
                .map(|p| PackCard {
                    id: p.id.clone(),
                    price: fmt_kwd(lang, p.price_fils),
                    credits: p.credits,
                })
                .collect(),
            plans,
            example_model,
            example_embedding,
            welcome_credits: catalog.welcome_credits,
            cloud_daily_cap: g.cloud_daily_cap,
            queue_failover_depth: g.queue_failover_depth,
            default_max_tokens: g.default_max_tokens,
            max_body_bytes: g.max_body_bytes as u64,
            wait_timeout_secs: g.wait_timeout_ms.div_ceil(1000),
        }
    }

    /// Credits per 1000 tokens from thousandths: `1`, `1.5`, `٢` …
    pub fn multiplier(lang: Lang, milli: i64) -> String {
        let whole = fmt_int(lang, milli / 1000);
        let frac = milli % 1000;
        if frac == 0 {
            return whole;
        }
        let digits = format!("{frac:03}");
        let digits = digits.trim_end_matches('0');
        match lang {
            Lang::En => format!("{whole}.{digits}"),
            Lang::Ar => {
                let digits: String = digits
                    .chars()
                    .map(|c| {
                        c.to_digit(10)
                            .and_then(|d| char::from_u32(0x0660 + d))
                            .unwrap_or(c)
                    })
                    .collect();
                format!("{whole}\u{066B}{digits}")
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn the_public_catalog_never_shows_a_denied_model_and_prices_in_kwd() {
            let mut c = Catalog::builtin();
            c.plans[0].models.push("bge-m3".into());
            let v = public(&c, Lang::En, "https://api.example.com/", false);
            assert_eq!(v.base_url, "https://api.example.com");
            assert_eq!(v.plans[0].price, "5.000 KWD");
            assert_eq!(v.example_model, "llama3.2:3b");
            for p in &v.plans {
                for m in &p.models {
                    assert!(!c.is_denied(&m.id), "{}", m.id);
                }
            }
            let cloud = v.plans[1]
                .models
                .iter()
                .find(|m| m.id == "qwen3.5:cloud")
                .unwrap();
            assert!(cloud.cloud);
            assert_eq!(cloud.multiplier, "2");
            assert_eq!(multiplier(Lang::En, 1500), "1.5");
            assert_eq!(multiplier(Lang::Ar, 1500), "١٫٥");
        }
    }
}
