//! Period leaderboards.
pub(crate) mod chat;
