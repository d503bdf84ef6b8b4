//! Program chats and broadcasts: the group chats and channels Rally posts to on its own, and
//! managers' announcements, now or scheduled, with a delivery report to their author.
pub(crate) mod chat;
pub mod service;
