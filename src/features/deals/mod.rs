//! Deal registration against channel conflict: `/deal` holds a customer for a partner for
//! `[deals] protection_days`; another partner's `/report` or `/deal` for a held customer opens a
//! conflict a manager decides (`/conflicts`, `/resolve`: award or split the sale's credit); a
//! reminder goes out seven days before a registration expires.
pub(crate) mod chat;
pub mod service;
