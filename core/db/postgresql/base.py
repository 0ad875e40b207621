"""Django's PostgreSQL backend whose per-request health check sends nothing to the server.

With CONN_MAX_AGE and CONN_HEALTH_CHECKS, Django calls `is_usable()` before the first query of
every request; the stock backend answers it with a `SELECT 1`: a round trip and work in
PostgreSQL on every request. Here the answer comes from the client side: libpq's state and a
zero-timeout poll of the connection's socket. An idle, healthy connection has nothing to read.
A backend that went away while the connection sat idle (pg_terminate_backend, a server restart or
crash, idle_session_timeout) has sent an ErrorResponse and/or closed the socket, so the socket is
readable; only then is the server asked, with the stock `SELECT 1`, which reads that error and
says no (or consumes a stray notice and says yes).

What it cannot see, like `SELECT 1`: a network that silently drops packets (a crashed host, a
firewall that forgot the connection). `SELECT 1` would hang on it as long as the request's first
query does; the TCP keepalives set in shop/settings.py end both after ~8 s of silence, and once
they have given up the socket polls as an error here, so an idle connection is replaced.
"""

import select

from django.db.backends.postgresql import base
from django.db.backends.postgresql.psycopg_any import is_psycopg3

if is_psycopg3:
    from psycopg.pq import TransactionStatus

    IDLE = TransactionStatus.IDLE

# Anything to read, an error or a hang-up on the socket of an idle connection means trouble.
POLL_EVENTS = select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        if self.connection is None:
            return False
        # After an error Django asks whether the connection survived it: let the server answer.
        if self.errors_occurred or not is_psycopg3:
            return super().is_usable()
        pgconn = self.connection.pgconn
        # A connection libpq knows to be broken, or one left in a transaction (open or failed),
        # is no connection to start a request on.
        if self.connection.closed or pgconn.transaction_status != IDLE:
            return False
        try:
            poller = select.poll()
            poller.register(pgconn.socket, POLL_EVENTS)
            ready = poller.poll(0)
        except (OSError, ValueError, base.Database.Error):
            return False
        return not ready or super().is_usable()
