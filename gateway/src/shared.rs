//! The counters several instances share through Redis (when `REDIS_URL` is set): rate-limit
//! windows, requests in flight per local upstream, the day's cloud requests. Each
//! operation is one Lua script, so it is atomic across instances. Without Redis the same
//! counters live in this process.
use std::sync::LazyLock;

use redis::aio::ConnectionManager;
use redis::Script;

/// A Redis connection (multiplexed, reconnecting) and the key prefix of this deployment.
#[derive(Clone)]
pub struct Redis {
    client: redis::Client,
    conn: ConnectionManager,
    prefix: String,
}

const INCR_WINDOW: &str = r"
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n";

/// Takes a place in a sorted set of in-flight requests if fewer than the capacity are
/// there. Entries older than ARGV[2] (crashed instances) are dropped first.
const ACQUIRE_SLOT: &str = r"
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
local n = redis.call('ZCARD', KEYS[1])
if n < tonumber(ARGV[4]) then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[3])
  redis.call('PEXPIRE', KEYS[1], 3600000)
  return 1
end
return 0";

// Scripts hash their source once; later calls send only EVALSHA.
static INCR_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(INCR_WINDOW));
static ACQUIRE_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(ACQUIRE_SLOT));

impl Redis {
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let conn = ConnectionManager::new(client.clone()).await?;
        Ok(Self {
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
        let mut conn = self.conn.clone();
        INCR_SCRIPT
            .key(key)
            .arg(ttl_secs)
            .invoke_async(&mut conn)
            .await
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

    pub async fn try_acquire_slot(
        &self,
        key: &str,
        member: &str,
        capacity: u64,
        now_ms: u64,
        stale_before_ms: u64,
    ) -> Result<bool, redis::RedisError> {
        let mut conn = self.conn.clone();
        let got: i64 = ACQUIRE_SCRIPT
            .key(key)
            .arg(now_ms)
            .arg(stale_before_ms)
            .arg(member)
            .arg(capacity)
            .invoke_async(&mut conn)
            .await?;
        Ok(got == 1)
    }

    pub async fn release_slot(&self, key: &str, member: &str) -> Result<(), redis::RedisError> {
        let mut conn = self.conn.clone();
        redis::cmd("ZREM")
            .arg(key)
            .arg(member)
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
