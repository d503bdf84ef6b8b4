//! Period leaderboards: `/rank` in the chat, and the boards the HTTP API and the TV page read.
pub mod board;
pub(crate) mod chat;
