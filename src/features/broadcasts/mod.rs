//! Program chats and broadcasts: the group chats and channels Rally posts to on its own.
pub(crate) mod chat;
