"""The load phase: the one package that imports Locust (after manage.py's gevent patching).

runner (one load: Environment, runner, drive, results), users (the shop's simulated users),
own_users (the custom --locustfile loader), web_ui (interactive), workers and distributed
(--workers N), recorder (every sample), locust_reports (Locust's CSVs and HTML), locust_adapter
(the Locust internals used where no public API exists), phase (the harness's side of a load),
locustfile (plain `locust -f`).
"""
