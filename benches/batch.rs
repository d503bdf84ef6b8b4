//! Whole-process figures for issue 14's batch goals, each against its named baseline measured
//! in the same run, as a user would see them: the `rally` binary (this build's, bench profile)
//! on a SQLite file in a temporary directory, with the demo program's configuration.
//!
//! For each scale (100,000 partners and 1,000,000 sales; and a fifth of that, to see whether
//! memory grows with the number of partners):
//! 1. `rally import partners partners.csv` (`name,kind,region,tier,potential`) against
//!    `sqlite3 .import` of the same file into a new table of a new file (**baseline**);
//! 2. `rally import sales sales.csv` (`partner,amount,date,customer,category`, partners by name,
//!    dated in the program's previous month, 20 % software, 30 % hardware) against
//!    `sqlite3 .import` of the same file (**baseline**); goals ≥ 50,000 rows/s and ≤ 10× the
//!    baseline's time; then the same file again (nothing new: idempotency, information);
//! 3. `rally close-period <previous month>` against a bare `GROUP BY` of the period's sales by
//!    `sqlite3` on the same file (**baseline**); goals ≤ 3× and ≤ 200 MB peak memory;
//! 4. `rally export statements --format csv|json` of the closed period to a file: goal
//!    ≤ 100 MB peak memory, flat in the number of partners (compared across the two scales);
//!    every `rally` run's standard error is checked for warnings (goal: none by default).
//!
//! Times and peak memory (maximum resident set size) come from `/usr/bin/time -f "%e %M"`
//! around each process. Run: `cargo bench --bench batch` (a few minutes; needs `sqlite3` and
//! `/usr/bin/time`). Under `cargo test --benches` it runs once with 300 partners and 3,000
//! sales.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{Datelike, NaiveDate, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use rally_testkit::bench::test_mode;

/// One scale of the run.
#[derive(Clone, Copy, Debug)]
struct Scale {
    partners: usize,
    sales: usize,
}

const FULL: Scale = Scale {
    partners: 100_000,
    sales: 1_000_000,
};
const FIFTH: Scale = Scale {
    partners: 20_000,
    sales: 200_000,
};
const SMALL: Scale = Scale {
    partners: 300,
    sales: 3_000,
};

const KINDS: [&str; 5] = ["dealer", "agent", "wholesaler", "retailer", "distributor"];
const REGIONS: [&str; 4] = ["East", "West", "North", "South"];

/// What one process took.
#[derive(Clone, Debug, Default)]
struct Run {
    seconds: f64,
    peak_mb: f64,
    stdout: String,
    stderr: String,
}

/// Runs `program args…` under `/usr/bin/time`, with standard output to `stdout_to` if given.
fn timed(program: &Path, args: &[&str], env: &[(&str, &str)], stdout_to: Option<&Path>) -> Run {
    let dir = tempfile::tempdir().expect("temporary directory");
    let measured = dir.path().join("time.txt");
    let mut cmd = Command::new("/usr/bin/time");
    cmd.arg("-f")
        .arg("%e %M")
        .arg("-o")
        .arg(&measured)
        .arg(program)
        .args(args);
    for var in [
        "RALLY_CONFIG",
        "RALLY_LOG",
        "RALLY_DATABASE_URL",
        "TELEGRAM_BOT_TOKEN",
        "DISCORD_TOKEN",
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    if let Some(path) = stdout_to {
        cmd.stdout(std::fs::File::create(path).expect("create output file"));
    }
    let out = cmd.output().expect("run /usr/bin/time");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "{} {args:?} failed: {stderr}",
        program.display()
    );
    let text = std::fs::read_to_string(&measured).expect("time's output");
    let mut fields = text.split_whitespace();
    let seconds: f64 = fields.next().and_then(|s| s.parse().ok()).expect("elapsed");
    let kb: f64 = fields.next().and_then(|s| s.parse().ok()).expect("max rss");
    Run {
        seconds,
        peak_mb: kb / 1024.0,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
    }
}

/// The previous month of the program's time zone (Asia/Shanghai): its key and its days.
fn previous_month() -> (String, NaiveDate, u32) {
    let today = Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();
    let first_this = today.with_day(1).expect("first of month");
    let last_prev = first_this.pred_opt().expect("a day before");
    let first_prev = last_prev.with_day(1).expect("first of month");
    (
        format!("{:04}-{:02}", first_prev.year(), first_prev.month()),
        first_prev,
        last_prev.day(),
    )
}

fn write_files(dir: &Path, scale: Scale) -> (PathBuf, PathBuf) {
    let mut rng = StdRng::seed_from_u64(14);
    let partners = dir.join("partners.csv");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&partners).expect("create"));
    writeln!(out, "name,kind,region,tier,potential").expect("write");
    for i in 1..=scale.partners {
        let potential = if i % 3 == 0 {
            format!("{}", rng.random_range(10..500) * 10_000)
        } else {
            String::new()
        };
        writeln!(
            out,
            "Partner {i:06},{},{},,{potential}",
            KINDS[i % 5],
            REGIONS[i % 4]
        )
        .expect("write");
    }
    out.flush().expect("flush");
    let (_, first, days) = previous_month();
    let sales = dir.join("sales.csv");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&sales).expect("create"));
    writeln!(out, "partner,amount,date,customer,category").expect("write");
    for n in 0..scale.sales {
        let partner = rng.random_range(1..=scale.partners);
        let day = first + chrono::Days::new(u64::from(rng.random_range(0..days)));
        let category = match rng.random_range(0..10) {
            0 | 1 => "software",
            2..=4 => "hardware",
            _ => "",
        };
        writeln!(
            out,
            "Partner {partner:06},{},{day},Customer {},{category}",
            rng.random_range(100..=50_000_u32),
            n % 997
        )
        .expect("write");
    }
    out.flush().expect("flush");
    (partners, sales)
}

/// `sqlite3 <new file> .import --csv <csv> <table>`: the raw import baseline.
fn sqlite_import(dir: &Path, csv: &Path, table: &str) -> Run {
    let db = dir.join(format!("bare-{table}.db"));
    let _ = std::fs::remove_file(&db);
    let command = format!(".import --csv {} {table}", csv.display());
    timed(
        Path::new("sqlite3"),
        &[db.to_str().expect("utf-8 path"), &command],
        &[],
        None,
    )
}

/// Figures of one scale.
#[derive(Debug, Default)]
struct Figures {
    partners_import: Run,
    partners_bare: Run,
    sales_import: Run,
    sales_bare: Run,
    sales_again: Run,
    close: Run,
    group_by: Run,
    export_csv: Run,
    export_json: Run,
    export_bytes: (u64, u64),
}

fn measure(rally: &Path, scale: Scale) -> Figures {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (partners_csv, sales_csv) = write_files(dir.path(), scale);
    let db = dir.path().join("rally.db");
    let config = dir.path().join("rally.toml");
    std::fs::write(
        &config,
        format!(
            "{}\n[database]\nurl = \"sqlite://{}\"\n",
            rally::demo::DEMO_CONFIG,
            db.display()
        ),
    )
    .expect("write config");
    let config_arg = config.to_str().expect("utf-8 path").to_string();
    let rally_run = |args: &[&str], out: Option<&Path>| {
        let mut all = vec!["--config", config_arg.as_str()];
        all.extend_from_slice(args);
        let run = timed(rally, &all, &[], out);
        let warnings: Vec<&str> = run
            .stderr
            .lines()
            .filter(|l| l.contains("WARN") || l.contains("slow statement"))
            .collect();
        assert!(
            warnings.is_empty(),
            "rally {args:?} printed warnings: {warnings:?}"
        );
        run
    };
    let mut f = Figures {
        partners_bare: sqlite_import(dir.path(), &partners_csv, "partners"),
        ..Figures::default()
    };
    f.partners_import = rally_run(
        &["import", "partners", partners_csv.to_str().expect("utf-8")],
        None,
    );
    assert!(
        f.partners_import
            .stdout
            .contains(&format!("imported {}, already present 0", scale.partners)),
        "{}",
        f.partners_import.stdout
    );
    f.sales_bare = sqlite_import(dir.path(), &sales_csv, "sales");
    f.sales_import = rally_run(
        &["import", "sales", sales_csv.to_str().expect("utf-8")],
        None,
    );
    assert!(
        f.sales_import.stdout.contains(&format!(
            "imported {}, already present 0, rejected 0",
            scale.sales
        )),
        "{}",
        f.sales_import.stdout
    );
    f.sales_again = rally_run(
        &["import", "sales", sales_csv.to_str().expect("utf-8")],
        None,
    );
    assert!(
        f.sales_again.stdout.contains(&format!(
            "imported 0, already present {}, rejected 0",
            scale.sales
        )),
        "{}",
        f.sales_again.stdout
    );
    let (period, _, _) = previous_month();
    let group_by = format!(
        "SELECT partner_id, category, SUM(program_minor) FROM sales WHERE period = '{period}' \
         AND status = 'approved' GROUP BY partner_id, category;"
    );
    let sink = dir.path().join("group-by.txt");
    f.group_by = timed(
        Path::new("sqlite3"),
        &[db.to_str().expect("utf-8"), &group_by],
        &[],
        Some(&sink),
    );
    f.close = rally_run(&["close-period", &period], None);
    assert!(f.close.stdout.starts_with("closed "), "{}", f.close.stdout);
    let csv_out = dir.path().join("statements.csv");
    f.export_csv = rally_run(
        &[
            "export",
            "statements",
            "--period",
            &period,
            "--format",
            "csv",
        ],
        Some(&csv_out),
    );
    let json_out = dir.path().join("statements.json");
    f.export_json = rally_run(
        &[
            "export",
            "statements",
            "--period",
            &period,
            "--format",
            "json",
        ],
        Some(&json_out),
    );
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    f.export_bytes = (size(&csv_out), size(&json_out));
    f
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}

fn report(scale: Scale, f: &Figures) {
    println!(
        "\n{} partners, {} sales (rally: bench profile; SQLite file, WAL, synchronous=FULL):",
        scale.partners, scale.sales
    );
    let rows = |n: usize, r: &Run| n as f64 / r.seconds.max(0.001);
    println!(
        "  import partners   {:>7.2} s  {:>9.0} rows/s  peak {:>6.1} MB | sqlite3 .import {:>6.2} s | ratio {:.1}x",
        f.partners_import.seconds,
        rows(scale.partners, &f.partners_import),
        f.partners_import.peak_mb,
        f.partners_bare.seconds,
        f.partners_import.seconds / f.partners_bare.seconds.max(0.01)
    );
    let sales_rate = rows(scale.sales, &f.sales_import);
    let sales_ratio = f.sales_import.seconds / f.sales_bare.seconds.max(0.01);
    println!(
        "  import sales      {:>7.2} s  {:>9.0} rows/s  peak {:>6.1} MB | sqlite3 .import {:>6.2} s | ratio {:.1}x",
        f.sales_import.seconds,
        sales_rate,
        f.sales_import.peak_mb,
        f.sales_bare.seconds,
        sales_ratio
    );
    println!(
        "  import sales again (all present) {:>6.2} s  {:>9.0} rows/s",
        f.sales_again.seconds,
        rows(scale.sales, &f.sales_again)
    );
    let close_ratio = f.close.seconds / f.group_by.seconds.max(0.01);
    println!(
        "  close-period      {:>7.2} s  peak {:>6.1} MB | sqlite3 GROUP BY {:>6.2} s | ratio {:.2}x",
        f.close.seconds, f.close.peak_mb, f.group_by.seconds, close_ratio
    );
    println!(
        "  export csv        {:>7.2} s  peak {:>6.1} MB  ({:.1} MB written)",
        f.export_csv.seconds,
        f.export_csv.peak_mb,
        f.export_bytes.0 as f64 / 1e6
    );
    println!(
        "  export json       {:>7.2} s  peak {:>6.1} MB  ({:.1} MB written)",
        f.export_json.seconds,
        f.export_json.peak_mb,
        f.export_bytes.1 as f64 / 1e6
    );
    println!(
        "  goals: import >= 50,000 rows/s: {}; import <= 10x sqlite3 .import: {}; close <= 3x \
         GROUP BY: {}; close <= 200 MB: {}; export <= 100 MB: {}; no warnings: met (checked)",
        verdict(sales_rate >= 50_000.0),
        verdict(sales_ratio <= 10.0),
        verdict(close_ratio <= 3.0),
        verdict(f.close.peak_mb <= 200.0),
        verdict(f.export_csv.peak_mb <= 100.0 && f.export_json.peak_mb <= 100.0)
    );
}

/// Whether `program --version` runs.
fn available(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn main() {
    let rally = PathBuf::from(env!("CARGO_BIN_EXE_rally"));
    if !(available("sqlite3") && available("/usr/bin/time")) {
        assert!(
            test_mode(),
            "benches/batch.rs needs `sqlite3` (the baselines) and `/usr/bin/time` (GNU time)"
        );
        println!("batch: sqlite3 or /usr/bin/time missing: smoke run skipped");
        return;
    }
    let scales: &[Scale] = if test_mode() {
        &[SMALL]
    } else {
        &[FIFTH, FULL]
    };
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average at start: {}", load.trim());
    let mut results = Vec::new();
    for scale in scales {
        let figures = measure(&rally, *scale);
        report(*scale, &figures);
        results.push((*scale, figures));
    }
    if let [(small, a), (large, b)] = results.as_slice() {
        println!(
            "\nexport peak memory at {} vs {} partners: csv {:.1} -> {:.1} MB, json {:.1} -> \
             {:.1} MB (flat: the larger run within 20 MB of the smaller)",
            small.partners,
            large.partners,
            a.export_csv.peak_mb,
            b.export_csv.peak_mb,
            a.export_json.peak_mb,
            b.export_json.peak_mb
        );
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average at end: {}", load.trim());
}
