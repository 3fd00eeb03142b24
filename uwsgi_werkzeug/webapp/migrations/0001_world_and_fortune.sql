CREATE TABLE IF NOT EXISTS world (
    id integer PRIMARY KEY,
    randomnumber integer NOT NULL
);

CREATE TABLE IF NOT EXISTS fortune (
    id integer PRIMARY KEY,
    message varchar(2048) NOT NULL
);

-- ON CONFLICT DO NOTHING: a re-run never resets numbers that /updates has changed.
INSERT INTO world (id, randomnumber)
SELECT id, 1 + floor(random() * 10000)::integer
FROM generate_series(1, 10000) AS id
ON CONFLICT (id) DO NOTHING;

INSERT INTO fortune (id, message) VALUES
    (1, 'A deploy on Friday afternoon is a story you tell on Monday.'),
    (2, 'The release phase runs once; the web process runs forever.'),
    (3, '<script>alert("escape me")</script>'),
    (4, 'Twelve-factor apps keep config in the environment, not in the repository.'),
    (5, 'Connection pools are like parking lots: the plan decides how many spaces there are.'),
    (6, 'A SIGTERM is a request, a SIGKILL is a verdict.'),
    (7, 'Les journaux vont sur la sortie standard, même en été.'),
    (8, '日本語のテキストもそのまま表示されるべきです。'),
    (9, 'Keep-alive outlasts the router, or the router closes first.'),
    (10, 'Never trust the leftmost X-Forwarded-For.'),
    (11, 'Migrations belong to release, not to web.'),
    (12, 'An ampersand & a quote " walk into a <table>.')
ON CONFLICT (id) DO NOTHING;
