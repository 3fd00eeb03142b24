-- The benchmark tables of the common contract (tests/contract/CONTRACT.md).
CREATE TABLE IF NOT EXISTS world (
    id integer PRIMARY KEY,
    randomnumber integer NOT NULL
);

CREATE TABLE IF NOT EXISTS fortune (
    id integer PRIMARY KEY,
    message varchar(2048) NOT NULL
);
