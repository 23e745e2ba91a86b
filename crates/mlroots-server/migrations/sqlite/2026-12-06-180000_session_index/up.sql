-- The ledger's by-session index, kept by the ledger writer a session at a time (several of a
-- session's entries together, ledger.rs) instead of by a SQL index updated at every step:
-- each step's index entry lands at its own session's place, a page of its own in every
-- commit, which was about half of what the ledger wrote.
CREATE TABLE ledger_sessions (
  session_id BIGINT NOT NULL,
  account_id BIGINT NOT NULL,
  seq BIGINT NOT NULL,
  PRIMARY KEY (session_id, account_id, seq)
) WITHOUT ROWID;
-- Every entry of the account with seq <= upto is in ledger_sessions (later ones may be too).
CREATE TABLE ledger_indexed (
  account_id BIGINT NOT NULL PRIMARY KEY,
  upto BIGINT NOT NULL
);
INSERT INTO ledger_sessions (session_id, account_id, seq)
  SELECT session_id, account_id, seq FROM ledger;
INSERT INTO ledger_indexed (account_id, upto)
  SELECT account_id, MAX(seq) FROM ledger GROUP BY account_id;
DROP INDEX ledger_by_session;
