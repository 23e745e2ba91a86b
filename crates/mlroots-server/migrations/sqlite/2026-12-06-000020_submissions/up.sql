-- Artefact submissions (levels, mazes, weights, action strings): what was submitted (text;
-- weights as base64 of the re-serialised file, metadata dropped), its SHA-256, and the attempt
-- that holds its verdict.
CREATE TABLE submissions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  sub_challenge TEXT NOT NULL,
  kind TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  artefact TEXT NOT NULL,
  attempt_id BIGINT,
  created_ms BIGINT NOT NULL
);
CREATE INDEX submissions_by_account ON submissions (account_id, sub_challenge);
