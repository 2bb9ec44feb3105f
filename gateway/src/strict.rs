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
//! What is sent upstream is rebuilt from the checked object (`body::for_upstream`): its
//! top-level values as the client wrote them (checked here), the gateway's own fields
//! written anew.
//!
//! The cost is small for ordinary bodies: one pass over the bytes ([`quick_fields`]) reads a
//! valid object whose keys are plain lower-case ASCII and unique, building nothing but the
//! list of top-level fields; every other body is read through serde_json ([`checked_fields`],
//! no value tree either), which names the problem or the syntax error, and folding is only
//! computed for objects holding a key that is not plain.
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::ops::Range;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

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
    /// Valid JSON, but not an object.
    NotObject,
}

/// A top-level field of a checked object: its key and where its value's text is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub key: Key,
    /// The value's JSON text in the body, exactly as sent.
    pub value: Range<usize>,
}

/// A top-level key: where it is in the body, or the key itself when it was written with
/// escapes (so its text in the body is not the key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    At(Range<usize>),
    Unescaped(String),
}

impl Field {
    /// The key, read from `body` (the text this field was parsed from).
    pub fn key<'b>(&'b self, body: &'b [u8]) -> &'b str {
        match &self.key {
            // Checked as UTF-8 when parsed; an empty key if `body` is another text.
            Key::At(r) => body
                .get(r.clone())
                .and_then(|k| std::str::from_utf8(k).ok())
                .unwrap_or(""),
            Key::Unescaped(k) => k,
        }
    }

    /// The key is `key` (compared without reading it as text).
    pub fn key_is(&self, body: &[u8], key: &str) -> bool {
        match &self.key {
            Key::At(r) => body.get(r.clone()) == Some(key.as_bytes()),
            Key::Unescaped(k) => k == key,
        }
    }
}

/// Parses `bytes` as a JSON object, refusing duplicate and case-twin keys at every depth:
/// its top-level fields in the order written.
pub fn parse_object(bytes: &[u8]) -> Result<Vec<Field>, Error> {
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(match serde_json::from_slice::<de::IgnoredAny>(bytes) {
            Ok(_) => Error::NotObject,
            Err(e) => Error::Syntax(e),
        });
    }
    if let Some(fields) = quick_fields(bytes) {
        return Ok(fields);
    }
    checked_fields(bytes)
}

/// [`parse_object`] through serde_json: every body the quick reading passes on (a problem
/// to name, or a shape it does not take), with serde_json's own error for what is not JSON.
fn checked_fields(bytes: &[u8]) -> Result<Vec<Field>, Error> {
    // Every value checked, at any depth, without building it.
    let problem = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let keys = de
        .deserialize_map(TopLevel(Check(&problem)))
        .and_then(|keys| de.end().map(|()| keys));
    let keys = match (keys, problem.into_inner()) {
        (_, Some(p)) => return Err(Error::Keys(p)),
        (Err(e), None) => return Err(Error::Syntax(e)),
        (Ok(keys), None) => keys,
    };
    if let Some(fields) = between_keys(bytes, &keys) {
        return Ok(fields);
    }
    // A top-level key written with escapes: where each value is, by reading the text.
    scan_fields(bytes).ok_or(Error::NotObject)
}

/// The fields of a valid object whose top-level `keys` are all borrowed from it (written
/// without escapes): each value is what lies between its key's `:` and the next key's
/// `,` (or the object's `}`), spaces aside — JSON allows nothing else there.
fn between_keys(bytes: &[u8], keys: &[Cow<'_, str>]) -> Option<Vec<Field>> {
    let spans = keys
        .iter()
        .map(|k| match k {
            Cow::Borrowed(k) => span(bytes, k),
            Cow::Owned(_) => None,
        })
        .collect::<Option<Vec<_>>>()?;
    let mut fields = Vec::with_capacity(spans.len());
    for (i, key) in spans.iter().enumerate() {
        let after = bytes.get(key.end..)?.strip_prefix(b"\"")?;
        let value = after
            .trim_ascii_start()
            .strip_prefix(b":")?
            .trim_ascii_start();
        let start = bytes.len() - value.len();
        let end = match spans.get(i + 1) {
            Some(next) => bytes
                .get(..next.start)?
                .strip_suffix(b"\"")?
                .trim_ascii_end()
                .strip_suffix(b",")?
                .trim_ascii_end()
                .len(),
            None => bytes
                .trim_ascii_end()
                .strip_suffix(b"}")?
                .trim_ascii_end()
                .len(),
        };
        if start >= end {
            return None;
        }
        fields.push(Field {
            key: Key::At(key.clone()),
            value: start..end,
        });
    }
    Some(fields)
}

/// Deepest nesting the quick reading takes (serde_json refuses past 128).
const QUICK_DEPTH: usize = 64;
/// Most keys of one object the quick reading compares pairwise.
const QUICK_KEYS: usize = 32;
/// Longest number the quick reading takes: serde_json reads every number of the JSON
/// grammar this short, without an exponent, as a finite value.
const QUICK_NUMBER: usize = 40;

/// The fields of the ordinary body in one pass over its bytes, building nothing: Some only
/// when the body is one valid JSON object whose keys, at every depth, are plain (lower-case
/// ASCII, no escapes: none can fold into another) and unique in their object. What it
/// passes, [`checked_fields`] passes with the same fields; for anything else — a problem,
/// a syntax error, an escaped or not plain key, an exponent, a long number, deep nesting,
/// an object of many keys — None, and serde_json reads the body and names what is wrong.
fn quick_fields(bytes: &[u8]) -> Option<Vec<Field>> {
    // Valid UTF-8 as a whole: the strings in it need no check of their own.
    std::str::from_utf8(bytes).ok()?;
    let mut q = Quick {
        text: bytes,
        at: 0,
        depth: 0,
        keys: Vec::with_capacity(16),
        fields: Vec::with_capacity(8),
    };
    q.spaces();
    if q.peek()? != b'{' {
        return None;
    }
    q.object(true)?;
    q.spaces();
    (q.at == bytes.len()).then_some(q.fields)
}

struct Quick<'a> {
    text: &'a [u8],
    at: usize,
    depth: usize,
    /// The keys of the objects open now, the innermost's last.
    keys: Vec<&'a [u8]>,
    /// The top-level object's fields.
    fields: Vec<Field>,
}

impl<'a> Quick<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    /// JSON's white space (serde_json's: not the form feed).
    fn spaces(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn value(&mut self) -> Option<()> {
        match self.peek()? {
            b'{' => self.object(false),
            b'[' => self.array(),
            b'"' => self.string().map(drop),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        self.at += 1;
        (self.depth <= QUICK_DEPTH).then_some(())
    }

    /// At `{`: the object, its keys checked; its fields kept when it is the body.
    fn object(&mut self, top: bool) -> Option<()> {
        self.enter()?;
        let first_key = self.keys.len();
        self.spaces();
        if self.peek()? == b'}' {
            return self.leave();
        }
        loop {
            if self.peek()? != b'"' {
                return None;
            }
            let (key, escaped) = self.string()?;
            let name = &self.text[key.clone()];
            let siblings = &self.keys[first_key..];
            if escaped
                || !is_plain(name)
                || siblings.len() >= QUICK_KEYS
                || siblings.contains(&name)
            {
                return None;
            }
            self.keys.push(name);
            self.spaces();
            if self.peek()? != b':' {
                return None;
            }
            self.at += 1;
            self.spaces();
            let start = self.at;
            self.value()?;
            if top {
                self.fields.push(Field {
                    key: Key::At(key),
                    value: start..self.at,
                });
            }
            if !self.more(b'}')? {
                break;
            }
        }
        self.keys.truncate(first_key);
        self.leave()
    }

    fn array(&mut self) -> Option<()> {
        self.enter()?;
        self.spaces();
        if self.peek()? != b']' {
            self.value()?;
            while self.more(b']')? {
                self.value()?;
            }
        }
        self.leave()
    }

    /// After a member of an object or array: true past a `,` (another member follows),
    /// false at `close`; None at anything else.
    fn more(&mut self, close: u8) -> Option<bool> {
        self.spaces();
        match self.peek()? {
            b',' => {
                self.at += 1;
                self.spaces();
                Some(true)
            }
            c if c == close => Some(false),
            _ => None,
        }
    }

    /// At the `}` or `]` that closes what [`Self::enter`] opened: past it.
    fn leave(&mut self) -> Option<()> {
        self.at += 1;
        self.depth -= 1;
        Some(())
    }

    /// At `"`: where the string's text is (quotes excluded), and whether it has escapes.
    /// Refuses what serde_json refuses in a string: a control character, an unknown
    /// escape, a `\u` escape of a lone surrogate.
    fn string(&mut self) -> Option<(Range<usize>, bool)> {
        let start = self.at + 1;
        let mut i = start;
        let mut escaped = false;
        loop {
            // To the next quote or backslash; nothing before it may be a control character.
            let run = memchr::memchr2(b'"', b'\\', self.text.get(i..)?)?;
            if self.text[i..i + run].iter().any(|b| *b < 0x20) {
                return None;
            }
            i += run;
            match self.text[i] {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    i += match *self.text.get(i + 1)? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => 2,
                        b'u' => match hex4(self.text, i + 2)? {
                            0xD800..=0xDBFF => {
                                let low = match self.text.get(i + 6..i + 8)? {
                                    b"\\u" => hex4(self.text, i + 8)?,
                                    _ => return None,
                                };
                                if !(0xDC00..=0xDFFF).contains(&low) {
                                    return None;
                                }
                                12
                            }
                            0xDC00..=0xDFFF => return None,
                            _ => 6,
                        },
                        _ => return None,
                    };
                }
                _ => return None, // not reached: memchr2 stops at one of the two
            }
        }
        self.at = i + 1;
        Some((start..i, escaped))
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.at + word.len();
        (self.text.get(self.at..end)? == word).then(|| self.at = end)
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)?`; an exponent is left to serde_json.
    fn number(&mut self) -> Option<()> {
        let start = self.at;
        let digits = |q: &mut Self| {
            let from = q.at;
            while q.peek().is_some_and(|b| b.is_ascii_digit()) {
                q.at += 1;
            }
            q.at > from
        };
        if self.peek()? == b'-' {
            self.at += 1;
        }
        match self.peek()? {
            b'0' => self.at += 1,
            b'1'..=b'9' => {
                digits(self);
            }
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            if !digits(self) {
                return None;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) || self.at - start > QUICK_NUMBER {
            return None;
        }
        Some(())
    }
}

/// The four hex digits at `at`, as a number.
fn hex4(text: &[u8], at: usize) -> Option<u32> {
    let digits = std::str::from_utf8(text.get(at..at + 4)?).ok()?;
    if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(digits, 16).ok()
}

/// Where `part` (borrowed from `text`) is in `text`.
fn span(text: &[u8], part: &str) -> Option<Range<usize>> {
    let start = (part.as_ptr() as usize).checked_sub(text.as_ptr() as usize)?;
    let end = start + part.len();
    (end <= text.len()).then_some(start..end)
}

/// The top-level fields of a valid JSON object, found by reading its text: strings are
/// skipped whole (escapes included) and brackets counted. Keys are unescaped.
fn scan_fields(text: &[u8]) -> Option<Vec<Field>> {
    let mut fields = Vec::new();
    let mut i = skip_spaces(text, 0);
    if text.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    loop {
        i = skip_spaces(text, i);
        match text.get(i)? {
            b'}' => return Some(fields),
            b'"' => {}
            _ => return None,
        }
        let key_end = string_end(text, i)?;
        let key: String = serde_json::from_slice(&text[i..key_end]).ok()?;
        i = skip_spaces(text, key_end);
        if text.get(i) != Some(&b':') {
            return None;
        }
        let start = skip_spaces(text, i + 1);
        let end = value_end(text, start)?;
        fields.push(Field {
            key: Key::Unescaped(key),
            value: start..end,
        });
        i = skip_spaces(text, end);
        match text.get(i)? {
            b',' => i += 1,
            b'}' => return Some(fields),
            _ => return None,
        }
    }
}

fn skip_spaces(text: &[u8], mut i: usize) -> usize {
    while text.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    i
}

/// After the string that starts (with its quote) at `start`.
fn string_end(text: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    loop {
        match text.get(i)? {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
}

/// After the value that starts at `start`, spaces that follow it excluded.
fn value_end(text: &[u8], start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = start;
    loop {
        match text.get(i)? {
            b'"' => {
                i = string_end(text, i)?;
                if depth == 0 {
                    return Some(i);
                }
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            // A number or a literal ends where the object goes on or ends.
            b',' | b'}' if depth == 0 => {
                return Some(start + text[start..i].trim_ascii_end().len())
            }
            _ => {}
        }
        i += 1;
    }
}

/// Refuses a key of `keys` that folds to one of `fields` without being it.
pub fn check_fields<'k>(
    keys: impl IntoIterator<Item = &'k str>,
    fields: &[&'static str],
) -> Result<(), Problem> {
    for key in keys.into_iter().filter(|k| !is_plain(k)) {
        let folded = fold(key);
        if let Some(field) = fields.iter().find(|f| **f == folded) {
            return Err(Problem::CaseVariant {
                key: key.to_owned(),
                field,
            });
        }
    }
    Ok(())
}

/// Plain keys (ASCII without capitals) fold to themselves.
fn is_plain(key: impl AsRef<[u8]>) -> bool {
    key.as_ref()
        .iter()
        .all(|b| b.is_ascii() && !b.is_ascii_uppercase())
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

/// The keys of one object, in the order written; a duplicate is found by a scan while
/// they are few, by a hash set once they are many (a hostile object of 50,000 keys costs
/// one pass, not one comparison per pair).
#[derive(Default)]
struct Keys<'de> {
    list: Vec<Cow<'de, str>>,
    index: Option<HashSet<Cow<'de, str>>>,
    all_plain: bool,
}

/// Keys scanned before the set is built.
const FEW_KEYS: usize = 16;

impl<'de> Keys<'de> {
    fn new() -> Self {
        Self {
            all_plain: true,
            ..Self::default()
        }
    }

    /// Adds `key`; the problem when it is there already.
    fn add(&mut self, key: Cow<'de, str>) -> Result<(), Problem> {
        let known = match &mut self.index {
            Some(index) => !index.insert(key.clone()),
            None => self.list.contains(&key),
        };
        if known {
            return Err(Problem::Duplicate(key.into_owned()));
        }
        self.all_plain &= is_plain(key.as_bytes());
        self.list.push(key);
        if self.index.is_none() && self.list.len() > FEW_KEYS {
            self.index = Some(self.list.iter().cloned().collect());
        }
        Ok(())
    }

    /// Two keys that fold to the same text, in byte order (so the second of an ASCII pair,
    /// which the error names, is the lower-case one: the field's own name).
    fn case_twins(&self) -> Option<Problem> {
        if self.all_plain {
            return None;
        }
        let mut seen: HashMap<String, &str> = HashMap::with_capacity(self.list.len());
        for key in &self.list {
            let key: &str = key;
            if let Some(other) = seen.insert(fold(key), key) {
                let (first, second) = if other <= key {
                    (other, key)
                } else {
                    (key, other)
                };
                return Some(Problem::CaseTwin {
                    first: first.to_owned(),
                    second: second.to_owned(),
                });
            }
        }
        None
    }
}

/// A key, borrowed from the body when it has no escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Cow<'de, str>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

/// Reads a JSON value as serde_json would build it, building nothing, and notes the first
/// key problem met.
#[derive(Clone, Copy)]
struct Check<'a>(&'a RefCell<Option<Problem>>);

impl<'de> DeserializeSeed<'de> for Check<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Check<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_borrowed_str<E>(self, _: &'de str) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(self)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        self.object(map).map(drop)
    }
}

impl Check<'_> {
    /// An object's values checked, and its keys: in the order written.
    fn object<'de, A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<Cow<'de, str>>, A::Error> {
        let mut keys = Keys::new();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            map.next_value_seed(self)?;
            keys.add(key).map_err(|p| self.refuse(p))?;
        }
        match keys.case_twins() {
            Some(p) => Err(self.refuse(p)),
            None => Ok(keys.list),
        }
    }

    fn refuse<E: de::Error>(self, p: Problem) -> E {
        let msg = format!("{p:?}");
        self.0.borrow_mut().get_or_insert(p);
        E::custom(msg)
    }
}

/// The object of the body, checked as [`Check`] does: its keys.
struct TopLevel<'a>(Check<'a>);

impl<'de> Visitor<'de> for TopLevel<'_> {
    type Value = Vec<Cow<'de, str>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.0.object(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn problem(body: &str) -> Problem {
        match parse_object(body.as_bytes()) {
            Err(Error::Keys(p)) => p,
            other => panic!("{body}: {other:?}"),
        }
    }

    /// The top-level keys and value texts.
    fn fields(body: &str) -> Vec<(String, String)> {
        let b = body.as_bytes();
        parse_object(b)
            .unwrap()
            .iter()
            .map(|f| (f.key(b).to_owned(), body[f.value.clone()].to_owned()))
            .collect()
    }

    #[test]
    fn ordinary_bodies_read_like_serde_json() {
        let body = r#" {"model":"m","messages":[{"role":"user","content":"hi"}],"n":1.5,"x":null,"big":18446744073709551615,"neg":-3} "#;
        let ours = fields(body);
        let theirs: serde_json::Map<String, Value> = serde_json::from_str(body).unwrap();
        assert_eq!(ours.len(), theirs.len());
        for (key, text) in &ours {
            let value: Value = serde_json::from_str(text).unwrap();
            assert_eq!(theirs[key], value, "{key}");
        }
        assert_eq!(ours[1].1, r#"[{"role":"user","content":"hi"}]"#);
    }

    #[test]
    fn values_found_between_keys_are_where_reading_the_text_finds_them() {
        for body in [
            r#"{"a":1}"#,
            " {\n\t\"a\" :\r\n [1, {\"b\":\"}\"}] ,\"c\":\"x,\\\"y\" , \"d\":{} \n}\n ",
            r#"{"a":"","b":null,"c":-1.5e3,"d":"\\"}"#,
        ] {
            let bytes = body.as_bytes();
            let fields = parse_object(bytes).unwrap();
            assert!(fields.iter().all(|f| matches!(f.key, Key::At(_))));
            let scanned = scan_fields(bytes).unwrap();
            assert_eq!(fields.len(), scanned.len(), "{body}");
            for (f, s) in fields.iter().zip(&scanned) {
                assert_eq!(f.key(bytes), s.key(bytes), "{body}");
                assert_eq!(f.value, s.value, "{body}");
            }
        }
    }

    #[test]
    fn keys_with_escapes_are_read_unescaped_and_values_kept_as_written() {
        let body = r#"{ "mod\u0065l" : "a\"b" , "x":{"y": [1, 2]}}"#;
        assert_eq!(
            fields(body),
            vec![
                ("model".to_owned(), r#""a\"b""#.to_owned()),
                ("x".to_owned(), r#"{"y": [1, 2]}"#.to_owned())
            ]
        );
        // An escaped key is still a duplicate of the plain one.
        assert_eq!(
            problem(r#"{"model":"a","mod\u0065l":"b"}"#),
            Problem::Duplicate("model".into())
        );
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
        // Past the scan, in the set.
        let many: String = (0..100).map(|i| format!("\"k{i}\":1,")).collect();
        assert_eq!(
            problem(&format!("{{\"x\":{{{many}\"k42\":2}}}}")),
            Problem::Duplicate("k42".into())
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
        assert_eq!(
            check_fields(["model", "STREAM"], &["model", "stream"]),
            Err(Problem::CaseVariant {
                key: "STREAM".into(),
                field: "stream"
            })
        );
        assert!(check_fields(["max_to\u{212a}ens"], &["max_tokens"]).is_err());
        // Unknown keys in any case pass, and so do known ones written exactly.
        assert_eq!(check_fields(["model", "X_Custom"], &["model"]), Ok(()));
    }

    #[test]
    fn hostile_shapes_are_refused_without_exhausting_the_stack_or_time() {
        // Nesting past serde_json's recursion limit is a syntax error, not a crash.
        let deep = "[".repeat(100_000);
        assert!(matches!(
            parse_object(deep.as_bytes()),
            Err(Error::Syntax(_))
        ));
        let deep = format!("{{\"a\":{}", "[".repeat(100_000));
        assert!(matches!(
            parse_object(deep.as_bytes()),
            Err(Error::Syntax(_))
        ));
        // Many keys that need folding: one pass, not one comparison per pair.
        let many: String = (0..50_000).map(|i| format!("\"K{i}\":1,")).collect();
        let body = format!("{{{many}\"k7\":2}}");
        assert_eq!(
            parse_object(body.as_bytes())
                .err()
                .map(|e| matches!(e, Error::Keys(Problem::CaseTwin { .. }))),
            Some(true)
        );
        // Many distinct keys pass.
        let many: String = (0..50_000).map(|i| format!("\"k{i}\":1,")).collect();
        let body = format!("{{{many}\"last\":2}}");
        assert_eq!(parse_object(body.as_bytes()).unwrap().len(), 50_001);
    }

    /// What the quick reading made of `body`, checked against serde_json's reading: the
    /// same fields whenever it passes it.
    fn quick_agrees(body: &[u8]) -> bool {
        match (quick_fields(body), checked_fields(body)) {
            (Some(quick), Ok(checked)) => {
                assert_eq!(quick, checked, "{}", String::from_utf8_lossy(body));
                true
            }
            (Some(quick), Err(e)) => panic!(
                "quick reading passed {:?} as {quick:?}; serde_json: {e:?}",
                String::from_utf8_lossy(body)
            ),
            (None, _) => false,
        }
    }

    #[test]
    fn ordinary_bodies_are_read_quickly_as_serde_json_reads_them() {
        for body in [
            r#"{"model":"llama3.2:3b","messages":[{"role":"user","content":"Benchmark: say twenty words."}],"max_tokens":64,"stream":false}"#,
            // The Python SDK escapes what is not ASCII (Arabic; an emoji as a surrogate pair).
            r#"{"messages": [{"role": "system", "content": "\u0645\u0631\u062d\u0628\u0627 \ud83d\ude00"}, {"role": "user", "content": "a \"quoted\" \\ line\nnext\t/"}], "model": "m", "temperature": 0.7, "top_p": -0.5, "seed": 0, "stream": true, "stream_options": {"include_usage": true}}"#,
            "{\n  \"model\": \"m\",\r\n  \"messages\": [ {\"role\":\"user\",\"content\":\"\u{645}\u{631}\u{62d}\u{628}\u{627} \u{1F600}\"} ],\n  \"stop\": [], \"user\": null, \"logit_bias\": {}\n}\n",
            r#"{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}],"tool_choice":"auto","n":1,"big":18446744073709551615,"neg":-3}"#,
            "{}",
        ] {
            assert!(quick_agrees(body.as_bytes()), "not read quickly: {body}");
        }
    }

    #[test]
    fn the_quick_reading_leaves_every_problem_and_unusual_shape_to_serde_json() {
        let nested = |n: usize| format!("{{\"a\":{}1{}}}", "[".repeat(n), "]".repeat(n));
        let keys = |n: usize| {
            let many: String = (1..n).map(|i| format!("\"k{i}\":1,")).collect();
            format!("{{{many}\"last\":1}}")
        };
        let (deep, many) = (nested(QUICK_DEPTH), keys(QUICK_KEYS + 1));
        for body in [
            r#"{"model":"a","model":"b"}"#,
            r#"{"m":[{"content":"a","content":"b"}]}"#,
            r#"{"model":"a","MODEL":"b"}"#,
            r#"{"Model":"a"}"#,
            r#"{"mod\u0065l":"a"}"#,
            "{\"\u{17f}tream\":true}",
            r#"{"a":1e5}"#,
            r#"{"a":1E5}"#,
            r#"{"a":1.5e-3}"#,
            r#"{"a":12345678901234567890123456789012345678901234567890}"#,
            r#"{"a":01}"#,
            r#"{"a":1.}"#,
            r#"{"a":.5}"#,
            r#"{"a":-}"#,
            r#"{"a":+1}"#,
            r#"{"a":[1,]}"#,
            r#"{"a":1,}"#,
            r#"{"a":tru}"#,
            r#"{"a":nul}"#,
            r#"{"a":"\ud800"}"#,
            r#"{"a":"\udc00"}"#,
            r#"{"a":"\ud800\u0041"}"#,
            r#"{"a":"\q"}"#,
            r#"{"a":"\u12g4"}"#,
            "{\"a\":\"\x01\"}",
            "{\"a\":1}\x0c",
            r#"{"a":1} x"#,
            r#"{"a":1}}"#,
            r#"{"a" 1}"#,
            r#"{a:1}"#,
            r#"[{"a":1}]"#,
            r#"{"a":"unterminated}"#,
            &deep,
            &many,
        ] {
            assert!(!quick_agrees(body.as_bytes()), "read quickly: {body}");
        }
        assert!(!quick_agrees(b"{\"a\":\"\xff\"}"));
        // One level less deep and one key fewer are read quickly.
        assert!(quick_agrees(nested(QUICK_DEPTH - 1).as_bytes()));
        assert!(quick_agrees(keys(QUICK_KEYS).as_bytes()));
    }

    /// A JSON object of objects, arrays, strings, numbers and literals from small sets,
    /// with keys that repeat or differ only in case, and white space of every kind between
    /// tokens; some of it not JSON.
    fn json_text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let space = prop::sample::select(vec!["", "", " ", "\n", "\t", "\r\n", "\x0c"]);
        let leaf = prop::sample::select(vec![
            r#""""#,
            r#""x""#,
            r#""a\"b""#,
            r#""\u0041\u0645""#,
            r#""\ud83d\ude00""#,
            r#""\ud800""#,
            "\"\u{645}\"",
            r#""\n\/""#,
            "0",
            "-0",
            "12",
            "0.5",
            "-1.25",
            "1e3",
            "01",
            "true",
            "false",
            "null",
            "18446744073709551616",
        ])
        .prop_map(str::to_owned);
        let key = prop::sample::select(vec![
            "a",
            "b",
            "model",
            "MODEL",
            "Model",
            "stream",
            "\u{17f}tream",
            r"mod\u0065l",
            "",
        ]);
        let value = leaf.prop_recursive(4, 32, 4, move |inner| {
            prop_oneof![
                prop::collection::vec((inner.clone(), space.clone()), 0..4).prop_map(|items| {
                    let items: Vec<String> = items
                        .into_iter()
                        .map(|(v, s)| format!("{s}{v}{s}"))
                        .collect();
                    format!("[{}]", items.join(","))
                }),
                prop::collection::vec((key.clone(), inner, space.clone()), 0..4).prop_map(
                    |fields| {
                        let fields: Vec<String> = fields
                            .into_iter()
                            .map(|(k, v, s)| format!("{s}\"{k}\"{s}:{s}{v}{s}"))
                            .collect();
                        format!("{{{}}}", fields.join(","))
                    }
                ),
            ]
        });
        value.prop_map(|v| format!("{{\"x\":{v}}}"))
    }

    #[test]
    fn what_the_quick_reading_passes_serde_json_passes_with_the_same_fields() {
        use proptest::prelude::*;
        use proptest::test_runner::{Config, TestRunner};
        let mut runner = TestRunner::new(Config {
            cases: 4_000,
            ..Config::default()
        });
        let (quick, all) = (std::cell::Cell::new(0), std::cell::Cell::new(0));
        let cases = (
            json_text(),
            any::<prop::sample::Index>(),
            any::<u8>(),
            0..3u8,
        );
        runner
            .run(&cases, |(text, at, byte, edit)| {
                // As generated, or with one byte taken out, put in or changed.
                let mut body = text.into_bytes();
                let i = at.index(body.len() + 1);
                match edit {
                    1 if i < body.len() => drop(body.remove(i)),
                    2 => body.insert(i, byte),
                    _ => {}
                }
                all.set(all.get() + 1);
                quick.set(quick.get() + usize::from(quick_agrees(&body)));
                Ok(())
            })
            .unwrap();
        // The generator reaches both sides.
        let (quick, all) = (quick.get(), all.get());
        assert!(
            quick > all / 20 && quick < all,
            "{quick} of {all} read quickly"
        );
    }

    #[test]
    fn syntax_errors_are_not_key_problems_and_other_values_not_objects() {
        assert!(matches!(parse_object(b"{\"a\":"), Err(Error::Syntax(_))));
        assert!(matches!(parse_object(b"{} x"), Err(Error::Syntax(_))));
        // What serde_json refuses inside strings and numbers, refused here too.
        assert!(matches!(
            parse_object(b"{\"a\":\"\\ud800\"}"),
            Err(Error::Syntax(_))
        ));
        assert!(matches!(
            parse_object(b"{\"a\":1e400}"),
            Err(Error::Syntax(_))
        ));
        assert!(matches!(
            parse_object(b"{\"a\":\"\xff\"}"),
            Err(Error::Syntax(_))
        ));
        assert!(matches!(parse_object(b"[1,2]"), Err(Error::NotObject)));
        assert!(matches!(parse_object(b" \"x\""), Err(Error::NotObject)));
        assert!(parse_object(b" {} ").unwrap().is_empty());
    }
}
