//! `rally` as its own process, for the tests of what only a process shows: signals, exit
//! codes, the command line's output.

use std::process::Command;

/// A free TCP port on 127.0.0.1 (bound and released: another process could take it first,
/// which the kernel makes unlikely within a test's time).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// `rally <args>` (`binary`: the test's `env!("CARGO_BIN_EXE_rally")`) on `database_url`, with
/// no chat platform (no tokens in its environment), quiet logs, in the temp directory.
pub fn rally(binary: &str, database_url: &str) -> Command {
    let mut command = Command::new(binary);
    command
        .env_remove("RALLY_CONFIG")
        .env_remove("TELEGRAM_BOT_TOKEN")
        .env_remove("DISCORD_TOKEN")
        .env("RALLY_DATABASE_URL", database_url)
        .env("RALLY_LOG", "warn")
        .current_dir(std::env::temp_dir());
    command
}
