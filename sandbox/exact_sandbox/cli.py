"""``portal sandbox`` / ``python -m exact_sandbox``: run the sandbox on its own."""

from __future__ import annotations

import click

from .app import start_sandbox_in_thread
from .config import load_config, normalize
from .tls import make_certificate, server_context


@click.command("sandbox")
@click.option("--port", default=5055, show_default=True, help="Port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False),
    help="JSON config (default: the bundled demo config).",
)
@click.option(
    "--speed",
    type=float,
    default=None,
    help="Clock speed factor (60 = an Exact minute per real second, 0 = frozen).",
)
@click.option(
    "--tls-cert",
    type=click.Path(exists=True, dir_okay=False),
    help="Serve HTTPS with this certificate (PEM; with --tls-key).",
)
@click.option(
    "--tls-key",
    type=click.Path(exists=True, dir_okay=False),
    help="The certificate's private key (PEM; with --tls-cert).",
)
@click.option(
    "--tls-self-signed",
    "tls_folder",
    type=click.Path(file_okay=False),
    help="Make a throwaway certificate for localhost/127.0.0.1 in this folder and serve HTTPS.",
)
def sandbox_command(
    port: int,
    host: str,
    config_file: str | None,
    speed: float | None,
    tls_cert: str | None,
    tls_key: str | None,
    tls_folder: str | None,
) -> None:
    """Serve a local Exact Online sandbox until Ctrl-C."""
    config = load_config(config_file) if config_file else normalize(None)
    if speed is not None:
        config["clock"]["speed"] = speed
    if bool(tls_cert) != bool(tls_key):
        raise click.UsageError("--tls-cert and --tls-key go together.")
    if tls_folder and tls_cert:
        raise click.UsageError("Either --tls-self-signed or --tls-cert/--tls-key, not both.")
    if tls_folder:
        tls_cert, tls_key = (str(path) for path in make_certificate(tls_folder))
    context = server_context(tls_cert, tls_key) if tls_cert and tls_key else None
    server = start_sandbox_in_thread(config, port=port, host=host, quiet=False, ssl_context=context)
    for line in describe(server.url, config):
        click.echo(line)
    if tls_cert:
        click.echo(
            f"HTTPS with the certificate {tls_cert}: clients trust it through "
            f"SSL_CERT_FILE={tls_cert} (Python's ssl, httpx) or REQUESTS_CA_BUNDLE={tls_cert}"
        )
    try:
        server.wait()
    except KeyboardInterrupt:
        click.echo("Stopping the sandbox.")
    finally:
        server.stop()


def describe(url: str, config: dict) -> list[str]:
    """What a person needs to connect: URLs, the demo app and the users."""
    lines = [
        f"Exact Online sandbox on {url} (clock speed {config['clock'].get('speed', 1.0)})",
        f"  authorize: {url}/api/oauth2/auth",
        f"  token:     {url}/api/oauth2/token",
        f"  API:       {url}/api/v1",
        f"  control:   {url}/_sandbox/",
    ]
    for app in config["apps"]:
        lines += [
            f"App {app.get('name', '')!r}",
            f"  client id:     {app['client_id']}",
            f"  client secret: {app['client_secret']}",
            f"  redirect URIs: {', '.join(app.get('redirect_uris', []))}",
        ]
        if app.get("allow_loopback_redirects"):
            lines.append("                 (and any http://127.0.0.1:<port>/ or localhost URI)")
    for user in config["users"]:
        codes = ", ".join(str(code) for code in user.get("divisions", []))
        lines.append(f"User {user['username']} / {user['password']}: divisions {codes}")
    return lines
