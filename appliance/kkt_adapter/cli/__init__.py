"""Console entry points: kkt-adapter (gunicorn launcher) and kktctl (admin CLI)."""
