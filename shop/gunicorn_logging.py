"""gunicorn's logger, with its lines also in LOG_FILE when that is set.

gunicorn writes its access log (one line per request: address, request line, status, bytes,
time in ms and the request id) and its error log (boots, worker timeouts and crashes) to one
destination each. With LOG_FILE set, both also go to that file, beside the application's own log
lines (shop/settings.py's LOGGING), so `tail -f api.log` shows every request and every error.
The access line is gunicorn's only: the application does not log requests itself under gunicorn
(core/request_log.py is the development server's), so no request is logged twice.
"""

import logging
import logging.handlers
import os

from gunicorn.glogging import Logger

FILE_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class ShopLogger(Logger):
    def setup(self, cfg) -> None:
        super().setup(cfg)  # drops handlers marked _gunicorn, so a reload does not stack ours
        path = os.environ.get("LOG_FILE", "").strip()
        if not path:
            return
        logs = [self.error_log]
        if cfg.accesslog is not None:
            logs.append(self.access_log)
        for log in logs:
            handler = logging.handlers.WatchedFileHandler(path)
            handler.setFormatter(logging.Formatter(FILE_FORMAT))
            handler._gunicorn = True
            log.addHandler(handler)
