//! The `rally` binary: demo piped from stdin, check-config.

use std::io::Write;
use std::process::{Command, Stdio};

fn rally() -> Command {
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
    cmd
}

#[test]
fn demo_reads_piped_commands_and_exits() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("demo.db");
    let mut child = rally()
        .args(["demo", "--fresh", "--db"])
        .arg(&db)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn rally demo");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"/report 1200 ACME\n/rank\n")
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).expect("utf8");
    assert!(stdout.contains("¥1,200.00 · ACME"), "{stdout}");
    assert!(stdout.contains("Ranking for"), "{stdout}");
}

#[test]
fn check_config_names_key_and_line() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("rally.toml");
    std::fs::write(&path, "[program]\nname = \"X\"\ncurency = \"CNY\"\n").expect("write");
    let out = rally()
        .arg("--config")
        .arg(&path)
        .arg("check-config")
        .output()
        .expect("run");
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).expect("utf8");
    assert!(
        stderr.contains(":3:") && stderr.contains("curency"),
        "{stderr}"
    );

    std::fs::write(&path, "[program]\nname = \"X\"\ncurrency = \"USD\"\n").expect("write");
    let ok = rally()
        .arg("--config")
        .arg(&path)
        .arg("check-config")
        .output()
        .expect("run");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
}

#[test]
fn close_period_export_and_tiers_through_the_binary() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("demo.db");
    let seeded = rally()
        .args(["demo", "--db"])
        .arg(&db)
        .stdin(Stdio::null())
        .output()
        .expect("seed demo");
    assert!(
        seeded.status.success(),
        "{}",
        String::from_utf8_lossy(&seeded.stderr)
    );
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
    let run = |args: &[&str]| {
        let out = rally()
            .arg("--config")
            .arg(&config)
            .args(args)
            .output()
            .expect("run rally");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // The demo's sales span the three months before today: last month has ended.
    let today = chrono::Utc::now().date_naive();
    let last_month =
        rally::engine::period::Period::containing(rally::engine::period::PeriodKind::Month, today)
            .previous()
            .key();

    let (ok, out, err) = run(&["close-period", &last_month]);
    assert!(ok, "{err}");
    assert!(out.contains("statements locked"), "{out}");
    let (ok, _, err) = run(&["close-period", &last_month]);
    assert!(!ok && err.contains("already closed"), "{err}");

    let (ok, out, err) = run(&[
        "export",
        "statements",
        "--period",
        &last_month,
        "--format",
        "json",
    ]);
    assert!(ok, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).expect("json");
    let statements = json.as_array().expect("array");
    assert!(!statements.is_empty());
    assert!(
        statements
            .iter()
            .any(|s| !s["lines"].as_array().expect("lines").is_empty())
    );
    let (ok, out, _) = run(&[
        "export",
        "statements",
        "--period",
        &last_month,
        "--format",
        "csv",
    ]);
    assert!(ok && out.starts_with("partner,period,currency"), "{out}");

    let (ok, out, err) = run(&["tiers", "recompute"]);
    assert!(ok, "{err}");
    assert!(out.contains("tier changes recorded"), "{out}");
}

/// `rally partners add` and `rally invite` create partners through the one service, so both
/// leave a `partner.create` audit entry.
#[tokio::test]
async fn partners_created_from_the_command_line_are_audited() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("cli.db");
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
    for args in [
        &["partners", "add", "Acme", "--potential", "50万"][..],
        &["invite", "Beta", "--kind", "agent"][..],
    ] {
        let out = rally()
            .arg("--config")
            .arg(&config)
            .args(args)
            .output()
            .expect("run rally");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let store = rally::store::Store::connect(&format!("sqlite://{}", db.display()))
        .await
        .expect("connect");
    let mut conn = store.read().await.expect("conn");
    let log = rally::store::audit::recent(&mut conn, 10)
        .await
        .expect("audit");
    let created: Vec<&str> = log
        .iter()
        .filter(|e| e.action == rally::engine::audit::AuditAction::PartnerCreate)
        .map(|e| e.subject.as_str())
        .collect();
    assert_eq!(created, vec!["partner 2", "partner 1"], "{log:?}");
    assert!(
        log.iter().all(|e| e
            .after
            .as_deref()
            .is_some_and(|a| a.contains("\"source\":\"cli\""))),
        "{log:?}"
    );
}

#[test]
fn contests_in_the_demo_and_on_the_command_line() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("demo.db");
    let mut child = rally()
        .args(["demo", "--fresh", "--db"])
        .arg(&db)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn rally demo");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"/contests\n/rank growth cup\n/contests past\n")
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).expect("utf8");
    assert!(stdout.contains("Growth Cup (growth-cup)"), "{stdout}");
    assert!(
        stdout.contains("of target"),
        "a handicapped board: {stdout}"
    );
    assert!(
        stdout.contains("Summer Sprint (summer-sprint"),
        "an archived season: {stdout}"
    );

    // The same contests from a configuration file, on the command line.
    let path = dir.path().join("rally.toml");
    let config = format!(
        "[database]\nurl = \"sqlite://{}\"\n{}\n[[contests]]\nid = \"x\"\nname = \"X\"\nmetric = \
         \"sales_amount\"\nstart = \"2026-01-01\"\nend = \"2026-01-31\"\ntargets = {{ \"Nobody Ltd\" = 1000 }}\n",
        db.display(),
        rally::demo::contests_toml(chrono::Utc::now().date_naive())
    );
    std::fs::write(&path, config).expect("write config");
    let list = rally()
        .arg("--config")
        .arg(&path)
        .args(["contests", "list"])
        .output()
        .expect("run");
    assert!(
        list.status.success(),
        "{}",
        String::from_utf8_lossy(&list.stderr)
    );
    let listed = String::from_utf8(list.stdout).expect("utf8");
    assert!(
        listed.contains("growth-cup \"Growth Cup\" growth_rate"),
        "{listed}"
    );
    assert!(
        listed.contains("summer-sprint") && listed.contains("ended, winner"),
        "{listed}"
    );
    let show = rally()
        .arg("--config")
        .arg(&path)
        .args(["contests", "show", "summer-sprint"])
        .output()
        .expect("run");
    let shown = String::from_utf8(show.stdout).expect("utf8");
    assert!(
        shown.contains("final standings") && shown.contains("prize for place 1: partner"),
        "{shown}"
    );
    let unknown = rally()
        .arg("--config")
        .arg(&path)
        .args(["contests", "show", "nope"])
        .output()
        .expect("run");
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no contest \"nope\""));
    let check = rally()
        .arg("--config")
        .arg(&path)
        .arg("check-config")
        .output()
        .expect("run");
    assert!(check.status.success(), "a warning is not an error");
    let warned = String::from_utf8_lossy(&check.stderr);
    assert!(
        warned
            .contains("warning: contest x: target for \"Nobody Ltd\", which is not a partner yet"),
        "{warned}"
    );
}
