//! The counters several instances share through Redis (when `REDIS_URL` is set): rate-limit
//! windows, requests in flight per local upstream, the day's cloud requests. Each
//! operation is one Lua script, so it is atomic across instances; a request's window and
//! its place in flight are one script ([`Redis::admit`]), and places given back ride on
//! the next script (or a batched `ZREM`, `capacity`). Without Redis the same counters live
//! in this process.
use std::sync::{Arc, LazyLock};

use redis::aio::ConnectionManager;
use redis::Script;

mod in_task;

/// A Redis connection (multiplexed, reconnecting), the connections the scripts are sent on
/// from the request's own task, and the key prefix of this deployment.
#[derive(Clone)]
pub struct Redis {
    client: redis::Client,
    conn: ConnectionManager,
    /// None for addresses it does not drive (TLS, Unix sockets): then everything goes
    /// through `conn`.
    in_task: Option<Arc<in_task::InTask>>,
    prefix: String,
}

/// A Lua script sent by its SHA1 (`EVALSHA`); after a `NOSCRIPT` (the server restarted,
/// failed over, or ran `SCRIPT FLUSH`) by its source (`EVAL`, which caches it again).
pub struct Lua {
    src: &'static str,
    sha: String,
}

impl Lua {
    fn new(src: &'static str) -> Self {
        Self {
            src,
            sha: Script::new(src).get_hash().to_owned(),
        }
    }
}

const INCR_WINDOW: &str = r"
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n";

/// Takes a place in a sorted set of in-flight requests if fewer than the capacity are
/// there. Entries older than ARGV[2] (crashed instances) are dropped first; before that,
/// the places given back since the last call (ARGV[5..]) are removed.
const ACQUIRE_SLOT: &str = r"
for i = 5, #ARGV do redis.call('ZREM', KEYS[1], ARGV[i]) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
local n = redis.call('ZCARD', KEYS[1])
if n < tonumber(ARGV[4]) then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[3])
  redis.call('PEXPIRE', KEYS[1], 3600000)
  return 1
end
return 0";

/// One request's admission in one round trip: the places given back since the last call
/// (ARGV[8..]) are removed from the in-flight set (KEYS[2]); the rate-limit window
/// (KEYS[1], expiring ARGV[1] s after its first use) is counted; and when the count is
/// within the limit (ARGV[2]) and a place is wanted (ARGV[3] = '1'), one is taken as in
/// ACQUIRE_SLOT (ARGV[4] now, ARGV[5] stale before, ARGV[6] member, ARGV[7] capacity).
/// Returns {count, 1 if a place was taken else 0}.
const ADMIT: &str = r"
for i = 8, #ARGV do redis.call('ZREM', KEYS[2], ARGV[i]) end
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local slot = 0
if ARGV[3] == '1' and n <= tonumber(ARGV[2]) then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[5])
  if redis.call('ZCARD', KEYS[2]) < tonumber(ARGV[7]) then
    redis.call('ZADD', KEYS[2], ARGV[4], ARGV[6])
    redis.call('PEXPIRE', KEYS[2], 3600000)
    slot = 1
  end
end
return {n, slot}";

// Scripts hash their source once; calls send only EVALSHA.
static INCR_SCRIPT: LazyLock<Lua> = LazyLock::new(|| Lua::new(INCR_WINDOW));
static ACQUIRE_SCRIPT: LazyLock<Lua> = LazyLock::new(|| Lua::new(ACQUIRE_SLOT));
static ADMIT_SCRIPT: LazyLock<Lua> = LazyLock::new(|| Lua::new(ADMIT));

/// What [`Redis::admit`] is asked: the window, and maybe a place.
pub struct AdmitArgs<'a> {
    pub window_key: &'a str,
    pub window_ttl_secs: u64,
    pub limit: u32,
    /// The in-flight set; with `member`, a place is wanted.
    pub slots_key: &'a str,
    pub member: Option<&'a str>,
    pub capacity: u64,
    pub now_ms: u64,
    pub stale_before_ms: u64,
    /// Places given back since the last call, removed first.
    pub give_back: &'a [String],
}

impl Redis {
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let conn = ConnectionManager::new(client.clone()).await?;
        Ok(Self {
            in_task: in_task::InTask::new(&client).map(Arc::new),
            client,
            conn,
            prefix: prefix.to_owned(),
        })
    }

    pub fn key(&self, name: &str) -> String {
        format!("{}:{name}", self.prefix)
    }

    /// Adds one to a counter that expires `ttl_secs` after its first use; the new value.
    pub async fn incr_window(&self, key: &str, ttl_secs: u64) -> Result<u64, redis::RedisError> {
        self.eval(&INCR_SCRIPT, |c| {
            c.arg(1).arg(key).arg(ttl_secs);
        })
        .await
    }

    /// Runs `lua` with the keys and arguments `args` adds after the key count's place
    /// (the count included): `EVALSHA`, then `EVAL` if the server lacks the script.
    async fn eval<T: redis::FromRedisValue>(
        &self,
        lua: &Lua,
        args: impl Fn(&mut redis::Cmd),
    ) -> Result<T, redis::RedisError> {
        let mut cmd = redis::cmd("EVALSHA");
        cmd.arg(&lua.sha);
        args(&mut cmd);
        match self.query(&cmd).await {
            Err(e) if e.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::NoScript) => {
                let mut cmd = redis::cmd("EVAL");
                cmd.arg(lua.src);
                args(&mut cmd);
                self.query(&cmd).await
            }
            other => other,
        }
    }

    /// A command of the request path: on a connection of the calling task's own while
    /// one is free (`in_task`), else through the multiplexed connection.
    async fn query<T: redis::FromRedisValue>(
        &self,
        cmd: &redis::Cmd,
    ) -> Result<T, redis::RedisError> {
        if let Some(direct) = &self.in_task {
            if let Some(reply) = direct.query(cmd).await {
                return Ok(redis::from_redis_value(reply?)?);
            }
        }
        let mut conn = self.conn.clone();
        cmd.query_async(&mut conn).await
    }

    /// Counts a request in its rate-limit window and, when asked and within the limit,
    /// takes a place among the in-flight requests, giving back `give_back` first — one
    /// round trip ([`ADMIT`]). The window's count, and whether a place was taken.
    pub async fn admit(&self, a: &AdmitArgs<'_>) -> Result<(u64, bool), redis::RedisError> {
        let (n, slot): (u64, i64) = self
            .eval(&ADMIT_SCRIPT, |c| {
                c.arg(2)
                    .arg(a.window_key)
                    .arg(a.slots_key)
                    .arg(a.window_ttl_secs)
                    .arg(a.limit)
                    .arg(if a.member.is_some() { "1" } else { "0" })
                    .arg(a.now_ms)
                    .arg(a.stale_before_ms)
                    .arg(a.member.unwrap_or(""))
                    .arg(a.capacity);
                for m in a.give_back {
                    c.arg(m);
                }
            })
            .await?;
        Ok((n, slot == 1))
    }

    /// Sets a counter unless it exists (seeding after a restart).
    pub async fn seed(
        &self,
        key: &str,
        value: u64,
        ttl_secs: u64,
    ) -> Result<(), redis::RedisError> {
        let mut conn = self.conn.clone();
        redis::cmd("SET")
            .arg(key)
            .arg(value)
            .arg("NX")
            .arg("EX")
            .arg(ttl_secs)
            .query_async::<()>(&mut conn)
            .await
    }

    pub async fn get_u64(&self, key: &str) -> Result<u64, redis::RedisError> {
        let mut conn = self.conn.clone();
        let v: Option<u64> = redis::cmd("GET").arg(key).query_async(&mut conn).await?;
        Ok(v.unwrap_or(0))
    }

    /// Takes a place if fewer than `capacity` are taken, giving back `give_back` first.
    pub async fn try_acquire_slot(
        &self,
        key: &str,
        member: &str,
        capacity: u64,
        now_ms: u64,
        stale_before_ms: u64,
        give_back: &[String],
    ) -> Result<bool, redis::RedisError> {
        let got: i64 = self
            .eval(&ACQUIRE_SCRIPT, |c| {
                c.arg(1)
                    .arg(key)
                    .arg(now_ms)
                    .arg(stale_before_ms)
                    .arg(member)
                    .arg(capacity);
                for m in give_back {
                    c.arg(m);
                }
            })
            .await?;
        Ok(got == 1)
    }

    /// Gives places back, several in one command.
    pub async fn release_slots(
        &self,
        key: &str,
        members: &[String],
    ) -> Result<(), redis::RedisError> {
        let mut conn = self.conn.clone();
        redis::cmd("ZREM")
            .arg(key)
            .arg(members)
            .query_async::<()>(&mut conn)
            .await
    }

    pub async fn publish(&self, channel: &str, message: i64) -> Result<(), redis::RedisError> {
        let mut conn = self.conn.clone();
        redis::cmd("PUBLISH")
            .arg(channel)
            .arg(message)
            .query_async::<()>(&mut conn)
            .await
    }

    /// Calls `each` with every message published on `channel` from now on, until the
    /// connection breaks (an error then).
    pub async fn subscribe(
        &self,
        channel: &str,
        mut each: impl FnMut(i64),
    ) -> Result<(), redis::RedisError> {
        use futures::StreamExt;
        let mut pubsub = self.client.get_async_pubsub().await?;
        pubsub.subscribe(channel).await?;
        let mut messages = pubsub.on_message();
        while let Some(msg) = messages.next().await {
            if let Ok(n) = msg.get_payload::<i64>() {
                each(n);
            }
        }
        Err(redis::RedisError::from(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "subscription ended",
        )))
    }

    /// PING, for the readiness check.
    pub async fn ping(&self) -> Result<(), redis::RedisError> {
        let mut conn = self.conn.clone();
        redis::cmd("PING").query_async::<()>(&mut conn).await
    }

    pub async fn slots_in_use(&self, key: &str) -> Result<u64, redis::RedisError> {
        let mut conn = self.conn.clone();
        redis::cmd("ZCARD").arg(key).query_async(&mut conn).await
    }
}
