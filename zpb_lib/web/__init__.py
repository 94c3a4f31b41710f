"""``zpb serve``: the web app for the police units' coordinators (Panel on Bokeh's Tornado server).

One interface beside the command line and the explorer, on the same services: :mod:`.config` (what
the server is asked to do, refused when unsafe), :mod:`.auth` (who is logged in: nobody on an
analyst's own machine, a users file with password hashes, or an OpenID Connect provider), :mod:`.guard`
(the headers every response carries), :mod:`.pages` (what a user sees), :mod:`.downloads` (the files
to fill in, built when asked), :mod:`.server` (the process).
Rights are the database's: each user's work runs under their zpb role (:func:`zpb_lib.store.acting_as`).
"""
