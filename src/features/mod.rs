//! One folder per feature: its service (what the CLI, chat, HTTP and jobs call) next to its chat
//! handlers and the registry entries of its commands. Services never import the chat layer or a
//! platform adapter (see `tests/layering.rs`).
pub mod alerts;
pub mod api_keys;
pub mod audit;
pub mod broadcasts;
pub mod community;
pub mod contests;
pub mod deals;
pub mod funds;
pub mod membership;
pub mod ranking;
pub mod sales;
pub mod scorecard;
pub mod statements;
pub mod tiers;
pub mod training;
