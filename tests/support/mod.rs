//! Shared test helpers: throwaway databases on SQLite and PostgreSQL, and an app with a
//! controllable clock.
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use rally::app::{App, Clock};
use rally::chat::handler::{Incoming, Outcome};
use rally::config::Config;
use rally::engine::partner::Platform;
use rally::store::Store;

/// A database that exists for one test and is dropped afterwards.
pub struct TestDb {
    pub store: Store,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg_drop: Option<(String, String)>,
}

impl TestDb {
    /// A fresh SQLite file in a temp directory.
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("rally.db").display());
        let store = Store::connect(&url).await.expect("connect sqlite");
        store.migrate().await.expect("migrate sqlite");
        TestDb {
            store,
            url,
            _dir: Some(dir),
            pg_drop: None,
        }
    }

    /// A fresh PostgreSQL database, or `None` (with a note) when `RALLY_TEST_POSTGRES_URL` is unset.
    pub async fn postgres(test: &str) -> Option<TestDb> {
        let Ok(admin_url) = std::env::var("RALLY_TEST_POSTGRES_URL") else {
            eprintln!("skipped {test} on PostgreSQL: RALLY_TEST_POSTGRES_URL is not set");
            return None;
        };
        let name = format!("rally_test_{}_{}", std::process::id(), rand_suffix());
        let admin = Store::connect(&admin_url)
            .await
            .expect("connect postgres admin");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(admin.pool())
            .await
            .expect("create test database");
        admin.close().await;
        let url = with_database(&admin_url, &name);
        let store = Store::connect(&url).await.expect("connect test database");
        store.migrate().await.expect("migrate postgres");
        Some(TestDb {
            store,
            url,
            _dir: None,
            pg_drop: Some((admin_url, name)),
        })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.pg_drop.take() else {
            return;
        };
        // Drop runs inside the test's runtime, which cannot make progress while we block here,
        // so the pool is not closed gracefully (that would wait on connections whose return
        // needs this runtime); `WITH (FORCE)` ends them server-side instead.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                if let Ok(admin) = Store::connect(&admin_url).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(admin.pool())
                    .await;
                    admin.close().await;
                }
            });
        })
        .join();
    }
}

fn rand_suffix() -> String {
    use rand::Rng;
    let n: u64 = rand::rng().random();
    format!("{n:016x}")
}

/// Replaces the database name in a PostgreSQL URL.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// A clock tests move by hand.
#[derive(Clone)]
pub struct TestClock(pub Arc<AtomicI64>);

impl TestClock {
    /// 2026-11-15 10:00 UTC.
    pub fn new() -> TestClock {
        TestClock(Arc::new(AtomicI64::new(1_794_736_800_000)))
    }

    pub fn advance_ms(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// The demo configuration with a few test-friendly settings.
pub fn test_config(url: &str) -> Config {
    let mut config = rally::demo::config().expect("demo config");
    config.database.url = url.to_string();
    config
}

/// An app on `db` with a hand-moved clock.
pub fn app(db: &TestDb, clock: &TestClock) -> App {
    App::new(
        db.store.clone(),
        Arc::new(test_config(&db.url)),
        Box::new(clock.clone()),
    )
    .expect("app")
}

/// Sends text as a console user in a private chat; message ids come from `id`.
pub async fn say(app: &App, who: &str, id: u64, text: &str) -> Outcome {
    app.handle(&Incoming {
        platform: Platform::Console,
        chat_id: "test".into(),
        private_chat: true,
        sender_id: who.into(),
        sender_name: who.into(),
        message_id: id.to_string(),
        text: text.into(),
        locale: None,
        attachments: Vec::new(),
    })
    .await
}

/// The message keys of all reply lines, in order.
pub fn keys(outcome: &Outcome) -> Vec<String> {
    outcome
        .replies
        .iter()
        .flat_map(|r| r.lines.iter().map(|m| m.key.clone()))
        .collect()
}

/// All replies rendered in English (for assertions on numbers).
pub fn text(app: &App, outcome: &Outcome) -> String {
    outcome
        .replies
        .iter()
        .map(|r| app.i18n.render_reply(outcome.locale, r))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A text argument of the first line of the first reply (e.g. an invite code).
pub fn first_text_arg(outcome: &Outcome, name: &str) -> String {
    match outcome.replies[0].lines[0]
        .args
        .iter()
        .find(|(k, _)| k == name)
    {
        Some((_, rally::chat::reply::Arg::Text(text))) => text.clone(),
        other => panic!("no text argument {name}: {other:?}"),
    }
}

/// A number argument of the first line of the first reply (e.g. a sale id).
pub fn first_int_arg(outcome: &Outcome, name: &str) -> i64 {
    match outcome.replies[0].lines[0]
        .args
        .iter()
        .find(|(k, _)| k == name)
    {
        Some((_, rally::chat::reply::Arg::Int(n))) => *n,
        other => panic!("no number argument {name}: {other:?}"),
    }
}

pub mod discord;
pub mod telegram;

/// The invite or link code that follows `marker` in a bot's answer (`/start ABCD2345`).
pub fn code_after(text: &str, marker: &str) -> String {
    let code: String = text
        .split(marker)
        .nth(1)
        .map(|rest| {
            rest.chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect()
        })
        .unwrap_or_default();
    assert!(!code.is_empty(), "no code after {marker:?} in {text:?}");
    code
}
