//! The layer rules, checked on the source text:
//! - the engine is pure: no database, runtime, platform, network, clock or randomness;
//! - the store and the services (every feature file but its `chat.rs`, and `app.rs`) never
//!   import the chat layer (but its message type, `chat::reply`) or a platform adapter;
//! - the chat layer never imports a platform adapter;
//! - a platform adapter never imports another one.

use std::path::{Path, PathBuf};

const IMPURE: &[&str] = &[
    "sqlx",
    "tokio",
    "teloxide",
    "serenity",
    "poise",
    "reqwest",
    "axum",
    "Utc::now",
    "Local::now",
    "SystemTime",
    "std::fs",
    "std::net",
    "std::thread",
    "rand::",
];

const ADAPTERS: &[&str] = &["telegram", "discord", "console", "http"];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`, with its code lines (comments stripped) numbered from 1.
fn files(dir: &Path) -> Vec<(PathBuf, Vec<(usize, String)>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("read file");
                let lines = text
                    .lines()
                    .enumerate()
                    .map(|(n, l)| (n + 1, l.split("//").next().unwrap_or("").to_string()))
                    .collect();
                out.push((path, lines));
            }
        }
    }
    out
}

/// Lines of `files` that contain any of `words`.
fn offences(files: &[(PathBuf, Vec<(usize, String)>)], words: &[String]) -> Vec<String> {
    offences_but(files, words, None)
}

/// [`offences`], not counting `allowed` (a path the rule lets through).
fn offences_but(
    files: &[(PathBuf, Vec<(usize, String)>)],
    words: &[String],
    allowed: Option<&str>,
) -> Vec<String> {
    let mut found = Vec::new();
    for (path, lines) in files {
        for (n, code) in lines {
            let code = allowed.map_or_else(|| code.clone(), |a| code.replace(a, ""));
            for word in words {
                if code.contains(word.as_str()) {
                    found.push(format!("{}:{n}: {word}", path.display()));
                }
            }
        }
    }
    found
}

fn assert_none(rule: &str, found: Vec<String>) {
    assert!(found.is_empty(), "{rule}:\n{}", found.join("\n"));
}

fn layer_words() -> Vec<String> {
    let mut words = vec!["crate::chat".to_string(), "crate::platforms".to_string()];
    words.extend(ADAPTERS.iter().map(|a| format!("crate::{a}")));
    words
}

#[test]
fn engine_is_pure() {
    let mut words: Vec<String> = IMPURE.iter().map(|w| w.to_string()).collect();
    words.extend(layer_words());
    words.extend(["crate::store", "crate::app", "crate::features"].map(String::from));
    assert_none(
        "impure engine code",
        offences(&files(&src().join("engine")), &words),
    );
}

#[test]
fn store_and_services_never_reach_up_into_chat_or_platforms() {
    let mut checked = files(&src().join("store"));
    checked.extend(
        files(&src().join("features"))
            .into_iter()
            .filter(|(path, _)| path.file_name().is_none_or(|n| n != "chat.rs")),
    );
    checked.extend(
        files(&src())
            .into_iter()
            .filter(|(p, _)| p.ends_with("app.rs")),
    );
    assert!(checked.len() > 10, "the services were not found");
    // `chat::reply` (message keys and arguments) is what every part of Rally speaks with.
    assert_none(
        "a service or the store imports the chat layer or an adapter",
        offences_but(&checked, &layer_words(), Some("crate::chat::reply")),
    );
    // A service may use another feature's service, never its chat handlers.
    let chat_of_features: Vec<String> = std::fs::read_dir(src().join("features"))
        .expect("features")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| {
            format!(
                "features::{}::chat",
                e.file_name().to_string_lossy().into_owned()
            )
        })
        .collect();
    assert_none(
        "a service calls a feature's chat handlers",
        offences(&checked, &chat_of_features),
    );
}

#[test]
fn chat_never_imports_an_adapter() {
    assert_none(
        "the chat layer imports a platform adapter",
        offences(
            &files(&src().join("chat")),
            &["crate::platforms".to_string()],
        ),
    );
}

#[test]
fn adapters_never_import_each_other() {
    let platforms = src().join("platforms");
    for adapter in ADAPTERS {
        let own = if platforms.join(adapter).is_dir() {
            files(&platforms.join(adapter))
        } else {
            files(&platforms)
                .into_iter()
                .filter(|(p, _)| p.file_stem().is_some_and(|s| s == *adapter))
                .collect()
        };
        assert!(!own.is_empty(), "adapter {adapter} not found");
        let others: Vec<String> = ADAPTERS
            .iter()
            .filter(|other| *other != adapter)
            .flat_map(|other| {
                [
                    format!("platforms::{other}"),
                    format!("super::{other}"),
                    format!("crate::{other}"),
                ]
            })
            .collect();
        assert_none(
            &format!("adapter {adapter} imports another adapter"),
            offences(&own, &others),
        );
    }
}
