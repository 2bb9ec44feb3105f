//! Commands sent over Redis connections that the calling task drives itself.
//!
//! Why: the multiplexed connection of the `redis` crate runs in a task of its own; every
//! command is handed to that task and its reply handed back, two task wake-ups per
//! command, often on the other worker thread (a futex wake each). The per-request script
//! of the gateway (`Redis::admit`) is one command per request, so with Redis those
//! hand-offs were about half of a request's CPU at concurrency 1 (BENCHMARKS.md). Here
//! the request's task writes the command and reads the reply on a connection it holds
//! alone for that time, as `crate::direct` does for Ollama.
//!
//! Bounded: at most [`MAX_CONNECTIONS`] such connections exist; a command that finds them
//! all busy goes through the multiplexed connection instead (under load it pipelines, and
//! Redis is not asked for a connection per open request). Only plain `redis://` TCP
//! addresses (with a password, a user and a database number) are driven here; anything
//! else (TLS, Unix sockets, RESP3) always uses the multiplexed connection.
//!
//! Timeouts as the multiplexed connection's defaults: 1 s to connect, 500 ms for a
//! reply. A connection that failed, timed out or was dropped mid-command is closed, never
//! reused. A kept-alive connection that Redis closed meanwhile is noticed before it is
//! written to (its end of stream has arrived) and replaced.
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::BytesMut;
use redis::{ConnectionAddr, RedisError, RedisResult, Value, ValueCodec};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::codec::Decoder;

/// Connections driven by request tasks, at most. Few: they are for the quiet case (a
/// command in a request's task instead of two hand-offs), and under load the multiplexed
/// connection pipelines commands, which costs less per command than a connection each
/// (with 32, 64 concurrent requests ran 12% slower; with 4, as fast as without).
pub const MAX_CONNECTIONS: usize = 4;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
const REPLY_TIMEOUT: Duration = Duration::from_millis(500);

pub struct InTask {
    host: String,
    port: u16,
    /// `AUTH` and `SELECT`, packed, sent on every new connection; and how many replies
    /// they get.
    hello: Vec<u8>,
    hello_replies: usize,
    idle: Mutex<Vec<Conn>>,
    /// A permit per connection that exists (idle or in use).
    permits: Arc<Semaphore>,
}

struct Conn {
    tcp: TcpStream,
    buf: BytesMut,
    codec: ValueCodec,
    _permit: OwnedSemaphorePermit,
}

fn io_error(kind: std::io::ErrorKind, what: &'static str) -> RedisError {
    RedisError::from(std::io::Error::new(kind, what))
}

impl InTask {
    /// For a plain TCP address in RESP2; None for anything else.
    pub fn new(client: &redis::Client) -> Option<Self> {
        Self::with_connections(client, MAX_CONNECTIONS)
    }

    pub fn with_connections(client: &redis::Client, max: usize) -> Option<Self> {
        let info = client.get_connection_info();
        let ConnectionAddr::Tcp(host, port) = info.addr() else {
            return None;
        };
        let settings = info.redis_settings();
        if settings.protocol() != redis::ProtocolVersion::RESP2 {
            return None;
        }
        let mut hello = Vec::new();
        let mut hello_replies = 0;
        if let Some(password) = settings.password() {
            let mut auth = redis::cmd("AUTH");
            if let Some(user) = settings.username() {
                auth.arg(user);
            }
            auth.arg(password);
            hello.extend(auth.get_packed_command());
            hello_replies += 1;
        }
        if settings.db() != 0 {
            hello.extend(redis::cmd("SELECT").arg(settings.db()).get_packed_command());
            hello_replies += 1;
        }
        Some(Self {
            host: host.clone(),
            port: *port,
            hello,
            hello_replies,
            idle: Mutex::default(),
            permits: Arc::new(Semaphore::new(max)),
        })
    }

    /// Sends `cmd` and reads its reply on a connection of this task's own; None when all
    /// [`MAX_CONNECTIONS`] are in use (the caller sends it the other way). A server error
    /// comes back as an `Err`.
    pub async fn query(&self, cmd: &redis::Cmd) -> Option<RedisResult<Value>> {
        let (mut conn, reused) = match self.take_idle() {
            Some(c) => (c, true),
            None => {
                let permit = self.permits.clone().try_acquire_owned().ok()?;
                match self.connect(permit).await {
                    Ok(c) => (c, false),
                    Err(e) => return Some(Err(e)),
                }
            }
        };
        let packed = cmd.get_packed_command();
        let reply = match conn.exchange(&packed).await {
            Err(Failed::Closed) if reused => {
                // Redis closed it before it read anything (a restart, a client timeout):
                // the command was not run; once more on a new connection.
                let permit = conn._permit;
                let mut fresh = match self.connect(permit).await {
                    Ok(c) => c,
                    Err(e) => return Some(Err(e)),
                };
                let reply = fresh.exchange(&packed).await;
                conn = fresh;
                reply
            }
            other => other,
        };
        Some(match reply {
            Ok(v) => {
                self.give_back(conn);
                v.extract_error()
            }
            Err(f) => Err(f.into()),
        })
    }

    /// An idle connection that Redis has not closed meanwhile.
    fn take_idle(&self) -> Option<Conn> {
        loop {
            let c = self.idle.lock().ok()?.pop()?;
            // Nothing may arrive on an idle connection but its end (or an error): if
            // something is readable, it is closed.
            let mut probe = [0u8; 1];
            match c.tcp.try_read(&mut probe) {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Some(c),
                _ => continue, // closed (or out of step): dropped
            }
        }
    }

    fn give_back(&self, c: Conn) {
        if !c.buf.is_empty() {
            return; // More than one reply arrived: out of step, closed.
        }
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(c);
        }
    }

    async fn connect(&self, permit: OwnedSemaphorePermit) -> RedisResult<Conn> {
        let tcp = tokio::time::timeout(
            CONNECT_TIMEOUT,
            TcpStream::connect((self.host.as_str(), self.port)),
        )
        .await
        .map_err(|_| {
            io_error(
                std::io::ErrorKind::TimedOut,
                "connecting to Redis timed out",
            )
        })??;
        let _ = tcp.set_nodelay(true);
        let mut conn = Conn {
            tcp,
            buf: BytesMut::with_capacity(256),
            codec: ValueCodec::default(),
            _permit: permit,
        };
        if self.hello_replies > 0 {
            conn.send(&self.hello).await?;
            for _ in 0..self.hello_replies {
                conn.read_reply().await?.extract_error()?;
            }
        }
        Ok(conn)
    }
}

enum Failed {
    /// The connection was found closed before any byte of the reply.
    Closed,
    Other(RedisError),
}

impl From<Failed> for RedisError {
    fn from(f: Failed) -> Self {
        match f {
            Failed::Closed => io_error(
                std::io::ErrorKind::ConnectionReset,
                "Redis closed the connection",
            ),
            Failed::Other(e) => e,
        }
    }
}

impl Conn {
    /// Writes `packed` and reads its reply. A connection found dropped before any byte
    /// of the reply came is [`Failed::Closed`] (the command did not run).
    async fn exchange(&mut self, packed: &[u8]) -> Result<Value, Failed> {
        let exchanged = tokio::time::timeout(REPLY_TIMEOUT, async {
            self.send(packed).await.map_err(Failed::Other)?;
            self.read_reply().await
        })
        .await
        .unwrap_or_else(|_| {
            Err(Failed::Other(io_error(
                std::io::ErrorKind::TimedOut,
                "Redis did not answer in time",
            )))
        });
        exchanged.map_err(|f| match f {
            Failed::Other(e) if e.is_connection_dropped() && self.buf.is_empty() => Failed::Closed,
            f => f,
        })
    }

    async fn send(&mut self, packed: &[u8]) -> RedisResult<()> {
        self.tcp.write_all(packed).await?;
        Ok(())
    }

    async fn read_reply(&mut self) -> Result<Value, Failed> {
        loop {
            match self.codec.decode(&mut self.buf) {
                Ok(Some(v)) => return Ok(v),
                Ok(None) => {}
                Err(e) => return Err(Failed::Other(e)),
            }
            let n = self
                .tcp
                .read_buf(&mut self.buf)
                .await
                .map_err(|e| Failed::Other(e.into()))?;
            if n == 0 {
                return Err(if self.buf.is_empty() {
                    Failed::Closed
                } else {
                    Failed::Other(io_error(
                        std::io::ErrorKind::UnexpectedEof,
                        "Redis closed the connection mid-reply",
                    ))
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::InTask;
    use redis::Value;

    const URL: &str = "redis://127.0.0.1:6379";

    fn client(url: &str) -> redis::Client {
        redis::Client::open(url).unwrap()
    }

    fn key(name: &str) -> String {
        format!("in-task-test-{}-{name}", rand::random::<u32>())
    }

    async fn query(c: &InTask, cmd: &redis::Cmd) -> Value {
        c.query(cmd).await.expect("a connection").expect("a reply")
    }

    #[tokio::test]
    async fn replies_come_back_in_order_and_connections_are_reused() {
        let c = InTask::new(&client(URL)).unwrap();
        let k = key("incr");
        for i in 1..=5 {
            assert_eq!(query(&c, redis::cmd("INCR").arg(&k)).await, Value::Int(i));
        }
        assert_eq!(c.idle.lock().unwrap().len(), 1, "one connection, reused");
        let err = c.query(&redis::cmd("NOSUCHCOMMAND")).await.unwrap();
        assert!(err.is_err());
        // After an error reply the connection is still in step.
        assert_eq!(query(&c, redis::cmd("INCR").arg(&k)).await, Value::Int(6));
        query(&c, redis::cmd("DEL").arg(&k)).await;
    }

    #[tokio::test]
    async fn the_database_of_the_url_is_selected() {
        let k = key("db");
        let c = InTask::new(&client(&format!("{URL}/5"))).unwrap();
        query(&c, redis::cmd("SET").arg(&k).arg("x")).await;
        assert_eq!(
            get_over_multiplexed(&format!("{URL}/5"), &k)
                .await
                .as_deref(),
            Some("x")
        );
        assert_eq!(get_over_multiplexed(URL, &k).await, None);
        query(&c, redis::cmd("DEL").arg(&k)).await;
    }

    /// `GET key` through the redis crate's own connection to `url`.
    async fn get_over_multiplexed(url: &str, key: &str) -> Option<String> {
        let mut conn = client(url)
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        redis::cmd("GET")
            .arg(key)
            .query_async(&mut conn)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_connection_redis_closed_while_idle_is_replaced_and_the_command_runs_once() {
        let c = InTask::new(&client(URL)).unwrap();
        let k = key("killed");
        assert_eq!(query(&c, redis::cmd("INCR").arg(&k)).await, Value::Int(1));
        let Value::Int(id) = query(&c, &redis::cmd("CLIENT").arg("ID").clone()).await else {
            panic!("CLIENT ID is an integer");
        };
        let mut admin = client(URL)
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        let _: () = redis::cmd("CLIENT")
            .arg("KILL")
            .arg("ID")
            .arg(id)
            .query_async(&mut admin)
            .await
            .unwrap();
        // Let the close arrive.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert_eq!(query(&c, redis::cmd("INCR").arg(&k)).await, Value::Int(2));
        let _: () = redis::cmd("DEL")
            .arg(&k)
            .query_async(&mut admin)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn with_every_connection_busy_the_caller_is_told_to_go_the_other_way() {
        let c = std::sync::Arc::new(InTask::with_connections(&client(URL), 2).unwrap());
        // Two commands that block for a moment hold both connections.
        let mut blocked = Vec::new();
        for _ in 0..2 {
            let c = c.clone();
            let k = key("blpop");
            blocked.push(tokio::spawn(async move {
                c.query(redis::cmd("BLPOP").arg(&k).arg("0.2"))
                    .await
                    .map(|r| r.is_ok())
            }));
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(
            c.query(&redis::cmd("PING")).await.is_none(),
            "no third connection"
        );
        for b in blocked {
            assert_eq!(b.await.unwrap(), Some(true));
        }
        assert!(c.query(&redis::cmd("PING")).await.is_some());
    }

    #[tokio::test]
    async fn a_server_that_never_answers_fails_the_command_within_the_reply_timeout() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        tokio::spawn(async move {
            let (s, _) = l.accept().await.unwrap();
            tokio::time::sleep(std::time::Duration::from_secs(10)).await;
            drop(s);
        });
        let c = InTask::new(&client(&format!("redis://127.0.0.1:{port}"))).unwrap();
        let started = std::time::Instant::now();
        let r = c.query(&redis::cmd("PING")).await.unwrap();
        assert!(r.is_err());
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        assert!(
            c.idle.lock().unwrap().is_empty(),
            "a timed-out connection is not kept"
        );
    }

    #[test]
    fn only_plain_tcp_addresses_are_driven_here() {
        assert!(InTask::new(&client("redis://127.0.0.1:6379")).is_some());
        assert!(InTask::new(&client("redis+unix:///tmp/redis.sock")).is_none());
        assert!(InTask::new(&client("redis://127.0.0.1:6379/?protocol=resp3")).is_none());
    }
}
