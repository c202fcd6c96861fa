"""WSGI entry point for gunicorn or uwsgi.

    gunicorn -w 1 --threads 32 collector.wsgi:application

The config file comes from the ``COLLECTOR_CONFIG`` environment variable. Run exactly ONE
worker process: the rate limiter lives in memory, so several workers would each allow the
full rate. (``python -m collector serve`` needs no external server at all.)
"""

from __future__ import annotations

import os

from collector.accesslog import WSGIApp, configure_logging
from collector.server import build_wsgi_app
from installdata.config import load_config
from installdata.errors import UserError

CONFIG_ENV = "COLLECTOR_CONFIG"


def _load_application() -> WSGIApp:
    path = os.environ.get(CONFIG_ENV, "").strip()
    if not path:
        raise UserError(f"{CONFIG_ENV} is not set: point it at the collector's config.yaml")
    configure_logging()
    return build_wsgi_app(load_config(path).collector)


try:
    application = _load_application()
except UserError as exc:  # the WSGI server cannot start the app: say why, in one line
    raise SystemExit(f"error: {exc}") from None
