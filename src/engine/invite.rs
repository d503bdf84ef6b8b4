//! Invite codes: single use, expiring, typed by people on phones.

use super::ids::PartnerId;
use super::partner::Role;

/// Letters and digits that cannot be confused when read aloud or typed (no 0/O, 1/I/L).
const ALPHABET: &[u8; 31] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
/// Characters in a code; 31^8 ≈ 8.5e11 codes make guessing hopeless within an expiry window.
pub const CODE_LEN: usize = 8;

/// Builds a code from random bytes the caller drew (the engine has no randomness of its own).
pub fn code_from_random(random: [u8; CODE_LEN]) -> String {
    random
        .iter()
        .map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char)
        .collect()
}

/// Canonical form of a typed code: upper case, dashes and spaces removed. `None` if it cannot
/// be a code at all.
pub fn normalize_code(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '_'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let valid = code.len() == CODE_LEN && code.bytes().all(|b| ALPHABET.contains(&b));
    valid.then_some(code)
}

/// An invite as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invite {
    pub code: String,
    /// The partner the new member joins; `None` for a manager invite.
    pub partner_id: Option<PartnerId>,
    pub role: Role,
    /// Unix milliseconds.
    pub expires_at: i64,
    pub used: bool,
}

/// Why an invite cannot be redeemed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InviteError {
    #[error("invite code already used")]
    Used,
    #[error("invite code expired")]
    Expired,
}

/// Checks an invite can be redeemed at `now` (unix milliseconds).
pub fn check_redeemable(invite: &Invite, now: i64) -> Result<(), InviteError> {
    if invite.used {
        Err(InviteError::Used)
    } else if now >= invite.expires_at {
        Err(InviteError::Expired)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_normalisable() {
        let code = code_from_random([0, 1, 2, 3, 250, 251, 252, 255]);
        assert_eq!(code.len(), CODE_LEN);
        assert_eq!(normalize_code(&code), Some(code.clone()));
        let typed = format!("{}-{}", &code[..4], &code[4..]).to_lowercase();
        assert_eq!(normalize_code(&typed), Some(code));
        assert_eq!(normalize_code("O0O0O0O0"), None);
        assert_eq!(normalize_code("ABC"), None);
    }

    #[test]
    fn redeem_rules() {
        let invite = Invite {
            code: "ABCDEFGH".into(),
            partner_id: Some(PartnerId(1)),
            role: Role::Partner,
            expires_at: 1000,
            used: false,
        };
        assert_eq!(check_redeemable(&invite, 999), Ok(()));
        assert_eq!(check_redeemable(&invite, 1000), Err(InviteError::Expired));
        let used = Invite {
            used: true,
            ..invite
        };
        assert_eq!(check_redeemable(&used, 0), Err(InviteError::Used));
    }
}
