//! Storage: one SQL layer over SQLite (embedded default) and PostgreSQL (for scale), through
//! `sqlx::Any`. Money is integer minor units and instants are unix milliseconds, so sums and
//! orderings happen in SQL identically on both backends; the two migration folders hold the DDL
//! differences only.
//!
//! Functions in the submodules take a `&mut AnyConnection`, so the service layer composes them
//! inside one transaction ([`Store::begin`]) for every multi-row change.

pub mod alerts;
pub mod api;
pub mod audit;
pub mod broadcasts;
pub mod contest_boards;
pub mod contests;
pub mod deals;
pub mod group;
pub mod handled;
pub mod inbox;
pub mod incentives;
pub mod invites;
pub mod jobs;
pub mod kudos;
pub mod leases;
pub mod members;
pub mod outbox;
pub mod partners;
pub mod points;
pub mod rank_cache;
pub mod sales;
pub mod statements;
pub mod stories;
pub mod targets;
pub mod totals;
pub mod trainings;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyPool, ConnectOptions, Executor};

pub use sqlx::AnyConnection as Conn;
/// A write transaction.
pub type Tx = sqlx::Transaction<'static, Any>;

/// What went wrong talking to the database. Never shown to users verbatim.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database url {0:?}: use sqlite://path or postgres://...")]
    UnsupportedUrl(String),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Which database a [`Store`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The connection pool plus what it is connected to.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Store {
    /// Connects by URL: `sqlite://path` (the file is created when missing) or `postgres://...`.
    /// SQLite runs in WAL mode with `synchronous = FULL`, so every committed sale survives a
    /// power cut, and waits up to 5 s for a lock instead of failing.
    pub async fn connect(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_string()));
        };
        let url = match backend {
            Backend::Sqlite if !url.contains("mode=") => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}mode=rwc")
            }
            _ => url.to_string(),
        };
        // sqlx warns about every statement slower than a second. Batch work (an import, a
        // close, an export) runs such statements by design, and the warning landed in the
        // user's terminal: it belongs in the log at debug level (`RALLY_LOG=sqlx=debug`).
        let options = AnyConnectOptions::from_str(&url)?
            .log_slow_statements(log::LevelFilter::Debug, Duration::from_secs(1));
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 4,
                Backend::Postgres => 10,
            })
            .acquire_timeout(Duration::from_secs(10))
            // A SQLite connection is a file handle in this process: there is no server link
            // that could have died, so pinging it before every use only costs a round trip.
            .test_before_acquire(backend == Backend::Postgres)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // `temp_store = MEMORY`: a multi-row statement inside a transaction
                        // keeps a statement journal (the pages it changed, for its own
                        // rollback); in a temporary file that journal's writes were a fifth
                        // of an import's time.
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                             PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; \
                             PRAGMA temp_store = MEMORY;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        Ok(Store { pool, backend })
    }

    /// Applies the migrations this backend has not seen yet.
    pub async fn migrate(&self) -> Result<()> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await?,
        }
        Ok(())
    }

    /// Whether every migration this build knows is applied (`/readyz`).
    pub async fn migrations_current(&self) -> Result<bool> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        let mut conn = self.read().await?;
        let applied = api::applied_migrations(&mut conn).await?;
        Ok(migrator
            .iter()
            .filter(|m| m.migration_type.is_up_migration())
            .all(|m| applied.contains(&m.version)))
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// A write transaction. On SQLite it takes the write lock up front (`BEGIN IMMEDIATE`), so
    /// two writers queue on the busy timeout instead of failing when a read turns into a write.
    pub async fn begin(&self) -> Result<Tx> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// A write transaction for batch work (an import's batch). On SQLite its connection's page
    /// cache is raised to 64 MiB (from the default 2 MiB; it stays so for that pooled
    /// connection): a batch touches index pages all over, and with the small cache it wrote
    /// changed pages out and read them back within one batch. Only batch work asks for it, so
    /// a server or a close keeps its memory.
    pub async fn begin_batch(&self) -> Result<Tx> {
        let mut tx = self.begin().await?;
        if self.backend == Backend::Sqlite {
            sqlx::query("PRAGMA cache_size = -65536")
                .execute(&mut *tx)
                .await?;
        }
        Ok(tx)
    }

    /// A connection for reads.
    pub async fn read(&self) -> Result<PoolConnection<Any>> {
        Ok(self.pool.acquire().await?)
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Reads a column, naming it in the error.
pub(crate) fn col<'r, T>(row: &'r sqlx::any::AnyRow, name: &str) -> Result<T>
where
    T: sqlx::Decode<'r, Any> + sqlx::Type<Any>,
{
    use sqlx::Row;
    Ok(row.try_get::<T, _>(name)?)
}

/// Parses a stored enum column, reporting unknown values as corruption rather than panicking.
pub(crate) fn parse_col<T>(
    value: &str,
    column: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<T> {
    parse(value).ok_or_else(|| StoreError::Corrupt(format!("unexpected {column} value {value:?}")))
}

/// Marks SQL built with `format!` as safe. Only compile-time constants (column and table names)
/// are ever spliced in; every value is bound as a parameter.
pub(crate) fn sql(text: String) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(text)
}

// --- throughput: multi-row statements (issue 14) ---

/// The `VALUES` list of a multi-row statement: `rows` tuples of `columns` placeholders, with
/// `extra` appended verbatim after each tuple's placeholders (a constant SQL expression, or "").
/// SQLite gets anonymous `?` placeholders: sqlx resolves numbered ones (`$7`) by name there,
/// which costs quadratically in their number; PostgreSQL needs `$1`, `$2`, ….
pub(crate) fn values_list(conn: &Conn, rows: usize, columns: usize, extra: &str) -> String {
    let postgres = totals::is_postgres(conn);
    let mut out = String::with_capacity(rows * (columns * 5 + extra.len() + 4));
    for r in 0..rows {
        if r > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for c in 0..columns {
            if c > 0 {
                out.push_str(", ");
            }
            if postgres {
                out.push('$');
                out.push_str(&(r * columns + c + 1).to_string());
            } else {
                out.push('?');
            }
        }
        if !extra.is_empty() {
            out.push_str(", ");
            out.push_str(extra);
        }
        out.push(')');
    }
    out
}

/// `n` placeholders separated by commas, for an `IN (…)` list (see [`values_list`] on why
/// SQLite gets `?`).
pub(crate) fn in_list(conn: &Conn, n: usize) -> String {
    (1..=n)
        .map(|i| placeholder(conn, i))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The `n`th placeholder of a statement (1-based; see [`values_list`] on why SQLite gets `?`):
/// for a parameter after an [`in_list`] of `n - 1`.
pub(crate) fn placeholder(conn: &Conn, n: usize) -> String {
    if totals::is_postgres(conn) {
        format!("${n}")
    } else {
        "?".to_string()
    }
}
