"""Named queries: each function asks the database one question a caller has (``is_synthetic``,
``institutions_by_ids``, ``audits_outside_participation``…) and answers with plain rows or a
DataFrame, so that the SQL, and any difference between SQLite and PostgreSQL, stays in the store.
Grouped by the callers they serve: :mod:`.meta`, :mod:`.institutions`, :mod:`.checks`,
:mod:`.surveys`, :mod:`.plans`, and the importers' :mod:`.imports`, :mod:`.participation`,
:mod:`.audits`, :mod:`.register`; the web app's :mod:`.journal`; reports sent by e-mail, :mod:`.deliveries`."""
