//! What Discord told us about its rate limits, so REST calls wait instead of earning a 429:
//! per-route buckets from the `X-RateLimit-Remaining` / `X-RateLimit-Reset-After` headers of
//! every answer, and a pause of every call after a global 429.
//!
//! These are Discord's own counters read back, not a limiter of ours (the outbox paces with
//! `governor`); they cover what a fixed pace cannot know: buckets shared with other requests of
//! the bot, and limits Discord lowers at will.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use serenity::http::RatelimitingBucket;

/// Known limits: route buckets that are empty until a moment, and a global pause.
#[derive(Default)]
pub struct DiscordLimits {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Buckets with no request left, and when they refill.
    empty_until: HashMap<RatelimitingBucket, Instant>,
    /// After a global 429: no request at all until then.
    global_until: Option<Instant>,
}

/// What one answer said about the limits.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Observed {
    /// A normal answer: requests left in the route's bucket and when it refills.
    Bucket {
        remaining: Option<u32>,
        reset_after: Option<Duration>,
    },
    /// A 429 for this route (or a shared resource) only.
    RouteLimited(Duration),
    /// A 429 of the global limit: every route waits.
    GlobalLimited(Duration),
}

impl DiscordLimits {
    /// How long a request on `bucket` must wait now (zero: go).
    pub fn wait_for(&self, bucket: RatelimitingBucket, now: Instant) -> Duration {
        let Ok(mut state) = self.state.lock() else {
            return Duration::ZERO;
        };
        let global = state
            .global_until
            .map_or(Duration::ZERO, |until| until.saturating_duration_since(now));
        let route = match state.empty_until.get(&bucket) {
            Some(until) if *until > now => until.saturating_duration_since(now),
            Some(_) => {
                state.empty_until.remove(&bucket);
                Duration::ZERO
            }
            None => Duration::ZERO,
        };
        global.max(route)
    }

    /// Records what an answer on `bucket` said.
    pub fn observe(&self, bucket: RatelimitingBucket, observed: Observed, now: Instant) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        match observed {
            Observed::Bucket {
                remaining: Some(0),
                reset_after: Some(reset_after),
            } => {
                state.empty_until.insert(bucket, now + reset_after);
            }
            Observed::Bucket { .. } => {
                state.empty_until.remove(&bucket);
            }
            Observed::RouteLimited(wait) => {
                state.empty_until.insert(bucket, now + wait);
            }
            Observed::GlobalLimited(wait) => {
                let until = now + wait;
                state.global_until = Some(state.global_until.map_or(until, |u| u.max(until)));
            }
        }
    }
}

/// Reads the limits from an answer's status, headers and (for a 429) JSON body.
pub fn read_answer(status: u16, headers: &HeaderMap, body: &serde_json::Value) -> Observed {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let seconds = |text: &str| {
        text.parse::<f64>()
            .ok()
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(|s| Duration::from_secs_f64(s.min(3_600.0)))
    };
    let reset_after = header("x-ratelimit-reset-after").and_then(seconds);
    if status == 429 {
        let wait = body["retry_after"]
            .as_f64()
            .and_then(|s| seconds(&s.to_string()))
            .or(reset_after)
            .or_else(|| header("retry-after").and_then(seconds))
            .unwrap_or(Duration::from_secs(1));
        let global = body["global"].as_bool() == Some(true)
            || header("x-ratelimit-global").is_some_and(|v| v.eq_ignore_ascii_case("true"))
            || header("x-ratelimit-scope") == Some("global");
        return if global {
            Observed::GlobalLimited(wait)
        } else {
            Observed::RouteLimited(wait)
        };
    }
    Observed::Bucket {
        remaining: header("x-ratelimit-remaining").and_then(|v| v.parse().ok()),
        reset_after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serenity::http::Route;
    use serenity::model::id::ChannelId;

    fn bucket(channel: u64) -> RatelimitingBucket {
        Route::ChannelMessages {
            channel_id: ChannelId::new(channel),
        }
        .ratelimiting_bucket()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().expect("header"));
        }
        map
    }

    #[test]
    fn an_empty_bucket_waits_for_its_reset_and_only_that_route() {
        let limits = DiscordLimits::default();
        let now = Instant::now();
        let seen = read_answer(
            200,
            &headers(&[
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset-after", "1.500"),
            ]),
            &serde_json::Value::Null,
        );
        limits.observe(bucket(1), seen, now);
        assert_eq!(
            limits.wait_for(bucket(1), now),
            Duration::from_millis(1_500)
        );
        assert_eq!(limits.wait_for(bucket(2), now), Duration::ZERO);
        assert_eq!(
            limits.wait_for(bucket(1), now + Duration::from_secs(2)),
            Duration::ZERO
        );
    }

    #[test]
    fn a_bucket_with_requests_left_does_not_wait() {
        let limits = DiscordLimits::default();
        let now = Instant::now();
        let seen = read_answer(
            200,
            &headers(&[
                ("x-ratelimit-remaining", "3"),
                ("x-ratelimit-reset-after", "4.0"),
            ]),
            &serde_json::Value::Null,
        );
        limits.observe(bucket(1), seen, now);
        assert_eq!(limits.wait_for(bucket(1), now), Duration::ZERO);
    }

    #[test]
    fn a_global_429_pauses_every_route() {
        let limits = DiscordLimits::default();
        let now = Instant::now();
        let seen = read_answer(
            429,
            &headers(&[("x-ratelimit-global", "true")]),
            &serde_json::json!({ "retry_after": 2.25, "global": true }),
        );
        assert_eq!(seen, Observed::GlobalLimited(Duration::from_millis(2_250)));
        limits.observe(bucket(1), seen, now);
        assert_eq!(
            limits.wait_for(bucket(7), now),
            Duration::from_millis(2_250)
        );
    }

    #[test]
    fn a_route_429_waits_its_retry_after() {
        let seen = read_answer(
            429,
            &headers(&[("x-ratelimit-scope", "user")]),
            &serde_json::json!({ "retry_after": 0.75, "global": false }),
        );
        assert_eq!(seen, Observed::RouteLimited(Duration::from_millis(750)));
    }

    #[test]
    fn nonsense_headers_are_ignored() {
        let seen = read_answer(
            200,
            &headers(&[
                ("x-ratelimit-remaining", "many"),
                ("x-ratelimit-reset-after", "-3"),
            ]),
            &serde_json::Value::Null,
        );
        assert_eq!(
            seen,
            Observed::Bucket {
                remaining: None,
                reset_after: None
            }
        );
    }
}
