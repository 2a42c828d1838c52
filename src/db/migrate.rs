//! Embedded migrations, one directory per backend with identical names.

use diesel::connection::SimpleConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use super::Conn;

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Applies every pending migration. On PostgreSQL an advisory lock makes processes that
/// start together take turns instead of racing on the same migration.
pub fn run(conn: &mut Conn) -> anyhow::Result<usize> {
    let applied = match conn {
        Conn::Sqlite(c) => c
            .run_pending_migrations(SQLITE)
            .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?
            .len(),
        Conn::Pg(c) => {
            c.batch_execute("SELECT pg_advisory_lock(7274836)")?;
            let result = c.run_pending_migrations(POSTGRES).map(|v| v.len());
            c.batch_execute("SELECT pg_advisory_unlock(7274836)")?;
            result.map_err(|e| anyhow::anyhow!("migration failed: {e}"))?
        }
    };
    Ok(applied)
}
