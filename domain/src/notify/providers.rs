//! Who delivers a message, chosen by `WHATSAPP_PROVIDER`:
//! - `log` (default): writes the message to the log — development.
//! - `meta`: the WhatsApp Cloud API, `POST {base}/{version}/{phone_number_id}/messages`
//!   with a Bearer token, one approved template per message (name, language code, named
//!   body parameters). Errors are classified by Meta's `error.code`, not the HTTP status.
//! - `http`: a generic gateway, `POST WHATSAPP_HTTP_URL` with `{"phone","message"}` and the
//!   header `Token: WHATSAPP_HTTP_TOKEN` (the customer's existing gateway).
use std::collections::BTreeMap;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};

use crate::catalog::Catalog;
use crate::Settings;

/// One message as a provider needs it.
pub struct Outgoing<'a> {
    /// E.164 with the leading `+`.
    pub to: &'a str,
    pub lang: &'a str,
    /// The Meta template name.
    pub template: &'a str,
    /// The template's named parameters, in order.
    pub params: &'a [(String, String)],
    /// The whole text (log and http providers).
    pub body: &'a str,
}

/// Why a message was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Worth trying again later: rate limits, provider trouble, timeouts, no connection.
    Transient(String),
    /// Trying again cannot help: bad number, template or credentials, policy block.
    Permanent(String),
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendError::Transient(m) => write!(f, "temporary: {m}"),
            SendError::Permanent(m) => write!(f, "permanent: {m}"),
        }
    }
}

pub enum Provider {
    Log,
    Meta {
        /// `{base}/{version}/{phone_number_id}/messages`
        url: String,
        token: SecretString,
        /// Our language → Meta's code of the approved translation.
        languages: BTreeMap<String, String>,
    },
    Http {
        url: String,
        token: SecretString,
    },
}

impl Provider {
    /// The provider the settings ask for, or why it cannot be used.
    pub fn from_settings(s: &Settings, catalog: &Catalog) -> Result<Self, String> {
        match s.whatsapp_provider.as_str() {
            "" | "log" => Ok(Provider::Log),
            "meta" => {
                let id = s
                    .whatsapp_meta_phone_number_id
                    .clone()
                    .filter(|v| !v.is_empty())
                    .ok_or("WHATSAPP_PROVIDER=meta needs WHATSAPP_META_PHONE_NUMBER_ID")?;
                let token = s
                    .whatsapp_meta_token
                    .clone()
                    .ok_or("WHATSAPP_PROVIDER=meta needs WHATSAPP_META_TOKEN")?;
                let base = s.whatsapp_meta_base_url.trim_end_matches('/');
                let version = s.whatsapp_meta_api_version.trim_matches('/');
                Ok(Provider::Meta {
                    url: format!("{base}/{version}/{id}/messages"),
                    token,
                    languages: catalog.messages.meta_languages.clone(),
                })
            }
            "http" => Ok(Provider::Http {
                url: s
                    .whatsapp_http_url
                    .clone()
                    .filter(|v| !v.is_empty())
                    .ok_or("WHATSAPP_PROVIDER=http needs WHATSAPP_HTTP_URL")?,
                token: s
                    .whatsapp_http_token
                    .clone()
                    .ok_or("WHATSAPP_PROVIDER=http needs WHATSAPP_HTTP_TOKEN")?,
            }),
            other => Err(format!(
                "unknown WHATSAPP_PROVIDER {other:?} (log, meta or http)"
            )),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Provider::Log => "log",
            Provider::Meta { .. } => "meta",
            Provider::Http { .. } => "http",
        }
    }

    /// Sends one message within `timeout`; the provider's message id when it gives one.
    pub async fn send(
        &self,
        http: &reqwest::Client,
        m: &Outgoing<'_>,
        timeout: Duration,
    ) -> Result<Option<String>, SendError> {
        match self {
            Provider::Log => {
                // One-time codes are never logged.
                let mut body = m.body.to_owned();
                for s in super::outbox::secrets(m.params) {
                    body = body.replace(s, super::outbox::MASK);
                }
                tracing::info!(
                    to = m.to,
                    lang = m.lang,
                    template = m.template,
                    "whatsapp (log provider): {body}"
                );
                Ok(None)
            }
            Provider::Meta {
                url,
                token,
                languages,
            } => {
                let code = languages.get(m.lang).map_or(m.lang, String::as_str);
                let res = http
                    .post(url)
                    .bearer_auth(token.expose_secret())
                    .json(&meta_body(m, code))
                    .timeout(timeout)
                    .send()
                    .await
                    .map_err(unreachable)?;
                let status = res.status().as_u16();
                let body: Value = res.json().await.unwrap_or(Value::Null);
                if (200..300).contains(&status) {
                    let id = body["messages"][0]["id"].as_str().map(str::to_owned);
                    Ok(id)
                } else {
                    Err(meta_error(status, &body))
                }
            }
            Provider::Http { url, token } => {
                let res = http
                    .post(url)
                    .header("Token", token.expose_secret())
                    .json(&json!({ "phone": m.to, "message": m.body }))
                    .timeout(timeout)
                    .send()
                    .await
                    .map_err(unreachable)?;
                let status = res.status().as_u16();
                let text = res.text().await.unwrap_or_default();
                if (200..300).contains(&status) {
                    let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                    let id =
                        ["id", "message_id", "messageId"]
                            .iter()
                            .find_map(|k| match &body[*k] {
                                Value::String(s) => Some(s.clone()),
                                Value::Number(n) => Some(n.to_string()),
                                _ => None,
                            });
                    Ok(id)
                } else {
                    let detail = format!(
                        "HTTP {status}: {}",
                        text.chars().take(300).collect::<String>()
                    );
                    if matches!(status, 408 | 425 | 429) || status >= 500 {
                        Err(SendError::Transient(detail))
                    } else {
                        Err(SendError::Permanent(detail))
                    }
                }
            }
        }
    }
}

/// A template message of the Cloud API with named body parameters.
fn meta_body(m: &Outgoing<'_>, language: &str) -> Value {
    let mut template = json!({ "name": m.template, "language": { "code": language } });
    if !m.params.is_empty() {
        let parameters: Vec<Value> = m
            .params
            .iter()
            .map(|(name, text)| json!({ "type": "text", "parameter_name": name, "text": text }))
            .collect();
        template["components"] = json!([{ "type": "body", "parameters": parameters }]);
    }
    json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": m.to.trim_start_matches('+'),
        "type": "template",
        "template": template,
    })
}

/// Meta codes worth retrying: throughput and rate limits (4, 80007, 130429, 131056),
/// temporary trouble on their side (1, 2, 131000, 131001, 131002, 133004).
/// Everything else — invalid parameter (100), token (190), permissions (0, 3, 10, 200),
/// undeliverable (131026), not in the test allow-list (131030), outside the window
/// (131047), spam limit (131048), template errors (132000, 132001), policy (368) … — is
/// permanent.
pub fn meta_code_is_transient(code: i64) -> bool {
    matches!(
        code,
        1 | 2 | 4 | 80007 | 130429 | 131000 | 131001 | 131002 | 131056 | 133004
    )
}

fn meta_error(status: u16, body: &Value) -> SendError {
    let err = &body["error"];
    match err["code"].as_i64() {
        Some(code) => {
            let detail = format!(
                "meta {code}: {}",
                err["message"].as_str().unwrap_or("(no message)")
            );
            if meta_code_is_transient(code) {
                SendError::Transient(detail)
            } else {
                SendError::Permanent(detail)
            }
        }
        // No Graph error object: a proxy or outage answered.
        None if status >= 500 || status == 429 => {
            SendError::Transient(format!("meta HTTP {status}"))
        }
        None => SendError::Permanent(format!("meta HTTP {status}: {body}")),
    }
}

fn unreachable(e: reqwest::Error) -> SendError {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    SendError::Transient(format!("{what}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_errors_are_retried_only_when_retrying_can_help() {
        let err = |code: i64, status: u16| {
            meta_error(
                status,
                &json!({"error": {"message": "x", "type": "OAuthException", "code": code}}),
            )
        };
        for code in [131000, 131001, 131002, 130429, 4, 80007, 131056] {
            assert!(matches!(err(code, 400), SendError::Transient(_)), "{code}");
        }
        for code in [100, 131026, 131030, 131047, 132000, 132001, 190, 368, 10] {
            assert!(matches!(err(code, 400), SendError::Permanent(_)), "{code}");
        }
        assert!(matches!(
            meta_error(502, &Value::Null),
            SendError::Transient(_)
        ));
        assert!(matches!(
            meta_error(400, &Value::Null),
            SendError::Permanent(_)
        ));
    }

    #[test]
    fn meta_gets_digits_and_named_parameters() {
        let params = [("credits".to_owned(), "1,000".to_owned())];
        let m = Outgoing {
            to: "+96550012345",
            lang: "en",
            template: "resayil_welcome",
            params: &params,
            body: "ignored",
        };
        let body = meta_body(&m, "en_US");
        assert_eq!(body["to"], "96550012345");
        assert_eq!(body["template"]["language"]["code"], "en_US");
        assert_eq!(
            body["template"]["components"][0]["parameters"][0],
            json!({"type": "text", "parameter_name": "credits", "text": "1,000"})
        );
    }
}
