//! `POST /api/v1/sales` with 32 concurrent clients against the bare durable insert, in the same
//! run (issue 13).
//!
//! - `api/post_sales_32_clients`: Rally's HTTP server (the real router: Bearer key check, JSON
//!   validation through the import's intake, partner lookup, ledger insert with period totals,
//!   the `Idempotency-Key` answer stored in the same transaction; concurrent requests share
//!   one durable commit, `store::group`) on 127.0.0.1, and 32 client tasks (one keep-alive `reqwest` client) posting sales, each with
//!   its own `Idempotency-Key` and `external_id`. Time per iteration = wall time / sales: the
//!   time per sale at 32 in flight (the inverse of throughput).
//! - `api/bare_insert` (**baseline**): the same sale row with bare sqlx on a `SqlitePool` (WAL,
//!   `synchronous = FULL`): `BEGIN` … `INSERT` … `COMMIT`, one at a time.
//!
//! Both write to SQLite files in one temporary directory (one fsync'd commit per sale in the
//! baseline). Server, clients and baseline share the machine's cores. Printed at the end:
//! bare insert time / API time per sale (above 1: the API's concurrent clients store sales
//! faster than one bare writer: the requests that arrive while a group commits share the next
//! group's commit).
//!
//! - `api/post_batch_100` (diagnostic): the same sales through `POST /api/v1/sales/batch`,
//!   100 per request, one request at a time.
//!
//! Run: `cargo bench --bench api`.

use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use criterion::Criterion;
use rally::app::{App, SystemClock};
use rally::demo;
use rally::features::api_keys::{self, Scope};
use rally::platforms::http::{self, HttpState};
use rally::store::Store;
use rally_testkit::bench::{estimates, sqlite_url, test_mode};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqliteSynchronous};
use tokio::runtime::Runtime;
use tokio_util::sync::CancellationToken;

const GROUP: &str = "api";
const POST: &str = "post_sales_32_clients";
/// Diagnostic: the same sales in batches of [`BATCH`] through `POST /api/v1/sales/batch`.
const POST_BATCH: &str = "post_batch_100";
const BATCH: u64 = 100;
const BARE_INSERT: &str = "bare_insert";
const CLIENTS: u64 = 32;
/// The demo partner both sides write sales for.
const PARTNER: &str = "Emma Agency";

const BARE_INSERT_SQL: &str = "INSERT INTO sales (partner_id, amount_minor, currency, \
     program_minor, customer, customer_key, category, note, sale_date, period, source, \
     idempotency_key, status, reporter_id, reported_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)";

struct Api {
    base: String,
    key: String,
    client: reqwest::Client,
    /// The demo partner's id (both sides write its sales).
    partner_id: i64,
    /// Today in the program's time zone: the sales' date.
    date: String,
    _stop: tokio_util::sync::DropGuard,
}

async fn start_api(dir: &std::path::Path) -> Api {
    let url = sqlite_url(&dir.join("api.db"));
    let mut config = demo::config().expect("demo config");
    config.database.url = url.clone();
    let store = Store::connect(&url).await.expect("connect");
    store.migrate().await.expect("migrate");
    let app = Arc::new(App::new(store, Arc::new(config), Box::new(SystemClock)).expect("app"));
    demo::seed(&app).await.expect("seed");
    let key = api_keys::create(&app, "bench", &[Scope::SalesWrite])
        .await
        .expect("key")
        .secret;
    let partner_id = {
        let mut conn = app.store.read().await.expect("conn");
        match rally::store::partners::find_by_name_or_id(&mut conn, PARTNER)
            .await
            .expect("lookup")
        {
            rally::store::partners::Lookup::Found(p) => p.id.0,
            _ => panic!("the demo has a partner {PARTNER}"),
        }
    };
    let date = app.local_date(app.now()).to_string();
    let stop = CancellationToken::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let router = http::router(HttpState::new(app, stop.clone()), []);
    tokio::spawn(http::serve_on(listener, router, stop.clone()));
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(CLIENTS as usize)
        .build()
        .expect("client");
    Api {
        base,
        key,
        client,
        partner_id,
        date,
        _stop: stop.drop_guard(),
    }
}

/// Posts `n` sales numbered from `first` with [`CLIENTS`] requests in flight; the wall time.
async fn post_sales(api: &Api, first: u64, n: u64, date: &str) -> Duration {
    let next = Arc::new(AtomicU64::new(first));
    let end = first + n;
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..CLIENTS.min(n) {
        let (client, next) = (api.client.clone(), next.clone());
        let url = format!("{}/api/v1/sales", api.base);
        let (key, date) = (api.key.clone(), date.to_string());
        tasks.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= end {
                    return;
                }
                let body = format!(
                    "{{\"partner\":\"Emma Agency\",\"amount\":\"1200.00\",\"currency\":\"CNY\",\
                     \"date\":\"{date}\",\"customer\":\"Globex\",\"external_id\":\"INV-{i}\"}}"
                );
                let response = client
                    .post(&url)
                    .bearer_auth(&key)
                    .header("content-type", "application/json")
                    .header("Idempotency-Key", format!("bench-{i}"))
                    .body(body)
                    .send()
                    .await
                    .expect("post");
                assert_eq!(response.status(), reqwest::StatusCode::CREATED);
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("client task");
    }
    started.elapsed()
}

/// Posts `n` sales numbered from `first` in batches of [`BATCH`], one request at a time.
async fn post_batches(api: &Api, first: u64, n: u64, date: &str) -> Duration {
    let started = Instant::now();
    let url = format!("{}/api/v1/sales/batch", api.base);
    let mut next = first;
    while next < first + n {
        let end = (next + BATCH).min(first + n);
        let sales: Vec<String> = (next..end)
            .map(|i| {
                format!(
                    "{{\"partner\":\"{PARTNER}\",\"amount\":\"1200.00\",\"currency\":\"CNY\",\
                     \"date\":\"{date}\",\"customer\":\"Globex\",\"external_id\":\"B-{i}\"}}"
                )
            })
            .collect();
        let response = api
            .client
            .post(&url)
            .bearer_auth(&api.key)
            .header("content-type", "application/json")
            .header("Idempotency-Key", format!("batch-{next}"))
            .body(format!("{{\"sales\":[{}]}}", sales.join(",")))
            .send()
            .await
            .expect("post batch");
        assert_eq!(response.status(), reqwest::StatusCode::OK);
        next = end;
    }
    started.elapsed()
}

async fn bare_insert(pool: &SqlitePool, partner_id: i64, date: &str, period: &str, n: u64) {
    let mut tx = pool.begin().await.expect("begin");
    sqlx::query(BARE_INSERT_SQL)
        .bind(partner_id)
        .bind(120_000_i64)
        .bind("CNY")
        .bind(120_000_i64)
        .bind("Globex")
        .bind("globex")
        .bind(None::<&str>)
        .bind(None::<&str>)
        .bind(date)
        .bind(period)
        .bind("api")
        .bind(format!("bare:{n}"))
        .bind("approved")
        .bind(None::<i64>)
        .bind(chrono::Utc::now().timestamp_millis())
        .execute(&mut *tx)
        .await
        .expect("bare insert");
    tx.commit().await.expect("commit");
}

fn bench_api(c: &mut Criterion) {
    let rt = Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let (api, pool) = rt.block_on(async {
        let api = start_api(dir.path()).await;
        // The baseline's own file, with the same schema (the sales table references partners).
        let bare_url = sqlite_url(&dir.path().join("bare.db"));
        let store = Store::connect(&bare_url).await.expect("connect");
        store.migrate().await.expect("migrate");
        sqlx::query(
            "INSERT INTO partners (id, name, name_key, kind, status, joined_at) \
             VALUES ($1, 'Emma Agency', 'emma agency', 'agent', 'active', 0)",
        )
        .bind(api.partner_id)
        .execute(store.pool())
        .await
        .expect("partner");
        store.close().await;
        let pool = SqlitePool::connect_with(
            SqliteConnectOptions::new()
                .filename(dir.path().join("bare.db"))
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full),
        )
        .await
        .expect("bare pool");
        (api, pool)
    });
    let date = api.date.clone();
    let period = date[..7].to_string();

    let post_next = Cell::new(0_u64);
    let bare_next = Cell::new(0_u64);
    let mut group = c.benchmark_group(GROUP);
    group.sample_size(20);
    group.warm_up_time(Duration::from_secs(3));
    group.measurement_time(Duration::from_secs(15));
    group.bench_function(POST, |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let first = post_next.get();
            post_next.set(first + iters);
            let (api, date) = (&api, &date);
            async move { post_sales(api, first, iters, date).await }
        })
    });
    let batch_next = Cell::new(0_u64);
    group.bench_function(POST_BATCH, |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let first = batch_next.get();
            batch_next.set(first + iters);
            let (api, date) = (&api, &date);
            async move { post_batches(api, first, iters, date).await }
        })
    });
    group.bench_function(BARE_INSERT, |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let first = bare_next.get();
            bare_next.set(first + iters);
            let (pool, date, period, partner) = (&pool, &date, &period, api.partner_id);
            async move {
                let started = Instant::now();
                for n in first..first + iters {
                    bare_insert(pool, partner, date, period, n).await;
                }
                started.elapsed()
            }
        })
    });
    group.finish();
    let stored: i64 = rt.block_on(async {
        let mut conn = pool.acquire().await.expect("conn");
        sqlx::query_scalar("SELECT COUNT(*) FROM sales")
            .fetch_one(&mut *conn)
            .await
            .expect("count")
    });
    assert_eq!(stored as u64, bare_next.get(), "every bare insert stored");
    drop(api);
}

fn print_ratio(since: SystemTime) {
    if test_mode() {
        return;
    }
    let (Some((post_mean, post_median)), Some((bare_mean, bare_median))) = (
        estimates(GROUP, POST, since),
        estimates(GROUP, BARE_INSERT, since),
    ) else {
        println!("api: no fresh estimates to compare");
        return;
    };
    println!(
        "\napi: POST /api/v1/sales, 32 clients: {:.0} µs per sale (median {:.0} µs), {:.0} sales/s",
        post_mean / 1e3,
        post_median / 1e3,
        1e9 / post_mean
    );
    println!(
        "api: bare durable insert: {:.0} µs per sale (median {:.0} µs), {:.0} sales/s",
        bare_mean / 1e3,
        bare_median / 1e3,
        1e9 / bare_mean
    );
    println!(
        "api: bare insert time / API time per sale = {:.2} (mean), {:.2} (median)",
        bare_mean / post_mean,
        bare_median / post_median
    );
    if let Some((batch_mean, batch_median)) = estimates(GROUP, POST_BATCH, since) {
        println!(
            "api: POST /api/v1/sales/batch, {BATCH} per request: {:.0} µs per sale; bare insert \
             time / batch time per sale = {:.2} (mean), {:.2} (median)",
            batch_mean / 1e3,
            bare_mean / batch_mean,
            bare_median / batch_median
        );
    }
}

fn main() {
    let started = SystemTime::now();
    let mut c = Criterion::default().configure_from_args().without_plots();
    bench_api(&mut c);
    c.final_summary();
    print_ratio(started);
}
