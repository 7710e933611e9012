"""WSGI entry point for gunicorn: ``kkt_adapter.wsgi:app`` (configuration from file and environment)."""

from kkt_adapter.web import create_app

app = create_app()
