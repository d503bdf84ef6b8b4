//! Partners, members and roles: who may do what.

use serde::{Deserialize, Serialize};
use std::fmt;
use unicode_normalization::UnicodeNormalization;

use super::ids::{MemberId, PartnerId, PersonId};

/// What kind of business a partner is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PartnerKind {
    Dealer,
    Agent,
    Wholesaler,
    Retailer,
    Distributor,
}

impl PartnerKind {
    pub const ALL: [PartnerKind; 5] = [
        PartnerKind::Dealer,
        PartnerKind::Agent,
        PartnerKind::Wholesaler,
        PartnerKind::Retailer,
        PartnerKind::Distributor,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            PartnerKind::Dealer => "dealer",
            PartnerKind::Agent => "agent",
            PartnerKind::Wholesaler => "wholesaler",
            PartnerKind::Retailer => "retailer",
            PartnerKind::Distributor => "distributor",
        }
    }

    pub fn parse(text: &str) -> Option<PartnerKind> {
        let lower = text.trim().to_lowercase();
        PartnerKind::ALL.into_iter().find(|k| k.as_str() == lower)
    }
}

impl fmt::Display for PartnerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a member may do. Ordered: every role may do what the roles below it may.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Partner,
    Manager,
    Admin,
}

impl Role {
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Partner => "partner",
            Role::Manager => "manager",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        match text.trim().to_lowercase().as_str() {
            "partner" => Some(Role::Partner),
            "manager" => Some(Role::Manager),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    pub fn is_manager(&self) -> bool {
        *self >= Role::Manager
    }
}

/// Whether a partner takes part in the program.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PartnerStatus {
    Active,
    Suspended,
}

impl PartnerStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            PartnerStatus::Active => "active",
            PartnerStatus::Suspended => "suspended",
        }
    }

    pub fn parse(text: &str) -> Option<PartnerStatus> {
        match text {
            "active" => Some(PartnerStatus::Active),
            "suspended" => Some(PartnerStatus::Suspended),
            _ => None,
        }
    }
}

/// A reselling organisation or person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partner {
    pub id: PartnerId,
    pub name: String,
    pub kind: PartnerKind,
    pub region: Option<String>,
    pub tier: Option<String>,
    pub status: PartnerStatus,
    /// Unix milliseconds.
    pub joined_at: i64,
    /// Sales potential in minor units of program currency (fund allocation weighs it), if known.
    pub potential_minor: Option<i64>,
}

/// A chat platform account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Telegram,
    Discord,
    Console,
}

impl Platform {
    pub fn as_str(&self) -> &'static str {
        match self {
            Platform::Telegram => "telegram",
            Platform::Discord => "discord",
            Platform::Console => "console",
        }
    }

    pub fn parse(text: &str) -> Option<Platform> {
        match text.trim().to_lowercase().as_str() {
            "telegram" => Some(Platform::Telegram),
            "discord" => Some(Platform::Discord),
            "console" => Some(Platform::Console),
            _ => None,
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One chat account, possibly linked to a partner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub id: MemberId,
    pub platform: Platform,
    pub platform_user_id: String,
    pub display_name: String,
    pub partner_id: Option<PartnerId>,
    /// `None` until the member joined through an invite or is a configured admin.
    pub role: Option<Role>,
    /// Locale tag chosen with `/lang`, overriding the platform's.
    pub locale: Option<String>,
    /// The person this account belongs to with other accounts; `None`: an account alone.
    pub person: Option<Person>,
}

/// A person with accounts on more than one platform: where notices for them go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    pub id: PersonId,
    /// Where the person last spoke to the bot.
    pub last_platform: Option<Platform>,
    /// Where they asked to be notified (`/notify`); wins over `last_platform`.
    pub notify_platform: Option<Platform>,
}

impl Person {
    /// The platform notices should go to, if the person said or spoke anywhere.
    pub fn preferred_platform(&self) -> Option<Platform> {
        self.notify_platform.or(self.last_platform)
    }
}

/// A key for comparing names: NFKC, lower case, inner white space folded. Two partners whose
/// keys are equal are the same partner (`ACME  Ltd` and `acme ltd`).
pub fn name_key(name: &str) -> String {
    name.nfkc()
        .collect::<String>()
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Longest name accepted for a partner, customer or category, in characters.
pub const MAX_NAME_CHARS: usize = 120;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_order() {
        assert!(Role::Admin.is_manager());
        assert!(Role::Manager.is_manager());
        assert!(!Role::Partner.is_manager());
    }

    #[test]
    fn name_keys_fold_width_case_and_space() {
        assert_eq!(name_key("  ACME   Ltd "), "acme ltd");
        assert_eq!(name_key("ＡＣＭＥ"), "acme");
        assert_eq!(name_key("华东 贸易"), "华东 贸易");
    }

    #[test]
    fn kinds_parse() {
        for kind in PartnerKind::ALL {
            assert_eq!(PartnerKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(PartnerKind::parse("Dealer"), Some(PartnerKind::Dealer));
        assert_eq!(PartnerKind::parse("shop"), None);
    }
}
