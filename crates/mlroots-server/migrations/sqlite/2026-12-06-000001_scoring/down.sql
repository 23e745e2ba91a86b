DROP TABLE solves;
DROP TABLE hint_unlocks;
