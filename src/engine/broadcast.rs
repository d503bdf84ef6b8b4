//! Broadcasts: who a message goes to (leading `key=value` filters), and when (`HH:MM`, a local
//! date and time, or a cron expression). Pure.

use chrono::{Duration, NaiveDateTime, NaiveTime};

use super::partner::{PartnerKind, Platform};
use super::schedule::{CronSchedule, Recipients};

/// Partner and platform attributes a broadcast is limited to; `None`: any.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AudienceFilter {
    pub region: Option<String>,
    pub tier: Option<String>,
    pub kind: Option<PartnerKind>,
    pub platform: Option<Platform>,
}

/// The filter keys a broadcast accepts, in the order help shows them.
pub const FILTER_KEYS: [&str; 5] = ["region", "tier", "kind", "platform", "to"];

/// Why a filter word was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error("unknown filter {0}")]
    UnknownKey(String),
    #[error("bad value {value:?} for {key}")]
    BadValue { key: String, value: String },
}

/// Reads leading `key=value` words into a filter and recipients; returns how many words were
/// filters. A word with `=` whose key is not a filter key is an error (a typo must not become
/// part of the announcement); the first word without `=` starts the text.
pub fn read_filters(words: &[&str]) -> Result<(AudienceFilter, Recipients, usize), FilterError> {
    let mut filter = AudienceFilter::default();
    let mut to = Recipients::default();
    let mut used = 0;
    for word in words {
        let Some((key, value)) = word.split_once('=') else {
            break;
        };
        let key = key.to_lowercase();
        let bad = || FilterError::BadValue {
            key: key.clone(),
            value: value.to_string(),
        };
        if value.trim().is_empty() {
            return Err(bad());
        }
        match key.as_str() {
            "region" => filter.region = Some(value.to_string()),
            "tier" => filter.tier = Some(value.to_string()),
            "kind" => filter.kind = Some(PartnerKind::parse(value).ok_or_else(bad)?),
            "platform" => {
                filter.platform = Some(match value.to_lowercase().as_str() {
                    "telegram" => Platform::Telegram,
                    "discord" => Platform::Discord,
                    _ => return Err(bad()),
                })
            }
            "to" => to = Recipients::parse(&value.to_lowercase()).ok_or_else(bad)?,
            _ => return Err(FilterError::UnknownKey(key)),
        }
        used += 1;
    }
    Ok((filter, to, used))
}

/// When a scheduled broadcast goes out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum When {
    /// `HH:MM`: the next time the program clock shows it.
    Time(NaiveTime),
    /// `YYYY-MM-DDTHH:MM` on the program clock.
    At(NaiveDateTime),
    /// A quoted cron expression: every time it matches.
    Cron(Box<CronSchedule>),
}

impl When {
    /// `HH:MM` or `YYYY-MM-DDTHH:MM`; a cron expression is read by the caller (it is quoted).
    pub fn parse_time(word: &str) -> Option<When> {
        if let Ok(time) = NaiveTime::parse_from_str(word, "%H:%M") {
            return Some(When::Time(time));
        }
        NaiveDateTime::parse_from_str(word, "%Y-%m-%dT%H:%M")
            .ok()
            .map(When::At)
    }
}

/// The next wall time at `time` after `now` (today if still ahead, else tomorrow).
pub fn next_at(time: NaiveTime, now: NaiveDateTime) -> NaiveDateTime {
    let today = now.date().and_time(time);
    if today > now {
        today
    } else {
        (now.date() + Duration::days(1)).and_time(time)
    }
}

/// Delivery results of a broadcast, for its author's report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub sent: i64,
    pub failed: i64,
    /// Of the failed: the platform refused (blocked the bot, never started it, left).
    pub refused: i64,
    pub pending: i64,
}

impl Tally {
    pub fn total(&self) -> i64 {
        self.sent + self.failed + self.pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn filters_lead_and_typos_are_refused() {
        let words = ["region=East", "kind=dealer", "to=all", "Big", "news"];
        let (filter, to, used) = read_filters(&words).expect("filters");
        assert_eq!(used, 3);
        assert_eq!(filter.region.as_deref(), Some("East"));
        assert_eq!(filter.kind, Some(PartnerKind::Dealer));
        assert_eq!(to, Recipients::All);
        let (_, to, used) = read_filters(&["hello", "region=East"]).expect("text first");
        assert_eq!((to, used), (Recipients::Chats, 0));
        assert_eq!(
            read_filters(&["regoin=East", "x"]),
            Err(FilterError::UnknownKey("regoin".into()))
        );
        assert!(matches!(
            read_filters(&["platform=slack"]),
            Err(FilterError::BadValue { .. })
        ));
        assert!(matches!(
            read_filters(&["to=everyone"]),
            Err(FilterError::BadValue { .. })
        ));
        assert!(matches!(
            read_filters(&["region="]),
            Err(FilterError::BadValue { .. })
        ));
    }

    #[test]
    fn times_and_next_occurrence() {
        let now = NaiveDate::from_ymd_opt(2026, 11, 30)
            .and_then(|d| d.and_hms_opt(10, 0, 0))
            .expect("now");
        let Some(When::Time(nine)) = When::parse_time("09:00") else {
            panic!("time")
        };
        assert_eq!(next_at(nine, now).to_string(), "2026-12-01 09:00:00");
        let Some(When::Time(noon)) = When::parse_time("12:30") else {
            panic!("time")
        };
        assert_eq!(next_at(noon, now).to_string(), "2026-11-30 12:30:00");
        assert!(matches!(
            When::parse_time("2026-12-24T18:00"),
            Some(When::At(_))
        ));
        assert_eq!(When::parse_time("25:00"), None);
        assert_eq!(When::parse_time("tomorrow"), None);
    }
}
