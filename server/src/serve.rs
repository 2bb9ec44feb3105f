//! The HTTP/1.1 server: an accept loop with the slow-client defences `axum::serve` has no
//! settings for (issue 9, slow clients).
//!
//! - **Request heads** must arrive within `HEADER_READ_TIMEOUT_SECS` of their first byte
//!   (of the connection's opening, for its first request), and a kept-alive connection may
//!   idle `KEEPALIVE_IDLE_SECS` between an answer and the next head: hyper's header read
//!   timeout, with the two clocks of [`crate::head_timer`].
//! - **Request bodies** have their own deadline ([`crate::body_deadline`]): late is 408.
//!   Answers are never timed: an SSE stream may last minutes.
//! - **Connections**: at most `MAX_CONNECTIONS` are served. Past it, up to [`RESERVE`] more
//!   are accepted for monitoring: they answer `/healthz` and nothing else (503 with
//!   `Retry-After`, OpenAI-shaped under `/v1`), one request each. Past those, a connection
//!   is closed as soon as it is accepted, so an attacker cannot hold file descriptors.
//!   Every connection, reserve included, is under the header timeout.
//!
//! Every accepted socket gets TCP_NODELAY (without it a stream's last small write waits for
//! the client's delayed ACK, ~40 ms) and each request its peer as `ConnectInfo<SocketAddr>`.
//! Shutdown stops accepting, lets each connection finish the request it is serving and
//! closes it; [`serve`] resolves when all have closed.
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};

use crate::head_timer::{CountingIo, HeadTimer};

/// Connections accepted beyond the cap, for `/healthz` only.
pub const RESERVE: usize = 32;

/// What the server allows a client.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_read: Duration,
    pub keepalive_idle: Duration,
    pub body_read: Duration,
    pub max_connections: usize,
}

impl Limits {
    pub fn from_settings(s: &domain::Settings) -> Self {
        Self {
            header_read: Duration::from_secs(s.header_read_timeout_secs),
            keepalive_idle: Duration::from_secs(s.keepalive_idle_secs),
            body_read: Duration::from_secs(s.body_read_timeout_secs),
            max_connections: s.max_connections,
        }
    }
}

/// Serves `router` on `listener` until `shutdown` resolves and the open connections have
/// finished. With `gateway`, `POST /v1/chat/completions` goes to it directly
/// ([`gateway::Gateway::chat_completions`]: the same admission and handler as the router's
/// route, without the router's layers — the API's busiest request).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    gateway: Option<gateway::Gateway>,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let served = Arc::new(Semaphore::new(limits.max_connections));
    let reserve = Arc::new(Semaphore::new(RESERVE));
    // Dropped at shutdown: every connection task watches it close.
    let (stop_tx, stop_rx) = watch::channel(());
    // Every connection task holds a receiver; all gone = all closed.
    let (open_tx, open_rx) = watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = accept(&listener) => accepted,
            () = &mut shutdown => break,
        };
        let place = match served.clone().try_acquire_owned() {
            Ok(permit) => Place {
                _permit: permit,
                reserve: false,
            },
            Err(_) => match reserve.clone().try_acquire_owned() {
                Ok(permit) => Place {
                    _permit: permit,
                    reserve: true,
                },
                // Closed at once: nothing held.
                Err(_) => continue,
            },
        };
        let conn = Connection {
            tcp,
            peer,
            place,
            router: router.clone(),
            gateway: gateway.clone(),
            limits,
        };
        let stop = stop_rx.clone();
        let open = open_rx.clone();
        tokio::spawn(async move {
            conn.run(stop).await;
            drop(open);
        });
    }
    drop(listener);
    drop(stop_rx);
    drop(stop_tx);
    drop(open_rx);
    open_tx.closed().await;
}

/// The next connection; errors that concern one connection are skipped, and others
/// (file descriptors exhausted) wait a moment rather than spin.
async fn accept(listener: &TcpListener) -> (TcpStream, SocketAddr) {
    loop {
        match listener.accept().await {
            Ok(accepted) => return accepted,
            Err(e) if is_connection_error(&e) => {}
            Err(e) => {
                tracing::error!("accepting a connection: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    )
}

/// The path the server hands to the gateway itself (see [`serve`]).
const CHAT_COMPLETIONS: &str = "/v1/chat/completions";

/// The place a connection holds while it is open.
struct Place {
    _permit: OwnedSemaphorePermit,
    /// Beyond the cap: `/healthz` only.
    reserve: bool,
}

struct Connection {
    tcp: TcpStream,
    peer: SocketAddr,
    place: Place,
    router: Router,
    gateway: Option<gateway::Gateway>,
    limits: Limits,
}

impl Connection {
    async fn run(self, mut stop: watch::Receiver<()>) {
        let Connection {
            tcp,
            peer,
            place,
            router,
            gateway,
            limits,
        } = self;
        let _ = tcp.set_nodelay(true);
        let (io, reads) = CountingIo::new(tcp);
        let reserve = place.reserve;
        let body_read = limits.body_read;
        let service = hyper::service::service_fn(move |mut req: http::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            let chat = gateway
                .as_ref()
                .filter(|_| {
                    req.method() == http::Method::POST && req.uri().path() == CHAT_COMPLETIONS
                })
                .cloned();
            let router = router.clone();
            async move {
                if reserve && !matches!(req.uri().path(), "/healthz" | "/readyz") {
                    return Ok::<_, std::convert::Infallible>(at_capacity(req.uri().path()));
                }
                let answer = match chat {
                    // Boxed: the whole request's future (admission, handler, upstream
                    // client) is several kilobytes, and this one would otherwise be
                    // copied each time hyper moves it (callgrind: +9,000 bytes of
                    // memcpy a request unboxed).
                    Some(gw) => {
                        crate::body_deadline::answer_with(req, body_read, |req| {
                            Box::pin(async move { gw.chat_completions(req).await })
                        })
                        .await
                    }
                    None => crate::body_deadline::answer(router, req, body_read).await,
                };
                Ok(answer)
            }
        });
        let mut http = hyper::server::conn::http1::Builder::new();
        let timer = HeadTimer::new(reads, limits.header_read, limits.keepalive_idle);
        http.timer(timer)
            .header_read_timeout(limits.header_read)
            .keep_alive(!reserve);
        let conn = http
            .serve_connection(TokioIo::new(io), service)
            .with_upgrades();
        // The request's handler, its body and the direct upstream client are all polled
        // in this task: a hand-off between them must not make tokio requeue it.
        let repoll = gateway::repoll::Repoll::default();
        let mut conn = std::pin::pin!(conn);
        tokio::select! {
            result = std::future::poll_fn(|cx| repoll.poll(cx, |cx| conn.as_mut().poll(cx))) => {
                if let Err(e) = result {
                    tracing::debug!(%peer, "connection ended: {e}");
                }
                drop(place);
                return;
            }
            _ = stop.changed() => conn.as_mut().graceful_shutdown(),
        }
        if let Err(e) =
            std::future::poll_fn(|cx| repoll.poll(cx, |cx| conn.as_mut().poll(cx))).await
        {
            tracing::debug!(%peer, "connection ended: {e}");
        }
        drop(place);
    }
}

/// The answer on a reserve connection to anything but `/healthz`.
fn at_capacity(path: &str) -> Response {
    let mut res = if path.starts_with("/v1/") {
        gateway::ApiError::busy(1).into_response()
    } else {
        (
            http::StatusCode::SERVICE_UNAVAILABLE,
            [(http::header::RETRY_AFTER, "1")],
            "The server is at its connection limit; please retry shortly.",
        )
            .into_response()
    };
    res.headers_mut().insert(
        http::header::CONNECTION,
        http::HeaderValue::from_static("close"),
    );
    res
}

#[cfg(test)]
mod tests {
    use std::future::poll_fn;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::task::Poll;

    use axum::routing::get;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// Serves one request whose handler wakes its own task from inside its poll once (as
    /// the hand-offs between hyper's connection and a request or answer body do) and says
    /// whether a task spawned just before had run by the time the handler was polled again:
    /// requeued behind it, or polled again at once.
    async fn self_waking_request() -> String {
        let router = Router::new().route(
            "/x",
            get(|| async {
                let ran = Arc::new(AtomicBool::new(false));
                let marker = ran.clone();
                tokio::spawn(async move { marker.store(true, Ordering::SeqCst) });
                let mut woken = false;
                poll_fn(|cx| {
                    if woken {
                        return Poll::Ready(());
                    }
                    woken = true;
                    cx.waker().wake_by_ref();
                    Poll::Pending
                })
                .await;
                if ran.load(Ordering::SeqCst) {
                    "requeued"
                } else {
                    "polled again"
                }
            }),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let limits = Limits {
            header_read: Duration::from_secs(5),
            keepalive_idle: Duration::from_secs(5),
            body_read: Duration::from_secs(5),
            max_connections: 4,
        };
        tokio::spawn(serve(
            listener,
            router,
            None,
            limits,
            std::future::pending(),
        ));
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        tcp.write_all(b"GET /x HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut answer = String::new();
        tcp.read_to_string(&mut answer).await.unwrap();
        answer
    }

    /// One thread, so the order in which tasks run is the scheduler's alone.
    #[tokio::test(flavor = "current_thread")]
    async fn a_request_that_wakes_its_own_task_is_polled_again_not_requeued() {
        let answer = self_waking_request().await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.ends_with("polled again"), "{answer}");
    }
}
