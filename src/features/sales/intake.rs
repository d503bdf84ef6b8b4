//! Sales from other systems, one record at a time: the checks, the partner lookup and the
//! stored sale that the CSV import (`rally import sales`) and the HTTP API (`POST
//! /api/v1/sales`, `/sales/batch`) share, so a record is accepted or refused the same way
//! whichever door it comes through.
//!
//! Records arrive as text (a CSV row's fields; the API turns its JSON values into the same
//! text). Every problem is named with its field; the CSV import joins them into one sentence
//! per line, the API lists them per field.

use std::collections::HashMap;

use chrono::NaiveDate;

use crate::app::{App, ConversionError};
use crate::engine::amount;
use crate::engine::ids::PartnerId;
use crate::engine::money::Money;
use crate::engine::partner::{MAX_NAME_CHARS, name_key};
use crate::engine::period::Period;
use crate::engine::sale::{SaleSource, initial_status};
use crate::features::sales::ledger;
use crate::store::partners::{self, Lookup};
use crate::store::sales::{Inserted, NewSale};
use crate::store::{self};

/// One record's fields as written; absent optional fields are `None` (an empty CSV cell too).
#[derive(Clone, Copy, Debug, Default)]
pub struct SaleText<'a> {
    /// Partner name or id.
    pub partner: &'a str,
    pub amount: &'a str,
    pub currency: Option<&'a str>,
    /// `YYYY-MM-DD`.
    pub date: &'a str,
    pub customer: &'a str,
    pub category: Option<&'a str>,
    pub quantity: Option<&'a str>,
    pub external_id: Option<&'a str>,
    /// true/false, 1/0, yes/no; absent or empty means true.
    pub verified: Option<&'a str>,
}

/// A problem with one field of a record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The field's name (`amount`), as in the CSV header and the API's JSON.
    pub field: &'static str,
    pub message: String,
}

impl Problem {
    fn new(field: &'static str, message: impl Into<String>) -> Problem {
        Problem {
            field,
            message: message.into(),
        }
    }
}

/// A record whose fields are all valid, before its partner is looked up.
#[derive(Clone, Debug)]
pub struct CheckedSale<'a> {
    pub partner: &'a str,
    pub amount: Money,
    pub program_amount: Money,
    pub date: NaiveDate,
    pub customer: &'a str,
    pub category: Option<&'a str>,
    pub quantity: Option<i64>,
    pub external_id: Option<&'a str>,
    pub verified: bool,
}

/// Parses `verified`: true/false, 1/0, yes/no (any case); empty means true.
pub fn parse_verified(text: &str) -> Option<bool> {
    match text.trim().to_lowercase().as_str() {
        "" | "true" | "1" | "yes" => Some(true),
        "false" | "0" | "no" => Some(false),
        _ => None,
    }
}

/// Parses a strict `YYYY-MM-DD` date.
pub(crate) fn parse_date(text: &str) -> Result<NaiveDate, String> {
    let b = text.as_bytes();
    let shaped = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shaped {
        return Err(format!("bad date {text:?}: expected YYYY-MM-DD"));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| format!("bad date {text:?}: there is no such day"))
}

/// Records of one import or API request on their way into the ledger: what every record
/// needs (the time, the program's rules) and the partners looked up so far.
pub struct Intake<'a> {
    app: &'a App,
    source: SaleSource,
    now: i64,
    today: NaiveDate,
    auto_approve_below: Option<Money>,
    partners: HashMap<String, Result<PartnerId, String>>,
    /// Every partner, when loaded ([`Intake::load_partners`]): lookups then never query.
    directory: Option<Directory>,
}

/// Every partner by name key and by id (batch imports).
struct Directory {
    by_key: HashMap<String, PartnerId>,
    names: HashMap<PartnerId, String>,
}

impl<'a> Intake<'a> {
    /// Records from `source` (`Import` or `Api`), checked against the program's rules now.
    pub fn new(app: &'a App, source: SaleSource) -> Intake<'a> {
        let now = app.now();
        let program = app.config.program.currency;
        Intake {
            app,
            source,
            now,
            today: app.local_date(now),
            auto_approve_below: app
                .config
                .program
                .auto_approve_below
                .map(|v| Money::new(v, program)),
            partners: HashMap::new(),
            directory: None,
        }
    }

    /// Reads every partner once, so [`Intake::partner`] answers from memory from now on: a
    /// batch import names thousands of partners, each worth two lookups otherwise.
    pub async fn load_partners(&mut self, conn: &mut store::Conn) -> store::Result<()> {
        let mut by_key = HashMap::new();
        let mut names = HashMap::new();
        for (id, name, key) in partners::directory(conn).await? {
            by_key.insert(key, id);
            names.insert(id, name);
        }
        self.directory = Some(Directory { by_key, names });
        Ok(())
    }

    /// The lookup of [`partners::find_by_name_or_id`], answered from the loaded directory.
    fn find_loaded(directory: &Directory, text: &str) -> Result<PartnerId, String> {
        let by_name = directory.by_key.get(&name_key(text)).copied();
        let by_id = match text.trim().parse::<i64>() {
            Ok(id) if id > 0 && directory.names.contains_key(&PartnerId(id)) => Some(PartnerId(id)),
            _ => None,
        };
        match (by_name, by_id) {
            (Some(by_name), Some(by_id)) if by_name != by_id => Err(format!(
                "partner {text:?} is ambiguous: it is the name of partner {} and the id of {:?}",
                by_name,
                directory.names.get(&by_id).map_or("", String::as_str)
            )),
            (Some(p), _) | (None, Some(p)) => Ok(p),
            (None, None) => Err(format!(
                "unknown partner {text:?}: no partner has this name or id"
            )),
        }
    }

    /// [`Intake::partner`] without a connection, once [`Intake::load_partners`] ran (`None`
    /// before).
    pub fn partner_loaded(&mut self, text: &str) -> Option<Result<PartnerId, Problem>> {
        let directory = self.directory.as_ref()?;
        let found = match self.partners.get(text) {
            Some(known) => known.clone(),
            None => {
                let found = Self::find_loaded(directory, text);
                self.partners.insert(text.to_string(), found.clone());
                found
            }
        };
        Some(found.map_err(|m| Problem::new("partner", m)))
    }

    /// The instant the records are stored at.
    pub fn now(&self) -> i64 {
        self.now
    }

    /// Checks every field of a record; all problems are reported together, in field order.
    pub fn check<'t>(&self, text: &SaleText<'t>) -> Result<CheckedSale<'t>, Vec<Problem>> {
        let program = self.app.config.program.currency;
        let mut problems = Vec::new();

        if text.partner.is_empty() {
            problems.push(Problem::new("partner", "partner is empty"));
        }

        let amounts = amount::parse_amount_with_currency(text.amount, text.currency)
            .and_then(|input| amount::to_money(input, program))
            .map_err(|e| format!("bad amount {:?}: {e}", text.amount))
            .and_then(|money| to_program(self.app, money).map(|p| (money, p)));
        let amounts = match amounts {
            Ok(a) => Some(a),
            Err(e) => {
                problems.push(Problem::new("amount", e));
                None
            }
        };

        let date = match parse_date(text.date) {
            Ok(d) if d > self.today => {
                problems.push(Problem::new(
                    "date",
                    format!(
                        "date {} is in the future (today is {})",
                        text.date, self.today
                    ),
                ));
                None
            }
            Ok(d) => Some(d),
            Err(e) => {
                problems.push(Problem::new("date", e));
                None
            }
        };

        if text.customer.is_empty() {
            problems.push(Problem::new("customer", "customer is empty"));
        } else if text.customer.chars().count() > MAX_NAME_CHARS {
            problems.push(Problem::new(
                "customer",
                format!("customer is longer than {MAX_NAME_CHARS} characters"),
            ));
        }

        if text
            .category
            .is_some_and(|c| c.chars().count() > MAX_NAME_CHARS)
        {
            problems.push(Problem::new(
                "category",
                format!("category is longer than {MAX_NAME_CHARS} characters"),
            ));
        }

        let quantity = match text.quantity {
            None => None,
            Some(q) => match q.parse::<i64>() {
                Ok(q) if q > 0 => Some(q),
                _ => {
                    problems.push(Problem::new(
                        "quantity",
                        format!("bad quantity {q:?}: expected a positive whole number"),
                    ));
                    None
                }
            },
        };

        let verified_text = text.verified.unwrap_or("");
        let verified = parse_verified(verified_text).unwrap_or_else(|| {
            problems.push(Problem::new(
                "verified",
                format!("bad verified value {verified_text:?}: use true/false, 1/0 or yes/no"),
            ));
            true
        });

        match (amounts, date) {
            (Some((amount, program_amount)), Some(date)) if problems.is_empty() => {
                Ok(CheckedSale {
                    partner: text.partner,
                    amount,
                    program_amount,
                    date,
                    customer: text.customer,
                    category: text.category,
                    quantity,
                    external_id: text.external_id,
                    verified,
                })
            }
            _ => Err(problems),
        }
    }

    /// Looks a partner up by name or id, remembering answers for the rest of the records.
    /// The inner error is the problem with the `partner` field.
    pub async fn partner(
        &mut self,
        conn: &mut store::Conn,
        text: &str,
    ) -> store::Result<Result<PartnerId, Problem>> {
        if let Some(found) = self.partner_loaded(text) {
            return Ok(found);
        }
        if let Some(known) = self.partners.get(text) {
            return Ok(known.clone().map_err(|m| Problem::new("partner", m)));
        }
        let found = match partners::find_by_name_or_id(conn, text).await? {
            Lookup::Found(p) => Ok(p.id),
            Lookup::Unknown => Err(format!(
                "unknown partner {text:?}: no partner has this name or id"
            )),
            Lookup::Ambiguous { by_name, by_id } => Err(format!(
                "partner {text:?} is ambiguous: it is the name of partner {} and the id of {:?}",
                by_name.id, by_id.name
            )),
        };
        self.partners.insert(text.to_string(), found.clone());
        Ok(found.map_err(|m| Problem::new("partner", m)))
    }

    /// The sale a checked record of a known partner becomes, stored under `idempotency_key`
    /// (unique per source: a second record with the same key is a duplicate).
    pub fn new_sale(
        &self,
        sale: &CheckedSale<'_>,
        partner_id: PartnerId,
        idempotency_key: String,
    ) -> NewSale {
        NewSale {
            partner_id,
            amount: sale.amount,
            program_amount: sale.program_amount,
            customer: sale.customer.to_string(),
            customer_key: name_key(sale.customer),
            category: sale.category.map(str::to_string),
            quantity: sale.quantity,
            evidence: None,
            note: None,
            sale_date: sale.date.to_string(),
            period: Period::containing(self.app.config.program.period, sale.date).key(),
            source: self.source,
            idempotency_key,
            status: initial_status(
                self.source,
                sale.verified,
                sale.program_amount,
                self.auto_approve_below,
            ),
            reporter: None,
            reported_at: self.now,
        }
    }

    /// Stores many sales through the ledger on `conn` (the caller's transaction); per sale,
    /// whether it was stored now (see [`ledger::record_sales`]).
    pub async fn record_many(
        &self,
        conn: &mut store::Conn,
        news: &[NewSale],
    ) -> store::Result<Vec<bool>> {
        let stored = ledger::record_sales(self.app, conn, news, self.now).await?;
        Ok(stored.iter().map(Option::is_some).collect())
    }

    /// Stores the sale through the ledger on `conn` (the caller's transaction).
    pub async fn record(&self, conn: &mut store::Conn, new: &NewSale) -> store::Result<Inserted> {
        let (inserted, _) = ledger::record_sale(self.app, conn, new, self.now).await?;
        Ok(inserted)
    }
}

/// Converts to program currency at `[program.rates]`, rounded to its minor unit.
fn to_program(app: &App, money: Money) -> Result<Money, String> {
    let converted = app.to_program_money(money).map_err(|e| match e {
        ConversionError::TooLarge => format!("amount {money} is too large to convert"),
        other => other.to_string(),
    })?;
    // Both amounts are stored as whole minor units.
    for m in [&money, &converted] {
        m.to_minor()
            .map_err(|_| format!("amount {m} is too large to store"))?;
    }
    Ok(converted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verified_values() {
        for yes in ["", "true", "TRUE", "1", "yes", " Yes "] {
            assert_eq!(parse_verified(yes), Some(true), "{yes:?}");
        }
        for no in ["false", "0", "no", "No"] {
            assert_eq!(parse_verified(no), Some(false), "{no:?}");
        }
        assert_eq!(parse_verified("maybe"), None);
    }

    #[test]
    fn dates_are_strict() {
        assert!(parse_date("2026-11-05").is_ok());
        assert!(parse_date("2026-11-5").is_err());
        assert!(parse_date("05/11/2026").is_err());
        assert!(
            parse_date("2026-02-30")
                .unwrap_err()
                .contains("no such day")
        );
    }
}
