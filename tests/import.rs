//! `rally import sales`, `rally partners add --potential` and `rally targets set`: the import
//! service on SQLite and PostgreSQL (when `RALLY_TEST_POSTGRES_URL` is set), and the binary.

use std::process::Command;

use rally::app::App;
use rally::engine::audit::AuditAction;
use rally::engine::ids::PartnerId;
use rally::engine::money::{Currency, Money};
use rally::engine::partner::PartnerKind;
use rally::engine::sale::{Sale, SaleStatus};
use rally::features::sales::import::{ImportError, ImportReport, RowError, import_sales};
use rally::store::partners::NewPartner;
use rally::store::{Store, audit, partners, sales, targets, totals};
use rally_testkit::{TestClock, TestDb};

/// Generates `<name>::sqlite` and `<name>::postgres` tests from one async body `fn(&TestDb)`.
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    let db = super::TestDb::sqlite().await;
                    super::$name(&db).await;
                }

                #[tokio::test]
                async fn postgres() {
                    let Some(db) = super::TestDb::postgres(stringify!($name)).await else {
                        return;
                    };
                    super::$name(&db).await;
                }
            }
        )*
    };
}

both_backends!(
    good_and_bad_rows_mixed,
    reimport_is_idempotent_with_external_id,
    reimport_is_idempotent_without_external_id,
    missing_column_stores_nothing,
    large_files_commit_in_batches,
);

/// An app on `db` at 2026-11-15 (demo config: CNY, USD at 7.1, monthly periods) with two
/// partners, "ACME Trading" and "华东贸易".
async fn setup(db: &TestDb) -> (App, PartnerId, PartnerId) {
    let app = rally_testkit::app(db, &TestClock::new());
    let mut tx = app.store.begin().await.expect("begin");
    let mut add = async |name: &str| {
        let new = NewPartner {
            name: name.into(),
            kind: PartnerKind::Dealer,
            region: Some("East".into()),
            tier: None,
            potential_minor: None,
        };
        partners::insert(&mut tx, &new, 0)
            .await
            .expect("insert")
            .expect("new partner")
            .id
    };
    let acme = add("ACME Trading").await;
    let east = add("华东贸易").await;
    tx.commit().await.expect("commit");
    (app, acme, east)
}

async fn import(app: &App, csv: &str, name: &str) -> ImportReport {
    import_sales(app, csv.as_bytes(), name, None)
        .await
        .expect("import")
}

async fn sales_of(store: &Store, partner: PartnerId) -> Vec<Sale> {
    let mut conn = store.read().await.expect("conn");
    let mut list = sales::recent_for_partner(&mut conn, partner, 1000, Currency::CNY)
        .await
        .expect("sales");
    list.reverse();
    list
}

async fn count_sales(store: &Store) -> i64 {
    let mut conn = store.read().await.expect("conn");
    let row = sqlx::query("SELECT COUNT(*) AS n FROM sales")
        .fetch_one(&mut *conn)
        .await
        .expect("count");
    sqlx::Row::get(&row, "n")
}

async fn totals_of(store: &Store, period: &str, partner: PartnerId) -> totals::PeriodTotals {
    let mut conn = store.read().await.expect("conn");
    totals::get(&mut conn, period, partner)
        .await
        .expect("totals")
}

fn yuan(minor: i64) -> Money {
    Money::from_minor(minor, Currency::CNY)
}

const MIXED: &str = "\
partner,amount,date,customer,currency,verified,quantity,category
ACME Trading,\"12,500\",2026-11-03,Globex,,,3,software
Nobody,100,2026-11-03,Globex,,,,
2,1.2万,2026-11-04,Initech,,no,,
ACME Trading,12x,2026-11-05,Hooli,,,,

ACME Trading,100,2026-13-01,Hooli,,,,
ACME Trading,100,2026-11-05,Hooli,,maybe,,
ACME Trading,33.33,2026-11-05,Hooli,USD,yes,,
ACME Trading,100,2026-11-05,Hooli,GBP,,,
ACME Trading,50,2026-10-31,\"Stark
Industries\",,1,,
ACME Trading,10,2026-11-06,Umbrella,,,0,
ACME Trading,10,2026-12-01,Umbrella,,,,
ACME Trading,10,2026-11-06,Umbrella,,,
 华东贸易 ,0,11/06/2026,,,,-1,
";

async fn good_and_bad_rows_mixed(db: &TestDb) {
    let (app, acme, east) = setup(db).await;
    let report = import(&app, MIXED, "mixed.csv").await;
    let rejected: Vec<(u64, &str)> = report
        .rejected
        .iter()
        .map(|e| (e.line, e.reason.as_str()))
        .collect();
    assert_eq!(
        rejected,
        vec![
            (
                3,
                "unknown partner \"Nobody\": no partner has this name or id"
            ),
            (5, "bad amount \"12x\": not an amount: \"12x\""),
            (7, "bad date \"2026-13-01\": there is no such day"),
            (
                8,
                "bad verified value \"maybe\": use true/false, 1/0 or yes/no"
            ),
            (
                10,
                "no exchange rate for GBP: add it to [program.rates] (program currency CNY)"
            ),
            (13, "bad quantity \"0\": expected a positive whole number"),
            (14, "date 2026-12-01 is in the future (today is 2026-11-15)"),
            (15, "the row has 7 fields, the header has 8"),
            (
                16,
                "bad amount \"0\": the amount must not be zero; bad date \"11/06/2026\": \
                 expected YYYY-MM-DD; customer is empty; bad quantity \"-1\": expected a \
                 positive whole number"
            ),
        ]
    );
    assert_eq!((report.imported, report.duplicates), (4, 0));

    // The good rows, as stored.
    let acme_sales = sales_of(&app.store, acme).await;
    assert_eq!(acme_sales.len(), 3);
    let first = &acme_sales[0];
    assert_eq!(first.amount, yuan(1_250_000));
    assert_eq!(first.status, SaleStatus::Approved);
    assert_eq!(first.quantity, Some(3));
    assert_eq!(first.category.as_deref(), Some("software"));
    assert_eq!(
        (first.customer.as_str(), first.period.as_str()),
        ("Globex", "2026-11")
    );
    let usd = &acme_sales[1];
    assert_eq!(usd.amount.currency().code(), "USD");
    assert_eq!(usd.amount.to_minor(), Ok(3_333));
    // 33.33 × 7.1 = 236.643 → 236.64
    assert_eq!(usd.program_amount, yuan(23_664));
    let october = &acme_sales[2];
    assert_eq!(october.customer, "Stark\nIndustries");
    assert_eq!(october.period, "2026-10");
    let east_sales = sales_of(&app.store, east).await;
    assert_eq!(east_sales.len(), 1);
    assert_eq!(east_sales[0].program_amount, yuan(1_200_000));
    assert_eq!(east_sales[0].status, SaleStatus::Pending, "verified = no");

    // Totals moved with the sales.
    let t = totals_of(&app.store, "2026-11", acme).await;
    assert_eq!(
        (t.approved_minor, t.approved_count, t.pending_count),
        (1_250_000 + 23_664, 2, 0)
    );
    let t = totals_of(&app.store, "2026-10", acme).await;
    assert_eq!((t.approved_minor, t.approved_count), (5_000, 1));
    let t = totals_of(&app.store, "2026-11", east).await;
    assert_eq!(
        (t.approved_minor, t.provisional_minor, t.pending_count),
        (0, 1_200_000, 1)
    );

    // The import is in the audit log.
    let mut conn = app.store.read().await.expect("conn");
    let entry = audit::recent(&mut conn, 1).await.expect("audit");
    assert_eq!(entry[0].action, AuditAction::SalesImport);
    assert_eq!(entry[0].subject, "file mixed.csv");
}

async fn reimport_is_idempotent_with_external_id(db: &TestDb) {
    let (app, acme, east) = setup(db).await;
    let csv = "external_id,partner,amount,date,customer\n\
               INV-1,ACME Trading,1000,2026-11-01,Globex\n\
               INV-2,华东贸易,2000,2026-11-02,Initech\n";
    let first = import(&app, csv, "november.csv").await;
    assert_eq!((first.imported, first.duplicates), (2, 0));
    assert!(first.rejected.is_empty());

    // Another file name, other lines, other order, an edited amount: the ids decide.
    let again = "partner,customer,date,amount,external_id\n\
                 \n\
                 华东贸易,Initech,2026-11-02,2000,INV-2\n\
                 ACME Trading,Globex,2026-11-01,9999,INV-1\n\
                 ACME Trading,Hooli,2026-11-03,500,INV-3\n";
    let second = import(&app, again, "november-final.csv").await;
    assert_eq!((second.imported, second.duplicates), (1, 2));
    assert_eq!(count_sales(&app.store).await, 3);
    let t = totals_of(&app.store, "2026-11", acme).await;
    assert_eq!((t.approved_minor, t.approved_count), (150_000, 2));
    let t = totals_of(&app.store, "2026-11", east).await;
    assert_eq!((t.approved_minor, t.approved_count), (200_000, 1));
}

async fn reimport_is_idempotent_without_external_id(db: &TestDb) {
    let (app, acme, _) = setup(db).await;
    let csv = "partner,amount,date,customer\n\
               ACME Trading,1000,2026-11-01,Globex\n\
               ACME Trading,1000,2026-11-01,Globex\n\
               Nobody,1000,2026-11-01,Globex\n";
    let first = import(&app, csv, "acme.csv").await;
    // Two identical rows are two sales (different lines).
    assert_eq!((first.imported, first.duplicates), (2, 0));
    assert_eq!(first.rejected.len(), 1);
    let second = import(&app, csv, "acme.csv").await;
    assert_eq!((second.imported, second.duplicates), (0, 2));
    assert_eq!(
        second.rejected,
        vec![RowError {
            line: 4,
            reason: "unknown partner \"Nobody\": no partner has this name or id".into()
        }]
    );
    assert_eq!(count_sales(&app.store).await, 2);
    let t = totals_of(&app.store, "2026-11", acme).await;
    assert_eq!((t.approved_minor, t.approved_count), (200_000, 2));
}

async fn missing_column_stores_nothing(db: &TestDb) {
    let (app, _, _) = setup(db).await;
    let err = import_sales(
        &app,
        "partner,amount,customer\nACME Trading,1000,Globex\n".as_bytes(),
        "x.csv",
        None,
    )
    .await
    .expect_err("date is required");
    assert!(
        matches!(
            err.downcast_ref::<ImportError>(),
            Some(ImportError::MissingColumns(c)) if c == &["date".to_string()]
        ),
        "{err:#}"
    );
    assert_eq!(
        err.to_string(),
        "missing required column: \"date\"; the header must name partner, amount, date and \
         customer"
    );

    let err = import_sales(
        &app,
        "partner,amount,date,customer,Notes,region\nACME Trading,1000,2026-11-01,Globex,x,y\n"
            .as_bytes(),
        "x.csv",
        None,
    )
    .await
    .expect_err("unknown columns");
    assert!(
        err.to_string()
            .starts_with("unknown columns: \"Notes\", \"region\";"),
        "{err:#}"
    );

    let err = import_sales(&app, "".as_bytes(), "x.csv", None)
        .await
        .expect_err("empty");
    assert!(matches!(
        err.downcast_ref::<ImportError>(),
        Some(ImportError::Empty)
    ));
    assert_eq!(count_sales(&app.store).await, 0);
}

async fn large_files_commit_in_batches(db: &TestDb) {
    let (app, acme, east) = setup(db).await;
    let mut csv = String::from("partner,amount,date,customer,external_id\n");
    for n in 0..1_203 {
        let partner = if n % 3 == 0 {
            "华东贸易"
        } else {
            "ACME Trading"
        };
        csv.push_str(&format!(
            "{partner},{},2026-11-02,Customer {n},E{n}\n",
            n + 1
        ));
    }
    let bar = indicatif::ProgressBar::hidden();
    bar.set_length(csv.len() as u64);
    let report = import_sales(&app, csv.as_bytes(), "big.csv", Some(&bar))
        .await
        .expect("import");
    assert_eq!((report.imported, report.duplicates), (1_203, 0));
    assert!(report.rejected.is_empty());
    assert_eq!(bar.position(), csv.len() as u64);
    let a = totals_of(&app.store, "2026-11", acme).await;
    let e = totals_of(&app.store, "2026-11", east).await;
    assert_eq!(a.approved_count + e.approved_count, 1_203);
    // Σ 1..=1203 yuan.
    assert_eq!(a.approved_minor + e.approved_minor, 1_203 * 1_204 / 2 * 100);
}

// ---- the binary ----

fn rally(config: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rally"));
    for var in [
        "RALLY_CONFIG",
        "RALLY_DATABASE_URL",
        "TELEGRAM_BOT_TOKEN",
        "DISCORD_TOKEN",
        "RALLY_ADMINS",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("RALLY_LOG", "error").arg("--config").arg(config);
    cmd
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run(config: &std::path::Path, args: &[&str]) -> Run {
    let out = rally(config).args(args).output().expect("run rally");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout).expect("utf8"),
        stderr: String::from_utf8(out.stderr).expect("utf8"),
    }
}

#[tokio::test]
async fn cli_partners_targets_and_import() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("x.db");
    let config = dir.path().join("rally.toml");
    std::fs::write(
        &config,
        format!(
            "[program]\nname = \"T\"\ncurrency = \"CNY\"\ntimezone = \"Asia/Shanghai\"\n\
             [program.rates]\nUSD = \"7.1\"\n[database]\nurl = \"sqlite://{}\"\n",
            db.display()
        ),
    )
    .expect("write config");

    let added = run(
        &config,
        &[
            "partners",
            "add",
            "ACME Trading",
            "--kind",
            "agent",
            "--region",
            "East",
            "--potential",
            "50万",
        ],
    );
    assert_eq!(added.code, Some(0), "{}", added.stderr);
    assert!(
        added
            .stdout
            .contains("partner 1 added: ACME Trading (agent)"),
        "{}",
        added.stdout
    );
    let bad = run(&config, &["partners", "add", "B", "--potential", "12x"]);
    assert_eq!(bad.code, Some(1));
    assert!(
        bad.stderr.contains("bad potential \"12x\": not an amount"),
        "{}",
        bad.stderr
    );
    let bad = run(&config, &["partners", "add", "B", "--potential", "100USD"]);
    assert!(
        bad.stderr.contains("program currency, CNY"),
        "{}",
        bad.stderr
    );
    let list = run(&config, &["partners", "list"]);
    assert!(
        list.stdout.contains("ACME Trading") && list.stdout.contains("potential ¥500,000.00"),
        "{}",
        list.stdout
    );
    assert!(!list.stdout.contains(" B "), "{}", list.stdout);

    let set = run(
        &config,
        &["targets", "set", "acme trading", "2026-11", "150k"],
    );
    assert_eq!(set.code, Some(0), "{}", set.stderr);
    assert_eq!(
        set.stdout.trim(),
        "target for ACME Trading in 2026-11: ¥150,000.00"
    );
    let reset = run(&config, &["targets", "set", "1", "2026-11", "160000"]);
    assert_eq!(reset.code, Some(0), "{}", reset.stderr);
    assert_eq!(
        reset.stdout.trim(),
        "target for ACME Trading in 2026-11: ¥160,000.00 (was ¥150,000.00)"
    );
    let quarter = run(&config, &["targets", "set", "1", "2026-Q4", "1000"]);
    assert_eq!(quarter.code, Some(1));
    assert!(
        quarter
            .stderr
            .contains("bad period \"2026-Q4\": this program's periods are months"),
        "{}",
        quarter.stderr
    );
    let nobody = run(&config, &["targets", "set", "Nobody", "2026-11", "1000"]);
    assert!(
        nobody.stderr.contains("unknown partner \"Nobody\""),
        "{}",
        nobody.stderr
    );

    // Import: one good row, one rejected → exit 1; the good row is kept.
    let file = dir.path().join("sales.csv");
    std::fs::write(
        &file,
        "partner,amount,date,customer\nACME Trading,1000,2026-01-05,Globex\nNobody,5,2026-01-05,X\n",
    )
    .expect("write csv");
    let file_arg = file.to_str().expect("utf8 path");
    let first = run(&config, &["import", "sales", file_arg]);
    assert_eq!(first.code, Some(1), "{}", first.stderr);
    assert_eq!(
        first.stdout.trim(),
        "imported 1, already present 0, rejected 1"
    );
    assert!(
        first
            .stderr
            .contains("sales.csv: line 3: unknown partner \"Nobody\""),
        "{}",
        first.stderr
    );
    // Piped: no progress bar drawn.
    assert_eq!(first.stderr.lines().count(), 1, "{}", first.stderr);
    let second = run(&config, &["import", "sales", file_arg]);
    assert_eq!(
        second.stdout.trim(),
        "imported 0, already present 1, rejected 1"
    );

    let clean = dir.path().join("clean.csv");
    std::fs::write(
        &clean,
        "partner,amount,date,customer,currency\n1,100,2026-01-06,Hooli,USD\n",
    )
    .expect("write csv");
    let ok = run(&config, &["import", "sales", clean.to_str().expect("utf8")]);
    assert_eq!(ok.code, Some(0), "{}", ok.stderr);
    assert_eq!(
        ok.stdout.trim(),
        "imported 1, already present 0, rejected 0"
    );

    let broken = dir.path().join("broken.csv");
    std::fs::write(
        &broken,
        "partner,amount,day,customer\n1,100,2026-01-06,Hooli\n",
    )
    .expect("write csv");
    let refused = run(
        &config,
        &["import", "sales", broken.to_str().expect("utf8")],
    );
    assert_eq!(refused.code, Some(1));
    assert!(
        refused.stderr.contains("unknown column: \"day\""),
        "{}",
        refused.stderr
    );

    let help = run(&config, &["import", "sales", "--help"]);
    assert!(help.stdout.contains("external_id"), "{}", help.stdout);
    assert!(
        help.stdout
            .contains("Exit status: 0 if no row was rejected")
    );

    // What the commands stored.
    let store = Store::connect(&format!("sqlite://{}", db.display()))
        .await
        .expect("connect");
    let mut conn = store.read().await.expect("conn");
    let acme = partners::find_by_name(&mut conn, "ACME Trading")
        .await
        .expect("find")
        .expect("acme");
    assert_eq!(acme.potential_minor, Some(50_000_000));
    assert_eq!(
        targets::get(&mut conn, acme.id, "2026-11")
            .await
            .expect("target"),
        Some(16_000_000)
    );
    assert_eq!(
        targets::get(&mut conn, acme.id, "2026-12")
            .await
            .expect("target"),
        None
    );
    let log = audit::recent(&mut conn, 20).await.expect("audit");
    let target = log
        .iter()
        .find(|e| e.action == AuditAction::TargetSet && e.before.is_some())
        .expect("second target.set");
    assert_eq!(target.subject, format!("partner {}", acme.id));
    let before: serde_json::Value =
        serde_json::from_str(target.before.as_deref().expect("before")).expect("json");
    let after: serde_json::Value =
        serde_json::from_str(target.after.as_deref().expect("after")).expect("json");
    assert_eq!(before["amount_minor"], 15_000_000);
    assert_eq!(after["amount_minor"], 16_000_000);
    assert_eq!(after["period"], "2026-11");
    let t = totals::get(&mut conn, "2026-01", acme.id)
        .await
        .expect("totals");
    assert_eq!((t.approved_minor, t.approved_count), (100_000 + 71_000, 2));
    drop(conn);
    store.close().await;
}
