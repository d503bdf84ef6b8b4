//! Arguments that name something stored: a period, the caller's partner, a partner by name
//! or id. Shared by the features' chat handlers.

use crate::app::{App, ConversionError};
use crate::chat::handler::{Ctx, Failure, Handled, user};
use crate::chat::reply::Msg;
use crate::engine::ids::PartnerId;
use crate::engine::money::Money;
use crate::engine::partner::Partner;
use crate::engine::period::Period;
use crate::store::{self, partners};

/// The current period, or the one named (`2026-10`), which must be of the program's kind.
pub(crate) fn period_arg(app: &App, ctx: &Ctx<'_>, text: Option<&str>) -> Handled<Period> {
    match text {
        None => Ok(app.period_at(ctx.now)),
        Some(t) => Period::parse(t)
            .filter(|p| p.kind() == app.config.program.period)
            .ok_or_else(|| user(Msg::new("error-bad-period").text("text", t))),
    }
}

pub(crate) async fn own_partner(ctx: &Ctx<'_>, conn: &mut store::Conn) -> Handled<Partner> {
    let id = ctx.partner()?;
    partners::get(conn, id)
        .await?
        .ok_or_else(|| Failure::Internal(anyhow::anyhow!("partner {id} of a member is missing")))
}

pub(crate) async fn named_partner(conn: &mut store::Conn, name: &str) -> Handled<Partner> {
    let found = match name.trim().parse::<i64>() {
        Ok(id) => partners::get(conn, PartnerId(id)).await?,
        Err(_) => partners::find_by_name(conn, name).await?,
    };
    found.ok_or_else(|| user(Msg::new("partner-unknown").text("partner", name)))
}

/// Converts a reported amount into program currency, rounded to its minor unit.
pub(crate) fn to_program_money(app: &App, money: Money) -> Handled<Money> {
    app.to_program_money(money).map_err(|e| match e {
        ConversionError::NoRate { currency, program } => user(
            Msg::new("report-no-rate")
                .text("currency", currency.code())
                .text("program", program.code()),
        ),
        ConversionError::TooLarge => user(Msg::new("amount-too-large")),
    })
}

/// How many entries list commands show.
pub(crate) const LIST_LIMIT: i64 = 10;
