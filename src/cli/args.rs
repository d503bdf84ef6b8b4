//! The command line's grammar (clap): commands, arguments and their help text.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use rally::demo;

#[derive(Parser)]
#[command(
    name = "rally",
    version,
    about = "Channel-partner incentives inside Telegram and Discord"
)]
pub(crate) struct Cli {
    /// Configuration file (else RALLY_CONFIG, else ./rally.toml if present).
    #[arg(long, global = true)]
    pub(crate) config: Option<PathBuf>,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Try Rally: embedded SQLite, a demo program and a terminal chat. No token needed.
    Demo {
        /// Database file.
        #[arg(long, default_value = "rally-demo.db")]
        db: PathBuf,
        /// Start over from fresh demo data.
        #[arg(long)]
        fresh: bool,
        /// Member to start as (see `/as` in the chat).
        #[arg(long = "as", default_value = demo::DEFAULT_IDENTITY)]
        identity: String,
    },
    /// Run the service (chat platforms whose token is set).
    Run,
    /// Apply database migrations.
    Migrate,
    /// Validate the configuration and print what was found.
    CheckConfig,
    /// Manage partners.
    Partners {
        #[command(subcommand)]
        action: PartnersAction,
    },
    /// Create an invite code for a partner (or a manager).
    Invite {
        /// Partner name (created if it does not exist); omit with --role manager.
        partner: Option<String>,
        #[arg(long, default_value = "partner")]
        role: String,
        #[arg(long, default_value = "dealer")]
        kind: String,
        #[arg(long)]
        region: Option<String>,
        #[arg(long)]
        tier: Option<String>,
    },
    /// Import data from files.
    Import {
        #[command(subcommand)]
        what: ImportWhat,
    },
    /// Per-partner period targets (without one, the plan's target applies).
    Targets {
        #[command(subcommand)]
        action: TargetsAction,
    },
    /// Lock every statement of an ended period (YYYY-MM); later changes become adjustments.
    ClosePeriod {
        /// The period, e.g. 2026-11.
        period: String,
    },
    /// Export statements for payout.
    Export {
        #[command(subcommand)]
        what: ExportWhat,
    },
    /// Partner tiers.
    Tiers {
        #[command(subcommand)]
        action: TiersAction,
    },
    /// Scheduled jobs of `[[jobs.run]]`.
    Jobs {
        #[command(subcommand)]
        action: JobsAction,
    },
    /// Trainings: `[[trainings]]` and those added here.
    Trainings {
        #[command(subcommand)]
        action: TrainingsAction,
    },
    /// Sales contests of `[[contests]]`.
    Contests {
        #[command(subcommand)]
        action: ContestsAction,
    },
    // --- HTTP API and TV page (issue 13) ---
    /// API keys for the HTTP API (`Authorization: Bearer <key>`).
    Apikey {
        #[command(subcommand)]
        action: ApikeyAction,
    },
    /// Print the URL of the office TV leaderboard, with a new key of the `tv` scope in it.
    Tvlink {
        /// Show a contest's standings instead of the period ranking.
        #[arg(long)]
        contest: Option<String>,
        /// Name of the key (shown by `rally apikey list`, revoked with `rally apikey revoke`).
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Subcommand)]
pub(crate) enum TrainingsAction {
    /// Every training with its seats, enrollments, check-in code and ratings.
    List,
    /// Approved sales of attendees before and after a session against eligible partners who
    /// did not attend (difference in differences).
    Report {
        /// The training's id or title.
        training: String,
        /// Days before and after the session day.
        #[arg(long, default_value_t = 30)]
        days: u32,
    },
    /// Add a training (the configuration's `[[trainings]]` fields as options).
    Add {
        /// A short id members type (`/enroll basics-2`).
        id: String,
        /// The title shown.
        #[arg(long)]
        title: String,
        /// Start, program time zone: 2026-12-03T14:00.
        #[arg(long)]
        start: String,
        #[arg(long, default_value_t = 60)]
        duration_minutes: u32,
        #[arg(long)]
        capacity: u32,
        /// basic, advanced or expert.
        #[arg(long, default_value = "basic")]
        level: String,
        /// Online: the meeting link.
        #[arg(long, conflicts_with = "place")]
        link: Option<String>,
        /// Offline: where.
        #[arg(long)]
        place: Option<String>,
        /// Only partners of this tier may enroll.
        #[arg(long)]
        tier: Option<String>,
        /// Granted on completion.
        #[arg(long)]
        certification: Option<String>,
    },
}

#[derive(Subcommand)]
pub(crate) enum ContestsAction {
    /// Every contest: running, upcoming and ended, with its leader.
    List,
    /// One contest: its rules, prizes and current (or final) standings.
    Show {
        /// The contest id (or its name).
        id: String,
    },
}

#[derive(Subcommand)]
pub(crate) enum ApikeyAction {
    /// Create a key and print it (once: only its hash is stored).
    Create {
        /// A name for the key, e.g. the system that uses it.
        name: String,
        /// Comma list of: sales:write (post sales), read (leaderboard, statements, partners),
        /// tv (the TV page).
        #[arg(long, default_value = "read")]
        scopes: String,
    },
    /// List keys (never the keys themselves).
    List,
    /// Revoke a key by name or id; requests with it fail from now on.
    Revoke {
        /// The key's name or id.
        key: String,
    },
}

#[derive(Subcommand)]
pub(crate) enum JobsAction {
    /// Each job with its schedule and its next three due times (program time zone).
    List,
}

#[derive(Subcommand)]
pub(crate) enum ExportWhat {
    /// Statements of a period: locked snapshots if closed, else drafts.
    Statements {
        #[arg(long)]
        period: String,
        #[arg(long, value_enum, default_value = "json")]
        format: ExportFormat,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub(crate) enum ExportFormat {
    Json,
    Csv,
}

#[derive(Subcommand)]
pub(crate) enum TiersAction {
    /// Re-evaluate every partner's tier from trailing sales and certifications.
    Recompute,
}

#[derive(Subcommand)]
pub(crate) enum ImportWhat {
    /// Import sales from a CSV file (UTF-8, comma-separated, first line a header).
    #[command(long_about = IMPORT_SALES_HELP)]
    Sales {
        /// The CSV file.
        file: PathBuf,
    },
    // --- throughput: partners import (issue 14) ---
    /// Import partners from a CSV file (UTF-8, comma-separated, first line a header).
    #[command(long_about = IMPORT_PARTNERS_HELP)]
    Partners {
        /// The CSV file.
        file: PathBuf,
    },
}

pub(crate) const IMPORT_PARTNERS_HELP: &str =
    "Import partners from a CSV file (UTF-8, comma-separated, first line a header).

Columns, in any order (names are case-insensitive; any other column is an error):
  name       required: the partner's name
  kind       optional: dealer (default), agent, wholesaler, retailer or distributor
  region     optional: region (plans and contests may be assigned by region)
  tier       optional: tier name
  potential  optional: sales potential in the program currency, e.g. 500000 or 50万

Importing is idempotent by name: a partner whose name exists (ignoring case, width and
spacing) is left unchanged and counted as already present, so importing the same file again
adds nothing. Bad rows are reported with their line number and reason and skipped; good rows
are stored in transactions of 10,000 rows, each new partner with its audit entry.

Prints: imported N, already present M, rejected K.
Exit status: 0 if no row was rejected, 1 if any was (or the file could not be imported).";

pub(crate) const IMPORT_SALES_HELP: &str =
    "Import sales from a CSV file (UTF-8, comma-separated, first line a header).

Columns, in any order (names are case-insensitive; any other column is an error):
  partner      required: partner name (as `rally partners list` shows it) or partner id
  amount       required: 12500, 12,500.50, 1.2万, 3k, ¥12,500 or 12500USD
  date         required: the sale date, YYYY-MM-DD; it decides the period the sale counts in
  customer     required: the customer's name
  currency     optional: ISO code (USD); else the amount's own currency, else the program's.
               Foreign amounts convert at [program.rates]; a currency without a rate is rejected
  category     optional: product category (plans may pay category rates)
  quantity     optional: units sold, a positive whole number
  external_id  optional: the sale's id in your system
  verified     optional: true/false, 1/0 or yes/no; default true. Verified sales are approved
               on arrival, the others wait for a manager

Importing is idempotent: a row with an external_id is stored once whatever file or line it
comes from; a row without one is recognised by file name, line number and content, so
importing the same file again stores nothing twice (but after rows are inserted above it in an
edited file, a row counts as new: use external_id for files that change).

Bad rows are reported with their line number and reason and skipped; good rows are stored
in transactions of 10,000 rows. A missing or unknown column is an error before anything is
stored. A progress bar is shown when standard error is a terminal.

Prints: imported N, already present M, rejected K.
Exit status: 0 if no row was rejected, 1 if any was (or the file could not be imported).";

#[derive(Subcommand)]
pub(crate) enum TargetsAction {
    /// Set a partner's target for one period (replaces an earlier one).
    Set {
        /// Partner name or id.
        partner: String,
        /// Period key, e.g. 2026-11 (2026-Q4 or 2026 for quarterly or yearly programs).
        period: String,
        /// Target in program currency, e.g. 150000, 15万 or 150k.
        amount: String,
    },
}

#[derive(Subcommand)]
pub(crate) enum PartnersAction {
    /// Add a partner.
    Add {
        name: String,
        #[arg(long, default_value = "dealer")]
        kind: String,
        #[arg(long)]
        region: Option<String>,
        #[arg(long)]
        tier: Option<String>,
        /// Sales potential in program currency (fund allocation weighs it), e.g. 500000 or 50万.
        #[arg(long)]
        potential: Option<String>,
    },
    /// List partners.
    List,
}
