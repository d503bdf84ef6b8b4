//! Placeholder while the Telegram benchmark is written.
fn main() {}
