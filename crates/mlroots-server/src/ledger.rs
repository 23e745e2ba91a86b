//! The ledger: every reset and step of every environment session, appended per account in a
//! SHA-256 hash chain, with the per-account, per-sub-challenge counters the rules read.
//!
//! Writes go through one writer thread that owns a dedicated connection ([`Ledger::start`]).
//! Callers hand it a group of entries and get a receiver that resolves once the transaction
//! holding those entries has committed: **a step is acknowledged to the learner only after
//! that**, so killing the server (even with `kill -9`) loses no acknowledged step. The writer
//! commits whatever has queued while the previous transaction ran (group commit): one
//! sequential learner pays one commit per step, many concurrent learners (or one batch
//! request) share a commit, so throughput grows with load instead of being capped by the
//! disk's sync rate. One writer per process also orders each account's chain. (Several
//! server processes on one PostgreSQL database would each need their own accounts, or a
//! lock per account: not done yet.)
//!
//! Entry `n`'s hash is `sha256(hash(n-1) | fields of n)` in hex ([`entry_hash`]); the first
//! entry chains from 64 zeros. [`verify_chain`] recomputes an account's chain.

use std::collections::BTreeMap;
use std::sync::Arc;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};

use crate::catalogue::Counters;
use crate::db::{DbConnection, DbError, now_ms, schema};

/// The hash the first entry of every account chains from.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The phase of an environment session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Public seeds; nothing counts toward rules.
    Practice,
    /// Counts toward the training rules.
    Train,
    /// Hidden seeds chosen by the server; judged when finished.
    Eval,
}

impl Phase {
    /// The name stored in the database and used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Practice => "practice",
            Phase::Train => "train",
            Phase::Eval => "eval",
        }
    }
    /// The phase named `s`.
    pub fn parse(s: &str) -> Option<Phase> {
        match s {
            "practice" => Some(Phase::Practice),
            "train" => Some(Phase::Train),
            "eval" => Some(Phase::Eval),
            _ => None,
        }
    }
}

/// One reset or step to append.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The owner.
    pub account_id: i64,
    /// The environment session.
    pub session_id: i64,
    /// The session's sub-challenge (for the counters).
    pub sub_challenge: Arc<str>,
    /// The session's phase.
    pub phase: Phase,
    /// The episode (0-based within the session).
    pub episode: i64,
    /// The step index within the episode: 0 for a reset, then 1, 2, ...
    pub step: i64,
    /// The action, `None` for a reset.
    pub action: Option<u32>,
    /// The seed given to a reset, if any (hidden for evaluations: the ledger is never served
    /// as is).
    pub seed: Option<u64>,
    /// The visible reward (0 for a reset).
    pub reward: f64,
    /// The episode ended in a terminal state.
    pub terminated: bool,
    /// The episode was cut by the time limit.
    pub truncated: bool,
    /// The hidden performance of the episode so far.
    pub performance: f64,
    /// The hidden events of this step that fired (name, count), nonzero only.
    pub events: Vec<(&'static str, u32)>,
}

/// A stored ledger entry.
#[derive(Clone, Debug, PartialEq, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = schema::ledger)]
#[diesel(treat_none_as_default_value = false)]
pub struct LedgerRow {
    /// The owner.
    pub account_id: i64,
    /// The position in the owner's chain, from 1.
    pub seq: i64,
    /// The environment session.
    pub session_id: i64,
    /// `practice`, `train` or `eval`.
    pub phase: String,
    /// `reset` or `step`.
    pub kind: String,
    /// The episode within the session.
    pub episode: i64,
    /// The step within the episode (0 for a reset).
    pub step: i64,
    /// The action of a step.
    pub action: Option<i64>,
    /// The seed of a reset, as the bits of a `u64`.
    pub seed: Option<i64>,
    /// The visible reward.
    pub reward: f64,
    /// Terminated.
    pub terminated: bool,
    /// Truncated.
    pub truncated: bool,
    /// The hidden performance of the episode so far.
    pub performance: f64,
    /// The hidden events of this step, as a JSON object of nonzero counts.
    pub events: String,
    /// When it was written (unix ms).
    pub created_ms: i64,
    /// The chain hash (hex).
    pub hash: String,
}

/// The hash of `row` chained after `prev` (hex SHA-256 over the previous hash and every
/// field but the hash itself).
pub fn entry_hash(prev: &str, row: &LedgerRow) -> String {
    let text = format!(
        "{prev}|{}|{}|{}|{}|{}|{}|{}|{:?}|{:?}|{:016x}|{}|{}|{:016x}|{}|{}",
        row.account_id,
        row.seq,
        row.session_id,
        row.phase,
        row.kind,
        row.episode,
        row.step,
        row.action,
        row.seed,
        row.reward.to_bits(),
        row.terminated,
        row.truncated,
        row.performance.to_bits(),
        row.events,
        row.created_ms,
    );
    hex(&Sha256::digest(text.as_bytes()))
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

#[derive(Queryable, Insertable)]
#[diesel(table_name = schema::counters)]
struct CounterRow {
    account_id: i64,
    sub_challenge: String,
    phase: String,
    steps: i64,
    episodes: i64,
    events: String,
}

type Ack = oneshot::Sender<Result<(), String>>;

enum Msg {
    Append {
        entries: Vec<Entry>,
        ack: Ack,
    },
    /// Delete an account's ledger, its index and its counters, after every entry queued
    /// before; entries queued after start a fresh chain. Answers the entries deleted.
    Delete {
        account: i64,
        ack: oneshot::Sender<Result<usize, String>>,
    },
}

/// The handle to the writer thread. Cloning it is cheap; the thread stops when every handle
/// is dropped.
#[derive(Clone, Debug)]
pub struct Ledger {
    tx: mpsc::UnboundedSender<Msg>,
}

/// The receiver of a group's commit: `Ok` once committed, `Err` with the cause otherwise.
pub type Committed = oneshot::Receiver<Result<(), String>>;

impl Ledger {
    /// Starts the writer thread on `conn`, committing at most `max_batch` entries per
    /// transaction.
    ///
    /// On SQLite, give `checkpointer` a second connection to the same file: the writer then
    /// never checkpoints the write-ahead log itself (a checkpoint copies the log into the
    /// database and syncs it, which stalls every step waiting on the writer for as long as
    /// the disk takes). The checkpointer thread runs passive checkpoints instead, woken by
    /// the writer after every [`CHECKPOINT_EVERY`] entries; a passive checkpoint never
    /// blocks the writer. Both threads stop when the last handle is dropped.
    pub fn start(
        mut conn: DbConnection,
        max_batch: usize,
        checkpointer: Option<DbConnection>,
    ) -> std::io::Result<Ledger> {
        let wake = match checkpointer {
            Some(mut cp) if matches!(conn, DbConnection::Sqlite(_)) => {
                conn.batch_execute("PRAGMA wal_autocheckpoint = 0").map_err(|e| {
                    std::io::Error::other(format!("cannot configure the ledger connection: {e}"))
                })?;
                let (wake, woken) = std::sync::mpsc::sync_channel::<()>(1);
                std::thread::Builder::new().name("ledger-checkpoint".into()).spawn(move || {
                    while woken.recv().is_ok() {
                        if let Err(e) = cp.batch_execute("PRAGMA wal_checkpoint(PASSIVE)") {
                            tracing::warn!(error = %e, "ledger checkpoint failed");
                        }
                    }
                })?;
                Some(wake)
            }
            _ => None,
        };
        let (tx, rx) = mpsc::unbounded_channel();
        std::thread::Builder::new()
            .name("ledger-writer".into())
            .spawn(move || writer(conn, rx, max_batch.max(1), wake))?;
        Ok(Ledger { tx })
    }

    /// Queues `entries` (in order) and returns the receiver of their commit.
    pub fn append(&self, entries: Vec<Entry>) -> Committed {
        let (ack, rx) = oneshot::channel();
        if let Err(mpsc::error::SendError(Msg::Append { ack, .. })) =
            self.tx.send(Msg::Append { entries, ack })
        {
            let _ = ack.send(Err("the ledger writer has stopped".into()));
        }
        rx
    }

    /// Deletes `account`'s ledger with its by-session index and counters, and returns how many
    /// entries went. The writer does it in order with the appends: every entry queued before
    /// is written (and deleted), and every entry queued after starts a fresh chain from the
    /// genesis hash. (Done beside the writer, a step in flight during the deletion could
    /// chain from the deleted head.)
    pub async fn delete_account(&self, account: i64) -> Result<usize, String> {
        let (ack, rx) = oneshot::channel();
        if self.tx.send(Msg::Delete { account, ack }).is_err() {
            return Err("the ledger writer has stopped".into());
        }
        rx.await.unwrap_or_else(|_| Err("the ledger writer has stopped".into()))
    }
}

/// Entries written between two checkpoints of SQLite's write-ahead log (about 4 MB of log).
pub const CHECKPOINT_EVERY: usize = 20_000;

fn writer(
    mut conn: DbConnection,
    mut rx: mpsc::UnboundedReceiver<Msg>,
    max_batch: usize,
    checkpoint: Option<std::sync::mpsc::SyncSender<()>>,
) {
    let mut heads: BTreeMap<i64, (i64, String)> = BTreeMap::new();
    let mut batches: Vec<(Vec<Entry>, Ack)> = Vec::new();
    let mut since_checkpoint = 0;
    let mut index = SessionIndexer::default();
    while let Some(first) = spin_then_block(&mut rx) {
        let mut n = 0;
        let mut next = Some(first);
        let mut delete = None;
        // Take everything queued while the previous transaction ran, up to `max_batch` or a
        // deletion (which runs after the entries before it).
        while let Some(msg) = next.take() {
            match msg {
                Msg::Append { entries, ack } => {
                    n += entries.len();
                    batches.push((entries, ack));
                }
                Msg::Delete { account, ack } => {
                    delete = Some((account, ack));
                    break;
                }
            }
            if n < max_batch {
                next = rx.try_recv().ok();
            }
        }
        if !batches.is_empty() {
            write_and_answer(&mut conn, &mut heads, &mut index, &mut batches, n);
        }
        if let Some((account, ack)) = delete {
            let result = crate::db::write_tx::<_, DbError, _>(&mut conn, |conn| {
                delete_account(conn, account)
            });
            heads.remove(&account);
            index.accounts.remove(&account);
            if let Err(e) = &result {
                tracing::error!(error = %e, account, "ledger deletion failed");
            }
            let _ = ack.send(result.map_err(|e| e.to_string()));
        }
        since_checkpoint += n;
        if let Some(wake) = &checkpoint
            && since_checkpoint >= CHECKPOINT_EVERY
        {
            // Full means a checkpoint is already pending: it will cover these entries too.
            let _ = wake.try_send(());
            since_checkpoint = 0;
        }
    }
    // Every handle is gone: index what is left, so the next start reads no tail.
    index.finish(&mut conn, &heads);
}

/// Writes one group and answers every batch in it with the commit's result.
fn write_and_answer(
    conn: &mut DbConnection,
    heads: &mut BTreeMap<i64, (i64, String)>,
    index: &mut SessionIndexer,
    batches: &mut Vec<(Vec<Entry>, Ack)>,
    n: usize,
) {
    let result = write_group(conn, heads, index, batches);
    if let Err(e) = &result {
        tracing::error!(error = %e, entries = n, "ledger write failed");
        // The cached heads and index state may be ahead of what was committed: reload them on
        // next use.
        heads.clear();
        index.reset();
    }
    let result = result.map_err(|e| e.to_string());
    for (_, ack) in batches.drain(..) {
        let _ = ack.send(result.clone());
    }
}

/// Deletes `account`'s ledger, by-session index and counters; returns the entries deleted.
fn delete_account(conn: &mut DbConnection, account: i64) -> Result<usize, DbError> {
    use schema::counters::dsl as c;
    use schema::ledger::dsl as l;
    clear_index(conn, account)?;
    diesel::delete(c::counters.filter(c::account_id.eq(account))).execute(conn)?;
    Ok(diesel::delete(l::ledger.filter(l::account_id.eq(account))).execute(conn)?)
}

/// A session's entries are put in the by-session index (`ledger_sessions`) this many at a
/// time. They sit together in the index, so one insertion of a session's entries costs about
/// a page, where indexing each step as it came (a SQL index) cost a page a step.
pub const SESSION_BATCH: usize = 32;

/// How far an account's index may lag behind its head, in entries: a session whose oldest
/// unindexed entry is further back than this is indexed even with fewer than
/// [`SESSION_BATCH`] entries waiting (a session that stopped stepping, or one of many). Readers
/// find the unindexed entries in the account's tail after its mark ([`session_entries`]),
/// which stays within about this plus [`MARK_EVERY`] entries, and twice this when many
/// sessions in lockstep come due together and drain over several commits.
pub const MAX_LAG: i64 = 2048;

/// At most about this many entries, or twice the group's own if more, are indexed in one
/// group commit (a session's entries go in together, so a little more): sessions stepped in
/// lockstep, such as one batch request's, fill their [`SESSION_BATCH`] at the same commit,
/// and indexing them all at once would stall it. The rest wait for the next commits.
const INDEX_BUDGET: usize = 128;

/// An account's mark (`ledger_indexed.upto`) is written when it has moved this many entries.
pub const MARK_EVERY: i64 = 256;

/// The ledger writer's side of the by-session index.
///
/// Indexing happens inside the group commits, a session at a time: whenever a session has
/// [`SESSION_BATCH`] unindexed entries, or its oldest one lags [`MAX_LAG`] entries behind
/// its account's head, the group's transaction also inserts them (oldest first, within
/// [`INDEX_BUDGET`] or twice the group's size, the most lagging account first). The work is spread over the commits: an update
/// of every account's index in bulk, every 512 entries, stalled the steps queued behind it
/// (README, Benchmarks).
///
/// Each account's mark says that every entry up to it is indexed; entries after it may or may
/// not be (readers ignore index rows after the mark and read the tail from the ledger). On a
/// restart, or after a failed commit, an account's state is rebuilt from its tail, and
/// entries already indexed are skipped by the insertion.
#[derive(Default)]
struct SessionIndexer {
    accounts: BTreeMap<i64, AccountIndex>,
}

/// One account's unindexed entries.
#[derive(Default)]
struct AccountIndex {
    /// The unindexed entries' positions, by session, in order.
    pending: BTreeMap<i64, Vec<i64>>,
    /// `(first unindexed position, session)` for every session in `pending`.
    oldest: std::collections::BTreeSet<(i64, i64)>,
    /// The sessions with at least [`SESSION_BATCH`] entries in `pending`.
    full: std::collections::BTreeSet<i64>,
    /// The mark as stored.
    mark: i64,
}

impl AccountIndex {
    /// Loads `account`'s mark and the unindexed entries after it.
    fn load(conn: &mut DbConnection, account: i64) -> Result<AccountIndex, DbError> {
        use schema::ledger::dsl as l;
        let mark = indexed_upto(conn, account)?;
        let mut index = AccountIndex { mark, ..AccountIndex::default() };
        let tail: Vec<(i64, i64)> = l::ledger
            .filter(l::account_id.eq(account).and(l::seq.gt(mark)))
            .order(l::seq.asc())
            .select((l::seq, l::session_id))
            .load(conn)?;
        for (seq, session) in tail {
            index.push(session, seq);
        }
        Ok(index)
    }

    fn push(&mut self, session: i64, seq: i64) {
        let list = self.pending.entry(session).or_default();
        if list.is_empty() {
            self.oldest.insert((seq, session));
        }
        list.push(seq);
        if list.len() == SESSION_BATCH {
            self.full.insert(session);
        }
    }

    /// How far behind its head the account's oldest unindexed entry is (0: none).
    fn lag(&self, head: i64) -> i64 {
        self.oldest.first().map_or(0, |&(first, _)| head - first + 1)
    }

    /// Inserts `session`'s unindexed entries into the index; returns how many.
    fn index_session(
        &mut self,
        conn: &mut DbConnection,
        account: i64,
        session: i64,
    ) -> Result<usize, DbError> {
        let Some(seqs) = self.pending.remove(&session) else { return Ok(0) };
        if let Some(&first) = seqs.first() {
            self.oldest.remove(&(first, session));
        }
        self.full.remove(&session);
        insert_index_rows(conn, account, session, &seqs)?;
        Ok(seqs.len())
    }

    /// Indexes the sessions that are due, those lagging [`MAX_LAG`] first, then the full ones,
    /// oldest first, until `budget` entries are spent; then writes the mark if it moved
    /// [`MARK_EVERY`]. With `all`, every session is due, the budget is ignored and any move of
    /// the mark is written.
    fn index_due(
        &mut self,
        conn: &mut DbConnection,
        account: i64,
        head: i64,
        budget: &mut usize,
        all: bool,
    ) -> Result<(), DbError> {
        let due: Vec<(i64, i64)> = if all {
            self.oldest.iter().copied().collect()
        } else {
            let mut due: Vec<(i64, i64)> = self
                .oldest
                .iter()
                .take_while(|&&(first, _)| head - first >= MAX_LAG)
                .copied()
                .collect();
            let lagging = due.len();
            due.extend(self.full.iter().filter_map(|&session| {
                let first = *self.pending.get(&session)?.first()?;
                (head - first < MAX_LAG).then_some((first, session))
            }));
            due[lagging..].sort_unstable();
            due
        };
        for (_, session) in due {
            if *budget == 0 && !all {
                break;
            }
            let n = self.index_session(conn, account, session)?;
            *budget = budget.saturating_sub(n);
        }
        let upto = self.oldest.first().map_or(head, |&(first, _)| first - 1);
        if upto >= self.mark + MARK_EVERY || (all && upto > self.mark) {
            set_indexed_upto(conn, account, upto)?;
            self.mark = upto;
        }
        Ok(())
    }
}

impl SessionIndexer {
    /// The state of `account`, loaded on first use.
    fn account(
        &mut self,
        conn: &mut DbConnection,
        account: i64,
    ) -> Result<&mut AccountIndex, DbError> {
        Ok(match self.accounts.entry(account) {
            std::collections::btree_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::btree_map::Entry::Vacant(v) => {
                v.insert(AccountIndex::load(conn, account)?)
            }
        })
    }

    /// Forgets everything cached (a commit failed: its entries are not in the ledger).
    fn reset(&mut self) {
        self.accounts.clear();
    }

    /// Indexes every unindexed entry and moves every mark to its account's head (the writer
    /// is stopping). On failure, the next start rebuilds the state from the tails.
    fn finish(&mut self, conn: &mut DbConnection, heads: &BTreeMap<i64, (i64, String)>) {
        let accounts = &mut self.accounts;
        let result = crate::db::write_tx::<_, DbError, _>(conn, |conn| {
            for (&account, index) in accounts.iter_mut() {
                if let Some(&(head, _)) = heads.get(&account) {
                    index.index_due(conn, account, head, &mut 0, true)?;
                }
            }
            Ok(())
        });
        if let Err(e) = result {
            tracing::warn!(error = %e, "the ledger's last by-session index update failed");
        }
    }
}

/// Puts `account`'s entries `seqs` (all of `session`) in `ledger_sessions`, skipping any that
/// are there already (after a restart, entries past the mark may have been indexed).
fn insert_index_rows(
    conn: &mut DbConnection,
    account: i64,
    session: i64,
    seqs: &[i64],
) -> Result<(), DbError> {
    use schema::ledger_sessions::dsl as s;
    let row = |&seq: &i64| (s::session_id.eq(session), s::account_id.eq(account), s::seq.eq(seq));
    match conn {
        // One cached prepared statement a row, as for the ledger itself (write_group).
        DbConnection::Sqlite(c) => {
            for seq in seqs {
                diesel::insert_or_ignore_into(s::ledger_sessions).values(row(seq)).execute(c)?;
            }
        }
        // One statement per 10 000 rows (3 bind parameters a row, under PostgreSQL's 65 535).
        DbConnection::Pg(c) => {
            for chunk in seqs.chunks(10_000) {
                let rows: Vec<_> = chunk.iter().map(row).collect();
                diesel::insert_into(s::ledger_sessions)
                    .values(rows)
                    .on_conflict_do_nothing()
                    .execute(c)?;
            }
        }
    }
    Ok(())
}

/// Moves `account`'s mark to `upto`.
fn set_indexed_upto(conn: &mut DbConnection, account: i64, upto: i64) -> Result<(), DbError> {
    use schema::ledger_indexed::dsl as x;
    let moved = diesel::update(x::ledger_indexed.filter(x::account_id.eq(account)))
        .set(x::upto.eq(upto))
        .execute(conn)?;
    if moved == 0 {
        diesel::insert_into(x::ledger_indexed)
            .values((x::account_id.eq(account), x::upto.eq(upto)))
            .execute(conn)?;
    }
    Ok(())
}

/// Deletes `account`'s by-session index and mark (its ledger is being deleted). The index is
/// keyed by session first, so its rows are found through the account's sessions.
fn clear_index(conn: &mut DbConnection, account: i64) -> Result<(), DbError> {
    use schema::env_sessions::dsl as e;
    use schema::ledger_indexed::dsl as x;
    use schema::ledger_sessions::dsl as s;
    let sessions = e::env_sessions.filter(e::account_id.eq(account)).select(e::id);
    diesel::delete(
        s::ledger_sessions.filter(s::account_id.eq(account).and(s::session_id.eq_any(sessions))),
    )
    .execute(conn)?;
    diesel::delete(x::ledger_indexed.filter(x::account_id.eq(account))).execute(conn)?;
    Ok(())
}

/// How far `account`'s ledger is in `ledger_sessions` (0: nothing yet).
fn indexed_upto(conn: &mut DbConnection, account: i64) -> Result<i64, DbError> {
    use schema::ledger_indexed::dsl as x;
    Ok(x::ledger_indexed
        .filter(x::account_id.eq(account))
        .select(x::upto)
        .get_result(conn) // the key is unique; no LIMIT (see `add_counters`)
        .optional()?
        .unwrap_or(0))
}

/// How many times the ledger writer polls its queue before it sleeps. A sleeping thread costs
/// its waker a futex call and, on a virtual machine with an idle CPU, tens to hundreds of
/// microseconds before it runs; a learner stepping one request at a time pays that at
/// every commit. Polling for a few tens of microseconds after the
/// last message catches the next one awake; an idle server still sleeps.
const SPINS_BEFORE_SLEEP: u32 = 4096;

/// The next message: polled for [`SPINS_BEFORE_SLEEP`] rounds, then waited for (`None` once
/// every sender is gone).
fn spin_then_block<T>(rx: &mut mpsc::UnboundedReceiver<T>) -> Option<T> {
    for _ in 0..SPINS_BEFORE_SLEEP {
        match rx.try_recv() {
            Ok(m) => return Some(m),
            Err(mpsc::error::TryRecvError::Disconnected) => return None,
            Err(mpsc::error::TryRecvError::Empty) => std::hint::spin_loop(),
        }
    }
    rx.blocking_recv()
}

/// The last `(seq, hash)` of `account`'s chain.
pub fn head(conn: &mut DbConnection, account: i64) -> Result<(i64, String), DbError> {
    use schema::ledger::dsl as l;
    let last: Option<(i64, String)> = l::ledger
        .filter(l::account_id.eq(account))
        .order(l::seq.desc())
        .select((l::seq, l::hash))
        .first(conn)
        .optional()?;
    Ok(last.unwrap_or((0, GENESIS.to_string())))
}

fn events_json(events: &[(&'static str, u32)]) -> String {
    if events.is_empty() {
        return "{}".to_string();
    }
    let m: BTreeMap<&str, u32> = events.iter().copied().collect();
    serde_json::to_string(&m).unwrap_or_else(|_| "{}".into())
}

fn write_group(
    conn: &mut DbConnection,
    heads: &mut BTreeMap<i64, (i64, String)>,
    index: &mut SessionIndexer,
    batches: &[(Vec<Entry>, Ack)],
) -> Result<(), DbError> {
    let created_ms = now_ms();
    crate::db::write_tx::<_, DbError, _>(conn, |conn| {
        let mut rows = Vec::with_capacity(batches.iter().map(|b| b.0.len()).sum());
        let mut counters: BTreeMap<(i64, Arc<str>, Phase), Counters> = BTreeMap::new();
        for e in batches.iter().flat_map(|b| &b.0) {
            let (seq, prev) = match heads.entry(e.account_id) {
                std::collections::btree_map::Entry::Occupied(o) => o.into_mut(),
                std::collections::btree_map::Entry::Vacant(v) => {
                    v.insert(head(conn, e.account_id)?)
                }
            };
            let mut row = LedgerRow {
                account_id: e.account_id,
                seq: *seq + 1,
                session_id: e.session_id,
                phase: e.phase.as_str().to_string(),
                kind: if e.action.is_some() { "step" } else { "reset" }.to_string(),
                episode: e.episode,
                step: e.step,
                action: e.action.map(i64::from),
                seed: e.seed.map(|s| s as i64),
                reward: e.reward,
                terminated: e.terminated,
                truncated: e.truncated,
                performance: e.performance,
                events: events_json(&e.events),
                created_ms,
                hash: String::new(),
            };
            row.hash = entry_hash(prev, &row);
            *seq = row.seq;
            prev.clone_from(&row.hash);
            // Loaded (on first use) before this group's rows are in the ledger.
            index.account(conn, e.account_id)?.push(e.session_id, row.seq);
            if e.action.is_some() {
                let c =
                    counters.entry((e.account_id, e.sub_challenge.clone(), e.phase)).or_default();
                c.steps += 1;
                c.episodes += u64::from(e.terminated || e.truncated);
                for &(name, n) in &e.events {
                    *c.events.entry(name.to_string()).or_default() += u64::from(n);
                }
            }
            rows.push(row);
        }
        match conn {
            // One prepared single-row INSERT, run once a row: SQLite is in process, so a
            // statement costs no round trip, and the same SQL every time hits diesel's
            // statement cache. (A multi-row INSERT has a different text for every group
            // size and was parsed again at every commit: most of the writer's time.)
            DbConnection::Sqlite(c) => {
                for row in &rows {
                    diesel::insert_into(schema::ledger::table).values(row).execute(c)?;
                }
            }
            // PostgreSQL pays a round trip a statement: one multi-row INSERT per 1000 rows
            // (16 columns a row stays under the bind-parameter limit).
            DbConnection::Pg(c) => {
                for chunk in rows.chunks(1000) {
                    diesel::insert_into(schema::ledger::table).values(chunk).execute(c)?;
                }
            }
        }
        for ((account, sub, phase), add) in counters {
            add_counters(conn, account, &sub, phase, &add)?;
        }
        let mut touched: Vec<i64> = rows.iter().map(|r| r.account_id).collect();
        touched.sort_unstable();
        touched.dedup();
        // Twice what this group appended: the index gains on the ledger at every commit, so a
        // backlog drains, and the stall stays in proportion to the group. The account that
        // lags most goes first, so a busy account cannot starve the others.
        let mut budget = INDEX_BUDGET.max(2 * rows.len());
        let mut order = Vec::with_capacity(touched.len());
        for account in touched {
            if let Some(&(head, _)) = heads.get(&account) {
                order.push((index.account(conn, account)?.lag(head), account, head));
            }
        }
        order.sort_unstable_by(|a, b| b.cmp(a));
        for (_, account, head) in order {
            index.account(conn, account)?.index_due(conn, account, head, &mut budget, false)?;
        }
        Ok(())
    })
}

fn add_counters(
    conn: &mut DbConnection,
    account: i64,
    sub: &str,
    phase: Phase,
    add: &Counters,
) -> Result<(), DbError> {
    use schema::counters::dsl as c;
    let key =
        c::account_id.eq(account).and(c::sub_challenge.eq(sub)).and(c::phase.eq(phase.as_str()));
    // `get_result`, not `first`: the key is unique, and diesel's `first` binds its LIMIT as a
    // parameter, which makes SQLite prepare the statement again at every run (it plans with
    // the bound value), most of the cost of this query.
    let old: Option<CounterRow> = c::counters.filter(key).get_result(conn).optional()?;
    let mut total = match &old {
        Some(r) => parse_counters(r),
        None => Counters::default(),
    };
    total.steps += add.steps;
    total.episodes += add.episodes;
    for (k, v) in &add.events {
        *total.events.entry(k.clone()).or_default() += v;
    }
    let row = CounterRow {
        account_id: account,
        sub_challenge: sub.to_string(),
        phase: phase.as_str().to_string(),
        steps: total.steps as i64,
        episodes: total.episodes as i64,
        events: serde_json::to_string(&total.events).unwrap_or_else(|_| "{}".into()),
    };
    if old.is_some() {
        // Only the totals: setting the key's columns too would make SQLite rewrite the key's
        // index entry, a page more in every commit.
        diesel::update(c::counters.filter(key))
            .set((c::steps.eq(row.steps), c::episodes.eq(row.episodes), c::events.eq(&row.events)))
            .execute(conn)?;
    } else {
        diesel::insert_into(c::counters).values(&row).execute(conn)?;
    }
    Ok(())
}

fn parse_counters(r: &CounterRow) -> Counters {
    Counters {
        steps: r.steps as u64,
        episodes: r.episodes as u64,
        events: serde_json::from_str(&r.events).unwrap_or_default(),
    }
}

/// The counters of `account` for `sub` in `phase` (zero when nothing was recorded).
pub fn counters(
    conn: &mut DbConnection,
    account: i64,
    sub: &str,
    phase: Phase,
) -> Result<Counters, DbError> {
    use schema::counters::dsl as c;
    let row: Option<CounterRow> = c::counters
        .filter(
            c::account_id
                .eq(account)
                .and(c::sub_challenge.eq(sub))
                .and(c::phase.eq(phase.as_str())),
        )
        .get_result(conn) // the key is unique; no LIMIT (see `add_counters`)
        .optional()?;
    Ok(row.as_ref().map(parse_counters).unwrap_or_default())
}

/// Loads `$select` (of Rust type `$t`) for every entry of session `$session` of `$account`,
/// in order: those up to the account's mark through the by-session index (`ledger_sessions`),
/// then the few after it from the account's tail. The mark is read first: an index update
/// between the two queries only adds entries after it, which the tail query then finds, so
/// nothing is missed or read twice.
macro_rules! session_rows {
    ($conn:expr, $account:expr, $session:expr, $select:expr, $t:ty) => {{
        use schema::ledger::dsl as l;
        use schema::ledger_sessions::dsl as s;
        let (conn, account, session) = ($conn, $account, $session);
        let upto = indexed_upto(conn, account)?;
        let indexed = s::ledger_sessions
            .filter(s::session_id.eq(session).and(s::account_id.eq(account)).and(s::seq.le(upto)))
            .select(s::seq);
        // The session is checked again on the entries themselves: an index row can never
        // lend another session's entry.
        let mut rows: Vec<$t> = l::ledger
            .filter(
                l::account_id
                    .eq(account)
                    .and(l::seq.eq_any(indexed))
                    .and(l::session_id.eq(session)),
            )
            .order(l::seq.asc())
            .select($select)
            .load(conn)?;
        rows.extend(
            l::ledger
                .filter(
                    l::account_id.eq(account).and(l::seq.gt(upto)).and(l::session_id.eq(session)),
                )
                .order(l::seq.asc())
                .select($select)
                .load::<$t>(conn)?,
        );
        rows
    }};
}

/// Every entry of one session, in order.
pub fn session_entries(
    conn: &mut DbConnection,
    account: i64,
    session: i64,
) -> Result<Vec<LedgerRow>, DbError> {
    Ok(session_rows!(conn, account, session, LedgerRow::as_select(), LedgerRow))
}

/// One session's entries, light: `(episode, reward, ended, created_ms)` in order, where
/// `ended` is terminated or truncated (for learning curves over long training sessions).
pub fn session_rewards(
    conn: &mut DbConnection,
    account: i64,
    session: i64,
) -> Result<Vec<(i64, f64, bool, i64)>, DbError> {
    Ok(session_rows!(
        conn,
        account,
        session,
        (l::episode, l::reward, l::terminated.or(l::truncated), l::created_ms),
        (i64, f64, bool, i64)
    ))
}

/// Every entry of an account, in order (for export).
pub fn account_entries(conn: &mut DbConnection, account: i64) -> Result<Vec<LedgerRow>, DbError> {
    use schema::ledger::dsl as l;
    Ok(l::ledger
        .filter(l::account_id.eq(account))
        .order(l::seq.asc())
        .select(LedgerRow::as_select())
        .load(conn)?)
}

/// Why an account's chain does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("ledger entry {seq} of account {account} does not verify: {why}")]
pub struct ChainError {
    /// The account.
    pub account: i64,
    /// The first bad entry.
    pub seq: i64,
    /// What is wrong.
    pub why: String,
}

/// Recomputes `rows` (one account's entries, in order) and returns how many verified.
pub fn verify_rows(rows: &[LedgerRow]) -> Result<usize, ChainError> {
    let mut prev = GENESIS.to_string();
    for (i, r) in rows.iter().enumerate() {
        let bad = |why: String| ChainError { account: r.account_id, seq: r.seq, why };
        if r.seq != i as i64 + 1 {
            return Err(bad(format!("expected sequence number {}", i + 1)));
        }
        let h = entry_hash(&prev, r);
        if h != r.hash {
            return Err(bad(format!("hash {} stored, {h} computed", r.hash)));
        }
        prev = h;
    }
    Ok(rows.len())
}

/// Verifies the whole chain of `account`.
pub fn verify_chain(conn: &mut DbConnection, account: i64) -> Result<usize, VerifyError> {
    let rows = account_entries(conn, account)?;
    Ok(verify_rows(&rows)?)
}

/// A chain that could not be read or does not verify.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// Reading failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// The chain is broken.
    #[error(transparent)]
    Chain(#[from] ChainError),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(account: i64, from: i64, n: i64) -> Vec<Entry> {
        (from..from + n)
            .map(|i| Entry {
                account_id: account,
                session_id: 1,
                sub_challenge: Arc::from("env/boat-race"),
                phase: Phase::Train,
                episode: 0,
                step: i + 1,
                action: Some(1),
                seed: None,
                reward: -1.0,
                terminated: false,
                truncated: false,
                performance: 0.0,
                events: Vec::new(),
            })
            .collect()
    }

    #[test]
    #[allow(clippy::disallowed_methods)] // waits (bounded) for the checkpoint thread
    fn the_checkpointer_moves_the_log_into_the_database_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.db").to_string_lossy().into_owned();
        crate::db::migrate(&mut crate::db::establish(&path).unwrap()).unwrap();
        let size = || std::fs::metadata(&path).unwrap().len();
        let before = size();
        let ledger = Ledger::start(
            crate::db::establish(&path).unwrap(),
            8192,
            Some(crate::db::establish(&path).unwrap()),
        )
        .unwrap();
        let n = 2 * CHECKPOINT_EVERY as i64;
        for from in (0..n).step_by(1000) {
            ledger.append(entries(1, from, 1000)).blocking_recv().unwrap().unwrap();
        }
        // The writer never checkpoints: only the checkpoint thread grows the database file.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while size() < before + 1_000_000 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(size() >= before + 1_000_000, "database file {} bytes, was {before}", size());
        let mut conn = crate::db::establish(&path).unwrap();
        assert_eq!(verify_chain(&mut conn, 1).unwrap(), n as usize);
    }

    /// A fresh SQLite ledger (its writer, path and a reader's connection), for the index tests.
    fn indexed_ledger() -> (tempfile::TempDir, Ledger, String, DbConnection) {
        let dir = tempfile::tempdir().unwrap();
        let (ledger, path) = sqlite_ledger(&dir, 8192);
        let conn = crate::db::establish(&path).unwrap();
        (dir, ledger, path, conn)
    }

    /// How many entries of `account` were appended.
    fn appended_by(appended: &Appended, account: i64) -> i64 {
        appended.iter().filter(|((a, _), _)| *a == account).map(|(_, v)| v.len() as i64).sum()
    }

    /// `(account, session) -> steps` of everything appended, to compare with what reads back.
    type Appended = BTreeMap<(i64, i64), Vec<i64>>;

    /// Appends one group of `(account, session)` entries, numbering their steps from
    /// `next`, and waits for its commit.
    fn append_group(ledger: &Ledger, appended: &mut Appended, next: &mut i64, who: &[(i64, i64)]) {
        let group: Vec<Entry> = who
            .iter()
            .map(|&(account, session)| {
                let step = *next;
                *next += 1;
                appended.entry((account, session)).or_default().push(step);
                Entry {
                    account_id: account,
                    session_id: session,
                    step,
                    ..entries(1, 0, 1)[0].clone()
                }
            })
            .collect();
        ledger.append(group).blocking_recv().unwrap().unwrap();
    }

    /// Every session reads back exactly what was appended to it, in order.
    fn reads_whole(conn: &mut DbConnection, appended: &Appended) {
        for (&(account, session), steps) in appended {
            let read: Vec<i64> =
                session_entries(conn, account, session).unwrap().iter().map(|r| r.step).collect();
            assert_eq!(&read, steps, "account {account}, session {session}");
        }
    }

    /// `account`'s rows in the by-session index, as `(session, seq)`.
    fn index_rows(conn: &mut DbConnection, account: i64) -> Vec<(i64, i64)> {
        use schema::ledger_sessions::dsl as s;
        s::ledger_sessions
            .filter(s::account_id.eq(account))
            .order((s::session_id, s::seq))
            .select((s::session_id, s::seq))
            .load(conn)
            .unwrap()
    }

    /// The mark's promise: every entry of `account` up to it is indexed, under its own
    /// session. Returns the mark.
    fn check_mark(conn: &mut DbConnection, account: i64) -> i64 {
        use schema::ledger::dsl as l;
        let upto = indexed_upto(conn, account).unwrap();
        let mut want: Vec<(i64, i64)> = l::ledger
            .filter(l::account_id.eq(account).and(l::seq.le(upto)))
            .select((l::session_id, l::seq))
            .load(conn)
            .unwrap();
        want.sort_unstable();
        let have: Vec<(i64, i64)> =
            index_rows(conn, account).into_iter().filter(|&(_, seq)| seq <= upto).collect();
        assert_eq!(have, want, "account {account}: the index up to the mark {upto}");
        upto
    }

    /// Waits (bounded) until the stopped writer's last update has indexed `total` entries.
    #[allow(clippy::disallowed_methods)]
    fn wait_indexed(conn: &mut DbConnection, total: usize) {
        use schema::ledger_sessions::dsl as s;
        let count = |conn: &mut DbConnection| {
            s::ledger_sessions.count().get_result::<i64>(conn).unwrap() as usize
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while count(conn) < total && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(count(conn), total, "every entry indexed once");
    }

    /// The by-session index is written a session at a time, inside the group commits: a
    /// session's entries once [`SESSION_BATCH`] wait, or once its oldest lags [`MAX_LAG`]
    /// behind the head, and everything when the writer stops. Every session reads whole, in
    /// order (the index up to the account's mark, then the account's tail), at every point,
    /// with sessions of two accounts interleaved; the mark keeps its promise and the tail
    /// stays short.
    #[test]
    fn sessions_read_whole_while_the_index_catches_up() {
        let (_dir, ledger, _, mut conn) = indexed_ledger();
        let (mut appended, mut next) = (Appended::new(), 0i64);
        // Account 1 steps sessions 1-3 in turn and every fifth entry is account 2's session 9.
        let mix = |from: i64, n: i64| -> Vec<(i64, i64)> {
            (from..from + n).map(|i| if i % 5 == 4 { (2, 9) } else { (1, 1 + i % 3) }).collect()
        };
        // Session 7 steps three times and then never again.
        append_group(&ledger, &mut appended, &mut next, &[(1, 7), (1, 7), (1, 7)]);
        let who = mix(next, 40);
        append_group(&ledger, &mut appended, &mut next, &who);
        reads_whole(&mut conn, &appended);
        assert!(index_rows(&mut conn, 1).is_empty(), "no session has {SESSION_BATCH} waiting");
        assert_eq!(check_mark(&mut conn, 1), 0);
        let mut group = 1;
        while next < 3 * MAX_LAG {
            // Groups of 1 to 61 entries.
            let who = mix(next, group);
            append_group(&ledger, &mut appended, &mut next, &who);
            group = group * 7 % 61 + 1;
            reads_whole(&mut conn, &appended);
            for account in [1, 2] {
                let lag = appended_by(&appended, account) - check_mark(&mut conn, account);
                assert!(lag <= MAX_LAG + MARK_EVERY + 61, "account {account} lags {lag}");
            }
        }
        assert!(check_mark(&mut conn, 1) > MAX_LAG && check_mark(&mut conn, 2) > 0);
        let seven: Vec<_> = index_rows(&mut conn, 1).into_iter().filter(|r| r.0 == 7).collect();
        assert_eq!(seven, [(7, 1), (7, 2), (7, 3)], "the stopped session, past the lag");
        // The writer's last update when it stops: everything indexed, every mark at its head.
        drop(ledger);
        wait_indexed(&mut conn, next as usize);
        reads_whole(&mut conn, &appended);
        let head1 = appended_by(&appended, 1);
        assert_eq!(check_mark(&mut conn, 1), head1, "account 1's mark is its head");
    }

    /// After a crash the marks lag and some entries past them are indexed already: a new
    /// writer rebuilds its state from each account's tail, indexes what is missing and skips
    /// what is there.
    #[test]
    fn a_new_writer_indexes_the_tail_it_finds() {
        let (_dir, ledger, path, mut conn) = indexed_ledger();
        let (mut appended, mut next) = (Appended::new(), 0i64);
        let turns = |n: i64| -> Vec<(i64, i64)> { (0..n).map(|i| (1, 1 + i % 3)).collect() };
        append_group(&ledger, &mut appended, &mut next, &turns(300));
        drop(ledger);
        wait_indexed(&mut conn, 300);
        // The state a crash can leave: the mark at 100, session 2's entries after it missing.
        {
            use schema::ledger_sessions::dsl as s;
            diesel::delete(s::ledger_sessions.filter(s::session_id.eq(2).and(s::seq.gt(100))))
                .execute(&mut conn)
                .unwrap();
        }
        set_indexed_upto(&mut conn, 1, 100).unwrap();
        reads_whole(&mut conn, &appended);
        let ledger = Ledger::start(crate::db::establish(&path).unwrap(), 8192, None).unwrap();
        append_group(&ledger, &mut appended, &mut next, &turns(10));
        reads_whole(&mut conn, &appended);
        // The first commit of the new writer already put back session 2's missing entries
        // (its oldest comes first), before any stop.
        let two = index_rows(&mut conn, 1).into_iter().filter(|r| r.0 == 2).count();
        assert_eq!(two, appended[&(1, 2)].len(), "session 2 indexed again at the first commit");
        drop(ledger);
        wait_indexed(&mut conn, 310);
        reads_whole(&mut conn, &appended);
        assert_eq!(check_mark(&mut conn, 1), 310);
    }

    /// Groups bigger than the index's budget, from 200 sessions in lockstep (each group one
    /// entry of each, as batch requests give), beside a second account's single session: the
    /// busy account's index keeps within its lag, and the other account is not starved.
    #[test]
    fn big_groups_neither_outrun_the_index_nor_starve_another_account() {
        let (_dir, ledger, _, mut conn) = indexed_ledger();
        let (mut appended, mut next) = (Appended::new(), 0i64);
        let mut group: Vec<(i64, i64)> = (1..=200).map(|session| (1, session)).collect();
        group.push((2, 1000));
        let mut worst = 0;
        for _ in 0..100 {
            append_group(&ledger, &mut appended, &mut next, &group);
            worst = worst.max(appended_by(&appended, 1) - indexed_upto(&mut conn, 1).unwrap());
        }
        // The 200 sessions come due together; the budget, twice the group, drains them while
        // the head moves on by about as much again.
        assert!(worst <= 2 * MAX_LAG + MARK_EVERY + 201, "account 1 lagged {worst} entries");
        // Its 100 entries fill three batches of 32: all indexed, or the last still waiting.
        let two = index_rows(&mut conn, 2).len();
        assert!(
            two >= 64,
            "account 2's session, full every {SESSION_BATCH} entries: {two} indexed"
        );
        check_mark(&mut conn, 1);
        reads_whole(&mut conn, &appended);
    }

    /// A deletion runs in order with the appends around it: the entries queued before it go
    /// with the chain, and those queued after start a fresh chain from the genesis hash, with
    /// fresh counters (a step in flight during a deletion cannot chain from the deleted head).
    #[test]
    fn a_deletion_runs_in_order_with_the_appends() {
        let dir = tempfile::tempdir().unwrap();
        let (ledger, path) = sqlite_ledger(&dir, 8192);
        let mut conn = crate::db::establish(&path).unwrap();
        ledger.append(entries(1, 0, 40)).blocking_recv().unwrap().unwrap();
        ledger.append(entries(2, 0, 7)).blocking_recv().unwrap().unwrap();
        let before = ledger.append(entries(1, 40, 5));
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        // `join!` polls in order: the deletion is queued, then the entries after it (each sent
        // when first polled).
        let (deleted, after) = rt.block_on(async {
            tokio::join!(ledger.delete_account(1), async {
                ledger.append(entries(1, 100, 3)).await
            })
        });
        before.blocking_recv().unwrap().unwrap();
        after.unwrap().unwrap();
        assert_eq!(deleted, Ok(45), "everything queued before the deletion went with it");
        assert_eq!(verify_chain(&mut conn, 1).unwrap(), 3, "a fresh chain of the 3 after");
        let steps: Vec<i64> =
            session_entries(&mut conn, 1, 1).unwrap().iter().map(|r| r.step).collect();
        assert_eq!(steps, [101, 102, 103]);
        assert_eq!(counters(&mut conn, 1, "env/boat-race", Phase::Train).unwrap().steps, 3);
        assert_eq!(verify_chain(&mut conn, 2).unwrap(), 7, "the other account is untouched");
    }

    fn sqlite_ledger(dir: &tempfile::TempDir, max_batch: usize) -> (Ledger, String) {
        let path = dir.path().join("ledger.db").to_string_lossy().into_owned();
        crate::db::migrate(&mut crate::db::establish(&path).unwrap()).unwrap();
        (Ledger::start(crate::db::establish(&path).unwrap(), max_batch, None).unwrap(), path)
    }

    /// Many threads append to one account at once: every append is acknowledged, and the
    /// chain holds every entry once, each thread's in its order.
    #[test]
    fn concurrent_appends_are_all_committed_in_one_chain() {
        let dir = tempfile::tempdir().unwrap();
        let (ledger, path) = sqlite_ledger(&dir, 64);
        let (threads, appends, per) = (8, 50, 3);
        std::thread::scope(|s| {
            for t in 0..threads {
                let ledger = ledger.clone();
                s.spawn(move || {
                    let pending: Vec<Committed> = (0..appends)
                        .map(|i| {
                            let mut group = entries(1, i * per, per);
                            for e in &mut group {
                                e.session_id = t;
                            }
                            ledger.append(group)
                        })
                        .collect();
                    for rx in pending {
                        rx.blocking_recv().unwrap().unwrap();
                    }
                });
            }
        });
        let mut conn = crate::db::establish(&path).unwrap();
        assert_eq!(verify_chain(&mut conn, 1).unwrap(), (threads * appends * per) as usize);
        use schema::ledger::dsl as l;
        for t in 0..threads {
            let steps: Vec<i64> = l::ledger
                .filter(l::session_id.eq(t))
                .order(l::seq.asc())
                .select(l::step)
                .load(&mut conn)
                .unwrap();
            assert_eq!(steps, (1..=appends * per).collect::<Vec<_>>(), "session {t}");
        }
    }

    #[test]
    fn hex_is_lower_case_two_digits_a_byte() {
        assert_eq!(hex(&[0x00, 0xab, 0x0f, 0xf0, 0xff]), "00ab0ff0ff");
        assert_eq!(hex(&[]), "");
    }

    #[test]
    fn a_chain_verifies_and_any_changed_field_breaks_it() {
        let mut prev = GENESIS.to_string();
        let mut rows = Vec::new();
        for seq in 1..=3 {
            let mut row = LedgerRow {
                account_id: 7,
                seq,
                session_id: 3,
                phase: "train".into(),
                kind: if seq == 1 { "reset" } else { "step" }.into(),
                episode: 0,
                step: seq - 1,
                action: (seq > 1).then_some(2),
                seed: (seq == 1).then_some(-5),
                reward: -0.25,
                terminated: false,
                truncated: seq == 3,
                performance: 1.5,
                events: "{}".into(),
                created_ms: 1_700_000_000_000,
                hash: String::new(),
            };
            row.hash = entry_hash(&prev, &row);
            prev.clone_from(&row.hash);
            rows.push(row);
        }
        assert_eq!(verify_rows(&rows), Ok(3));
        rows[1].reward = 0.75;
        let e = verify_rows(&rows).unwrap_err();
        assert_eq!((e.account, e.seq), (7, 2));
    }
}
