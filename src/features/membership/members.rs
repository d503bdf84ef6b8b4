//! Members: chat accounts, created on first contact; configured admins promoted (audited).

use crate::app::App;
use crate::engine::audit::AuditAction;
use crate::engine::partner::{Member, Platform, Role};
use crate::store;

/// The member for a chat account on `conn`, creating it on first contact and promoting
/// configured admins. Runs on the caller's connection so a command needs only one.
pub async fn resolve(
    app: &App,
    conn: &mut store::Conn,
    platform: Platform,
    user_id: &str,
    display_name: &str,
) -> store::Result<Member> {
    let found = store::members::find(&mut *conn, platform, user_id).await?;
    let admin = app.is_configured_admin(platform, user_id);
    if let Some(member) = found
        && (!admin || member.role == Some(Role::Admin))
    {
        // Notices for a person with several accounts follow them to where they last spoke.
        if let Some(person) = &member.person {
            store::members::note_spoke(&mut *conn, person, platform).await?;
        }
        return Ok(member);
    }
    let now = app.now();
    let mut member =
        store::members::upsert(&mut *conn, platform, user_id, display_name, now).await?;
    if admin && member.role != Some(Role::Admin) {
        store::members::set_role(&mut *conn, member.id, member.partner_id, Role::Admin).await?;
        store::audit::record(
            &mut *conn,
            None,
            AuditAction::MemberAdmin,
            &format!("member {}", member.id),
            None,
            Some(&serde_json::json!({ "role": "admin", "source": "config" })),
            now,
        )
        .await?;
        member.role = Some(Role::Admin);
    }
    Ok(member)
}
