DROP TABLE hint_unlocks;
