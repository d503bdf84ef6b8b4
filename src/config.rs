//! Typed, validated configuration (SPEC §5): a TOML file (`--config`, else `RALLY_CONFIG`, else
//! `./rally.toml`, else built-in defaults) plus environment overrides.
//!
//! The file is parsed into a span-annotated tree and walked by hand, so every problem — unknown
//! keys, bad values, secrets written into the file, sections this version does not support yet —
//! is reported together, each naming the file, the line and the dotted key. Secrets are read only
//! from the environment. Money values (rates, thresholds) are read exactly from integers, quoted
//! strings or TOML floats — a float is read from its source text, never through floating point.
//!
//! Plans, tiers and allocation weights live here too (issue 3 "Plans as code"): `[[plans]]` are
//! checked with [`plan::validate`] and [`plan::validate_versions`] and `[[tiers]]` with
//! [`tier::validate`], and each problem they find is attached to the line of the key it names.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use chrono::NaiveDate;
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use toml::Spanned;
use toml::de::{DeString, DeTable, DeValue};

use crate::engine::allocation::AllocationWeights;
use crate::engine::money::{Currency, Money};
use crate::engine::period::PeriodKind;
use crate::engine::plan::{
    self, Accelerator, Assignment, BonusStep, Bracket, GrowthRebate, Plan, PlanMode, VolumeRebate,
};
use crate::engine::tier::{self, TierRule};

/// Default database: an SQLite file in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://rally.db";
/// Default HTTP listen address.
pub const DEFAULT_HTTP_LISTEN: SocketAddr =
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(127, 0, 0, 1), 8080));
/// Default program time zone.
pub const DEFAULT_TIMEZONE: Tz = Tz::Asia__Shanghai;
/// Telegram's own Bot API, used when no `api_url` is configured.
pub const DEFAULT_TELEGRAM_API_URL: &str = "https://api.telegram.org";
/// Discord's own origin, used when no `api_url` is configured. A configured `api_url` takes its
/// place (serenity's `HttpBuilder::proxy`), so requests go to `{api_url}/api/v10/...`.
pub const DEFAULT_DISCORD_API_URL: &str = "https://discord.com";

/// Environment variables read by [`load`] and [`from_toml_str`].
pub mod env_vars {
    /// Path of the config file when `--config` is not given.
    pub const CONFIG: &str = "RALLY_CONFIG";
    pub const DATABASE_URL: &str = "RALLY_DATABASE_URL";
    /// Secret: enables Telegram.
    pub const TELEGRAM_BOT_TOKEN: &str = "TELEGRAM_BOT_TOKEN";
    pub const TELEGRAM_API_URL: &str = "RALLY_TELEGRAM_API_URL";
    /// Secret: path component of the Telegram webhook URL.
    pub const TELEGRAM_WEBHOOK_SECRET: &str = "RALLY_TELEGRAM_WEBHOOK_SECRET";
    /// Secret: enables Discord.
    pub const DISCORD_TOKEN: &str = "DISCORD_TOKEN";
    pub const DISCORD_API_URL: &str = "RALLY_DISCORD_API_URL";
    pub const HTTP_LISTEN: &str = "RALLY_HTTP_LISTEN";
    pub const ADMINS: &str = "RALLY_ADMINS";
    pub const LOG: &str = "RALLY_LOG";
}

/// The whole validated configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Where the file part came from (a path or the `source_name` given to [`from_toml_str`]);
    /// `None` when no file was used.
    pub source: Option<String>,
    pub program: ProgramConfig,
    pub database: DatabaseConfig,
    pub telegram: TelegramConfig,
    pub discord: DiscordConfig,
    pub http: HttpConfig,
    /// Admins from `[[admins]]`, then those from `RALLY_ADMINS`; no duplicates.
    pub admins: Vec<AdminId>,
    pub kudos: KudosConfig,
    pub deals: DealsConfig,
    /// `[[tiers]]` in file order. A partner holds the highest-ranked tier whose conditions are all
    /// met (see [`crate::engine::tier`]); names are unique (case-insensitive).
    pub tiers: Vec<TierRule>,
    /// `[[plans]]` in file order: every version of every plan, each valid by [`plan::validate`]
    /// and together by [`plan::validate_versions`]. Pick one with [`plan::select_plan`].
    pub plans: Vec<Plan>,
    /// `[allocation]`; missing keys take the values of [`default_allocation`].
    pub allocation: AllocationWeights,
    /// Log filter (as `RUST_LOG`), from `RALLY_LOG` only.
    pub log: Option<String>,
}

/// The `[allocation]` defaults: weights potential 0.3, contribution 0.5, growth 0.2; floor 0 and
/// cap 1 (fractions of the budget, i.e. no floor and no cap).
pub fn default_allocation() -> AllocationWeights {
    AllocationWeights {
        potential: Decimal::new(3, 1),
        contribution: Decimal::new(5, 1),
        growth: Decimal::new(2, 1),
        floor: Decimal::ZERO,
        cap: Decimal::ONE,
    }
}

/// `[program]`.
#[derive(Clone, Debug, PartialEq)]
pub struct ProgramConfig {
    pub name: String,
    pub currency: Currency,
    pub timezone: Tz,
    pub default_locale: Locale,
    pub period: PeriodKind,
    /// Rankings show pending sales as provisional.
    pub rank_pending: bool,
    /// Chat reports strictly below this amount (program currency) are approved on arrival.
    pub auto_approve_below: Option<Decimal>,
    /// `[program.rates]`: how many units of the program currency one unit of the key is worth.
    pub rates: BTreeMap<Currency, Decimal>,
    pub invite_ttl_hours: u32,
}

/// `[database]`.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseConfig {
    /// `sqlite:…`, `postgres:…` or `postgresql:…`.
    pub url: String,
}

/// How Rally receives Telegram updates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TelegramMode {
    #[default]
    Polling,
    Webhook,
}

/// `[telegram]`. Telegram is enabled when `token` is set.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct TelegramConfig {
    /// Secret, from `TELEGRAM_BOT_TOKEN` only.
    pub token: Option<String>,
    /// Bot API base URL without a trailing `/`; `None` means [`DEFAULT_TELEGRAM_API_URL`].
    pub api_url: Option<String>,
    pub mode: TelegramMode,
    /// Public base URL of Rally's HTTP server (no trailing `/`) in webhook mode; Telegram is
    /// pointed at `{webhook_url}/telegram/webhook/{webhook_secret}`. Required in webhook mode.
    pub webhook_url: Option<String>,
    /// Secret, from `RALLY_TELEGRAM_WEBHOOK_SECRET` only. Required in webhook mode.
    pub webhook_secret: Option<String>,
}

/// `[discord]`. Discord is enabled when `token` is set.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct DiscordConfig {
    /// Secret, from `DISCORD_TOKEN` only.
    pub token: Option<String>,
    /// REST proxy origin without a trailing `/`, standing in for `https://discord.com`;
    /// `None` means [`DEFAULT_DISCORD_API_URL`].
    pub api_url: Option<String>,
    /// Guilds to register slash commands in (instantly); empty means global commands.
    pub guild_ids: Vec<u64>,
}

/// `[http]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HttpConfig {
    pub listen: SocketAddr,
}

/// Chat platform of a configured admin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AdminPlatform {
    Telegram,
    Discord,
}

/// One bootstrap admin: a chat account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AdminId {
    pub platform: AdminPlatform,
    /// The platform's user id (Telegram user id, Discord user snowflake).
    pub id: u64,
}

/// `[kudos]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KudosConfig {
    /// Kudos a member may give per day (0 disables kudos).
    pub daily: u32,
    /// Minimum minutes between two kudos to the same person.
    pub cooldown_minutes: u32,
}

/// `[deals]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DealsConfig {
    /// Days a registered deal is protected for its partner.
    pub protection_days: u32,
}

/// A user-interface language Rally ships messages for.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub enum Locale {
    #[default]
    #[serde(rename = "en")]
    En,
    #[serde(rename = "zh-CN", alias = "zh")]
    ZhCn,
}

impl Locale {
    /// Every supported locale, default first.
    pub const ALL: [Locale; 2] = [Locale::En, Locale::ZhCn];

    /// The BCP 47 tag: `en` or `zh-CN`.
    pub fn tag(&self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::ZhCn => "zh-CN",
        }
    }

    /// Parses a tag as a user would write it (case-insensitive, `_` or `-`): `en`, `en-US`, …
    /// are English; `zh`, `zh-CN`, `zh-Hans`, `zh_CN`, `zh-SG` are simplified Chinese.
    pub fn from_tag(tag: &str) -> Option<Locale> {
        let tag = tag.trim().to_ascii_lowercase().replace('_', "-");
        if tag == "en" || tag.starts_with("en-") {
            return Some(Locale::En);
        }
        match tag.as_str() {
            "zh" | "zh-cn" | "zh-hans" | "zh-sg" => Some(Locale::ZhCn),
            t if t.starts_with("zh-hans-") => Some(Locale::ZhCn),
            _ => None,
        }
    }

    /// The locale for a language code reported by a chat platform: any `zh…` is Chinese,
    /// everything else (including nothing) English.
    pub fn from_platform_code(code: &str) -> Locale {
        if code.trim().to_ascii_lowercase().starts_with("zh") {
            Locale::ZhCn
        } else {
            Locale::En
        }
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.tag())
    }
}

impl TelegramMode {
    pub fn as_str(&self) -> &'static str {
        match self {
            TelegramMode::Polling => "polling",
            TelegramMode::Webhook => "webhook",
        }
    }
}

impl AdminPlatform {
    pub fn as_str(&self) -> &'static str {
        match self {
            AdminPlatform::Telegram => "telegram",
            AdminPlatform::Discord => "discord",
        }
    }

    /// `telegram` or `discord`, case-insensitive.
    pub fn parse(text: &str) -> Option<AdminPlatform> {
        match text.trim().to_ascii_lowercase().as_str() {
            "telegram" => Some(AdminPlatform::Telegram),
            "discord" => Some(AdminPlatform::Discord),
            _ => None,
        }
    }
}

impl fmt::Display for AdminPlatform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for AdminId {
    /// `telegram:123`, the form `RALLY_ADMINS` accepts.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.platform, self.id)
    }
}

impl Default for ProgramConfig {
    fn default() -> Self {
        ProgramConfig {
            name: "Rally".to_owned(),
            currency: Currency::CNY,
            timezone: DEFAULT_TIMEZONE,
            default_locale: Locale::En,
            period: PeriodKind::Month,
            rank_pending: false,
            auto_approve_below: None,
            rates: BTreeMap::new(),
            invite_ttl_hours: 168,
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: DEFAULT_DATABASE_URL.to_owned(),
        }
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: DEFAULT_HTTP_LISTEN,
        }
    }
}

impl Default for KudosConfig {
    fn default() -> Self {
        KudosConfig {
            daily: 5,
            cooldown_minutes: 60,
        }
    }
}

impl Default for DealsConfig {
    fn default() -> Self {
        DealsConfig {
            protection_days: 90,
        }
    }
}

impl Default for Config {
    /// Built-in defaults, as if there were no file and no environment.
    fn default() -> Self {
        Config {
            source: None,
            program: ProgramConfig::default(),
            database: DatabaseConfig::default(),
            telegram: TelegramConfig::default(),
            discord: DiscordConfig::default(),
            http: HttpConfig::default(),
            admins: Vec::new(),
            kudos: KudosConfig::default(),
            deals: DealsConfig::default(),
            tiers: Vec::new(),
            plans: Vec::new(),
            allocation: default_allocation(),
            log: None,
        }
    }
}

fn set_or_not(secret: &Option<String>) -> &'static str {
    if secret.is_some() { "set" } else { "not set" }
}

impl fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("url", &redact_url(&self.url))
            .finish()
    }
}

impl fmt::Debug for TelegramConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TelegramConfig")
            .field("token", &set_or_not(&self.token))
            .field("api_url", &self.api_url)
            .field("mode", &self.mode)
            .field("webhook_url", &self.webhook_url)
            .field("webhook_secret", &set_or_not(&self.webhook_secret))
            .finish()
    }
}

impl fmt::Debug for DiscordConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DiscordConfig")
            .field("token", &set_or_not(&self.token))
            .field("api_url", &self.api_url)
            .field("guild_ids", &self.guild_ids)
            .finish()
    }
}

impl TelegramConfig {
    /// The Bot API base URL to use (configured or Telegram's own), without a trailing `/`.
    pub fn api_base(&self) -> &str {
        self.api_url.as_deref().unwrap_or(DEFAULT_TELEGRAM_API_URL)
    }
}

impl DiscordConfig {
    /// The REST base URL to use (configured or Discord's own), without a trailing `/`.
    pub fn api_base(&self) -> &str {
        self.api_url.as_deref().unwrap_or(DEFAULT_DISCORD_API_URL)
    }
}

impl Config {
    /// A human summary for `rally check-config`. Secrets are shown only as `set` / `not set`,
    /// and a database password is masked.
    pub fn describe(&self) -> String {
        let p = &self.program;
        let mut out = String::new();
        let mut line = |s: String| {
            out.push_str(&s);
            out.push('\n');
        };
        line(format!(
            "config file: {}",
            self.source.as_deref().unwrap_or("none (built-in defaults)")
        ));
        line(format!("program: {}", p.name));
        line(format!("  currency: {}", p.currency));
        line(format!("  time zone: {}", p.timezone.name()));
        line(format!("  default locale: {}", p.default_locale));
        line(format!("  period: {}", period_name(p.period)));
        line(format!(
            "  rankings include pending sales: {}",
            if p.rank_pending { "yes" } else { "no" }
        ));
        line(match p.auto_approve_below {
            Some(limit) => format!("  chat reports auto-approved below: {limit} {}", p.currency),
            None => "  chat reports auto-approved below: never (every chat report needs approval)"
                .to_owned(),
        });
        if p.rates.is_empty() {
            line("  exchange rates: none (only the program currency is accepted)".to_owned());
        } else {
            line("  exchange rates:".to_owned());
            for (currency, rate) in &p.rates {
                line(format!("    1 {currency} = {rate} {}", p.currency));
            }
        }
        line(format!(
            "  invite codes valid for: {} h",
            p.invite_ttl_hours
        ));
        line(format!("database: {}", redact_url(&self.database.url)));
        let t = &self.telegram;
        line(format!(
            "telegram: {} (token {})",
            if t.token.is_some() {
                "enabled"
            } else {
                "disabled"
            },
            set_or_not(&t.token)
        ));
        line(format!("  api url: {}", t.api_base()));
        line(format!("  mode: {}", t.mode.as_str()));
        if t.mode == TelegramMode::Webhook {
            line(format!(
                "  webhook url: {}",
                t.webhook_url.as_deref().unwrap_or("not set")
            ));
            line(format!(
                "  webhook secret: {}",
                set_or_not(&t.webhook_secret)
            ));
        }
        let d = &self.discord;
        line(format!(
            "discord: {} (token {})",
            if d.token.is_some() {
                "enabled"
            } else {
                "disabled"
            },
            set_or_not(&d.token)
        ));
        line(format!("  api url: {}", d.api_base()));
        line(if d.guild_ids.is_empty() {
            "  guilds: all (global commands)".to_owned()
        } else {
            let ids: Vec<String> = d.guild_ids.iter().map(u64::to_string).collect();
            format!("  guilds: {}", ids.join(", "))
        });
        line(format!("http: listening on {}", self.http.listen));
        line(if self.admins.is_empty() {
            "admins: none".to_owned()
        } else {
            let ids: Vec<String> = self.admins.iter().map(AdminId::to_string).collect();
            format!("admins: {}", ids.join(", "))
        });
        line(format!(
            "kudos: {} per day, {} min before the same person again",
            self.kudos.daily, self.kudos.cooldown_minutes
        ));
        line(format!(
            "deals: protected for {} days",
            self.deals.protection_days
        ));
        let money = |amount: Decimal| Money::new(amount, p.currency).format();
        if self.tiers.is_empty() {
            line("tiers: none".to_owned());
        } else {
            line(
                "tiers (a partner holds the highest one whose conditions are all met):".to_owned(),
            );
            for t in &self.tiers {
                let requires = if t.requires.is_empty() {
                    String::new()
                } else {
                    format!("; requires {}", t.requires.join(", "))
                };
                line(format!(
                    "  {}: trailing 12-month sales of at least {}{requires}",
                    t.name,
                    money(t.min_trailing_sales)
                ));
            }
        }
        if self.plans.is_empty() {
            line("plans: none (no commission is computed)".to_owned());
        } else {
            line("plans:".to_owned());
            let unit = Decimal::new(1, p.currency.minor_units());
            for plan in &self.plans {
                line(format!(
                    "  {} v{}, in force from {}, {}, {}",
                    plan.id,
                    plan.version,
                    plan.effective_from.format("%Y-%m-%d"),
                    mode_name(plan.mode),
                    assignment_text(&plan.assign)
                ));
                let brackets: Vec<String> = plan
                    .brackets
                    .iter()
                    .map(|b| format!("{}% from {}", b.rate, money(b.from)))
                    .collect();
                line(format!("    brackets: {}", brackets.join(", ")));
                if plan.mode == PlanMode::Whole {
                    let cliffs = plan::cliffs(plan, unit);
                    if cliffs.is_empty() {
                        line("    cliffs: none".to_owned());
                    }
                    for cliff in cliffs {
                        line(format!("    cliff: {}", cliff.describe(p.currency)));
                    }
                }
            }
        }
        let a = &self.allocation;
        line(format!(
            "allocation: weights potential {}, contribution {}, growth {}; floor {}, cap {} \
             (fractions of the budget)",
            a.potential, a.contribution, a.growth, a.floor, a.cap
        ));
        line(format!(
            "log filter: {}",
            self.log.as_deref().unwrap_or("default (RALLY_LOG not set)")
        ));
        out
    }
}

fn mode_name(mode: PlanMode) -> &'static str {
    match mode {
        PlanMode::Marginal => "marginal",
        PlanMode::Whole => "whole",
    }
}

/// `for region East`, `the default plan`, … for [`Config::describe`].
fn assignment_text(assign: &Assignment) -> String {
    match assign {
        Assignment::Default => "the default plan".to_owned(),
        Assignment::Kind(k) => format!("for kind {k}"),
        Assignment::Region(r) => format!("for region {r}"),
        Assignment::Tier(t) => format!("for tier {t}"),
        Assignment::Partner(x) => format!("for partner {x}"),
    }
}

fn period_name(kind: PeriodKind) -> &'static str {
    match kind {
        PeriodKind::Month => "month",
        PeriodKind::Quarter => "quarter",
        PeriodKind::Year => "year",
    }
}

// ---------------------------------------------------------------------------------------------
// Errors

/// Where a configuration problem was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IssueOrigin {
    /// In a config file, at a 1-based line.
    File { name: String, line: usize },
    /// In an environment variable.
    Env { var: String },
}

/// One configuration problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigIssue {
    pub origin: IssueOrigin,
    /// Dotted key (`program.timezone`, `admins[1].id`); empty for TOML syntax errors and for
    /// environment variables.
    pub key: String,
    pub message: String,
}

impl fmt::Display for ConfigIssue {
    /// `rally.toml:7: `program.timezone`: unknown time zone "Mars/Base"` or
    /// `environment variable RALLY_HTTP_LISTEN: …`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.origin {
            IssueOrigin::File { name, line } => write!(f, "{name}:{line}: ")?,
            IssueOrigin::Env { var } => write!(f, "environment variable {var}: ")?,
        }
        if !self.key.is_empty() {
            write!(f, "`{}`: ", self.key)?;
        }
        f.write_str(&self.message)
    }
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A file named by `--config` or `RALLY_CONFIG` does not exist.
    #[error("config file {} (from {origin}) does not exist", path.display())]
    NotFound {
        path: PathBuf,
        /// `--config` or `RALLY_CONFIG`.
        origin: &'static str,
    },
    /// The file exists but could not be read (permissions, not UTF-8, a directory, …).
    #[error("cannot read config file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file or the environment is invalid; every problem found, in file order, then
    /// environment problems. Displayed one problem per line.
    #[error("{}", join_issues(.0))]
    Invalid(Vec<ConfigIssue>),
}

impl ConfigError {
    /// The individual problems (empty unless [`ConfigError::Invalid`]).
    pub fn issues(&self) -> &[ConfigIssue] {
        match self {
            ConfigError::Invalid(issues) => issues,
            _ => &[],
        }
    }
}

fn join_issues(issues: &[ConfigIssue]) -> String {
    let lines: Vec<String> = issues.iter().map(ConfigIssue::to_string).collect();
    lines.join("\n")
}

// ---------------------------------------------------------------------------------------------
// Loading

/// Loads the configuration: the file named by `path` (`--config`), else by `RALLY_CONFIG`, else
/// `./rally.toml` if it exists, else built-in defaults; then the environment overrides.
/// `env` looks a variable up (pass `&|k| std::env::var(k).ok()` in production).
pub fn load(
    path: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    let chosen: Option<(PathBuf, Option<&'static str>)> = match path {
        Some(p) => Some((p.to_path_buf(), Some("--config"))),
        None => match env_value(env, env_vars::CONFIG) {
            Some(p) => Some((PathBuf::from(p), Some(env_vars::CONFIG))),
            None => {
                let local = Path::new("rally.toml");
                local.exists().then(|| (local.to_path_buf(), None))
            }
        },
    };
    let Some((path, origin)) = chosen else {
        return build(None, "", env);
    };
    if let Some(origin) = origin
        && !path.exists()
    {
        return Err(ConfigError::NotFound { path, origin });
    }
    let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
        path: path.clone(),
        source,
    })?;
    build(Some(&path.display().to_string()), &text, env)
}

/// Builds the configuration from TOML text (named `source_name` in messages) and the
/// environment overrides.
pub fn from_toml_str(
    text: &str,
    source_name: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    build(Some(source_name), text, env)
}

fn build(
    source: Option<&str>,
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    let mut cfg = Config {
        source: source.map(str::to_owned),
        ..Config::default()
    };
    let mut w = Walker {
        text,
        source: source.unwrap_or("(defaults)"),
        issues: Vec::new(),
        program_currency_span: None,
        telegram_mode_span: None,
        rates: Vec::new(),
    };
    let (root, syntax) = DeTable::parse_recoverable(text);
    if !syntax.is_empty() {
        for e in syntax {
            let span = e.span().unwrap_or(0..0);
            w.file_issue(span, "", format!("invalid TOML: {}", e.message()));
        }
        return Err(ConfigError::Invalid(w.finish()));
    }
    w.root(root.get_ref(), &mut cfg);
    w.check_rates(&mut cfg.program);
    w.apply_env(env, &mut cfg);
    w.check_telegram(&cfg.telegram);
    let issues = w.finish();
    if issues.is_empty() {
        Ok(cfg)
    } else {
        Err(ConfigError::Invalid(issues))
    }
}

/// An environment variable's value, trimmed; empty counts as unset.
fn env_value(env: &dyn Fn(&str) -> Option<String>, var: &str) -> Option<String> {
    env(var)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

// ---------------------------------------------------------------------------------------------
// The walker over the span-annotated TOML tree

type Node<'i> = Spanned<DeValue<'i>>;
type Key<'i> = Spanned<DeString<'i>>;

const TOP_KEYS: &[&str] = &[
    "program",
    "database",
    "telegram",
    "discord",
    "http",
    "admins",
    "kudos",
    "deals",
    "tiers",
    "plans",
    "allocation",
];
const UNSUPPORTED_SECTIONS: &[&str] = &["contests", "trainings", "jobs"];
const PROGRAM_KEYS: &[&str] = &[
    "name",
    "currency",
    "timezone",
    "default_locale",
    "period",
    "rank_pending",
    "auto_approve_below",
    "rates",
    "invite_ttl_hours",
];
const DATABASE_KEYS: &[&str] = &["url"];
const TELEGRAM_KEYS: &[&str] = &["api_url", "mode", "webhook_url"];
const DISCORD_KEYS: &[&str] = &["api_url", "guild_ids"];
const HTTP_KEYS: &[&str] = &["listen"];
const ADMIN_KEYS: &[&str] = &["platform", "id"];
const KUDOS_KEYS: &[&str] = &["daily", "cooldown_minutes"];
const DEALS_KEYS: &[&str] = &["protection_days"];
const TIER_KEYS: &[&str] = &["name", "min_trailing_sales", "requires"];
const PLAN_KEYS: &[&str] = &[
    "id",
    "version",
    "effective_from",
    "mode",
    "target",
    "brackets",
    "category_rates",
    "accelerator",
    "cap",
    "bonuses",
    "volume_rebate",
    "growth_rebate",
    "assign",
];
const ASSIGN_KEYS: &[&str] = &["region", "kind", "tier", "partner"];
const ALLOCATION_KEYS: &[&str] = &["potential", "contribution", "growth", "floor", "cap"];

struct Walker<'t> {
    text: &'t str,
    source: &'t str,
    issues: Vec<ConfigIssue>,
    program_currency_span: Option<Range<usize>>,
    telegram_mode_span: Option<Range<usize>>,
    /// `[program.rates]` entries with the span of their key, checked once the currency is known.
    rates: Vec<(Currency, Decimal, Range<usize>, String)>,
}

impl Walker<'_> {
    fn line(&self, span: &Range<usize>) -> usize {
        let end = span.start.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    }

    fn file_issue(&mut self, span: Range<usize>, key: &str, message: impl Into<String>) {
        let line = self.line(&span);
        self.issues.push(ConfigIssue {
            origin: IssueOrigin::File {
                name: self.source.to_owned(),
                line,
            },
            key: key.to_owned(),
            message: message.into(),
        });
    }

    fn env_issue(&mut self, var: &str, message: impl Into<String>) {
        self.issues.push(ConfigIssue {
            origin: IssueOrigin::Env {
                var: var.to_owned(),
            },
            key: String::new(),
            message: message.into(),
        });
    }

    /// File issues by line (stable), then environment issues in the order found.
    fn finish(self) -> Vec<ConfigIssue> {
        let mut issues = self.issues;
        issues.sort_by_key(|i| match &i.origin {
            IssueOrigin::File { line, .. } => (0, *line),
            IssueOrigin::Env { .. } => (1, 0),
        });
        issues
    }

    fn unknown_key(&mut self, key: &Key<'_>, path: &str, allowed: &[&str]) {
        let name: &str = key.get_ref();
        let mut message = format!("unknown key (expected one of: {})", allowed.join(", "));
        if let Some(best) = closest(name, allowed) {
            message.push_str(&format!("; did you mean `{best}`?"));
        }
        self.file_issue(key.span(), &join_key(path, name), message);
    }

    fn secret_in_file(&mut self, key: &Key<'_>, path: &str, var: &str) {
        self.file_issue(
            key.span(),
            &join_key(path, key.get_ref()),
            format!("secrets come only from the environment: set {var} (and remove this key)"),
        );
    }

    fn table<'a, 'i>(&mut self, node: &'a Node<'i>, key: &str) -> Option<&'a DeTable<'i>> {
        match node.get_ref() {
            DeValue::Table(t) => Some(t),
            other => {
                let found = other.type_str();
                self.file_issue(
                    node.span(),
                    key,
                    format!("expected a table ([{key}]), found {found}"),
                );
                None
            }
        }
    }

    fn string<'a>(&mut self, node: &'a Node<'_>, key: &str) -> Option<&'a str> {
        match node.get_ref() {
            DeValue::String(s) => Some(s.as_ref()),
            other => {
                let found = other.type_str();
                self.file_issue(
                    node.span(),
                    key,
                    format!("expected a string, found {found}"),
                );
                None
            }
        }
    }

    fn boolean(&mut self, node: &Node<'_>, key: &str) -> Option<bool> {
        match node.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            other => {
                let found = other.type_str();
                self.file_issue(
                    node.span(),
                    key,
                    format!("expected true or false, found {found}"),
                );
                None
            }
        }
    }

    fn uint32(&mut self, node: &Node<'_>, key: &str, min: u32) -> Option<u32> {
        let parsed = match node.get_ref() {
            DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix()).ok(),
            other => {
                let found = other.type_str();
                self.file_issue(
                    node.span(),
                    key,
                    format!("expected a whole number, found {found}"),
                );
                return None;
            }
        };
        match parsed.and_then(|n| u32::try_from(n).ok()) {
            Some(n) if n >= min => Some(n),
            _ => {
                self.file_issue(
                    node.span(),
                    key,
                    format!("must be a whole number from {min} to {}", u32::MAX),
                );
                None
            }
        }
    }

    /// A positive id: an integer or a string of digits.
    fn id(&mut self, node: &Node<'_>, key: &str) -> Option<u64> {
        let parsed = match node.get_ref() {
            DeValue::Integer(i) => u64::from_str_radix(i.as_str(), i.radix()).ok(),
            DeValue::String(s) => parse_id(s),
            other => {
                let found = other.type_str();
                self.file_issue(
                    node.span(),
                    key,
                    format!("expected an id (a number or a string of digits), found {found}"),
                );
                return None;
            }
        };
        match parsed.filter(|n| *n > 0) {
            Some(n) => Some(n),
            None => {
                self.file_issue(node.span(), key, "expected a positive whole number id");
                None
            }
        }
    }

    /// An exact decimal from an integer, a quoted string or a TOML float. A float is read from
    /// its source text (`1.5` is exactly 1.5), never through `f64`. `assign` is how the user
    /// writes the key (`USD`), for the hint.
    fn decimal(&mut self, node: &Node<'_>, key: &str, assign: &str) -> Option<Decimal> {
        let parsed = match node.get_ref() {
            DeValue::Integer(i) if i.radix() == 10 => Decimal::from_str_exact(i.as_str()).ok(),
            DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
                .ok()
                .map(Decimal::from),
            DeValue::String(s) => Decimal::from_str_exact(s.trim()).ok(),
            DeValue::Float(f) => {
                let parsed = exact_float(f.as_str());
                if parsed.is_none() {
                    self.file_issue(
                        node.span(),
                        key,
                        format!(
                            "{} cannot be used as an exact decimal number; write it like \
                             {assign} = \"7.1\"",
                            f.as_str()
                        ),
                    );
                    return None;
                }
                parsed
            }
            other => {
                let found = other.type_str();
                self.file_issue(
                    node.span(),
                    key,
                    format!("expected a number (e.g. {assign} = \"7.1\"), found {found}"),
                );
                return None;
            }
        };
        if parsed.is_none() {
            self.file_issue(
                node.span(),
                key,
                format!("not a number; write it like {assign} = \"7.1\""),
            );
        }
        parsed
    }

    /// An exact decimal (see [`Walker::decimal`]) that must be more than zero.
    fn positive_decimal(&mut self, node: &Node<'_>, key: &str, assign: &str) -> Option<Decimal> {
        let d = self.decimal(node, key, assign)?;
        if d > Decimal::ZERO {
            Some(d)
        } else {
            self.file_issue(node.span(), key, "must be greater than 0");
            None
        }
    }

    /// A date: `"2026-01-01"` or the TOML date `2026-01-01`.
    fn date(&mut self, node: &Node<'_>, key: &str) -> Option<NaiveDate> {
        let parsed = match node.get_ref() {
            DeValue::String(s) => parse_date(s.trim()),
            DeValue::Datetime(dt) if dt.time.is_none() && dt.offset.is_none() => {
                dt.date.and_then(|d| {
                    NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), d.day.into())
                })
            }
            other => {
                let found = other.type_str();
                self.file_issue(
                    node.span(),
                    key,
                    format!("expected a date like \"2026-01-01\", found {found}"),
                );
                return None;
            }
        };
        if parsed.is_none() {
            self.file_issue(
                node.span(),
                key,
                "not a valid date; write it like \"2026-01-01\" (YYYY-MM-DD)",
            );
        }
        parsed
    }

    /// A table written inline (`{ from = 0, rate = 3 }`) or as a section; `example` shows the
    /// expected shape in the message.
    fn inline_table<'a, 'i>(
        &mut self,
        node: &'a Node<'i>,
        key: &str,
        example: &str,
    ) -> Option<&'a DeTable<'i>> {
        match node.get_ref() {
            DeValue::Table(t) => Some(t),
            other => {
                let found = other.type_str();
                self.file_issue(
                    node.span(),
                    key,
                    format!("expected a table like {example}, found {found}"),
                );
                None
            }
        }
    }

    /// `[[name]]` entries (an array of tables).
    fn entries<'a, 'i>(
        &mut self,
        node: &'a Node<'i>,
        key: &str,
        example: &str,
    ) -> Option<&'a [Node<'i>]> {
        match node.get_ref() {
            DeValue::Array(items) => Some(&items[..]),
            other => {
                let found = other.type_str();
                self.file_issue(
                    node.span(),
                    key,
                    format!("expected [[{key}]] entries ({example}), found {found}"),
                );
                None
            }
        }
    }

    fn url(&mut self, node: &Node<'_>, key: &str) -> Option<String> {
        let text = self.string(node, key)?;
        match normalize_http_url(text) {
            Ok(url) => Some(url),
            Err(message) => {
                self.file_issue(node.span(), key, message);
                None
            }
        }
    }

    fn root(&mut self, root: &DeTable<'_>, cfg: &mut Config) {
        for (key, node) in root.iter() {
            let name: &str = key.get_ref();
            match name {
                "program" => {
                    if let Some(t) = self.table(node, name) {
                        self.program(t, &mut cfg.program);
                    }
                }
                "database" => {
                    if let Some(t) = self.table(node, name) {
                        self.database(t, &mut cfg.database);
                    }
                }
                "telegram" => {
                    if let Some(t) = self.table(node, name) {
                        self.telegram(t, &mut cfg.telegram);
                    }
                }
                "discord" => {
                    if let Some(t) = self.table(node, name) {
                        self.discord(t, &mut cfg.discord);
                    }
                }
                "http" => {
                    if let Some(t) = self.table(node, name) {
                        self.http(t, &mut cfg.http);
                    }
                }
                "kudos" => {
                    if let Some(t) = self.table(node, name) {
                        self.kudos(t, &mut cfg.kudos);
                    }
                }
                "deals" => {
                    if let Some(t) = self.table(node, name) {
                        self.deals(t, &mut cfg.deals);
                    }
                }
                "admins" => self.admins(node, &mut cfg.admins),
                "tiers" => self.tiers(node, &mut cfg.tiers),
                "plans" => self.plans(node, &mut cfg.plans),
                "allocation" => {
                    if let Some(t) = self.table(node, name) {
                        self.allocation(key.span(), t, &mut cfg.allocation);
                    }
                }
                "log" => self.file_issue(
                    key.span(),
                    name,
                    format!(
                        "the log filter comes only from the environment: set {}",
                        env_vars::LOG
                    ),
                ),
                _ if UNSUPPORTED_SECTIONS.contains(&name) => self.file_issue(
                    key.span(),
                    name,
                    format!(
                        "the [[{name}]] section is not supported by this version of Rally yet; \
                         remove it"
                    ),
                ),
                _ => {
                    let mut allowed = TOP_KEYS.to_vec();
                    allowed.extend_from_slice(UNSUPPORTED_SECTIONS);
                    self.unknown_key(key, "", &allowed);
                }
            }
        }
    }

    fn program(&mut self, t: &DeTable<'_>, p: &mut ProgramConfig) {
        for (key, node) in t.iter() {
            let name: &str = key.get_ref();
            let path = join_key("program", name);
            let path = path.as_str();
            match name {
                "name" => {
                    if let Some(s) = self.string(node, path) {
                        let s = s.trim();
                        if s.is_empty() {
                            self.file_issue(node.span(), path, "must not be empty");
                        } else {
                            p.name = s.to_owned();
                        }
                    }
                }
                "currency" => {
                    if let Some(s) = self.string(node, path) {
                        match Currency::parse(s.trim()) {
                            Ok(c) => {
                                p.currency = c;
                                self.program_currency_span = Some(node.span());
                            }
                            Err(e) => self.file_issue(node.span(), path, e.to_string()),
                        }
                    }
                }
                "timezone" => {
                    if let Some(s) = self.string(node, path) {
                        match Tz::from_str(s.trim()) {
                            Ok(tz) => p.timezone = tz,
                            Err(_) => self.file_issue(
                                node.span(),
                                path,
                                format!(
                                    "unknown time zone \"{s}\" (use an IANA name such as \
                                     \"Asia/Shanghai\", \"Europe/Berlin\" or \"UTC\")"
                                ),
                            ),
                        }
                    }
                }
                "default_locale" => {
                    if let Some(s) = self.string(node, path) {
                        match Locale::from_tag(s) {
                            Some(l) => p.default_locale = l,
                            None => self.file_issue(
                                node.span(),
                                path,
                                format!(
                                    "unsupported locale \"{s}\" (expected \"en\" or \"zh-CN\")"
                                ),
                            ),
                        }
                    }
                }
                "period" => {
                    if let Some(s) = self.string(node, path) {
                        match s.trim().to_ascii_lowercase().as_str() {
                            "month" => p.period = PeriodKind::Month,
                            "quarter" => p.period = PeriodKind::Quarter,
                            "year" => p.period = PeriodKind::Year,
                            _ => self.file_issue(
                                node.span(),
                                path,
                                format!(
                                    "unknown period \"{s}\" (expected \"month\", \"quarter\" or \
                                     \"year\")"
                                ),
                            ),
                        }
                    }
                }
                "rank_pending" => {
                    if let Some(b) = self.boolean(node, path) {
                        p.rank_pending = b;
                    }
                }
                "auto_approve_below" => {
                    if let Some(d) = self.positive_decimal(node, path, name) {
                        p.auto_approve_below = Some(d);
                    }
                }
                "rates" => {
                    if let Some(rates) = self.table(node, path) {
                        self.rates(rates);
                    }
                }
                "invite_ttl_hours" => {
                    if let Some(n) = self.uint32(node, path, 1) {
                        p.invite_ttl_hours = n;
                    }
                }
                _ => self.unknown_key(key, "program", PROGRAM_KEYS),
            }
        }
    }

    fn rates(&mut self, t: &DeTable<'_>) {
        for (key, node) in t.iter() {
            let code: &str = key.get_ref();
            let path = join_key("program.rates", code);
            let currency = match Currency::parse(code) {
                Ok(c) => Some(c),
                Err(e) => {
                    self.file_issue(key.span(), &path, e.to_string());
                    None
                }
            };
            let rate = self.positive_decimal(node, &path, code);
            if let (Some(c), Some(r)) = (currency, rate) {
                self.rates.push((c, r, key.span(), path));
            }
        }
    }

    /// Cross-checks `[program.rates]` against the program currency, then stores them.
    fn check_rates(&mut self, p: &mut ProgramConfig) {
        for (currency, rate, span, path) in std::mem::take(&mut self.rates) {
            if currency == p.currency {
                let at = match &self.program_currency_span {
                    Some(s) => format!(" (line {})", self.line(s)),
                    None => " (the default)".to_owned(),
                };
                self.file_issue(
                    span,
                    &path,
                    format!(
                        "{currency} is the program currency{at}; it needs no rate, remove this \
                         line"
                    ),
                );
            } else if p.rates.insert(currency, rate).is_some() {
                self.file_issue(span, &path, format!("a rate for {currency} is given twice"));
            }
        }
    }

    fn database(&mut self, t: &DeTable<'_>, d: &mut DatabaseConfig) {
        for (key, node) in t.iter() {
            let name: &str = key.get_ref();
            match name {
                "url" => {
                    if let Some(s) = self.string(node, "database.url") {
                        match validate_database_url(s) {
                            Ok(url) => d.url = url,
                            Err(m) => self.file_issue(node.span(), "database.url", m),
                        }
                    }
                }
                "password" => {
                    self.file_issue(
                        key.span(),
                        "database.password",
                        format!(
                            "secrets come only from the environment: put the whole URL with \
                             its password in {}",
                            env_vars::DATABASE_URL
                        ),
                    );
                }
                _ => self.unknown_key(key, "database", DATABASE_KEYS),
            }
        }
    }

    fn telegram(&mut self, t: &DeTable<'_>, tg: &mut TelegramConfig) {
        for (key, node) in t.iter() {
            let name: &str = key.get_ref();
            let path = join_key("telegram", name);
            let path = path.as_str();
            match name {
                "api_url" => tg.api_url = self.url(node, path).or(tg.api_url.take()),
                "webhook_url" => tg.webhook_url = self.url(node, path).or(tg.webhook_url.take()),
                "mode" => {
                    if let Some(s) = self.string(node, path) {
                        self.telegram_mode_span = Some(key.span());
                        match s.trim().to_ascii_lowercase().as_str() {
                            "polling" => tg.mode = TelegramMode::Polling,
                            "webhook" => tg.mode = TelegramMode::Webhook,
                            _ => self.file_issue(
                                node.span(),
                                path,
                                format!(
                                    "unknown mode \"{s}\" (expected \"polling\" or \"webhook\")"
                                ),
                            ),
                        }
                    }
                }
                "token" | "bot_token" => {
                    self.secret_in_file(key, "telegram", env_vars::TELEGRAM_BOT_TOKEN);
                }
                "webhook_secret" | "secret" | "secret_token" => {
                    self.secret_in_file(key, "telegram", env_vars::TELEGRAM_WEBHOOK_SECRET);
                }
                _ => self.unknown_key(key, "telegram", TELEGRAM_KEYS),
            }
        }
    }

    fn discord(&mut self, t: &DeTable<'_>, dc: &mut DiscordConfig) {
        for (key, node) in t.iter() {
            let name: &str = key.get_ref();
            let path = join_key("discord", name);
            let path = path.as_str();
            match name {
                "api_url" => dc.api_url = self.url(node, path).or(dc.api_url.take()),
                "guild_ids" => match node.get_ref() {
                    DeValue::Array(items) => {
                        for (i, item) in items.iter().enumerate() {
                            if let Some(id) = self.id(item, &format!("{path}[{i}]"))
                                && !dc.guild_ids.contains(&id)
                            {
                                dc.guild_ids.push(id);
                            }
                        }
                    }
                    other => {
                        let found = other.type_str();
                        self.file_issue(
                            node.span(),
                            path,
                            format!("expected a list of ids like [123, 456], found {found}"),
                        );
                    }
                },
                "token" | "bot_token" => {
                    self.secret_in_file(key, "discord", env_vars::DISCORD_TOKEN);
                }
                _ => self.unknown_key(key, "discord", DISCORD_KEYS),
            }
        }
    }

    fn http(&mut self, t: &DeTable<'_>, h: &mut HttpConfig) {
        for (key, node) in t.iter() {
            let name: &str = key.get_ref();
            match name {
                "listen" => {
                    if let Some(s) = self.string(node, "http.listen") {
                        match parse_listen(s) {
                            Ok(addr) => h.listen = addr,
                            Err(m) => self.file_issue(node.span(), "http.listen", m),
                        }
                    }
                }
                _ => self.unknown_key(key, "http", HTTP_KEYS),
            }
        }
    }

    fn kudos(&mut self, t: &DeTable<'_>, k: &mut KudosConfig) {
        for (key, node) in t.iter() {
            let name: &str = key.get_ref();
            let path = join_key("kudos", name);
            match name {
                "daily" => k.daily = self.uint32(node, &path, 0).unwrap_or(k.daily),
                "cooldown_minutes" => {
                    k.cooldown_minutes = self.uint32(node, &path, 0).unwrap_or(k.cooldown_minutes);
                }
                _ => self.unknown_key(key, "kudos", KUDOS_KEYS),
            }
        }
    }

    fn deals(&mut self, t: &DeTable<'_>, d: &mut DealsConfig) {
        for (key, node) in t.iter() {
            let name: &str = key.get_ref();
            match name {
                "protection_days" => {
                    d.protection_days = self
                        .uint32(node, "deals.protection_days", 1)
                        .unwrap_or(d.protection_days);
                }
                _ => self.unknown_key(key, "deals", DEALS_KEYS),
            }
        }
    }

    fn admins(&mut self, node: &Node<'_>, admins: &mut Vec<AdminId>) {
        let DeValue::Array(entries) = node.get_ref() else {
            let found = node.get_ref().type_str();
            self.file_issue(
                node.span(),
                "admins",
                format!(
                    "expected [[admins]] entries (platform = \"telegram\", id = \"123\"), \
                     found {found}"
                ),
            );
            return;
        };
        for (i, entry) in entries.iter().enumerate() {
            let at = format!("admins[{i}]");
            let Some(t) = self.table(entry, &at) else {
                continue;
            };
            let mut platform = None;
            let mut id = None;
            let (mut saw_platform, mut saw_id) = (false, false);
            for (key, value) in t.iter() {
                let name: &str = key.get_ref();
                let path = join_key(&at, name);
                match name {
                    "platform" => {
                        saw_platform = true;
                        if let Some(s) = self.string(value, &path) {
                            platform = AdminPlatform::parse(s);
                            if platform.is_none() {
                                self.file_issue(
                                    value.span(),
                                    &path,
                                    format!(
                                        "unknown platform \"{s}\" (expected \"telegram\" or \
                                         \"discord\")"
                                    ),
                                );
                            }
                        }
                    }
                    "id" => {
                        saw_id = true;
                        id = self.id(value, &path);
                    }
                    _ => self.unknown_key(key, &at, ADMIN_KEYS),
                }
            }
            for (missing, what) in [(!saw_platform, "platform"), (!saw_id, "id")] {
                if missing {
                    self.file_issue(
                        entry.span(),
                        &at,
                        format!("missing `{what}` (each admin needs platform and id)"),
                    );
                }
            }
            if let (Some(platform), Some(id)) = (platform, id) {
                let admin = AdminId { platform, id };
                if !admins.contains(&admin) {
                    admins.push(admin);
                }
            }
        }
    }

    // [[tiers]], [[plans]] and [allocation]

    fn tiers(&mut self, node: &Node<'_>, out: &mut Vec<TierRule>) {
        let Some(entries) = self.entries(
            node,
            "tiers",
            "name = \"Gold\", min_trailing_sales = 1000000, requires = [\"sales-basics\"]",
        ) else {
            return;
        };
        let mut rules = Vec::with_capacity(entries.len());
        let mut spans = Vec::with_capacity(entries.len());
        for (i, entry) in entries.iter().enumerate() {
            let (rule, s) = self.tier(entry, format!("tiers[{i}]"));
            rules.push(rule);
            spans.push(s);
        }
        for message in tier::validate(&rules) {
            self.tier_problem(&message, &spans, node.span());
        }
        *out = rules;
    }

    /// One `[[tiers]]` entry; the parts that could not be read are placeholders marked failed.
    fn tier(&mut self, entry: &Node<'_>, at: String) -> (TierRule, EntrySpans) {
        let mut s = EntrySpans::new(at, entry.span());
        let mut rule = TierRule {
            name: String::new(),
            min_trailing_sales: Decimal::ZERO,
            requires: Vec::new(),
        };
        let Some(t) = self.table(entry, &s.at) else {
            s.fail_all(TIER_KEYS);
            return (rule, s);
        };
        let mut seen = BTreeSet::new();
        for (key, node) in t.iter() {
            let name: &str = key.get_ref();
            let path = join_key(&s.at, name);
            s.fields.insert(name.to_owned(), key.span());
            seen.insert(name);
            let ok = match name {
                "name" => self
                    .string(node, &path)
                    .map(|v| rule.name = v.trim().to_owned())
                    .is_some(),
                "min_trailing_sales" => self
                    .decimal(node, &path, name)
                    .map(|d| rule.min_trailing_sales = d)
                    .is_some(),
                "requires" => self
                    .string_list(node, &path, "[\"sales-basics\"]")
                    .map(|v| rule.requires = v)
                    .is_some(),
                _ => {
                    self.unknown_key(key, &s.at, TIER_KEYS);
                    true
                }
            };
            if !ok {
                s.failed.insert(name.to_owned());
            }
        }
        for what in ["name", "min_trailing_sales"] {
            if !seen.contains(what) {
                self.file_issue(
                    entry.span(),
                    &s.at,
                    format!("missing `{what}` (each tier needs name and min_trailing_sales)"),
                );
                s.failed.insert(what.to_owned());
            }
        }
        (rule, s)
    }

    /// Attaches a [`tier::validate`] message (`tiers[1]: name "Gold" is already used by
    /// tiers[0]`) to the line of the key it is about.
    fn tier_problem(&mut self, message: &str, spans: &[EntrySpans], fallback: Range<usize>) {
        let found =
            parse_indexed(message, "tiers").and_then(|(i, rest)| Some((spans.get(i)?, rest)));
        let Some((s, rest)) = found else {
            self.file_issue(fallback, "tiers", message);
            return;
        };
        // After the label: `: …` or ` ("Gold"): …`.
        let text = match rest.strip_prefix(": ") {
            Some(text) => text,
            None => rest.rfind("): ").map_or(rest, |i| &rest[i + 3..]),
        };
        let field = if text.starts_with("name") {
            "name"
        } else if text.contains("min_trailing_sales") {
            "min_trailing_sales"
        } else if text.contains("requires") {
            "requires"
        } else {
            ""
        };
        let mut text = text.to_owned();
        if let Some(pos) = text.find("tiers[")
            && let Some((k, _)) = parse_indexed(&text[pos..], "tiers")
            && let Some(other) = spans.get(k)
        {
            let line = self.line(&other.span_of("name"));
            text.push_str(&format!(" (line {line})"));
        }
        self.entry_problem(s, field, text);
    }

    /// Reports a problem an engine check found in a parsed entry at the line of the key `field`
    /// names (relative to the entry), unless that part of the entry could not be read: then the
    /// problem would only echo the read error, or be about a placeholder.
    fn entry_problem(&mut self, s: &EntrySpans, field: &str, message: String) {
        if s.failed.contains(field_root(field)) {
            return;
        }
        let key = if field.is_empty() {
            s.at.clone()
        } else {
            join_key(&s.at, field)
        };
        self.file_issue(s.span_of(field), &key, message);
    }

    fn string_list(&mut self, node: &Node<'_>, key: &str, example: &str) -> Option<Vec<String>> {
        let DeValue::Array(items) = node.get_ref() else {
            let found = node.get_ref().type_str();
            self.file_issue(
                node.span(),
                key,
                format!("expected a list of strings like {example}, found {found}"),
            );
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for (j, item) in items.iter().enumerate() {
            match self.string(item, &format!("{key}[{j}]")) {
                Some(v) => out.push(v.trim().to_owned()),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn plans(&mut self, node: &Node<'_>, out: &mut Vec<Plan>) {
        let Some(entries) = self.entries(
            node,
            "plans",
            "id = \"standard\", version = 1, effective_from = \"2026-01-01\", brackets = […]",
        ) else {
            return;
        };
        let mut plans = Vec::with_capacity(entries.len());
        let mut spans = Vec::with_capacity(entries.len());
        for (i, entry) in entries.iter().enumerate() {
            let (plan, s) = self.plan(entry, format!("plans[{i}]"));
            plans.push(plan);
            spans.push(s);
        }
        for (plan, s) in plans.iter().zip(&spans) {
            for problem in plan::validate(plan) {
                self.entry_problem(s, &problem.field, problem.message);
            }
        }
        // Versions are compared only between entries whose id, version and date were read.
        let complete: Vec<usize> = (0..plans.len())
            .filter(|&i| {
                ["id", "version", "effective_from"]
                    .iter()
                    .all(|f| !spans[i].failed.contains(*f))
            })
            .collect();
        let list: Vec<Plan> = complete.iter().map(|&i| plans[i].clone()).collect();
        for problem in plan::validate_versions(&list) {
            let found = parse_indexed(&problem.field, "plans")
                .and_then(|(j, rest)| Some((spans.get(*complete.get(j)?)?, rest)));
            match found {
                Some((s, rest)) => {
                    let field = rest.strip_prefix('.').unwrap_or(rest);
                    self.entry_problem(s, field, problem.message);
                }
                None => self.file_issue(node.span(), "plans", problem.to_string()),
            }
        }
        *out = plans;
    }

    /// One `[[plans]]` entry; the parts that could not be read are placeholders marked failed.
    fn plan(&mut self, entry: &Node<'_>, at: String) -> (Plan, EntrySpans) {
        let mut s = EntrySpans::new(at, entry.span());
        let mut plan = Plan {
            id: String::new(),
            version: 1,
            effective_from: NaiveDate::MIN,
            mode: PlanMode::Marginal,
            target: None,
            brackets: Vec::new(),
            category_rates: BTreeMap::new(),
            accelerator: None,
            cap: None,
            bonuses: Vec::new(),
            volume_rebate: None,
            growth_rebate: None,
            assign: Assignment::Default,
        };
        let Some(t) = self.table(entry, &s.at) else {
            s.fail_all(PLAN_KEYS);
            return (plan, s);
        };
        let mut seen = BTreeSet::new();
        for (key, node) in t.iter() {
            let name: &str = key.get_ref();
            let path = join_key(&s.at, name);
            let path = path.as_str();
            s.fields.insert(name.to_owned(), key.span());
            seen.insert(name);
            let ok = match name {
                "id" => self
                    .string(node, path)
                    .map(|v| plan.id = v.trim().to_owned())
                    .is_some(),
                "version" => self
                    .uint32(node, path, 1)
                    .map(|v| plan.version = v)
                    .is_some(),
                "effective_from" => self
                    .date(node, path)
                    .map(|d| plan.effective_from = d)
                    .is_some(),
                "mode" => self.plan_mode(node, path).map(|m| plan.mode = m).is_some(),
                "target" => self
                    .decimal(node, path, name)
                    .map(|d| plan.target = Some(d))
                    .is_some(),
                "cap" => self
                    .decimal(node, path, name)
                    .map(|d| plan.cap = Some(d))
                    .is_some(),
                "brackets" => self
                    .decimal_rows(
                        node,
                        path,
                        name,
                        ["from", "rate"],
                        "{ from = 0, rate = 3 }",
                        &mut s,
                    )
                    .map(|rows| {
                        plan.brackets = rows
                            .into_iter()
                            .map(|[from, rate]| Bracket { from, rate })
                            .collect();
                    })
                    .is_some(),
                "bonuses" => self
                    .decimal_rows(
                        node,
                        path,
                        name,
                        ["attainment", "amount"],
                        "{ attainment = 100, amount = 2000 }",
                        &mut s,
                    )
                    .map(|rows| {
                        plan.bonuses = rows
                            .into_iter()
                            .map(|[attainment, amount]| BonusStep { attainment, amount })
                            .collect();
                    })
                    .is_some(),
                "category_rates" => self
                    .category_rates(node, path, &mut s)
                    .map(|rates| plan.category_rates = rates)
                    .is_some(),
                "accelerator" => self
                    .decimal_fields(
                        node,
                        path,
                        name,
                        ["above_attainment", "multiplier"],
                        "{ above_attainment = 100, multiplier = 1.5 }",
                        &mut s,
                    )
                    .map(|[above_attainment, multiplier]| {
                        plan.accelerator = Some(Accelerator {
                            above_attainment,
                            multiplier,
                        });
                    })
                    .is_some(),
                "volume_rebate" => self
                    .decimal_fields(
                        node,
                        path,
                        name,
                        ["threshold", "rate"],
                        "{ threshold = 200000, rate = 1 }",
                        &mut s,
                    )
                    .map(|[threshold, rate]| {
                        plan.volume_rebate = Some(VolumeRebate { threshold, rate });
                    })
                    .is_some(),
                "growth_rebate" => self
                    .decimal_fields(node, path, name, ["rate"], "{ rate = 2 }", &mut s)
                    .map(|[rate]| plan.growth_rebate = Some(GrowthRebate { rate }))
                    .is_some(),
                "assign" => self
                    .assignment(node, path, &mut s)
                    .map(|a| plan.assign = a)
                    .is_some(),
                _ => {
                    self.unknown_key(key, &s.at, PLAN_KEYS);
                    true
                }
            };
            if !ok {
                s.failed.insert(name.to_owned());
            }
        }
        for what in ["id", "version", "effective_from"] {
            if !seen.contains(what) {
                self.file_issue(
                    entry.span(),
                    &s.at,
                    format!("missing `{what}` (each plan needs id, version and effective_from)"),
                );
                s.failed.insert(what.to_owned());
            }
        }
        (plan, s)
    }

    fn plan_mode(&mut self, node: &Node<'_>, key: &str) -> Option<PlanMode> {
        let v = self.string(node, key)?;
        match v.trim().to_ascii_lowercase().as_str() {
            "marginal" => Some(PlanMode::Marginal),
            "whole" => Some(PlanMode::Whole),
            _ => {
                self.file_issue(
                    node.span(),
                    key,
                    format!("unknown mode \"{v}\" (expected \"marginal\" or \"whole\")"),
                );
                None
            }
        }
    }

    /// A table whose keys are all required decimals (`{ from = 0, rate = 3 }`), returned in the
    /// order of `names`. Each key's span is recorded as `field.name` in `s`.
    fn decimal_fields<const N: usize>(
        &mut self,
        node: &Node<'_>,
        path: &str,
        field: &str,
        names: [&str; N],
        example: &str,
        s: &mut EntrySpans,
    ) -> Option<[Decimal; N]> {
        let t = self.inline_table(node, path, example)?;
        let mut values: [Option<Decimal>; N] = [None; N];
        let mut seen = [false; N];
        let mut ok = true;
        for (key, value) in t.iter() {
            let name: &str = key.get_ref();
            match names.iter().position(|n| *n == name) {
                Some(k) => {
                    seen[k] = true;
                    s.fields.insert(join_key(field, name), key.span());
                    values[k] = self.decimal(value, &join_key(path, name), name);
                    ok &= values[k].is_some();
                }
                None => self.unknown_key(key, path, &names),
            }
        }
        for (name, seen) in names.iter().zip(seen) {
            if !seen {
                self.file_issue(
                    node.span(),
                    path,
                    format!("missing `{name}` (expected {example})"),
                );
                ok = false;
            }
        }
        ok.then(|| values.map(Option::unwrap_or_default))
    }

    /// A list of [`Walker::decimal_fields`] tables; each item's span is recorded as `field[j]`.
    fn decimal_rows<const N: usize>(
        &mut self,
        node: &Node<'_>,
        path: &str,
        field: &str,
        names: [&str; N],
        example: &str,
        s: &mut EntrySpans,
    ) -> Option<Vec<[Decimal; N]>> {
        let DeValue::Array(items) = node.get_ref() else {
            let found = node.get_ref().type_str();
            self.file_issue(
                node.span(),
                path,
                format!("expected a list like [ {example}, … ], found {found}"),
            );
            return None;
        };
        let mut rows = Vec::with_capacity(items.len());
        let mut ok = true;
        for (j, item) in items.iter().enumerate() {
            let item_field = format!("{field}[{j}]");
            s.fields.insert(item_field.clone(), item.span());
            let row = self.decimal_fields(
                item,
                &format!("{path}[{j}]"),
                &item_field,
                names,
                example,
                s,
            );
            match row {
                Some(row) => rows.push(row),
                None => ok = false,
            }
        }
        ok.then_some(rows)
    }

    fn category_rates(
        &mut self,
        node: &Node<'_>,
        path: &str,
        s: &mut EntrySpans,
    ) -> Option<BTreeMap<String, Decimal>> {
        let t = self.inline_table(node, path, "{ software = 10 }")?;
        let mut out = BTreeMap::new();
        let mut ok = true;
        for (key, value) in t.iter() {
            let name: &str = key.get_ref();
            s.fields
                .insert(join_key("category_rates", name), key.span());
            match self.decimal(value, &join_key(path, name), name) {
                Some(rate) => {
                    out.insert(name.to_owned(), rate);
                }
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    /// `assign = { region = "East" }` (or kind / tier / partner): exactly one key.
    fn assignment(
        &mut self,
        node: &Node<'_>,
        path: &str,
        s: &mut EntrySpans,
    ) -> Option<Assignment> {
        let t = self.inline_table(node, path, "{ region = \"East\" }")?;
        // Report in the order written, whatever order the table iterates in.
        let mut keys: Vec<(&Key<'_>, &Node<'_>)> = t.iter().collect();
        keys.sort_by_key(|(k, _)| k.span().start);
        let mut first: Option<(&str, Range<usize>)> = None;
        let mut chosen = None;
        let mut ok = true;
        for (key, value) in keys {
            let name: &str = key.get_ref();
            let key_path = join_key(path, name);
            s.fields.insert(join_key("assign", name), key.span());
            if !ASSIGN_KEYS.contains(&name) {
                let mut message = format!(
                    "unknown assignment key (expected one of: {}; leave `assign` out for the \
                     default plan)",
                    ASSIGN_KEYS.join(", ")
                );
                if let Some(best) = closest(name, ASSIGN_KEYS) {
                    message.push_str(&format!("; did you mean `{best}`?"));
                }
                self.file_issue(key.span(), &key_path, message);
                ok = false;
                continue;
            }
            if let Some((other, span)) = &first {
                let line = self.line(span);
                self.file_issue(
                    key.span(),
                    &key_path,
                    format!(
                        "a plan is assigned by one key only and `{other}` is already given \
                         (line {line}); use another [[plans]] entry for another group"
                    ),
                );
                ok = false;
                continue;
            }
            first = Some((name, key.span()));
            let text = match (name, value.get_ref()) {
                // A partner may be named by its id.
                ("partner", DeValue::Integer(i)) if i.radix() == 10 => Some(i.as_str().to_owned()),
                _ => self.string(value, &key_path).map(|v| v.trim().to_owned()),
            };
            let Some(text) = text else {
                ok = false;
                continue;
            };
            chosen = Some(match name {
                "region" => Assignment::Region(text),
                "kind" => Assignment::Kind(text),
                "tier" => Assignment::Tier(text),
                _ => Assignment::Partner(text),
            });
        }
        if !ok {
            return None;
        }
        if chosen.is_none() {
            self.file_issue(
                node.span(),
                path,
                "empty assignment: give one of region, kind, tier or partner, or leave `assign` \
                 out to make this the default plan",
            );
        }
        chosen
    }

    /// `[allocation]`: reads the keys given over the defaults, then checks the result.
    fn allocation(&mut self, header: Range<usize>, t: &DeTable<'_>, a: &mut AllocationWeights) {
        let mut written: BTreeMap<&str, Range<usize>> = BTreeMap::new();
        let mut failed = false;
        for (key, node) in t.iter() {
            let name: &str = key.get_ref();
            let slot = match name {
                "potential" => &mut a.potential,
                "contribution" => &mut a.contribution,
                "growth" => &mut a.growth,
                "floor" => &mut a.floor,
                "cap" => &mut a.cap,
                _ => {
                    self.unknown_key(key, "allocation", ALLOCATION_KEYS);
                    continue;
                }
            };
            match self.decimal(node, &join_key("allocation", name), name) {
                Some(d) => {
                    *slot = d;
                    written.insert(name, key.span());
                }
                None => failed = true,
            }
        }
        let span_of = |name: &str| written.get(name).cloned().unwrap_or(header.clone());
        let mut bad = failed;
        for (name, value) in [
            ("potential", a.potential),
            ("contribution", a.contribution),
            ("growth", a.growth),
            ("floor", a.floor),
            ("cap", a.cap),
        ] {
            if value < Decimal::ZERO {
                self.file_issue(
                    span_of(name),
                    &join_key("allocation", name),
                    format!("must not be negative, not {value}"),
                );
                bad = true;
            }
        }
        for (name, value) in [("floor", a.floor), ("cap", a.cap)] {
            if value > Decimal::ONE {
                self.file_issue(
                    span_of(name),
                    &join_key("allocation", name),
                    format!("a fraction of the budget, at most 1 (the whole budget), not {value}"),
                );
                bad = true;
            }
        }
        if a.cap.is_zero() {
            self.file_issue(
                span_of("cap"),
                "allocation.cap",
                "must be more than 0: with a cap of 0 nobody could receive anything",
            );
            bad = true;
        }
        if bad {
            return;
        }
        if a.potential.is_zero() && a.contribution.is_zero() && a.growth.is_zero() {
            self.file_issue(
                header,
                "allocation",
                "the weights potential, contribution and growth are all 0; at least one must be \
                 more than 0",
            );
        } else if a.floor > a.cap {
            let cap_at = match written.get("cap") {
                Some(span) => format!("line {}", self.line(span)),
                None => "the default".to_owned(),
            };
            self.file_issue(
                span_of("floor"),
                "allocation.floor",
                format!(
                    "the floor {} is above the cap {} ({cap_at}); 0 ≤ floor ≤ cap ≤ 1",
                    a.floor, a.cap
                ),
            );
        }
    }

    fn apply_env(&mut self, env: &dyn Fn(&str) -> Option<String>, cfg: &mut Config) {
        let get = |var: &str| env_value(env, var);
        if let Some(v) = get(env_vars::DATABASE_URL) {
            match validate_database_url(&v) {
                Ok(url) => cfg.database.url = url,
                Err(m) => self.env_issue(env_vars::DATABASE_URL, m),
            }
        }
        if let Some(v) = get(env_vars::TELEGRAM_BOT_TOKEN) {
            match validate_token(&v) {
                Ok(()) => cfg.telegram.token = Some(v),
                Err(m) => self.env_issue(env_vars::TELEGRAM_BOT_TOKEN, m),
            }
        }
        if let Some(v) = get(env_vars::TELEGRAM_API_URL) {
            match normalize_http_url(&v) {
                Ok(url) => cfg.telegram.api_url = Some(url),
                Err(m) => self.env_issue(env_vars::TELEGRAM_API_URL, m),
            }
        }
        if let Some(v) = get(env_vars::TELEGRAM_WEBHOOK_SECRET) {
            match validate_webhook_secret(&v) {
                Ok(()) => cfg.telegram.webhook_secret = Some(v),
                Err(m) => self.env_issue(env_vars::TELEGRAM_WEBHOOK_SECRET, m),
            }
        }
        if let Some(v) = get(env_vars::DISCORD_TOKEN) {
            match validate_token(&v) {
                Ok(()) => cfg.discord.token = Some(v),
                Err(m) => self.env_issue(env_vars::DISCORD_TOKEN, m),
            }
        }
        if let Some(v) = get(env_vars::DISCORD_API_URL) {
            match normalize_http_url(&v) {
                Ok(url) => cfg.discord.api_url = Some(url),
                Err(m) => self.env_issue(env_vars::DISCORD_API_URL, m),
            }
        }
        if let Some(v) = get(env_vars::HTTP_LISTEN) {
            match parse_listen(&v) {
                Ok(addr) => cfg.http.listen = addr,
                Err(m) => self.env_issue(env_vars::HTTP_LISTEN, m),
            }
        }
        if let Some(v) = get(env_vars::ADMINS) {
            match parse_admins(&v) {
                Ok(list) => {
                    for admin in list {
                        if !cfg.admins.contains(&admin) {
                            cfg.admins.push(admin);
                        }
                    }
                }
                Err(m) => self.env_issue(env_vars::ADMINS, m),
            }
        }
        cfg.log = get(env_vars::LOG);
    }

    /// Webhook mode needs a public URL (file) and a secret (environment).
    fn check_telegram(&mut self, tg: &TelegramConfig) {
        if tg.mode != TelegramMode::Webhook {
            return;
        }
        let span = self.telegram_mode_span.clone().unwrap_or(0..0);
        if tg.webhook_url.is_none() {
            self.file_issue(
                span.clone(),
                "telegram.mode",
                "webhook mode needs `telegram.webhook_url`, the public https base URL of this \
                 server",
            );
        }
        if tg.webhook_secret.is_none() {
            self.file_issue(
                span,
                "telegram.mode",
                format!(
                    "webhook mode needs the secret in the environment: set {}",
                    env_vars::TELEGRAM_WEBHOOK_SECRET
                ),
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Value checks shared by the file and the environment

fn join_key(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

/// The allowed key closest to a misspelt one, if it is close enough to be a likely typo.
fn closest<'a>(name: &str, allowed: &[&'a str]) -> Option<&'a str> {
    allowed
        .iter()
        .map(|a| (edit_distance(name, a), *a))
        .filter(|(d, a)| *d <= 2.max(a.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, a)| a)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Where each key of one `[[tiers]]` or `[[plans]]` entry is written, so that a problem an
/// engine check reports for a field (`brackets[2].from`) gets that key's line; and which
/// top-level keys of the entry could not be read.
struct EntrySpans {
    /// `plans[0]`.
    at: String,
    /// The whole entry (from its `[[plans]]` header).
    entry: Range<usize>,
    /// Field path inside the entry (`brackets[2].from`, `category_rates.software`) → key span.
    fields: BTreeMap<String, Range<usize>>,
    /// Top-level keys whose value could not be read (a placeholder stands in for it).
    failed: BTreeSet<String>,
}

impl EntrySpans {
    fn new(at: String, entry: Range<usize>) -> Self {
        EntrySpans {
            at,
            entry,
            fields: BTreeMap::new(),
            failed: BTreeSet::new(),
        }
    }

    fn fail_all(&mut self, keys: &[&str]) {
        self.failed.extend(keys.iter().map(|k| (*k).to_owned()));
    }

    /// The span of `field`, else of the nearest enclosing field that is written, else of the
    /// entry (e.g. a required key that is missing).
    fn span_of(&self, field: &str) -> Range<usize> {
        let mut f = field;
        loop {
            if let Some(span) = self.fields.get(f) {
                return span.clone();
            }
            match f.rfind(['.', '[']) {
                Some(i) if i > 0 => f = &f[..i],
                _ => return self.entry.clone(),
            }
        }
    }
}

/// `brackets` for `brackets[2].from`, `category_rates` for `category_rates.software`.
fn field_root(field: &str) -> &str {
    field.split(['.', '[']).next().unwrap_or(field)
}

/// `(2, ".from")` for `plans[2].from` and `name` = `plans`.
fn parse_indexed<'a>(text: &'a str, name: &str) -> Option<(usize, &'a str)> {
    let rest = text.strip_prefix(name)?.strip_prefix('[')?;
    let (index, rest) = rest.split_once(']')?;
    Some((index.parse().ok()?, rest))
}

/// A TOML float's source text (the parser only drops `_` separators) as an exact decimal:
/// `7.1`, `-0.5`, `1.5e3`. `inf` and `nan` are not decimals.
fn exact_float(text: &str) -> Option<Decimal> {
    let t = text.strip_prefix('+').unwrap_or(text);
    if t.contains(['e', 'E']) {
        Decimal::from_scientific(t).ok()
    } else {
        Decimal::from_str_exact(t).ok()
    }
}

/// `YYYY-MM-DD` exactly.
fn parse_date(text: &str) -> Option<NaiveDate> {
    if text.len() != 10 {
        return None;
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

fn parse_id(text: &str) -> Option<u64> {
    let t = text.trim();
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

fn validate_database_url(url: &str) -> Result<String, String> {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    let scheme_ok = ["sqlite:", "postgres:", "postgresql:"]
        .iter()
        .any(|s| lower.starts_with(s));
    if scheme_ok && url.len() > lower.find(':').map_or(0, |i| i + 1) {
        Ok(url.to_owned())
    } else {
        Err(format!(
            "unsupported database URL \"{}\" (expected sqlite://path or postgres://user@host/db)",
            redact_url(url)
        ))
    }
}

/// The URL with any password replaced by `***`.
fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let Some(at) = authority.rfind('@') else {
        return url.to_owned();
    };
    let userinfo = &authority[..at];
    let Some(colon) = userinfo.find(':') else {
        return url.to_owned();
    };
    format!(
        "{}{}:***{}",
        &url[..scheme_end],
        &userinfo[..colon],
        &rest[at..]
    )
}

/// Checks an `http(s)://` URL and drops trailing slashes.
fn normalize_http_url(url: &str) -> Result<String, String> {
    let trimmed = url.trim().trim_end_matches('/');
    let lower = trimmed.to_ascii_lowercase();
    let host = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    match host {
        Some(h) if !h.is_empty() && !h.contains(char::is_whitespace) => Ok(trimmed.to_owned()),
        _ => Err(format!(
            "invalid URL \"{}\" (expected http://host[:port][/path] or https://…)",
            url.trim()
        )),
    }
}

fn parse_listen(text: &str) -> Result<SocketAddr, String> {
    text.trim().parse().map_err(|_| {
        format!(
            "invalid listen address \"{}\" (expected IP:port, e.g. 127.0.0.1:8080 or [::]:8080)",
            text.trim()
        )
    })
}

/// Parses `telegram:1, discord:2`; empty items are skipped.
fn parse_admins(text: &str) -> Result<Vec<AdminId>, String> {
    let mut out = Vec::new();
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let parsed = item.split_once(':').and_then(|(p, id)| {
            Some(AdminId {
                platform: AdminPlatform::parse(p)?,
                id: parse_id(id).filter(|n| *n > 0)?,
            })
        });
        match parsed {
            Some(admin) => out.push(admin),
            None => {
                return Err(format!(
                    "invalid admin \"{item}\" (expected a comma list of telegram:<id> or \
                     discord:<id>, e.g. telegram:123,discord:456)"
                ));
            }
        }
    }
    Ok(out)
}

fn validate_token(token: &str) -> Result<(), String> {
    if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Err("the token contains spaces or control characters".to_owned())
    } else {
        Ok(())
    }
}

/// Telegram accepts 1–256 characters `A-Z a-z 0-9 _ -` as a webhook secret token.
fn validate_webhook_secret(secret: &str) -> Result<(), String> {
    let ok_chars = secret
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok_chars && (1..=256).contains(&secret.len()) {
        Ok(())
    } else {
        Err("must be 1 to 256 characters from A-Z, a-z, 0-9, _ and -".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
        let text =
            "# comment\n[program]\nname = \"Rally\"\n\n\n# the currency\ncurency = \"USD\"\n";
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
            msg.starts_with("rally.toml:3: `program.timezone`: unknown time zone \"Asia/Shangai\""),
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
        assert!(msg.contains("USD = \"7.1\""), "{msg}");
        let msg = errors("[program]\nauto_approve_below = -1.5\n");
        assert!(msg.contains("must be greater than 0"), "{msg}");
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
            msg.contains("rally.toml:5: `program.rates.USD`: must be greater than 0"),
            "{msg}"
        );
        assert!(msg.contains("rally.toml:6: `program.rates.USDX`"), "{msg}");
        assert!(
            msg.contains("rally.toml:7: `program.rates.EUR`: not a number"),
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
        assert!(msg.contains("must be greater than 0"), "{msg}");
        let msg = errors("[program]\nauto_approve_below = \"-5\"\n");
        assert!(msg.contains("must be greater than 0"), "{msg}");
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
                "environment variable RALLY_HTTP_LISTEN: invalid listen address \"localhost:80\""
            ),
            "{msg}"
        );
        assert!(msg.contains("environment variable RALLY_DATABASE_URL: unsupported database URL \"mysql://u:***@h/db\""), "{msg}");
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
                msg.starts_with("environment variable RALLY_ADMINS: invalid admin"),
                "{bad}: {msg}"
            );
            assert!(msg.contains(bad), "{msg}");
        }
    }

    #[test]
    fn bad_admin_entries_in_file() {
        let msg =
            errors("[[admins]]\nplatform = \"slack\"\nid = \"1\"\n\n[[admins]]\nid = \"x1\"\n");
        assert!(
            msg.contains("rally.toml:2: `admins[0].platform`: unknown platform \"slack\""),
            "{msg}"
        );
        assert!(
            msg.contains("rally.toml:5: `admins[1]`: missing `platform`"),
            "{msg}"
        );
        assert!(msg.contains("rally.toml:6: `admins[1].id`"), "{msg}");
        let msg = errors("[admins]\nplatform = \"telegram\"\n");
        assert!(msg.contains("expected [[admins]] entries"), "{msg}");
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
        assert!(msg.contains("rally.toml:4: `contests`: the [[contests]] section is not supported by this version of Rally yet"), "{msg}");
        assert!(
            msg.contains("rally.toml:9: `trainings`: the [[trainings]] section"),
            "{msg}"
        );
        assert!(
            msg.contains("rally.toml:7: `jobs`: the [[jobs]] section"),
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
            msg.contains("`program`: expected a table ([program]), found integer"),
            "{msg}"
        );
        let msg = errors("[program]\nrank_pending = \"yes\"\n");
        assert!(
            msg.contains("`program.rank_pending`: expected true or false"),
            "{msg}"
        );
        let msg = errors("[program]\nperiod = \"week\"\n");
        assert!(msg.contains("unknown period \"week\""), "{msg}");
        let msg = errors("[program]\ndefault_locale = \"fr\"\n");
        assert!(msg.contains("unsupported locale \"fr\""), "{msg}");
        let msg = errors("[program]\ninvite_ttl_hours = 0\n");
        assert!(
            msg.contains("`program.invite_ttl_hours`: must be a whole number from 1"),
            "{msg}"
        );
        let msg = errors("[database]\nurl = \"mysql://x\"\n");
        assert!(
            msg.contains("rally.toml:2: `database.url`: unsupported database URL"),
            "{msg}"
        );
        let msg = errors("[telegram]\nmode = \"push\"\n");
        assert!(msg.contains("unknown mode \"push\""), "{msg}");
        let msg = errors("[discord]\nguild_ids = 5\n");
        assert!(
            msg.contains("`discord.guild_ids`: expected a list"),
            "{msg}"
        );
        let msg = errors("log = \"debug\"\n");
        assert!(msg.contains("set RALLY_LOG"), "{msg}");
    }

    #[test]
    fn webhook_mode_needs_url_and_secret() {
        let msg = errors("[telegram]\nmode = \"webhook\"\n");
        assert!(
            msg.contains(
                "rally.toml:2: `telegram.mode`: webhook mode needs `telegram.webhook_url`"
            ),
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

    /// The example from issue 3, "Plans as code", verbatim (comments included).
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
            msg.contains("rally.toml:6: `plans[0].brackets[0].from`: the first bracket must start at 0, not 100"),
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
            msg.contains("rally.toml:9: `plans[0].accelerator`: missing `above_attainment`"),
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
                "rally.toml:5: `plans[0].brackets[0]`: missing `from` (expected { from = 0, rate = 3 })",
                "rally.toml:5: `plans[0].brackets[1].from`: not a number; write it like from = \"7.1\"",
                "rally.toml:6: `plans[0].bonuses`: expected a list like [ { attainment = 100, amount = 2000 }, … ], found integer",
            ]
        );

        let msg = errors("[[plans]]\nid = \"p\"\n");
        assert!(
            msg.contains("rally.toml:1: `plans[0]`: missing `version`"),
            "{msg}"
        );
        assert!(msg.contains("missing `effective_from`"), "{msg}");
        assert!(
            msg.contains("rally.toml:1: `plans[0].brackets`: at least one bracket is required"),
            "{msg}"
        );

        let msg = errors("[plans]\nid = \"p\"\n");
        assert!(
            msg.contains("rally.toml:1: `plans`: expected [[plans]] entries"),
            "{msg}"
        );
        let msg = errors(&plan_with(
            "mode = \"flat\"\nbrackets = [{ from = 0, rate = 1 }]\n",
        ));
        assert!(
            msg.contains("rally.toml:5: `plans[0].mode`: unknown mode \"flat\""),
            "{msg}"
        );
        let msg = errors(
            "[[plans]]\nid = \"p\"\nversion = 0\neffective_from = \"2026-13-01\"\nbrackets = [{ from = 0, rate = 1 }]\n",
        );
        assert!(msg.contains("rally.toml:3: `plans[0].version`"), "{msg}");
        assert!(
            msg.contains("rally.toml:4: `plans[0].effective_from`: not a valid date"),
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
            "rally.toml:6: `plans[0].assign.colour`: unknown assignment key (expected one of: \
             region, kind, tier, partner; leave `assign` out for the default plan)"
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
            msg.contains("rally.toml:6: `plans[0].assign`: the assignment names nobody"),
            "{msg}"
        );
        let msg = errors(&plan_with(
            "brackets = [ { from = 0, rate = 3 } ]\nassign = \"East\"\n",
        ));
        assert!(
            msg.contains("`plans[0].assign`: expected a table like { region = \"East\" }"),
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
            out.contains(
                "    cliff: at ¥150,000.00 commission jumps from ¥6,000.00 to ¥9,000.00\n"
            ),
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
                "rally.toml:7: `tiers[1].requires`: requires contains an empty certification id",
                "rally.toml:8: `tiers[1].speed`: unknown key (expected one of: name, min_trailing_sales, requires)",
            ]
        );

        let msg = errors("[[tiers]]\nmin_trailing_sales = 1\n[[tiers]]\nname = 5\n");
        let lines: Vec<&str> = msg.lines().collect();
        assert_eq!(
            lines,
            [
                "rally.toml:1: `tiers[0]`: missing `name` (each tier needs name and min_trailing_sales)",
                "rally.toml:3: `tiers[1]`: missing `min_trailing_sales` (each tier needs name and min_trailing_sales)",
                "rally.toml:4: `tiers[1].name`: expected a string, found integer",
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

        let cfg = parse(
            "[allocation]\npotential = 0.4\ncontribution = \"0.4\"\nfloor = 0.05\ncap = 0.4\n",
        )
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
        let msg = errors(
            "[allocation]\nfloor = 1\ncap = 1\npotential = 0\ncontribution = 0\ngrowth = 0\n",
        );
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
}
