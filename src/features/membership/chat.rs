//! Joining and membership: `/start`, `/link`, `/help`, `/lang` and `/invite` in chat.

use serde_json::json;

use crate::app::App;
use crate::chat::command::{self, Command, InviteArgs};
use crate::chat::handler::{Ctx, Failure, Handled, user};
use crate::chat::registry::{self, Audience, CommandSpec, ParamKind as K, Writes, opt, req};
use crate::chat::reply::{Msg, Reply};
use crate::config::Locale;
use crate::engine::audit::AuditAction;
use crate::engine::invite::{self as invite_rules, InviteError};
use crate::engine::partner::{PartnerKind, Person, Platform, Role};
use crate::store::partners::NewPartner;
use crate::store::{self, audit, invites, members, partners};

/// Lifetime of a `/link` code for joining another platform's account.
const LINK_CODE_TTL_MS: i64 = 15 * 60 * 1000;

/// The commands this feature handles.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "start",
        audience: Audience::Everyone,
        writes: Writes::WithArguments,
        params: &[opt("code", K::Word)],
        parse: |t| {
            Ok(Command::Start {
                code: command::optional_word(t),
            })
        },
        example: "ABCD2345",
    },
    CommandSpec {
        name: "link",
        audience: Audience::Everyone,
        writes: Writes::Always,
        params: &[opt("code", K::Word)],
        parse: |t| {
            Ok(Command::Link {
                code: command::optional_word(t),
            })
        },
        example: "",
    },
    CommandSpec {
        name: "help",
        audience: Audience::Everyone,
        writes: Writes::Never,
        params: &[],
        parse: |_| Ok(Command::Help),
        example: "",
    },
    CommandSpec {
        name: "lang",
        audience: Audience::Everyone,
        writes: Writes::WithArguments,
        params: &[req("locale", K::Word)],
        parse: |t| {
            Ok(Command::Lang {
                locale: command::optional_word(t),
            })
        },
        example: "zh-CN",
    },
    CommandSpec {
        name: "notify",
        audience: Audience::Partner,
        writes: Writes::WithArguments,
        params: &[opt("platform", K::Word)],
        parse: |t| {
            Ok(Command::Notify {
                platform: command::optional_word(t),
            })
        },
        example: "telegram",
    },
    CommandSpec {
        name: "invite",
        audience: Audience::Manager,
        writes: Writes::Always,
        params: &[
            req("partner", K::Name),
            opt("kind", K::Word),
            opt("region", K::Word),
            opt("tier", K::Word),
        ],
        parse: |t| Ok(Command::Invite(command::parse_invite(t)?)),
        example: "\"East Trading Co\" dealer East",
    },
];

/// The commands of each audience the member belongs to, with usage in their language.
pub(crate) fn help(app: &App, ctx: &Ctx<'_>) -> Reply {
    let mut reply = Reply::here(Msg::new("help-header").text("program", &app.config.program.name));
    let is_member = ctx.member.role.is_some();
    let is_partner = is_member && ctx.member.partner_id.is_some();
    let is_manager = ctx.member.role.is_some_and(|role| role.is_manager());
    for spec in registry::for_member(is_partner, is_manager) {
        reply =
            reply.line(Msg::new("help-line").text("line", spec.help_line(&app.i18n, ctx.locale)));
    }
    reply
}

pub(crate) fn welcome(app: &App, ctx: &Ctx<'_>) -> Reply {
    match ctx.member.role {
        None => Reply::here(Msg::new("welcome-guest").text("program", &app.config.program.name)),
        Some(_) => Reply::here(
            Msg::new("welcome-back")
                .text("name", &ctx.member.display_name)
                .text("program", &app.config.program.name),
        ),
    }
}

pub(crate) async fn redeem(ctx: &mut Ctx<'_>, conn: &mut store::Conn, typed: &str) -> Handled {
    let code = invite_rules::normalize_code(typed)
        .ok_or_else(|| user(Msg::new("invite-unknown").text("code", typed)))?;
    let invite = invites::find(&mut *conn, &code)
        .await?
        .ok_or_else(|| user(Msg::new("invite-unknown").text("code", typed)))?;
    invite_rules::check_redeemable(&invite, ctx.now).map_err(|e| {
        user(match e {
            InviteError::Used => Msg::new("invite-used"),
            InviteError::Expired => Msg::new("invite-expired"),
        })
    })?;
    if let (Some(current), Some(wanted)) = (ctx.member.partner_id, invite.partner_id)
        && current != wanted
    {
        return Err(user(Msg::new("invite-other-partner")));
    }
    if !invites::mark_used(&mut *conn, &code, ctx.member.id, ctx.now).await? {
        return Err(user(Msg::new("invite-used")));
    }
    // A personal link code also makes both accounts one person, for where notices go.
    let linked_with = match invites::link_member(&mut *conn, &code).await? {
        Some(from) if from != ctx.member.id => members::get(&mut *conn, from).await?,
        _ => None,
    };
    let person = match &linked_with {
        Some(from) => {
            let person = members::join_person(&mut *conn, from, &ctx.member, ctx.now).await?;
            members::note_spoke(
                &mut *conn,
                &Person {
                    id: person,
                    last_platform: None,
                    notify_platform: None,
                },
                ctx.member.platform,
            )
            .await?;
            Some(person)
        }
        None => None,
    };
    // Joining never lowers a role an account already has (an admin stays admin).
    let role = ctx.member.role.map_or(invite.role, |r| r.max(invite.role));
    let partner_id = invite.partner_id.or(ctx.member.partner_id);
    members::set_role(&mut *conn, ctx.member.id, partner_id, role).await?;
    audit::record(
        &mut *conn,
        Some(ctx.member.id),
        AuditAction::MemberJoin,
        &format!("member {}", ctx.member.id),
        Some(&json!({ "role": ctx.member.role.map(|r| r.as_str()), "partner": ctx.member.partner_id })),
        Some(&json!({
            "role": role.as_str(),
            "partner": partner_id,
            "code": code,
            "person": person.map(|p| p.0),
            "linked_with": linked_with.as_ref().map(|m| m.id.0),
        })),
        ctx.now,
    )
    .await?;
    let partner_name = match partner_id {
        Some(p) => partners::get(&mut *conn, p).await?.map(|p| p.name),
        None => None,
    };
    let msg = match partner_name {
        Some(name) => Msg::new("joined-partner").text("partner", name),
        None => Msg::new("joined-role").text("role", role.as_str()),
    };
    let mut reply = Reply::here(msg);
    if let Some(from) = &linked_with {
        reply = reply.line(
            Msg::new("joined-linked")
                .text("other", from.platform.as_str())
                .text("this", ctx.member.platform.as_str()),
        );
    }
    Ok(vec![reply.line(Msg::new("joined-next"))])
}

/// `/link` without a code: a short-lived code that joins another platform's account to
/// this member's partner and role.
pub(crate) async fn link_code(app: &App, ctx: &mut Ctx<'_>, conn: &mut store::Conn) -> Handled {
    ctx.require_member()?;
    let role = ctx.member.role.unwrap_or(Role::Partner);
    let invite = crate::features::membership::invites::create_invite(
        app,
        &mut *conn,
        ctx.member.partner_id,
        role,
        LINK_CODE_TTL_MS,
        Some(ctx.member.id),
    )
    .await?;
    invites::mark_personal(&mut *conn, &invite.code, ctx.member.id).await?;
    let replies = vec![Reply::private(
        Msg::new("link-code")
            .text("code", &invite.code)
            .int("minutes", LINK_CODE_TTL_MS / 60_000),
    )];
    Ok(replies)
}

pub(crate) async fn lang(
    ctx: &mut Ctx<'_>,
    conn: &mut store::Conn,
    wanted: Option<&str>,
) -> Handled {
    let Some(wanted) = wanted else {
        return Ok(vec![Reply::here(
            Msg::new("lang-current").text("locale", ctx.locale.tag()),
        )]);
    };
    let locale = Locale::from_tag(wanted)
        .ok_or_else(|| user(Msg::new("lang-unknown").text("locale", wanted)))?;
    members::set_locale(&mut *conn, ctx.member.id, locale.tag()).await?;
    ctx.locale = locale;
    let replies = vec![Reply {
        locale: Some(locale),
        ..Reply::here(Msg::new("lang-set").text("locale", locale.tag()))
    }];
    Ok(replies)
}

/// `/notify [telegram|discord|auto]`: shows or sets where a person linked on both platforms
/// gets notices (`auto`: where they last spoke to the bot).
pub(crate) async fn notify(
    ctx: &mut Ctx<'_>,
    conn: &mut store::Conn,
    wanted: Option<&str>,
) -> Handled {
    let accounts = match &ctx.member.person {
        Some(person) => members::accounts_of(&mut *conn, person.id).await?,
        None => vec![ctx.member.clone()],
    };
    let platforms = || {
        let mut names: Vec<&str> = accounts.iter().map(|a| a.platform.as_str()).collect();
        names.dedup();
        names.join(", ")
    };
    let Some(wanted) = wanted else {
        let choice = ctx
            .member
            .person
            .as_ref()
            .and_then(|p| p.notify_platform)
            .map_or("auto", |p| p.as_str());
        return Ok(vec![Reply::here(
            Msg::new("notify-current")
                .text("choice", choice)
                .text("platforms", platforms()),
        )]);
    };
    let choice = match wanted.to_lowercase().as_str() {
        "auto" => None,
        other => match Platform::parse(other) {
            Some(p @ (Platform::Telegram | Platform::Discord)) => Some(p),
            _ => return Err(user(Msg::new("notify-unknown").text("platform", wanted))),
        },
    };
    if let Some(platform) = choice
        && !accounts.iter().any(|a| a.platform == platform)
    {
        return Err(user(
            Msg::new("notify-no-account").text("platform", platform.as_str()),
        ));
    }
    if let Some(person) = &ctx.member.person {
        members::set_notify_platform(&mut *conn, person.id, choice).await?;
    }
    let msg = match choice {
        Some(platform) => Msg::new("notify-set").text("platform", platform.as_str()),
        None => Msg::new("notify-auto"),
    };
    Ok(vec![Reply::here(msg)])
}

pub(crate) async fn invite(
    app: &App,
    ctx: &mut Ctx<'_>,
    conn: &mut store::Conn,
    args: InviteArgs,
) -> Handled {
    ctx.require_manager()?;
    let partner = match partners::find_by_name(&mut *conn, &args.partner).await? {
        Some(p) => p,
        None => {
            let new = NewPartner {
                name: args.partner.clone(),
                kind: args.kind.unwrap_or(PartnerKind::Dealer),
                region: args.region.clone(),
                tier: args.tier.clone(),
                potential_minor: None,
            };
            crate::features::membership::partners::create(
                &mut *conn,
                &new,
                Some(ctx.member.id),
                crate::features::membership::partners::Source::Chat,
                ctx.now,
            )
            .await?
            .ok_or_else(|| Failure::Internal(anyhow::anyhow!("partner vanished")))?
        }
    };
    let invite = crate::features::membership::invites::create_invite(
        app,
        &mut *conn,
        Some(partner.id),
        Role::Partner,
        app.invite_ttl_ms(),
        Some(ctx.member.id),
    )
    .await?;
    audit::record(
        &mut *conn,
        Some(ctx.member.id),
        AuditAction::InviteCreate,
        &format!("partner {}", partner.id),
        None,
        Some(&json!({ "code": invite.code, "expires_at": invite.expires_at })),
        ctx.now,
    )
    .await?;
    let expires = app.local_date(invite.expires_at).to_string();
    let mut reply = Reply::private(
        Msg::new("invite-created")
            .text("partner", &partner.name)
            .text("code", &invite.code)
            .text("expires", expires),
    );
    if let (Platform::Telegram, Some(bot)) = (ctx.incoming.platform, &app.bot_username) {
        reply = reply.line(
            Msg::new("invite-link")
                .text("link", format!("https://t.me/{bot}?start={}", invite.code)),
        );
    }
    Ok(vec![reply])
}
