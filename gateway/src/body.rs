//! Reading and checking request bodies: size limit (413), JSON object with one meaning
//! (400 naming the key: see [`crate::strict`]), and the fields the gateway itself needs
//! (400 naming the field). The upstream gets the checked object re-serialised, with the
//! model, the completion limit and the usage request the gateway decided
//! ([`for_upstream`]); every other field passes through.
use axum::body::Body;
use axum::http::HeaderMap;
use bytes::Bytes;
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::strict::{self, Problem};

pub type Object = Map<String, Value>;

/// The request fields of the chat and embeddings APIs (OpenAI's and Ollama's): a key that
/// folds to one of these without being it is refused, since Ollama would read it as this.
pub(crate) const REQUEST_FIELDS: &[&str] = &[
    "model",
    "messages",
    "input",
    "stream",
    "stream_options",
    "max_tokens",
    "max_completion_tokens",
    "temperature",
    "top_p",
    "top_k",
    "seed",
    "stop",
    "frequency_penalty",
    "presence_penalty",
    "response_format",
    "tools",
    "tool_choice",
    "reasoning",
    "reasoning_effort",
    "n",
    "user",
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "parallel_tool_calls",
    "dimensions",
    "encoding_format",
    "options",
    "format",
    "think",
    "keep_alive",
    "truncate",
    "suffix",
];
pub(crate) const STREAM_OPTION_FIELDS: &[&str] = &["include_usage", "include_obfuscation"];

fn refuse(p: Problem) -> ApiError {
    match p {
        Problem::Duplicate(key) => ApiError::bad_key(
            &key,
            format!("The key '{key}' appears more than once in one object of the request body. Send each key once."),
        ),
        Problem::CaseTwin { first, second } => ApiError::bad_key(
            &second,
            format!("The keys '{first}' and '{second}' of one object differ only in letter case. Keys are case-sensitive: send one of them."),
        ),
        Problem::CaseVariant { key, field } => ApiError::bad_key(
            &key,
            format!("Unrecognized request argument '{key}'. Keys are case-sensitive: did you mean '{field}'?"),
        ),
    }
}

pub async fn read_object(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<(Bytes, Object), ApiError> {
    let declared = headers
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::too_large(limit));
    }
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(e) => {
            return Err(if is_length_limit(&e) {
                ApiError::too_large(limit)
            } else if is_timeout(&e) {
                ApiError::body_timeout()
            } else {
                ApiError::bad_request(None, "The request body could not be read.")
            });
        }
    };
    let object = match strict::parse(&bytes) {
        Ok(Value::Object(map)) => map,
        Ok(_) => {
            return Err(ApiError::bad_request(
                None,
                "The request body must be a JSON object.",
            ))
        }
        Err(strict::Error::Keys(p)) => return Err(refuse(p)),
        Err(strict::Error::Syntax(e)) => {
            return Err(ApiError::bad_request(
                None,
                format!("We could not parse the JSON body of your request: {e}."),
            ))
        }
    };
    strict::check_fields(&object, REQUEST_FIELDS).map_err(refuse)?;
    if let Some(Value::Object(options)) = object.get("stream_options") {
        strict::check_fields(options, STREAM_OPTION_FIELDS).map_err(refuse)?;
    }
    Ok((bytes, object))
}

/// True when reading stopped at the size limit (the error's cause, at any depth).
fn is_length_limit(e: &axum::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if c.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        cause = c.source();
    }
    false
}

/// True when the body stopped arriving in time (the server's body deadline ends it with an
/// I/O time-out).
fn is_timeout(e: &axum::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
        {
            return true;
        }
        cause = c.source();
    }
    false
}

/// The `model` field: required, a non-empty string.
pub fn model(body: &Object) -> Result<String, ApiError> {
    match body.get("model") {
        Some(Value::String(m)) if !m.trim().is_empty() => Ok(m.clone()),
        None | Some(Value::Null) => Err(ApiError::bad_request(
            Some("model"),
            "You must provide a model parameter.",
        )),
        Some(_) => Err(ApiError::bad_request(
            Some("model"),
            "'model' must be a non-empty string.",
        )),
    }
}

/// What a chat request asks for, beyond what passes through.
pub struct Chat {
    pub model: String,
    pub stream: bool,
    pub client_wants_usage: bool,
    pub max_tokens: Option<u64>,
}

pub fn chat(body: &Object) -> Result<Chat, ApiError> {
    let model = model(body)?;
    match body.get("messages") {
        Some(Value::Array(m)) if !m.is_empty() => {}
        None | Some(Value::Null) => {
            return Err(ApiError::bad_request(
                Some("messages"),
                "'messages' is a required property.",
            ))
        }
        Some(_) => {
            return Err(ApiError::bad_request(
                Some("messages"),
                "'messages' must be a non-empty array.",
            ))
        }
    }
    let stream = match body.get("stream") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(ApiError::bad_request(
                Some("stream"),
                "'stream' must be a boolean.",
            ))
        }
    };
    // Ollama reads only `max_tokens`; the upstream gets the smaller of the two limits
    // there ([`for_upstream`]).
    let mut max_tokens: Option<u64> = None;
    for field in ["max_completion_tokens", "max_tokens"] {
        match body.get(field) {
            None | Some(Value::Null) => {}
            Some(v) => match v.as_u64() {
                Some(n) => max_tokens = Some(max_tokens.map_or(n, |m| m.min(n))),
                None => {
                    let param = if field == "max_tokens" {
                        "max_tokens"
                    } else {
                        "max_completion_tokens"
                    };
                    return Err(ApiError::bad_request(
                        Some(param),
                        format!("'{field}' must be a non-negative integer."),
                    ));
                }
            },
        }
    }
    let client_wants_usage = body
        .get("stream_options")
        .and_then(|o| o.get("include_usage"))
        .and_then(Value::as_bool)
        == Some(true);
    Ok(Chat {
        model,
        stream,
        client_wants_usage,
        max_tokens,
    })
}

/// What the gateway decided about a request, written into the body the upstream gets.
pub struct Decided<'a> {
    /// The upstream's name of the model.
    pub model: &'a str,
    /// Ask for `stream_options.include_usage` (streams).
    pub ask_usage: bool,
    /// The completion limit (chat): the upstream must not generate more.
    pub max_tokens: Option<u64>,
}

/// The body for the upstream: the checked object re-serialised with what the gateway
/// decided, so the upstream cannot read anything else into it (keys are unique and in
/// their exact case after [`read_object`]).
pub fn for_upstream(body: &mut Object, decided: &Decided<'_>) -> Bytes {
    body.insert("model".into(), Value::String(decided.model.to_owned()));
    if let Some(n) = decided.max_tokens {
        body.remove("max_completion_tokens");
        body.insert("max_tokens".into(), Value::from(n));
    }
    if decided.ask_usage {
        let options = body
            .entry("stream_options")
            .or_insert_with(|| Value::Object(Map::new()));
        if !options.is_object() {
            *options = Value::Object(Map::new());
        }
        if let Some(o) = options.as_object_mut() {
            o.insert("include_usage".into(), Value::Bool(true));
        }
    }
    serde_json::to_vec(body)
        .map(Bytes::from)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Object {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn missing_or_malformed_fields_are_named() {
        let e = chat(&obj(json!({"messages": [{"role": "user"}]})))
            .err()
            .unwrap();
        assert_eq!(e.body()["error"]["param"], "model");
        let e = chat(&obj(json!({"model": "m"}))).err().unwrap();
        assert_eq!(e.body()["error"]["param"], "messages");
        let e = chat(&obj(
            json!({"model": "m", "messages": [{}], "max_tokens": -1}),
        ))
        .err()
        .unwrap();
        assert_eq!(e.body()["error"]["param"], "max_tokens");
        let ok = chat(&obj(json!({"model": "m", "messages": [{}], "stream": true,
            "stream_options": {"include_usage": true}, "max_tokens": 7})))
        .ok()
        .unwrap();
        assert!(ok.stream && ok.client_wants_usage);
        assert_eq!(ok.max_tokens, Some(7));
    }

    #[test]
    fn the_upstream_gets_what_the_gateway_decided_and_unknown_fields() {
        let original = Bytes::from_static(
            br#"{"model":"m:cloud","messages":[],"x_custom":1,"max_completion_tokens":9}"#,
        );
        let mut body: Object = serde_json::from_slice(&original).unwrap();
        let out = for_upstream(
            &mut body,
            &Decided {
                model: "m",
                ask_usage: true,
                max_tokens: Some(9),
            },
        );
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["x_custom"], 1);
        assert_eq!(v["model"], "m");
        assert_eq!(v["max_tokens"], 9);
        assert!(v.get("max_completion_tokens").is_none());
        assert_eq!(v["stream_options"]["include_usage"], true);
    }

    #[tokio::test]
    async fn a_body_that_timed_out_is_408_and_a_broken_one_400() {
        let timed_out = futures::stream::iter([
            Ok(Bytes::from_static(b"{\"model\"")),
            Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "slow")),
        ]);
        let e = read_object(&HeaderMap::new(), Body::from_stream(timed_out), 1 << 20)
            .await
            .err()
            .unwrap();
        assert_eq!(e.status.as_u16(), 408);
        let broken = futures::stream::iter([Err::<Bytes, _>(std::io::Error::other("reset"))]);
        let e = read_object(&HeaderMap::new(), Body::from_stream(broken), 1 << 20)
            .await
            .err()
            .unwrap();
        assert_eq!(e.status.as_u16(), 400);
    }

    #[test]
    fn the_smaller_of_two_completion_limits_counts() {
        let c = chat(&obj(json!({"model": "m", "messages": [{}],
            "max_tokens": 5000, "max_completion_tokens": 7})))
        .ok()
        .unwrap();
        assert_eq!(c.max_tokens, Some(7));
    }
}
