//! Contests at scale, against the baselines issue 10 names, measured in the same run:
//!
//! - `contest/rank_handle`: `/rank march` through `App::handle` (private chat, so no chart),
//!   100,000 partners with 1,000,000 sales in a running `sales_amount` contest, ~200 callers at
//!   random places, board warm. Baseline `contest/redis_pipeline`: the same question asked of
//!   Redis (127.0.0.1:6379) holding the same scores in a sorted set — `ZREVRANGE 0 9 WITHSCORES`,
//!   `ZREVRANK`, `ZSCORE` pipelined in one round trip on a multiplexed async connection. Goal:
//!   rank_handle / redis ≤ 1.0. `contest/board` is the board alone (sync + the names of the ten
//!   shown), without the member lookup and the scope check of the handler.
//! - `report/no_contests` and `report/three_contests`: `/report 1200 ACME` through
//!   `App::handle` on the demo program without contests and with three running ones
//!   (`sales_amount`, `growth_rate`, `sales_count`), each on its own SQLite file (WAL,
//!   `synchronous = FULL`). Goal: three / none ≤ 1.2. Also measured interleaved (rounds of 10
//!   of each, alternating), which sees the same load on both sides.
//!
//! Run: `cargo bench --bench contest` (the first run seeds `target/bench-data/contest-100k.db`,
//! ~30 s). Under `cargo test --benches` a small database in a temporary directory is used, and
//! the Redis side is skipped when no Redis answers.

use std::collections::BTreeSet;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use chrono::TimeZone;
use criterion::Criterion;
use rally::app::{App, FixedClock, SystemClock};
use rally::chat::handler::Incoming;
use rally::engine::ids::PartnerId;
use rally::engine::partner::Platform;
use rally::features::contests::service;
use rally::store::Store;
use rally_testkit::bench::{
    copy_db, estimates, quartiles, remove_db, sqlite_url, target_dir, test_mode,
};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use tokio::runtime::Runtime;

/// Bump when the seeded data changes shape.
const SEED_VERSION: i64 = 1;
/// 2026-03-18 12:00 in Asia/Shanghai.
const NOW_MS: i64 = 1_773_806_400_000;
const SALES_CHUNK: usize = 1_000;
const REDIS_URL: &str = "redis://127.0.0.1:6379/";
const REDIS_KEY: &str = "rally-bench:contest:march";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Scale {
    partners: i64,
    sales: i64,
    members: usize,
    callers: usize,
}

const FULL: Scale = Scale {
    partners: 100_000,
    sales: 1_000_000,
    members: 1_000,
    callers: 200,
};

const SMALL: Scale = Scale {
    partners: 1_000,
    sales: 10_000,
    members: 100,
    callers: 20,
};

const MARCH: &str = r#"
[[contests]]
id = "march"
name = "March Madness"
metric = "sales_amount"
start = "2026-03-01"
end = "2026-03-31"
"#;

fn config_with(url: &str, contests: &str) -> rally::config::Config {
    let text = format!("{}{contests}", rally::demo::DEMO_CONFIG);
    let mut config = rally::config::from_toml_str(&text, "bench", &|_| None).expect("config");
    config.database.url = url.to_string();
    config
}

async fn rank_app(path: &Path) -> App {
    let url = sqlite_url(path);
    let store = Store::connect(&url).await.expect("connect");
    store.migrate().await.expect("migrate");
    App::new(
        store,
        Arc::new(config_with(&url, MARCH)),
        Box::new(FixedClock(NOW_MS)),
    )
    .expect("app")
}

/// Seeds partners, March sales (all approved), members `p<id>`, then builds the contest's
/// standings from the sales the way `rally run` does at start-up.
async fn seed(path: &Path, scale: Scale) {
    let started = Instant::now();
    remove_db(path);
    let app = rank_app(path).await;
    let tz = app.config.program.timezone;
    let start_ms = tz
        .with_ymd_and_hms(2026, 3, 1, 0, 0, 0)
        .earliest()
        .expect("March begins")
        .timestamp_millis();
    let dates: Vec<(i64, String)> = (0..20)
        .map(|d| {
            let at = start_ms + d * 86_400_000 + 43_200_000;
            (at, app.local_date(at).to_string())
        })
        .filter(|(at, _)| *at < NOW_MS)
        .collect();
    app.store.close().await;
    let options = SqliteConnectOptions::new()
        .filename(path)
        .journal_mode(SqliteJournalMode::Off)
        .synchronous(SqliteSynchronous::Off)
        .foreign_keys(false)
        .pragma("cache_size", "-262144");
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .expect("seeding connection");
    let mut tx = pool.begin().await.expect("begin");
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) \
         INSERT INTO partners (id, name, name_key, kind, region, tier, status, joined_at) \
         SELECT i, printf('Partner %06d', i), printf('partner %06d', i), 'dealer', NULL, NULL, \
           'active', $2 FROM n",
    )
    .bind(scale.partners)
    .bind(NOW_MS - 90 * 86_400_000)
    .execute(&mut *tx)
    .await
    .expect("partners");
    let mut rng = StdRng::seed_from_u64(2026);
    let head = "INSERT INTO sales (id, partner_id, amount_minor, currency, program_minor, customer, \
         customer_key, sale_date, period, source, idempotency_key, status, reported_at) \
         SELECT column1, column2, column3, 'CNY', column3, 'Customer ' || (column1 % 997), \
           'customer ' || (column1 % 997), column5, '2026-03', 'import', \
           printf('bench:%08d', column1), 'approved', column4 FROM (VALUES ";
    let mut id = 1_i64;
    while id <= scale.sales {
        let rows = usize::try_from((scale.sales - id + 1).min(SALES_CHUNK as i64)).expect("rows");
        let mut text = head.to_string();
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
            let (at, date) = dates.choose(&mut rng).expect("a date").clone();
            query = query
                .bind(id)
                .bind(rng.random_range(1..=scale.partners))
                .bind(rng.random_range(100..=50_000_i64) * 100)
                .bind(at + rng.random_range(0..3_600_000))
                .bind(date);
            id += 1;
        }
        query.execute(&mut *tx).await.expect("sales");
    }
    sqlx::query(
        "INSERT INTO period_totals (period, partner_id, approved_minor, approved_count, \
         approved_at, provisional_minor, provisional_at, pending_count) \
         SELECT period, partner_id, SUM(program_minor), COUNT(*), MAX(reported_at), \
           SUM(program_minor), MAX(reported_at), 0 FROM sales GROUP BY period, partner_id",
    )
    .execute(&mut *tx)
    .await
    .expect("totals");
    let mut linked = BTreeSet::new();
    while linked.len() < scale.members {
        linked.insert(rng.random_range(1..=scale.partners));
    }
    for partner in linked {
        sqlx::query(
            "INSERT INTO members (platform, platform_user_id, display_name, partner_id, role, \
             created_at) VALUES ('console', $1, $1, $2, 'partner', $3)",
        )
        .bind(format!("p{partner}"))
        .bind(partner)
        .bind(NOW_MS)
        .execute(&mut *tx)
        .await
        .expect("members");
    }
    sqlx::query("CREATE TABLE bench_meta (version INTEGER, partners INTEGER, sales INTEGER)")
        .execute(&mut *tx)
        .await
        .expect("meta");
    sqlx::query("INSERT INTO bench_meta VALUES ($1, $2, $3)")
        .bind(SEED_VERSION)
        .bind(scale.partners)
        .bind(scale.sales)
        .execute(&mut *tx)
        .await
        .expect("meta row");
    tx.commit().await.expect("commit");
    pool.close().await;
    let seeded = started.elapsed();
    let app = rank_app(path).await;
    let build = Instant::now();
    service::prepare(&app).await.expect("build standings");
    eprintln!(
        "seeded {} partners and {} sales in {:.1} s; contest standings built from the sales in {:.1} s",
        scale.partners,
        scale.sales,
        seeded.as_secs_f64(),
        build.elapsed().as_secs_f64()
    );
    app.store.close().await;
}

async fn cached(path: &Path, scale: Scale) -> bool {
    if !path.exists() {
        return false;
    }
    let Ok(pool) = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(SqliteConnectOptions::new().filename(path))
        .await
    else {
        return false;
    };
    let row: Option<(i64, i64, i64)> =
        sqlx::query_as("SELECT version, partners, sales FROM bench_meta")
            .fetch_optional(&pool)
            .await
            .ok()
            .flatten();
    pool.close().await;
    row == Some((SEED_VERSION, scale.partners, scale.sales))
}

async fn database(scale: Scale, temp: &Path) -> PathBuf {
    if scale != FULL {
        let path = temp.join("contest-small.db");
        seed(&path, scale).await;
        return path;
    }
    let dir = target_dir().join("bench-data");
    std::fs::create_dir_all(&dir).expect("bench-data");
    let path = dir.join("contest-100k.db");
    if !cached(&path, scale).await {
        let building = dir.join("contest-100k.db.building");
        seed(&building, scale).await;
        remove_db(&path);
        std::fs::rename(&building, &path).expect("move into place");
    } else {
        eprintln!("using cached {}", path.display());
    }
    let copy = temp.join("contest.db");
    copy_db(&path, &copy);
    copy
}

fn message(user: &str, id: u64, text: &str) -> Incoming {
    Incoming {
        platform: Platform::Console,
        chat_id: "bench".into(),
        private_chat: true,
        sender_id: user.into(),
        sender_name: user.into(),
        message_id: id.to_string(),
        text: text.into(),
        locale: None,
        attachments: Vec::new(),
        username: None,
        reply_to: None,
        pressed_message: None,
    }
}

/// The Redis side: the same scores in a sorted set; `None` when no Redis answers.
async fn redis_side(app: &App) -> Option<redis::aio::MultiplexedConnection> {
    let client = redis::Client::open(REDIS_URL).ok()?;
    let mut con = tokio::time::timeout(
        Duration::from_secs(2),
        client.get_multiplexed_async_connection(),
    )
    .await
    .ok()?
    .ok()?;
    let contest = service::find(app, "march").expect("contest");
    let mut conn = app.store.read().await.expect("conn");
    let all = app
        .contests
        .boards
        .all(&mut conn, &contest.id, service::rule(app, contest))
        .await
        .expect("board");
    let _: () = redis::cmd("DEL")
        .arg(REDIS_KEY)
        .query_async(&mut con)
        .await
        .ok()?;
    for chunk in all.chunks(10_000) {
        let mut cmd = redis::cmd("ZADD");
        cmd.arg(REDIS_KEY);
        for (_, partner, facts) in chunk {
            cmd.arg(facts.amount_minor).arg(partner.0);
        }
        let _: i64 = cmd.query_async(&mut con).await.ok()?;
    }
    Some(con)
}

type RedisAnswer = (Vec<(String, f64)>, Option<i64>, Option<f64>);

async fn redis_rank(
    con: &mut redis::aio::MultiplexedConnection,
    partner: PartnerId,
) -> RedisAnswer {
    redis::pipe()
        .cmd("ZREVRANGE")
        .arg(REDIS_KEY)
        .arg(0)
        .arg(9)
        .arg("WITHSCORES")
        .cmd("ZREVRANK")
        .arg(REDIS_KEY)
        .arg(partner.0)
        .cmd("ZSCORE")
        .arg(REDIS_KEY)
        .arg(partner.0)
        .query_async(con)
        .await
        .expect("redis pipeline")
}

/// The demo program on a fresh file, with `contests` (TOML) in its configuration.
async fn report_app(path: &Path, contests: &str) -> App {
    let url = sqlite_url(path);
    let store = Store::connect(&url).await.expect("connect");
    store.migrate().await.expect("migrate");
    let app = App::new(
        store,
        Arc::new(config_with(&url, contests)),
        Box::new(SystemClock),
    )
    .expect("app");
    rally::demo::seed(&app).await.expect("seed");
    service::prepare(&app).await.expect("build");
    app
}

/// Three contests running today: amount, growth (a year earlier), number of sales.
fn three_contests() -> String {
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();
    let day = |d: i64| (today + chrono::Duration::days(d)).to_string();
    let (start, end) = (day(-30), day(30));
    format!(
        r#"
[[contests]]
id = "amount"
name = "Amount"
metric = "sales_amount"
start = "{start}"
end = "{end}"

[[contests]]
id = "growth"
name = "Growth"
metric = "growth_rate"
start = "{start}"
end = "{end}"

[[contests]]
id = "deals"
name = "Deals"
metric = "sales_count"
start = "{start}"
end = "{end}"
"#
    )
}

fn report_message(n: u64) -> Incoming {
    Incoming {
        private_chat: true,
        ..message("wang", 1_000_000 + n, "/report 1200 ACME")
    }
}

async fn report_once(app: &App, n: u64) {
    let outcome = app.handle(&report_message(n)).await;
    assert_eq!(
        outcome
            .replies
            .first()
            .and_then(|r| r.lines.first())
            .map(|m| m.key.as_str()),
        Some("report-approved")
    );
}

fn main() {
    let since = SystemTime::now();
    let rt = Runtime::new().expect("runtime");
    let temp = tempfile::tempdir().expect("temp dir");
    let scale = if test_mode() { SMALL } else { FULL };
    // No plots: the `ab_glyph` font backend Rally's charts need leaves criterion's plots
    // without a font; the estimates are unaffected.
    let mut c = Criterion::default()
        .configure_from_args()
        .without_plots()
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(10));

    // --- /rank <contest> vs Redis -------------------------------------------------------------
    let path = rt.block_on(database(scale, temp.path()));
    let app = rt.block_on(rank_app(&path));
    let mut rng = StdRng::seed_from_u64(7);
    let members: Vec<(String, PartnerId)> = rt.block_on(async {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT platform_user_id, partner_id FROM members WHERE role = 'partner'",
        )
        .fetch_all(app.store.pool())
        .await
        .expect("members");
        rows.into_iter().map(|(u, p)| (u, PartnerId(p))).collect()
    });
    let callers: Vec<(String, PartnerId)> = (0..scale.callers)
        .map(|_| members.choose(&mut rng).expect("a member").clone())
        .collect();
    let contest = service::find(&app, "march").expect("contest").clone();
    // Warm the board and check it against Redis.
    let first = rt.block_on(async {
        let mut conn = app.store.read().await.expect("conn");
        service::board(&app, &mut conn, &contest, Some(callers[0].1))
            .await
            .expect("board")
    });
    eprintln!(
        "board: {} qualified, leader {:?}",
        first.participants,
        first.top.first().map(|t| &t.2)
    );
    let mut redis = rt.block_on(redis_side(&app));
    if let Some(con) = redis.as_mut() {
        let (top, rank, score) = rt.block_on(redis_rank(con, callers[0].1));
        assert_eq!(
            top.first().map(|(p, _)| p.clone()),
            first.top.first().map(|t| t.1.0.to_string())
        );
        assert_eq!(
            rank.map(|r| r as u64 + 1),
            first.place,
            "same place as Redis"
        );
        assert_eq!(score.map(|s| s as i64), first.mine.map(|m| m.amount_minor));
    } else {
        eprintln!("no Redis at {REDIS_URL}: the Redis baseline is skipped");
    }

    let mut group = c.benchmark_group("contest");
    let mut n = 0_u64;
    group.bench_function("rank_handle", |b| {
        b.to_async(&rt).iter(|| {
            n += 1;
            let (user, _) = &callers[n as usize % callers.len()];
            let msg = message(user, n, "/rank march");
            let app = &app;
            async move {
                let outcome = app.handle(&msg).await;
                black_box(outcome);
            }
        })
    });
    let mut n = 0_usize;
    group.bench_function("board", |b| {
        b.to_async(&rt).iter(|| {
            n += 1;
            let partner = callers[n % callers.len()].1;
            let (app, contest) = (&app, &contest);
            async move {
                let mut conn = app.store.read().await.expect("conn");
                black_box(
                    service::board(app, &mut conn, contest, Some(partner))
                        .await
                        .expect("board"),
                );
            }
        })
    });
    if let Some(con) = redis.clone() {
        let mut n = 0_usize;
        group.bench_function("redis_pipeline", |b| {
            b.to_async(&rt).iter(|| {
                n += 1;
                let partner = callers[n % callers.len()].1;
                let mut con = con.clone();
                async move {
                    black_box(redis_rank(&mut con, partner).await);
                }
            })
        });
    }
    group.finish();
    // Drawing the chart a group's `/rank <contest>` gets (diagnostic).
    let chart_ms = {
        let started = Instant::now();
        let png = rally::features::contests::chart::render(
            &app,
            &contest,
            &first,
            app.local_date(NOW_MS),
        )
        .expect("chart");
        black_box(png);
        started.elapsed().as_secs_f64() * 1e3
    };
    rt.block_on(app.store.close());

    // --- /report with and without contests ---------------------------------------------------
    let none = rt.block_on(report_app(&temp.path().join("none.db"), ""));
    let three = rt.block_on(report_app(&temp.path().join("three.db"), &three_contests()));
    let mut group = c.benchmark_group("report");
    let mut n = 0_u64;
    group.bench_function("no_contests", |b| {
        b.to_async(&rt).iter(|| {
            n += 1;
            report_once(&none, n)
        })
    });
    let mut n = 0_u64;
    group.bench_function("three_contests", |b| {
        b.to_async(&rt).iter(|| {
            n += 1;
            report_once(&three, n)
        })
    });
    group.finish();
    let rounds = if test_mode() { 5 } else { 200 };
    let mut per_round = Vec::new();
    let mut next = 10_000_000_u64;
    rt.block_on(async {
        for round in 0..rounds {
            let mut times = [0.0_f64; 2];
            let order: [usize; 2] = if round % 2 == 0 { [0, 1] } else { [1, 0] };
            for side in order {
                let app = if side == 0 { &none } else { &three };
                let started = Instant::now();
                for _ in 0..10 {
                    next += 1;
                    report_once(app, next).await;
                }
                times[side] = started.elapsed().as_secs_f64() / 10.0;
            }
            per_round.push(times);
        }
    });
    let ratios: Vec<f64> = per_round.iter().map(|t| t[1] / t[0]).collect();
    let (median, q1, q3) = quartiles(&ratios);
    let med = |side: usize| quartiles(&per_round.iter().map(|t| t[side]).collect::<Vec<_>>()).0;
    // Every report landed in the contests of the second app.
    rt.block_on(async {
        let contest = service::find(&three, "deals").expect("deals").clone();
        let mut conn = three.store.read().await.expect("conn");
        let board = service::board(&three, &mut conn, &contest, None)
            .await
            .expect("board");
        assert!(board.participants > 0);
    });
    c.final_summary();

    let est = |g: &str, b: &str| estimates(g, b, since);
    println!("\n== contest benchmark summary (medians; ratios in this run) ==");
    let show = |name: &str, e: Option<(f64, f64)>| match e {
        Some((mean, median)) => println!(
            "{name}: median {:.1} µs (mean {:.1} µs)",
            median / 1e3,
            mean / 1e3
        ),
        None => println!("{name}: no estimate"),
    };
    show("contest/rank_handle", est("contest", "rank_handle"));
    show("contest/board", est("contest", "board"));
    show("contest/redis_pipeline", est("contest", "redis_pipeline"));
    if let (Some(h), Some(b), Some(r)) = (
        est("contest", "rank_handle"),
        est("contest", "board"),
        est("contest", "redis_pipeline"),
    ) {
        println!(
            "rank_handle / redis = {:.2} (goal ≤ 1.0: {}); board / redis = {:.2}",
            h.1 / r.1,
            if h.1 / r.1 <= 1.0 { "met" } else { "not met" },
            b.1 / r.1
        );
    }
    println!("chart drawing (one group /rank or update post): {chart_ms:.1} ms");
    show("report/no_contests", est("report", "no_contests"));
    show("report/three_contests", est("report", "three_contests"));
    if let (Some(a), Some(b)) = (
        est("report", "no_contests"),
        est("report", "three_contests"),
    ) {
        println!("criterion: three / none = {:.3}", b.1 / a.1);
    }
    println!(
        "interleaved ({rounds} rounds of 10 each): none {:.1} µs, three {:.1} µs; three / none = {median:.3} \
         (quartiles {q1:.3} – {q3:.3}); goal ≤ 1.2: {}",
        med(0) * 1e6,
        med(1) * 1e6,
        if median <= 1.2 { "met" } else { "not met" }
    );
}
