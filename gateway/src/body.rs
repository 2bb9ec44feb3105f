//! Reading and checking request bodies: size limit (413), JSON object (400), and the
//! fields the gateway itself needs (400 naming the field). Everything else in the body
//! passes through to the upstream untouched.
use axum::body::Body;
use axum::http::HeaderMap;
use bytes::Bytes;
use serde_json::{Map, Value};

use crate::error::ApiError;

pub type Object = Map<String, Value>;

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
            let too_large = std::error::Error::source(&e)
                .is_some_and(|s| s.to_string().contains("length limit"))
                || e.to_string().contains("length limit");
            return Err(if too_large {
                ApiError::too_large(limit)
            } else {
                ApiError::bad_request(None, "The request body could not be read.")
            });
        }
    };
    let object = match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => map,
        Ok(_) => {
            return Err(ApiError::bad_request(
                None,
                "The request body must be a JSON object.",
            ))
        }
        Err(e) => {
            return Err(ApiError::bad_request(
                None,
                format!("We could not parse the JSON body of your request: {e}."),
            ))
        }
    };
    Ok((bytes, object))
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
    let mut max_tokens = None;
    for field in ["max_completion_tokens", "max_tokens"] {
        match body.get(field) {
            None | Some(Value::Null) => {}
            Some(v) => match v.as_u64() {
                Some(n) => {
                    max_tokens.get_or_insert(n);
                }
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

/// The body for the upstream: the client's bytes when nothing needs changing, otherwise
/// the object with the upstream's model name and, for streams, usage requested.
pub fn for_upstream(
    original: &Bytes,
    body: &mut Object,
    requested: &str,
    upstream_model: &str,
    ask_usage: bool,
) -> Bytes {
    let usage_asked = body
        .get("stream_options")
        .and_then(|o| o.get("include_usage"))
        .and_then(Value::as_bool)
        == Some(true);
    if requested == upstream_model && (!ask_usage || usage_asked) {
        return original.clone();
    }
    body.insert("model".into(), Value::String(upstream_model.to_owned()));
    if ask_usage {
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
    fn unknown_fields_pass_through_and_usage_is_asked_for_streams() {
        let original = Bytes::from_static(br#"{"model":"m","messages":[],"x_custom":1}"#);
        let mut body: Object = serde_json::from_slice(&original).unwrap();
        assert_eq!(
            for_upstream(&original, &mut body, "m", "m", false),
            original
        );
        let out = for_upstream(&original, &mut body, "m:cloud", "m", true);
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["x_custom"], 1);
        assert_eq!(v["model"], "m");
        assert_eq!(v["stream_options"]["include_usage"], true);
    }
}
