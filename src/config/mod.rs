//! Typed, validated configuration (README "Configuration"): a TOML file (`--config`, else `RALLY_CONFIG`, else
//! `./rally.toml`, else built-in defaults) plus environment overrides.
//!
//! serde reads the file into the raw structs of `raw.rs`, each value read by its type as it is
//! read: a wrong value, a table or array where something else was written, a missing required
//! key is recorded with its span instead of stopping the read; keys serde does not know are
//! collected by `serde_ignored`. `validate.rs` names each problem by its dotted key and line,
//! runs the checks that span several values (including the engine's own checks of plans and
//! tiers), and `env.rs` lays the environment over the result. Every problem — unknown keys, bad
//! values, secrets written into the file, sections this version does not support yet — is
//! reported together, each naming the file, the line and the dotted key. Secrets are read only
//! from the environment. Money values (rates, thresholds) are read exactly from integers, quoted
//! strings or TOML floats — a float is read from its source text, never through floating point.
//!
//! Plans, tiers and allocation weights live here too (README "Plans, tiers and allocation").

mod describe;
mod env;
mod raw;
#[cfg(test)]
mod tests;
mod validate;

use std::collections::BTreeMap;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::{Path, PathBuf};

use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use toml::de::DeTable;

use crate::engine::allocation::AllocationWeights;
use crate::engine::badges::Badge;
pub use crate::engine::broadcast::AudienceFilter;
use crate::engine::contest::Contest;
use crate::engine::money::{Currency, Money};
use crate::engine::period::PeriodKind;
use crate::engine::plan::Plan;
use crate::engine::points::PointsRules;
use crate::engine::schedule::{CronSchedule, JobAction, Recipients};
use crate::engine::tier::TierRule;
use env::{env_value, redact_url};
use validate::Checker;

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
    pub const DISCORD_SHARDS: &str = "RALLY_DISCORD_SHARDS";
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
    /// `[jobs]`: the catch-up window and the scheduled jobs of `[[jobs.run]]`.
    pub jobs: JobsConfig,
    /// `[[trainings]]` in file order (ids unique); synced into the database at start-up, beside
    /// those added with `rally trainings add`.
    pub trainings: Vec<TrainingConfig>,
    /// `[outbox]`: the senders' pace and retries.
    pub outbox: OutboxConfig,
    /// `[[tiers]]` in file order. A partner holds the highest-ranked tier whose conditions are all
    /// met (see [`crate::engine::tier`]); names are unique (case-insensitive).
    pub tiers: Vec<TierRule>,
    /// `[[plans]]` in file order: every version of every plan, each valid by [`plan::validate`]
    /// and together by [`plan::validate_versions`]. Pick one with [`plan::select_plan`].
    pub plans: Vec<Plan>,
    /// `[allocation]`; missing keys take the values of [`default_allocation`].
    pub allocation: AllocationWeights,
    /// `[[contests]]` in file order; ids are unique (case-insensitive).
    pub contests: Vec<Contest>,
    /// Log filter (as `RUST_LOG`), from `RALLY_LOG` only.
    pub log: Option<String>,
    // --- community: points and badges (issue 11) ---
    /// `[points]`; missing keys take the defaults of [`PointsRules::default`].
    pub points: PointsRules,
    /// `[[badges]]` in file order (ids unique); `None` when the file has none: the built-in
    /// badges of [`crate::engine::badges::defaults`] apply (see [`Config::badge_rules`]).
    pub badges: Option<Vec<Badge>>,
    /// `[stories]`.
    pub stories: StoriesConfig,
}

/// `[stories]` (community, issue 11).
#[derive(Clone, Debug, PartialEq)]
pub struct StoriesConfig {
    /// When the week's most reacted story is posted (cron with seconds, program time zone).
    pub story_of_week: CronSchedule,
}

impl Default for StoriesConfig {
    /// Mondays at 09:00.
    fn default() -> Self {
        StoriesConfig {
            story_of_week: "0 0 9 * * Mon"
                .parse()
                .expect("a constant, valid cron expression"),
        }
    }
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
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
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
    /// The gateway shards this instance connects (`shards = "0-1/4"`, or
    /// `RALLY_DISCORD_SHARDS`); `None`: one shard, the whole bot.
    pub shards: Option<DiscordShards>,
}

/// A contiguous range of a bot's gateway shards: `first` to `last` (inclusive) of `total`.
/// Instances sharing a bot split its shards by giving each its own range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DiscordShards {
    pub first: u32,
    pub last: u32,
    pub total: u32,
}

impl DiscordShards {
    /// `"first-last/total"` or `"shard/total"`, with `first <= last < total`.
    pub fn parse(text: &str) -> Option<DiscordShards> {
        let (range, total) = text.trim().split_once('/')?;
        let total: u32 = total.trim().parse().ok()?;
        let (first, last) = match range.split_once('-') {
            Some((a, b)) => (a.trim().parse().ok()?, b.trim().parse().ok()?),
            None => {
                let only: u32 = range.trim().parse().ok()?;
                (only, only)
            }
        };
        (first <= last && last < total).then_some(DiscordShards { first, last, total })
    }
}

impl fmt::Display for DiscordShards {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.first == self.last {
            write!(f, "{}/{}", self.first, self.total)
        } else {
            write!(f, "{}-{}/{}", self.first, self.last, self.total)
        }
    }
}

/// `[http]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpConfig {
    pub listen: SocketAddr,
    // --- HTTP API and TV page (issue 13) ---
    /// The base URL people reach the server at (no trailing `/`), for the links `rally tvlink`
    /// prints; `http://<listen>` when unset.
    pub public_url: Option<String>,
    /// Whether the TV page shows amounts (else names, places and bars only).
    pub tv_show_amounts: bool,
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

/// `[outbox]`: how fast and how persistently Rally sends what it says on its own. The
/// defaults are the platforms' published limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutboxConfig {
    /// Telegram messages per second for the whole bot.
    pub telegram_per_second: u32,
    /// Telegram messages per second to one private chat.
    pub telegram_private_per_second: u32,
    /// Telegram messages per minute to one group.
    pub telegram_group_per_minute: u32,
    /// Discord requests per second (global).
    pub discord_per_second: u32,
    /// Discord messages per 5 seconds to one channel.
    pub discord_channel_per_5s: u32,
    /// Attempts before a message that keeps failing (network, 5xx) is marked failed.
    pub max_attempts: u32,
    /// Seconds a sender holds a message it is delivering; after a crash, another sender takes
    /// it over after this long.
    pub lease_seconds: u32,
}

/// `[jobs]`.
#[derive(Clone, Debug, PartialEq)]
pub struct JobsConfig {
    /// A due time missed while no instance ran runs late within this many hours, else it is
    /// skipped (and logged).
    pub catch_up_hours: u32,
    /// `[[jobs.run]]` in file order; names are unique. The built-in jobs follow unless
    /// `builtin = false` (see [`JobsConfig::BUILTIN`]).
    pub run: Vec<JobConfig>,
    /// Whether the built-in jobs run (`[jobs] builtin`, default true).
    pub builtin: bool,
    /// Answered inbox updates and handled messages older than this many days are deleted by
    /// the hourly prune (`scheduler::prune`; default 7, at least 1: Telegram redelivers an
    /// update for at most 24 hours).
    pub prune_after_days: u32,
}

impl JobsConfig {
    /// Jobs every program has unless it turns them off: (name, schedule, action). A
    /// `[[jobs.run]]` entry with the same action (or name) replaces the built-in one, which is
    /// how a program moves it to another time.
    pub const BUILTIN: &'static [(&'static str, &'static str, JobAction)] = &[
        ("weekly_digest", "0 0 8 * * Mon", JobAction::WeeklyDigest),
        ("nudges", "0 0 10 * * Mon", JobAction::Nudges),
    ];

    /// Appends the built-in jobs the configuration did not replace.
    pub fn add_builtin(&mut self) {
        if !self.builtin {
            return;
        }
        for (name, schedule, action) in Self::BUILTIN {
            if self
                .run
                .iter()
                .any(|j| j.action == *action || j.name == *name)
            {
                continue;
            }
            let Ok(schedule) = schedule.parse() else {
                continue;
            };
            self.run.push(JobConfig {
                name: (*name).to_string(),
                schedule,
                action: *action,
                text: None,
                filters: AudienceFilter::default(),
                to: Recipients::default(),
            });
        }
    }
}

/// One `[[trainings]]` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrainingConfig {
    pub id: String,
    pub title: String,
    pub level: crate::engine::training::Level,
    /// Wall-clock start in the program time zone.
    pub start: chrono::NaiveDateTime,
    pub duration_minutes: u32,
    pub capacity: u32,
    /// Online: the meeting link; offline: the place (one of the two, or neither).
    pub link: Option<String>,
    pub place: Option<String>,
    pub eligible: crate::engine::training::Eligibility,
    /// Granted to the partner of each member who completes the training.
    pub certification: Option<String>,
    /// Minutes before the start, largest first (default a day and an hour).
    pub reminders: Vec<u32>,
    pub quiz: Option<crate::engine::training::Quiz>,
}

/// One `[[jobs.run]]`.
#[derive(Clone, Debug, PartialEq)]
pub struct JobConfig {
    pub name: String,
    /// Cron with seconds, in the program time zone.
    pub schedule: CronSchedule,
    pub action: JobAction,
    /// The announcement (`announce`).
    pub text: Option<String>,
    /// Which partners' members and chats (region, tier, kind); none: everyone.
    pub filters: AudienceFilter,
    /// Program chats (the default), members privately, or all.
    pub to: Recipients,
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

/// `Default` impls from a table of default values.
macro_rules! defaults {
    ($($t:ident { $($field:ident: $value:expr),* $(,)? })*) => {$(
        impl Default for $t {
            fn default() -> Self {
                $t { $($field: $value),* }
            }
        }
    )*};
}

defaults! {
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
    DatabaseConfig { url: DEFAULT_DATABASE_URL.to_owned() }
    HttpConfig { listen: DEFAULT_HTTP_LISTEN, public_url: None, tv_show_amounts: true }
    KudosConfig { daily: 5, cooldown_minutes: 60 }
    DealsConfig { protection_days: 90 }
    JobsConfig { catch_up_hours: 6, run: Vec::new(), builtin: true, prune_after_days: 7 }
    OutboxConfig {
        telegram_per_second: 30,
        telegram_private_per_second: 1,
        telegram_group_per_minute: 20,
        discord_per_second: 50,
        discord_channel_per_5s: 5,
        max_attempts: 8,
        lease_seconds: 60,
    }
    // Built-in defaults, as if there were no file and no environment.
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
        jobs: {
            let mut jobs = JobsConfig::default();
            jobs.add_builtin();
            jobs
        },
        trainings: Vec::new(),
        outbox: OutboxConfig::default(),
        tiers: Vec::new(),
        plans: Vec::new(),
        allocation: default_allocation(),
        contests: Vec::new(),
        log: None,
        points: PointsRules::default(),
        badges: None,
        stories: StoriesConfig::default(),
    }
}

impl Config {
    /// The badges in force: `[[badges]]`, else the built-in ones (the 100k month in the
    /// program currency).
    pub fn badge_rules(&self) -> Vec<Badge> {
        match &self.badges {
            Some(badges) => badges.clone(),
            None => {
                let hundred_k = Money::new(Decimal::from(100_000), self.program.currency)
                    .to_minor()
                    .unwrap_or(i64::MAX);
                crate::engine::badges::defaults(hundred_k)
            }
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
    // The file's jobs come first; the built-in ones it does not replace are added at the end.
    cfg.jobs.run.clear();
    let (root, syntax) = DeTable::parse_recoverable(text);
    let tree = toml::de::DeValue::Table(root.get_ref().clone());
    let mut c = Checker::new(text, source.unwrap_or("(defaults)"), tree);
    for e in &syntax {
        let message = format!("invalid TOML: {}", e.message());
        c.issue(e.span().unwrap_or(0..0), "", message);
    }
    if !syntax.is_empty() {
        return Err(ConfigError::Invalid(c.finish()));
    }
    let mut ignored = Vec::new();
    let de = toml::de::Deserializer::from(root);
    let (read, found) = raw::reading(text, || {
        serde_ignored::deserialize(de, |path| ignored.push(validate::key_of(&path)))
    });
    found.into_iter().for_each(|f| c.found(f));
    match read {
        Ok(raw) => {
            ignored.iter().for_each(|key| c.ignored(key));
            c.config(raw, &mut cfg);
        }
        // Leaves accept any TOML value, so only a number toml cannot hand to serde (an integer
        // beyond i64, a float beyond f64) gets here; it stops the read like a syntax error.
        Err(e) => c.issue(
            e.span().unwrap_or(0..0),
            "",
            format!("invalid TOML: {}", e.message()),
        ),
    }
    c.apply_env(env, &mut cfg);
    cfg.jobs.add_builtin();
    c.check_telegram(&cfg.telegram);
    let issues = c.finish();
    if issues.is_empty() {
        Ok(cfg)
    } else {
        Err(ConfigError::Invalid(issues))
    }
}
