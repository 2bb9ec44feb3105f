//! Reading and checking request bodies: size limit (413), JSON object with one meaning
//! (400 naming the key: see [`crate::strict`]), and the fields the gateway itself needs
//! (400 naming the field). The upstream gets the checked object rewritten, with the
//! model, the completion limit and the usage request the gateway decided
//! ([`for_upstream`]); every other top-level field passes through as the client wrote it.
use std::io::Write as _;

use axum::body::Body;
use axum::http::HeaderMap;
use bytes::Bytes;
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::strict::{self, Field, Problem};

/// A checked request body: its text, and its top-level fields in the order written (keys
/// unique and in their exact case, every object inside checked: [`read_object`]).
#[derive(Debug, Clone)]
pub struct Object {
    text: Bytes,
    fields: Vec<Field>,
}

impl Object {
    /// Checks `text` as [`read_object`] does.
    pub fn parse(text: Bytes) -> Result<Self, ApiError> {
        let fields = match strict::parse_object(&text) {
            Ok(fields) => fields,
            Err(strict::Error::NotObject) => {
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
        let object = Self { text, fields };
        strict::check_fields(object.keys(), REQUEST_FIELDS).map_err(refuse)?;
        if let Some(Value::Object(options)) = object.get("stream_options") {
            strict::check_fields(options.keys().map(String::as_str), STREAM_OPTION_FIELDS)
                .map_err(refuse)?;
        }
        Ok(object)
    }

    /// The body as received.
    pub fn text(&self) -> &Bytes {
        &self.text
    }

    /// The top-level keys, in the order written.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|f| f.key(&self.text))
    }

    /// The JSON text of a top-level field, as the client wrote it.
    pub fn raw(&self, key: &str) -> Option<&[u8]> {
        let f = self.fields.iter().find(|f| f.key_is(&self.text, key))?;
        self.text.get(f.value.clone())
    }

    /// A top-level field's value, built (for the small fields the gateway reads).
    pub fn get(&self, key: &str) -> Option<Value> {
        serde_json::from_slice(self.raw(key)?).ok()
    }

    /// A top-level field is a non-empty array; the value itself is not built.
    pub fn is_non_empty_array(&self, key: &str) -> bool {
        self.raw(key)
            .and_then(|v| v.strip_prefix(b"["))
            .is_some_and(|rest| !rest.trim_ascii_start().starts_with(b"]"))
    }

    /// A top-level field's value is a JSON string with at least one character.
    pub fn is_non_empty_string(&self, key: &str) -> bool {
        self.raw(key)
            .is_some_and(|v| v.starts_with(b"\"") && v != b"\"\"")
    }

    /// A top-level field's value is one of the JSON literals `null`, or absent.
    pub fn is_null_or_absent(&self, key: &str) -> bool {
        self.raw(key).is_none_or(|v| v == b"null")
    }
}

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
) -> Result<Object, ApiError> {
    let declared = headers
        .get(axum::http::header::CONTENT_LENGTH)
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
    let object = Object::parse(bytes)?;
    Ok(object)
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
        Some(Value::String(m)) if !m.trim().is_empty() => Ok(m),
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
    if body.is_null_or_absent("messages") {
        return Err(ApiError::bad_request(
            Some("messages"),
            "'messages' is a required property.",
        ));
    }
    if !body.is_non_empty_array("messages") {
        return Err(ApiError::bad_request(
            Some("messages"),
            "'messages' must be a non-empty array.",
        ));
    }
    // The value's text as written (valid JSON, spaces around it left out).
    let stream = match body.raw("stream") {
        None | Some(b"null" | b"false") => false,
        Some(b"true") => true,
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
        .and_then(|o| o.get("include_usage").and_then(Value::as_bool))
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

/// The body for the upstream: the checked object with what the gateway decided written
/// in place of the client's fields of the same names; every other top-level field as the
/// client wrote it (keys are unique and in their exact case after [`read_object`], and
/// every object inside was checked the same way).
pub fn for_upstream(body: &Object, decided: &Decided<'_>) -> Bytes {
    let mut out = Vec::with_capacity(body.text.len() + 64);
    out.push(b'{');
    for field in &body.fields {
        let key = field.key(&body.text);
        let decided_here = match key {
            "model" => true,
            "max_tokens" | "max_completion_tokens" => decided.max_tokens.is_some(),
            "stream_options" => decided.ask_usage,
            _ => false,
        };
        if decided_here {
            continue;
        }
        write_key(&mut out, key);
        out.extend_from_slice(&body.text[field.value.clone()]);
    }
    write_key(&mut out, "model");
    write_json(&mut out, decided.model);
    if let Some(n) = decided.max_tokens {
        write_key(&mut out, "max_tokens");
        let _ = write!(out, "{n}");
    }
    if decided.ask_usage {
        let mut options = match body.get("stream_options") {
            Some(Value::Object(o)) => o,
            _ => Map::new(),
        };
        options.insert("include_usage".into(), Value::Bool(true));
        write_key(&mut out, "stream_options");
        write_json(&mut out, &options);
    }
    out.push(b'}');
    Bytes::from(out)
}

/// `"key":`, after a comma unless it is the object's first.
fn write_key(out: &mut Vec<u8>, key: &str) {
    if out.len() > 1 {
        out.push(b',');
    }
    write_json(out, key);
    out.push(b':');
}

fn write_json<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    // Writing strings and maps of values to a vector does not fail.
    let _ = serde_json::to_writer(&mut *out, value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Object {
        Object::parse(Bytes::from(v.to_string())).unwrap()
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
        let body = Object::parse(original).unwrap();
        let out = for_upstream(
            &body,
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

    #[test]
    fn the_clients_fields_pass_as_written_and_the_decided_ones_replace_theirs() {
        // The model's key written with an escape is still the model: replaced, not kept.
        let original = Bytes::from_static(
            br#"{ "mod\u0065l" : "big", "messages" : [ {"role":"user","content":"h\u00e9 \"x\""} ], "temperature": 0.50, "stream_options": {"include_obfuscation": false}, "stream": true }"#,
        );
        let body = Object::parse(original).unwrap();
        let out = for_upstream(
            &body,
            &Decided {
                model: "small",
                ask_usage: true,
                max_tokens: Some(7),
            },
        );
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            r#"{"messages":[ {"role":"user","content":"h\u00e9 \"x\""} ],"temperature":0.50,"stream":true,"model":"small","max_tokens":7,"stream_options":{"include_obfuscation":false,"include_usage":true}}"#
        );
        // Without a limit or a usage request, the client's own fields stay.
        let body = Object::parse(Bytes::from_static(
            br#"{"model":"m","max_tokens":3,"stream_options":7}"#,
        ))
        .unwrap();
        let out = for_upstream(
            &body,
            &Decided {
                model: "m2",
                ask_usage: false,
                max_tokens: None,
            },
        );
        assert_eq!(
            &out[..],
            br#"{"max_tokens":3,"stream_options":7,"model":"m2"}"#
        );
    }

    #[test]
    fn a_body_that_is_not_one_object_with_one_meaning_is_refused() {
        let refused = |body: &'static [u8]| {
            Object::parse(Bytes::from_static(body))
                .err()
                .map(|e| (e.status.as_u16(), e.body()["error"]["message"].clone()))
        };
        let (status, msg) = refused(b"[1]").unwrap();
        assert_eq!(status, 400);
        assert_eq!(msg, "The request body must be a JSON object.");
        let (_, msg) = refused(br#"{"model":"a","MODEL":"b"}"#).unwrap();
        assert!(
            msg.as_str().unwrap().contains("'MODEL' and 'model'"),
            "{msg}"
        );
        let (_, msg) = refused(br#"{"Model":"a"}"#).unwrap();
        assert!(
            msg.as_str().unwrap().contains("did you mean 'model'"),
            "{msg}"
        );
        let (_, msg) = refused(br#"{"stream_options":{"Include_Usage":true}}"#).unwrap();
        assert!(msg.as_str().unwrap().contains("'include_usage'"), "{msg}");
        let (_, msg) = refused(b"{\"model\":").unwrap();
        assert!(
            msg.as_str().unwrap().starts_with("We could not parse"),
            "{msg}"
        );
    }

    #[test]
    fn messages_must_be_a_non_empty_array_however_it_is_spaced() {
        for (messages, ok) in [
            ("[ ]", false),
            ("[\n]", false),
            ("{}", false),
            ("\"hi\"", false),
            ("[ {} ]", true),
            ("[1]", true),
        ] {
            let text = format!(r#"{{"model":"m","messages":{messages}}}"#);
            let parsed = chat(&Object::parse(Bytes::from(text)).unwrap());
            assert_eq!(parsed.is_ok(), ok, "{messages}");
        }
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
