-- Hints a learner chose to see: each costs its points from the sub-challenge's score.
CREATE TABLE hint_unlocks (
  account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  sub_challenge TEXT NOT NULL,
  hint BIGINT NOT NULL,
  created_ms BIGINT NOT NULL,
  PRIMARY KEY (account_id, sub_challenge, hint)
);
