//! Filling a catalog template for one recipient: each `{placeholder}` gets its value from
//! the event's payload, the account and the settings, written for the message's language
//! (Arabic-Indic digits in Arabic, as the pages write them; dates in Asia/Kuwait).
use locale::{fmt_int, fmt_kwd, kuwait_date, kuwait_time, Lang, KUWAIT_OFFSET_SECS};
use serde_json::Value;

use crate::catalog::Template;
use crate::entities::account;
use crate::Services;

/// What a template is filled from.
pub(crate) struct Event<'a> {
    pub payload: &'a Value,
    /// The account the event is about (absent for cloud budget and ban alerts).
    pub account: Option<&'a account::Model>,
    /// When the event was recorded (unix seconds).
    pub created_at: i64,
}

/// One message: the filled text, and the placeholder values in order of appearance
/// (the named parameters of a Meta template).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rendered {
    pub params: Vec<(String, String)>,
    pub body: String,
}

/// Fills `template` in `lang`. Fails on a placeholder this module does not know or whose
/// value the event does not carry (a catalog or caller defect, shown on the message).
pub(crate) fn render(
    svc: &Services,
    template: &Template,
    lang: &str,
    event: &Event<'_>,
) -> Result<Rendered, String> {
    let text = template.text(lang);
    let mut body = String::with_capacity(text.len() + 64);
    let mut params: Vec<(String, String)> = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        body.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| format!("{}: unclosed {{ in the {lang} text", template.kind))?;
        let name = &after[..close];
        let value = match params.iter().find(|(n, _)| n == name) {
            Some((_, v)) => v.clone(),
            None => {
                let v = value(svc, name, lang, event)
                    .ok_or_else(|| format!("{}: no value for {{{name}}}", template.kind))?;
                params.push((name.to_owned(), v.clone()));
                v
            }
        };
        body.push_str(&value);
        rest = &after[close + 1..];
    }
    body.push_str(rest);
    Ok(Rendered { params, body })
}

/// The value of placeholder `name`, or `None` when unknown or not in the event.
fn value(svc: &Services, name: &str, lang: &str, e: &Event<'_>) -> Option<String> {
    let p = e.payload;
    let int = |key: &str| p.get(key).and_then(Value::as_i64);
    let text = |key: &str| p.get(key).and_then(Value::as_str).map(str::to_owned);
    let base = svc.settings.public_base_url.trim_end_matches('/');
    let l = Lang::from_code_or_default(lang);
    Some(match name {
        "name" => match &e.account?.name {
            Some(n) => n.clone(),
            None => e.account?.email.split('@').next()?.to_owned(),
        },
        // A one-time code (removed from the stored payloads once written, `expand`).
        "code" => ltr(lang, &text("code")?),
        "email" => ltr(lang, &e.account?.email),
        "phone" => ltr(lang, &e.account?.phone),
        // The credits the event is about: added, granted, or (warnings) left.
        "credits" => fmt_int(l, int("credits").or_else(|| int("balance"))?),
        "balance" => fmt_int(l, int("balance")?),
        "percent" => {
            let (part, whole) = match int("after_last_grant") {
                Some(granted) => (int("balance")?, granted),
                None => (int("used")?, int("cap")?),
            };
            fmt_int(l, part.max(0) * 100 / whole.max(1))
        }
        "used" => fmt_int(l, int("used")?),
        "cap" => fmt_int(l, int("cap")?),
        "amount" => fmt_kwd(l, int("amount_fils")?),
        "plan" => {
            let id = text("plan").or_else(|| e.account?.plan.clone())?;
            match svc.catalog.messages.plan_names.get(&id) {
                Some(names) if lang == "en" => names.en.clone(),
                Some(names) => names.ar.clone(),
                None => id,
            }
        }
        "expiry" => {
            let at = int("expires_at").or_else(|| e.account?.plan_expires_at)?;
            ltr(lang, &kuwait_date(at))
        }
        "date" => {
            let day_start = match int("kuwait_day") {
                Some(day) => day * 86_400 - KUWAIT_OFFSET_SECS,
                None => e.created_at,
            };
            ltr(lang, &kuwait_date(day_start))
        }
        "time" => {
            let at = p.get("time").and_then(Value::as_f64).map(|t| t as i64);
            ltr(lang, &kuwait_time(at.unwrap_or(e.created_at)))
        }
        "ip" => ltr(lang, &text("ip")?),
        "jail" => ltr(lang, &text("jail")?),
        "user" => match text("user").map(|u| super::bans::alert_safe_name(&u)) {
            Some(u) if !u.is_empty() => ltr(lang, &u),
            _ => "-".to_owned(),
        },
        "failures" => fmt_int(l, int("failures")?),
        "minutes" => match int("bantime")? {
            b if b < 0 => "∞".to_owned(),
            b => fmt_int(l, (b + 59) / 60),
        },
        "topup_url" => format!("{base}/billing"),
        "dashboard_url" => format!("{base}/dashboard"),
        "team" => text("team")?,
        "team_url" => format!("{base}/team"),
        _ => return None,
    })
}

/// Left-to-right text (addresses, numbers, dates) kept whole inside an Arabic sentence.
fn ltr(lang: &str, s: &str) -> String {
    if lang == "en" {
        s.to_owned()
    } else {
        format!("\u{2066}{s}\u{2069}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Audience;
    use serde_json::json;

    /// A payload of the shape each event's recorder writes (events.rs, payments, gateway,
    /// bans, schedules).
    fn sample(kind: &str) -> Value {
        match kind {
            "welcome" => json!({"credits": 1000, "code": "123456"}),
            "password_reset_code" | "phone_code" => {
                json!({"code": "123456", "to": "+96550012345"})
            }
            "subscription_activated" | "enterprise_customer" => json!({
                "order_id": 1, "plan": "pro", "expires_at": 1_795_640_400_i64,
                "credits": 20000, "balance": 20500, "amount_fils": 15000
            }),
            "credit_warning" | "credits_exhausted" => {
                json!({"balance": 150, "after_last_grant": 1000})
            }
            "topup_confirmed" => json!({
                "order_id": 2, "pack": "pack-5k", "credits": 5000, "balance": 5200,
                "amount_fils": 5000
            }),
            "renewal_reminder" => json!({"plan": "pro", "expires_at": 1_795_640_400_i64}),
            "cloud_budget_warning" | "cloud_budget_exhausted" => {
                json!({"used": 400, "cap": 500, "kuwait_day": 20_783})
            }
            "ip_banned" => json!({
                "jail": "resayil-auth", "ip": "198.51.100.7", "failures": 3,
                "time": 1_795_640_400_i64, "bantime": 3600, "user": "eve@example.com"
            }),
            "team_invitation" => json!({
                "invitation_id": 3, "team": "Acme AI", "role": "member",
                "expires_at": 1_795_640_400_i64
            }),
            other => panic!("no sample payload for {other}"),
        }
    }

    #[tokio::test]
    async fn every_catalog_template_renders_in_both_languages_without_leftovers() {
        crate::testing::each_db(|svc| async move {
            let acc = account::Model {
                id: 1,
                email: "sara@example.com".into(),
                phone: "+96550012345".into(),
                password_hash: String::new(),
                role: crate::accounts::Role::User,
                plan: Some("pro".into()),
                plan_expires_at: Some(1_795_640_400),
                credits: 150,
                held: 0,
                lang: "ar".into(),
                created_at: 0,
                name: None,
                phone_verified_at: Some(0),
                suspended_at: None,
            };
            assert_eq!(
                svc.catalog.templates.len(),
                13,
                "NOTIF-01..10, the two code messages and TEAM-01"
            );
            for t in &svc.catalog.templates {
                let payload = sample(&t.kind);
                let e = Event {
                    payload: &payload,
                    account: (t.to == Audience::User || t.kind == "enterprise_customer")
                        .then_some(&acc),
                    created_at: 1_795_640_400,
                };
                for lang in ["ar", "en"] {
                    let text = t.text(lang);
                    // Meta refuses templates that begin or end with a variable.
                    assert!(!text.starts_with('{'), "{} {lang}", t.kind);
                    assert!(!text.trim_end().ends_with('}'), "{} {lang}", t.kind);
                    let r = render(&svc, t, lang, &e).unwrap_or_else(|err| panic!("{err}"));
                    assert!(!r.body.contains(['{', '}']), "{}: {}", t.kind, r.body);
                    assert!(!r.params.is_empty(), "{}", t.kind);
                    if lang == "ar" {
                        for (n, v) in &r.params {
                            let identifier = matches!(
                                n.as_str(),
                                "topup_url"
                                    | "code"
                                    | "dashboard_url"
                                    | "team_url"
                                    | "ip"
                                    | "jail"
                                    | "email"
                                    | "phone"
                                    | "user"
                                    | "name"
                                    | "expiry"
                                    | "date"
                                    | "time"
                            );
                            let western = v.chars().any(|c| c.is_ascii_digit());
                            assert!(identifier || !western, "{}: {n}={v}", t.kind);
                        }
                    }
                }
            }
        })
        .await;
    }

    #[tokio::test]
    async fn placeholders_get_the_numbers_of_the_event() {
        crate::testing::each_db(|svc| async move {
            let t = svc.catalog.template("credit_warning").unwrap();
            let payload = json!({"balance": 150, "after_last_grant": 1000});
            let e = Event {
                payload: &payload,
                account: None,
                created_at: 0,
            };
            let en = render(&svc, t, "en", &e).unwrap();
            assert_eq!(
                en.params,
                [
                    ("credits".to_owned(), "150".to_owned()),
                    ("percent".to_owned(), "15".to_owned()),
                    (
                        "topup_url".to_owned(),
                        "http://127.0.0.1:3000/billing".to_owned()
                    ),
                ]
            );
            assert!(en
                .body
                .contains("down to 150 credits (15% of your last top-up)"));
            let ar = render(&svc, t, "ar", &e).unwrap();
            assert!(ar.body.contains("إلى ١٥٠ (١٥٪"), "{}", ar.body);

            let unknown = Template {
                kind: "x".into(),
                to: Audience::User,
                meta_name: "x".into(),
                ar: "{nope}".into(),
                en: "{nope}".into(),
            };
            assert!(render(&svc, &unknown, "en", &e).is_err());
        })
        .await;
    }
}
