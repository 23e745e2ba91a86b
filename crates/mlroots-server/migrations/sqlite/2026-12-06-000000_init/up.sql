-- The platform's tables on SQLite. Timestamps are unix milliseconds (BIGINT); ids are BIGINT.
CREATE TABLE accounts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  username TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  is_admin BOOLEAN NOT NULL,
  created_ms BIGINT NOT NULL
);
CREATE TABLE login_sessions (
  token_hash TEXT PRIMARY KEY NOT NULL,
  account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  created_ms BIGINT NOT NULL,
  expires_ms BIGINT NOT NULL
);
CREATE TABLE api_tokens (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  prefix TEXT NOT NULL,
  scopes TEXT NOT NULL,
  created_ms BIGINT NOT NULL,
  expires_ms BIGINT,
  last_used_ms BIGINT,
  revoked BOOLEAN NOT NULL
);
CREATE TABLE env_sessions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  sub_challenge TEXT NOT NULL,
  phase TEXT NOT NULL,
  env_id TEXT NOT NULL,
  options TEXT NOT NULL,
  created_ms BIGINT NOT NULL,
  closed_ms BIGINT
);
CREATE TABLE ledger (
  account_id BIGINT NOT NULL,
  seq BIGINT NOT NULL,
  session_id BIGINT NOT NULL,
  phase TEXT NOT NULL,
  kind TEXT NOT NULL,
  episode BIGINT NOT NULL,
  step BIGINT NOT NULL,
  action BIGINT,
  seed BIGINT,
  reward DOUBLE PRECISION NOT NULL,
  terminated BOOLEAN NOT NULL,
  truncated BOOLEAN NOT NULL,
  performance DOUBLE PRECISION NOT NULL,
  events TEXT NOT NULL,
  created_ms BIGINT NOT NULL,
  hash TEXT NOT NULL,
  PRIMARY KEY (account_id, seq)
);
CREATE INDEX ledger_by_session ON ledger (session_id, account_id, seq);
CREATE TABLE counters (
  account_id BIGINT NOT NULL,
  sub_challenge TEXT NOT NULL,
  phase TEXT NOT NULL,
  steps BIGINT NOT NULL,
  episodes BIGINT NOT NULL,
  events TEXT NOT NULL,
  PRIMARY KEY (account_id, sub_challenge, phase)
);
CREATE TABLE attempts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  sub_challenge TEXT NOT NULL,
  session_id BIGINT NOT NULL,
  passed BOOLEAN NOT NULL,
  verdict TEXT NOT NULL,
  created_ms BIGINT NOT NULL
);
