"""What several test modules share: builders of real input files, database fixtures' helpers,
the browser, the PostgreSQL server and the build-process probes."""
