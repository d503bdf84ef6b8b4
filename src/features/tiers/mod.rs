//! Partner tiers: re-evaluation from trailing sales and certifications.
pub mod service;
