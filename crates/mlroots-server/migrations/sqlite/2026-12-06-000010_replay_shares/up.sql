-- Share links of solved attempts' replays: the owner creates one (an unguessable id of 128
-- random bits) and may delete it; anyone holding the id can watch that attempt's episodes.
CREATE TABLE replay_shares (
  share_id TEXT PRIMARY KEY NOT NULL,
  attempt_id BIGINT NOT NULL UNIQUE REFERENCES attempts(id) ON DELETE CASCADE,
  account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  created_ms BIGINT NOT NULL
);
