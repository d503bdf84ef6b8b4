//! `/rank` with 100,000 partners and 1,000,000 sales in the current period.
//!
//! The database is seeded once with bulk SQL (not through the handler) into
//! `target/bench-data/rank-100k.db` and reused while [`SEED_VERSION`] and the stored scale match.
//! The program clock is pinned ([`NOW_MS`]) so the seeded period stays "current" on every run.
//!
//! Measured, for ~200 callers at random positions in the ranking (one after the other):
//! - `rank/handle_rank`: `/rank` through `App::handle` (the goal: median under 1 ms);
//! - `rank/handle_help`: baseline, `/help` through `App::handle` (member lookup, no query);
//! - `rank/leaderboard`: `store::totals::leaderboard` directly;
//! - `rank/totals_get`: baseline, `store::totals::get` (one primary-key read, same pool);
//! - `rank_queries/*`: each statement `leaderboard` runs, separately, to see which dominates.
//!
//! Run: `cargo bench --bench rank`. Under `cargo test --benches` a small database in a
//! temporary directory is used instead, so the check stays quick.

use std::cell::Cell;
use std::collections::BTreeSet;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use chrono::TimeZone;
use criterion::Criterion;
use rally::app::{App, FixedClock};
use rally::chat::handler::Incoming;
use rally::demo;
use rally::engine::ids::PartnerId;
use rally::engine::partner::Platform;
use rally::store::Store;
use rally::store::totals::{self, RankBasis};
use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use sqlx::Row;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use tokio::runtime::Runtime;

/// Bump when the seeded data changes shape; a cached file with another version is rebuilt.
const SEED_VERSION: i64 = 1;
/// The pinned "now": 2026-03-18 12:00 in Asia/Shanghai (the demo program's time zone).
const NOW_MS: i64 = 1_773_806_400_000;
/// Rows per multi-row sales insert (5 bound values each; well under SQLite's 32,766).
const SALES_CHUNK: usize = 1_000;
/// Places `/rank` shows (the handler's `RANK_TOP`).
const RANK_TOP: i64 = 10;
/// Goal from the issue: `/rank` median through the handler.
const GOAL_MEDIAN_NS: f64 = 1_000_000.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Scale {
    partners: i64,
    sales: i64,
    /// Partners that get a console member (role partner).
    members: usize,
    /// Members that ask, cycled through in every benchmark.
    callers: usize,
}

const FULL: Scale = Scale {
    partners: 100_000,
    sales: 1_000_000,
    members: 1_000,
    callers: 200,
};

/// `cargo test --benches`: same code, small data.
const SMALL: Scale = Scale {
    partners: 1_000,
    sales: 10_000,
    members: 100,
    callers: 20,
};

/// Criterion runs benchmarks only with `--bench` (and not `--test`); otherwise it runs each once.
fn test_mode() -> bool {
    let args: Vec<String> = std::env::args().collect();
    !args.iter().any(|a| a == "--bench") || args.iter().any(|a| a == "--test")
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
}

fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

/// The benchmark's App: the demo program on `path`, clock pinned to [`NOW_MS`].
async fn app_on(path: &Path) -> App {
    let url = sqlite_url(path);
    let mut config = demo::config().expect("demo config is valid");
    config.database.url = url.clone();
    let store = Store::connect(&url).await.expect("connect to sqlite file");
    store.migrate().await.expect("run migrations");
    App::new(store, Arc::new(config), Box::new(FixedClock(NOW_MS))).expect("build app")
}

fn remove_db(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(name));
    }
}

/// The scale stored in a cached file, if it was seeded by this version of the benchmark.
async fn cached_scale(path: &Path) -> Option<(i64, i64)> {
    if !path.exists() {
        return None;
    }
    let options = SqliteConnectOptions::new().filename(path);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .ok()?;
    let row = sqlx::query("SELECT version, now_ms, partners, sales FROM bench_meta")
        .fetch_one(&pool)
        .await
        .ok();
    pool.close().await;
    let row = row?;
    let (version, now_ms): (i64, i64) = (row.try_get(0).ok()?, row.try_get(1).ok()?);
    if version != SEED_VERSION || now_ms != NOW_MS {
        return None;
    }
    Some((row.try_get(2).ok()?, row.try_get(3).ok()?))
}

/// Seeds `path` from scratch: schema by the app's migrations, then partners, sales, period
/// totals and members by bulk SQL on one connection with journaling and syncing off.
async fn seed(path: &Path, scale: Scale) {
    let started = Instant::now();
    remove_db(path);
    // Migrations, and the period and local dates exactly as the app computes them.
    let app = app_on(path).await;
    let period = app.period_at(app.now());
    let period_key = period.key();
    let tz = app.config.program.timezone;
    let start_ms = tz
        .from_local_datetime(
            &period
                .start()
                .and_hms_opt(0, 0, 0)
                .expect("midnight exists"),
        )
        .earliest()
        .expect("period start exists in the program time zone")
        .timestamp_millis();
    assert!(start_ms < NOW_MS, "the period has begun");
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

    // Partners 1..=N by a recursive CTE.
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) \
         INSERT INTO partners (id, name, name_key, kind, region, tier, status, joined_at) \
         SELECT i, printf('Partner %06d', i), printf('partner %06d', i), \
           CASE i % 5 WHEN 0 THEN 'dealer' WHEN 1 THEN 'agent' WHEN 2 THEN 'wholesaler' \
             WHEN 3 THEN 'retailer' ELSE 'distributor' END, \
           NULL, NULL, 'active', $2 FROM n",
    )
    .bind(scale.partners)
    .bind(NOW_MS - 90 * 86_400_000)
    .execute(&mut *tx)
    .await
    .expect("seed partners");

    // Sales: uniform partner, whole yuan 100..=50,000, reported in the period before now,
    // all approved (the demo program auto-approves below 5,000; amounts are the ranking's
    // shape, not its cost).
    let mut rng = StdRng::seed_from_u64(2026);
    let head = format!(
        "INSERT INTO sales (id, partner_id, amount_minor, currency, program_minor, customer, \
         customer_key, category, note, sale_date, period, source, idempotency_key, status, \
         reporter_id, reported_at) \
         SELECT column1, column2, column3, 'CNY', column3, 'Customer ' || (column1 % 997), \
           'customer ' || (column1 % 997), NULL, NULL, column5, '{period_key}', 'import', \
           printf('bench:%08d', column1), 'approved', NULL, column4 FROM (VALUES "
    );
    let mut id = 1_i64;
    while id <= scale.sales {
        let rows = usize::try_from((scale.sales - id + 1).min(SALES_CHUNK as i64))
            .expect("chunk size fits");
        let mut text = head.clone();
        for r in 0..rows {
            text.push_str(if r == 0 {
                "(?, ?, ?, ?, ?)"
            } else {
                ", (?, ?, ?, ?, ?)"
            });
        }
        text.push(')');
        let mut query = sqlx::query(sqlx::AssertSqlSafe(text));
        for _ in 0..rows {
            let at = rng.random_range(start_ms..NOW_MS);
            query = query
                .bind(id)
                .bind(rng.random_range(1..=scale.partners))
                .bind(rng.random_range(100..=50_000_i64) * 100)
                .bind(at)
                .bind(app.local_date(at).to_string());
            id += 1;
        }
        query.execute(&mut *tx).await.expect("seed sales");
    }

    // Totals exactly as the handler would have left them: sums, counts, and the instant the
    // total reached its value (the last sale).
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

    // Console members (role partner) for a random sample of partners: `p<partner id>`.
    let mut linked = BTreeSet::new();
    while linked.len() < scale.members {
        linked.insert(rng.random_range(1..=scale.partners));
    }
    for partner in linked {
        sqlx::query(
            "INSERT INTO members (platform, platform_user_id, display_name, partner_id, role, \
             created_at) VALUES ('console', $1, $2, $3, 'partner', $4)",
        )
        .bind(format!("p{partner}"))
        .bind(format!("Partner {partner:06}"))
        .bind(partner)
        .bind(NOW_MS)
        .execute(&mut *tx)
        .await
        .expect("seed members");
    }

    sqlx::query(
        "CREATE TABLE bench_meta (version INTEGER NOT NULL, now_ms INTEGER NOT NULL, \
         partners INTEGER NOT NULL, sales INTEGER NOT NULL)",
    )
    .execute(&mut *tx)
    .await
    .expect("create bench_meta");
    sqlx::query("INSERT INTO bench_meta VALUES ($1, $2, $3, $4)")
        .bind(SEED_VERSION)
        .bind(NOW_MS)
        .bind(scale.partners)
        .bind(scale.sales)
        .execute(&mut *tx)
        .await
        .expect("fill bench_meta");
    tx.commit().await.expect("commit seeding");
    pool.close().await;
    eprintln!(
        "seeded {} partners, {} sales into {} in {:.1} s",
        scale.partners,
        scale.sales,
        path.display(),
        started.elapsed().as_secs_f64()
    );
}

/// The seeded database for `scale`: the cached file, (re)built when missing or stale; in test
/// mode a fresh one in `temp`.
async fn database(scale: Scale, temp: &Path) -> PathBuf {
    if scale != FULL {
        let path = temp.join("rank-small.db");
        seed(&path, scale).await;
        return path;
    }
    let dir = target_dir().join("bench-data");
    std::fs::create_dir_all(&dir).expect("create target/bench-data");
    let path = dir.join("rank-100k.db");
    if cached_scale(&path).await == Some((scale.partners, scale.sales)) {
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
                return path;
            }
            Err(e) => eprintln!("rebuilding {}: {e}", path.display()),
        }
    }
    // Seed beside the final name and move into place, so an interrupted seeding is redone.
    let building = dir.join("rank-100k.db.building");
    seed(&building, scale).await;
    remove_db(&path);
    std::fs::rename(&building, &path).expect("move seeded database into place");
    path
}

/// One caller: console member `p<id>` of partner `id`, and its standing (for the per-query
/// diagnostics).
#[derive(Clone, Debug)]
struct Caller {
    partner: PartnerId,
    message: Incoming,
    total: i64,
    reached_at: i64,
}

fn message(user: &str, text: &str) -> Incoming {
    Incoming {
        platform: Platform::Console,
        chat_id: "bench".to_string(),
        private_chat: false,
        sender_id: user.to_string(),
        sender_name: user.to_string(),
        message_id: "1".to_string(),
        text: text.to_string(),
        locale: None,
    }
}

// The statements `store::totals::leaderboard` runs for `RankBasis::Approved` (copied from
// src/store/totals.rs for the per-query diagnostics; the end-to-end benchmarks call the real
// function).
const Q_TOP: &str = "SELECT t.partner_id, p.name, t.approved_minor AS total, \
     t.approved_at AS reached_at FROM period_totals t JOIN partners p ON p.id = t.partner_id \
     WHERE t.period = $1 AND t.approved_minor > 0 \
     ORDER BY t.approved_minor DESC, t.approved_at, t.partner_id LIMIT $2";
const Q_PARTICIPANTS: &str =
    "SELECT COUNT(*) AS n FROM period_totals WHERE period = $1 AND approved_minor > 0";
const Q_MINE: &str = "SELECT t.partner_id, p.name, t.approved_minor AS total, \
     t.approved_at AS reached_at FROM period_totals t JOIN partners p ON p.id = t.partner_id \
     WHERE t.period = $1 AND t.partner_id = $2 AND t.approved_minor > 0";
const Q_AHEAD: &str = "SELECT (SELECT COUNT(*) FROM period_totals WHERE period = $1 \
     AND approved_minor > $2) + (SELECT COUNT(*) FROM period_totals WHERE period = $1 \
     AND approved_minor = $2 AND (approved_at < $3 OR (approved_at = $3 AND partner_id < $4))) AS n";
const Q_ABOVE: &str = "SELECT CASE WHEN EXISTS (SELECT 1 FROM period_totals WHERE period = $1 \
     AND approved_minor = $2 AND (approved_at < $3 OR (approved_at = $3 AND partner_id < $4))) \
     THEN $2 ELSE (SELECT MIN(approved_minor) FROM period_totals WHERE period = $1 \
     AND approved_minor > $2) END AS above";

#[derive(Clone, Copy)]
enum Query {
    Top,
    Participants,
    Mine,
    Ahead,
    Above,
}

impl Query {
    const ALL: [(Query, &'static str); 5] = [
        (Query::Top, "top10"),
        (Query::Participants, "participants"),
        (Query::Mine, "mine"),
        (Query::Ahead, "ahead"),
        (Query::Above, "above"),
    ];

    fn sql(self) -> &'static str {
        match self {
            Query::Top => Q_TOP,
            Query::Participants => Q_PARTICIPANTS,
            Query::Mine => Q_MINE,
            Query::Ahead => Q_AHEAD,
            Query::Above => Q_ABOVE,
        }
    }

    async fn run(self, conn: &mut rally::store::Conn, period: &str, caller: &Caller) {
        let query = sqlx::query(self.sql()).bind(period.to_string());
        let query = match self {
            Query::Top => query.bind(RANK_TOP),
            Query::Participants => query,
            Query::Mine => query.bind(caller.partner.0),
            Query::Ahead | Query::Above => query
                .bind(caller.total)
                .bind(caller.reached_at)
                .bind(caller.partner.0),
        };
        black_box(query.fetch_all(&mut *conn).await.expect("diagnostic query"));
    }
}

/// Prints SQLite's plan for each leaderboard statement.
async fn explain(app: &App, period: &str, caller: &Caller) {
    let mut conn = app.store.read().await.expect("read connection");
    println!("EXPLAIN QUERY PLAN of the leaderboard statements (RankBasis::Approved):");
    for (query, name) in Query::ALL {
        let text = format!("EXPLAIN QUERY PLAN {}", query.sql());
        let q = sqlx::query(sqlx::AssertSqlSafe(text)).bind(period.to_string());
        let q = match query {
            Query::Top => q.bind(RANK_TOP),
            Query::Participants => q,
            Query::Mine => q.bind(caller.partner.0),
            Query::Ahead | Query::Above => q
                .bind(caller.total)
                .bind(caller.reached_at)
                .bind(caller.partner.0),
        };
        let rows = q.fetch_all(&mut *conn).await.expect("explain query plan");
        println!("  {name}:");
        for row in rows {
            let detail: String = row.try_get("detail").expect("plan detail");
            println!("    {detail}");
        }
    }
}

fn bench_rank(c: &mut Criterion) {
    let scale = if test_mode() { SMALL } else { FULL };
    let rt = Runtime::new().expect("tokio runtime");
    let temp = tempfile::tempdir().expect("temporary directory");

    let (app, period, callers) = rt.block_on(async {
        let path = database(scale, temp.path()).await;
        let app = app_on(&path).await;
        let period = app.period_at(app.now()).key();
        let mut conn = app.store.read().await.expect("read connection");
        let users: Vec<(String, i64)> = sqlx::query(
            "SELECT platform_user_id, partner_id FROM members \
             WHERE platform = 'console' AND role = 'partner' ORDER BY id",
        )
        .fetch_all(&mut *conn)
        .await
        .expect("list seeded members")
        .iter()
        .map(|r| {
            (
                r.try_get(0).expect("user id"),
                r.try_get(1).expect("partner"),
            )
        })
        .collect();
        assert_eq!(users.len(), scale.members, "seeded members present");
        let mut rng = StdRng::seed_from_u64(7);
        let mut chosen: Vec<_> = users
            .choose_multiple(&mut rng, scale.callers)
            .cloned()
            .collect();
        chosen.shuffle(&mut rng);
        let mut callers = Vec::new();
        let mut places = Vec::new();
        for (user, partner) in chosen {
            let partner = PartnerId(partner);
            let board = totals::leaderboard(
                &mut conn,
                &period,
                RankBasis::Approved,
                Some(partner),
                RANK_TOP,
            )
            .await
            .expect("leaderboard");
            assert_eq!(
                board.participants,
                board_participants(&mut conn, &period).await
            );
            let (total, reached_at) = match &board.me {
                Some((place, s)) => {
                    places.push(*place);
                    (s.total_minor, s.reached_at)
                }
                None => (0, 0),
            };
            callers.push(Caller {
                partner,
                message: message(&user, "/rank"),
                total,
                reached_at,
            });
        }
        places.sort_unstable();
        drop(conn);
        println!(
            "{} partners ranked in period {period}; {} callers, places min {} / median {} / max {}",
            scale.partners,
            callers.len(),
            places.first().copied().unwrap_or(0),
            places.get(places.len() / 2).copied().unwrap_or(0),
            places.last().copied().unwrap_or(0),
        );
        // The handler answers with the full board for a ranked caller.
        let outcome = app.handle(&callers[0].message).await;
        let keys: Vec<&str> = outcome
            .replies
            .first()
            .map(|r| r.lines.iter().map(|m| m.key.as_str()).collect())
            .unwrap_or_default();
        assert_eq!(
            keys.first(),
            Some(&"rank-header"),
            "/rank answers: {outcome:?}"
        );
        assert!(
            keys.contains(&"rank-me"),
            "/rank places the caller: {outcome:?}"
        );
        explain(&app, &period, &callers[0]).await;
        (app, period, callers)
    });

    let help: Vec<Incoming> = callers
        .iter()
        .map(|c| Incoming {
            text: "/help".to_string(),
            ..c.message.clone()
        })
        .collect();
    let next = Cell::new(0_usize);
    let cycle = |n: u64| -> Vec<usize> {
        let first = next.get();
        next.set(first + usize::try_from(n).expect("iteration count fits"));
        (0..n as usize)
            .map(|i| (first + i) % callers.len())
            .collect()
    };

    let mut group = c.benchmark_group("rank");
    group.sample_size(40);
    group.warm_up_time(Duration::from_secs(2));
    group.measurement_time(Duration::from_secs(8));
    group.bench_function("handle_rank", |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let (app, callers, order) = (&app, &callers, cycle(iters));
            async move {
                let start = Instant::now();
                for i in order {
                    black_box(app.handle(&callers[i].message).await);
                }
                start.elapsed()
            }
        });
    });
    group.bench_function("handle_help", |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let (app, help, order) = (&app, &help, cycle(iters));
            async move {
                let start = Instant::now();
                for i in order {
                    black_box(app.handle(&help[i]).await);
                }
                start.elapsed()
            }
        });
    });
    group.bench_function("leaderboard", |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let (app, period, callers, order) = (&app, &period, &callers, cycle(iters));
            async move {
                let mut conn = app.store.read().await.expect("read connection");
                let start = Instant::now();
                for i in order {
                    black_box(
                        totals::leaderboard(
                            &mut conn,
                            period,
                            RankBasis::Approved,
                            Some(callers[i].partner),
                            RANK_TOP,
                        )
                        .await
                        .expect("leaderboard"),
                    );
                }
                start.elapsed()
            }
        });
    });
    group.bench_function("totals_get", |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let (app, period, callers, order) = (&app, &period, &callers, cycle(iters));
            async move {
                let mut conn = app.store.read().await.expect("read connection");
                let start = Instant::now();
                for i in order {
                    black_box(
                        totals::get(&mut conn, period, callers[i].partner)
                            .await
                            .expect("totals"),
                    );
                }
                start.elapsed()
            }
        });
    });
    group.finish();

    let mut group = c.benchmark_group("rank_queries");
    group.sample_size(20);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));
    for (query, name) in Query::ALL {
        group.bench_function(name, |b| {
            b.to_async(&rt).iter_custom(|iters| {
                let (app, period, callers, order) = (&app, &period, &callers, cycle(iters));
                async move {
                    let mut conn = app.store.read().await.expect("read connection");
                    let start = Instant::now();
                    for i in order {
                        query.run(&mut conn, period, &callers[i]).await;
                    }
                    start.elapsed()
                }
            });
        });
    }
    group.finish();
    rt.block_on(app.store.close());
}

async fn board_participants(conn: &mut rally::store::Conn, period: &str) -> u64 {
    let n: i64 = sqlx::query(Q_PARTICIPANTS)
        .bind(period.to_string())
        .fetch_one(&mut *conn)
        .await
        .expect("count participants")
        .try_get("n")
        .expect("count");
    u64::try_from(n).expect("count is non-negative")
}

/// Where criterion writes its estimates.
fn criterion_dir() -> PathBuf {
    std::env::var_os("CRITERION_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("criterion"))
}

/// (mean, median) in nanoseconds, if criterion wrote this benchmark's estimates after `since`.
fn estimates(group: &str, bench: &str, since: SystemTime) -> Option<(f64, f64)> {
    let path = criterion_dir()
        .join(group)
        .join(bench)
        .join("new")
        .join("estimates.json");
    let fresh = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .is_ok_and(|t| t >= since);
    if !fresh {
        return None;
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).ok()?).ok()?;
    let point = |name: &str| json.get(name)?.get("point_estimate")?.as_f64();
    Some((point("mean")?, point("median")?))
}

fn print_summary(since: SystemTime) {
    let all = [
        ("rank", "handle_rank"),
        ("rank", "handle_help"),
        ("rank", "leaderboard"),
        ("rank", "totals_get"),
        ("rank_queries", "top10"),
        ("rank_queries", "participants"),
        ("rank_queries", "mine"),
        ("rank_queries", "ahead"),
        ("rank_queries", "above"),
    ];
    println!("\n/rank summary (this run):");
    for (group, bench) in all {
        if let Some((mean, median)) = estimates(group, bench, since) {
            println!(
                "  {group}/{bench:<13} mean {:>9.1} µs   median {:>9.1} µs",
                mean / 1e3,
                median / 1e3
            );
        }
    }
    let ratio = |a: (&str, &str), b: (&str, &str)| {
        let (x, y) = (estimates(a.0, a.1, since)?, estimates(b.0, b.1, since)?);
        Some((x.0 / y.0, x.1 / y.1))
    };
    if let Some((mean, median)) = ratio(("rank", "handle_rank"), ("rank", "handle_help")) {
        println!("  handle_rank / handle_help: mean {mean:.2}x, median {median:.2}x");
    }
    if let Some((mean, median)) = ratio(("rank", "leaderboard"), ("rank", "totals_get")) {
        println!("  leaderboard / totals_get: mean {mean:.2}x, median {median:.2}x");
    }
    if let Some((_, median)) = estimates("rank", "handle_rank", since) {
        println!(
            "  goal: /rank median < {:.0} µs: {} (median {:.1} µs, {:.2}x the goal)",
            GOAL_MEDIAN_NS / 1e3,
            if median < GOAL_MEDIAN_NS {
                "met"
            } else {
                "MISSED"
            },
            median / 1e3,
            median / GOAL_MEDIAN_NS
        );
    }
}

fn main() {
    let started = SystemTime::now();
    let mut c = Criterion::default().configure_from_args();
    bench_rank(&mut c);
    c.final_summary();
    print_summary(started);
}
