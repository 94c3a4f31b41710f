"""The programme's rules and figures: institutions and complexes, scoring, awards, statistics,
indicators, the report cube, matching and the database checks."""
