//! The engine stays pure: no database, runtime, platform, network or clock.

use std::path::Path;

const FORBIDDEN: &[&str] = &[
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

fn check_dir(dir: &Path, offences: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).expect("read src/engine") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            check_dir(&path, offences);
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read file");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for word in FORBIDDEN {
                if code.contains(word) {
                    offences.push(format!("{}:{}: {word}", path.display(), n + 1));
                }
            }
        }
    }
}

#[test]
fn engine_is_pure() {
    let mut offences = Vec::new();
    check_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/engine"),
        &mut offences,
    );
    assert!(
        offences.is_empty(),
        "impure engine code:\n{}",
        offences.join("\n")
    );
}
