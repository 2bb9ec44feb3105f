//! What a request costs (API-02): the estimate reserved before the upstream is called, the
//! limits a request must keep, and what it is charged for however it ended. Pure: no
//! database, no clock; the gateway does the counting and the meter the bookkeeping.
//!
//! cost(tokens) = ceil(tokens × multiplier / 1000) credits, at least 1, where multiplier
//! is the *requested* model's (a failover to its cloud fallback is billed at the requested
//! model's rate, QUEUE-01). Arithmetic never wraps: a cost too large for `i64` is
//! `i64::MAX`, which no balance covers.
//!
//! The reservation is cost(prompt estimate + completion limit), where the prompt estimate
//! is one token per 4 bytes of the body and the completion limit is the request's
//! `max_tokens` or the catalog's `default_max_tokens`. A request asking for more completion
//! tokens than the model allows is refused before anything is reserved
//! ([`Catalog::check_max_tokens`]).
//!
//! What each ending is charged ([`Catalog::charge`]); "relayed" is the number of content
//! chunks the client received (Ollama streams one token per chunk):
//!
//! | how the request ended                                   | tokens charged                          |
//! |---------------------------------------------------------|-----------------------------------------|
//! | answered with usage                                     | the usage's total                       |
//! | answered without usage, not streamed                    | the estimate (prompt + completion limit)|
//! | answered without usage, streamed                        | prompt estimate + relayed               |
//! | answered in the other mode (SSE for JSON or JSON for SSE) | its usage if readable, else the estimate |
//! | failed before any output (refused, no place, upstream error or timeout, error event first) | nothing |
//! | broken after output                                     | usage if it came, else prompt estimate + relayed (nothing when nothing was relayed) |
//! | client gone before an upstream was called               | nothing                                 |
//! | client gone after an upstream was called                | prompt estimate + relayed               |
//!
//! Anything charged is at least 1 credit; "nothing" is 0 credits.
use serde::Deserialize;

use crate::catalog::{Catalog, Model, ModelKind, Plan};

/// Token counts as OpenAI and Ollama report them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct Usage {
    #[serde(default)]
    pub prompt_tokens: u64,
    #[serde(default)]
    pub completion_tokens: u64,
    #[serde(default)]
    pub total_tokens: u64,
}

impl Usage {
    pub fn new(prompt_tokens: u64, completion_tokens: u64) -> Self {
        Self {
            prompt_tokens,
            completion_tokens,
            total_tokens: prompt_tokens.saturating_add(completion_tokens),
        }
    }

    /// The larger of the reported total and the sum of its parts.
    pub fn total(&self) -> u64 {
        self.total_tokens
            .max(self.prompt_tokens.saturating_add(self.completion_tokens))
    }
}

/// What was assumed when the credits were reserved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Estimate {
    /// One token per 4 bytes of the request body.
    pub prompt_tokens: u64,
    /// The request's completion limit (0 for embeddings).
    pub completion_limit: u64,
}

impl Estimate {
    pub fn new(body_bytes: usize, completion_limit: u64) -> Self {
        Self {
            prompt_tokens: (body_bytes as u64).div_ceil(4),
            completion_limit,
        }
    }

    fn usage(&self) -> Usage {
        Usage::new(self.prompt_tokens, self.completion_limit)
    }

    fn relayed(&self, chunks: u64) -> Usage {
        Usage::new(self.prompt_tokens, chunks)
    }
}

/// How a request that held a reservation ended (the rows of the table above).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// A complete answer. `relayed`: content chunks streamed (None: not streamed).
    Answered {
        usage: Option<Usage>,
        relayed: Option<u64>,
    },
    /// The upstream answered in the other mode than asked.
    WrongMode { usage: Option<Usage> },
    /// Nothing came out: refused, no place, upstream error or timeout.
    FailedBeforeOutput,
    /// A stream that broke after output.
    BrokenAfterOutput { usage: Option<Usage>, relayed: u64 },
    /// The client went away before an upstream was called.
    GoneBeforeUpstream,
    /// The client went away after an upstream was called.
    GoneAfterUpstream { relayed: u64 },
}

/// What one ending costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Charge {
    /// The tokens the usage row shows.
    pub usage: Usage,
    pub credits: i64,
}

/// Why a completion limit is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooManyTokens {
    pub asked: u64,
    /// The most the model allows.
    pub limit: u64,
}

impl Catalog {
    /// Credits per 1000 tokens in thousandths (integer arithmetic for billing).
    pub fn multiplier_milli(&self, model: &Model) -> i64 {
        let m = model.multiplier.unwrap_or(match model.kind {
            ModelKind::Local => self.gateway.local_multiplier,
            ModelKind::Cloud => self.gateway.cloud_multiplier,
        });
        // `as` saturates (and NaN is 0): a silly multiplier cannot wrap.
        (m * 1000.0).round().max(0.0) as i64
    }

    /// ceil(tokens × multiplier / 1000), at least 1; `i64::MAX` when it does not fit.
    pub fn cost(&self, model: &Model, tokens: u64) -> i64 {
        let milli = u128::from(tokens) * self.multiplier_milli(model).max(0) as u128;
        i64::try_from(milli.div_ceil(1_000_000))
            .unwrap_or(i64::MAX)
            .max(1)
    }

    /// The most completion tokens one request may ask of `model`.
    pub fn completion_cap(&self, model: &Model) -> u64 {
        let cap = model
            .max_output_tokens
            .unwrap_or(self.gateway.max_output_tokens);
        model.context_tokens.map_or(cap, |c| cap.min(c))
    }

    /// The completion limit of a chat request: what it asked (refused above the model's
    /// cap), else the catalog's default for the reservation. The second value is what the
    /// upstream is told: never more than the cap.
    pub fn check_max_tokens(
        &self,
        model: &Model,
        asked: Option<u64>,
    ) -> Result<(u64, u64), TooManyTokens> {
        let cap = self.completion_cap(model);
        match asked {
            Some(n) if n > cap => Err(TooManyTokens {
                asked: n,
                limit: cap,
            }),
            Some(n) => Ok((n, n)),
            None => Ok((self.gateway.default_max_tokens.min(cap), cap)),
        }
    }

    /// Credits reserved before the upstream is called.
    pub fn reservation(&self, model: &Model, estimate: &Estimate) -> i64 {
        self.cost(model, estimate.usage().total())
    }

    /// Requests an account on `plan` may have open at once.
    pub fn concurrent_requests(&self, plan: &Plan) -> u32 {
        plan.concurrent_requests
            .unwrap_or(self.gateway.concurrent_requests)
            .max(1)
    }

    /// What `ending` is charged (the table of the module doc).
    pub fn charge(&self, model: &Model, estimate: &Estimate, ending: Ending) -> Charge {
        let usage = match ending {
            Ending::Answered { usage: Some(u), .. } => Some(u),
            Ending::Answered {
                usage: None,
                relayed: None,
            } => Some(estimate.usage()),
            Ending::Answered {
                usage: None,
                relayed: Some(n),
            } => Some(estimate.relayed(n)),
            Ending::WrongMode { usage } => Some(usage.unwrap_or_else(|| estimate.usage())),
            Ending::FailedBeforeOutput | Ending::GoneBeforeUpstream => None,
            Ending::BrokenAfterOutput {
                usage: None,
                relayed: 0,
            } => None,
            Ending::BrokenAfterOutput { usage, relayed } => {
                Some(usage.unwrap_or_else(|| estimate.relayed(relayed)))
            }
            Ending::GoneAfterUpstream { relayed } => Some(estimate.relayed(relayed)),
        };
        match usage {
            Some(usage) => Charge {
                usage,
                credits: self.cost(model, usage.total()),
            },
            None => Charge {
                usage: Usage::default(),
                credits: 0,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (Catalog, Model, Estimate) {
        let c = Catalog::builtin();
        let m = c.model("llama3.2:3b").unwrap().clone();
        // 400 bytes → 100 prompt tokens; 1,900 completion tokens at most.
        (c, m, Estimate::new(400, 1_900))
    }

    fn credits(ending: Ending) -> (i64, u64) {
        let (c, m, e) = setup();
        let charge = c.charge(&m, &e, ending);
        (charge.credits, charge.usage.total())
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

    #[test]
    fn huge_token_counts_cost_the_most_never_wrap_to_little() {
        let c = Catalog::builtin();
        let cloud = c.model("qwen3.5:cloud").unwrap();
        assert_eq!(c.cost(cloud, 10u64.pow(16)), 20_000_000_000_000);
        assert_eq!(c.cost(cloud, u64::MAX), 36_893_488_147_419_104);
        let mut absurd = cloud.clone();
        absurd.multiplier = Some(1e300);
        assert_eq!(c.cost(&absurd, u64::MAX), i64::MAX);
        assert_eq!(Usage::new(u64::MAX, u64::MAX).total(), u64::MAX);
    }

    #[test]
    fn a_completion_limit_above_the_models_cap_is_refused() {
        let (c, m, _) = setup();
        assert_eq!(c.completion_cap(&m), 8_192);
        assert_eq!(
            c.check_max_tokens(&m, Some(10u64.pow(16))),
            Err(TooManyTokens {
                asked: 10u64.pow(16),
                limit: 8_192
            })
        );
        assert_eq!(c.check_max_tokens(&m, Some(100)), Ok((100, 100)));
        // Without a limit: the default is reserved, the cap goes upstream.
        assert_eq!(c.check_max_tokens(&m, None), Ok((512, 8_192)));
        let small = c.model("smollm2:135m").unwrap();
        assert_eq!(c.completion_cap(small), 4_096);
        let mut tiny_context = m.clone();
        tiny_context.context_tokens = Some(1_000);
        assert_eq!(c.completion_cap(&tiny_context), 1_000);
    }

    #[test]
    fn the_reservation_covers_the_prompt_estimate_and_the_completion_limit() {
        let (c, m, e) = setup();
        assert_eq!(e.prompt_tokens, 100);
        assert_eq!(c.reservation(&m, &e), 2); // 2,000 tokens at 1.0
    }

    #[test]
    fn plans_name_their_concurrent_requests() {
        let c = Catalog::builtin();
        assert_eq!(c.concurrent_requests(c.plan("basic").unwrap()), 2);
        assert_eq!(c.concurrent_requests(c.plan("enterprise").unwrap()), 8);
        let mut p = c.plan("basic").unwrap().clone();
        p.concurrent_requests = None;
        assert_eq!(c.concurrent_requests(&p), c.gateway.concurrent_requests);
    }

    // One test per row of the table.

    #[test]
    fn answered_with_usage_is_charged_the_usage() {
        let usage = Usage::new(1_500, 1_000);
        let ending = Ending::Answered {
            usage: Some(usage),
            relayed: Some(3),
        };
        assert_eq!(credits(ending), (3, 2_500));
    }

    #[test]
    fn answered_without_usage_not_streamed_is_charged_the_estimate() {
        let ending = Ending::Answered {
            usage: None,
            relayed: None,
        };
        assert_eq!(credits(ending), (2, 2_000));
    }

    #[test]
    fn answered_without_usage_streamed_is_charged_the_prompt_and_what_was_relayed() {
        let ending = Ending::Answered {
            usage: None,
            relayed: Some(1_000),
        };
        assert_eq!(credits(ending), (2, 1_100));
    }

    #[test]
    fn an_answer_in_the_other_mode_is_charged_its_usage_or_the_estimate() {
        let usage = Usage::new(10, 5_000);
        assert_eq!(
            credits(Ending::WrongMode { usage: Some(usage) }),
            (6, 5_010)
        );
        assert_eq!(credits(Ending::WrongMode { usage: None }), (2, 2_000));
    }

    #[test]
    fn a_failure_before_output_costs_nothing() {
        assert_eq!(credits(Ending::FailedBeforeOutput), (0, 0));
    }

    #[test]
    fn a_stream_broken_after_output_is_charged_what_was_generated() {
        let ending = Ending::BrokenAfterOutput {
            usage: None,
            relayed: 1_950,
        };
        assert_eq!(credits(ending), (3, 2_050));
        let reported = Ending::BrokenAfterOutput {
            usage: Some(Usage::new(100, 20)),
            relayed: 1_950,
        };
        assert_eq!(credits(reported), (1, 120));
        // Only empty events (the role chunk) came: no output, nothing charged.
        let empty = Ending::BrokenAfterOutput {
            usage: None,
            relayed: 0,
        };
        assert_eq!(credits(empty), (0, 0));
    }

    #[test]
    fn a_client_gone_before_an_upstream_was_called_pays_nothing() {
        assert_eq!(credits(Ending::GoneBeforeUpstream), (0, 0));
    }

    #[test]
    fn a_client_gone_after_the_upstream_was_called_pays_the_prompt_and_what_it_received() {
        assert_eq!(credits(Ending::GoneAfterUpstream { relayed: 0 }), (1, 100));
        assert_eq!(
            credits(Ending::GoneAfterUpstream { relayed: 2_000 }),
            (3, 2_100)
        );
    }

    #[test]
    fn a_failover_is_billed_at_the_requested_models_rate() {
        // The gateway passes the requested model whoever served it: the local rate here,
        // though the cloud fallback (multiplier 2.0) answered.
        let (c, m, e) = setup();
        let usage = Usage::new(600, 400);
        let charge = c.charge(
            &m,
            &e,
            Ending::Answered {
                usage: Some(usage),
                relayed: None,
            },
        );
        assert_eq!(charge.credits, 1);
        let cloud = c.model(m.cloud_fallback.as_deref().unwrap()).unwrap();
        assert_eq!(c.cost(cloud, 1_000), 2);
    }
}
