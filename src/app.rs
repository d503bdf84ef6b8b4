//! The running program's context: store, configuration, localized text, the clock and the
//! in-memory rank cache, shared behind an `Arc` by every adapter, the CLI and the services.
//! Only small derived facts live here (program time and money, admin lookup); what the program
//! *does* lives in the feature services (`crate::features`).

use std::sync::Arc;

use chrono::{DateTime, NaiveDate};

use crate::config::{AdminPlatform, Config};
use crate::engine::money::{Currency, Money};
use crate::engine::partner::Platform;
use crate::engine::period::Period;
use crate::i18n::I18n;
use crate::store::Store;
use crate::store::rank_cache::RankCache;
use crate::store::totals::RankBasis;

/// Why an amount cannot be counted in the program currency.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConversionError {
    #[error(
        "no exchange rate for {currency}: add it to [program.rates] (program currency {program})"
    )]
    NoRate {
        currency: Currency,
        program: Currency,
    },
    #[error("the amount is too large to convert")]
    TooLarge,
}

/// Where "now" comes from; tests and the demo pin it.
pub trait Clock: Send + Sync {
    /// Unix milliseconds.
    fn now_ms(&self) -> i64;
}

/// The wall clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        chrono::Utc::now().timestamp_millis()
    }
}

/// A clock that always says the same instant (tests, benchmarks).
pub struct FixedClock(pub i64);

impl Clock for FixedClock {
    fn now_ms(&self) -> i64 {
        self.0
    }
}

/// Everything a handler needs, shared behind an `Arc`.
pub struct App {
    pub store: Store,
    pub config: Arc<Config>,
    pub i18n: I18n,
    pub clock: Box<dyn Clock>,
    /// The bot's own username on Telegram (`/cmd@name` addressing, deep links).
    pub bot_username: Option<String>,
    /// Leaderboards in memory, synced from `period_totals` on each use.
    pub ranks: RankCache,
    /// Wakes this process's outbox senders when something was enqueued (others poll).
    pub outbox_wake: Arc<tokio::sync::Notify>,
    /// Contest leaderboards in memory, synced from `contest_standings` on each use, and the
    /// contests whose standings this process has seen built.
    pub contests: crate::features::contests::service::ContestState,
    /// Telegram usernames this process has stored (community: kudos by `@username`).
    pub usernames: crate::features::community::kudos::Usernames,
    // --- throughput: group commit ---
    /// `/report`s waiting for the running group commit, owned by the chat layer's group
    /// commit, which alone knows its type (the App does not depend on the chat layer).
    pub group_queue: std::sync::OnceLock<Box<dyn std::any::Any + Send + Sync>>,
}

impl App {
    pub fn new(store: Store, config: Arc<Config>, clock: Box<dyn Clock>) -> anyhow::Result<App> {
        Ok(App {
            store,
            config,
            i18n: I18n::new()?,
            clock,
            bot_username: None,
            ranks: RankCache::new(),
            outbox_wake: Arc::new(tokio::sync::Notify::new()),
            contests: Default::default(),
            usernames: Default::default(),
            group_queue: Default::default(),
        })
    }

    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// The program-local calendar date of an instant.
    pub fn local_date(&self, at_ms: i64) -> NaiveDate {
        DateTime::from_timestamp_millis(at_ms)
            .unwrap_or_default()
            .with_timezone(&self.config.program.timezone)
            .date_naive()
    }

    /// An instant as program-local `YYYY-MM-DD HH:MM`.
    pub fn local_time(&self, at_ms: i64) -> String {
        DateTime::from_timestamp_millis(at_ms)
            .unwrap_or_default()
            .with_timezone(&self.config.program.timezone)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    }

    /// The instant of a program-local wall-clock time: the earlier one when clocks go back, an
    /// hour later when it does not exist (clocks go forward).
    pub fn instant_of(&self, wall: chrono::NaiveDateTime) -> i64 {
        use chrono::TimeZone;
        let tz = self.config.program.timezone;
        tz.from_local_datetime(&wall)
            .earliest()
            .or_else(|| {
                tz.from_local_datetime(&(wall + chrono::Duration::hours(1)))
                    .earliest()
            })
            .map_or(0, |t| t.timestamp_millis())
    }

    /// The period an instant falls in.
    pub fn period_at(&self, at_ms: i64) -> Period {
        Period::containing(self.config.program.period, self.local_date(at_ms))
    }

    /// Formats minor units of program currency.
    pub fn program_money(&self, minor: i64) -> String {
        Money::from_minor(minor, self.config.program.currency).format()
    }

    /// True if the config names this account as an admin.
    pub fn is_configured_admin(&self, platform: Platform, user_id: &str) -> bool {
        let wanted = match platform {
            Platform::Telegram => AdminPlatform::Telegram,
            Platform::Discord => AdminPlatform::Discord,
            Platform::Console => return false,
        };
        self.config
            .admins
            .iter()
            .any(|a| a.platform == wanted && a.id.to_string() == user_id)
    }

    /// `money` in program currency at `[program.rates]`, rounded to its minor unit.
    pub fn to_program_money(&self, money: Money) -> Result<Money, ConversionError> {
        let program = self.config.program.currency;
        if money.currency() == program {
            return Ok(money);
        }
        let rate =
            self.config
                .program
                .rates
                .get(&money.currency())
                .ok_or(ConversionError::NoRate {
                    currency: money.currency(),
                    program,
                })?;
        money
            .checked_convert(program, *rate)
            .map(|m| m.round())
            .map_err(|_| ConversionError::TooLarge)
    }

    /// Which total ranks partners (`program.rank_pending`).
    pub fn rank_basis(&self) -> RankBasis {
        if self.config.program.rank_pending {
            RankBasis::Provisional
        } else {
            RankBasis::Approved
        }
    }

    /// Invite lifetime from `program.invite_ttl_hours`.
    pub fn invite_ttl_ms(&self) -> i64 {
        i64::from(self.config.program.invite_ttl_hours) * 3_600_000
    }
}
