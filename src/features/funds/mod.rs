//! Fund allocation: splitting a budget over partners and explaining each share.
pub(crate) mod chat;
