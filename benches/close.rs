//! `rally close-period` (`App::close_period`) for 100,000 partners and 1,000,000 approved sales
//! in one period, against a bare `GROUP BY` of the same sales (the baseline issue 14 names), in
//! the same run. Goal: close ≤ 3 × the bare `GROUP BY` (docs/performance.md).
//!
//! The database is seeded once with bulk SQL into `target/bench-data/close-100k.db` and reused
//! while [`SEED_VERSION`] and the stored scale match: 100,000 partners (five kinds, so both demo
//! plans apply), 1,000,000 approved sales in 2026-03 (partner uniform at random, whole yuan
//! 100 – 50,000, 20 % `software`, 30 % `hardware`, the rest uncategorised) and 5,000 approved
//! sales in 2025-03 (the growth rebate's "same period a year earlier"), with `period_totals` for
//! both periods as the handler maintains them.
//!
//! Closing mutates the database (it locks statements and marks the period closed), so every
//! close iteration runs on a fresh copy of the cached file in a temporary directory (flushed to
//! disk, so it is in the OS page cache and its write-back is over); the copy, opening the pools
//! and building the `App` are outside the timed section, which holds only the close, or only the
//! bare query:
//! - `close/close_period`: `App::close_period(2026-03, None)` on the demo program
//!   (`demo::config()`, clock pinned to 2026-04-02 12:00 Asia/Shanghai) with the normal `Store`;
//!   every report is checked: one statement per partner with sales;
//! - `close/bare_group_by` (**baseline**): bare sqlx on a new `SqlitePool` (sqlx defaults) of a
//!   copy made once (the query changes nothing), `SELECT partner_id, category,
//!   SUM(program_minor) … WHERE period = '2026-03' AND status = 'approved' GROUP BY partner_id,
//!   category`, every row fetched, the partners counted;
//! - `close/bare_select` (information): the same rows without the `GROUP BY` (`fetch_all`).
//!
//! The first (warm-up) close also checks what was stored: as many statements as the report
//! says, their totals adding up to the report's, and no second close of the period.
//! Peak memory of the whole `rally close-period` process is measured by `benches/batch.rs`.
//!
//! Run: `cargo bench --bench close`. Under `cargo test --benches` a small database in a
//! temporary directory is used instead, so the check stays quick.

use std::cell::Cell;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use chrono::TimeZone;
use criterion::{Criterion, SamplingMode};
use rally::app::{App, FixedClock};
use rally::demo;
use rally::engine::period::Period;
use rally::store::Store;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::Row;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use tokio::runtime::Runtime;

use rally_testkit::bench::{copy_db, estimates, remove_db, sqlite_url, target_dir, test_mode};

/// Bump when the seeded data changes shape; a cached file with another version is rebuilt.
const SEED_VERSION: i64 = 2;
/// The period that is closed.
const PERIOD: &str = "2026-03";
/// The same period a year earlier (growth).
const LAST_YEAR: &str = "2025-03";
/// Information: the sales rows the close reads, fetched with bare sqlx.
const BARE_SQL: &str = "SELECT partner_id, category, program_minor FROM sales \
     WHERE period = '2026-03' AND status = 'approved'";
/// Rows per multi-row sales insert (6 bound values each; well under SQLite's 32,766).
const SALES_CHUNK: usize = 1_000;

/// The baseline the issue names: a bare `GROUP BY` of the period's sales.
const GROUP_BY_SQL: &str = "SELECT partner_id, category, SUM(program_minor) AS total FROM sales \
     WHERE period = '2026-03' AND status = 'approved' GROUP BY partner_id, category";
const GROUP: &str = "close";
const GROUP_BY: &str = "bare_group_by";
const CLOSE: &str = "close_period";
const BARE: &str = "bare_select";
/// Goal from the issue: close time / bare `GROUP BY` time.
const GOAL_RATIO: f64 = 3.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Scale {
    partners: i64,
    /// Approved sales in [`PERIOD`].
    sales: i64,
    /// Approved sales in [`LAST_YEAR`].
    last_year_sales: i64,
}

const FULL: Scale = Scale {
    partners: 100_000,
    sales: 1_000_000,
    last_year_sales: 5_000,
};

/// `cargo test --benches`: same code, small data.
const SMALL: Scale = Scale {
    partners: 1_000,
    sales: 10_000,
    last_year_sales: 200,
};

/// The pinned "now": 2026-04-02 12:00 in the program's time zone (after 2026-03 ended).
fn now_ms() -> i64 {
    let config = demo::config().expect("demo config is valid");
    config
        .program
        .timezone
        .with_ymd_and_hms(2026, 4, 2, 12, 0, 0)
        .single()
        .expect("an unambiguous local time")
        .timestamp_millis()
}

fn period() -> Period {
    Period::parse(PERIOD).expect("a valid period key")
}

/// The benchmark's App: the demo program on `path`, clock pinned to [`now_ms`].
async fn app_on(path: &Path) -> App {
    let url = sqlite_url(path);
    let mut config = demo::config().expect("demo config is valid");
    config.database.url = url.clone();
    let store = Store::connect(&url).await.expect("connect to sqlite file");
    store.migrate().await.expect("run migrations");
    App::new(store, Arc::new(config), Box::new(FixedClock(now_ms()))).expect("build app")
}

/// What the seeded file holds (and what a close of it must produce).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Seeded {
    scale: Scale,
    /// Partners with at least one approved sale in [`PERIOD`]: the statements a close locks.
    with_sales: u64,
}

/// The contents of a cached file, if it was seeded by this version of the benchmark.
async fn cached(path: &Path) -> Option<Seeded> {
    if !path.exists() {
        return None;
    }
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(SqliteConnectOptions::new().filename(path))
        .await
        .ok()?;
    let row =
        sqlx::query("SELECT version, partners, sales, last_year_sales, with_sales FROM bench_meta")
            .fetch_one(&pool)
            .await
            .ok();
    pool.close().await;
    let row = row?;
    if row.try_get::<i64, _>(0).ok()? != SEED_VERSION {
        return None;
    }
    Some(Seeded {
        scale: Scale {
            partners: row.try_get(1).ok()?,
            sales: row.try_get(2).ok()?,
            last_year_sales: row.try_get(3).ok()?,
        },
        with_sales: u64::try_from(row.try_get::<i64, _>(4).ok()?).ok()?,
    })
}

/// Local midnight at the start of `period` in the program time zone, unix ms.
fn start_ms(app: &App, period: Period) -> i64 {
    app.config
        .program
        .timezone
        .from_local_datetime(&period.start().and_hms_opt(0, 0, 0).expect("midnight"))
        .earliest()
        .expect("period start exists in the program time zone")
        .timestamp_millis()
}

/// Seeds `path` from scratch: schema by the app's migrations, then partners, sales and period
/// totals by bulk SQL on one connection with journaling and syncing off.
async fn seed(path: &Path, scale: Scale) -> Seeded {
    let started = Instant::now();
    remove_db(path);
    let app = app_on(path).await;
    app.store.close().await;

    let options = SqliteConnectOptions::new()
        .filename(path)
        .journal_mode(SqliteJournalMode::Off)
        .synchronous(SqliteSynchronous::Off)
        .foreign_keys(false)
        .pragma("cache_size", "-262144")
        .pragma("temp_store", "MEMORY");
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .expect("open seeding connection");
    let mut tx = pool.begin().await.expect("begin seeding");

    // Partners 1..=N by a recursive CTE; a fifth are distributors (the demo's second plan).
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) \
         INSERT INTO partners (id, name, name_key, kind, region, tier, status, joined_at) \
         SELECT i, printf('Partner %06d', i), printf('partner %06d', i), \
           CASE i % 5 WHEN 0 THEN 'dealer' WHEN 1 THEN 'agent' WHEN 2 THEN 'wholesaler' \
             WHEN 3 THEN 'retailer' ELSE 'distributor' END, \
           NULL, NULL, 'active', $2 FROM n",
    )
    .bind(scale.partners)
    .bind(now_ms() - 400 * 86_400_000)
    .execute(&mut *tx)
    .await
    .expect("seed partners");

    // Sales: uniform partner, whole yuan 100..=50,000, reported at a uniform instant of the
    // period (sale date = its local date), all approved; 20 % software, 30 % hardware.
    let mut rng = StdRng::seed_from_u64(2026);
    let mut id = 1_i64;
    for (key, count) in [(PERIOD, scale.sales), (LAST_YEAR, scale.last_year_sales)] {
        let p = Period::parse(key).expect("a valid period key");
        let (from, to) = (start_ms(&app, p), start_ms(&app, p.next()));
        let head = format!(
            "INSERT INTO sales (id, partner_id, amount_minor, currency, program_minor, customer, \
             customer_key, category, note, sale_date, period, source, idempotency_key, status, \
             reporter_id, reported_at) \
             SELECT column1, column2, column3, 'CNY', column3, 'Customer ' || (column1 % 997), \
               'customer ' || (column1 % 997), column4, NULL, column6, '{key}', 'import', \
               printf('bench:%08d', column1), 'approved', NULL, column5 FROM (VALUES "
        );
        let last = id + count - 1;
        while id <= last {
            let rows =
                usize::try_from((last - id + 1).min(SALES_CHUNK as i64)).expect("chunk size fits");
            let mut text = head.clone();
            for r in 0..rows {
                text.push_str(if r == 0 {
                    "(?, ?, ?, ?, ?, ?)"
                } else {
                    ", (?, ?, ?, ?, ?, ?)"
                });
            }
            text.push(')');
            let mut query = sqlx::query(sqlx::AssertSqlSafe(text));
            for _ in 0..rows {
                let at = rng.random_range(from..to);
                let category = match rng.random_range(0..10) {
                    0 | 1 => Some("software"),
                    2..=4 => Some("hardware"),
                    _ => None,
                };
                query = query
                    .bind(id)
                    .bind(rng.random_range(1..=scale.partners))
                    .bind(rng.random_range(100..=50_000_i64) * 100)
                    .bind(category)
                    .bind(at)
                    .bind(app.local_date(at).to_string());
                id += 1;
            }
            query.execute(&mut *tx).await.expect("seed sales");
        }
    }

    // Totals exactly as the handler would have left them (growth reads last year's).
    sqlx::query(
        "INSERT INTO period_totals (period, partner_id, approved_minor, approved_count, \
         approved_at, provisional_minor, provisional_at, pending_count) \
         SELECT period, partner_id, SUM(program_minor), COUNT(*), MAX(reported_at), \
           SUM(program_minor), MAX(reported_at), 0 \
         FROM sales GROUP BY period, partner_id",
    )
    .execute(&mut *tx)
    .await
    .expect("seed period totals");

    let with_sales: i64 = sqlx::query_scalar(
        "SELECT COUNT(DISTINCT partner_id) FROM sales WHERE period = $1 AND status = 'approved'",
    )
    .bind(PERIOD)
    .fetch_one(&mut *tx)
    .await
    .expect("count partners with sales");
    sqlx::query(
        "CREATE TABLE bench_meta (version INTEGER NOT NULL, partners INTEGER NOT NULL, \
         sales INTEGER NOT NULL, last_year_sales INTEGER NOT NULL, with_sales INTEGER NOT NULL)",
    )
    .execute(&mut *tx)
    .await
    .expect("create bench_meta");
    sqlx::query("INSERT INTO bench_meta VALUES ($1, $2, $3, $4, $5)")
        .bind(SEED_VERSION)
        .bind(scale.partners)
        .bind(scale.sales)
        .bind(scale.last_year_sales)
        .bind(with_sales)
        .execute(&mut *tx)
        .await
        .expect("fill bench_meta");
    // No ANALYZE: like a production file, the planner has no statistics.
    tx.commit().await.expect("commit seeding");
    pool.close().await;
    eprintln!(
        "seeded {} partners, {} + {} sales into {} in {:.1} s",
        scale.partners,
        scale.sales,
        scale.last_year_sales,
        path.display(),
        started.elapsed().as_secs_f64()
    );
    Seeded {
        scale,
        with_sales: u64::try_from(with_sales).expect("count is non-negative"),
    }
}

/// The seeded database for `scale`: the cached file, (re)built when missing or stale; in test
/// mode a fresh one in `temp`.
async fn database(scale: Scale, temp: &Path) -> (PathBuf, Seeded) {
    if scale != FULL {
        let path = temp.join("close-small.db");
        let seeded = seed(&path, scale).await;
        return (path, seeded);
    }
    let dir = target_dir().join("bench-data");
    std::fs::create_dir_all(&dir).expect("create target/bench-data");
    let path = dir.join("close-100k.db");
    if let Some(seeded) = cached(&path).await
        && seeded.scale == scale
    {
        // Migrations added since seeding are applied like on any upgraded database; a cached
        // file the migrations no longer accept (an edited migration) is rebuilt.
        let migrated = match Store::connect(&sqlite_url(&path)).await {
            Ok(store) => {
                let result = store.migrate().await;
                store.close().await;
                result
            }
            Err(e) => Err(e),
        };
        match migrated {
            Ok(()) => {
                eprintln!("using cached {}", path.display());
                return (path, seeded);
            }
            Err(e) => eprintln!("rebuilding {}: {e}", path.display()),
        }
    }
    // Seed beside the final name and move into place, so an interrupted seeding is redone.
    let building = dir.join("close-100k.db.building");
    let seeded = seed(&building, scale).await;
    remove_db(&path);
    std::fs::rename(&building, &path).expect("move seeded database into place");
    (path, seeded)
}

/// One close on a fresh copy of `seeded` at `work`: the time of `close_period` alone. The
/// report is checked every time; with `check`, also what was stored (after the timing).
async fn timed_close(seeded: &Path, work: &Path, expected: &Seeded, check: bool) -> Duration {
    copy_db(seeded, work);
    let app = app_on(work).await;
    let start = Instant::now();
    let report = rally::features::statements::service::close_period(&app, period(), None)
        .await
        .expect("close period");
    let elapsed = start.elapsed();
    assert_eq!(report.period, PERIOD);
    assert_eq!(
        report.statements, expected.with_sales,
        "one statement per partner with sales: {report:?}"
    );
    if check {
        check_stored(&app, &report).await;
    }
    black_box(report);
    app.store.close().await;
    elapsed
}

/// The stored statements agree with the report, and the period cannot be closed again.
async fn check_stored(app: &App, report: &rally::features::statements::service::CloseReport) {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(total_minor), 0) AS BIGINT) AS total, \
         CAST(COALESCE(SUM(LENGTH(lines)), 0) AS BIGINT) AS bytes FROM statements \
         WHERE period = $1",
    )
    .bind(PERIOD)
    .fetch_one(app.store.pool())
    .await
    .expect("count statements");
    let (n, total, bytes): (i64, i64, i64) = (
        row.try_get("n").expect("n"),
        row.try_get("total").expect("total"),
        row.try_get("bytes").expect("bytes"),
    );
    assert_eq!(u64::try_from(n).expect("count"), report.statements);
    assert_eq!(
        total, report.total_minor,
        "stored totals add up to the report"
    );
    assert!(
        rally::features::statements::service::close_period(app, period(), None)
            .await
            .is_err(),
        "a closed period cannot be closed twice"
    );
    println!(
        "close of {PERIOD}: {} statements locked (= partners with sales), total {} CNY, \
         {:.1} MB of stored statement documents ({} bytes per statement on average)",
        report.statements,
        report.total_minor / 100,
        bytes as f64 / 1e6,
        bytes / n.max(1)
    );
}

/// One bare `GROUP BY` of the period's sales (the baseline) on a new pool: every
/// (partner, category) sum fetched.
async fn timed_group_by(path: &Path, expected: &Seeded) -> Duration {
    let pool = bare_pool(path).await;
    let start = Instant::now();
    let rows = sqlx::query(GROUP_BY_SQL)
        .fetch_all(&pool)
        .await
        .expect("bare group by");
    let elapsed = start.elapsed();
    let partners: std::collections::HashSet<i64> = rows
        .iter()
        .map(|r| r.try_get::<i64, _>(0).expect("partner_id"))
        .collect();
    assert_eq!(partners.len() as u64, expected.with_sales);
    black_box(rows);
    pool.close().await;
    elapsed
}

/// A bare `SqlitePool` on `path` (sqlx defaults).
async fn bare_pool(path: &Path) -> SqlitePool {
    SqlitePool::connect_with(SqliteConnectOptions::new().filename(path))
        .await
        .expect("open bare pool")
}

/// One bare read of the database at `path` on a new pool: the time of the query alone.
async fn timed_bare(path: &Path, expected: &Seeded) -> Duration {
    let pool = bare_pool(path).await;
    let start = Instant::now();
    let rows = sqlx::query(BARE_SQL)
        .fetch_all(&pool)
        .await
        .expect("bare select");
    let elapsed = start.elapsed();
    assert_eq!(
        i64::try_from(rows.len()).expect("row count fits"),
        expected.scale.sales,
        "the bare read fetched every sale of the period"
    );
    black_box(rows);
    pool.close().await;
    elapsed
}

fn bench_close(c: &mut Criterion) -> Seeded {
    let scale = if test_mode() { SMALL } else { FULL };
    let rt = Runtime::new().expect("tokio runtime");
    let temp = tempfile::tempdir().expect("temporary directory");
    let work = temp.path().join("close.db");
    let (seeded, expected) = rt.block_on(database(scale, temp.path()));
    println!(
        "{} partners, {} approved sales in {PERIOD} ({} partners with sales), {} in {LAST_YEAR}",
        expected.scale.partners,
        expected.scale.sales,
        expected.with_sales,
        expected.scale.last_year_sales
    );

    let mut group = c.benchmark_group(GROUP);
    // One iteration takes seconds: one warm-up iteration (which also checks the stored
    // statements, after its timing), then ten samples of one iteration.
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.warm_up_time(Duration::from_millis(1));
    group.measurement_time(Duration::from_secs(10));
    let checked = Cell::new(false);
    group.bench_function(CLOSE, |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let (seeded, work, expected, checked) = (&seeded, &work, &expected, &checked);
            async move {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let check = !checked.replace(true);
                    total += timed_close(seeded, work, expected, check).await;
                }
                total
            }
        });
    });
    // The read does not change the file: one copy serves every iteration (each on a new pool).
    let bare_copy = temp.path().join("bare.db");
    copy_db(&seeded, &bare_copy);
    group.measurement_time(Duration::from_secs(5));
    group.bench_function(BARE, |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let (bare_copy, expected) = (&bare_copy, &expected);
            async move {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    total += timed_bare(bare_copy, expected).await;
                }
                total
            }
        });
    });
    group.bench_function(GROUP_BY, |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let (bare_copy, expected) = (&bare_copy, &expected);
            async move {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    total += timed_group_by(bare_copy, expected).await;
                }
                total
            }
        });
    });
    group.finish();
    remove_db(&bare_copy);
    remove_db(&work);
    expected
}

fn print_summary(since: SystemTime) {
    println!("\nclose-period summary (this run):");
    let close = estimates(GROUP, CLOSE, since);
    let group_by = estimates(GROUP, GROUP_BY, since);
    let bare = estimates(GROUP, BARE, since);
    for (name, e) in [(CLOSE, close), (GROUP_BY, group_by), (BARE, bare)] {
        if let Some((mean, median)) = e {
            println!(
                "  close/{name:<13} mean {:>9.1} ms   median {:>9.1} ms",
                mean / 1e6,
                median / 1e6
            );
        }
    }
    let (Some(close), Some(group_by)) = (close, group_by) else {
        println!("  (no criterion ratio: run the benchmarks in one `cargo bench --bench close`)");
        return;
    };
    if let Some(bare) = bare {
        println!(
            "  ratio close/bare_select (information): median {:.2}x",
            close.1 / bare.1
        );
    }
    let (mean_ratio, median_ratio) = (close.0 / group_by.0, close.1 / group_by.1);
    println!(
        "  ratio close/group_by: mean {mean_ratio:.2}x, median {median_ratio:.2}x (goal <= \
         {GOAL_RATIO}x): {}",
        if mean_ratio <= GOAL_RATIO && median_ratio <= GOAL_RATIO {
            "met"
        } else {
            "MISSED"
        }
    );
}

fn main() {
    let started = SystemTime::now();
    // No plots: Rally's charts build plotters with `ab_glyph` fonts, under which criterion's
    // plots find no font; the estimates (and the summary read from them) are unaffected.
    let mut c = Criterion::default().configure_from_args().without_plots();
    bench_close(&mut c);
    c.final_summary();
    print_summary(started);
}
