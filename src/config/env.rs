//! The environment overlay (secrets, and overrides of file values), and the value checks the
//! file and the environment share. Secrets are read only from here, never from the file.

use std::net::SocketAddr;

use super::validate::{Checker, set};
use super::*;

impl Checker<'_> {
    /// The variable's value given meaning by `parse`, if it is set; a problem names the variable.
    fn env<T>(
        &mut self,
        env: &dyn Fn(&str) -> Option<String>,
        var: &str,
        parse: impl FnOnce(String) -> Result<T, String>,
    ) -> Option<T> {
        let failed = |message| {
            let origin = IssueOrigin::Env {
                var: var.to_owned(),
            };
            ConfigIssue {
                origin,
                key: String::new(),
                message,
            }
        };
        parse(env_value(env, var)?)
            .map_err(|m| self.issues.push(failed(m)))
            .ok()
    }

    pub fn apply_env(&mut self, env: &dyn Fn(&str) -> Option<String>, cfg: &mut Config) {
        use env_vars::*;
        let secret = |check: fn(&str) -> Result<(), String>| move |v: String| check(&v).map(|()| v);
        let url = |v: String| normalize_http_url(&v).map(Some);
        let (tg, dc) = (&mut cfg.telegram, &mut cfg.discord);
        let db = self.env(env, DATABASE_URL, |v| validate_database_url(&v));
        set(&mut cfg.database.url, db);
        let token = self.env(env, TELEGRAM_BOT_TOKEN, secret(validate_token));
        set(&mut tg.token, token.map(Some));
        set(&mut tg.api_url, self.env(env, TELEGRAM_API_URL, url));
        let webhook = self.env(
            env,
            TELEGRAM_WEBHOOK_SECRET,
            secret(validate_webhook_secret),
        );
        set(&mut tg.webhook_secret, webhook.map(Some));
        set(
            &mut dc.token,
            self.env(env, DISCORD_TOKEN, secret(validate_token))
                .map(Some),
        );
        set(&mut dc.api_url, self.env(env, DISCORD_API_URL, url));
        set(
            &mut cfg.http.listen,
            self.env(env, HTTP_LISTEN, |v| parse_listen(&v)),
        );
        for admin in self
            .env(env, ADMINS, |v| parse_admins(&v))
            .unwrap_or_default()
        {
            if !cfg.admins.contains(&admin) {
                cfg.admins.push(admin);
            }
        }
        cfg.log = env_value(env, LOG);
    }

    /// Webhook mode needs a public URL (file) and a secret (environment).
    pub fn check_telegram(&mut self, tg: &TelegramConfig) {
        if tg.mode != TelegramMode::Webhook {
            return;
        }
        let span = self.telegram_mode_at.clone().unwrap_or(0..0);
        if tg.webhook_url.is_none() {
            self.issue(
                span.clone(),
                "telegram.mode",
                "webhook mode needs `telegram.webhook_url`, the public https base URL of this \
                 server",
            );
        }
        if tg.webhook_secret.is_none() {
            self.issue(
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

/// An environment variable's value, trimmed; empty counts as unset.
pub(super) fn env_value(env: &dyn Fn(&str) -> Option<String>, var: &str) -> Option<String> {
    env(var)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

pub(super) fn parse_id(text: &str) -> Option<u64> {
    let t = text.trim();
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

pub(super) fn validate_database_url(url: &str) -> Result<String, String> {
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
pub(super) fn redact_url(url: &str) -> String {
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
pub(super) fn normalize_http_url(url: &str) -> Result<String, String> {
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

pub(super) fn parse_listen(text: &str) -> Result<SocketAddr, String> {
    text.trim().parse().map_err(|_| {
        format!(
            "invalid listen address \"{}\" (expected IP:port, e.g. 127.0.0.1:8080 or [::]:8080)",
            text.trim()
        )
    })
}

/// Parses `telegram:1, discord:2`; empty items are skipped.
pub(super) fn parse_admins(text: &str) -> Result<Vec<AdminId>, String> {
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

pub(super) fn validate_token(token: &str) -> Result<(), String> {
    if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Err("the token contains spaces or control characters".to_owned())
    } else {
        Ok(())
    }
}

/// Telegram accepts 1–256 characters `A-Z a-z 0-9 _ -` as a webhook secret token.
pub(super) fn validate_webhook_secret(secret: &str) -> Result<(), String> {
    let ok_chars = secret
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok_chars && (1..=256).contains(&secret.len()) {
        Ok(())
    } else {
        Err("must be 1 to 256 characters from A-Z, a-z, 0-9, _ and -".to_owned())
    }
}
