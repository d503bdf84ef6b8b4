//! Creating partners: the one place that inserts a partner and writes its audit entry, used by
//! chat `/invite`, `rally partners add`, `rally invite` and the demo, so every partner that
//! exists has a `partner.create` entry saying who created it and from where.

use serde_json::json;

use crate::engine::audit::AuditAction;
use crate::engine::ids::MemberId;
use crate::engine::partner::Partner;
use crate::store::partners::NewPartner;
use crate::store::{self, Conn, audit, partners};

/// Where a partner was created from; recorded in its audit entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Chat,
    Cli,
    Demo,
    /// `rally import partners`.
    Import,
}

impl Source {
    pub fn as_str(&self) -> &'static str {
        match self {
            Source::Chat => "chat",
            Source::Cli => "cli",
            Source::Demo => "demo",
            Source::Import => "import",
        }
    }
}

/// Inserts a partner joined at `now` and records its creation by `actor` (`None`: the
/// system). Returns `None`, writing nothing, if a partner with that name exists already.
///
/// Runs on the caller's connection: pass a transaction so the partner and its audit entry are
/// stored together or not at all.
pub async fn create(
    conn: &mut Conn,
    new: &NewPartner,
    actor: Option<MemberId>,
    source: Source,
    now: i64,
) -> store::Result<Option<Partner>> {
    let Some(created) = partners::insert(&mut *conn, new, now).await? else {
        return Ok(None);
    };
    let entry = creation_entry(&created, actor, source);
    audit::record(
        &mut *conn,
        entry.actor,
        entry.action,
        &entry.subject,
        None,
        entry.after.as_ref(),
        now,
    )
    .await?;
    Ok(Some(created))
}

/// The audit entry of a partner's creation.
fn creation_entry(created: &Partner, actor: Option<MemberId>, source: Source) -> audit::NewEntry {
    audit::NewEntry {
        actor,
        action: AuditAction::PartnerCreate,
        subject: format!("partner {}", created.id),
        before: None,
        after: Some(json!({
            "name": created.name,
            "kind": created.kind.as_str(),
            "region": created.region,
            "tier": created.tier,
            "potential_minor": created.potential_minor,
            "source": source.as_str(),
        })),
    }
}

/// [`create`] for many partners at once (`rally import partners`), with multi-row statements:
/// the partners whose name exists already are skipped; every partner stored gets its
/// `partner.create` entry. Names must be unique (by key) within `news`. Returns the partners
/// stored now.
pub async fn create_many(
    conn: &mut Conn,
    news: &[NewPartner],
    actor: Option<MemberId>,
    source: Source,
    now: i64,
) -> store::Result<Vec<Partner>> {
    let created = partners::insert_many(&mut *conn, news, now).await?;
    let entries: Vec<audit::NewEntry> = created
        .iter()
        .map(|p| creation_entry(p, actor, source))
        .collect();
    audit::record_many(&mut *conn, &entries, now).await?;
    Ok(created)
}
