//! Rally: a channel-partner incentive program run inside the group chats partners already use.
//!
//! Layers, dependencies pointing down only: `chat` (grammar, handler, console) → `app` (the
//! running program) → `store` (sqlx) and `engine` (pure rules).
pub mod app;
pub mod chat;
pub mod config;
pub mod demo;
pub mod engine;
pub mod i18n;
pub mod import;
pub mod ledger;
pub mod partners;
pub mod platforms;
pub mod scorecard;
pub mod statements;
pub mod store;
pub mod tiers;
