//! `POST /webhooks/myfatoorah`: MyFatoorah's signed v2 webhook. The signature is checked
//! and the payment confirmed with GetPaymentStatus in `domain::payments`; this only maps
//! the outcome to HTTP (401 for a bad signature, 200 for everything that was handled, so
//! MyFatoorah stops retrying).
use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    routing::post,
    Router,
};
use domain::Services;

pub fn routes(services: Services) -> Router {
    Router::new()
        .route("/webhooks/myfatoorah", post(myfatoorah))
        .with_state(services)
}

async fn myfatoorah(
    State(svc): State<Services>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let signature = headers
        .get("myfatoorah-signature")
        .and_then(|v| v.to_str().ok());
    match domain::payments::handle_webhook(&svc, signature, &body).await {
        Ok(outcome) => {
            tracing::info!(?outcome, "MyFatoorah webhook handled");
            (StatusCode::OK, "ok")
        }
        Err(domain::Error::Unauthorized) => {
            tracing::warn!("MyFatoorah webhook with a missing or wrong signature");
            (StatusCode::UNAUTHORIZED, "bad signature")
        }
        Err(domain::Error::Invalid { .. }) => (StatusCode::BAD_REQUEST, "malformed webhook"),
        Err(e) => {
            // MyFatoorah retries on non-2xx; the order stays pending meanwhile.
            tracing::error!(error = %e, "MyFatoorah webhook failed");
            (StatusCode::SERVICE_UNAVAILABLE, "try again")
        }
    }
}
