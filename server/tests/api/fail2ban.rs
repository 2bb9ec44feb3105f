//! fail2ban for real (NOTIF-09): the `resayil` binary runs as a child process with its
//! output in a log file; Debian's fail2ban runs without systemd on a temporary
//! configuration made of `deploy/fail2ban`'s filter and action; wrong passwords go to the
//! real login endpoint; the ban must reach the portal and the admins' alert the outbox,
//! and the unban must reach the portal too. Needs `fail2ban-client` (scripts/test.sh
//! installs Debian's package).
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use domain::notify::{self, bans, Status, Worker, WorkerConfig};
use domain::{Services, Settings};

use crate::helpers::{database_count, database_url, unique_phone};

const JAIL: &str = "resayil-auth";

#[tokio::test]
async fn failed_logins_get_the_address_banned_by_fail2ban_and_the_admins_alerted() {
    assert!(
        std::process::Command::new("fail2ban-client")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success()),
        "fail2ban is not installed: apt-get install -y --no-install-recommends fail2ban \
         (scripts/test.sh does it)"
    );
    for n in 0..database_count() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = database_url(n, &dir).await;
        ban_round_trip(dir.path(), &url).await;
    }
}

async fn ban_round_trip(dir: &Path, database_url: &str) {
    let token = domain::keys::random_token(24);
    let admin = unique_phone();
    let portal = Portal::start(dir, database_url, &token, &admin).await;
    let f2b = Fail2ban::start(dir, &portal, &token).await;

    // (Building the domain services also installs the TLS provider reqwest needs.)
    let svc = observer(database_url, &admin).await;

    // The shared token guards the endpoint; the body must make sense.
    let hook = format!("{}/internal/fail2ban", portal.addr);
    let http = reqwest::Client::new();
    let ban = serde_json::json!({"event": "ban", "jail": JAIL, "ip": "not-an-ip"});
    let res = http.post(&hook).json(&ban).send().await.expect("post");
    assert_eq!(res.status(), 401);
    let res = http
        .post(&hook)
        .header("x-fail2ban-token", "wrong")
        .json(&ban)
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 401);
    let res = http
        .post(&hook)
        .header("x-fail2ban-token", &token)
        .json(&ban)
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 400);

    let since = domain::time::now() - 5; // bans of earlier runs on a shared database
                                         // An attacker behind the portal's proxy guesses passwords (with a name that would
                                         // run commands if any shell evaluated it).
    let ip = unique_ip();
    let user = "o'brien\"$(touch${ifs}pwned)@example.com";
    for _ in 0..3 {
        let res = http
            .post(format!("{}/api/login", portal.addr))
            .header("origin", &portal.addr)
            .header("x-forwarded-for", &ip)
            .header("accept", "application/json")
            .form(&[("email", user), ("password", "not-the-password")])
            .send()
            .await
            .expect("login");
        assert!(!res.status().is_success(), "{}", res.status());
        assert_ne!(
            res.status(),
            403,
            "the login form was refused as cross-site"
        );
    }

    // fail2ban reads the log, bans, and its action tells the portal.
    let recorded = poll(&portal, &f2b, "the ban to reach the portal", || async {
        bans::recent(&svc.db, 100)
            .await
            .expect("bans")
            .into_iter()
            .find(|b| b.ip == ip && b.banned_at >= since)
    })
    .await;
    assert_eq!(recorded.jail, JAIL);
    assert_eq!(recorded.failures, 3);
    assert_eq!(recorded.bantime, 3600);
    assert_eq!(
        recorded.user.as_deref(),
        Some(user),
        "the name arrives verbatim"
    );
    assert!(recorded.unbanned_at.is_none());

    // The notification worker turns it into one alert for the admin number.
    let worker = Worker::new(svc.clone(), WorkerConfig::default());
    let alert = poll(&portal, &f2b, "the admin alert in the outbox", || async {
        worker.run_once().await.expect("worker pass");
        notify::recent(&svc.db, 500)
            .await
            .expect("outbox")
            .into_iter()
            .find(|m| m.kind == "ip_banned" && m.to == admin && m.body.contains(&ip))
    })
    .await;
    assert_eq!(alert.lang, "ar");
    assert_eq!(alert.status, Status::Sent, "{:?}", alert.last_error);
    assert!(alert.body.contains(JAIL), "{}", alert.body);
    // (Other tests' admin alerts may reach this number when they share a database.)
    let alerts = notify::recent(&svc.db, 500).await.expect("outbox");
    let mine = alerts
        .iter()
        .filter(|m| m.to == admin && m.kind == "ip_banned" && m.body.contains(&ip))
        .count();
    assert_eq!(mine, 1, "one ban, one alert");

    // A repeated report of the same ban changes nothing; an unban is recorded.
    let same = serde_json::json!({
        "event": "ban", "jail": JAIL, "ip": ip, "failures": 3,
        "time": recorded.banned_at, "bantime": 3600, "user": user,
    });
    let res = http
        .post(&hook)
        .header("x-fail2ban-token", &token)
        .json(&same)
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["recorded"], false);
    f2b.client(&["set", JAIL, "unbanip", &ip]);
    poll(&portal, &f2b, "the unban to reach the portal", || async {
        bans::recent(&svc.db, 100)
            .await
            .expect("bans")
            .into_iter()
            .find(|b| b.ip == ip && b.banned_at >= since && b.unbanned_at.is_some())
    })
    .await;
}

/// A domain view of the portal's database, with the portal's admin numbers.
async fn observer(database_url: &str, admin: &str) -> Services {
    Services::build(Settings {
        database_url: database_url.to_owned(),
        admin_phones: admin.to_owned(),
        ..Settings::default()
    })
    .await
    .expect("services")
}

/// An address from TEST-NET-2 unlikely to repeat between runs.
fn unique_ip() -> String {
    let n: u64 = unique_phone()[5..].parse().unwrap_or(7);
    format!("198.51.{}.{}", 100 + n % 100, 1 + n / 100 % 254)
}

/// Polls `check` until it gives a value, failing after 30 seconds with both logs.
async fn poll<T, F, Fut>(portal: &Portal, f2b: &Fail2ban, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        if start.elapsed() > Duration::from_secs(30) {
            panic!(
                "timed out waiting for {what}\n--- portal log ---\n{}\n--- fail2ban log ---\n{}",
                tail(&portal.log),
                tail(&f2b.dir.join("fail2ban.log"))
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// The `resayil` binary serving on a free port, its output appended to `log`.
struct Portal {
    addr: String,
    log: PathBuf,
    _child: tokio::process::Child,
}

impl Portal {
    async fn start(dir: &Path, database_url: &str, token: &str, admin: &str) -> Self {
        let log = dir.join("portal.log");
        let out = std::fs::File::create(&log).expect("log file");
        let err = out.try_clone().expect("log file");
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_resayil"));
        for name in domain::settings::ENV_VARS {
            cmd.env_remove(name);
        }
        let child = cmd
            .arg("serve")
            .current_dir(dir)
            .env_remove("RESAYIL_CONFIG")
            .env("RUST_LOG", "info")
            .env("DATABASE_URL", database_url)
            .env("LEPTOS_OUTPUT_NAME", "resayil")
            .env("LEPTOS_SITE_ROOT", dir.join("site"))
            .env("LEPTOS_SITE_PKG_DIR", "pkg")
            .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
            .env("PUBLIC_BASE_URL", "http://127.0.0.1")
            .env("TRUST_FORWARDED_FOR", "true")
            .env("FAIL2BAN_TOKEN", token)
            .env("ADMIN_PHONES", admin)
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .kill_on_drop(true)
            .spawn()
            .expect("start resayil");
        let start = Instant::now();
        let addr = loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if let Some(at) = text.find("serving addr=") {
                let rest = &text[at + "serving addr=".len()..];
                break format!("http://{}", rest.split_whitespace().next().unwrap_or(""));
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "the portal did not start:\n{text}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        Self {
            addr,
            log,
            _child: child,
        }
    }
}

/// fail2ban on a temporary configuration: the shipped filter and action, a jail on the
/// portal's log. Stopped when dropped.
struct Fail2ban {
    dir: PathBuf,
}

impl Fail2ban {
    async fn start(dir: &Path, portal: &Portal, token: &str) -> Self {
        let conf = dir.join("fail2ban");
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/fail2ban");
        for sub in ["filter.d", "action.d"] {
            std::fs::create_dir_all(conf.join(sub)).expect("mkdir");
        }
        for file in ["filter.d/resayil-auth.conf", "action.d/resayil-portal.conf"] {
            std::fs::copy(shipped.join(file), conf.join(file)).expect("copy deploy/fail2ban");
        }
        let c = conf.display();
        write(
            &conf.join("fail2ban.conf"),
            &format!(
                "[Definition]\nloglevel = INFO\nlogtarget = {c}/fail2ban.log\n\
                 syslogsocket = auto\nsocket = {c}/fail2ban.sock\npidfile = {c}/fail2ban.pid\n\
                 allowipv6 = auto\ndbfile = :memory:\ndbpurgeage = 1d\n"
            ),
        );
        write(
            &conf.join("jail.conf"),
            &format!(
                "[DEFAULT]\nbackend = polling\nusedns = no\n\n[{JAIL}]\nenabled = true\n\
                 filter = resayil-auth\nlogpath = {}\nmaxretry = 3\nfindtime = 10m\n\
                 bantime = 1h\naction = resayil-portal[url=\"{}/internal/fail2ban\", token=\"{token}\"]\n",
                portal.log.display(),
                portal.addr,
            ),
        );
        let f2b = Self { dir: conf };
        f2b.client(&["-x", "start"]);
        let start = Instant::now();
        while !f2b.try_client(&["status", JAIL]) {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "fail2ban did not start:\n{}",
                tail(&f2b.dir.join("fail2ban.log"))
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        f2b
    }

    fn try_client(&self, args: &[&str]) -> bool {
        std::process::Command::new("fail2ban-client")
            .arg("-c")
            .arg(&self.dir)
            .args(args)
            .output()
            .is_ok_and(|o| o.status.success())
    }

    fn client(&self, args: &[&str]) {
        assert!(
            self.try_client(args),
            "fail2ban-client {args:?} failed:\n{}",
            tail(&self.dir.join("fail2ban.log"))
        );
    }
}

impl Drop for Fail2ban {
    fn drop(&mut self) {
        let _ = self.try_client(&["stop"]);
    }
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).expect("write config");
}
