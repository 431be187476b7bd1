"""WSGI entry point: ``gunicorn --config deploy/gunicorn.conf.py wsgi:app`` (deploy/)."""

from portal import create_app

app = create_app()
