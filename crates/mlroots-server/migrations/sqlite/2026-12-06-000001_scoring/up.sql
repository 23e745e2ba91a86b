-- Scoring: hint unlocks (their cost is taken from the solve's points) and solves (the
-- first passed attempt per account and sub-challenge).
CREATE TABLE hint_unlocks (
  account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  sub_challenge TEXT NOT NULL,
  hint BIGINT NOT NULL,
  cost BIGINT NOT NULL,
  created_ms BIGINT NOT NULL,
  PRIMARY KEY (account_id, sub_challenge, hint)
);

CREATE TABLE solves (
  account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  sub_challenge TEXT NOT NULL,
  challenge TEXT NOT NULL,
  attempt_id BIGINT NOT NULL,
  points BIGINT NOT NULL,
  first_solve BOOLEAN NOT NULL,
  created_ms BIGINT NOT NULL,
  PRIMARY KEY (account_id, sub_challenge)
);

CREATE INDEX solves_by_challenge ON solves (challenge, created_ms);
