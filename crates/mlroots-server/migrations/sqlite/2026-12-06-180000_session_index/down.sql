CREATE INDEX ledger_by_session ON ledger (session_id, account_id, seq);
DROP TABLE ledger_indexed;
DROP TABLE ledger_sessions;
