-- Case references are unique, as the domain says, not only within an organisation: two people
-- in one partner's inbox must never share one. Numbers now run per country and year across
-- every organisation there, starting after the highest any organisation has used, so no new
-- reference repeats an old one.
CREATE TABLE case_number (
    country text NOT NULL,
    year integer NOT NULL,
    last_number integer NOT NULL DEFAULT 0,
    PRIMARY KEY (country, year)
);
INSERT INTO case_number (country, year, last_number)
SELECT o.country, c.year, max(c.last_number)
FROM case_reference_counter c JOIN organisation o ON o.id = c.organisation_id
GROUP BY o.country, c.year;
GRANT SELECT, INSERT, UPDATE ON case_number TO haven_app;
