//! Rally's test kit, shared by the integration tests and the benchmarks (a dev-dependency
//! only; it never ships).
//!
//! It stands in for the *platforms*, never for Rally: [`telegram`] and [`discord`] are fake
//! Telegram Bot API and Discord (REST + gateway) servers speaking the real wire protocol, so
//! the real teloxide and serenity clients run against them; [`TestDb`] is a real, throwaway
//! SQLite or PostgreSQL database; [`chat`] drives Rally's real `App` with a [`TestClock`].
//! [`bench`] holds what the benchmarks share; [`browser`] drives a real headless Chromium.

pub mod api;
pub mod bench;
pub mod browser;
pub mod chat;
pub mod clock;
pub mod db;
pub mod discord;
mod http;
mod multipart;
pub mod process;
pub mod telegram;

pub use chat::{
    app, app_with, code_after, first_int_arg, first_text_arg, keys, say, test_config, text,
};
pub use clock::TestClock;
pub use db::TestDb;

/// Generates `<name>::sqlite` and `<name>::postgres` tests from one `async fn(&TestDb)` each;
/// the PostgreSQL half says it was skipped without `RALLY_TEST_POSTGRES_URL`. The test crate
/// needs `tokio` (for `#[tokio::test]`).
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    let db = $crate::TestDb::sqlite().await;
                    super::$name(&db).await;
                }

                #[tokio::test]
                async fn postgres() {
                    let Some(db) = $crate::TestDb::postgres(stringify!($name)).await else {
                        return;
                    };
                    super::$name(&db).await;
                }
            }
        )*
    };
}
