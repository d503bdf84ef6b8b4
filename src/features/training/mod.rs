//! Training in chat: sessions from the configuration or `rally trainings add`, enrollment with a
//! waitlist, reminders, check-in by code, ratings, a quiz by buttons, and completion granting a
//! certification that can raise the partner's tier.
pub(crate) mod chat;
pub mod service;
