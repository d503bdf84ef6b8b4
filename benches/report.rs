//! `/report` through the whole pipeline (parse, then one write transaction on one connection:
//! member lookup, sale insert, period totals with their change stamp, one durable commit)
//! against the bare durable insert of the same sale row with sqlx.
//!
//! Both run on a SQLite file in a temporary directory, WAL mode, `synchronous = FULL`, with the
//! same migrations and the same demo data, so each iteration of either pays exactly one fsync'd
//! commit. Goal: bare insert time / pipeline time >= 0.8 (the pipeline costs at most 25 % more).
//! The baseline is bare sqlx with the default pool options and one transaction per insert.
//!
//! `report_breakdown/*` splits the pipeline's cost (diagnostics): `store_calls` makes the
//! pipeline's store calls without the handler, `same_sql_bare` runs the same SQL statements on a
//! bare `SqlitePool` configured like the `Store`'s (no ping before acquire), and
//! `bare_insert_no_ping` is the baseline's insert on that pool (what the default pool's ping
//! costs the baseline).
//!
//! Run: `cargo bench --bench report`. The ratio is printed at the end of the run from the
//! estimates criterion just wrote.

use std::cell::Cell;
use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use criterion::Criterion;
use rally::app::{App, SystemClock};
use rally::chat::handler::{Incoming, Outcome};
use rally::demo;
use rally::engine::ids::PartnerId;
use rally::engine::money::{Currency, Money};
use rally::engine::partner::Platform;
use rally::engine::sale::{SaleSource, SaleStatus};
use rally::store::handled::MessageKey;
use rally::store::sales::{self, Inserted, NewSale};
use rally::store::totals::{self, Delta};
use rally::store::{Store, members};
use rally_testkit::bench::{estimates, test_mode};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use tokio::runtime::Runtime;

/// The message every pipeline iteration sends (a demo partner's member, auto-approved amount).
const REPORT_TEXT: &str = "/report 1200 ACME";
/// The demo member who reports.
const REPORTER: &str = "wang";
/// What the pipeline stores for [`REPORT_TEXT`] in the demo program (CNY, minor units).
const AMOUNT_MINOR: i64 = 120_000;

const GROUP: &str = "report";
const PIPELINE: &str = "pipeline";
const BARE_INSERT: &str = "bare_insert";
/// Where the pipeline's time goes (diagnostics, not the goal).
const BREAKDOWN: &str = "report_breakdown";
/// The pipeline's store calls in order, without the handler around them.
const STORE_CALLS: &str = "store_calls";
/// The same SQL statements as the pipeline, on a bare `SqlitePool` (no `Any` driver).
const SAME_SQL_BARE: &str = "same_sql_bare";
/// The baseline's insert on a pool that does not ping before acquire (like the `Store`'s).
const BARE_INSERT_NO_PING: &str = "bare_insert_no_ping";

/// Goal from the issue: bare insert time / pipeline time.
const GOAL_RATIO: f64 = 0.8;

/// An App on a fresh migrated SQLite file with the demo program seeded.
async fn demo_app(path: &Path) -> App {
    let url = format!("sqlite://{}", path.display());
    let mut config = demo::config().expect("demo config is valid");
    config.database.url = url.clone();
    let store = Store::connect(&url).await.expect("connect to sqlite file");
    store.migrate().await.expect("run migrations");
    let app = App::new(store, Arc::new(config), Box::new(SystemClock)).expect("build app");
    assert!(
        demo::seed(&app).await.expect("seed demo data"),
        "demo data seeded into a fresh file"
    );
    app
}

fn report_message(n: u64) -> Incoming {
    Incoming {
        platform: Platform::Console,
        chat_id: "bench".to_string(),
        private_chat: false,
        sender_id: REPORTER.to_string(),
        sender_name: REPORTER.to_string(),
        message_id: n.to_string(),
        text: REPORT_TEXT.to_string(),
        locale: None,
        attachments: Vec::new(),
        username: None,
        reply_to: None,
        pressed_message: None,
    }
}

/// True if the outcome says a new sale was recorded (and approved on arrival).
fn recorded(outcome: &Outcome) -> bool {
    outcome
        .replies
        .first()
        .and_then(|r| r.lines.first())
        .is_some_and(|m| m.key == "report-approved")
}

/// What the bare insert writes besides the per-iteration key and instant: the same values the
/// pipeline writes for [`REPORT_TEXT`] (the columns it leaves out, `quantity` and `evidence`, are
/// NULL in the pipeline's row too; checked at start-up).
struct SaleShape {
    partner_id: i64,
    reporter_id: i64,
    sale_date: String,
    period: String,
}

const BARE_INSERT_SQL: &str = "INSERT INTO sales (partner_id, amount_minor, currency, \
     program_minor, customer, customer_key, category, note, sale_date, period, source, \
     idempotency_key, status, reporter_id, reported_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)";

/// The baseline: one sale row, one transaction, one durable commit. `prefix` keeps the keys of
/// the pools writing to the same file apart.
async fn bare_insert(pool: &SqlitePool, shape: &SaleShape, prefix: &str, n: u64) {
    let mut tx = pool.begin().await.expect("begin");
    sqlx::query(BARE_INSERT_SQL)
        .bind(shape.partner_id)
        .bind(AMOUNT_MINOR)
        .bind("CNY")
        .bind(AMOUNT_MINOR)
        .bind("ACME")
        .bind("acme")
        .bind(None::<&str>)
        .bind(None::<&str>)
        .bind(shape.sale_date.as_str())
        .bind(shape.period.as_str())
        .bind("chat")
        .bind(format!("console:{prefix}:{n}"))
        .bind("approved")
        .bind(shape.reporter_id)
        .bind(chrono::Utc::now().timestamp_millis())
        .execute(&mut *tx)
        .await
        .expect("bare insert");
    tx.commit().await.expect("commit");
}

/// The pipeline's store calls for one `/report`, in the handler's order, through the same
/// `Store`: one write transaction (`BEGIN IMMEDIATE`) with the member lookup, the sale and the
/// period total, then the commit.
async fn store_calls(app: &App, shape: &SaleShape, n: u64) {
    let key = MessageKey {
        platform: Platform::Console,
        chat_id: "store".to_string(),
        message_id: n.to_string(),
    };
    let mut tx = app.store.begin().await.expect("begin");
    let member = members::find(&mut tx, Platform::Console, REPORTER)
        .await
        .expect("find member")
        .expect("member exists");
    let now = app.now();
    let amount = Money::from_minor(AMOUNT_MINOR, Currency::parse("CNY").expect("CNY"));
    let new = NewSale {
        partner_id: PartnerId(shape.partner_id),
        amount,
        program_amount: amount,
        customer: "ACME".to_string(),
        customer_key: "acme".to_string(),
        category: None,
        quantity: None,
        evidence: None,
        note: None,
        sale_date: shape.sale_date.clone(),
        period: shape.period.clone(),
        source: SaleSource::Chat,
        idempotency_key: key.idempotency_key(),
        status: SaleStatus::Approved,
        reporter: Some(member.id),
        reported_at: now,
    };
    let Inserted::New(sale) = sales::insert(&mut tx, &new).await.expect("insert") else {
        panic!("a fresh idempotency key makes a new sale");
    };
    let delta = Delta {
        approved_minor: AMOUNT_MINOR,
        approved_count: 1,
        provisional_minor: AMOUNT_MINOR,
        pending_count: 0,
    };
    totals::apply(&mut tx, &sale.period, sale.partner_id, delta, now)
        .await
        .expect("apply totals");
    tx.commit().await.expect("commit");
}

// The statements the pipeline runs (copied from src/store for this diagnostic only).
const SQL_FIND_MEMBER: &str = "SELECT id, platform, platform_user_id, display_name, partner_id, \
     role, locale FROM members WHERE platform = $1 AND platform_user_id = $2";
const SQL_INSERT_SALE: &str = "INSERT INTO sales (partner_id, amount_minor, currency, \
     program_minor, customer, customer_key, category, quantity, note, sale_date, period, source, \
     idempotency_key, status, reporter_id, reported_at, evidence) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
     ON CONFLICT (source, idempotency_key) DO NOTHING RETURNING id";
const SQL_APPLY_TOTALS: &str = "INSERT INTO period_totals (period, partner_id, approved_minor, \
     approved_count, approved_at, provisional_minor, provisional_at, pending_count, change_seq) \
     VALUES ($1, $2, $3, $4, $5, $6, $5, $7, \
       (SELECT COALESCE(MAX(change_seq), 0) + 1 FROM period_totals WHERE period = $1)) \
     ON CONFLICT (period, partner_id) DO UPDATE SET \
       approved_minor = period_totals.approved_minor + excluded.approved_minor, \
       approved_count = period_totals.approved_count + excluded.approved_count, \
       approved_at = CASE WHEN excluded.approved_minor <> 0 THEN excluded.approved_at \
                     ELSE period_totals.approved_at END, \
       provisional_minor = period_totals.provisional_minor + excluded.provisional_minor, \
       provisional_at = CASE WHEN excluded.provisional_minor <> 0 THEN excluded.provisional_at \
                        ELSE period_totals.provisional_at END, \
       pending_count = period_totals.pending_count + excluded.pending_count, \
       change_seq = (SELECT COALESCE(MAX(change_seq), 0) + 1 FROM period_totals WHERE period = $1) \
     RETURNING approved_minor, approved_count, provisional_minor, pending_count";

/// The same statements as [`store_calls`], on a bare pool.
async fn same_sql_bare(pool: &SqlitePool, shape: &SaleShape, n: u64) {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.expect("begin");
    sqlx::query(SQL_FIND_MEMBER)
        .bind("console")
        .bind(REPORTER)
        .fetch_optional(&mut *tx)
        .await
        .expect("find member")
        .expect("member exists");
    let now = chrono::Utc::now().timestamp_millis();
    sqlx::query(SQL_INSERT_SALE)
        .bind(shape.partner_id)
        .bind(AMOUNT_MINOR)
        .bind("CNY")
        .bind(AMOUNT_MINOR)
        .bind("ACME")
        .bind("acme")
        .bind(None::<&str>)
        .bind(None::<i64>)
        .bind(None::<&str>)
        .bind(shape.sale_date.as_str())
        .bind(shape.period.as_str())
        .bind("chat")
        .bind(format!("console:sql:{n}"))
        .bind("approved")
        .bind(shape.reporter_id)
        .bind(now)
        .bind(None::<&str>)
        .fetch_optional(&mut *tx)
        .await
        .expect("insert sale")
        .expect("new sale");
    sqlx::query(SQL_APPLY_TOTALS)
        .bind(shape.period.as_str())
        .bind(shape.partner_id)
        .bind(AMOUNT_MINOR)
        .bind(1_i64)
        .bind(now)
        .bind(AMOUNT_MINOR)
        .bind(0_i64)
        .fetch_one(&mut *tx)
        .await
        .expect("apply totals");
    tx.commit().await.expect("commit");
}

/// Options for a bare pool on the baseline file: WAL, `synchronous = FULL`.
fn bare_options(path: &Path) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
}

/// Runs `f(n)` for `iters` fresh numbers from `next` and returns the time it took.
async fn timed<F, Fut>(next: &Cell<u64>, iters: u64, mut f: F) -> Duration
where
    F: FnMut(u64) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let first = next.get();
    next.set(first + iters);
    let start = Instant::now();
    for n in first..first + iters {
        f(n).await;
    }
    start.elapsed()
}

/// Rounds of the interleaved comparison, and operations per side in each round.
const PAIRED_ROUNDS: usize = 200;
const PAIRED_BATCH: u64 = 10;

/// The interleaved comparison: per round, a batch of each of [`PAIRED_SIDES`] back to back
/// (the order rotating from round to round), so all sides see the same load.
const PAIRED_SIDES: [&str; 4] = [PIPELINE, STORE_CALLS, BARE_INSERT, BARE_INSERT_NO_PING];

/// Per-operation time (ns) of each side in each round, in [`PAIRED_SIDES`] order.
struct Paired {
    rounds: Vec<[f64; 4]>,
}

impl Paired {
    /// The median over rounds of `f(round)`, and its quartiles.
    fn median_of(&self, f: impl Fn(&[f64; 4]) -> f64) -> (f64, f64, f64) {
        let mut v: Vec<f64> = self.rounds.iter().map(f).collect();
        v.sort_by(f64::total_cmp);
        let q = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
        (q(0.5), q(0.25), q(0.75))
    }
}

/// The pools and the next unused message number of each side.
struct Sides<'a> {
    app: &'a App,
    pool: &'a SqlitePool,
    no_ping_pool: &'a SqlitePool,
    shape: &'a SaleShape,
    next: [&'a Cell<u64>; 4],
}

async fn paired(sides: &Sides<'_>, rounds: usize) -> Paired {
    let mut result = Paired { rounds: Vec::new() };
    for round in 0..rounds {
        let mut times = [0.0; 4];
        for k in 0..PAIRED_SIDES.len() {
            let side = (round + k) % PAIRED_SIDES.len();
            let next = sides.next[side];
            let (app, shape) = (sides.app, sides.shape);
            let elapsed = match side {
                0 => {
                    let first = next.get();
                    next.set(first + PAIRED_BATCH);
                    let messages: Vec<Incoming> =
                        (first..first + PAIRED_BATCH).map(report_message).collect();
                    let mut outcomes = Vec::with_capacity(messages.len());
                    let start = Instant::now();
                    for message in &messages {
                        outcomes.push(app.handle(message).await);
                    }
                    let elapsed = start.elapsed();
                    assert!(
                        outcomes.iter().all(recorded),
                        "every /report recorded a sale"
                    );
                    elapsed
                }
                1 => timed(next, PAIRED_BATCH, |n| store_calls(app, shape, n)).await,
                2 => {
                    timed(next, PAIRED_BATCH, |n| {
                        bare_insert(sides.pool, shape, "bare", n)
                    })
                    .await
                }
                _ => {
                    timed(next, PAIRED_BATCH, |n| {
                        bare_insert(sides.no_ping_pool, shape, "noping", n)
                    })
                    .await
                }
            };
            times[side] = elapsed.as_secs_f64() * 1e9 / PAIRED_BATCH as f64;
        }
        result.rounds.push(times);
    }
    result
}

fn bench_report(c: &mut Criterion) -> Paired {
    let rt = Runtime::new().expect("tokio runtime");
    let dir = tempfile::tempdir().expect("temporary directory");
    let pipeline_path = dir.path().join("pipeline.db");
    let baseline_path = dir.path().join("baseline.db");

    let (app, pool, no_ping_pool, shape) = rt.block_on(async {
        let app = demo_app(&pipeline_path).await;
        // The baseline file gets the same schema and data; then the App goes away and only
        // bare pools to the file are left.
        let baseline_app = demo_app(&baseline_path).await;
        let mut conn = baseline_app.store.read().await.expect("read connection");
        let member = members::find(&mut conn, Platform::Console, REPORTER)
            .await
            .expect("find member")
            .expect("demo member exists");
        drop(conn);
        baseline_app.store.close().await;
        let now = app.now();
        let outcome = app.handle(&report_message(0)).await;
        assert!(recorded(&outcome), "pipeline records a sale: {outcome:?}");
        let shape = SaleShape {
            partner_id: member.partner_id.expect("demo member has a partner").0,
            reporter_id: member.id.0,
            sale_date: app.local_date(now).to_string(),
            period: app.period_at(now).key(),
        };
        // The baseline as the issue defines it: bare sqlx, default pool options.
        let pool = SqlitePool::connect_with(bare_options(&baseline_path))
            .await
            .expect("open baseline pool");
        // The diagnostics' pool: like the `Store`'s, no ping before acquire.
        let no_ping_pool = SqlitePoolOptions::new()
            .test_before_acquire(false)
            .connect_with(bare_options(&baseline_path))
            .await
            .expect("open no-ping pool");
        // Same check as the pipeline: the row really is stored, and it is the pipeline's row.
        bare_insert(&pool, &shape, "bare", 0).await;
        let row = "SELECT json_array(partner_id, amount_minor, currency, program_minor, customer, \
             customer_key, category, quantity, note, sale_date, period, source, status, \
             reporter_id, evidence) FROM sales WHERE idempotency_key = $1";
        let pipeline_row: String = sqlx::query_scalar(row)
            .bind("console:bench:0")
            .fetch_one(app.store.pool())
            .await
            .expect("the pipeline's sale");
        let bare_row: String = sqlx::query_scalar(row)
            .bind("console:bare:0")
            .fetch_one(&pool)
            .await
            .expect("the bare insert's sale");
        assert_eq!(
            bare_row, pipeline_row,
            "the bare insert writes the pipeline's row"
        );
        (app, pool, no_ping_pool, shape)
    });

    // Unique message id / idempotency key per iteration, across warm-up and samples.
    let pipeline_next = Cell::new(1_u64);
    let bare_next = Cell::new(1_u64);

    let mut group = c.benchmark_group(GROUP);
    group.sample_size(30);
    group.warm_up_time(Duration::from_secs(3));
    group.measurement_time(Duration::from_secs(10));

    group.bench_function(PIPELINE, |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let (app, next) = (&app, &pipeline_next);
            async move {
                let messages: Vec<Incoming> =
                    (0..iters).map(|i| report_message(next.get() + i)).collect();
                next.set(next.get() + iters);
                let mut outcomes = Vec::with_capacity(messages.len());
                let start = Instant::now();
                for message in &messages {
                    outcomes.push(app.handle(message).await);
                }
                let elapsed = start.elapsed();
                assert!(
                    outcomes.iter().all(recorded),
                    "every /report recorded a sale"
                );
                black_box(outcomes);
                elapsed
            }
        });
    });

    group.bench_function(BARE_INSERT, |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let (pool, shape) = (&pool, &shape);
            timed(&bare_next, iters, move |n| {
                bare_insert(pool, shape, "bare", n)
            })
        });
    });
    group.finish();

    let store_next = Cell::new(1_u64);
    let sql_next = Cell::new(1_u64);
    let no_ping_next = Cell::new(1_u64);
    let mut group = c.benchmark_group(BREAKDOWN);
    group.sample_size(20);
    group.warm_up_time(Duration::from_secs(2));
    group.measurement_time(Duration::from_secs(6));
    group.bench_function(STORE_CALLS, |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let (app, shape) = (&app, &shape);
            timed(&store_next, iters, move |n| store_calls(app, shape, n))
        });
    });
    group.bench_function(SAME_SQL_BARE, |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let (pool, shape) = (&no_ping_pool, &shape);
            timed(&sql_next, iters, move |n| same_sql_bare(pool, shape, n))
        });
    });
    group.bench_function(BARE_INSERT_NO_PING, |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let (pool, shape) = (&no_ping_pool, &shape);
            timed(&no_ping_next, iters, move |n| {
                bare_insert(pool, shape, "noping", n)
            })
        });
    });
    group.finish();

    // Last, the interleaved comparison of the goal's two sides (same pools, same files).
    let rounds = if test_mode() { 2 } else { PAIRED_ROUNDS };
    let paired = rt.block_on(paired(
        &Sides {
            app: &app,
            pool: &pool,
            no_ping_pool: &no_ping_pool,
            shape: &shape,
            next: [&pipeline_next, &store_next, &bare_next, &no_ping_next],
        },
        rounds,
    ));

    // Every pipeline message made exactly one chat sale (message 0 included), and every
    // baseline iteration one row.
    rt.block_on(async {
        let stored: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sales WHERE idempotency_key LIKE 'console:bench:%'",
        )
        .fetch_one(app.store.pool())
        .await
        .expect("count pipeline sales");
        assert_eq!(
            u64::try_from(stored).expect("count is non-negative"),
            pipeline_next.get(),
            "one sale per /report message"
        );
        let stored: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sales WHERE idempotency_key LIKE 'console:bare:%'",
        )
        .fetch_one(&pool)
        .await
        .expect("count baseline sales");
        assert_eq!(
            u64::try_from(stored).expect("count is non-negative"),
            bare_next.get(),
            "one row per bare insert"
        );
        app.store.close().await;
        pool.close().await;
        no_ping_pool.close().await;
    });
    paired
}

fn print_ratio(since: SystemTime, paired: &Paired) {
    let (Some(pipeline), Some(bare)) = (
        estimates(GROUP, PIPELINE, since),
        estimates(GROUP, BARE_INSERT, since),
    ) else {
        println!("(no ratio: run both benchmarks in one `cargo bench --bench report`)");
        return;
    };
    println!("\n/report summary (this run):");
    println!(
        "  pipeline            mean {:>9.1} µs   median {:>9.1} µs",
        pipeline.0 / 1e3,
        pipeline.1 / 1e3
    );
    println!(
        "  bare insert         mean {:>9.1} µs   median {:>9.1} µs",
        bare.0 / 1e3,
        bare.1 / 1e3
    );
    for (name, label) in [
        (STORE_CALLS, "store calls        "),
        (SAME_SQL_BARE, "same SQL bare      "),
        (BARE_INSERT_NO_PING, "bare insert no ping"),
    ] {
        if let Some(e) = estimates(BREAKDOWN, name, since) {
            println!(
                "  {label} mean {:>9.1} µs   median {:>9.1} µs   (bare/this: {:.3})",
                e.0 / 1e3,
                e.1 / 1e3,
                bare.1 / e.1
            );
        }
    }
    if let Some(no_ping) = estimates(BREAKDOWN, BARE_INSERT_NO_PING, since) {
        println!(
            "  bare insert no ping / pipeline: median {:.3} (information, not the goal)",
            no_ping.1 / pipeline.1
        );
    }
    if !paired.rounds.is_empty() {
        println!(
            "  interleaved, {} rounds of {PAIRED_BATCH} of each (median per operation over rounds):",
            paired.rounds.len()
        );
        for (i, name) in PAIRED_SIDES.iter().enumerate() {
            let (median, low, high) = paired.median_of(|r| r[i]);
            let (ratio, ratio_low, ratio_high) = paired.median_of(|r| r[2] / r[i]);
            println!(
                "    {name:<20} {:>7.1} µs (quartiles {:.1} – {:.1}); bare/this per round: \
                 median {ratio:.3} (quartiles {ratio_low:.3} – {ratio_high:.3})",
                median / 1e3,
                low / 1e3,
                high / 1e3
            );
        }
    }
    let (mean_ratio, median_ratio) = (bare.0 / pipeline.0, bare.1 / pipeline.1);
    let verdict = |met: bool| if met { "met" } else { "MISSED" };
    let criterion_met = mean_ratio >= GOAL_RATIO && median_ratio >= GOAL_RATIO;
    println!(
        "  ratio bare/pipeline: mean {mean_ratio:.3}, median {median_ratio:.3} (goal >= {GOAL_RATIO}): {}",
        verdict(criterion_met)
    );
    if !paired.rounds.is_empty() {
        let (interleaved, _, _) = paired.median_of(|r| r[2] / r[0]);
        let interleaved_met = interleaved >= GOAL_RATIO;
        println!(
            "  interleaved ratio bare/pipeline: median {interleaved:.3} (goal >= {GOAL_RATIO}): {}",
            verdict(interleaved_met)
        );
        if interleaved_met != criterion_met {
            println!(
                "  (the two disagree: criterion measures the sides one after the other, so a \
                 change of load between them moves its ratio; the interleaved rounds give both \
                 sides the same load)"
            );
        }
    }
}

fn main() {
    let started = SystemTime::now();
    // No plots: Rally's charts build plotters with `ab_glyph` fonts, under which criterion's
    // plots find no font; the estimates (and the summary read from them) are unaffected.
    let mut c = Criterion::default().configure_from_args().without_plots();
    let paired = bench_report(&mut c);
    c.final_summary();
    print_ratio(started, &paired);
}
