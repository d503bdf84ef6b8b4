//! The environment overlay: secrets, and overrides of file values, read with the same
//! [`Leaf`] types as the file. Secrets are read only from here, never from the file.

use super::raw::{Admins, DbUrl, HttpUrl, Leaf};
use super::validate::{Checker, push_new};
use super::*;

impl Checker<'_> {
    fn env_issue(&mut self, var: &str, message: String) {
        let origin = IssueOrigin::Env {
            var: var.to_owned(),
        };
        let key = String::new();
        self.issues.push(ConfigIssue {
            origin,
            key,
            message,
        });
    }

    /// The variable's value as a `T`, if it is set; a problem names the variable.
    fn env<T: Leaf>(&mut self, env: &dyn Fn(&str) -> Option<String>, var: &str) -> Option<T::Out> {
        let value = env_value(env, var)?;
        let out = T::parse(&value);
        if out.is_none() {
            let found = format!("{:?}", redact_url(&value));
            self.env_issue(var, format!("expected {}, found {found}", T::want()));
        }
        out
    }

    /// A secret, if it is set; it is never shown in a message.
    fn secret(
        &mut self,
        env: &dyn Fn(&str) -> Option<String>,
        var: &str,
        ok: fn(&str) -> bool,
        want: &str,
    ) -> Option<Option<String>> {
        let value = env_value(env, var)?;
        if ok(&value) {
            return Some(Some(value));
        }
        self.env_issue(var, want.to_owned());
        None
    }

    pub fn apply_env(&mut self, env: &dyn Fn(&str) -> Option<String>, cfg: &mut Config) {
        use env_vars::*;
        let (tg, dc) = (&mut cfg.telegram, &mut cfg.discord);
        let token = |t: &str| !t.chars().any(|c| c.is_whitespace() || c.is_control());
        let token_want = "the token contains spaces or control characters";
        // Telegram accepts 1–256 characters `A-Z a-z 0-9 _ -` as a webhook secret token.
        let hook = |s: &str| {
            let chars = s
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_-".contains(&b));
            chars && (1..=256).contains(&s.len())
        };
        let hook_want = "must be 1 to 256 characters from A-Z, a-z, 0-9, _ and -";
        set(&mut cfg.database.url, self.env::<DbUrl>(env, DATABASE_URL));
        set(
            &mut tg.token,
            self.secret(env, TELEGRAM_BOT_TOKEN, token, token_want),
        );
        set(
            &mut tg.api_url,
            self.env::<HttpUrl>(env, TELEGRAM_API_URL).map(Some),
        );
        set(
            &mut tg.webhook_secret,
            self.secret(env, TELEGRAM_WEBHOOK_SECRET, hook, hook_want),
        );
        set(
            &mut dc.token,
            self.secret(env, DISCORD_TOKEN, token, token_want),
        );
        set(
            &mut dc.api_url,
            self.env::<HttpUrl>(env, DISCORD_API_URL).map(Some),
        );
        set(
            &mut dc.shards,
            self.env::<DiscordShards>(env, DISCORD_SHARDS).map(Some),
        );
        set(
            &mut cfg.http.listen,
            self.env::<SocketAddr>(env, HTTP_LISTEN),
        );
        for admin in self.env::<Admins>(env, ADMINS).unwrap_or_default() {
            push_new(&mut cfg.admins, admin);
        }
        cfg.log = env_value(env, LOG);
    }

    /// Webhook mode needs a public URL (file) and a secret (environment).
    pub fn check_telegram(&mut self, tg: &TelegramConfig) {
        if tg.mode != TelegramMode::Webhook {
            return;
        }
        if tg.webhook_url.is_none() {
            let m = "webhook mode needs `telegram.webhook_url`, the public https base URL of this \
                     server";
            self.at("telegram.mode", m);
        }
        if tg.webhook_secret.is_none() {
            let var = env_vars::TELEGRAM_WEBHOOK_SECRET;
            let m = format!("webhook mode needs the secret in the environment: set {var}");
            self.at("telegram.mode", m);
        }
    }
}

fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *slot = v;
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

/// The URL with any password replaced by `***`.
pub(super) fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let rest = &url[scheme_end..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let Some(at) = authority.rfind('@') else {
        return url.to_owned();
    };
    let Some(colon) = authority[..at].find(':') else {
        return url.to_owned();
    };
    let user = &authority[..colon];
    format!("{}{user}:***{}", &url[..scheme_end], &rest[at..])
}

/// Parses `telegram:1, discord:2`; empty items are skipped.
pub(super) fn parse_admins(text: &str) -> Option<Vec<AdminId>> {
    let items = text.split(',').map(str::trim).filter(|s| !s.is_empty());
    items
        .map(|item| {
            let (platform, id) = item.split_once(':')?;
            let platform = AdminPlatform::parse(platform)?;
            let id = parse_id(id).filter(|n| *n > 0)?;
            Some(AdminId { platform, id })
        })
        .collect()
}
