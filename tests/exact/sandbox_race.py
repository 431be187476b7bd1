"""The worker of the token race against the sandbox: the portal's own path, in a process."""

from __future__ import annotations


def race_worker(config: dict, connection_id: int, use_lock: bool, barrier, results) -> None:
    """Create the app like a worker would, wait for all racers, ask for an access token."""
    from portal import create_app
    from portal.exact import wiring
    from portal.exact.client.errors import ExactError
    from portal.extensions import db
    from portal.models import ExactConnection

    app = create_app(config)
    with app.app_context():
        connection = db.session.get(ExactConnection, connection_id)
        manager = wiring.token_manager(connection, use_lock=use_lock)
        manager.blocking_timeout = 30
        barrier.wait(timeout=60)
        try:
            results.put(("ok", manager.access_token(connection_id)))
        except ExactError as exc:
            results.put(("error", type(exc).__name__, exc.raw_message))
        finally:
            db.engine.dispose()
