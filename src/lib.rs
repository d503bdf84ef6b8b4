//! Rally: a channel-partner incentive program run inside the group chats partners already use.
//!
//! Layers, dependencies pointing down only: `platforms` (Telegram, Discord, console, HTTP) →
//! `chat` (grammar, command registry, handler) → `features` (one folder per feature: chat
//! handlers and services) → `app` (the running program's context) → `store` (sqlx) and `engine`
//! (pure rules). `cli` drives the services from the command line.
pub mod app;
pub mod chat;
pub mod config;
pub mod demo;
pub mod engine;
pub mod features;
pub mod i18n;
pub mod outbox;
pub mod platforms;
pub mod scheduler;
pub mod store;
pub mod telemetry;
