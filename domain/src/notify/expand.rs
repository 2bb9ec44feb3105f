//! Expansion: a queued notification becomes its messages — one per recipient and
//! language, filled from the catalog's template — in one transaction that first claims
//! it. A crash leaves it unexpanded; two workers never expand it both (row lock and
//! `SKIP LOCKED` on PostgreSQL; on SQLite the claiming UPDATE takes the single write lock);
//! and the unique (notification, recipient, language) index would absorb a repeat anyway.
use sea_orm::sea_query::{Expr, LockBehavior, LockType, OnConflict, Order, Query};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::Value;

use super::outbox::Status;
use super::templates::{self, Event};
use crate::catalog::Audience;
use crate::entities::account;
use crate::entities::{event, notification, outbox};
use crate::validate::Phone;
use crate::{time, Error, Services};

/// Expands up to `limit` queued notifications into outbox rows; returns how many
/// notifications were expanded.
pub(crate) async fn expand(svc: &Services, limit: u64) -> Result<usize, Error> {
    let now = time::now();
    let txn = crate::db::begin_write(&svc.db).await?;
    let mut pick = Query::select();
    pick.column(notification::Column::Id)
        .from(notification::Entity)
        .and_where(notification::Column::ExpandedAt.is_null())
        .order_by(notification::Column::Id, Order::Asc)
        .limit(limit)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    let mut claim = Query::update();
    claim
        .table(notification::Entity)
        .value(notification::Column::ExpandedAt, now)
        .and_where(notification::Column::Id.in_subquery(pick))
        .returning_all();
    let stmt = txn.get_database_backend().build(&claim);
    let mut claimed = notification::Entity::find()
        .from_raw_sql(stmt)
        .all(&txn)
        .await?;
    // RETURNING has no order; messages are numbered (and so sent) in event order.
    claimed.sort_by_key(|n| n.id);
    for n in &claimed {
        for row in messages_for(svc, &txn, n, now).await? {
            outbox::Entity::insert(row)
                .on_conflict(
                    OnConflict::columns([
                        outbox::Column::NotificationId,
                        outbox::Column::Recipient,
                        outbox::Column::Lang,
                    ])
                    .do_nothing()
                    .to_owned(),
                )
                .exec_without_returning(&txn)
                .await?;
        }
        // A one-time code stays only in its outbox rows (masked there once sent).
        if let Some(clean) = without_code(&n.payload) {
            notification::Entity::update_many()
                .col_expr(notification::Column::Payload, Expr::value(clean.clone()))
                .filter(notification::Column::Id.eq(n.id))
                .exec(&txn)
                .await?;
            event::Entity::update_many()
                .col_expr(event::Column::Payload, Expr::value(clean))
                .filter(event::Column::DedupeKey.eq(n.event_key.as_str()))
                .exec(&txn)
                .await?;
        }
    }
    txn.commit().await?;
    Ok(claimed.len())
}

/// The outbox rows of one notification: who gets it, in which languages, and the text.
async fn messages_for<C: ConnectionTrait>(
    svc: &Services,
    conn: &C,
    n: &notification::Model,
    now: i64,
) -> Result<Vec<outbox::ActiveModel>, Error> {
    let Some(template) = svc.catalog.template(&n.kind) else {
        return Ok(Vec::new()); // an event nobody is told about (e.g. plan_expired)
    };
    let account = match n.account_id {
        Some(id) => account::Entity::find_by_id(id).one(conn).await?,
        None => None,
    };
    let both = svc.settings.notify_both_languages;
    let payload: Value = serde_json::from_str(&n.payload).unwrap_or(Value::Null);
    let bilingual = template.to == Audience::User && svc.settings.bilingual(&n.kind);
    let recipients: Vec<(String, Vec<&str>)> = match template.to {
        Audience::User => match &account {
            Some(a)
                if a.phone_verified_at.is_none() && !TO_UNVERIFIED.contains(&n.kind.as_str()) =>
            {
                tracing::info!(kind = %n.kind, account = a.id, "phone not verified: no message");
                Vec::new()
            }
            // Codes go to the number they were issued for (the phone may have changed).
            Some(a) => {
                let to = payload
                    .get("to")
                    .and_then(Value::as_str)
                    .unwrap_or(&a.phone)
                    .to_owned();
                let langs = languages(&a.lang, both || bilingual);
                vec![(to, langs)]
            }
            None => {
                tracing::warn!(kind = %n.kind, event = %n.event_key, "no account to notify");
                Vec::new()
            }
        },
        Audience::Admins => {
            let langs = languages(&svc.settings.admin_lang, both);
            admin_phones(&svc.settings.admin_phones)
                .into_iter()
                .map(|p| (p, langs.clone()))
                .collect()
        }
    };
    let event = Event {
        payload: &payload,
        account: account.as_ref(),
        created_at: n.created_at,
    };
    let mut rows = Vec::new();
    for (phone, langs) in recipients {
        // One message per language, or one with every language (bilingual kinds).
        let messages: Vec<(&str, Vec<&str>)> = if bilingual {
            vec![(langs[0], langs.clone())]
        } else {
            langs.iter().map(|l| (*l, vec![*l])).collect()
        };
        for (lang, texts) in messages {
            let rendered: Result<Vec<_>, String> = texts
                .iter()
                .map(|l| templates::render(svc, template, l, &event).map(|r| (*l, r)))
                .collect();
            let (params, body, status, error) = match rendered {
                Ok(mut r) if r.len() == 1 => {
                    let (_, r) = r.remove(0);
                    (r.params, r.body, Status::Pending, None)
                }
                // Both texts in one message; the variables of each named for its language.
                Ok(r) => {
                    let body = r.iter().map(|(_, r)| r.body.as_str()).collect::<Vec<_>>();
                    let params = r
                        .iter()
                        .flat_map(|(l, r)| {
                            r.params
                                .iter()
                                .map(move |(k, v)| (format!("{k}_{l}"), v.clone()))
                        })
                        .collect();
                    (params, body.join("\n\n"), Status::Pending, None)
                }
                Err(e) => {
                    tracing::error!(kind = %n.kind, error = %e, "message not rendered");
                    (Vec::new(), String::new(), Status::Failed, Some(e))
                }
            };
            let meta_name = if bilingual {
                format!("{}_bilingual", template.meta_name)
            } else {
                template.meta_name.clone()
            };
            rows.push(outbox::ActiveModel {
                notification_id: Set(n.id),
                kind: Set(n.kind.clone()),
                account_id: Set(n.account_id),
                recipient: Set(phone.clone()),
                lang: Set(lang.to_owned()),
                template: Set(meta_name),
                params: Set(serde_json::to_string(&params).unwrap_or_else(|_| "[]".into())),
                body: Set(body),
                status: Set(status),
                attempts: Set(0),
                next_attempt_at: Set(now),
                last_error: Set(error),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            });
        }
    }
    Ok(rows)
}

/// Customer messages sent even before the phone is verified: the welcome (which carries
/// the first code) and the codes themselves.
const TO_UNVERIFIED: &[&str] = &["welcome", "phone_code", "password_reset_code"];

/// A payload without its one-time code (`None` when it has none).
pub(crate) fn without_code(payload: &str) -> Option<String> {
    let mut v: Value = serde_json::from_str(payload).ok()?;
    let obj = v.as_object_mut()?;
    obj.get("code")?;
    obj.insert("code".into(), Value::String(super::outbox::MASK.into()));
    Some(v.to_string())
}

/// The recipient's language first; the other one too when both are wanted.
fn languages(primary: &str, both: bool) -> Vec<&'static str> {
    let (first, other) = if primary == "en" {
        ("en", "ar")
    } else {
        ("ar", "en")
    };
    if both {
        vec![first, other]
    } else {
        vec![first]
    }
}

/// `ADMIN_PHONES`, each in E.164; unreadable numbers are logged and skipped.
pub(crate) fn admin_phones(list: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for raw in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match Phone::parse(raw) {
            Ok(p) if !out.iter().any(|o| o == p.as_str()) => out.push(p.as_str().to_owned()),
            Ok(_) => {}
            Err(_) => tracing::warn!(number = raw, "ADMIN_PHONES: not a phone number, skipped"),
        }
    }
    out
}
