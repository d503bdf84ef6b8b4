//! A burst of [`BURST`] `/report`s stored with group commit (issue 14), against single-row
//! durable inserts of the same sale row on the same disk (or server), in the same run, on
//! SQLite and — when `RALLY_TEST_POSTGRES_URL` names a server — on PostgreSQL.
//! Goal: burst rate ≥ 2× the single-row insert rate (stretch 5×), i.e. baseline time / burst
//! time ≥ 2.
//!
//! - `burst_<backend>/batches_of_100`: the burst as the Telegram adapter handles a `getUpdates`
//!   answer: `App::handle_batch` on 100 messages at a time (each in a savepoint, one commit per
//!   batch). Every outcome is checked to be the approval of its own report after the timed
//!   section, and the number of sales at the end.
//! - `burst_<backend>/concurrent`: the burst as Discord interactions arrive: 1,000 concurrent
//!   `App::handle_grouped` calls (the group commit forms its batches while a commit is in
//!   flight).
//! - `burst_<backend>/one_by_one` (information: before the change): 1,000 × `App::handle`, one
//!   transaction and one commit each.
//! - `burst_<backend>/single_row_inserts` (**baseline**): 1,000 × bare sqlx on a pool of the
//!   backend's native driver, `BEGIN` … `INSERT` of the same sale row … `COMMIT`, one after the
//!   other. SQLite: a file in the same temporary directory, WAL, `synchronous = FULL`;
//!   PostgreSQL: the same database (its default `synchronous_commit = on`).
//!
//! Every side writes [`BURST`] chat sales from the demo partner member `wang` (`/report 1200
//! ACME`, auto-approved), with new idempotency keys each iteration. Criterion measures the
//! sides one after the other; the interleaved rounds printed at the end run one burst of each
//! side per round, so both see the same load (the machine is shared).
//!
//! Run: `cargo bench --bench burst` (with `RALLY_TEST_POSTGRES_URL` for PostgreSQL).

use std::cell::Cell;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use criterion::{Criterion, SamplingMode, Throughput};
use rally::app::{App, SystemClock};
use rally::chat::handler::{Incoming, Outcome};
use rally::demo;
use rally::engine::partner::Platform;
use rally::store::{Backend, Store, members};
use rally_testkit::TestDb;
use rally_testkit::bench::{estimates, quartiles, sqlite_url, test_mode};
use tokio::runtime::Runtime;

/// Reports in one burst.
const BURST: u64 = 1_000;
/// Reports per burst under `cargo test --benches`.
const TEST_BURST: u64 = 20;
/// Messages per `handle_batch` call: one `getUpdates` answer.
const BATCH: usize = 100;
/// Interleaved rounds after criterion.
const ROUNDS: usize = 5;
const REPORTER: &str = "wang";
const AMOUNT_MINOR: i64 = 120_000;
/// Goal and stretch goal: baseline time / burst time.
const GOAL: f64 = 2.0;
const STRETCH: f64 = 5.0;

const BATCHES: &str = "batches_of_100";
const CONCURRENT: &str = "concurrent";
const ONE_BY_ONE: &str = "one_by_one";
const BASELINE: &str = "single_row_inserts";
const SIDES: [&str; 4] = [BATCHES, CONCURRENT, ONE_BY_ONE, BASELINE];

fn burst_size() -> u64 {
    if test_mode() { TEST_BURST } else { BURST }
}

fn report(n: u64) -> Incoming {
    Incoming {
        platform: Platform::Console,
        chat_id: "burst".to_string(),
        private_chat: false,
        sender_id: REPORTER.to_string(),
        sender_name: REPORTER.to_string(),
        message_id: n.to_string(),
        text: "/report 1200 ACME".to_string(),
        locale: None,
        attachments: Vec::new(),
        username: None,
        reply_to: None,
        pressed_message: None,
    }
}

fn approved(outcome: &Outcome) -> bool {
    outcome
        .replies
        .first()
        .and_then(|r| r.lines.first())
        .is_some_and(|m| m.key == "report-approved")
}

/// One backend's App (demo program and data) and the baseline's bare pool.
struct Setup {
    name: &'static str,
    app: Arc<App>,
    /// The baseline's pool, of the backend's native driver (the App's is `sqlx::Any`).
    baseline: Baseline,
    partner_id: i64,
    reporter_id: i64,
    sale_date: String,
    period: String,
    /// Keeps the PostgreSQL test database until the end.
    _db: Option<TestDb>,
}

enum Baseline {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

async fn app_on(url: &str) -> Arc<App> {
    let mut config = demo::config().expect("demo config is valid");
    config.database.url = url.to_string();
    let store = Store::connect(url).await.expect("connect");
    store.migrate().await.expect("migrate");
    let app = App::new(store, Arc::new(config), Box::new(SystemClock)).expect("build app");
    assert!(
        demo::seed(&app).await.expect("seed"),
        "fresh database seeded"
    );
    Arc::new(app)
}

async fn setup(name: &'static str, url: &str, db: Option<TestDb>, dir: &Path) -> Setup {
    let app = app_on(url).await;
    let mut conn = app.store.read().await.expect("connection");
    let member = members::find(&mut conn, Platform::Console, REPORTER)
        .await
        .expect("find")
        .expect("demo member");
    drop(conn);
    let now = app.now();
    let baseline = match app.store.backend() {
        Backend::Sqlite => {
            // A file of its own next to the App's, with the same schema.
            let path = dir.join("baseline.db");
            let other = app_on(&sqlite_url(&path)).await;
            other.store.close().await;
            let options = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(&path)
                .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sqlx::sqlite::SqliteSynchronous::Full);
            Baseline::Sqlite(
                sqlx::SqlitePool::connect_with(options)
                    .await
                    .expect("baseline pool"),
            )
        }
        Backend::Postgres => Baseline::Postgres(
            sqlx::postgres::PgPoolOptions::new()
                .connect(url)
                .await
                .expect("baseline pool"),
        ),
    };
    Setup {
        name,
        baseline,
        partner_id: member.partner_id.expect("demo member has a partner").0,
        reporter_id: member.id.0,
        sale_date: app.local_date(now).to_string(),
        period: app.period_at(now).key(),
        app,
        _db: db,
    }
}

const INSERT_SQL: &str = "INSERT INTO sales (partner_id, amount_minor, currency, \
     program_minor, customer, customer_key, category, note, sale_date, period, source, \
     idempotency_key, status, reporter_id, reported_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)";

macro_rules! insert_one {
    ($pool:expr, $setup:expr, $key:expr) => {{
        let mut tx = $pool.begin().await.expect("begin");
        sqlx::query(INSERT_SQL)
            .bind($setup.partner_id)
            .bind(AMOUNT_MINOR)
            .bind("CNY")
            .bind(AMOUNT_MINOR)
            .bind("ACME")
            .bind("acme")
            .bind(None::<&str>)
            .bind(None::<&str>)
            .bind($setup.sale_date.as_str())
            .bind($setup.period.as_str())
            .bind("chat")
            .bind($key)
            .bind("approved")
            .bind($setup.reporter_id)
            .bind(chrono::Utc::now().timestamp_millis())
            .execute(&mut *tx)
            .await
            .expect("insert");
        tx.commit().await.expect("commit");
    }};
}

/// One burst of `side`, numbered from `next`; the time it took.
async fn burst(setup: &Setup, side: &str, next: &Cell<u64>) -> Duration {
    let count = burst_size();
    let first = next.get();
    next.set(first + count);
    let messages: Vec<Incoming> = (first..first + count).map(report).collect();
    let app = &setup.app;
    let start = Instant::now();
    let outcomes: Vec<Outcome> = match side {
        BATCHES => {
            let mut out = Vec::with_capacity(messages.len());
            for chunk in messages.chunks(BATCH) {
                out.extend(app.handle_batch(chunk, None).await);
            }
            out
        }
        CONCURRENT => {
            futures_util::future::join_all(messages.iter().map(|m| app.handle_grouped(m))).await
        }
        ONE_BY_ONE => {
            let mut out = Vec::with_capacity(messages.len());
            for m in &messages {
                out.push(app.handle(m).await);
            }
            out
        }
        _ => {
            for n in first..first + count {
                let key = format!("console:bare:{n}");
                match &setup.baseline {
                    Baseline::Sqlite(pool) => insert_one!(pool, setup, key),
                    Baseline::Postgres(pool) => insert_one!(pool, setup, key),
                }
            }
            Vec::new()
        }
    };
    let elapsed = start.elapsed();
    if side != BASELINE {
        assert_eq!(outcomes.len() as u64, count);
        assert!(outcomes.iter().all(approved), "every report approved");
    }
    elapsed
}

fn bench_backend(c: &mut Criterion, rt: &Runtime, setup: &Setup) -> Vec<[f64; 4]> {
    let count = burst_size();
    let next = Cell::new(1_u64);
    let group_name = format!("burst_{}", setup.name);
    let mut group = c.benchmark_group(&group_name);
    group.throughput(Throughput::Elements(count));
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(5));
    for side in SIDES {
        group.bench_function(side, |b| {
            b.to_async(rt).iter_custom(|iters| {
                let next = &next;
                async move {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        total += burst(setup, side, next).await;
                    }
                    total
                }
            });
        });
    }
    group.finish();
    let rounds = if test_mode() { 1 } else { ROUNDS };
    let paired = rt.block_on(async {
        let mut out = Vec::new();
        for round in 0..rounds {
            let mut times = [0.0; 4];
            for k in 0..SIDES.len() {
                let side = (round + k) % SIDES.len();
                times[side] = burst(setup, SIDES[side], &next).await.as_secs_f64();
            }
            out.push(times);
        }
        out
    });
    // One chat sale per report message, and one row per baseline insert.
    rt.block_on(async {
        let mut conn = setup.app.store.read().await.expect("connection");
        let (reports,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM sales WHERE idempotency_key LIKE 'console:burst:%'",
        )
        .fetch_one(&mut *conn)
        .await
        .expect("count");
        let (bare,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM sales WHERE idempotency_key LIKE 'console:bare:%'",
        )
        .fetch_one(&mut *conn)
        .await
        .expect("count");
        // The SQLite baseline writes to its own file.
        let expected_bare = match setup.baseline {
            Baseline::Sqlite(_) => 0,
            Baseline::Postgres(_) => bare,
        };
        assert_eq!(bare, expected_bare);
        assert!(reports > 0 && (reports as u64).is_multiple_of(count));
    });
    paired
}

fn print_summary(since: SystemTime, results: &[(&'static str, Vec<[f64; 4]>)]) {
    let count = burst_size() as f64;
    println!("\nBurst of {count} /reports (this run):");
    for (name, paired) in results {
        let group = format!("burst_{name}");
        println!("  {name}:");
        let base = estimates(&group, BASELINE, since);
        for (i, side) in SIDES.iter().enumerate() {
            if let Some((mean, median)) = estimates(&group, side, since) {
                let ratio = base.map(|b| b.1 / median).unwrap_or(f64::NAN);
                println!(
                    "    {side:<19} criterion median {:>8.1} ms ({:>6.0} reports/s, mean {:>8.1} \
                     ms); baseline/this {ratio:.2}",
                    median / 1e6,
                    count * 1e9 / median,
                    mean / 1e6
                );
            }
            if !paired.is_empty() {
                let rates: Vec<f64> = paired.iter().map(|r| count / r[i]).collect();
                let ratios: Vec<f64> = paired.iter().map(|r| r[3] / r[i]).collect();
                let (ratio, low, high) = quartiles(&ratios);
                println!(
                    "    {side:<19} interleaved: median {:>6.0} reports/s; baseline/this per \
                     round median {ratio:.2} (quartiles {low:.2} – {high:.2})",
                    quartiles(&rates).0
                );
            }
        }
        if !paired.is_empty() {
            let (ratio, _, _) = quartiles(&paired.iter().map(|r| r[3] / r[0]).collect::<Vec<_>>());
            let verdict = if ratio >= STRETCH {
                "met, stretch met"
            } else if ratio >= GOAL {
                "met (stretch missed)"
            } else {
                "MISSED"
            };
            println!(
                "    goal (batches of 100 ≥ {GOAL}× the single-row insert rate, interleaved \
                 median): {ratio:.2} — {verdict}"
            );
        }
    }
}

fn main() {
    let started = SystemTime::now();
    let mut c = Criterion::default().configure_from_args().without_plots();
    let rt = Runtime::new().expect("tokio runtime");
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut results = Vec::new();
    let sqlite = rt.block_on(async {
        let url = sqlite_url(&dir.path().join("rally.db"));
        setup("sqlite", &url, None, dir.path()).await
    });
    results.push(("sqlite", bench_backend(&mut c, &rt, &sqlite)));
    rt.block_on(sqlite.app.store.close());
    let postgres = rt.block_on(async {
        let db = TestDb::postgres("burst bench").await?;
        let url = db.url.clone();
        db.store.close().await;
        Some(setup("postgres", &url, Some(db), dir.path()).await)
    });
    if let Some(postgres) = postgres {
        results.push(("postgres", bench_backend(&mut c, &rt, &postgres)));
        rt.block_on(postgres.app.store.close());
        if let Baseline::Postgres(pool) = &postgres.baseline {
            rt.block_on(pool.close());
        }
        // Dropped inside the runtime: its drop needs one.
        let _guard = rt.enter();
        drop(postgres);
    }
    c.final_summary();
    print_summary(started, &results);
}
