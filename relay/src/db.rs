//! The relay's database: one sqlx `Any` pool over SQLite or PostgreSQL.
//!
//! [`SqlStore`] is the one SQL implementation of every service's store
//! trait (`services/<service>/store.rs` holds the trait and its `impl` for
//! `SqlStore`; sessions are in [`crate::sessions`]). Both backends run the
//! same SQL through sqlx's `Any` driver (numbered `$n` placeholders,
//! `RETURNING`, `ON CONFLICT`, which both databases support); they differ
//! only in their migrations (`relay/migrations/{sqlite,postgres}/`). One
//! conformance suite per trait (`relay/tests/it/store/`) runs against both.
//!
//! Contract of every store trait: lookups return `Ok(None)` when the row
//! does not exist and `Err` only when the database fails. The relay never
//! stores plaintext: mailbox rows hold sealed envelopes with their
//! recipient, size and times.

use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;

/// A storage failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A unique constraint: the named thing exists already.
    #[error("{0} already exists")]
    Conflict(&'static str),
    /// The named thing does not exist.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A quota would be exceeded.
    #[error("{0}")]
    Quota(String),
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

/// The store's result type.
pub type StoreResult<T> = Result<T, StoreError>;

/// Which database is behind the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite (one file).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// The relay's store: the pool every service's storage runs on.
#[derive(Debug, Clone)]
pub struct SqlStore {
    pub(crate) pool: AnyPool,
    pub(crate) backend: Backend,
    /// SQLite allows one writer at a time; writers queue here instead of
    /// spinning in SQLite's busy handler (which sleeps up to 100 ms per try
    /// and wrecked tail latency under concurrent puts). None on PostgreSQL.
    writer: Option<std::sync::Arc<tokio::sync::Mutex<()>>>,
}

/// Whether a query failed on a unique constraint.
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error().is_some_and(|d| d.is_unique_violation())
}

/// What every PostgreSQL session of the relay sets first: every query of
/// the relay is small and many run at once, so no JIT compilation (a
/// search whose estimate is large, such as a word nobody wrote, spent
/// 200 ms compiling for a 2 ms run) and no parallel workers (starting them
/// costs more than the query). The benchmarks' raw queries use it too.
pub const PG_SESSION: &str = "SET jit = off; SET max_parallel_workers_per_gather = 0";

impl SqlStore {
    /// Connects to `url` (`sqlite://…` or `postgres://…`) and runs the
    /// backend's migrations.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") { Backend::Sqlite } else { Backend::Postgres };
        // An operator's `sqlite://PATH` creates the file on first start.
        let url = if backend == Backend::Sqlite && !url.contains("mode=") {
            format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' })
        } else {
            url.to_owned()
        };
        let url = url.as_str();
        let pool = match backend {
            Backend::Sqlite => {
                AnyPoolOptions::new()
                    .max_connections(8)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            sqlx::raw_sql(
                                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                                 PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
                            )
                            .execute(conn)
                            .await?;
                            Ok(())
                        })
                    })
                    .connect(url)
                    .await?
            }
            Backend::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(16)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            sqlx::raw_sql(PG_SESSION).execute(conn).await?;
                            Ok(())
                        })
                    })
                    .connect(url)
                    .await?
            }
        };
        let migrator = match backend {
            Backend::Sqlite => sqlx::migrate!("migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("migrations/postgres"),
        };
        migrator.run(&pool).await.map_err(|e| StoreError::Database(e.into()))?;
        let writer =
            (backend == Backend::Sqlite).then(|| std::sync::Arc::new(tokio::sync::Mutex::new(())));
        Ok(Self { pool, backend, writer })
    }

    /// Waits for the writer's turn (SQLite); writes hold the guard until
    /// they commit.
    pub(crate) async fn write_guard(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match &self.writer {
            Some(m) => Some(m.lock().await),
            None => None,
        }
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes the pool, waiting for in-flight queries.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}
