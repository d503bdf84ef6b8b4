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
