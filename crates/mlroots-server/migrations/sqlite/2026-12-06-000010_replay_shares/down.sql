DROP TABLE replay_shares;
