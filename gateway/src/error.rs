//! Errors in the OpenAI shape `{"error":{message,type,param,code}}`, with the status and
//! headers the official SDKs act on (`retry-after`, `x-should-retry`). 5xx bodies never
//! carry internal details; the cause is logged where it happens.
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::openapi::{ErrorDetail, ErrorResponse};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    kind: &'static str,
    code: Option<&'static str>,
    /// Boxed (errors are rare; a small `ApiError` keeps `Result`s small).
    param: Option<Box<str>>,
    message: String,
    /// Seconds, for `retry-after`.
    retry_after: Option<u64>,
    /// `x-should-retry: false` for errors that waiting will not cure.
    no_retry: bool,
    top_up_url: Option<String>,
}

impl ApiError {
    fn new(
        status: StatusCode,
        kind: &'static str,
        code: Option<&'static str>,
        msg: String,
    ) -> Self {
        Self {
            status,
            kind,
            code,
            param: None,
            message: msg,
            retry_after: None,
            no_retry: false,
            top_up_url: None,
        }
    }

    /// The machine code, for usage rows and logs.
    pub fn code(&self) -> &'static str {
        self.code.unwrap_or(self.kind)
    }

    pub fn missing_key() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            Some("invalid_api_key"),
            "You didn't provide an API key. Send it as 'Authorization: Bearer <key>'.".into(),
        )
    }

    /// The key's account is suspended by an admin (its data is kept).
    pub fn account_suspended() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "permission_error",
            Some("account_suspended"),
            "This account is suspended. Contact Resayil support.".into(),
        )
    }

    /// The playground without a signed-in session.
    pub fn not_signed_in() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            Some("not_signed_in"),
            "Sign in to use the playground.".into(),
        )
    }

    pub fn invalid_key() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            Some("invalid_api_key"),
            "Incorrect API key provided. You can find your API keys in the portal.".into(),
        )
    }

    pub fn bad_request(param: Option<&'static str>, message: impl Into<String>) -> Self {
        let mut e = Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            None,
            message.into(),
        );
        e.param = param.map(Box::from);
        e
    }

    /// A 400 about one key of the body, named as the client wrote it.
    pub fn bad_key(key: &str, message: impl Into<String>) -> Self {
        let mut e = Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            Some("invalid_request_body"),
            message.into(),
        );
        e.param = Some(key.chars().take(64).collect::<String>().into());
        e
    }

    pub fn too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request_error",
            Some("request_too_large"),
            format!("The request body is larger than the limit of {limit} bytes."),
        )
    }

    /// The client sent its body too slowly (the server's body deadline).
    pub fn body_timeout() -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            "invalid_request_error",
            Some("request_timeout"),
            "The request body did not arrive in time.".into(),
        )
    }

    pub fn no_credits(top_up_url: &str) -> Self {
        let mut e = Self::new(
            StatusCode::PAYMENT_REQUIRED,
            "insufficient_quota",
            Some("insufficient_credits"),
            format!("Your credit balance is too low for this request. Top up at {top_up_url}"),
        );
        e.no_retry = true;
        e.top_up_url = Some(top_up_url.to_owned());
        e
    }

    /// A team key while the team owner's plan is not the one teams need (it lapsed).
    pub fn team_plan_lapsed(plan: &str, top_up_url: &str) -> Self {
        let mut e = Self::new(
            StatusCode::FORBIDDEN,
            "permission_error",
            Some("team_plan_required"),
            format!(
                "Team keys work while the team owner's {plan} plan is active, and it is not. \
                 The owner can renew the {plan} plan at {top_up_url}"
            ),
        );
        e.no_retry = true;
        e
    }

    pub fn needs_plan(model: &str, plan: &str) -> Self {
        let mut e = Self::new(
            StatusCode::FORBIDDEN,
            "permission_error",
            Some("model_not_in_plan"),
            format!(
                "The model `{model}` is available on the {plan} plan. Upgrade to {plan} to use it."
            ),
        );
        e.param = Some("model".into());
        e
    }

    pub fn model_not_found(model: &str) -> Self {
        let mut e = Self::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            Some("model_not_found"),
            format!("The model `{model}` does not exist or you do not have access to it."),
        );
        e.param = Some("model".into());
        e
    }

    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            Some("unknown_url"),
            "Unknown request URL. See the API reference for the available routes.".into(),
        )
    }

    pub fn rate_limited(limit: u32, retry_after: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "requests",
            Some("rate_limit_exceeded"),
            format!(
                "Rate limit reached on requests per min (RPM): Limit {limit}. Please try again in {retry_after}s."
            ),
        );
        e.retry_after = Some(retry_after);
        e
    }

    /// The account has its plan's number of requests open already.
    pub fn too_many_open(limit: u32) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "requests",
            Some("concurrency_limit_exceeded"),
            format!(
                "Too many requests at once: your plan allows {limit} open requests. Wait for one to finish, then retry."
            ),
        );
        e.retry_after = Some(1);
        e
    }

    /// `max_tokens` above what the model allows.
    pub fn too_many_tokens(asked: u64, limit: u64) -> Self {
        let mut e = Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            Some("max_tokens_too_large"),
            format!(
                "max_tokens is too large: {asked}. This model supports at most {limit} completion tokens."
            ),
        );
        e.param = Some("max_tokens".into());
        e
    }

    /// The upstream answered in the other mode than asked (SSE for JSON or JSON for SSE).
    pub fn upstream_wrong_mode() -> Self {
        Self::new(
            StatusCode::BAD_GATEWAY,
            "server_error",
            Some("upstream_wrong_mode"),
            "The model server answered in an unexpected format. Please retry.".into(),
        )
    }

    pub fn busy(retry_after: u64) -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "server_error",
            Some("overloaded"),
            "The models are busy right now. Please retry shortly.".into(),
        );
        e.retry_after = Some(retry_after);
        e
    }

    /// The server is shutting down and could not finish the request in time (nothing
    /// charged; another instance will take the retry).
    pub fn shutting_down() -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "server_error",
            Some("server_shutting_down"),
            "This server is restarting. Nothing was charged; please retry.".into(),
        );
        e.retry_after = Some(1);
        e
    }

    pub fn unreachable() -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "server_error",
            Some("upstream_unavailable"),
            "The model server is not reachable right now. Nothing was charged; please retry shortly.".into(),
        );
        e.retry_after = Some(5);
        e
    }

    pub fn cloud_exhausted(seconds_to_midnight: u64) -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "server_error",
            Some("cloud_budget_exhausted"),
            "Cloud models have reached today's limit and are off until midnight (Asia/Kuwait). Local models keep working.".into(),
        );
        e.retry_after = Some(seconds_to_midnight);
        e.no_retry = true;
        e
    }

    pub fn cloud_unavailable() -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "server_error",
            Some("cloud_unavailable"),
            "Cloud models are not available on this server.".into(),
        );
        e.no_retry = true;
        e
    }

    pub fn upstream_failed() -> Self {
        Self::new(
            StatusCode::BAD_GATEWAY,
            "server_error",
            Some("upstream_error"),
            "The model server failed to answer. Nothing was charged; please retry.".into(),
        )
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            None,
            "The server had an error while processing your request.".into(),
        )
    }

    /// An error the upstream answered (4xx other than busy), in the OpenAI shape.
    pub fn from_upstream(status: StatusCode, message: String) -> Self {
        let kind = if status == StatusCode::NOT_FOUND {
            "not_found_error"
        } else {
            "invalid_request_error"
        };
        Self::new(status, kind, None, message)
    }

    /// The JSON body of the error.
    /// The JSON body of the error: [`ErrorResponse`], the type the OpenAPI spec documents.
    pub fn body(&self) -> serde_json::Value {
        let body = ErrorResponse {
            error: ErrorDetail {
                message: self.message.clone(),
                kind: self.kind.to_owned(),
                param: self.param.as_deref().map(str::to_owned),
                code: self.code.map(str::to_owned),
                top_up_url: self.top_up_url.clone(),
            },
        };
        serde_json::to_value(body).unwrap_or_else(|_| json!({"error": {"message": "error"}}))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut res = (self.status, axum::Json(self.body())).into_response();
        let h = res.headers_mut();
        if let Some(secs) = self.retry_after {
            h.insert("retry-after", HeaderValue::from(secs));
        }
        if self.no_retry {
            h.insert("x-should-retry", HeaderValue::from_static("false"));
        }
        res
    }
}
