//! A small HTTP/1.1 client for a plain-`http` upstream (the local Ollama) whose connection
//! is driven by the request's own task.
//!
//! Why not reqwest here: a pooled hyper connection runs in a task of its own and hands the
//! response body over one chunk at a time, each hand-off a task wake-up — for a stream,
//! one per token, often across threads. Polling the connection from the task that reads
//! the body decodes every chunk already received in one go, so the relay writes them to
//! the client in one syscall and no thread is woken in between (measured in
//! BENCHMARKS.md). The cloud upstream (https) keeps reqwest.
//!
//! Connections are kept alive in a small pool; one found closed when reused, before the
//! request went out, is replaced by a fresh one, and one idle longer than
//! [`Timeouts::idle`] is not reused at all. Connecting and waiting for the answer's head
//! are timed ([`Timeouts`]), so a hung upstream fails the request (and frees its local
//! place) instead of holding it for ever; the body is not timed, as a stream may last
//! minutes.
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use http::{header, HeaderValue, Method, Request, StatusCode};
use http_body::Body as _;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, Connection, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::repoll::Repoll;

type Conn = Connection<TokioIo<TcpStream>, Full<Bytes>>;

/// Idle connections kept at most.
const MAX_IDLE: usize = 256;

/// How long the client waits for an upstream, and how long it reuses a connection.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// To open the TCP connection.
    pub connect: Duration,
    /// From the start of a request to the answer's head (status and headers).
    pub head: Duration,
    /// A kept-alive connection idle longer than this is closed, not reused: the upstream
    /// may have forgotten it, or be a new process behind the same address.
    pub idle: Duration,
}

struct Pooled {
    sender: SendRequest<Full<Bytes>>,
    conn: Pin<Box<Conn>>,
    /// When it went back to the pool.
    idle_since: Instant,
}

/// Idle connections, oldest first (they are taken from and given back at the end, so the
/// order of `idle_since` holds).
struct Pool {
    conns: Mutex<Vec<Pooled>>,
    max_idle_time: Duration,
}

impl Pool {
    fn take(&self) -> Option<Pooled> {
        let mut conns = self.conns.lock().ok()?;
        let c = conns.pop()?;
        if c.idle_since.elapsed() < self.max_idle_time {
            return Some(c);
        }
        // The newest is too old, so are all the others; close them outside the lock.
        let stale = std::mem::take(&mut *conns);
        drop(conns);
        drop(stale);
        None
    }

    fn give_back(&self, mut c: Pooled) {
        let now = Instant::now();
        c.idle_since = now;
        let Ok(mut conns) = self.conns.lock() else {
            return;
        };
        let stale =
            conns.partition_point(|o| now.duration_since(o.idle_since) >= self.max_idle_time);
        let stale: Vec<Pooled> = conns.drain(..stale).collect();
        if conns.len() < MAX_IDLE {
            conns.push(c);
        }
        drop(conns);
        drop(stale);
    }
}

impl Pooled {
    /// Drives the connection; false once it has ended (closed or failed).
    fn drive(&mut self, cx: &mut Context<'_>) -> bool {
        self.conn.as_mut().poll(cx).is_pending()
    }
}

pub struct DirectClient {
    /// `host:port` to connect to, and the `Host` header.
    addr: String,
    host: HeaderValue,
    idle: Arc<Pool>,
    timeouts: Timeouts,
}

impl DirectClient {
    /// For `http://host[:port]` (no path); None for anything else.
    pub fn new(base: &str, timeouts: Timeouts) -> Option<Self> {
        let rest = base.strip_prefix("http://")?.trim_end_matches('/');
        if rest.is_empty() || rest.contains('/') || rest.contains('@') {
            return None;
        }
        let addr = if rest
            .rsplit_once(':')
            .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
            && !rest.ends_with(']')
        {
            rest.to_owned()
        } else {
            format!("{rest}:80")
        };
        Some(Self {
            host: HeaderValue::from_str(rest).ok()?,
            addr,
            idle: Arc::new(Pool {
                conns: Mutex::default(),
                max_idle_time: timeouts.idle,
            }),
            timeouts,
        })
    }

    async fn connect(&self) -> Result<Pooled, String> {
        let tcp = tokio::time::timeout(self.timeouts.connect, TcpStream::connect(&self.addr))
            .await
            .map_err(|_| "connect timed out".to_owned())?
            .map_err(|e| e.to_string())?;
        let _ = tcp.set_nodelay(true);
        let (sender, conn) = http1::handshake(TokioIo::new(tcp))
            .await
            .map_err(|e| e.to_string())?;
        Ok(Pooled {
            sender,
            conn: Box::pin(conn),
            idle_since: Instant::now(),
        })
    }

    /// POSTs `body` as JSON to `path`; why no response came, otherwise — the upstream
    /// refused the connection, or sent no answer's head within [`Timeouts::head`].
    pub async fn post(&self, path: &str, body: Bytes) -> Result<DirectResponse, String> {
        // On time out the connection is dropped with the future: it is never reused.
        match tokio::time::timeout(self.timeouts.head, self.exchange(path, body)).await {
            Ok(answer) => answer,
            Err(_) => Err(format!(
                "no answer within {} s",
                self.timeouts.head.as_secs_f32()
            )),
        }
    }

    async fn exchange(&self, path: &str, body: Bytes) -> Result<DirectResponse, String> {
        let mut reused = self.idle.take();
        let repoll = Repoll::default();
        loop {
            let fresh = reused.is_none();
            let mut c = match reused.take() {
                Some(c) => c,
                None => self.connect().await?,
            };
            let req = Request::builder()
                .method(Method::POST)
                .uri(path)
                .header(header::HOST, self.host.clone())
                .header(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                )
                .body(Full::new(body.clone()))
                .map_err(|e| e.to_string())?;
            match send(&mut c, req, &repoll).await {
                Ok(res) => {
                    return Ok(DirectResponse {
                        status: res.status(),
                        body: res.into_body(),
                        conn: Some(c),
                        idle: self.idle.clone(),
                        repoll,
                    });
                }
                // A kept-alive connection the upstream had closed: the request never went
                // out, so it is safe to send it again on a new one.
                Err(SendFail::Unsent) if !fresh => continue,
                Err(SendFail::Unsent) => {
                    return Err("connection closed".to_owned());
                }
                Err(SendFail::Failed(e)) => return Err(e),
            }
        }
    }
}

enum SendFail {
    /// The request did not go out: it may be sent again.
    Unsent,
    /// It went out (or may have) and no response came.
    Failed(String),
}

/// Sends `req`, driving the connection until the response head arrives.
async fn send(
    c: &mut Pooled,
    req: Request<Full<Bytes>>,
    repoll: &Repoll,
) -> Result<http::Response<Incoming>, SendFail> {
    // Ready (or closed) first: a reused connection may have been closed by the upstream.
    let ready = std::future::poll_fn(|cx| {
        repoll.poll(cx, |cx| {
            if !c.drive(cx) {
                return Poll::Ready(false);
            }
            c.sender.poll_ready(cx).map(|r| r.is_ok())
        })
    })
    .await;
    if !ready {
        return Err(SendFail::Unsent);
    }
    // Handed to the connection inside the poll: the hand-off wakes the connection's
    // waker, which is this task's (see `crate::repoll`).
    let mut req = Some(req);
    let mut fut = std::pin::pin!(None);
    let mut conn_alive = true;
    std::future::poll_fn(|cx| {
        repoll.poll(cx, |cx| {
            if let Some(req) = req.take() {
                fut.set(Some(c.sender.try_send_request(req)));
            }
            if conn_alive {
                conn_alive = c.conn.as_mut().poll(cx).is_pending();
            }
            let Some(fut) = fut.as_mut().as_pin_mut() else {
                return Poll::Pending;
            };
            fut.poll(cx).map(|r| {
                r.map_err(|e| {
                    if e.message().is_some() {
                        SendFail::Unsent
                    } else {
                        SendFail::Failed(e.error().to_string())
                    }
                })
            })
        })
    })
    .await
}

/// A response whose body is read by polling its connection in the same task.
pub struct DirectResponse {
    status: StatusCode,
    body: Incoming,
    /// Back to the pool once the body has been read to the end.
    conn: Option<Pooled>,
    idle: Arc<Pool>,
    /// The connection and the body are polled here, one after the other.
    repoll: Repoll,
}

impl DirectResponse {
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The whole body.
    pub async fn bytes(mut self) -> Result<Bytes, String> {
        let mut all = BytesMut::new();
        loop {
            match std::future::poll_fn(|cx| self.poll_chunk(cx)).await {
                Some(Ok(b)) => all.extend_from_slice(&b),
                Some(Err(e)) => return Err(e),
                None => return Ok(all.freeze()),
            }
        }
    }

    /// The next piece of the body: the connection is driven first, so whatever it has
    /// received is decoded before the body is asked.
    pub fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, String>>> {
        let Self {
            body,
            conn,
            idle,
            repoll,
            ..
        } = self;
        repoll.poll(cx, |cx| next_chunk(conn, body, idle, cx))
    }

    /// The body as a stream of pieces.
    pub fn into_stream(mut self) -> impl futures::Stream<Item = Result<Bytes, String>> + Send {
        futures::stream::poll_fn(move |cx| self.poll_chunk(cx))
    }
}

/// [`DirectResponse::poll_chunk`] under its [`Repoll`].
fn next_chunk(
    conn: &mut Option<Pooled>,
    body: &mut Incoming,
    idle: &Pool,
    cx: &mut Context<'_>,
) -> Poll<Option<Result<Bytes, String>>> {
    loop {
        if let Some(c) = conn {
            if !c.drive(cx) {
                // Ended: whatever it decoded is still in the body; nothing to reuse.
                *conn = None;
            }
        }
        match Pin::new(&mut *body).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                Ok(data) if data.is_empty() => continue,
                Ok(data) => return Poll::Ready(Some(Ok(data))),
                // Trailers: nothing the gateway uses.
                Err(_) => continue,
            },
            Poll::Ready(Some(Err(e))) => {
                *conn = None;
                return Poll::Ready(Some(Err(e.to_string())));
            }
            Poll::Ready(None) => {
                // The whole body: the connection can serve another request.
                if let Some(c) = conn.take() {
                    if !c.sender.is_closed() {
                        idle.give_back(c);
                    }
                }
                return Poll::Ready(None);
            }
            Poll::Pending => return Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{DirectClient, Timeouts};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    const LONG: Timeouts = Timeouts {
        connect: Duration::from_secs(5),
        head: Duration::from_secs(30),
        idle: Duration::from_secs(60),
    };

    /// An upstream that keeps connections alive and counts the ones it accepted.
    async fn counting_upstream() -> (String, Arc<AtomicUsize>) {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", l.local_addr().unwrap());
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        let l = axum::serve::ListenerExt::tap_io(l, move |_| {
            count.fetch_add(1, Ordering::SeqCst);
        });
        let app = axum::Router::new().route("/v1/x", axum::routing::post(|| async { "ok" }));
        tokio::spawn(async move { axum::serve(l, app).await });
        (base, accepted)
    }

    async fn post_ok(c: &DirectClient) {
        let res = c
            .post("/v1/x", bytes::Bytes::from_static(b"{}"))
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(&res.bytes().await.unwrap()[..], b"ok");
    }

    #[tokio::test]
    async fn a_connection_is_reused_while_fresh_and_not_once_idle_too_long() {
        let (base, accepted) = counting_upstream().await;
        let idle = Duration::from_millis(150);
        let c = DirectClient::new(&base, Timeouts { idle, ..LONG }).unwrap();
        post_ok(&c).await;
        post_ok(&c).await;
        assert_eq!(accepted.load(Ordering::SeqCst), 1, "reused while fresh");
        // Nothing to poll for: the idle limit is a span of time.
        tokio::time::sleep(idle + Duration::from_millis(50)).await;
        post_ok(&c).await;
        assert_eq!(accepted.load(Ordering::SeqCst), 2, "a new one once stale");
    }

    /// Counts the wake-ups a future gives its own task from inside its poll (each one a
    /// yield to tokio: the task requeued and an idle worker thread woken to take it).
    #[derive(Default)]
    struct Probe {
        polling: std::sync::atomic::AtomicBool,
        inside: AtomicUsize,
        task: std::sync::Mutex<Option<std::task::Waker>>,
    }

    impl std::task::Wake for Probe {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref();
        }

        fn wake_by_ref(self: &Arc<Self>) {
            if self.polling.load(Ordering::SeqCst) {
                self.inside.fetch_add(1, Ordering::SeqCst);
            }
            if let Some(t) = self.task.lock().unwrap().as_ref() {
                t.wake_by_ref();
            }
        }
    }

    async fn watched<F: std::future::Future>(probe: Arc<Probe>, f: F) -> F::Output {
        let mut f = std::pin::pin!(f);
        let waker = std::task::Waker::from(probe.clone());
        std::future::poll_fn(|cx| {
            *probe.task.lock().unwrap() = Some(cx.waker().clone());
            probe.polling.store(true, Ordering::SeqCst);
            let polled = f.as_mut().poll(&mut std::task::Context::from_waker(&waker));
            probe.polling.store(false, Ordering::SeqCst);
            polled
        })
        .await
    }

    #[tokio::test]
    async fn a_request_and_its_answer_never_wake_their_own_task_from_inside_its_poll() {
        let (base, accepted) = counting_upstream().await;
        let c = DirectClient::new(&base, LONG).unwrap();
        let probe = Arc::new(Probe::default());
        // A new connection, then the same one again from the pool.
        watched(probe.clone(), post_ok(&c)).await;
        watched(probe.clone(), post_ok(&c)).await;
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
        assert_eq!(probe.inside.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn an_upstream_that_accepts_and_never_answers_fails_within_the_head_timeout() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", l.local_addr().unwrap());
        // Accepts, reads what comes and never answers.
        tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            let mut buf = vec![0u8; 4096];
            while s.read(&mut buf).await.is_ok_and(|n| n > 0) {}
        });
        let head = Duration::from_millis(300);
        let c = DirectClient::new(&base, Timeouts { head, ..LONG }).unwrap();
        let started = Instant::now();
        let err = c.post("/v1/x", bytes::Bytes::from_static(b"{}")).await;
        assert!(err.is_err());
        assert!(started.elapsed() >= head);
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    /// An upstream that answers one request per connection and then closes it, as a
    /// server whose keep-alive ran out does.
    async fn one_answer_per_connection() -> (String, tokio::task::JoinHandle<usize>) {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", l.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let mut served = 0;
            while served < 3 {
                let (mut s, _) = l.accept().await.unwrap();
                let mut buf = vec![0u8; 4096];
                let mut got = Vec::new();
                while !String::from_utf8_lossy(&got).contains("{}") {
                    let n = s.read(&mut buf).await.unwrap();
                    if n == 0 {
                        break;
                    }
                    got.extend_from_slice(&buf[..n]);
                }
                s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                    .await
                    .unwrap();
                served += 1;
                // Closed right after the answer.
            }
            served
        });
        (base, task)
    }

    #[tokio::test]
    async fn a_kept_alive_connection_closed_by_the_upstream_is_replaced() {
        let (base, server) = one_answer_per_connection().await;
        let c = DirectClient::new(&base, LONG).unwrap();
        for _ in 0..3 {
            post_ok(&c).await;
            // Let the close arrive before the next request.
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_eq!(server.await.unwrap(), 3);
    }

    #[tokio::test]
    async fn nothing_listening_is_an_error_not_a_hang() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", l.local_addr().unwrap());
        drop(l);
        let c = DirectClient::new(&base, LONG).unwrap();
        assert!(c.post("/v1/x", bytes::Bytes::new()).await.is_err());
    }

    #[test]
    fn only_plain_http_bases_are_taken() {
        let c = DirectClient::new("http://127.0.0.1:11434", LONG).unwrap();
        assert_eq!(c.addr, "127.0.0.1:11434");
        assert_eq!(
            DirectClient::new("http://ollama/", LONG).unwrap().addr,
            "ollama:80"
        );
        assert!(DirectClient::new("https://ollama.com", LONG).is_none());
        assert!(DirectClient::new("http://host/prefix", LONG).is_none());
    }
}
