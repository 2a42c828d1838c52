//! The database: one connection type over SQLite and PostgreSQL, a pool, and the helpers that
//! run blocking diesel work off the async executor.
//!
//! Backend differences live only in this module. Everything above it writes portable SQL with
//! `?` placeholders (see [`query::Sql`]) and reads values through [`Val`].

pub mod migrate;
pub mod query;

use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ManageConnection};
use diesel::sqlite::SqliteConnection;
use diesel::Connection;

use crate::error::ApiError;
pub use query::{Sql, Ty, Val};

/// One database connection, SQLite or PostgreSQL. Typed diesel queries run on it directly.
#[derive(diesel::MultiConnection)]
pub enum Conn {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

/// Which database a URL names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DbUrl {
    /// A file path (created on first use).
    Sqlite(String),
    /// A libpq connection URL.
    Postgres(String),
}

impl DbUrl {
    pub fn parse(url: &str) -> anyhow::Result<Self> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            anyhow::ensure!(
                !path.is_empty(),
                "CHARTD_DATABASE_URL: sqlite:// needs a file path"
            );
            Ok(DbUrl::Sqlite(path.to_string()))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(DbUrl::Postgres(url.to_string()))
        } else {
            anyhow::bail!(
                "CHARTD_DATABASE_URL must start with sqlite:// or postgres:// (got {url:?})"
            )
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, DbUrl::Postgres(_))
    }
}

/// Opens connections for the pool; SQLite connections get their pragmas here.
pub struct Manager {
    url: DbUrl,
}

impl ManageConnection for Manager {
    type Connection = Conn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<Conn, r2d2::Error> {
        match &self.url {
            DbUrl::Sqlite(path) => {
                let mut c =
                    SqliteConnection::establish(path).map_err(r2d2::Error::ConnectionError)?;
                // WAL lets readers run beside the one writer; the busy timeout makes writers
                // queue instead of failing; foreign keys are off by default in SQLite.
                // busy_timeout first: switching to WAL itself takes a lock.
                c.batch_execute(
                    "PRAGMA busy_timeout = 15000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
                )
                .map_err(r2d2::Error::QueryError)?;
                Ok(Conn::Sqlite(c))
            }
            DbUrl::Postgres(url) => PgConnection::establish(url)
                .map(Conn::Pg)
                .map_err(r2d2::Error::ConnectionError),
        }
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        let status = match conn {
            Conn::Pg(c) => AnsiTransactionManager::transaction_manager_status_mut(c),
            Conn::Sqlite(c) => AnsiTransactionManager::transaction_manager_status_mut(c),
        };
        // Broken, or handed back mid-transaction: either way it must not be reused.
        match status {
            diesel::connection::TransactionManagerStatus::InError => true,
            diesel::connection::TransactionManagerStatus::Valid(v) => {
                v.transaction_depth().is_some()
            }
        }
    }
}

pub type Pool = r2d2::Pool<Manager>;

/// The shared handle: a pool plus which backend it talks to.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    pub url: DbUrl,
}

impl Db {
    /// Connects (creating the SQLite file if needed). Does not migrate; see [`migrate::run`].
    pub fn connect(url: &DbUrl, size: u32) -> anyhow::Result<Db> {
        let pool = r2d2::Pool::builder()
            .max_size(size)
            // Checking out must not cost a round trip; broken connections are caught by
            // has_broken and by the query that fails.
            .test_on_check_out(false)
            .connection_timeout(Duration::from_secs(30))
            .build(Manager { url: url.clone() })?;
        Ok(Db {
            pool,
            url: url.clone(),
        })
    }

    /// A connection for blocking code (CLI, migrations, background jobs on a blocking thread).
    pub fn get(&self) -> anyhow::Result<r2d2::PooledConnection<Manager>> {
        Ok(self.pool.get()?)
    }

    /// Runs blocking database work on the blocking thread pool, never on an executor thread.
    pub async fn run<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut Conn) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        actix_web::web::block(move || {
            let mut conn = pool.get().map_err(|e| ApiError::Internal(e.into()))?;
            f(&mut conn)
        })
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("blocking task failed: {e}")))?
    }

    /// Like [`Db::run`], inside one write transaction.
    pub async fn write<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut Conn) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        self.run(move |conn| transaction(conn, f)).await
    }
}

/// Runs `f` in a transaction: committed when it returns Ok, rolled back otherwise.
///
/// On SQLite the transaction starts with `BEGIN IMMEDIATE`, taking the write lock up front:
/// a deferred transaction that reads and then writes can fail with SQLITE_BUSY when another
/// writer got there first, which the busy timeout cannot fix.
pub fn transaction<T, E, F>(conn: &mut Conn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut Conn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    match conn {
        Conn::Sqlite(c) => {
            let depth = AnsiTransactionManager::transaction_manager_status_mut(c)
                .transaction_depth()
                .map_err(E::from)?;
            if depth.is_none() {
                AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?;
            } else {
                AnsiTransactionManager::begin_transaction(c)?;
            }
        }
        Conn::Pg(c) => AnsiTransactionManager::begin_transaction(c)?,
    }
    match f(conn) {
        Ok(v) => {
            match conn {
                Conn::Sqlite(c) => AnsiTransactionManager::commit_transaction(c)?,
                Conn::Pg(c) => AnsiTransactionManager::commit_transaction(c)?,
            }
            if conn.depth() == 0 {
                run_after_commit(true);
            }
            Ok(v)
        }
        Err(e) => {
            let _ = match conn {
                Conn::Sqlite(c) => AnsiTransactionManager::rollback_transaction(c),
                Conn::Pg(c) => AnsiTransactionManager::rollback_transaction(c),
            };
            if conn.depth() == 0 {
                run_after_commit(false);
            }
            Err(e)
        }
    }
}

thread_local! {
    static AFTER_COMMIT: std::cell::RefCell<Vec<fn()>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Calls `f` once the outermost [`transaction`] running on this thread commits (nothing
/// happens when it rolls back): for in-process notifications about committed rows, such as
/// waking the webhook dispatcher. Registering the same function twice calls it once.
pub fn after_commit(f: fn()) {
    AFTER_COMMIT.with(|list| {
        let mut list = list.borrow_mut();
        if !list.contains(&f) {
            list.push(f);
        }
    });
}

fn run_after_commit(committed: bool) {
    let list = AFTER_COMMIT.with(|list| std::mem::take(&mut *list.borrow_mut()));
    if committed {
        for f in list {
            f();
        }
    }
}

impl Conn {
    pub fn is_postgres(&self) -> bool {
        matches!(self, Conn::Pg(_))
    }

    /// How many transactions are open on this connection (0 outside any).
    fn depth(&mut self) -> u32 {
        let status = match self {
            Conn::Pg(c) => AnsiTransactionManager::transaction_manager_status_mut(c),
            Conn::Sqlite(c) => AnsiTransactionManager::transaction_manager_status_mut(c),
        };
        status
            .transaction_depth()
            .ok()
            .flatten()
            .map_or(0, |d| d.get())
    }

    /// The clause a `SELECT ... FROM table alias` appends to lock the rows it reads for the
    /// rest of the statement's transaction, skipping rows another transaction holds
    /// (PostgreSQL's `FOR UPDATE OF alias SKIP LOCKED`). Empty on SQLite, where writers
    /// never run side by side.
    pub fn skip_locked(&self, alias: &str) -> String {
        match self {
            Conn::Pg(_) => format!(" FOR UPDATE OF {alias} SKIP LOCKED"),
            Conn::Sqlite(_) => String::new(),
        }
    }

    /// Serializes the rest of this transaction with every other transaction taking the same
    /// key (until commit or rollback). On PostgreSQL a transaction-level advisory lock; on
    /// SQLite nothing to do, as `BEGIN IMMEDIATE` already serializes writers.
    pub fn lock_key(&mut self, key: i64) -> diesel::QueryResult<()> {
        match self {
            Conn::Pg(_) => Sql::new("SELECT pg_advisory_xact_lock(?)")
                .bind(key)
                .execute(self)
                .map(drop),
            Conn::Sqlite(_) => Ok(()),
        }
    }

    /// Whether a table exists (in the current schema on PostgreSQL): for code that reads a
    /// table another migration may not have created yet.
    pub fn table_exists(&mut self, name: &str) -> diesel::QueryResult<bool> {
        let sql = if self.is_postgres() {
            "SELECT COUNT(*) FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name = ?"
        } else {
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?"
        };
        Ok(Sql::new(sql).bind(name).load_i64(self)?.unwrap_or(0) > 0)
    }
}
