//! `/rank` with 100,000 partners and 1,000,000 sales in the current period.
//!
//! The database is seeded once with bulk SQL (not through the handler) into
//! `target/bench-data/rank-100k.db` and reused while [`SEED_VERSION`] and the stored scale match;
//! each run works on a copy of it in a temporary directory (`handle_rank_with_writes` adds
//! sales). The program clock is pinned ([`NOW_MS`]) so the seeded period stays "current".
//!
//! Measured, for ~200 callers at random positions in the ranking (one after the other):
//! - `rank/handle_rank`: `/rank` through `App::handle`, rank cache warm (the goal: median under
//!   1 ms);
//! - `rank/handle_help`: baseline, `/help` through `App::handle` (member lookup, no ranking);
//! - `rank/leaderboard`: `RankCache::leaderboard` directly, warm (after the first sync);
//! - `rank/totals_get`: baseline, `store::totals::get` (one primary-key read, same pool);
//! - `rank/handle_rank_with_writes`: a `/report` by the caller, then their `/rank` (whose sync
//!   picks up that change); only the `/rank` is timed;
//! - `rank/first_load`: a fresh `RankCache` each iteration, the cold load of every total;
//!   `first_load_fetch` (the sync query alone) and `first_load_index` (setting the fetched
//!   totals into an empty `RankIndex`) split it;
//! - `rank/index_set`: one synced change in a full `RankIndex` (a caller's total grows by one
//!   `/report`), the index's share of `handle_rank_with_writes`.
//!
//! At start-up the cache's places and participant count are checked against SQL counts, and
//! `EXPLAIN QUERY PLAN` of the sync query and the change stamp is printed.
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
use criterion::{Criterion, SamplingMode};
use rally::app::{App, FixedClock};
use rally::chat::handler::Incoming;
use rally::demo;
use rally::engine::ids::PartnerId;
use rally::engine::partner::Platform;
use rally::engine::ranking::RankIndex;
use rally::store::Store;
use rally::store::rank_cache::RankCache;
use rally::store::totals::{self, RankBasis};
use rally_testkit::bench::{copy_db, estimates, remove_db, sqlite_url, target_dir, test_mode};
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
const RANK_TOP: usize = 10;
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

/// The benchmark's App: the demo program on `path`, clock pinned to [`NOW_MS`].
async fn app_on(path: &Path) -> App {
    let url = sqlite_url(path);
    let mut config = demo::config().expect("demo config is valid");
    config.database.url = url.clone();
    let store = Store::connect(&url).await.expect("connect to sqlite file");
    store.migrate().await.expect("run migrations");
    App::new(store, Arc::new(config), Box::new(FixedClock(NOW_MS))).expect("build app")
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

/// The database the benchmarks run on: a copy of the seeded one in `temp`, because
/// `handle_rank_with_writes` adds sales and every run should start from the same data. The copy
/// is flushed to disk before it is used, so its write-back does not land in a measurement.
fn working_copy(seeded: &Path, temp: &Path) -> PathBuf {
    if seeded.starts_with(temp) {
        return seeded.to_path_buf();
    }
    let started = Instant::now();
    let copy = temp.join("rank.db");
    copy_db(seeded, &copy);
    eprintln!(
        "working copy {} in {:.1} s",
        copy.display(),
        started.elapsed().as_secs_f64()
    );
    copy
}

/// One caller: console member `p<id>` of partner `id`.
#[derive(Clone, Debug)]
struct Caller {
    user: String,
    partner: PartnerId,
    message: Incoming,
}

fn message(user: &str, id: &str, text: &str) -> Incoming {
    Incoming {
        platform: Platform::Console,
        chat_id: "bench".to_string(),
        private_chat: false,
        sender_id: user.to_string(),
        sender_name: user.to_string(),
        message_id: id.to_string(),
        text: text.to_string(),
        locale: None,
        attachments: Vec::new(),
        username: None,
        reply_to: None,
        pressed_message: None,
    }
}

/// The `/report` of `handle_rank_with_writes` (auto-approved in the demo program, so it changes
/// the approved total that ranks).
const REPORT_TEXT: &str = "/report 1200 ACME";
/// What [`REPORT_TEXT`] adds to the reporter's total (CNY, minor units).
const REPORT_MINOR: i64 = 120_000;

/// The statement `RankCache` syncs with for `RankBasis::Approved` (copied from
/// src/store/totals.rs `changes_since`, for `EXPLAIN QUERY PLAN` only).
const Q_SYNC: &str = "SELECT partner_id, approved_minor AS total, approved_at AS reached_at, \
     change_seq FROM period_totals WHERE period = $1 AND change_seq > $2";
/// The change stamp `totals::apply` gives a written total on SQLite (src/store/totals.rs).
const Q_STAMP: &str =
    "SELECT COALESCE(MAX(change_seq), 0) + 1 FROM period_totals WHERE period = $1";

/// Prints SQLite's plan for the sync query and the change stamp.
async fn explain(app: &App, period: &str) {
    let mut conn = app.store.read().await.expect("read connection");
    println!("EXPLAIN QUERY PLAN of the rank cache's statements on SQLite:");
    for (name, text, binds_since) in [("sync", Q_SYNC, true), ("stamp", Q_STAMP, false)] {
        let q = sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {text}")))
            .bind(period.to_string());
        let q = if binds_since { q.bind(0_i64) } else { q };
        let rows = q.fetch_all(&mut *conn).await.expect("explain query plan");
        println!("  {name}:");
        for row in rows {
            let detail: String = row.try_get("detail").expect("plan detail");
            println!("    {detail}");
        }
    }
}

/// The number of partners ranked in `period`, counted in SQL.
async fn sql_participants(conn: &mut rally::store::Conn, period: &str) -> u64 {
    let n: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM period_totals WHERE period = $1 AND approved_minor > 0",
    )
    .bind(period.to_string())
    .fetch_one(&mut *conn)
    .await
    .expect("count participants")
    .try_get("n")
    .expect("count");
    u64::try_from(n).expect("count is non-negative")
}

/// A partner's place counted in SQL (the ordering `RankIndex` keeps: higher total, then
/// earlier reached-at, then lower id), if ranked.
async fn sql_place(conn: &mut rally::store::Conn, period: &str, partner: PartnerId) -> Option<u64> {
    let row = sqlx::query(
        "SELECT approved_minor, approved_at FROM period_totals \
         WHERE period = $1 AND partner_id = $2 AND approved_minor > 0",
    )
    .bind(period.to_string())
    .bind(partner.0)
    .fetch_optional(&mut *conn)
    .await
    .expect("read a total")?;
    let (total, at): (i64, i64) = (row.try_get(0).expect("total"), row.try_get(1).expect("at"));
    let ahead: i64 = sqlx::query(
        "SELECT COUNT(*) FROM period_totals WHERE period = $1 AND approved_minor > 0 AND \
         (approved_minor > $2 OR (approved_minor = $2 AND (approved_at < $3 OR \
         (approved_at = $3 AND partner_id < $4))))",
    )
    .bind(period.to_string())
    .bind(total)
    .bind(at)
    .bind(partner.0)
    .fetch_one(&mut *conn)
    .await
    .expect("count ahead")
    .try_get(0)
    .expect("count");
    Some(u64::try_from(ahead).expect("count is non-negative") + 1)
}

/// The cache's places for `callers` and the participant count agree with SQL; returns the
/// places.
async fn check_against_sql(app: &App, period: &str, callers: &[Caller]) -> Vec<u64> {
    let mut conn = app.store.read().await.expect("read connection");
    let mut places = Vec::new();
    for caller in callers {
        let board = app
            .ranks
            .leaderboard(
                &mut conn,
                period,
                RankBasis::Approved,
                Some(caller.partner),
                RANK_TOP,
            )
            .await
            .expect("leaderboard");
        assert_eq!(
            board.participants,
            sql_participants(&mut conn, period).await,
            "participants"
        );
        let place = board.me.as_ref().map(|(place, _)| *place);
        assert_eq!(
            place,
            sql_place(&mut conn, period, caller.partner).await,
            "place of {}",
            caller.user
        );
        places.extend(place);
    }
    places
}

fn bench_rank(c: &mut Criterion) {
    let scale = if test_mode() { SMALL } else { FULL };
    let rt = Runtime::new().expect("tokio runtime");
    let temp = tempfile::tempdir().expect("temporary directory");

    let (app, period, callers) = rt.block_on(async {
        let seeded = database(scale, temp.path()).await;
        let path = working_copy(&seeded, temp.path());
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
        let callers: Vec<Caller> = chosen
            .into_iter()
            .map(|(user, partner)| Caller {
                message: message(&user, "1", "/rank"),
                partner: PartnerId(partner),
                user,
            })
            .collect();
        // The App's cache loads everything on its first use; the benchmarks below run warm.
        let started = Instant::now();
        app.ranks
            .leaderboard(
                &mut conn,
                &period,
                RankBasis::Approved,
                Some(callers[0].partner),
                RANK_TOP,
            )
            .await
            .expect("first leaderboard");
        println!(
            "first sync of the App's rank cache: {:.1} ms",
            started.elapsed().as_secs_f64() * 1e3
        );
        drop(conn);
        let mut places = check_against_sql(&app, &period, &callers).await;
        places.sort_unstable();
        println!(
            "{} partners ranked in period {period}; {} callers, places min {} / median {} / max {} \
             (cache agrees with SQL counts)",
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
        explain(&app, &period).await;
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
                        app.ranks
                            .leaderboard(
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

    // Each `/rank` after a `/report`: the sync reads one changed total and moves it in the
    // index. Only the `/rank` is timed; the `/report`s' time is kept for the summary.
    let report_next = Cell::new(0_u64);
    let report_time = Cell::new(Duration::ZERO);
    group.bench_function("handle_rank_with_writes", |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let (app, callers, order) = (&app, &callers, cycle(iters));
            let (report_next, report_time) = (&report_next, &report_time);
            async move {
                let mut ranking = Duration::ZERO;
                for i in order {
                    let caller = &callers[i];
                    let n = report_next.get();
                    report_next.set(n + 1);
                    let report = message(&caller.user, &format!("w{n}"), REPORT_TEXT);
                    let start = Instant::now();
                    let outcome = app.handle(&report).await;
                    report_time.set(report_time.get() + start.elapsed());
                    assert!(
                        outcome
                            .replies
                            .first()
                            .and_then(|r| r.lines.first())
                            .is_some_and(|m| m.key == "report-approved"),
                        "/report records an approved sale: {outcome:?}"
                    );
                    let start = Instant::now();
                    black_box(app.handle(&caller.message).await);
                    ranking += start.elapsed();
                }
                ranking
            }
        });
    });

    // The cold cost: a fresh cache loads every total of the period.
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.warm_up_time(Duration::from_millis(500));
    // Ten one-iteration samples of about a second each.
    group.measurement_time(Duration::from_secs(12));
    group.bench_function("first_load", |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let (app, period, callers, order) = (&app, &period, &callers, cycle(iters));
            async move {
                let mut conn = app.store.read().await.expect("read connection");
                let mut elapsed = Duration::ZERO;
                for i in order {
                    let cache = RankCache::new();
                    let start = Instant::now();
                    black_box(
                        cache
                            .leaderboard(
                                &mut conn,
                                period,
                                RankBasis::Approved,
                                Some(callers[i].partner),
                                RANK_TOP,
                            )
                            .await
                            .expect("leaderboard"),
                    );
                    elapsed += start.elapsed();
                    drop(cache);
                }
                elapsed
            }
        });
    });

    // Where the cold load goes: the sync query alone (every total of the period, decoded) ...
    group.bench_function("first_load_fetch", |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let (app, period) = (&app, &period);
            async move {
                let mut conn = app.store.read().await.expect("read connection");
                let start = Instant::now();
                for _ in 0..iters {
                    black_box(
                        totals::changes_since(&mut conn, period, RankBasis::Approved, None)
                            .await
                            .expect("changes"),
                    );
                }
                start.elapsed()
            }
        });
    });
    // ... and the same totals set into an empty `RankIndex` in the order the query returns them.
    let (all, _) = rt.block_on(async {
        let mut conn = app.store.read().await.expect("read connection");
        totals::changes_since(&mut conn, &period, RankBasis::Approved, None)
            .await
            .expect("changes")
    });
    group.bench_function("first_load_index", |b| {
        b.iter_custom(|iters| {
            let mut elapsed = Duration::ZERO;
            for _ in 0..iters {
                let mut index = RankIndex::default();
                let start = Instant::now();
                for c in &all {
                    index.set(c.partner, c.total_minor, c.reached_at);
                }
                elapsed += start.elapsed();
                black_box(index);
            }
            elapsed
        });
    });

    // What one synced change costs the index: a caller's total grows by one `/report`'s amount
    // (the index is built in sorted order, which appends, to keep the set-up short).
    let mut sorted = all.clone();
    sorted.sort_by_key(|c| (std::cmp::Reverse(c.total_minor), c.reached_at, c.partner));
    let mut index = RankIndex::default();
    for c in &sorted {
        index.set(c.partner, c.total_minor, c.reached_at);
    }
    let mut current: std::collections::HashMap<PartnerId, (i64, i64)> = all
        .iter()
        .map(|c| (c.partner, (c.total_minor, c.reached_at)))
        .collect();
    group.sample_size(40);
    group.sampling_mode(SamplingMode::Auto);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(4));
    group.bench_function("index_set", |b| {
        b.iter_custom(|iters| {
            let order = cycle(iters);
            let start = Instant::now();
            for i in order {
                let partner = callers[i].partner;
                let (total, at) = current.entry(partner).or_insert((0, NOW_MS));
                *total += REPORT_MINOR;
                index.set(partner, *total, *at);
            }
            start.elapsed()
        });
    });
    group.finish();

    let reports = report_next.get();
    rt.block_on(async {
        // The writes went through the sync: the cache still agrees with SQL.
        check_against_sql(&app, &period, &callers).await;
        let stored: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sales WHERE idempotency_key LIKE 'console:bench:w%'",
        )
        .fetch_one(app.store.pool())
        .await
        .expect("count reports");
        assert_eq!(
            u64::try_from(stored).expect("count is non-negative"),
            reports,
            "one sale per /report"
        );
        app.store.close().await;
    });
    if reports > 0 {
        println!(
            "handle_rank_with_writes: {reports} /report at this scale took {:.1} µs on average \
             (not in the estimate)",
            report_time.get().as_secs_f64() * 1e6 / reports as f64
        );
    }
}

fn print_summary(since: SystemTime) {
    let all = [
        "handle_rank",
        "handle_help",
        "leaderboard",
        "totals_get",
        "handle_rank_with_writes",
        "first_load",
        "first_load_fetch",
        "first_load_index",
        "index_set",
    ];
    println!("\n/rank summary (this run):");
    for bench in all {
        if let Some((mean, median)) = estimates("rank", bench, since) {
            println!(
                "  rank/{bench:<23} mean {:>10.1} µs   median {:>10.1} µs",
                mean / 1e3,
                median / 1e3
            );
        }
    }
    let ratio = |a: &str, b: &str| {
        let (x, y) = (estimates("rank", a, since)?, estimates("rank", b, since)?);
        Some((x.0 / y.0, x.1 / y.1))
    };
    for (a, b) in [
        ("handle_rank", "handle_help"),
        ("leaderboard", "totals_get"),
        ("handle_rank_with_writes", "handle_rank"),
    ] {
        if let Some((mean, median)) = ratio(a, b) {
            println!("  {a} / {b}: mean {mean:.2}x, median {median:.2}x");
        }
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
    // No plots: Rally's charts build plotters with `ab_glyph` fonts, under which criterion's
    // plots find no font; the estimates (and the summary read from them) are unaffected.
    let mut c = Criterion::default().configure_from_args().without_plots();
    bench_rank(&mut c);
    c.final_summary();
    print_summary(started);
}
