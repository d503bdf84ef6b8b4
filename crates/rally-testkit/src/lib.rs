//! Rally's test kit, shared by the integration tests and the benchmarks (a dev-dependency
//! only; it never ships).
//!
//! It stands in for the *platforms*, never for Rally: [`telegram`] and [`discord`] are fake
//! Telegram Bot API and Discord (REST + gateway) servers speaking the real wire protocol, so
//! the real teloxide and serenity clients run against them; [`TestDb`] is a real, throwaway
//! SQLite or PostgreSQL database; [`chat`] drives Rally's real `App` with a [`TestClock`].
//! [`bench`] holds what the benchmarks share.

pub mod bench;
pub mod chat;
pub mod clock;
pub mod db;
pub mod discord;
mod http;
mod multipart;
pub mod telegram;

pub use chat::{app, code_after, first_int_arg, first_text_arg, keys, say, test_config, text};
pub use clock::TestClock;
pub use db::TestDb;
