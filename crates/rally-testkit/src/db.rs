//! Throwaway databases: each test gets a real, migrated Rally database of its own — a SQLite
//! file in a temp directory, or a fresh PostgreSQL database (created on the server named by
//! `RALLY_TEST_POSTGRES_URL`, dropped afterwards) — so tests run against the same SQL Rally
//! runs in production, in parallel, without seeing each other's rows.

use rally::store::{Backend, Store};

/// A database that exists for one test and is dropped afterwards.
pub struct TestDb {
    pub store: Store,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg_drop: Option<(String, String)>,
}

impl TestDb {
    /// A fresh SQLite file in a temp directory.
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("rally.db").display());
        let store = Store::connect(&url).await.expect("connect sqlite");
        store.migrate().await.expect("migrate sqlite");
        TestDb {
            store,
            url,
            _dir: Some(dir),
            pg_drop: None,
        }
    }

    /// A fresh PostgreSQL database, or `None` (with a note) when `RALLY_TEST_POSTGRES_URL` is unset.
    pub async fn postgres(test: &str) -> Option<TestDb> {
        let Ok(admin_url) = std::env::var("RALLY_TEST_POSTGRES_URL") else {
            eprintln!("skipped {test} on PostgreSQL: RALLY_TEST_POSTGRES_URL is not set");
            return None;
        };
        let name = format!("rally_test_{}_{}", std::process::id(), rand_suffix());
        let admin = Store::connect(&admin_url)
            .await
            .expect("connect postgres admin");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(admin.pool())
            .await
            .expect("create test database");
        admin.close().await;
        let url = with_database(&admin_url, &name);
        let store = Store::connect(&url).await.expect("connect test database");
        store.migrate().await.expect("migrate postgres");
        Some(TestDb {
            store,
            url,
            _dir: None,
            pg_drop: Some((admin_url, name)),
        })
    }
}

// --- faults and counts the database itself produces (group-commit tests) ---
impl TestDb {
    /// Makes the database refuse (a trigger raising an error) every insert into `table` for
    /// which `condition`, an SQL expression over `NEW`, holds: a real database error in the
    /// middle of Rally's transaction.
    pub async fn refuse_inserts(&self, table: &str, condition: &str) {
        let ddl: Vec<String> = match self.store.backend() {
            Backend::Sqlite => vec![format!(
                "CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} WHEN {condition} \
                 BEGIN SELECT RAISE(ABORT, 'refused'); END"
            )],
            Backend::Postgres => vec![
                format!(
                    "CREATE FUNCTION refuse_{table}() RETURNS trigger LANGUAGE plpgsql AS $$ \
                     BEGIN IF {condition} THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; \
                     END $$"
                ),
                format!(
                    "CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} \
                     FOR EACH ROW EXECUTE FUNCTION refuse_{table}()"
                ),
            ],
        };
        for statement in ddl {
            sqlx::query(sqlx::AssertSqlSafe(statement))
                .execute(self.store.pool())
                .await
                .expect("trigger");
        }
    }

    /// PostgreSQL only (SQLite has no statement-level triggers; `false` there, nothing done):
    /// counts from now on the `INSERT` statements on `table`, however many rows each writes;
    /// read the count with [`TestDb::insert_statements`].
    pub async fn count_insert_statements(&self, table: &str) -> bool {
        if self.store.backend() != Backend::Postgres {
            return false;
        }
        for ddl in [
            format!("CREATE TABLE insert_statements_{table} (n BIGINT NOT NULL)"),
            format!("INSERT INTO insert_statements_{table} VALUES (0)"),
            format!(
                "CREATE FUNCTION count_inserts_{table}() RETURNS trigger LANGUAGE plpgsql AS $$ \
                 BEGIN UPDATE insert_statements_{table} SET n = n + 1; RETURN NULL; END $$"
            ),
            format!(
                "CREATE TRIGGER count_inserts_{table} AFTER INSERT ON {table} \
                 FOR EACH STATEMENT EXECUTE FUNCTION count_inserts_{table}()"
            ),
        ] {
            sqlx::query(sqlx::AssertSqlSafe(ddl))
                .execute(self.store.pool())
                .await
                .expect("statement counter");
        }
        true
    }

    /// The `INSERT` statements on `table` since [`TestDb::count_insert_statements`].
    pub async fn insert_statements(&self, table: &str) -> i64 {
        let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT n FROM insert_statements_{table}"
        )))
        .fetch_one(self.store.pool())
        .await
        .expect("statement count");
        n
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.pg_drop.take() else {
            return;
        };
        // Drop runs inside the test's runtime, which cannot make progress while we block here,
        // so the pool is not closed gracefully (that would wait on connections whose return
        // needs this runtime); `WITH (FORCE)` ends them server-side instead.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                if let Ok(admin) = Store::connect(&admin_url).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(admin.pool())
                    .await;
                    admin.close().await;
                }
            });
        })
        .join();
    }
}

fn rand_suffix() -> String {
    use rand::Rng;
    let n: u64 = rand::rng().random();
    format!("{n:016x}")
}

/// Replaces the database name in a PostgreSQL URL.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}
