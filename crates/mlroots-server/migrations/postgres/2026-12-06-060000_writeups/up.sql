-- Solvers' writeups: one per account and sub-challenge (submitting again replaces it), shown
-- only to accounts that solved the same sub-challenge.
CREATE TABLE writeups (
  account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  sub_challenge TEXT NOT NULL,
  body TEXT NOT NULL,
  created_ms BIGINT NOT NULL,
  updated_ms BIGINT NOT NULL,
  PRIMARY KEY (account_id, sub_challenge)
);
CREATE INDEX writeups_by_sub ON writeups (sub_challenge, created_ms);
