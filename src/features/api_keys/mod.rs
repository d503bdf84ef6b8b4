//! API keys for the HTTP API and the TV page: created on the command line (`rally apikey
//! create`, `rally tvlink`), shown once, stored only as a SHA-256 hash with a short prefix to
//! find them by, checked on every request (so a revocation takes effect at once).
//!
//! A key reads `rk_<prefix>_<secret>`: the prefix (8 characters) is stored in clear for the
//! lookup, the secret (32 characters, about 190 bits) never. A fast hash is enough: the key is
//! random, not a password someone could guess from a dictionary.

use std::fmt;

use rand::Rng;
use sha2::{Digest, Sha256};

use crate::app::App;
use crate::store::{self, api as stored};

/// What a key may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// `POST /api/v1/sales` and `/api/v1/sales/batch`.
    SalesWrite,
    /// The `GET /api/v1/*` reads: leaderboard, statements, partners.
    Read,
    /// The TV page (`rally tvlink` creates keys with only this scope).
    Tv,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::SalesWrite, Scope::Read, Scope::Tv];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::SalesWrite => "sales:write",
            Scope::Read => "read",
            Scope::Tv => "tv",
        }
    }

    pub fn parse(text: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == text.trim())
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parses `sales:write,read`; the error names the unknown scope and the known ones.
pub fn parse_scopes(text: &str) -> Result<Vec<Scope>, String> {
    let mut scopes = Vec::new();
    for part in text.split(',').filter(|p| !p.trim().is_empty()) {
        let scope = Scope::parse(part).ok_or_else(|| {
            format!(
                "unknown scope {:?}: use {}",
                part.trim(),
                Scope::ALL.map(Scope::as_str).join(", ")
            )
        })?;
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    if scopes.is_empty() {
        return Err(format!(
            "no scope given: use {}",
            Scope::ALL.map(Scope::as_str).join(", ")
        ));
    }
    scopes.sort();
    Ok(scopes)
}

fn scopes_text(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// A key as listed (never with its secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyInfo {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub scopes: Vec<Scope>,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

impl KeyInfo {
    fn from_stored(key: &stored::StoredKey) -> KeyInfo {
        KeyInfo {
            id: key.id,
            name: key.name.clone(),
            prefix: key.prefix.clone(),
            // An unknown scope in the table (written by a newer version) grants nothing here.
            scopes: key.scopes.split(',').filter_map(Scope::parse).collect(),
            created_at: key.created_at,
            revoked_at: key.revoked_at,
        }
    }

    pub fn allows(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }
}

/// Why a key was not created.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("the key name must not be empty, nor longer than 64 characters")]
    BadName,
    #[error("a live key named {0:?} exists already: revoke it first or choose another name")]
    NameTaken(String),
    #[error(transparent)]
    Store(#[from] store::StoreError),
}

/// A new key: its record, and the key itself, which is shown once and never stored.
pub struct CreatedKey {
    pub info: KeyInfo,
    pub secret: String,
}

const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
const PREFIX_CHARS: usize = 8;
const SECRET_CHARS: usize = 32;

fn random_text(rng: &mut impl Rng, n: usize) -> String {
    (0..n)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

fn hash_key(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares in time independent of where the texts differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Creates a key named `name` with `scopes`.
pub async fn create(app: &App, name: &str, scopes: &[Scope]) -> Result<CreatedKey, CreateError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 {
        return Err(CreateError::BadName);
    }
    let (prefix, secret) = {
        let mut rng = rand::rng();
        (
            random_text(&mut rng, PREFIX_CHARS),
            random_text(&mut rng, SECRET_CHARS),
        )
    };
    let key = format!("rk_{prefix}_{secret}");
    let mut tx = app.store.begin().await?;
    let stored = stored::insert_key(
        &mut tx,
        name,
        &prefix,
        &hash_key(&key),
        &scopes_text(scopes),
        app.now(),
    )
    .await?
    .ok_or_else(|| CreateError::NameTaken(name.to_string()))?;
    tx.commit().await.map_err(store::StoreError::from)?;
    Ok(CreatedKey {
        info: KeyInfo::from_stored(&stored),
        secret: key,
    })
}

/// Every key, oldest first.
pub async fn list(app: &App) -> store::Result<Vec<KeyInfo>> {
    let mut conn = app.store.read().await?;
    Ok(stored::list_keys(&mut conn)
        .await?
        .iter()
        .map(KeyInfo::from_stored)
        .collect())
}

/// Revokes the live key named `name_or_id` (or with that id); `None` if there is none.
pub async fn revoke(app: &App, name_or_id: &str) -> store::Result<Option<KeyInfo>> {
    let mut tx = app.store.begin().await?;
    let revoked = stored::revoke_key(&mut tx, name_or_id.trim(), app.now()).await?;
    tx.commit().await?;
    Ok(revoked.as_ref().map(KeyInfo::from_stored))
}

/// The live key `presented` is, or `None` if it is malformed, unknown or revoked. Reads the
/// database every time: a revoked key stops working with the next request.
pub async fn authenticate(
    conn: &mut store::Conn,
    presented: &str,
) -> store::Result<Option<KeyInfo>> {
    let Some(prefix) = presented
        .strip_prefix("rk_")
        .and_then(|rest| rest.split_once('_'))
        .map(|(prefix, _)| prefix)
        .filter(|p| p.len() == PREFIX_CHARS)
    else {
        return Ok(None);
    };
    let Some(stored) = stored::key_by_prefix(conn, prefix).await? else {
        return Ok(None);
    };
    if stored.revoked_at.is_some() || !same(&stored.hash, &hash_key(presented)) {
        return Ok(None);
    }
    Ok(Some(KeyInfo::from_stored(&stored)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_and_refuse_unknown_ones() {
        assert_eq!(
            parse_scopes("read, sales:write,read").expect("scopes"),
            vec![Scope::SalesWrite, Scope::Read]
        );
        let err = parse_scopes("sales:delete").unwrap_err();
        assert!(err.contains("unknown scope \"sales:delete\""), "{err}");
        assert!(parse_scopes(" , ").is_err());
    }

    #[test]
    fn keys_are_random_and_hashes_compare_exactly() {
        let mut rng = rand::rng();
        let a = random_text(&mut rng, SECRET_CHARS);
        let b = random_text(&mut rng, SECRET_CHARS);
        assert_ne!(a, b);
        assert_eq!(hash_key("rk_x_y").len(), 64);
        assert!(same(&hash_key("k"), &hash_key("k")));
        assert!(!same(&hash_key("k"), &hash_key("l")));
        assert!(!same("ab", "abc"));
    }
}
