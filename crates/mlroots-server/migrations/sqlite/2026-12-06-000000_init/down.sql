DROP TABLE attempts;
DROP TABLE counters;
DROP TABLE ledger;
DROP TABLE env_sessions;
DROP TABLE api_tokens;
DROP TABLE login_sessions;
DROP TABLE accounts;
