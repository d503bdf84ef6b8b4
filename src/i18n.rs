//! Localized text: Fluent bundles for `en` and `zh-CN`, embedded at build time from
//! `messages/<locale>/*.ftl`. A key missing in a locale falls back to English and logs a
//! warning; `tests/messages.rs` keeps the two locales' keys equal.

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use unic_langid::LanguageIdentifier;

use crate::chat::reply::{Arg, Msg, Reply};
use crate::config::Locale;

/// The locales Rally speaks, with their sources.
pub const LOCALES: &[(Locale, &str)] = &[
    (Locale::En, include_str!("../messages/en/rally.ftl")),
    (Locale::ZhCn, include_str!("../messages/zh-CN/rally.ftl")),
];

/// All bundles, built once.
pub struct I18n {
    bundles: Vec<(Locale, FluentBundle<FluentResource>)>,
}

/// Why the embedded messages could not be loaded (a broken `.ftl` file).
#[derive(Debug, thiserror::Error)]
#[error("messages/{locale}: {detail}")]
pub struct I18nError {
    locale: String,
    detail: String,
}

impl I18n {
    pub fn new() -> Result<I18n, I18nError> {
        let mut bundles = Vec::new();
        for (locale, source) in LOCALES {
            let err = |detail: String| I18nError {
                locale: locale.tag().to_string(),
                detail,
            };
            let lang: LanguageIdentifier =
                locale.tag().parse().map_err(|e| err(format!("{e:?}")))?;
            let resource = FluentResource::try_new(source.to_string())
                .map_err(|(_, errors)| err(format!("{errors:?}")))?;
            let mut bundle = FluentBundle::new_concurrent(vec![lang]);
            // Chat clients show the bidi isolation marks as garbage around names.
            bundle.set_use_isolating(false);
            bundle
                .add_resource(resource)
                .map_err(|errors| err(format!("{errors:?}")))?;
            bundles.push((*locale, bundle));
        }
        Ok(I18n { bundles })
    }

    fn bundle(&self, locale: Locale) -> Option<&FluentBundle<FluentResource>> {
        self.bundles
            .iter()
            .find(|(l, _)| *l == locale)
            .map(|(_, b)| b)
    }

    /// Renders one message; an unknown key renders as the key itself (and is logged).
    pub fn render(&self, locale: Locale, msg: &Msg) -> String {
        let mut args = FluentArgs::new();
        for (name, value) in &msg.args {
            match value {
                Arg::Text(t) => args.set(name.as_str(), FluentValue::from(t.as_str())),
                Arg::Int(n) => args.set(name.as_str(), FluentValue::from(*n)),
            }
        }
        for bundle in [self.bundle(locale), self.bundle(Locale::En)]
            .into_iter()
            .flatten()
        {
            if let Some(pattern) = bundle.get_message(&msg.key).and_then(|m| m.value()) {
                let mut errors = Vec::new();
                let text = bundle.format_pattern(pattern, Some(&args), &mut errors);
                if !errors.is_empty() {
                    tracing::warn!(key = %msg.key, ?errors, "message formatting problems");
                }
                return text.into_owned();
            }
            tracing::warn!(key = %msg.key, locale = locale.tag(), "message key missing");
        }
        msg.key.clone()
    }

    /// Renders all lines of a reply, one per line.
    pub fn render_reply(&self, locale: Locale, reply: &Reply) -> String {
        let locale = reply.locale.unwrap_or(locale);
        reply
            .lines
            .iter()
            .map(|m| self.render(locale, m))
            .collect::<Vec<_>>()
            .join("\n")
    }
}
