//! The API documentation (`/docs`), in both languages: quickstart, authentication, models
//! and plans, pricing, streaming, errors, limits, failover and the SDKs known to work. The
//! numbers (plans, limits, caps) and the models come from the catalog tables, the examples
//! use `PUBLIC_BASE_URL`, and the machine-readable spec is `/openapi.json`.
use leptos::prelude::*;

use crate::api::landing::load_public_catalog;
use crate::components::{examples, load_error, CodeBlock, CopyScript, PublicFooter, SeoHead};
use crate::dto::PublicCatalog;
use crate::i18n::{self, fmt_int, use_lang, Lang};
use crate::pages::landing::ModelList;

#[component]
pub fn Docs() -> impl IntoView {
    let lang = use_lang();
    let t = i18n::Docs::of(lang);
    view! {
        <SeoHead lang=lang path="/docs" title=t.meta_title description=t.meta_description/>
        // Awaited on the server (the route is `SsrMode::Async`) and not kept in the page
        // for hydration: nothing of this page runs in the browser.
        <Suspense fallback=|| ()>
            {Suspend::new(async move {
                match load_public_catalog().await {
                    Ok(v) => view! { <DocsBody lang=lang v=v/> }.into_any(),
                    Err(e) => load_error(&e),
                }
            })}
        </Suspense>
        <PublicFooter lang=lang/>
        <CopyScript/>
    }
}

#[component]
fn DocsBody(lang: Lang, v: PublicCatalog) -> impl IntoView {
    let t = i18n::Docs::of(lang);
    let c = i18n::Common::of(lang);
    let q = lang.code();
    let base = v.base_url.clone();
    let sections = [
        ("quickstart", t.quickstart),
        ("auth", t.auth),
        ("models", t.models),
        ("pricing", t.pricing),
        ("streaming", t.streaming),
        ("errors", t.errors),
        ("limits", t.limits),
        ("failover", t.failover),
        ("sdks", t.sdks),
    ];
    // (status, code, when, what to do)
    let errors: [(&str, &str, &str, &str); 19] = [
        ("400", "null", t.e400_when, t.e400_todo),
        ("400", "invalid_request_body", t.e400b_when, t.e400b_todo),
        ("400", "max_tokens_too_large", t.e400c_when, t.e400c_todo),
        ("401", "invalid_api_key", t.e401_when, t.e401_todo),
        ("402", "insufficient_credits", t.e402_when, t.e402_todo),
        ("403", "model_not_in_plan", t.e403_when, t.e403_todo),
        ("404", "model_not_found", t.e404_when, t.e404_todo),
        ("404", "unknown_url", t.e404b_when, t.e404b_todo),
        ("408", "request_timeout", t.e408_when, t.e408_todo),
        ("413", "request_too_large", t.e413_when, t.e413_todo),
        ("429", "rate_limit_exceeded", t.e429_when, t.e429_todo),
        (
            "429",
            "concurrency_limit_exceeded",
            t.e429b_when,
            t.e429b_todo,
        ),
        ("500", "null", t.e500_when, t.e500_todo),
        (
            "502",
            "upstream_error, upstream_wrong_mode",
            t.e502_when,
            t.e502_todo,
        ),
        ("503", "overloaded", t.e503a_when, t.e503_todo),
        ("503", "upstream_unavailable", t.e503b_when, t.e503_todo),
        ("503", "cloud_budget_exhausted", t.e503c_when, t.e503c_todo),
        ("503", "cloud_unavailable", t.e503d_when, t.e503d_todo),
        ("4xx", "null", t.eup_when, t.eup_todo),
    ];
    let headers = [
        ("x-request-id", t.h_request_id),
        ("x-ratelimit-limit-requests", t.h_limit),
        ("x-ratelimit-remaining-requests", t.h_remaining),
        ("x-ratelimit-reset-requests", t.h_reset),
        ("retry-after", t.h_retry),
        ("x-should-retry", t.h_should_retry),
    ];
    let stream = format!(
        "curl -N {base}/v1/chat/completions \\\n  -H \"Authorization: Bearer $RESAYIL_API_KEY\" \\\n  -H \"Content-Type: application/json\" \\\n  -d '{{\"model\": \"{m}\", \"stream\": true, \"stream_options\": {{\"include_usage\": true}},\n       \"messages\": [{{\"role\": \"user\", \"content\": \"Hello\"}}]}}'\n\ndata: {{\"id\":\"chatcmpl-…\",\"object\":\"chat.completion.chunk\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"Hi\"}}}}]}}\n…\ndata: {{\"id\":\"chatcmpl-…\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":{{\"prompt_tokens\":9,\"completion_tokens\":12,\"total_tokens\":21}}}}\n\ndata: [DONE]",
        m = v.example_model
    );
    let models_call =
        format!("curl {base}/v1/models -H \"Authorization: Bearer $RESAYIL_API_KEY\"");
    let langchain = format!(
        "# pip install langchain-openai\nimport os\nfrom langchain_openai import ChatOpenAI\n\nllm = ChatOpenAI(base_url=\"{base}/v1\", api_key=os.environ[\"RESAYIL_API_KEY\"], model=\"{m}\")\nprint(llm.invoke(\"مرحبا\").content)",
        m = v.example_model
    );
    let error_example = "{\n  \"error\": {\n    \"message\": \"Your credit balance is too low for this request. Top up at …/billing\",\n    \"type\": \"insufficient_quota\",\n    \"param\": null,\n    \"code\": \"insufficient_credits\",\n    \"top_up_url\": \"…/billing\"\n  }\n}".replace('…', &base);
    view! {
        <article class="docs">
            <h1>{t.title}</h1>
            <p>{t.intro} " " <a href="/openapi.json" data-testid="openapi-link">"/openapi.json"</a></p>
            <nav aria-labelledby="toc">
                <h2 id="toc">{t.contents}</h2>
                <ul>
                    {sections.into_iter().map(|(id, title)| view! {
                        <li><a href=format!("#{id}")>{title}</a></li>
                    }).collect_view()}
                </ul>
            </nav>

            <section id="quickstart">
                <h2>{t.quickstart}</h2>
                <ol>
                    <li><a href=format!("/register?lang={q}")>{t.qs_1}</a></li>
                    <li><a href="/keys">{t.qs_2}</a></li>
                    <li>{t.qs_3}</li>
                </ol>
                {examples(&base, &v.example_model).into_iter().map(|(id, title, code)| view! {
                    <CodeBlock id=format!("docs-{id}") title=title code=code lang=lang/>
                }).collect_view()}
            </section>

            <section id="auth">
                <h2>{t.auth}</h2>
                <p>{t.auth_body}</p>
                <CodeBlock id="docs-models".to_owned() title="GET /v1/models" code=models_call lang=lang/>
            </section>

            <section id="models">
                <h2>{t.models}</h2>
                <p>{t.models_body}</p>
                <div class="grid">
                    {v.plans.iter().cloned().map(|p| view! {
                        <article class="card plan" data-testid=format!("docs-plan-{}", p.id)>
                            <h3>{c.plan_name(&p.id)} " — " <bdi>{p.price}</bdi></h3>
                            <ModelList lang=lang models=p.models/>
                        </article>
                    }).collect_view()}
                </div>
            </section>

            <section id="pricing">
                <h2>{t.pricing}</h2>
                <p>{t.pricing_formula}</p>
                <p>{t.pricing_reserve}</p>
                <p>{t.default_max_tokens} " " {fmt_int(lang, v.default_max_tokens as i64)}</p>
                <p>{t.pricing_endings}</p>
            </section>

            <section id="streaming">
                <h2>{t.streaming}</h2>
                <p>{t.streaming_body}</p>
                <CodeBlock id="docs-stream".to_owned() title="SSE" code=stream lang=lang/>
            </section>

            <section id="errors">
                <h2>{t.errors}</h2>
                <p>{t.errors_body}</p>
                <CodeBlock id="docs-error".to_owned() title="402" code=error_example lang=lang/>
                <div class="table-wrap">
                    <table class="table" data-testid="error-table">
                        <thead><tr><th>{t.col_status}</th><th>{t.col_code}</th><th>{t.col_when}</th><th>{t.col_todo}</th></tr></thead>
                        <tbody>
                            {errors.into_iter().map(|(status, code, when, todo)| view! {
                                <tr><td>{status}</td><td><code>{code}</code></td><td>{when}</td><td>{todo}</td></tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
                <p class="muted">{t.max_body} " " {fmt_int(lang, v.max_body_bytes as i64)}</p>
            </section>

            <section id="limits">
                <h2>{t.limits}</h2>
                <p>{t.limits_body}</p>
                <div class="table-wrap">
                    <table class="table">
                        <tbody>
                            {headers.into_iter().map(|(name, what)| view! {
                                <tr><td><code>{name}</code></td><td>{what}</td></tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
                <div class="table-wrap">
                    <table class="table">
                        <thead><tr><th>{t.col_plan}</th><th>{t.col_rpm}</th><th>{t.col_open}</th></tr></thead>
                        <tbody>
                            {v.plans.iter().map(|p| view! {
                                <tr>
                                    <td>{c.plan_name(&p.id)}</td>
                                    <td>{fmt_int(lang, p.requests_per_minute.into())}</td>
                                    <td>{fmt_int(lang, p.concurrent_requests.into())}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            </section>

            <section id="failover">
                <h2>{t.failover}</h2>
                <p>{t.failover_body}</p>
                <ul>
                    <li>{t.cloud_cap} " " {fmt_int(lang, v.cloud_daily_cap as i64)}</li>
                    <li>{t.failover_depth} " " {fmt_int(lang, v.queue_failover_depth as i64)}</li>
                    <li>{t.wait_timeout} " " {fmt_int(lang, v.wait_timeout_secs as i64)}</li>
                </ul>
            </section>

            <section id="sdks">
                <h2>{t.sdks}</h2>
                <p>{t.sdks_body}</p>
                <CodeBlock id="docs-langchain".to_owned() title="LangChain" code=langchain lang=lang/>
            </section>
        </article>
    }
}
