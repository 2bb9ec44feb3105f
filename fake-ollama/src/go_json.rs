//! Request bodies decoded the way Ollama's Go server decodes them (`encoding/json` into a
//! struct): an object key fills the struct field it equals, or failing that the field it
//! equals case-insensitively (Unicode simple folding: `ſ` is `s`, `K` (Kelvin) is `k`), and
//! when several keys fill one field the last one wins. Duplicate keys are not an error.
//!
//! A gateway that reads bodies differently (case-sensitively, or keeping another duplicate)
//! can be made to check one request and forward another; tests use this decoder to see what
//! the upstream really understood.
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// The fields of Ollama's OpenAI `ChatCompletionRequest` the fake acts on, and of its
/// `StreamOptions`.
const CHAT_FIELDS: &[&str] = &[
    "model",
    "messages",
    "stream",
    "stream_options",
    "max_tokens",
];
const STREAM_OPTION_FIELDS: &[&str] = &["include_usage"];

/// JSON with every object key kept, duplicates and order included.
#[derive(Debug, Clone)]
enum Raw {
    Scalar(Value),
    Array(Vec<Raw>),
    Object(Vec<(String, Raw)>),
}

/// The body as the Go server sees it: the struct's fields filled Go's way (under their
/// exact names), other keys last-wins.
pub fn decode_chat(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    let raw: Raw = serde_json::from_slice(bytes)?;
    Ok(match raw {
        Raw::Object(pairs) => {
            let mut out = fill(&pairs, CHAT_FIELDS);
            if let Some(Raw::Object(options)) = field(&pairs, "stream_options") {
                out.insert(
                    "stream_options".into(),
                    Value::Object(fill(options, STREAM_OPTION_FIELDS)),
                );
            }
            Value::Object(out)
        }
        other => plain(&other),
    })
}

/// The object with `fields` filled Go's way and every other key last-wins.
fn fill(pairs: &[(String, Raw)], fields: &[&str]) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, v) in pairs {
        if !fields.iter().any(|f| fold(f) == fold(k)) {
            out.insert(k.clone(), plain(v));
        }
    }
    for f in fields {
        if let Some(v) = field(pairs, f) {
            out.insert((*f).to_owned(), plain(v));
        }
    }
    out
}

/// The value Go puts into field `name`: that of the last key naming it, exactly or by
/// folding.
fn field<'a>(pairs: &'a [(String, Raw)], name: &str) -> Option<&'a Raw> {
    let name = fold(name);
    pairs
        .iter()
        .rev()
        .find(|(k, _)| fold(k) == name)
        .map(|(_, v)| v)
}

fn plain(raw: &Raw) -> Value {
    match raw {
        Raw::Scalar(v) => v.clone(),
        Raw::Array(a) => Value::Array(a.iter().map(plain).collect()),
        Raw::Object(pairs) => {
            Value::Object(pairs.iter().map(|(k, v)| (k.clone(), plain(v))).collect())
        }
    }
}

/// Unicode simple case folding, as Go's `bytes.EqualFold` compares.
fn fold(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            let mut up = c.to_uppercase();
            let base = match (up.next(), up.next()) {
                (Some(u), None) => u,
                _ => c,
            };
            base.to_lowercase()
        })
        .collect()
}

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = Raw;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("JSON")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Raw, E> {
        Ok(Raw::Scalar(Value::Bool(v)))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Raw, E> {
        Ok(Raw::Scalar(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Raw, E> {
        Ok(Raw::Scalar(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Raw, E> {
        Ok(Raw::Scalar(v.into()))
    }

    fn visit_str<E>(self, v: &str) -> Result<Raw, E> {
        Ok(Raw::Scalar(Value::String(v.to_owned())))
    }

    fn visit_unit<E>(self) -> Result<Raw, E> {
        Ok(Raw::Scalar(Value::Null))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Raw, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element()? {
            out.push(v);
        }
        Ok(Raw::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Raw, A::Error> {
        let mut out = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, Raw>()? {
            out.push((k, v));
        }
        Ok(Raw::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_fill_fields_case_insensitively_and_the_last_one_wins() {
        let body = br#"{"model":"llama3.2:3b","messages":[],"MODEL":"gpt-oss:20b","STREAM":true,"MAX_TOKENS":5000,"stream_options":{"include_usage":true,"Include_Usage":false}}"#;
        let v = decode_chat(body).unwrap();
        assert_eq!(v["model"], "gpt-oss:20b");
        assert_eq!(v["stream"], true);
        assert_eq!(v["max_tokens"], 5000);
        assert_eq!(v["stream_options"]["include_usage"], false);
        assert!(v.get("MODEL").is_none());
        let v = decode_chat("{\"model\":\"a\",\"\u{17f}tream\":true,\"model\":\"b\"}".as_bytes())
            .unwrap();
        assert_eq!(v["stream"], true);
        assert_eq!(v["model"], "b");
    }
}
