"""What a user can do, callable without a command line: imports, builds (also as queued jobs),
exports, lookups, awards, the templates to fill in and database administration. The CLI and the web
app are thin shells over these."""
