//! The playground (`/playground`): chat with the models of the account's plan, streamed
//! token by token from `POST /playground/chat` — the gateway's own chat completion,
//! metered and charged exactly like the API, for the signed-in session (no key). Each
//! answer shows its cost (read from its usage row) and the same request as curl / Python.
use leptos::either::EitherOf3;
use leptos::prelude::*;

use crate::api::playground::{playground_cost, playground_info, AnswerCost, PlaygroundModel};
use crate::components::{island_hydrated, load_error, to_login};
use crate::dto::AppError;
use crate::i18n::{self, fmt_int, use_lang, Lang};

/// Where the playground posts (same origin, the session cookie).
const CHAT_URL: &str = "/playground/chat";

#[component]
pub fn Playground() -> impl IntoView {
    let lang = use_lang();
    let t = i18n::Playground::of(lang);
    let c = i18n::Common::of(lang);
    let info = Resource::new(|| (), |_| playground_info());
    view! {
        <section class="page-head">
            <h1>{t.title}</h1>
        </section>
        <p class="muted">{t.intro}</p>
        <Transition fallback=move || view! { <p class="muted">{c.loading}</p> }>
            {move || {
                info.get()
                    .map(|r| match r {
                        Ok(i) => view! { <PlaygroundChat lang=lang models=i.models base_url=i.base_url/> }.into_any(),
                        Err(AppError::Unauthorized) => to_login("/playground"),
                        Err(e) => load_error(&e),
                    })
            }}
        </Transition>
    }
}

/// One message of the conversation.
#[derive(Clone, Debug, PartialEq)]
struct Turn {
    user: bool,
    content: String,
    /// The answer's cost: None while it is read, Some(None) when it could not be read.
    cost: Option<Option<AnswerCost>>,
}

/// What the chat request sends, kept to show it as curl / Python.
#[derive(Clone, Debug, PartialEq)]
struct Sent {
    model: String,
    max_tokens: u64,
    /// The `messages` array, as JSON.
    messages: serde_json::Value,
}

#[island(lazy)]
fn PlaygroundChat(lang: Lang, models: Vec<PlaygroundModel>, base_url: String) -> impl IntoView {
    provide_context(lang);
    island_hydrated();
    let t = i18n::Playground::of(lang);
    let c = i18n::Common::of(lang);
    let first = models
        .iter()
        .find(|m| m.allowed)
        .or(models.first())
        .map(|m| m.id.clone())
        .unwrap_or_default();
    let model = RwSignal::new(first);
    let max_tokens = RwSignal::new(String::from("512"));
    let input = RwSignal::new(String::new());
    let turns = RwSignal::new(Vec::<Turn>::new());
    let streaming = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<&'static str>);
    let sent = RwSignal::new(None::<Sent>);
    let has_models = !models.is_empty();

    let send = move || {
        if streaming.get_untracked().is_some() {
            return;
        }
        let text = input.get_untracked().trim().to_owned();
        if text.is_empty() {
            error.set(Some(t.empty_input));
            return;
        }
        let max = max_tokens
            .get_untracked()
            .trim()
            .parse::<u64>()
            .unwrap_or(512)
            .max(1);
        let mut messages: Vec<serde_json::Value> = turns
            .get_untracked()
            .iter()
            .map(|m| {
                serde_json::json!({
                    "role": if m.user { "user" } else { "assistant" },
                    "content": m.content,
                })
            })
            .collect();
        messages.push(serde_json::json!({ "role": "user", "content": text }));
        let model_id = model.get_untracked();
        let body = serde_json::json!({
            "model": model_id,
            "messages": messages,
            "max_tokens": max,
            "stream": true,
            "stream_options": { "include_usage": true },
        })
        .to_string();
        sent.set(Some(Sent {
            model: model_id,
            max_tokens: max,
            messages: serde_json::Value::Array(messages),
        }));
        turns.update(|v| {
            v.push(Turn {
                user: true,
                content: text,
                cost: None,
            })
        });
        input.set(String::new());
        error.set(None);
        streaming.set(Some(String::new()));
        leptos::task::spawn_local(async move {
            let ended = chat::stream(CHAT_URL, &body, move |piece| {
                streaming.update(|s| {
                    if let Some(s) = s {
                        s.push_str(piece);
                    }
                })
            })
            .await;
            let answer = streaming.get_untracked().unwrap_or_default();
            streaming.set(None);
            match ended {
                Ok(done) => {
                    if let Some(code) = done.broken {
                        error.set(Some(explain(t, &code)));
                    }
                    let index = turns.with_untracked(Vec::len);
                    turns.update(|v| {
                        v.push(Turn {
                            user: false,
                            content: answer,
                            cost: None,
                        })
                    });
                    let cost = match done.request_id {
                        Some(id) => playground_cost(id).await.ok().flatten(),
                        None => None,
                    };
                    turns.update(|v| {
                        if let Some(turn) = v.get_mut(index) {
                            turn.cost = Some(cost);
                        }
                    });
                }
                Err(code) => {
                    if code == "not_signed_in" {
                        if let Some(w) = web_sys::window() {
                            let _ = w.location().assign("/login?next=/playground");
                        }
                    }
                    error.set(Some(explain(t, &code)));
                    // The question stays in the box, to send again.
                    turns.update(|v| {
                        if let Some(last) = v.pop() {
                            input.set(last.content);
                        }
                    });
                }
            }
        });
    };

    let options = models
        .iter()
        .map(|m| {
            let label = match &m.needs_plan {
                None => m.id.clone(),
                Some(p) => format!("{} — {} {}", m.id, t.needs_plan, c.plan_name(p)),
            };
            view! { <option value=m.id.clone() data-allowed=m.allowed.to_string()>{label}</option> }
        })
        .collect_view();

    let conversation = view! {
            <div class="conversation" aria-live="polite" data-testid="conversation">
                <For
                    each=move || turns.get().into_iter().enumerate()
                    key=|(i, turn)| (*i, turn.cost.clone().map(|c| c.map(|c| c.credits)))
                    children=move |(_, turn)| view! { <Message lang=lang turn=turn/> }
                />
                {move || {
                    streaming
                        .get()
                        .map(|s| {
                            view! {
                                <div class="msg assistant streaming" data-testid="streaming">
                                    <p class="who">{t.assistant}</p>
                                    <p class="content">{s}<span class="cursor" aria-hidden="true">"▍"</span></p>
                                </div>
                            }
                        })
                }}
            </div>
    };
    let composer = view! {
            <form
                class="composer"
                on:submit=move |ev| {
                    ev.prevent_default();
                    send();
                }
            >
                <div class="composer-options">
                    <label>
                        <span>{t.model}</span>
                        <select
                            data-testid="model"
                            prop:value=move || model.get()
                            on:change=move |ev| model.set(event_target_value(&ev))
                        >
                            {options}
                        </select>
                    </label>
                    <label>
                        <span>{t.max_tokens}</span>
                        <input
                            type="number"
                            min="1"
                            inputmode="numeric"
                            data-testid="max-tokens"
                            prop:value=move || max_tokens.get()
                            on:input=move |ev| max_tokens.set(event_target_value(&ev))
                        />
                    </label>
                </div>
                <label class="composer-text">
                    <span class="sr-only">{t.message}</span>
                    <textarea
                        rows="3"
                        placeholder=t.placeholder
                        data-testid="prompt"
                        prop:value=move || input.get()
                        on:input=move |ev| input.set(event_target_value(&ev))
                    ></textarea>
                </label>
                <div class="composer-actions">
                    <button type="submit" class="button" data-testid="send" disabled=move || streaming.get().is_some()>
                        {move || if streaming.get().is_some() { t.sending } else { t.send }}
                    </button>
                    <button
                        type="button"
                        class="button secondary"
                        disabled=move || streaming.get().is_some()
                        on:click=move |_| {
                            turns.set(Vec::new());
                            sent.set(None);
                            error.set(None);
                        }
                    >
                        {t.clear}
                    </button>
                </div>
            </form>
    };
    view! {
        <section class="card playground" data-testid="playground">
            {(!has_models).then(|| view! { <p class="muted">{t.no_models}</p> })}
            {conversation}
            {move || error.get().map(|e| view! { <p class="form-error" role="alert" data-testid="playground-error">{e}</p> })}
            {composer}
        </section>
        {move || sent.get().map(|s| view! { <CodeSamples lang=lang sent=s base_url=base_url.clone()/> })}
    }
}

#[component]
fn Message(lang: Lang, turn: Turn) -> impl IntoView {
    let t = i18n::Playground::of(lang);
    let class = if turn.user {
        "msg user"
    } else {
        "msg assistant"
    };
    let cost = (!turn.user).then(|| match turn.cost {
        None => EitherOf3::A(view! { <p class="cost muted">{t.cost_pending}</p> }),
        Some(None) => EitherOf3::B(()),
        Some(Some(c)) => EitherOf3::C(view! {
            <p class="cost muted" data-testid="answer-cost" data-credits=c.credits>
                <span class="nowrap">{t.cost} ": " <strong>{fmt_int(lang, c.credits)}</strong> " " {t.credits}</span>
                " · "
                <span class="nowrap">{fmt_int(lang, c.prompt_tokens)} " " {t.tokens_in}</span>
                " · "
                <span class="nowrap">{fmt_int(lang, c.completion_tokens)} " " {t.tokens_out}</span>
                " · "
                <span class="nowrap">{t.balance} ": " <span data-testid="balance-after">{fmt_int(lang, c.balance)}</span></span>
            </p>
        }),
    });
    view! {
        <div class=class data-testid=if turn.user { "msg-user" } else { "msg-assistant" }>
            <p class="who">{if turn.user { t.you } else { t.assistant }}</p>
            <p class="content" dir="auto">{turn.content}</p>
            {cost}
        </div>
    }
}

/// The request just sent, as curl and as the official Python SDK would send it to `/v1`
/// with a key (a placeholder: keys are created on `/keys`).
#[component]
fn CodeSamples(lang: Lang, sent: Sent, base_url: String) -> impl IntoView {
    let t = i18n::Playground::of(lang);
    let (curl, python) = code_samples(&sent, &base_url);
    view! {
        <section class="card code-samples" data-testid="code-samples">
            <h2>{t.code_title}</h2>
            <p class="muted">{t.code_hint}</p>
            <h3>"curl"</h3>
            <pre dir="ltr"><code data-testid="curl">{curl}</code></pre>
            <h3>"Python"</h3>
            <pre dir="ltr"><code data-testid="python">{python}</code></pre>
        </section>
    }
}

fn code_samples(sent: &Sent, base_url: &str) -> (String, String) {
    let body = serde_json::json!({
        "model": sent.model,
        "messages": sent.messages,
        "max_tokens": sent.max_tokens,
        "stream": true,
    });
    let body = serde_json::to_string_pretty(&body)
        .unwrap_or_default()
        .replace('\'', "'\\''");
    let curl = format!(
        "curl {base_url}/v1/chat/completions \\\n  -H \"Authorization: Bearer $RESAYIL_API_KEY\" \\\n  -H \"Content-Type: application/json\" \\\n  -d '{body}'"
    );
    let messages = serde_json::to_string_pretty(&sent.messages).unwrap_or_default();
    let model = serde_json::Value::String(sent.model.clone());
    let python = format!(
        "from openai import OpenAI\n\nclient = OpenAI(base_url=\"{base_url}/v1\", api_key=\"YOUR_RESAYIL_API_KEY\")\nstream = client.chat.completions.create(\n    model={model},\n    messages={messages},\n    max_tokens={},\n    stream=True,\n)\nfor chunk in stream:\n    if chunk.choices:\n        print(chunk.choices[0].delta.content or \"\", end=\"\")\n",
        sent.max_tokens
    );
    (curl, python)
}

/// The words for a gateway error code.
fn explain(t: &'static i18n::Playground, code: &str) -> &'static str {
    match code {
        "not_signed_in" | "invalid_api_key" => t.err_signed_out,
        "model_not_in_plan" => t.err_plan,
        "model_not_found" => t.err_model,
        "insufficient_credits" => t.err_credits,
        "rate_limit_exceeded" | "concurrency_limit_exceeded" => t.err_rate,
        "request_too_large" => t.err_too_large,
        "max_tokens_too_large" => t.err_max_tokens,
        "overloaded" | "upstream_unavailable" | "cloud_budget_exhausted" | "cloud_unavailable" => {
            t.err_busy
        }
        "upstream_stream_broken" => t.err_broken,
        _ => t.err_other,
    }
}

/// The streamed POST, in the browser: `fetch` and the body's reader through js-sys (no
/// extra web-sys features), SSE events cut at empty lines.
mod chat {
    /// How a stream that started ended.
    pub struct Done {
        /// `x-request-id`: the answer's usage row.
        pub request_id: Option<String>,
        /// The error code of a stream that broke after it started.
        pub broken: Option<String>,
    }

    /// Posts `body` and calls `on_text` with each piece of the answer. `Err(code)`: the
    /// request was refused (the gateway's error code, or "network").
    #[cfg(feature = "hydrate")]
    pub async fn stream(url: &str, body: &str, on_text: impl Fn(&str)) -> Result<Done, String> {
        imp::stream(url, body, &on_text)
            .await
            .unwrap_or_else(|_| Err("network".to_owned()))
    }

    #[cfg(not(feature = "hydrate"))]
    pub async fn stream(_url: &str, _body: &str, _on_text: impl Fn(&str)) -> Result<Done, String> {
        Err("network".to_owned())
    }

    /// The error code of an OpenAI-shaped error body.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    pub fn error_code(body: &str) -> String {
        serde_json::from_str::<serde_json::Value>(body)
            .ok()
            .and_then(|v| {
                let e = v.get("error")?;
                e.get("code")
                    .and_then(|c| c.as_str())
                    .or_else(|| e.get("type").and_then(|c| c.as_str()))
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| "error".to_owned())
    }

    /// Applies one SSE event's data; true at `[DONE]`.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    pub fn apply(data: &str, on_text: &dyn Fn(&str), broken: &mut Option<String>) -> bool {
        if data == "[DONE]" {
            return true;
        }
        let Ok(v) = serde_json::from_str::<serde_json::Value>(data) else {
            return false;
        };
        if v.get("error").is_some() {
            *broken = Some(error_code(data));
            return false;
        }
        if let Some(text) = v
            .pointer("/choices/0/delta/content")
            .and_then(|c| c.as_str())
        {
            if !text.is_empty() {
                on_text(text);
            }
        }
        false
    }

    /// Takes the complete events (ending at an empty line) off the front of `buf` and
    /// gives the data of each.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    pub fn events(buf: &mut Vec<u8>, mut each: impl FnMut(&str) -> bool) -> bool {
        // Line ends may be \r\n or \r: JSON escapes them inside strings, so raw ones
        // only end lines.
        loop {
            let text_end = buf.windows(2).position(|w| w == b"\n\n");
            let Some(end) = text_end else { return false };
            let event: Vec<u8> = buf.drain(..end + 2).collect();
            let event = String::from_utf8_lossy(&event);
            for line in event.lines() {
                if let Some(data) = line.strip_prefix("data:") {
                    if each(data.trim_start()) {
                        return true;
                    }
                }
            }
        }
    }

    #[cfg(feature = "hydrate")]
    mod imp {
        use js_sys::{Function, Object, Promise, Reflect, Uint8Array};
        use wasm_bindgen::{JsCast, JsValue};
        use wasm_bindgen_futures::JsFuture;

        use super::{apply, error_code, events, Done};

        fn get(o: &JsValue, k: &str) -> Result<JsValue, JsValue> {
            Reflect::get(o, &JsValue::from_str(k))
        }

        fn set(o: &JsValue, k: &str, v: &JsValue) -> Result<(), JsValue> {
            Reflect::set(o, &JsValue::from_str(k), v).map(|_| ())
        }

        async fn call(o: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
            let f: Function = get(o, method)?.dyn_into()?;
            let out = match args {
                [] => f.call0(o)?,
                [a] => f.call1(o, a)?,
                [a, b, ..] => f.call2(o, a, b)?,
            };
            match out.dyn_into::<Promise>() {
                Ok(p) => JsFuture::from(p).await,
                Err(v) => Ok(v),
            }
        }

        pub async fn stream(
            url: &str,
            body: &str,
            on_text: &dyn Fn(&str),
        ) -> Result<Result<Done, String>, JsValue> {
            let global = js_sys::global();
            let headers = Object::new();
            set(&headers, "content-type", &"application/json".into())?;
            set(&headers, "accept", &"text/event-stream".into())?;
            let init = Object::new();
            set(&init, "method", &"POST".into())?;
            set(&init, "body", &body.into())?;
            set(&init, "headers", &headers)?;
            set(&init, "credentials", &"same-origin".into())?;
            let res = call(&global, "fetch", &[url.into(), init.into()]).await?;
            let status = get(&res, "status")?.as_f64().unwrap_or(0.0) as u16;
            let res_headers = get(&res, "headers")?;
            let request_id = call(&res_headers, "get", &["x-request-id".into()])
                .await?
                .as_string();
            if status != 200 {
                let text = call(&res, "text", &[])
                    .await?
                    .as_string()
                    .unwrap_or_default();
                return Ok(Err(error_code(&text)));
            }
            let reader = call(&get(&res, "body")?, "getReader", &[]).await?;
            let mut buf = Vec::new();
            let mut broken = None;
            loop {
                let chunk = call(&reader, "read", &[]).await?;
                if get(&chunk, "done")?.as_bool().unwrap_or(true) {
                    break;
                }
                let bytes = Uint8Array::new(&get(&chunk, "value")?).to_vec();
                buf.extend(bytes.into_iter().filter(|b| *b != b'\r'));
                if events(&mut buf, |data| apply(data, on_text, &mut broken)) {
                    break;
                }
            }
            Ok(Ok(Done { request_id, broken }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_cut_at_empty_lines_and_done_ends() {
        let mut buf = b"data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\ndata: {\"choices\":[{\"delta\":{\"content\":\" there\"}}]}\n\ndata: [DO".to_vec();
        let out = std::cell::RefCell::new(String::new());
        let mut broken = None;
        let push = |s: &str| out.borrow_mut().push_str(s);
        assert!(!chat::events(&mut buf, |d| chat::apply(
            d,
            &push,
            &mut broken
        )));
        assert_eq!(*out.borrow(), "Hi there");
        buf.extend_from_slice(b"NE]\n\n");
        assert!(chat::events(&mut buf, |d| chat::apply(
            d,
            &push,
            &mut broken
        )));
        assert!(broken.is_none());
    }

    #[test]
    fn a_broken_stream_gives_its_code() {
        let mut buf = b"data: {\"error\":{\"code\":\"upstream_stream_broken\"}}\n\n".to_vec();
        let mut broken = None;
        chat::events(&mut buf, |d| chat::apply(d, &|_| {}, &mut broken));
        assert_eq!(broken.as_deref(), Some("upstream_stream_broken"));
        assert_eq!(chat::error_code("not json"), "error");
    }

    #[test]
    fn code_samples_quote_the_body_for_the_shell() {
        let sent = Sent {
            model: "llama3.2:3b".into(),
            max_tokens: 64,
            messages: serde_json::json!([{"role": "user", "content": "it's"}]),
        };
        let (curl, python) = code_samples(&sent, "https://api.example");
        assert!(curl.contains("https://api.example/v1/chat/completions"));
        assert!(curl.contains("it'\\''s"));
        assert!(python.contains("model=\"llama3.2:3b\""));
        assert!(python.contains("base_url=\"https://api.example/v1\""));
    }
}
