//! A bare payment page for demos: `GET /pay/{id}` shows the invoice with two buttons;
//! `POST /pay/{id}/pay` or `/pay/{id}/fail` records the attempt, sends the signed webhook
//! when a webhook URL is configured, and redirects the browser to the invoice's
//! CallBackUrl (success) or ErrorUrl (failure) with `?paymentId=` appended, as MyFatoorah does.
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use crate::{decimal, Handle};

pub(crate) async fn show(State(h): State<Handle>, Path(id): Path<i64>) -> Response {
    let Some(inv) = h.invoice(id) else {
        return (StatusCode::NOT_FOUND, "no such invoice").into_response();
    };
    Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Fake MyFatoorah</title></head>\
         <body><h1>Fake MyFatoorah — test payment</h1>\
         <p>Invoice {id}: {} {}</p>\
         <form method=\"post\" action=\"/pay/{id}/pay\"><button>Pay</button></form>\
         <form method=\"post\" action=\"/pay/{id}/fail\"><button>Fail</button></form>\
         </body></html>",
        decimal(inv.value_fils),
        inv.currency
    ))
    .into_response()
}

pub(crate) async fn complete(
    State(h): State<Handle>,
    Path((id, outcome)): Path<(i64, String)>,
) -> Response {
    let payment_id = match outcome.as_str() {
        "pay" => h.pay(id),
        "fail" => h.fail(id),
        _ => return (StatusCode::NOT_FOUND, "unknown outcome").into_response(),
    };
    let (Some(payment_id), Some(inv)) = (payment_id, h.invoice(id)) else {
        return (StatusCode::NOT_FOUND, "no such invoice").into_response();
    };
    if let Some(url) = h.config().webhook_url {
        let h = h.clone();
        tokio::spawn(async move {
            match h.send_webhook(&url, id).await {
                Ok(status) => tracing::info!(status, invoice = id, "webhook sent"),
                Err(e) => tracing::warn!(error = %e, invoice = id, "webhook failed"),
            }
        });
    }
    let target = if outcome == "pay" {
        inv.callback_url
    } else {
        inv.error_url
    };
    let sep = if target.contains('?') { '&' } else { '?' };
    (
        StatusCode::SEE_OTHER,
        [(
            header::LOCATION,
            format!("{target}{sep}paymentId={payment_id}"),
        )],
    )
        .into_response()
}
