//! Invite codes: single-use, expiring, for a partner or a role.

use rand::Rng;

use crate::app::App;
use crate::engine::ids::{MemberId, PartnerId};
use crate::engine::invite::{self, Invite};
use crate::engine::partner::Role;
use crate::store::{self, invites};

/// Creates and stores a fresh invite code; the caller's transaction makes it durable.
pub async fn create_invite(
    app: &App,
    conn: &mut store::Conn,
    partner: Option<PartnerId>,
    role: Role,
    ttl_ms: i64,
    created_by: Option<MemberId>,
) -> store::Result<Invite> {
    let now = app.now();
    loop {
        let invite = Invite {
            code: invite::code_from_random(rand::rng().random()),
            partner_id: partner,
            role,
            expires_at: now.saturating_add(ttl_ms),
            used: false,
        };
        // A collision is astronomically rare, but a unique key is the arbiter, not luck.
        if invites::find(conn, &invite.code).await?.is_none() {
            invites::insert(conn, &invite, created_by, now).await?;
            return Ok(invite);
        }
    }
}
