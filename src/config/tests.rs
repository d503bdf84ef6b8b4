//! Tests of loading: every problem with its line, exact decimals, secrets, the environment.

use super::env::redact_url;
use super::*;
use crate::engine::partner::PartnerKind;
use crate::engine::plan::{
    Accelerator, Assignment, BonusStep, Bracket, GrowthRebate, Plan, PlanMode, VolumeRebate,
};
use chrono::NaiveDate;
use std::collections::HashMap;

fn no_env(_: &str) -> Option<String> {
    None
}

fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |k: &str| map.get(k).cloned()
}

fn parse(text: &str) -> Result<Config, ConfigError> {
    from_toml_str(text, "rally.toml", &no_env)
}

fn errors(text: &str) -> String {
    match parse(text) {
        Ok(cfg) => panic!("expected an error, got {cfg:?}"),
        Err(e) => e.to_string(),
    }
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str_exact(s).expect("test decimal")
}

#[test]
fn defaults_without_file() {
    let cfg = load(None, &env_of(&[])).expect("defaults load");
    // ./rally.toml may exist in a developer's checkout; only check when it does not.
    if !Path::new("rally.toml").exists() {
        assert_eq!(cfg, Config::default());
        assert_eq!(cfg.source, None);
    }
    let cfg = parse("").expect("empty file");
    assert_eq!(cfg.source.as_deref(), Some("rally.toml"));
    assert_eq!(cfg.program.name, "Rally");
    assert_eq!(cfg.program.currency, Currency::CNY);
    assert_eq!(cfg.program.timezone, Tz::Asia__Shanghai);
    assert_eq!(cfg.program.default_locale, Locale::En);
    assert_eq!(cfg.program.period, PeriodKind::Month);
    assert!(!cfg.program.rank_pending);
    assert_eq!(cfg.program.auto_approve_below, None);
    assert!(cfg.program.rates.is_empty());
    assert_eq!(cfg.program.invite_ttl_hours, 168);
    assert_eq!(cfg.database.url, "sqlite://rally.db");
    assert_eq!(cfg.telegram, TelegramConfig::default());
    assert_eq!(cfg.telegram.api_base(), DEFAULT_TELEGRAM_API_URL);
    assert_eq!(cfg.discord, DiscordConfig::default());
    assert_eq!(cfg.http.listen.to_string(), "127.0.0.1:8080");
    assert!(cfg.admins.is_empty());
    assert_eq!(
        cfg.kudos,
        KudosConfig {
            daily: 5,
            cooldown_minutes: 60
        }
    );
    assert_eq!(cfg.deals.protection_days, 90);
    assert_eq!(cfg.log, None);
}

const FULL: &str = r#"# Rally test config
[program]
name = "Acme Channel Stars"
currency = "usd"
timezone = "Europe/Berlin"
default_locale = "zh"
period = "quarter"
rank_pending = true
auto_approve_below = "999.99"
invite_ttl_hours = 48

[program.rates]
CNY = "0.14"
EUR = 1
JPY = "0.0067"

[database]
url = "postgres://rally:hunter2@db.local/rally"

[telegram]
api_url = "http://127.0.0.1:8081/"
mode = "webhook"
webhook_url = "https://rally.example.com/"

[discord]
api_url = "http://127.0.0.1:9000/api//"
guild_ids = [123456789012345678, "42"]

[http]
listen = "0.0.0.0:9090"

[[admins]]
platform = "telegram"
id = "1001"

[[admins]]
platform = "Discord"
id = 2002

[kudos]
daily = 3
cooldown_minutes = 120

[deals]
protection_days = 30
"#;

#[test]
fn full_valid_file() {
    let env = env_of(&[("RALLY_TELEGRAM_WEBHOOK_SECRET", "s3cr3t-path_1")]);
    let cfg = from_toml_str(FULL, "full.toml", &env).expect("valid");
    let p = &cfg.program;
    assert_eq!(p.name, "Acme Channel Stars");
    assert_eq!(p.currency, Currency::USD);
    assert_eq!(p.timezone, Tz::Europe__Berlin);
    assert_eq!(p.default_locale, Locale::ZhCn);
    assert_eq!(p.period, PeriodKind::Quarter);
    assert!(p.rank_pending);
    assert_eq!(p.auto_approve_below, Some(dec("999.99")));
    assert_eq!(p.invite_ttl_hours, 48);
    let rates: Vec<(String, String)> = p
        .rates
        .iter()
        .map(|(c, r)| (c.to_string(), r.to_string()))
        .collect();
    assert_eq!(
        rates,
        [("CNY", "0.14"), ("EUR", "1"), ("JPY", "0.0067")]
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
    );
    assert_eq!(cfg.database.url, "postgres://rally:hunter2@db.local/rally");
    assert_eq!(
        cfg.telegram.api_url.as_deref(),
        Some("http://127.0.0.1:8081")
    );
    assert_eq!(cfg.telegram.mode, TelegramMode::Webhook);
    assert_eq!(
        cfg.telegram.webhook_url.as_deref(),
        Some("https://rally.example.com")
    );
    assert_eq!(
        cfg.telegram.webhook_secret.as_deref(),
        Some("s3cr3t-path_1")
    );
    assert_eq!(cfg.telegram.token, None);
    assert_eq!(
        cfg.discord.api_url.as_deref(),
        Some("http://127.0.0.1:9000/api")
    );
    assert_eq!(cfg.discord.guild_ids, vec![123456789012345678, 42]);
    assert_eq!(cfg.http.listen.to_string(), "0.0.0.0:9090");
    assert_eq!(
        cfg.admins,
        vec![
            AdminId {
                platform: AdminPlatform::Telegram,
                id: 1001
            },
            AdminId {
                platform: AdminPlatform::Discord,
                id: 2002
            },
        ]
    );
    assert_eq!(
        cfg.kudos,
        KudosConfig {
            daily: 3,
            cooldown_minutes: 120
        }
    );
    assert_eq!(cfg.deals.protection_days, 30);
}

#[test]
fn unknown_key_at_top_level_names_key_and_line() {
    let msg = errors("[program]\nname = \"x\"\n\n[databse]\nurl = \"sqlite://x.db\"\n");
    assert!(msg.contains("rally.toml:4:"), "{msg}");
    assert!(msg.contains("`databse`"), "{msg}");
    assert!(msg.contains("unknown key"), "{msg}");
    assert!(msg.contains("did you mean `database`?"), "{msg}");

    let msg = errors("colour = \"blue\"\n");
    assert!(
        msg.starts_with("rally.toml:1: `colour`: unknown key"),
        "{msg}"
    );
}

#[test]
fn unknown_key_nested_names_dotted_key_and_line() {
    let text = "# comment\n[program]\nname = \"Rally\"\n\n\n# the currency\ncurency = \"USD\"\n";
    let msg = errors(text);
    assert_eq!(
        msg,
        "rally.toml:7: `program.curency`: unknown key (expected one of: name, currency, \
         timezone, default_locale, period, rank_pending, auto_approve_below, rates, \
         invite_ttl_hours); did you mean `currency`?"
    );

    let msg = errors("[kudos]\ndaily = 1\n[kudos.extra]\nx = 1\n");
    assert!(
        msg.contains("rally.toml:3: `kudos.extra`: unknown key"),
        "{msg}"
    );

    let msg = errors("[[admins]]\nplatform = \"telegram\"\nid = 1\nrole = \"x\"\n");
    assert!(
        msg.contains("rally.toml:4: `admins[0].role`: unknown key"),
        "{msg}"
    );
}

#[test]
fn bad_timezone_names_key_and_line() {
    let err = parse("[program]\nname = \"x\"\ntimezone = \"Asia/Shangai\"\n").unwrap_err();
    let issues = err.issues();
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].key, "program.timezone");
    assert_eq!(
        issues[0].origin,
        IssueOrigin::File {
            name: "rally.toml".into(),
            line: 3
        }
    );
    let msg = err.to_string();
    assert!(
        msg.starts_with(
            "rally.toml:3: `program.timezone`: expected an IANA time zone such as \"Asia/Shanghai\", \"Europe/Berlin\" or \"UTC\", found \"Asia/Shangai\""
        ),
        "{msg}"
    );
}

#[test]
fn floats_read_exactly_from_their_text() {
    let cfg = parse(
        "[program]\nauto_approve_below = 999.99\n[program.rates]\nUSD = 7.1\nJPY = 0.047_123_456_789\nEUR = 7.7e0\n",
    )
    .expect("floats are read from their source text");
    assert_eq!(cfg.program.auto_approve_below, Some(dec("999.99")));
    assert_eq!(cfg.program.rates[&Currency::USD].to_string(), "7.1");
    assert_eq!(
        cfg.program.rates[&Currency::JPY],
        dec("0.047123456789"),
        "no binary floating point in between"
    );
    assert_eq!(cfg.program.rates[&Currency::EUR], dec("7.7"));

    let msg = errors("[program.rates]\nUSD = inf\n");
    assert!(msg.contains("rally.toml:2: `program.rates.USD`"), "{msg}");
    assert!(msg.contains("such as 7.1 or \"7.1\", found inf"), "{msg}");
    let msg = errors("[program]\nauto_approve_below = -1.5\n");
    assert!(msg.contains("expected a number greater than 0"), "{msg}");
}

#[test]
fn string_rate_read_exactly() {
    let cfg = parse("[program.rates]\nUSD = \"7.1\"\nEUR = 8\nJPY = \"0.047123456789\"\n")
        .expect("valid rates");
    let usd = cfg.program.rates[&Currency::USD];
    assert_eq!(usd, Decimal::new(71, 1));
    assert_eq!(usd.to_string(), "7.1");
    assert_eq!(cfg.program.rates[&Currency::EUR], Decimal::from(8));
    assert_eq!(
        cfg.program.rates[&Currency::JPY].to_string(),
        "0.047123456789"
    );
}

#[test]
fn bad_rates_rejected() {
    let msg = errors(
        "[program]\ncurrency = \"CNY\"\n[program.rates]\nCNY = \"1\"\nUSD = \"0\"\nUSDX = \"7\"\nEUR = \"abc\"\n",
    );
    assert!(
        msg.contains("rally.toml:4: `program.rates.CNY`: CNY is the program currency (line 2)"),
        "{msg}"
    );
    assert!(
        msg.contains("rally.toml:5: `program.rates.USD`: expected a number greater than 0"),
        "{msg}"
    );
    assert!(msg.contains("rally.toml:6: `program.rates.USDX`"), "{msg}");
    assert!(
        msg.contains("rally.toml:7: `program.rates.EUR`: expected a number greater than 0, such as 7.1 or \"7.1\", found \"abc\""),
        "{msg}"
    );

    let msg = errors("[program.rates]\nusd = \"7\"\nUSD = \"7.1\"\n");
    assert!(msg.contains("given twice"), "{msg}");
    let msg = errors("[program.rates]\nCNY = \"1\"\n");
    assert!(msg.contains("(the default)"), "{msg}");
}

#[test]
fn auto_approve_below_forms() {
    for (text, want) in [
        ("5000", "5000"),
        ("\"5000\"", "5000"),
        ("\" 12.50 \"", "12.50"),
    ] {
        let cfg = parse(&format!("[program]\nauto_approve_below = {text}\n")).expect(text);
        assert_eq!(cfg.program.auto_approve_below, Some(dec(want)));
    }
    let msg = errors("[program]\nauto_approve_below = 0\n");
    assert!(msg.contains("expected a number greater than 0"), "{msg}");
    let msg = errors("[program]\nauto_approve_below = \"-5\"\n");
    assert!(msg.contains("expected a number greater than 0"), "{msg}");
}

#[test]
fn secret_in_file_rejected() {
    let err = parse("[telegram]\nmode = \"polling\"\ntoken = \"123:ABC\"\n").unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("rally.toml:3: `telegram.token`"), "{msg}");
    assert!(
        msg.contains("secrets come only from the environment: set TELEGRAM_BOT_TOKEN"),
        "{msg}"
    );
    assert!(
        !msg.contains("123:ABC"),
        "the secret itself must not be echoed: {msg}"
    );

    let msg = errors("[discord]\ntoken = \"x\"\n");
    assert!(msg.contains("set DISCORD_TOKEN"), "{msg}");
    let msg = errors("[telegram]\nwebhook_secret = \"x\"\n");
    assert!(msg.contains("set RALLY_TELEGRAM_WEBHOOK_SECRET"), "{msg}");
}

#[test]
fn env_overrides_file() {
    let text = "[database]\nurl = \"sqlite://file.db\"\n[http]\nlisten = \"127.0.0.1:1\"\n[telegram]\napi_url = \"http://file/\"\n";
    let env = env_of(&[
        ("RALLY_DATABASE_URL", "postgresql://u@h/db"),
        ("TELEGRAM_BOT_TOKEN", " 123:ABC\n"),
        ("RALLY_TELEGRAM_API_URL", "http://127.0.0.1:5000/"),
        ("DISCORD_TOKEN", "disc.tok"),
        ("RALLY_DISCORD_API_URL", "http://127.0.0.1:6000/api/"),
        ("RALLY_HTTP_LISTEN", "[::1]:8181"),
        ("RALLY_LOG", "rally=debug"),
        ("RALLY_ADMINS", ""),
    ]);
    let cfg = from_toml_str(text, "rally.toml", &env).expect("valid");
    assert_eq!(cfg.database.url, "postgresql://u@h/db");
    assert_eq!(cfg.telegram.token.as_deref(), Some("123:ABC"));
    assert_eq!(
        cfg.telegram.api_url.as_deref(),
        Some("http://127.0.0.1:5000")
    );
    assert_eq!(cfg.discord.token.as_deref(), Some("disc.tok"));
    assert_eq!(cfg.discord.api_base(), "http://127.0.0.1:6000/api");
    assert_eq!(cfg.http.listen.to_string(), "[::1]:8181");
    assert_eq!(cfg.log.as_deref(), Some("rally=debug"));
    assert!(cfg.admins.is_empty());
}

#[test]
fn invalid_env_values_name_the_variable() {
    let env = env_of(&[
        ("RALLY_HTTP_LISTEN", "localhost:80"),
        ("RALLY_DATABASE_URL", "mysql://u:pw@h/db"),
        ("RALLY_TELEGRAM_API_URL", "ftp://x"),
    ]);
    let err = from_toml_str("", "rally.toml", &env).unwrap_err();
    let msg = err.to_string();
    assert_eq!(err.issues().len(), 3, "{msg}");
    assert!(
        msg.contains(
            "environment variable RALLY_HTTP_LISTEN: expected an address IP:port such as 127.0.0.1:8080 or [::]:8080, found \"localhost:80\""
        ),
        "{msg}"
    );
    assert!(msg.contains("environment variable RALLY_DATABASE_URL: expected a database URL: sqlite://path or postgres://user@host/db, found \"mysql://u:***@h/db\""), "{msg}");
    assert!(!msg.contains("pw"), "{msg}");
    assert!(
        msg.contains("environment variable RALLY_TELEGRAM_API_URL"),
        "{msg}"
    );
}

#[test]
fn rally_admins_parsing() {
    let text = "[[admins]]\nplatform = \"telegram\"\nid = 1\n";
    let env = env_of(&[("RALLY_ADMINS", "telegram:1, discord:2,,TELEGRAM:3 ")]);
    let cfg = from_toml_str(text, "rally.toml", &env).expect("valid");
    let got: Vec<String> = cfg.admins.iter().map(AdminId::to_string).collect();
    assert_eq!(got, ["telegram:1", "discord:2", "telegram:3"]);

    for bad in [
        "telegram:abc",
        "slack:1",
        "telegram",
        "discord:-2",
        "telegram:0",
    ] {
        let env = env_of(&[("RALLY_ADMINS", bad)]);
        let msg = from_toml_str("", "rally.toml", &env)
            .unwrap_err()
            .to_string();
        assert!(
            msg.starts_with("environment variable RALLY_ADMINS: expected a comma list like telegram:123,discord:456, found"),
            "{bad}: {msg}"
        );
        assert!(msg.contains(bad), "{msg}");
    }
}

#[test]
fn bad_admin_entries_in_file() {
    let msg = errors("[[admins]]\nplatform = \"slack\"\nid = \"1\"\n\n[[admins]]\nid = \"x1\"\n");
    assert!(
        msg.contains(
            "rally.toml:2: `admins[0].platform`: expected \"telegram\" or \"discord\", found \"slack\""
        ),
        "{msg}"
    );
    assert!(
        msg.contains("rally.toml:5: `admins[1].platform`: missing; required here: platform, id"),
        "{msg}"
    );
    assert!(msg.contains("rally.toml:6: `admins[1].id`"), "{msg}");
    let msg = errors("[admins]\nplatform = \"telegram\"\n");
    assert!(
        msg.contains("rally.toml:1: `admins`: expected an array, found table"),
        "{msg}"
    );
}

#[test]
fn rally_config_pointing_to_missing_file_is_an_error() {
    let env = env_of(&[("RALLY_CONFIG", "/nonexistent/rally-test/missing.toml")]);
    let err = load(None, &env).unwrap_err();
    assert!(matches!(
        err,
        ConfigError::NotFound {
            origin: "RALLY_CONFIG",
            ..
        }
    ));
    let msg = err.to_string();
    assert!(
        msg.contains("/nonexistent/rally-test/missing.toml"),
        "{msg}"
    );
    assert!(msg.contains("RALLY_CONFIG"), "{msg}");

    let err = load(Some(Path::new("/nonexistent/x.toml")), &no_env).unwrap_err();
    assert!(matches!(
        err,
        ConfigError::NotFound {
            origin: "--config",
            ..
        }
    ));
}

#[test]
fn load_reads_explicit_and_env_paths() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("conf.toml");
    std::fs::write(&path, "[program]\nname = \"From File\"\n\ncurency = 1\n").expect("write");
    let err = load(Some(&path), &no_env).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!("{}:4: `program.curency`", path.display())),
        "{msg}"
    );

    std::fs::write(&path, "[program]\nname = \"From File\"\n").expect("write");
    let path_text = path.display().to_string();
    let env = env_of(&[("RALLY_CONFIG", path_text.as_str())]);
    let cfg = load(None, &env).expect("valid");
    assert_eq!(cfg.program.name, "From File");
    assert_eq!(cfg.source.as_deref(), Some(path_text.as_str()));
}

#[test]
fn describe_hides_secrets() {
    let env = env_of(&[
        ("TELEGRAM_BOT_TOKEN", "123456:SUPERSECRET"),
        ("RALLY_TELEGRAM_WEBHOOK_SECRET", "hooksecret"),
        ("RALLY_DATABASE_URL", "postgres://rally:dbpassword@db/rally"),
        ("RALLY_ADMINS", "telegram:7"),
    ]);
    let text = "[telegram]\nmode = \"webhook\"\nwebhook_url = \"https://r.example\"\n[program.rates]\nUSD = \"7.1\"\n";
    let cfg = from_toml_str(text, "rally.toml", &env).expect("valid");
    let out = cfg.describe();
    for secret in ["SUPERSECRET", "hooksecret", "dbpassword"] {
        assert!(!out.contains(secret), "{secret} leaked:\n{out}");
    }
    assert!(out.contains("telegram: enabled (token set)"), "{out}");
    assert!(out.contains("webhook secret: set"), "{out}");
    assert!(out.contains("discord: disabled (token not set)"), "{out}");
    assert!(out.contains("postgres://rally:***@db/rally"), "{out}");
    assert!(out.contains("1 USD = 7.1 CNY"), "{out}");
    assert!(out.contains("admins: telegram:7"), "{out}");
    let debug = format!("{cfg:?}");
    for secret in ["SUPERSECRET", "hooksecret", "dbpassword"] {
        assert!(
            !debug.contains(secret),
            "{secret} leaked in Debug:\n{debug}"
        );
    }
}

#[test]
fn unsupported_sections_are_reported() {
    let msg = errors(
        "[program]\nname = \"x\"\n\n[[contests]]\nname = \"Q1\"\n\n[[jobs]]\nx = 1\n[[trainings]]\n",
    );
    // `[[contests]]` is supported now: this one lacks its required keys.
    assert!(
        msg.contains(
            "rally.toml:4: `contests[0].id`: missing; required here: id, name, metric, start, end"
        ),
        "{msg}"
    );
    // `[[trainings]]` is supported too: an empty entry names what it lacks.
    assert!(
        msg.contains("rally.toml:9: `trainings[0].id`: missing; required here"),
        "{msg}"
    );
    // `[jobs]` is a table now (with `[[jobs.run]]` entries): an array there is a wrong shape.
    assert!(
        msg.contains("rally.toml:7: `jobs[0]`: expected a table, found array"),
        "{msg}"
    );
}

#[test]
fn builtin_jobs_are_added_unless_replaced_or_turned_off() {
    let none = from_toml_str("", "rally.toml", &|_: &str| None).expect("defaults");
    let names: Vec<(&str, &str)> = none
        .jobs
        .run
        .iter()
        .map(|j| (j.name.as_str(), j.schedule.expression()))
        .collect();
    assert_eq!(
        names,
        [
            ("weekly_digest", "0 0 8 * * Mon"),
            ("nudges", "0 0 10 * * Mon")
        ]
    );
    // A job with the same action replaces the built-in one (here: the digest on Fridays).
    let moved = "[[jobs.run]]\nname = \"digest\"\nschedule = \"0 0 17 * * Fri\"\n\
        action = \"weekly_digest\"\n";
    let cfg = from_toml_str(moved, "rally.toml", &|_: &str| None).expect("valid");
    let names: Vec<&str> = cfg.jobs.run.iter().map(|j| j.name.as_str()).collect();
    assert_eq!(names, ["digest", "nudges"]);
    let off =
        from_toml_str("[jobs]\nbuiltin = false\n", "rally.toml", &|_: &str| None).expect("valid");
    assert!(off.jobs.run.is_empty());
}

#[test]
fn jobs_are_read_and_bad_ones_named_by_line() {
    let good = "[jobs]\ncatch_up_hours = 2\n\n[[jobs.run]]\nname = \"monday-push\"\n\
        schedule = \"0 0 9 * * Mon\"\naction = \"announce\"\ntext = \"New week! /rank\"\n\
        filters = { region = \"East\", kind = \"dealer\" }\n\n[[jobs.run]]\nname = \"tiers\"\n\
        schedule = \"0 0 6 1 * *\"\naction = \"tier_recompute\"\nto = \"all\"\n";
    let cfg = from_toml_str(good, "rally.toml", &|_: &str| None).expect("valid jobs");
    assert_eq!(cfg.jobs.catch_up_hours, 2);
    // The two configured jobs, then the built-in ones.
    let names: Vec<&str> = cfg.jobs.run.iter().map(|j| j.name.as_str()).collect();
    assert_eq!(names, ["monday-push", "tiers", "weekly_digest", "nudges"]);
    let push = &cfg.jobs.run[0];
    assert_eq!(push.schedule.expression(), "0 0 9 * * Mon");
    assert_eq!(push.action, JobAction::Announce);
    assert_eq!(push.filters.region.as_deref(), Some("East"));
    assert_eq!(push.filters.kind, Some(PartnerKind::Dealer));
    assert_eq!(push.to, Recipients::Chats);
    assert_eq!(cfg.jobs.run[1].to, Recipients::All);
    assert!(
        cfg.describe()
            .contains("monday-push \"0 0 9 * * Mon\" announce to chats")
    );

    let bad = "[[jobs.run]]\nname = \"a\"\nschedule = \"every monday\"\naction = \"announce\"\n\
        text = \"x\"\n[[jobs.run]]\nname = \"a\"\nschedule = \"0 0 9 * * *\"\naction = \"shout\"\n\
        [[jobs.run]]\nname = \"b\"\nschedule = \"0 0 9 * * *\"\naction = \"announce\"\n\
        [[jobs.run]]\nname = \"a\"\nschedule = \"0 0 9 * * *\"\naction = \"close_reminder\"\n";
    let msg = errors(bad);
    assert!(
        msg.contains("rally.toml:3: `jobs.run[0].schedule`: expected a cron expression"),
        "{msg}"
    );
    assert!(
        msg.contains("rally.toml:9: `jobs.run[1].action`: expected \"announce\""),
        "{msg}"
    );
    assert!(
        msg.contains("`jobs.run[2].action`: an announce job needs `text`"),
        "{msg}"
    );
    assert!(
        msg.contains("rally.toml:15: `jobs.run[3].name`: a job named \"a\" is already defined"),
        "{msg}"
    );
}

#[test]
fn all_problems_reported_in_line_order() {
    let text = "[program]\ntimezone = \"Nowhere\"\ncurrency = \"US\"\n[http]\nlisten = \"nope\"\n[kudos]\ndaily = -1\n";
    let err = parse(text).unwrap_err();
    let lines: Vec<usize> = err
        .issues()
        .iter()
        .map(|i| match i.origin {
            IssueOrigin::File { line, .. } => line,
            IssueOrigin::Env { .. } => 0,
        })
        .collect();
    assert_eq!(lines, [2, 3, 5, 7], "{err}");
    assert_eq!(err.to_string().lines().count(), 4);
}

#[test]
fn syntax_errors_carry_the_line() {
    let msg = errors("[program]\nname = \"x\"\ncurrency = \n");
    assert!(msg.starts_with("rally.toml:3: invalid TOML:"), "{msg}");
}

#[test]
fn type_and_value_errors() {
    let msg = errors("program = 5\n");
    assert!(
        msg.contains("rally.toml:1: `program`: expected a table, found integer"),
        "{msg}"
    );
    let msg = errors("[program]\nrank_pending = \"yes\"\n");
    assert!(
        msg.contains("`program.rank_pending`: expected true or false, found \"yes\""),
        "{msg}"
    );
    let msg = errors("[program]\nperiod = \"week\"\n");
    assert!(
        msg.contains("expected \"month\", \"quarter\" or \"year\", found \"week\""),
        "{msg}"
    );
    let msg = errors("[program]\ndefault_locale = \"fr\"\n");
    assert!(
        msg.contains("expected \"en\" or \"zh-CN\", found \"fr\""),
        "{msg}"
    );
    let msg = errors("[program]\ninvite_ttl_hours = 0\n");
    assert!(
        msg.contains(
            "`program.invite_ttl_hours`: expected a whole number from 1 to 4294967295, found 0"
        ),
        "{msg}"
    );
    let msg = errors("[database]\nurl = \"mysql://x\"\n");
    assert!(
        msg.contains("rally.toml:2: `database.url`: expected a database URL"),
        "{msg}"
    );
    let msg = errors("[telegram]\nmode = \"push\"\n");
    assert!(
        msg.contains("expected \"polling\" or \"webhook\", found \"push\""),
        "{msg}"
    );
    let msg = errors("[discord]\nguild_ids = 5\n");
    assert!(
        msg.contains("`discord.guild_ids`: expected an array, found integer"),
        "{msg}"
    );
    let msg = errors("log = \"debug\"\n");
    assert!(msg.contains("set RALLY_LOG"), "{msg}");
}

#[test]
fn webhook_mode_needs_url_and_secret() {
    let msg = errors("[telegram]\nmode = \"webhook\"\n");
    assert!(
        msg.contains("rally.toml:2: `telegram.mode`: webhook mode needs `telegram.webhook_url`"),
        "{msg}"
    );
    assert!(msg.contains("set RALLY_TELEGRAM_WEBHOOK_SECRET"), "{msg}");
    let env = env_of(&[("RALLY_TELEGRAM_WEBHOOK_SECRET", "has space")]);
    let err = from_toml_str("", "rally.toml", &env).unwrap_err();
    assert!(
        err.to_string()
            .contains("environment variable RALLY_TELEGRAM_WEBHOOK_SECRET")
    );
}

#[test]
fn locale_tags() {
    for t in ["zh", "zh-CN", "zh-cn", "zh-Hans", "zh_CN", "ZH-hans-cn"] {
        assert_eq!(Locale::from_tag(t), Some(Locale::ZhCn), "{t}");
    }
    for t in ["en", "en-US", "EN_gb"] {
        assert_eq!(Locale::from_tag(t), Some(Locale::En), "{t}");
    }
    for t in ["", "fr", "zh-TW", "english"] {
        assert_eq!(Locale::from_tag(t), None, "{t}");
    }
    assert_eq!(Locale::ZhCn.tag(), "zh-CN");
    assert_eq!(Locale::En.to_string(), "en");
    assert_eq!(Locale::from_platform_code("zh-hans"), Locale::ZhCn);
    assert_eq!(Locale::from_platform_code("zh-TW"), Locale::ZhCn);
    assert_eq!(Locale::from_platform_code("de"), Locale::En);
    assert_eq!(Locale::from_platform_code(""), Locale::En);
}

#[test]
fn url_redaction() {
    assert_eq!(
        redact_url("postgres://u:p@h:5432/db?x=1"),
        "postgres://u:***@h:5432/db?x=1"
    );
    assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
    assert_eq!(redact_url("sqlite://rally.db"), "sqlite://rally.db");
    assert_eq!(redact_url("sqlite:rally.db"), "sqlite:rally.db");
}

/// The README's plan example, verbatim (comments included).
const ISSUE_EXAMPLE: &str = r#"[program]
currency = "CNY"
timezone = "Asia/Shanghai"
[program.rates]            # program-currency units per 1 unit of a foreign currency
USD = "7.1"                # strings or numbers; read exactly, never through floating point

[[tiers]]                  # highest tier whose conditions are all met
name = "Gold"
min_trailing_sales = 1000000   # approved sales over the trailing 12 months
requires = ["sales-basics"]    # certifications (completed trainings)

[[plans]]
id = "standard"
version = 1
effective_from = "2026-01-01"  # the version in force at the period's start applies
mode = "marginal"              # or "whole"
target = 150000                # period target, unless set for the partner
brackets = [ { from = 0, rate = 3 }, { from = 100000, rate = 5 }, { from = 300000, rate = 8 } ]
category_rates = { software = 10 }
accelerator = { above_attainment = 100, multiplier = 1.5 }
cap = 30000
bonuses = [ { attainment = 100, amount = 2000 }, { attainment = 120, amount = 5000 } ]
volume_rebate = { threshold = 200000, rate = 1 }
growth_rebate = { rate = 2 }
assign = { region = "East" }   # or kind / tier / partner; none = the default plan
"#;

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date")
}

/// A `[[plans]]` entry with id, version and date on lines 2–4; `rest` starts on line 5.
fn plan_with(rest: &str) -> String {
    format!("[[plans]]\nid = \"p\"\nversion = 1\neffective_from = \"2026-01-01\"\n{rest}")
}

#[test]
fn issue_example_parses_exactly() {
    let cfg = parse(ISSUE_EXAMPLE).expect("the issue's example is valid");
    assert_eq!(cfg.program.currency, Currency::CNY);
    assert_eq!(cfg.program.rates[&Currency::USD], dec("7.1"));
    assert_eq!(
        cfg.tiers,
        vec![TierRule {
            name: "Gold".into(),
            min_trailing_sales: dec("1000000"),
            requires: vec!["sales-basics".into()],
        }]
    );
    let bracket = |from: &str, rate: &str| Bracket {
        from: dec(from),
        rate: dec(rate),
    };
    let expected = Plan {
        id: "standard".into(),
        version: 1,
        effective_from: date("2026-01-01"),
        mode: PlanMode::Marginal,
        target: Some(dec("150000")),
        brackets: vec![
            bracket("0", "3"),
            bracket("100000", "5"),
            bracket("300000", "8"),
        ],
        category_rates: BTreeMap::from([("software".to_owned(), dec("10"))]),
        accelerator: Some(Accelerator {
            above_attainment: dec("100"),
            multiplier: dec("1.5"),
        }),
        cap: Some(dec("30000")),
        bonuses: vec![
            BonusStep {
                attainment: dec("100"),
                amount: dec("2000"),
            },
            BonusStep {
                attainment: dec("120"),
                amount: dec("5000"),
            },
        ],
        volume_rebate: Some(VolumeRebate {
            threshold: dec("200000"),
            rate: dec("1"),
        }),
        growth_rebate: Some(GrowthRebate { rate: dec("2") }),
        assign: Assignment::Region("East".into()),
    };
    assert_eq!(cfg.plans, vec![expected]);
    // `multiplier = 1.5` is a TOML float, read from its text: exactly 1.5.
    let acc = cfg.plans[0].accelerator.as_ref().expect("accelerator");
    assert_eq!(acc.multiplier.to_string(), "1.5");
    assert_eq!(cfg.allocation, default_allocation());

    let out = cfg.describe();
    assert!(
        out.contains("  standard v1, in force from 2026-01-01, marginal, for region East\n"),
        "{out}"
    );
    assert!(
        out.contains("    brackets: 3% from ¥0.00, 5% from ¥100,000.00, 8% from ¥300,000.00"),
        "{out}"
    );
    assert!(
        out.contains(
            "  Gold: trailing 12-month sales of at least ¥1,000,000.00; requires sales-basics"
        ),
        "{out}"
    );
    assert!(
        !out.contains("cliff"),
        "marginal plans have no cliffs: {out}"
    );
}

#[test]
fn plan_forms_and_defaults() {
    let text = plan_with(
        "[[plans.brackets]]\nfrom = \"0\"\nrate = 3.3\n[[plans.brackets]]\nfrom = 1_000\nrate = \"4.25\"\n[plans.assign]\npartner = 42\n\n[[plans]]\nid = \"q\"\nversion = 2\neffective_from = 2026-04-01\nmode = \"WHOLE\"\nbrackets = [{ from = 0, rate = 0 }]\nassign = { tier = \" Gold \" }\n",
    );
    let cfg = parse(&text).expect("valid");
    let [p, q] = &cfg.plans[..] else {
        panic!("two plans: {:?}", cfg.plans)
    };
    assert_eq!(p.mode, PlanMode::Marginal, "the default mode");
    assert_eq!(p.brackets[0].rate, dec("3.3"));
    assert_eq!(p.brackets[1].from, dec("1000"));
    assert_eq!(p.brackets[1].rate, dec("4.25"));
    assert_eq!(p.assign, Assignment::Partner("42".into()));
    assert_eq!(
        (p.target, p.cap, p.accelerator.as_ref()),
        (None, None, None)
    );
    assert!(p.bonuses.is_empty() && p.category_rates.is_empty());
    assert_eq!(q.effective_from, date("2026-04-01"));
    assert_eq!(q.mode, PlanMode::Whole);
    assert_eq!(q.assign, Assignment::Tier("Gold".into()));

    let cfg = parse(&plan_with("brackets = [{ from = 0, rate = 1 }]\n")).expect("valid");
    assert_eq!(cfg.plans[0].assign, Assignment::Default);
}

#[test]
fn unordered_brackets_name_the_key_and_line() {
    let msg = errors(&plan_with(
        "brackets = [\n  { from = 0, rate = 3 },\n  { from = 0, rate = 5 },\n]\n",
    ));
    assert_eq!(
        msg,
        "rally.toml:7: `plans[0].brackets[1].from`: brackets must be in strictly increasing \
         order: 0 does not come after 0"
    );

    let msg = errors(&plan_with(
        "brackets = [ { from = 0, rate = 3 }, { from = 300000, rate = 5 }, { from = 100000, rate = 8 } ]\n",
    ));
    assert!(
        msg.starts_with("rally.toml:5: `plans[0].brackets[2].from`: brackets must be in"),
        "{msg}"
    );

    // The array-of-tables form: each key on its own line.
    let msg = errors(&plan_with(
        "[[plans.brackets]]\nfrom = 100\nrate = 3\n[[plans.brackets]]\nfrom = 50\nrate = 4\n",
    ));
    assert!(
        msg.contains(
            "rally.toml:6: `plans[0].brackets[0].from`: the first bracket must start at 0, not 100"
        ),
        "{msg}"
    );
    assert!(
        msg.contains("rally.toml:9: `plans[0].brackets[1].from`: brackets must be in"),
        "{msg}"
    );
}

#[test]
fn rates_outside_0_to_100_are_errors() {
    let msg = errors(&plan_with(
        "brackets = [ { from = 0, rate = 120 } ]\ncategory_rates = { software = \"-1\" }\nvolume_rebate = { threshold = 1, rate = 100.5 }\ngrowth_rebate = { rate = 101 }\n",
    ));
    let lines: Vec<&str> = msg.lines().collect();
    assert_eq!(
        lines,
        [
            "rally.toml:5: `plans[0].brackets[0].rate`: a rate is a percentage from 0 to 100, not 120",
            "rally.toml:6: `plans[0].category_rates.software`: a rate is a percentage from 0 to 100, not -1",
            "rally.toml:7: `plans[0].volume_rebate.rate`: a rate is a percentage from 0 to 100, not 100.5",
            "rally.toml:8: `plans[0].growth_rebate.rate`: a rate is a percentage from 0 to 100, not 101",
        ]
    );
    // Boundaries are allowed.
    parse(&plan_with(
        "brackets = [ { from = 0, rate = 0 }, { from = 1, rate = 100 } ]\n",
    ))
    .expect("0 and 100 are rates");
}

#[test]
fn unknown_and_missing_keys_inside_a_plan() {
    let msg = errors(&plan_with(
        "brackets = [\n  { from = 0, rate = 3 },\n  { from = 100, rate = 5, upto = 200 },\n]\naccelerator = { above = 100, multiplier = 1.5 }\ncolour = 1\n",
    ));
    assert!(
        msg.contains(
            "rally.toml:7: `plans[0].brackets[1].upto`: unknown key (expected one of: from, rate)"
        ),
        "{msg}"
    );
    assert!(
        msg.contains("rally.toml:9: `plans[0].accelerator.above`: unknown key"),
        "{msg}"
    );
    assert!(
        msg.contains(
            "rally.toml:9: `plans[0].accelerator.above_attainment`: missing; required here"
        ),
        "{msg}"
    );
    assert!(
        msg.contains("rally.toml:10: `plans[0].colour`: unknown key"),
        "{msg}"
    );
    assert_eq!(msg.lines().count(), 4, "{msg}");

    // A bracket that cannot be read does not also produce order or "start at 0" noise.
    let msg = errors(&plan_with(
        "brackets = [ { rate = 3 }, { from = \"x\", rate = 5 } ]\nbonuses = 5\n",
    ));
    let lines: Vec<&str> = msg.lines().collect();
    assert_eq!(
        lines,
        [
            "rally.toml:5: `plans[0].brackets[0].from`: missing; required here: from, rate",
            "rally.toml:5: `plans[0].brackets[1].from`: expected a number such as 7.1 or \"7.1\", found \"x\"",
            "rally.toml:6: `plans[0].bonuses`: expected an array, found integer",
        ]
    );

    let msg = errors("[[plans]]\nid = \"p\"\n");
    assert!(
        msg.contains("rally.toml:1: `plans[0].version`: missing; required here"),
        "{msg}"
    );
    assert!(msg.contains("`plans[0].effective_from`: missing"), "{msg}");
    assert!(
        msg.contains("rally.toml:1: `plans[0].brackets`: at least one bracket is required"),
        "{msg}"
    );

    let msg = errors("[plans]\nid = \"p\"\n");
    assert!(
        msg.contains("rally.toml:1: `plans`: expected an array, found table"),
        "{msg}"
    );
    let msg = errors(&plan_with(
        "mode = \"flat\"\nbrackets = [{ from = 0, rate = 1 }]\n",
    ));
    assert!(
        msg.contains(
            "rally.toml:5: `plans[0].mode`: expected \"marginal\" or \"whole\", found \"flat\""
        ),
        "{msg}"
    );
    let msg = errors(
        "[[plans]]\nid = \"p\"\nversion = 0\neffective_from = \"2026-13-01\"\nbrackets = [{ from = 0, rate = 1 }]\n",
    );
    assert!(msg.contains("rally.toml:3: `plans[0].version`"), "{msg}");
    assert!(
        msg.contains(
            "rally.toml:4: `plans[0].effective_from`: expected a date like \"2026-01-01\""
        ),
        "{msg}"
    );
}

#[test]
fn assignment_errors() {
    let msg = errors(&plan_with(
        "brackets = [ { from = 0, rate = 3 } ]\nassign = { colour = \"x\" }\n",
    ));
    assert_eq!(
        msg,
        "rally.toml:6: `plans[0].assign.colour`: unknown key (expected one of: region, kind, \
         tier, partner)"
    );

    let msg = errors(&plan_with(
        "brackets = [ { from = 0, rate = 3 } ]\n[plans.assign]\nregion = \"East\"\nkind = \"dealer\"\n",
    ));
    assert_eq!(
        msg,
        "rally.toml:8: `plans[0].assign.kind`: a plan is assigned by one key only and \
         `region` is already given (line 7); use another [[plans]] entry for another group"
    );

    let msg = errors(&plan_with(
        "brackets = [ { from = 0, rate = 3 } ]\nassign = { regoin = \"East\" }\n",
    ));
    assert!(msg.contains("did you mean `region`?"), "{msg}");
    let msg = errors(&plan_with(
        "brackets = [ { from = 0, rate = 3 } ]\nassign = {}\n",
    ));
    assert!(
        msg.contains("rally.toml:6: `plans[0].assign`: empty assignment"),
        "{msg}"
    );
    let msg = errors(&plan_with(
        "brackets = [ { from = 0, rate = 3 } ]\nassign = { region = \" \" }\n",
    ));
    assert!(
        msg.contains("rally.toml:6: `plans[0].assign.region`: expected a non-empty string"),
        "{msg}"
    );
    let msg = errors(&plan_with(
        "brackets = [ { from = 0, rate = 3 } ]\nassign = \"East\"\n",
    ));
    assert!(
        msg.contains("rally.toml:6: `plans[0].assign`: expected a table, found string"),
        "{msg}"
    );
}

#[test]
fn plan_versions_are_checked_across_entries() {
    let entry = |version: u32, from: &str| {
        format!(
            "[[plans]]\nid = \"p\"\nversion = {version}\neffective_from = \"{from}\"\nbrackets = [{{ from = 0, rate = 1 }}]\n"
        )
    };
    let twice = format!("{}{}", entry(1, "2026-01-01"), entry(1, "2026-04-01"));
    let msg = errors(&twice);
    assert_eq!(
        msg,
        "rally.toml:8: `plans[1].version`: plan p version 1 is defined twice"
    );
    let backwards = format!("{}{}", entry(1, "2026-04-01"), entry(2, "2026-01-01"));
    let msg = errors(&backwards);
    assert!(
        msg.starts_with("rally.toml:9: `plans[1].effective_from`: plan p: versions 1 and 2"),
        "{msg}"
    );
    let good = format!("{}{}", entry(1, "2026-01-01"), entry(2, "2026-04-01"));
    assert_eq!(parse(&good).expect("valid").plans.len(), 2);
}

#[test]
fn whole_mode_cliffs_are_described() {
    let text = format!(
        "[program]\ncurrency = \"CNY\"\n{}",
        plan_with(
            "mode = \"whole\"\nbrackets = [ { from = 0, rate = 4 }, { from = 150000, rate = 6 }, { from = 200000, rate = 6 } ]\n\n[[plans]]\nid = \"cents\"\nversion = 1\neffective_from = \"2026-01-01\"\nmode = \"whole\"\nbrackets = [ { from = 0, rate = 100 }, { from = 10, rate = 50 } ]\n",
        )
    );
    let cfg = parse(&text).expect("valid");
    let out = cfg.describe();
    assert!(
        out.contains("  p v1, in force from 2026-01-01, whole, the default plan\n"),
        "{out}"
    );
    // One minor unit (0.01) below 150,000 earns 4 %: 5,999.9996, shown rounded.
    assert!(
        out.contains("    cliff: at ¥150,000.00 commission jumps from ¥6,000.00 to ¥9,000.00\n"),
        "{out}"
    );
    // Equal rates make no cliff.
    assert!(!out.contains("at ¥200,000.00"), "{out}");
    // The unit is the program currency's minor unit: 9.99 × 100 % below 10.
    assert!(
        out.contains("    cliff: at ¥10.00 commission jumps from ¥9.99 to ¥5.00\n"),
        "{out}"
    );
}

#[test]
fn tiers_parse_and_duplicates_name_the_line() {
    let cfg = parse(
        "[[tiers]]\nname = \"Silver\"\nmin_trailing_sales = \"250000.50\"\n[[tiers]]\nname = \"Gold\"\nmin_trailing_sales = 1000000\nrequires = [\"sales-basics\", \" support \"]\n",
    )
    .expect("valid");
    assert_eq!(
        cfg.tiers,
        vec![
            TierRule {
                name: "Silver".into(),
                min_trailing_sales: dec("250000.50"),
                requires: vec![],
            },
            TierRule {
                name: "Gold".into(),
                min_trailing_sales: dec("1000000"),
                requires: vec!["sales-basics".into(), "support".into()],
            },
        ]
    );

    let msg = errors(
        "[[tiers]]\nname = \"Gold\"\nmin_trailing_sales = 1\n[[tiers]]\nname = \" gold \"\nmin_trailing_sales = -5\nrequires = [\"\"]\nspeed = 1\n",
    );
    let lines: Vec<&str> = msg.lines().collect();
    assert_eq!(
        lines,
        [
            "rally.toml:5: `tiers[1].name`: name \"gold\" is already used by tiers[0] (line 2)",
            "rally.toml:6: `tiers[1].min_trailing_sales`: min_trailing_sales -5 is negative",
            "rally.toml:7: `tiers[1].requires[0]`: expected a non-empty string, found \"\"",
            "rally.toml:8: `tiers[1].speed`: unknown key (expected one of: name, min_trailing_sales, requires)",
        ]
    );

    let msg = errors("[[tiers]]\nmin_trailing_sales = 1\n[[tiers]]\nname = 5\n");
    let lines: Vec<&str> = msg.lines().collect();
    assert_eq!(
        lines,
        [
            "rally.toml:1: `tiers[0].name`: missing; required here: name, min_trailing_sales",
            "rally.toml:3: `tiers[1].min_trailing_sales`: missing; required here: name, min_trailing_sales",
            "rally.toml:4: `tiers[1].name`: expected a non-empty string, found 5",
        ],
        "no \"name is empty\" echo for names that could not be read"
    );
}

#[test]
fn allocation_defaults_and_checks() {
    let cfg = parse("").expect("defaults");
    assert_eq!(
        cfg.allocation,
        AllocationWeights {
            potential: dec("0.3"),
            contribution: dec("0.5"),
            growth: dec("0.2"),
            floor: dec("0"),
            cap: dec("1"),
        }
    );
    assert!(
        cfg.describe().contains(
            "allocation: weights potential 0.3, contribution 0.5, growth 0.2; floor 0, cap 1"
        ),
        "{}",
        cfg.describe()
    );

    let cfg =
        parse("[allocation]\npotential = 0.4\ncontribution = \"0.4\"\nfloor = 0.05\ncap = 0.4\n")
            .expect("valid");
    assert_eq!(
        cfg.allocation,
        AllocationWeights {
            potential: dec("0.4"),
            contribution: dec("0.4"),
            growth: dec("0.2"),
            floor: dec("0.05"),
            cap: dec("0.4"),
        }
    );

    let msg = errors("[allocation]\nfloor = 0.5\ncap = 0.25\n");
    assert_eq!(
        msg,
        "rally.toml:2: `allocation.floor`: the floor 0.5 is above the cap 0.25 (line 3); \
         0 ≤ floor ≤ cap ≤ 1"
    );
    let msg =
        errors("[allocation]\nfloor = 1\ncap = 1\npotential = 0\ncontribution = 0\ngrowth = 0\n");
    assert_eq!(
        msg,
        "rally.toml:1: `allocation`: the weights potential, contribution and growth are all \
         0; at least one must be more than 0"
    );
    let msg = errors("[allocation]\ngrowth = -0.1\ncap = 1.5\nfloor = 2\nbudget = 1\n");
    let lines: Vec<&str> = msg.lines().collect();
    assert_eq!(
        lines,
        [
            "rally.toml:2: `allocation.growth`: must not be negative, not -0.1",
            "rally.toml:3: `allocation.cap`: a fraction of the budget, at most 1 (the whole budget), not 1.5",
            "rally.toml:4: `allocation.floor`: a fraction of the budget, at most 1 (the whole budget), not 2",
            "rally.toml:5: `allocation.budget`: unknown key (expected one of: potential, contribution, growth, floor, cap)",
        ]
    );
    let msg = errors("[allocation]\ncap = 0\n");
    assert!(
        msg.contains("rally.toml:2: `allocation.cap`: must be more than 0"),
        "{msg}"
    );
}

// --- contests (issue 10) -----------------------------------------------------------------------

const CONTEST: &str = r#"
[[contests]]
id = "q4-growth"
name = "Q4 Growth Cup"
name_zh = "第四季度增长杯"
metric = "growth_rate"
start = "2026-10-01"
end = "2026-12-31"
scope = { region = "East" }
handicap = true
targets = { "王氏电子" = 300000 }
min_sales = 10000
prizes = [ { rank = 1, amount = 5000 }, { rank = 2, amount = 2000 }, { rank = 3, reward = "Demo kit" } ]
updates = "0 0 18 * * Fri"
chats = "all"
"#;

#[test]
fn contests_in_the_issue_shape() {
    use crate::engine::contest::{Award, ContestChats, GrowthBase, Metric, Prize, Scope};
    let cfg = parse(CONTEST).expect("the issue's example loads");
    let c = &cfg.contests[0];
    assert_eq!(c.id, "q4-growth");
    assert_eq!(c.name_zh.as_deref(), Some("第四季度增长杯"));
    assert_eq!(c.metric, Metric::GrowthRate);
    assert_eq!(c.start, NaiveDate::from_ymd_opt(2026, 10, 1).expect("date"));
    assert_eq!(c.scope, Scope::Region("East".into()));
    assert!(c.handicap);
    assert_eq!(c.targets.get("王氏电子"), Some(&dec("300000")));
    assert_eq!(c.min_sales, dec("10000"));
    assert_eq!(
        c.prizes,
        vec![
            Prize {
                rank: 1,
                award: Award::Money(dec("5000"))
            },
            Prize {
                rank: 2,
                award: Award::Money(dec("2000"))
            },
            Prize {
                rank: 3,
                award: Award::Reward("Demo kit".into())
            },
        ]
    );
    assert_eq!(
        c.updates.as_ref().map(|u| u.expression()),
        Some("0 0 18 * * Fri")
    );
    assert_eq!(c.chats, ContestChats::All);
    assert_eq!(c.growth_base, GrowthBase::LastYear);
    assert!(
        cfg.describe()
            .contains("q4-growth \"Q4 Growth Cup\" growth_rate")
    );
    assert!(
        cfg.describe_contest(c)
            .contains("prize for place 3: Demo kit")
    );
}

#[test]
fn contest_mistakes_are_named_with_their_lines() {
    let text = r#"
[[contests]]
id = "spring"
name = "Spring"
metric = "sales_amount"
start = "2026-03-01"
end = "2026-02-01"
prizes = [ { amount = 100 } ]
updates = "every friday"

[[contests]]
id = "Spring"
name = "Again"
metric = "revenue"
start = "2026-03-01"
end = "2026-03-31"
scope = { region = "East", tier = "Gold" }
"#;
    let e = errors(text);
    assert!(
        e.contains("rally.toml:7: `contests[0].end`: the end 2026-02-01 is before the start 2026-03-01 (line 6)"),
        "{e}"
    );
    assert!(
        e.contains("rally.toml:8: `contests[0].prizes[0].rank`: missing; required here: rank"),
        "{e}"
    );
    assert!(
        e.contains("rally.toml:9: `contests[0].updates`: expected a cron expression"),
        "{e}"
    );
    assert!(
        e.contains("rally.toml:12: `contests[1].id`: a contest with id \"Spring\" is already defined (line 3)"),
        "{e}"
    );
    assert!(
        e.contains("rally.toml:14: `contests[1].metric`: expected a metric: \"sales_amount\""),
        "{e}"
    );
    assert!(
        e.contains("rally.toml:17: `contests[1].scope.tier`: a scope names one group"),
        "{e}"
    );
    let e = errors(
        "[[contests]]\nid = \"a\"\nname = \"A\"\nmetric = \"sales_count\"\nstart = \"2026-01-01\"\n\
         end = \"2026-01-31\"\nhandicap = true\ncolour = \"red\"\n",
    );
    assert!(
        e.contains("rally.toml:7: `contests[0].handicap`: a handicap ranks"),
        "{e}"
    );
    assert!(
        e.contains("rally.toml:8: `contests[0].colour`: unknown key"),
        "{e}"
    );
}

#[test]
fn discord_shards_are_a_range_of_a_total() {
    let cfg = parse("[discord]\nshards = \"2-3/4\"\n").expect("config");
    assert_eq!(
        cfg.discord.shards,
        Some(DiscordShards {
            first: 2,
            last: 3,
            total: 4
        })
    );
    assert_eq!(
        DiscordShards::parse("1/2").map(|s| s.to_string()),
        Some("1/2".into())
    );
    for bad in ["\"4/4\"", "\"3-1/4\"", "\"0-1\"", "\"x/2\"", "2"] {
        let msg = errors(&format!("[discord]\nshards = {bad}\n"));
        assert!(
            msg.contains("rally.toml:2: `discord.shards`: expected the shards this instance runs"),
            "{bad}: {msg}"
        );
    }
}

#[test]
fn trainings_in_the_documented_shape() {
    let cfg = parse(
        r#"
[[trainings]]
id = "basics-1"
title = "Sales basics"
level = "basic"
start = "2026-12-03T14:00"
duration_minutes = 90
capacity = 20
link = "https://meet.example.com/abc"
eligible = { tier = "Silver" }
certification = "sales-basics"
reminders = ["24h", "1h"]
quiz = { pass = 2, questions = [ { q = "Q1", choices = ["a", "b", "c"], answer = 1 }, { q = "Q2", choices = ["a", "b"], answer = 2 } ] }

[[trainings]]
id = "offline-1"
title = "Shop floor"
start = 2026-12-10T09:30:00
duration_minutes = 60
capacity = 5
place = "Shanghai office, room 3"
"#,
    )
    .expect("config");
    assert_eq!(cfg.trainings.len(), 2);
    let t = &cfg.trainings[0];
    assert_eq!(t.start.to_string(), "2026-12-03 14:00:00");
    assert_eq!(t.eligible.tier.as_deref(), Some("Silver"));
    assert_eq!(t.reminders, vec![1_440, 60]);
    assert_eq!(t.quiz.as_ref().map(|q| q.questions.len()), Some(2));
    assert_eq!(cfg.trainings[1].reminders, vec![1_440, 60], "the default");
    assert_eq!(
        cfg.trainings[1].place.as_deref(),
        Some("Shanghai office, room 3")
    );
}

#[test]
fn bad_trainings_are_named_with_their_line() {
    let msg = errors(
        r#"[[trainings]]
id = "a"
title = "A"
start = "2026-12-03 14:00"
duration_minutes = 0
capacity = 1
reminders = ["soon"]

[[trainings]]
id = "b"
title = "B"
start = "2026-12-03T14:00"
duration_minutes = 30
capacity = 1
link = "https://x.example"
place = "Room"
quiz = { pass = 3, questions = [ { q = "Q", choices = ["x", "y"], answer = 3 } ] }

[[trainings]]
id = "b"
title = "B again"
start = "2026-12-04T14:00"
duration_minutes = 30
capacity = 1
"#,
    );
    for expected in [
        "rally.toml:4: `trainings[0].start`: expected a date and time",
        "rally.toml:5: `trainings[0].duration_minutes`: expected a whole number from 1",
        "rally.toml:7: `trainings[0].reminders[0]`: expected a time before the start",
        "rally.toml:16: `trainings[1].place`: a training is online",
        "`trainings[1].quiz`: question 1: answer must be the number of a choice",
        "rally.toml:20: `trainings[2].id`: a training \"b\" is already defined (line 10)",
    ] {
        assert!(msg.contains(expected), "missing {expected:?} in:\n{msg}");
    }
}

// --- HTTP API and TV page (issue 13) ---

#[test]
fn http_public_url_and_tv_amounts() {
    let cfg = parse(
        "[http]\nlisten = \"127.0.0.1:9000\"\npublic_url = \"https://tv.example.com/\"\n\
         tv_show_amounts = false\n",
    )
    .expect("valid");
    assert_eq!(
        cfg.http.public_url.as_deref(),
        Some("https://tv.example.com")
    );
    assert!(!cfg.http.tv_show_amounts);
    let defaults = parse("").expect("defaults");
    assert_eq!(defaults.http.public_url, None);
    assert!(defaults.http.tv_show_amounts);
    let bad = errors("[http]\npublic_url = \"tv.example.com\"\ntv_show_amounts = \"no\"\n");
    assert!(bad.contains("http.public_url"), "{bad}");
    assert!(bad.contains("http.tv_show_amounts"), "{bad}");
}

// --- community: points, badges, stories (issue 11) ---

#[test]
fn points_badges_and_stories_defaults() {
    let cfg = parse("").expect("defaults");
    assert_eq!(cfg.points, crate::engine::points::PointsRules::default());
    let ids: Vec<String> = cfg.badge_rules().into_iter().map(|b| b.id).collect();
    assert_eq!(
        ids,
        [
            "first-sale",
            "ten-deals",
            "100k-month",
            "podium",
            "certified",
            "featured",
            "kudos-5"
        ]
    );
    // 100,000 yuan in fen.
    assert!(
        cfg.badge_rules()
            .iter()
            .any(|b| b.rule == crate::engine::badges::BadgeRule::MonthAmount(10_000_000))
    );
}

#[test]
fn points_and_badges_are_read_and_replace_the_defaults() {
    let text = "[points]\nsale_amount = 500\nsale_points = 2\nkudos_received = 5\npodium = [50, 20]\n\n\
                [[badges]]\nid = \"big\"\nname = \"Big month\"\nrule = \"month_amount\"\nat_least = 250000\n\n\
                [[badges]]\nid = \"negotiator\"\nname = \"Negotiator\"\nrule = \"certified\"\ncertification = \"negotiation\"\n\n\
                [stories]\nstory_of_week = \"0 30 8 * * Fri\"\n";
    let cfg = parse(text).expect("valid");
    assert_eq!(cfg.points.sale_unit_minor, 50_000);
    assert_eq!(cfg.points.per_sale_unit, 2);
    assert_eq!(cfg.points.kudos_received, 5);
    assert_eq!(cfg.points.podium, [50, 20]);
    assert_eq!(
        cfg.points.featured_story, 50,
        "unset keys keep their defaults"
    );
    let rules = cfg.badge_rules();
    assert_eq!(rules.len(), 2);
    assert_eq!(
        rules[0].rule,
        crate::engine::badges::BadgeRule::MonthAmount(25_000_000)
    );
    assert_eq!(
        rules[1].rule,
        crate::engine::badges::BadgeRule::Certified(Some("negotiation".into()))
    );
    assert_ne!(cfg.stories, super::StoriesConfig::default());
}

#[test]
fn bad_badges_name_key_and_line() {
    let msg = errors(
        "[[badges]]\nid = \"a\"\nname = \"A\"\nrule = \"sales\"\n\n\
         [[badges]]\nid = \"a\"\nname = \"B\"\nrule = \"approved_sales\"\n\n\
         [[badges]]\nid = \"c\"\nname = \"C\"\nrule = \"kudos_received\"\n\n\
         [[badges]]\nid = \"d\"\nname = \"D\"\nrule = \"approved_sales\"\nat_least = 2.5\n\n\
         [points]\nsale_amount = \"0.001\"\npodium = [1, -1]\n",
    );
    assert!(
        msg.contains("rally.toml:4: `badges[0].rule`: unknown rule \"sales\""),
        "{msg}"
    );
    assert!(
        msg.contains("rally.toml:7: `badges[1].id`: a badge \"a\" is already defined (line 2)"),
        "{msg}"
    );
    assert!(
        msg.contains("rally.toml:14: `badges[2].rule`: this rule needs `at_least`"),
        "{msg}"
    );
    assert!(
        msg.contains("rally.toml:20: `badges[3].at_least`: a count is a whole number"),
        "{msg}"
    );
    assert!(msg.contains("`points.sale_amount`"), "{msg}");
    assert!(msg.contains("`points.podium[1]`"), "{msg}");
}
