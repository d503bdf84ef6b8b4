//! Batch imports (issue 14): `rally import partners`, and the sales import's batch path
//! (multi-row inserts, one totals upsert per partner and period) keeping what the one-by-one
//! ledger did — period totals, contest standings, corrections of locked periods — and locked
//! statements stored as facts reading back exactly as they were computed. On SQLite and, when
//! `RALLY_TEST_POSTGRES_URL` is set, PostgreSQL.

use rally::app::App;
use rally::engine::audit::AuditAction;
use rally::engine::ids::PartnerId;
use rally::engine::partner::PartnerKind;
use rally::engine::period::Period;
use rally::features::membership::import::import_partners;
use rally::features::sales::import::{ImportReport, import_sales};
use rally::features::statements::service as statements;
use rally::store::{Store, audit, partners, points, totals};
use rally_testkit::{TestClock, TestDb, app_with, on_both_backends};
use sqlx::Row;

on_both_backends!(
    partners_good_and_bad_rows_by_line,
    partners_reimport_changes_nothing,
    sales_batches_keep_totals_contests_and_corrections,
    locked_statements_read_back_as_computed,
    sales_batches_award_points_and_badges_as_reports_do,
    many_badges_from_one_batch_are_announced_as_one_summary,
    built_standings_and_an_earlier_sale_in_the_batch,
);

/// The demo program (CNY, monthly) with a sales-amount contest and a new-customers contest
/// running through November 2026; the clock is 2026-11-15.
fn app_on(db: &TestDb, clock: &TestClock) -> App {
    app_with(
        db,
        clock,
        r#"
[[contests]]
id = "cup"
name = "November Cup"
metric = "sales_amount"
start = "2026-11-01"
end = "2026-11-30"

[[contests]]
id = "fresh"
name = "New Faces"
metric = "new_customers"
start = "2026-11-01"
end = "2026-11-30"
"#,
    )
}

async fn import_p(app: &App, csv: &str) -> ImportReport {
    import_partners(app, csv.as_bytes(), None)
        .await
        .expect("import partners")
}

async fn import_s(app: &App, csv: &str, name: &str) -> ImportReport {
    import_sales(app, csv.as_bytes(), name, None)
        .await
        .expect("import sales")
}

async fn audit_count(store: &Store, action: AuditAction) -> usize {
    let mut conn = store.read().await.expect("conn");
    audit::recent(&mut conn, 10_000)
        .await
        .expect("audit")
        .into_iter()
        .filter(|e| e.action == action)
        .count()
}

async fn partner_id(store: &Store, name: &str) -> PartnerId {
    let mut conn = store.read().await.expect("conn");
    partners::find_by_name(&mut conn, name)
        .await
        .expect("find")
        .expect("partner exists")
        .id
}

const PARTNERS: &str = "\
Name,kind,region,tier,potential
ACME Trading,agent,East,gold,50万

,,,,
Globex,,West,,
Initech,shop,East,,
,dealer,East,,
Hooli,retailer,,,12x
Stark,retailer,,,100USD
acme   trading,dealer,,,
Umbrella,distributor,North,silver,
Wayne,dealer,East
";

async fn partners_good_and_bad_rows_by_line(db: &TestDb) {
    let clock = TestClock::new();
    let app = app_on(db, &clock);
    let report = import_p(&app, PARTNERS).await;
    let rejected: Vec<(u64, &str)> = report
        .rejected
        .iter()
        .map(|r| (r.line, r.reason.as_str()))
        .collect();
    assert_eq!(
        rejected,
        vec![
            (
                6,
                "unknown kind \"shop\": use one of dealer, agent, wholesaler, retailer, distributor"
            ),
            (7, "name is empty"),
            (8, "bad potential \"12x\": not an amount: \"12x\""),
            (
                9,
                "bad potential \"100USD\": give it in the program currency, CNY"
            ),
            (12, "the row has 3 fields, the header has 5"),
        ],
        "{:#?}",
        report.rejected
    );
    // ACME, Globex, Umbrella; "acme   trading" is ACME again (same name key).
    assert_eq!((report.imported, report.duplicates), (3, 1));
    let mut conn = app.store.read().await.expect("conn");
    let acme = partners::find_by_name(&mut conn, "ACME Trading")
        .await
        .expect("find")
        .expect("acme");
    assert_eq!(acme.kind, PartnerKind::Agent);
    assert_eq!(
        (acme.region.as_deref(), acme.tier.as_deref()),
        (Some("East"), Some("gold"))
    );
    assert_eq!(acme.potential_minor, Some(50_000_000));
    let globex = partners::find_by_name(&mut conn, "Globex")
        .await
        .expect("find")
        .expect("globex");
    assert_eq!(globex.kind, PartnerKind::Dealer);
    assert_eq!(globex.tier, None);
    drop(conn);
    assert_eq!(audit_count(&app.store, AuditAction::PartnerCreate).await, 3);
}

async fn partners_reimport_changes_nothing(db: &TestDb) {
    let clock = TestClock::new();
    let app = app_on(db, &clock);
    let mut csv = String::from("name,region\n");
    for n in 0..12_000 {
        csv.push_str(&format!("Partner {n:05},East\n"));
    }
    let first = import_p(&app, &csv).await;
    assert_eq!((first.imported, first.duplicates), (12_000, 0));
    assert!(first.rejected.is_empty());
    let again = import_p(&app, &csv).await;
    assert_eq!((again.imported, again.duplicates), (0, 12_000));
    let mut conn = app.store.read().await.expect("conn");
    assert_eq!(partners::list(&mut conn).await.expect("list").len(), 12_000);
    let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'partner.create'")
        .fetch_one(&mut *conn)
        .await
        .expect("count")
        .get("n");
    assert_eq!(n, 12_000);
}

async fn standing(store: &Store, contest: &str, partner: PartnerId) -> (i64, i64, i64) {
    let mut conn = store.read().await.expect("conn");
    sqlx::query(
        "SELECT amount_minor, sales_count, new_customers FROM contest_standings \
         WHERE contest_id = $1 AND partner_id = $2",
    )
    .bind(contest)
    .bind(partner.0)
    .fetch_optional(&mut *conn)
    .await
    .expect("standing")
    .map_or((0, 0, 0), |r| {
        (
            r.get("amount_minor"),
            r.get("sales_count"),
            r.get("new_customers"),
        )
    })
}

async fn sales_batches_keep_totals_contests_and_corrections(db: &TestDb) {
    let clock = TestClock::new();
    let app = app_on(db, &clock);
    import_p(&app, "name,region\nAlpha,East\nBeta,West\n").await;
    let (alpha, beta) = (
        partner_id(&app.store, "Alpha").await,
        partner_id(&app.store, "Beta").await,
    );

    // October: an open period before the contests: the bulk path.
    let october = "partner,amount,date,customer,external_id\n\
                   Alpha,1000,2026-10-03,Globex,O1\n\
                   Alpha,2000,2026-10-04,Initech,O2\n\
                   Beta,500,2026-10-05,Globex,O3\n";
    let report = import_s(&app, october, "oct.csv").await;
    assert_eq!((report.imported, report.duplicates), (3, 0));
    let t = totals::get(&mut app.store.read().await.expect("conn"), "2026-10", alpha)
        .await
        .expect("totals");
    assert_eq!((t.approved_minor, t.approved_count), (300_000, 2));
    let closed = statements::close_period(&app, Period::parse("2026-10").expect("period"), None)
        .await
        .expect("close");
    assert_eq!(closed.statements, 2);

    // A second file: October again (locked: a correction), November approved (the contests)
    // and pending (totals only), a key repeated in the file, one already stored.
    let mixed = "partner,amount,date,customer,external_id,verified\n\
                 Alpha,4000,2026-10-20,Hooli,O4,\n\
                 Alpha,300,2026-11-02,Globex,N1,\n\
                 Alpha,700,2026-11-03,Globex,N2,\n\
                 Alpha,900,2026-11-04,Wayne,N3,no\n\
                 Beta,100,2026-11-05,Stark,N4,\n\
                 Beta,100,2026-11-05,Stark,N4,\n\
                 Alpha,1000,2026-10-03,Globex,O1,\n";
    let report = import_s(&app, mixed, "mixed.csv").await;
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    assert_eq!((report.imported, report.duplicates), (5, 2));

    let mut conn = app.store.read().await.expect("conn");
    let nov_alpha = totals::get(&mut conn, "2026-11", alpha).await.expect("t");
    assert_eq!(
        (
            nov_alpha.approved_minor,
            nov_alpha.approved_count,
            nov_alpha.provisional_minor,
            nov_alpha.pending_count
        ),
        (100_000, 2, 190_000, 1)
    );
    let nov_beta = totals::get(&mut conn, "2026-11", beta).await.expect("t");
    assert_eq!(
        (nov_beta.approved_minor, nov_beta.approved_count),
        (10_000, 1)
    );
    let oct_alpha = totals::get(&mut conn, "2026-10", alpha).await.expect("t");
    assert_eq!(
        (oct_alpha.approved_minor, oct_alpha.approved_count),
        (700_000, 3)
    );
    drop(conn);

    // Contests: approved November sales only.
    assert_eq!(standing(&app.store, "cup", alpha).await, (100_000, 2, 0));
    assert_eq!(standing(&app.store, "cup", beta).await, (10_000, 1, 0));
    // New customers: Alpha sold to Globex in October already (Wayne is pending); Stark is new
    // to Beta.
    assert_eq!(standing(&app.store, "fresh", alpha).await.2, 0);
    assert_eq!(standing(&app.store, "fresh", beta).await.2, 1);

    // The locked October statement did not move; the difference the late sale makes is an
    // adjustment in November, exactly the draft's total now minus the locked total.
    let oct = Period::parse("2026-10").expect("period");
    let mut conn = app.store.read().await.expect("conn");
    let partner = partners::get(&mut conn, alpha)
        .await
        .expect("get")
        .expect("alpha");
    let locked = statements::statement(&app, &mut conn, &partner, oct)
        .await
        .expect("locked");
    assert!(locked.locked);
    assert_eq!(locked.sales, "3000.00");
    let facts = statements::statement_facts(&mut conn, alpha, oct)
        .await
        .expect("facts");
    let now = statements::compute_statement(&app, &partner, oct, &facts);
    let corrections: i64 = sqlx::query(
        "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) AS s FROM adjustments \
         WHERE partner_id = $1 AND source_period = '2026-10' AND period = '2026-11'",
    )
    .bind(alpha.0)
    .fetch_one(&mut *conn)
    .await
    .expect("corrections")
    .get("s");
    assert_ne!(corrections, 0);
    assert_eq!(corrections, now.total_minor - locked.total_minor);
}

async fn locked_statements_read_back_as_computed(db: &TestDb) {
    let clock = TestClock::new();
    let app = app_on(db, &clock);
    let mut csv = String::from("name,kind,region\n");
    for n in 0..40 {
        let kind = if n % 5 == 4 { "distributor" } else { "dealer" };
        csv.push_str(&format!("P{n:02},{kind},East\n"));
    }
    import_p(&app, &csv).await;
    let mut sales = String::from("partner,amount,date,customer,category\n");
    for n in 0..400_u32 {
        let category = ["", "software", "hardware"][(n % 3) as usize];
        sales.push_str(&format!(
            "P{:02},{},2026-10-{:02},Customer {},{category}\n",
            n % 37,
            1_000 + n * 997 % 90_000,
            1 + n % 28,
            n % 11
        ));
    }
    let report = import_s(&app, &sales, "oct.csv").await;
    assert_eq!(report.imported, 400);
    let oct = Period::parse("2026-10").expect("period");
    let drafts: Vec<_> = statements::statements_of_period(&app, oct)
        .await
        .expect("drafts");
    assert_eq!(drafts.len(), 37);
    let closed = statements::close_period(&app, oct, None)
        .await
        .expect("close");
    assert_eq!(closed.statements, 37);
    assert_eq!(
        closed.total_minor,
        drafts.iter().map(|d| d.total_minor).sum::<i64>()
    );
    let locked = statements::statements_of_period(&app, oct)
        .await
        .expect("locked");
    let expected: Vec<_> = drafts
        .into_iter()
        .map(|d| statements::StatementDoc { locked: true, ..d })
        .collect();
    assert_eq!(locked, expected);

    // The streamed exports write what the in-memory ones do.
    let mut csv_out = Vec::new();
    statements::write_csv(&app, oct, &mut csv_out)
        .await
        .expect("csv");
    assert_eq!(
        String::from_utf8(csv_out).expect("utf8"),
        statements::export_csv(&locked).expect("csv")
    );
    let mut json_out = Vec::new();
    statements::write_json(&app, oct, &mut json_out)
        .await
        .expect("json");
    assert_eq!(
        String::from_utf8(json_out).expect("utf8"),
        serde_json::to_string_pretty(&statements::export_json(&locked)).expect("json")
    );
}

/// The bulk path books what the one-by-one ledger books for an approved sale: one points row
/// per sale (one point per ¥1,000), the partner's point total, and the sales badges (first
/// sale, 10 deals, a ¥100k month) — once, also when the file is imported again.
async fn sales_batches_award_points_and_badges_as_reports_do(db: &TestDb) {
    let clock = TestClock::new();
    let app = app_on(db, &clock);
    import_p(&app, "name,region\nAlpha,East\nBeta,West\n").await;
    let (alpha, beta) = (
        partner_id(&app.store, "Alpha").await,
        partner_id(&app.store, "Beta").await,
    );
    // October (no contest counts it): Alpha 10 sales, 12,500 each (12 points each, ¥125,000 in
    // the month); Beta one sale of 900 (no points: under ¥1,000).
    let mut file = String::from("partner,amount,date,customer\n");
    for day in 1..=10 {
        file.push_str(&format!("Alpha,12500,2026-10-{day:02},Customer {day}\n"));
    }
    file.push_str("Beta,900,2026-10-11,Globex\n");
    let report = import_s(&app, &file, "october.csv").await;
    assert_eq!((report.imported, report.duplicates), (11, 0));

    let (alpha_points, beta_points, rows, mut alpha_badges, beta_badges) =
        points_and_badges(&app, alpha, beta).await;
    assert_eq!((alpha_points, beta_points, rows), (120, 0, 10));
    alpha_badges.sort();
    assert_eq!(alpha_badges, ["100k-month", "first-sale", "ten-deals"]);
    assert_eq!(beta_badges, ["first-sale"]);

    // The same file again: nothing new, no points twice.
    let again = import_s(&app, &file, "october.csv").await;
    assert_eq!((again.imported, again.duplicates), (0, 11));
    let (alpha_points, beta_points, rows, _, _) = points_and_badges(&app, alpha, beta).await;
    assert_eq!((alpha_points, beta_points, rows), (120, 0, 10));

    // Badges are checked once, after the last batch: an import that stopped after its sales
    // committed but before that check (as a crash would leave it; here the badges are taken
    // away) gets them when the file is imported again, although every row is present.
    let mut conn = app.store.read().await.expect("conn");
    sqlx::query("DELETE FROM badges")
        .execute(&mut *conn)
        .await
        .expect("delete badges");
    drop(conn);
    let again = import_s(&app, &file, "october.csv").await;
    assert_eq!((again.imported, again.duplicates), (0, 11));
    let (_, _, _, mut alpha_badges, beta_badges) = points_and_badges(&app, alpha, beta).await;
    alpha_badges.sort();
    assert_eq!(alpha_badges, ["100k-month", "first-sale", "ten-deals"]);
    assert_eq!(beta_badges, ["first-sale"]);
}

/// Alpha's and Beta's points, the number of sale points rows, Alpha's and Beta's badges.
async fn points_and_badges(
    app: &App,
    alpha: PartnerId,
    beta: PartnerId,
) -> (i64, i64, i64, Vec<String>, Vec<String>) {
    let mut conn = app.store.read().await.expect("conn");
    let alpha_points = points::total(&mut conn, alpha).await.expect("total");
    let beta_points = points::total(&mut conn, beta).await.expect("total");
    let rows: i64 =
        sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM points WHERE source_kind = 'sale'")
            .fetch_one(&mut *conn)
            .await
            .expect("rows")
            .get("n");
    let alpha_badges = points::badges(&mut conn, alpha).await.expect("badges");
    let beta_badges = points::badges(&mut conn, beta).await.expect("badges");
    (alpha_points, beta_points, rows, alpha_badges, beta_badges)
}

/// An import that earns more than 20 badges posts one summary per program chat, not one post
/// per badge; a small one announces each badge as a report would.
async fn many_badges_from_one_batch_are_announced_as_one_summary(db: &TestDb) {
    use rally::store::jobs::{ProgramChat, bind_chat};
    let clock = TestClock::new();
    let app = app_on(db, &clock);
    let mut tx = app.store.begin().await.expect("tx");
    bind_chat(
        &mut tx,
        &ProgramChat {
            platform: "telegram".into(),
            chat_id: "-100".into(),
            region: None,
        },
        None,
        app.now(),
    )
    .await
    .expect("bind");
    tx.commit().await.expect("commit");
    let mut partners_csv = String::from("name\n");
    let mut sales_csv = String::from("partner,amount,date,customer\n");
    for n in 0..25 {
        partners_csv.push_str(&format!("P{n:02}\n"));
        sales_csv.push_str(&format!("P{n:02},1500,2026-10-05,Customer {n}\n"));
    }
    import_p(&app, &partners_csv).await;
    let report = import_s(&app, &sales_csv, "many.csv").await;
    assert_eq!(report.imported, 25);
    let outbox = |app: &App| {
        let store = app.store.clone();
        async move {
            let mut conn = store.read().await.expect("conn");
            let rows = sqlx::query("SELECT dedupe_key, reply FROM outbox ORDER BY id")
                .fetch_all(&mut *conn)
                .await
                .expect("outbox");
            rows.iter()
                .map(|r| {
                    (
                        r.get::<String, _>("dedupe_key"),
                        r.get::<String, _>("reply"),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    let rows = outbox(&app).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(rows[0].0.starts_with("badges:import:many.csv:"), "{rows:?}");
    assert!(
        rows[0].1.contains("badges-earned-many") && rows[0].1.contains("25"),
        "{rows:?}"
    );

    // Two more partners' first sales: announced one by one.
    import_p(&app, "name\nQ1\nQ2\n").await;
    import_s(
        &app,
        "partner,amount,date,customer\nQ1,1500,2026-10-06,X\nQ2,1500,2026-10-06,Y\n",
        "few.csv",
    )
    .await;
    let rows = outbox(&app).await;
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(
        rows[1..]
            .iter()
            .all(|(key, reply)| key.starts_with("badge:") && reply.contains("badge-earned"))
    );
}

/// With the contests' standings built in this process (as a server has them), a batch that
/// holds a sale of a growth contest's base span (before its start) as well as a counted sale
/// counts the base once: Gamma's first standing is made by the November sale and must not
/// read the October sale that the batch then adds to the base. (Inserting the whole batch
/// before moving the standings would count it twice.)
async fn built_standings_and_an_earlier_sale_in_the_batch(db: &TestDb) {
    let clock = TestClock::new();
    let app = app_with(
        db,
        &clock,
        r#"
[[contests]]
id = "grow"
name = "November Growth"
metric = "growth_rate"
growth_base = "previous"
start = "2026-11-01"
end = "2026-11-30"
"#,
    );
    import_p(&app, "name,region\nGamma,East\n").await;
    rally::features::contests::service::prepare(&app)
        .await
        .expect("standings built");
    let gamma = partner_id(&app.store, "Gamma").await;
    let file = "partner,amount,date,customer,external_id\n\
                Gamma,500,2026-11-02,Acme,G1\n\
                Gamma,300,2026-10-10,Acme,G2\n";
    let report = import_s(&app, file, "gamma.csv").await;
    assert_eq!((report.imported, report.duplicates), (2, 0));
    let mut conn = app.store.read().await.expect("conn");
    let (amount, base): (i64, i64) = sqlx::query_as(
        "SELECT amount_minor, base_minor FROM contest_standings \
         WHERE contest_id = 'grow' AND partner_id = $1",
    )
    .bind(gamma.0)
    .fetch_one(&mut *conn)
    .await
    .expect("standing");
    assert_eq!(amount, 50_000, "the November sale counts");
    assert_eq!(base, 30_000, "the October sale is the base, once");
}
