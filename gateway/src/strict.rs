//! One meaning for every request body: the JSON parser of the gateway refuses what other
//! parsers would read differently.
//!
//! Ollama decodes with Go's `encoding/json`, which matches object keys to struct fields
//! case-insensitively (with Unicode simple folding: `ſtream` is `stream`, `K` (Kelvin) is
//! `k`) and lets the last of several matching keys win, while serde reads keys exactly and
//! keeps the last duplicate. A body such as `{"model":"small","MODEL":"large"}` would be
//! checked and billed as one model and served as another. So every object, at any depth, is
//! refused when
//! - a key appears twice ([`Problem::Duplicate`]),
//! - two keys differ only in letter case ([`Problem::CaseTwin`]),
//!
//! and the objects the gateway itself reads (the request and its `stream_options`) refuse a
//! key that folds to one of their fields without being it ([`Problem::CaseVariant`]).
//! What is sent upstream is rebuilt from the checked object (`body::for_upstream`).
//!
//! The cost is nil for ordinary bodies: folding is only computed for objects holding a key
//! that is not plain lower-case ASCII.
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Why a body is refused, naming the key as the client wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    Duplicate(String),
    CaseTwin { first: String, second: String },
    CaseVariant { key: String, field: &'static str },
}

#[derive(Debug)]
pub enum Error {
    Keys(Problem),
    Syntax(serde_json::Error),
}

/// Parses `bytes` as JSON, refusing duplicate and case-twin keys at every depth.
pub fn parse(bytes: &[u8]) -> Result<Value, Error> {
    let problem = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = StrictValue(&problem)
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v));
    match (value, problem.into_inner()) {
        (_, Some(p)) => Err(Error::Keys(p)),
        (Ok(v), None) => Ok(v),
        (Err(e), None) => Err(Error::Syntax(e)),
    }
}

/// Refuses a key of `object` that folds to one of `fields` without being it.
pub fn check_fields(object: &Map<String, Value>, fields: &[&'static str]) -> Result<(), Problem> {
    for key in object.keys().filter(|k| !is_plain(k)) {
        let folded = fold(key);
        if let Some(field) = fields.iter().find(|f| **f == folded) {
            return Err(Problem::CaseVariant {
                key: key.clone(),
                field,
            });
        }
    }
    Ok(())
}

/// Plain keys (ASCII without capitals) fold to themselves.
fn is_plain(key: &str) -> bool {
    key.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase())
}

/// A case fold at least as wide as Go's `bytes.EqualFold` (Unicode simple folding):
/// every character through its upper case (when that is one character) to its lower case.
pub fn fold(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for c in key.chars() {
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
            continue;
        }
        let mut upper = c.to_uppercase();
        let base = match (upper.next(), upper.next()) {
            (Some(u), None) => u,
            _ => c,
        };
        out.extend(base.to_lowercase());
    }
    out
}

/// Two keys of one object that fold to the same text.
fn case_twins(object: &Map<String, Value>) -> Option<Problem> {
    let mut seen: HashMap<String, &String> = HashMap::with_capacity(object.len());
    for key in object.keys() {
        if let Some(first) = seen.insert(fold(key), key) {
            return Some(Problem::CaseTwin {
                first: first.clone(),
                second: key.clone(),
            });
        }
    }
    None
}

/// Builds a [`Value`] like serde_json's own, noting the first key problem met.
#[derive(Clone, Copy)]
struct StrictValue<'a>(&'a RefCell<Option<Problem>>);

impl<'de> DeserializeSeed<'de> for StrictValue<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(v) = seq.next_element_seed(self)? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        let mut all_plain = true;
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(self)?;
            all_plain &= is_plain(&key);
            if out.contains_key(&key) {
                return Err(self.refuse(Problem::Duplicate(key)));
            }
            out.insert(key, value);
        }
        if !all_plain {
            if let Some(p) = case_twins(&out) {
                return Err(self.refuse(p));
            }
        }
        Ok(Value::Object(out))
    }
}

impl StrictValue<'_> {
    fn refuse<E: de::Error>(self, p: Problem) -> E {
        let msg = format!("{p:?}");
        self.0.borrow_mut().get_or_insert(p);
        E::custom(msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(body: &str) -> Problem {
        match parse(body.as_bytes()) {
            Err(Error::Keys(p)) => p,
            other => panic!("{body}: {other:?}"),
        }
    }

    #[test]
    fn ordinary_bodies_parse_like_serde_json() {
        let body = r#"{"model":"m","messages":[{"role":"user","content":"hi"}],"n":1.5,"x":null,"big":18446744073709551615,"neg":-3}"#;
        let ours = parse(body.as_bytes()).unwrap();
        let theirs: Value = serde_json::from_str(body).unwrap();
        assert_eq!(ours, theirs);
    }

    #[test]
    fn a_key_twice_is_refused_at_any_depth() {
        assert_eq!(
            problem(r#"{"model":"a","model":"b"}"#),
            Problem::Duplicate("model".into())
        );
        assert_eq!(
            problem(r#"{"messages":[{"role":"user","content":"a","content":"b"}]}"#),
            Problem::Duplicate("content".into())
        );
    }

    #[test]
    fn keys_that_differ_only_in_case_are_refused_at_any_depth() {
        assert_eq!(
            problem(r#"{"model":"llama3.2:3b","MODEL":"gpt-oss:20b"}"#),
            Problem::CaseTwin {
                first: "MODEL".into(),
                second: "model".into()
            }
        );
        // Go folds the long s and the Kelvin sign to ASCII letters.
        assert!(matches!(
            problem("{\"stream\":false,\"\u{17f}tream\":true}"),
            Problem::CaseTwin { .. }
        ));
        assert!(matches!(
            problem(r#"{"stream_options":{"include_usage":true,"INCLUDE_USAGE":false}}"#),
            Problem::CaseTwin { .. }
        ));
    }

    #[test]
    fn a_lone_case_variant_of_a_known_field_is_refused() {
        let v = parse(br#"{"model":"m","STREAM":true}"#).unwrap();
        let o = v.as_object().unwrap();
        assert_eq!(
            check_fields(o, &["model", "stream"]),
            Err(Problem::CaseVariant {
                key: "STREAM".into(),
                field: "stream"
            })
        );
        let v = parse("{\"max_to\u{212a}ens\":5}".as_bytes()).unwrap();
        assert!(check_fields(v.as_object().unwrap(), &["max_tokens"]).is_err());
        // Unknown keys in any case pass, and so do known ones written exactly.
        let v = parse(br#"{"model":"m","X_Custom":1}"#).unwrap();
        assert_eq!(check_fields(v.as_object().unwrap(), &["model"]), Ok(()));
    }

    #[test]
    fn hostile_shapes_are_refused_without_exhausting_the_stack_or_time() {
        // Nesting past serde_json's recursion limit is a syntax error, not a crash.
        let deep = "[".repeat(100_000);
        assert!(matches!(parse(deep.as_bytes()), Err(Error::Syntax(_))));
        // Many keys that need folding: one pass, not one comparison per pair.
        let many: String = (0..50_000).map(|i| format!("\"K{i}\":1,")).collect();
        let body = format!("{{{many}\"k7\":2}}");
        assert_eq!(
            parse(body.as_bytes())
                .err()
                .map(|e| matches!(e, Error::Keys(Problem::CaseTwin { .. }))),
            Some(true)
        );
    }

    #[test]
    fn syntax_errors_are_not_key_problems() {
        assert!(matches!(parse(b"{\"a\":"), Err(Error::Syntax(_))));
        assert!(matches!(parse(b"{} x"), Err(Error::Syntax(_))));
    }
}
