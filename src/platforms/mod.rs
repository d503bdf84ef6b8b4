//! Platform adapters: Telegram, Discord, the terminal console and the HTTP server. Each one only
//! translates between its platform and the platform-neutral chat layer ([`crate::chat`]); none
//! names a command or imports another adapter (see `tests/layering.rs`).
pub mod console;
pub mod discord;
pub mod http;
pub mod telegram;
