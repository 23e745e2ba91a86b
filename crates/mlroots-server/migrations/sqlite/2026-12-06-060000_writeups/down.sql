DROP TABLE writeups;
