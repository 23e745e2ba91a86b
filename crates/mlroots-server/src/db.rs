//! The database: one diesel connection type over PostgreSQL and SQLite, the pool, the
//! migrations and the schema.
//!
//! Every query of the server is written once against [`DbConnection`]: diesel's
//! `MultiConnection` type-checks it for both backends, so a PostgreSQL-only construct in
//! shared code is a build error. The backend is chosen from the URL's scheme
//! (`postgres://` or `postgresql://`; anything else is a SQLite path), never by trying one
//! and falling back to the other. Timestamps are unix milliseconds, ids `BIGINT`.

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

/// The tables, written by hand to match both migration directories.
#[allow(missing_docs)]
pub mod schema {
    diesel::table! {
        accounts (id) {
            id -> BigInt,
            username -> Text,
            password_hash -> Text,
            is_admin -> Bool,
            created_ms -> BigInt,
        }
    }
    diesel::table! {
        login_sessions (token_hash) {
            token_hash -> Text,
            account_id -> BigInt,
            created_ms -> BigInt,
            expires_ms -> BigInt,
        }
    }
    diesel::table! {
        api_tokens (id) {
            id -> BigInt,
            account_id -> BigInt,
            name -> Text,
            token_hash -> Text,
            prefix -> Text,
            scopes -> Text,
            created_ms -> BigInt,
            expires_ms -> Nullable<BigInt>,
            last_used_ms -> Nullable<BigInt>,
            revoked -> Bool,
        }
    }
    diesel::table! {
        env_sessions (id) {
            id -> BigInt,
            account_id -> BigInt,
            sub_challenge -> Text,
            phase -> Text,
            env_id -> Text,
            options -> Text,
            created_ms -> BigInt,
            closed_ms -> Nullable<BigInt>,
        }
    }
    diesel::table! {
        ledger (account_id, seq) {
            account_id -> BigInt,
            seq -> BigInt,
            session_id -> BigInt,
            phase -> Text,
            kind -> Text,
            episode -> BigInt,
            step -> BigInt,
            action -> Nullable<BigInt>,
            seed -> Nullable<BigInt>,
            reward -> Double,
            terminated -> Bool,
            truncated -> Bool,
            performance -> Double,
            events -> Text,
            created_ms -> BigInt,
            hash -> Text,
        }
    }
    diesel::table! {
        /// The ledger's by-session index, written by the ledger writer a session at a time.
        ledger_sessions (session_id, account_id, seq) {
            session_id -> BigInt,
            account_id -> BigInt,
            seq -> BigInt,
        }
    }
    diesel::table! {
        /// How far each account's ledger is in `ledger_sessions` (every entry with
        /// `seq <= upto`; later ones may be there too).
        ledger_indexed (account_id) {
            account_id -> BigInt,
            upto -> BigInt,
        }
    }
    diesel::allow_tables_to_appear_in_same_query!(ledger, ledger_sessions);
    diesel::allow_tables_to_appear_in_same_query!(ledger_sessions, env_sessions);
    diesel::table! {
        counters (account_id, sub_challenge, phase) {
            account_id -> BigInt,
            sub_challenge -> Text,
            phase -> Text,
            steps -> BigInt,
            episodes -> BigInt,
            events -> Text,
        }
    }
    diesel::table! {
        hint_unlocks (account_id, sub_challenge, hint) {
            account_id -> BigInt,
            sub_challenge -> Text,
            hint -> BigInt,
            cost -> BigInt,
            created_ms -> BigInt,
        }
    }
    diesel::table! {
        replay_shares (share_id) {
            share_id -> Text,
            attempt_id -> BigInt,
            account_id -> BigInt,
            created_ms -> BigInt,
        }
    }
    diesel::table! {
        solves (account_id, sub_challenge) {
            account_id -> BigInt,
            sub_challenge -> Text,
            challenge -> Text,
            attempt_id -> BigInt,
            points -> BigInt,
            first_solve -> Bool,
            created_ms -> BigInt,
        }
    }
    diesel::allow_tables_to_appear_in_same_query!(solves, accounts);
    diesel::table! {
        writeups (account_id, sub_challenge) {
            account_id -> BigInt,
            sub_challenge -> Text,
            body -> Text,
            created_ms -> BigInt,
            updated_ms -> BigInt,
        }
    }
    diesel::allow_tables_to_appear_in_same_query!(writeups, accounts);
    diesel::table! {
        attempts (id) {
            id -> BigInt,
            account_id -> BigInt,
            sub_challenge -> Text,
            session_id -> BigInt,
            passed -> Bool,
            verdict -> Text,
            created_ms -> BigInt,
        }
    }
}

#[allow(missing_docs)] // the derive generates undocumented helper types
mod multi {
    use diesel::prelude::*;

    /// A connection to either backend. PostgreSQL first: the variant is picked by
    /// [`super::Manager`] from the URL, so the order matters only to diesel's own `establish`.
    #[derive(diesel::MultiConnection)]
    pub enum DbConnection {
        /// PostgreSQL (`postgres://...`).
        Pg(PgConnection),
        /// SQLite (a file path).
        Sqlite(SqliteConnection),
    }
}
pub use multi::DbConnection;

/// The pool of connections the request handlers use (through `spawn_blocking`).
pub type Pool = r2d2::Pool<Manager>;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Errors of the database layer.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// A query failed.
    #[error("database query failed: {0}")]
    Query(#[from] diesel::result::Error),
    /// No connection could be made or taken from the pool.
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    /// A migration failed.
    #[error("database migration failed: {0}")]
    Migration(String),
}

/// Whether `url` names a PostgreSQL database.
pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Opens one connection, choosing the backend from the URL's scheme, and sets SQLite up for
/// a server (WAL journal, `synchronous=NORMAL`: a committed transaction survives the death
/// of the process, which is what "acknowledged" promises; busy timeout; foreign keys).
pub fn establish(url: &str) -> Result<DbConnection, DbError> {
    if is_postgres(url) {
        let c = PgConnection::establish(url).map_err(|e| DbError::Connect(e.to_string()))?;
        Ok(DbConnection::Pg(c))
    } else {
        let path = url.strip_prefix("sqlite://").unwrap_or(url);
        let mut c =
            SqliteConnection::establish(path).map_err(|e| DbError::Connect(e.to_string()))?;
        c.batch_execute(
            "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
             PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
        )?;
        Ok(DbConnection::Sqlite(c))
    }
}

/// The r2d2 manager: [`establish`] for each new connection.
#[derive(Debug, Clone)]
pub struct Manager {
    url: String,
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = DbError;

    fn connect(&self) -> Result<DbConnection, DbError> {
        establish(&self.url)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), DbError> {
        conn.batch_execute("SELECT 1").map_err(DbError::Query)
    }

    fn has_broken(&self, _conn: &mut DbConnection) -> bool {
        false
    }
}

/// Runs the pending migrations of the connection's backend.
pub fn migrate(conn: &mut DbConnection) -> Result<(), DbError> {
    let r = match conn {
        DbConnection::Pg(c) => c.run_pending_migrations(PG_MIGRATIONS).map(|_| ()),
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|_| ()),
    };
    r.map_err(|e| DbError::Migration(e.to_string()))
}

/// Runs `f` in a transaction that writes. On SQLite it begins with `BEGIN IMMEDIATE`, so
/// the write lock is taken (waiting up to the busy timeout) before the first read: a
/// deferred transaction that reads and then writes fails at once with "database is locked"
/// when another connection wrote in between, busy timeout or not.
pub fn write_tx<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    E: From<diesel::result::Error>,
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    if !matches!(conn, DbConnection::Sqlite(_)) {
        return conn.transaction(f);
    }
    if let DbConnection::Sqlite(c) = conn {
        AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?;
    }
    let r = f(conn);
    if let DbConnection::Sqlite(c) = conn {
        match &r {
            Ok(_) => AnsiTransactionManager::commit_transaction(c)?,
            Err(_) => AnsiTransactionManager::rollback_transaction(c)?,
        }
    }
    r
}

/// Connects, migrates and builds the pool of `size` connections.
pub fn open_pool(url: &str, size: u32) -> Result<Pool, DbError> {
    let mut conn = establish(url)?;
    migrate(&mut conn)?;
    drop(conn);
    r2d2::Pool::builder()
        .max_size(size)
        .connection_timeout(Duration::from_secs(10))
        .build(Manager { url: url.to_string() })
        .map_err(|e| DbError::Connect(e.to_string()))
}

/// The current time in unix milliseconds (the server's clock; never used by environments).
#[allow(clippy::disallowed_methods)] // the platform timestamps rows; simulations never call this
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    /// The migration folder names of one backend, sorted.
    fn migrations(backend: &str) -> Vec<String> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(backend);
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn migration_versions_are_unique_and_the_same_on_both_backends() {
        // Diesel keys a migration by the version before the first '_': two folders with one
        // version (say, from two branches) would run only one of them.
        let sqlite = migrations("sqlite");
        assert_eq!(sqlite, migrations("postgres"), "both backends need the same migrations");
        let mut versions: Vec<&str> =
            sqlite.iter().map(|n| n.split('_').next().unwrap_or(n)).collect();
        versions.dedup();
        assert_eq!(versions.len(), sqlite.len(), "a migration version is used twice: {sqlite:?}");
    }
}
