//! Who is in the program: partners (created once, audited), invites, roles, linked accounts and language.
pub(crate) mod chat;
pub mod import;
pub mod invites;
pub mod members;
pub mod partners;
