//! The request-body deadline: a client has `BODY_READ_TIMEOUT_SECS` to send a request's
//! body, plus one second for every [`PACE`] bytes it has sent, so a large upload over a slow
//! but honest link finishes while a trickle of a few bytes a second does not. Past the
//! deadline the body ends in an error, and whatever the handler made of that error, the
//! answer is 408 and the connection closes (issue 9, slow clients).
//!
//! Only waiting for the client is timed: a handler that reads the body late finds what has
//! already arrived, and answers — streams of several minutes included — are never timed.
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{header, HeaderValue, StatusCode};
use http_body::{Frame, SizeHint};
use tokio::time::{Instant, Sleep};

/// Bytes a client must send per second of time beyond the base timeout.
pub const PACE: u64 = 16 * 1024;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive in time")]
pub struct TooSlow;

/// A request body that fails once its deadline passes while the client is awaited.
pub struct TimedBody<B> {
    inner: B,
    started: Instant,
    timeout: Duration,
    received: u64,
    /// Created the first time the client is awaited; most bodies have arrived before.
    sleep: Option<Pin<Box<Sleep>>>,
    /// Set when the deadline passed, for [`answer`] to see.
    expired: Arc<AtomicBool>,
}

impl<B> TimedBody<B> {
    /// `inner`, timed from now; `expired` is set if its deadline passes.
    fn new(inner: B, timeout: Duration, expired: Arc<AtomicBool>) -> Self {
        Self {
            inner,
            started: Instant::now(),
            timeout,
            received: 0,
            sleep: None,
            expired,
        }
    }

    fn deadline(&self) -> Instant {
        self.started + self.timeout + Duration::from_millis(self.received * 1000 / PACE)
    }
}

impl<B> http_body::Body for TimedBody<B>
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.received += data.len() as u64;
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => {
                this.sleep = None;
                Poll::Ready(None)
            }
            Poll::Pending => {
                let deadline = this.deadline();
                let sleep = this
                    .sleep
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                if sleep.deadline() != deadline {
                    sleep.as_mut().reset(deadline);
                }
                match sleep.as_mut().poll(cx) {
                    Poll::Ready(()) => {
                        this.expired.store(true, Ordering::Relaxed);
                        // An I/O time-out, so readers that know nothing of this type
                        // (the gateway's body reader) can tell it from a broken body.
                        Poll::Ready(Some(Err(Box::new(std::io::Error::new(
                            std::io::ErrorKind::TimedOut,
                            TooSlow,
                        )))))
                    }
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Passes `req` to `router` with its body timed, and answers 408 if the body was late.
pub async fn answer<B>(router: axum::Router, req: http::Request<B>, timeout: Duration) -> Response
where
    B: http_body::Body<Data = Bytes> + Unpin + Send + 'static,
    B::Error: Into<BoxError>,
{
    use tower::ServiceExt;
    answer_with(req, timeout, |req| async move {
        match router.oneshot(req).await {
            Ok(res) => res,
            Err(never) => match never {},
        }
    })
    .await
}

/// [`answer`] with `serve` in the router's place (a path the server dispatches itself).
pub async fn answer_with<B, F, Fut>(req: http::Request<B>, timeout: Duration, serve: F) -> Response
where
    B: http_body::Body<Data = Bytes> + Unpin + Send + 'static,
    B::Error: Into<BoxError>,
    F: FnOnce(axum::extract::Request) -> Fut,
    Fut: Future<Output = Response>,
{
    let api = req.uri().path().starts_with("/v1/");
    let expired = Arc::new(AtomicBool::new(false));
    let req =
        req.map(|inner| axum::body::Body::new(TimedBody::new(inner, timeout, expired.clone())));
    let res = serve(req).await;
    if expired.load(Ordering::Relaxed) {
        return too_slow(api);
    }
    res
}

/// 408, and the connection closes: the rest of the body may still be on its way.
fn too_slow(api: bool) -> Response {
    let message = "The request body did not arrive in time.";
    let mut res = if api {
        let body = serde_json::json!({"error": {
            "message": message, "type": "invalid_request_error",
            "param": null, "code": "request_timeout"}});
        (StatusCode::REQUEST_TIMEOUT, axum::Json(body)).into_response()
    } else {
        (StatusCode::REQUEST_TIMEOUT, message).into_response()
    };
    res.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use http_body_util::BodyExt;

    fn timed(inner: Body, timeout: Duration) -> (TimedBody<Body>, Arc<AtomicBool>) {
        let expired = Arc::new(AtomicBool::new(false));
        (TimedBody::new(inner, timeout, expired.clone()), expired)
    }

    /// How long after the body's start its reading ended (the deadline counts from that
    /// start, not from the first read), and whether it failed for being late.
    async fn read(body: TimedBody<Body>) -> (Duration, Option<String>) {
        let started = body.started;
        let err = body.collect().await.err().map(|e| e.to_string());
        (started.elapsed(), err)
    }

    #[tokio::test]
    async fn a_body_that_stops_coming_fails_at_the_deadline() {
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(1);
        let timeout = Duration::from_millis(300);
        let (body, expired) = timed(Body::from_stream(stream_of(rx)), timeout);
        tx.send(Ok(Bytes::from_static(b"{\"a\":"))).await.unwrap();
        let (took, err) = read(body).await;
        assert_eq!(
            err.as_deref(),
            Some("the request body did not arrive in time")
        );
        assert!(took >= timeout && took < Duration::from_secs(3), "{took:?}");
        assert!(expired.load(Ordering::Relaxed));
        drop(tx);
    }

    #[tokio::test]
    async fn what_was_received_extends_the_deadline_at_the_pace() {
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(1);
        let (body, _) = timed(Body::from_stream(stream_of(rx)), Duration::from_millis(300));
        // A second's worth of bytes: one second more.
        tx.send(Ok(Bytes::from(vec![b' '; PACE as usize])))
            .await
            .unwrap();
        let (took, err) = read(body).await;
        assert!(err.is_some());
        assert!(
            took >= Duration::from_millis(1300) && took < Duration::from_secs(4),
            "{took:?}"
        );
        drop(tx);
    }

    #[tokio::test]
    async fn a_body_that_arrived_is_read_whole() {
        let (body, expired) = timed(Body::from("hello"), Duration::from_secs(1));
        let bytes = body.collect().await.unwrap().to_bytes();
        assert_eq!(&bytes[..], b"hello");
        assert!(!expired.load(Ordering::Relaxed));
    }

    fn stream_of(
        mut rx: tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>,
    ) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> {
        futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
    }
}
