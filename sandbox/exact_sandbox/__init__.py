"""A local stand-in for Exact Online, served by Flask over real HTTP.

It imports nothing from the rest of ``portal``: it exists to judge the portal's Exact client
honestly. See README.md in this folder for what it reproduces and how to drive it.
"""

from .app import SandboxServer, create_sandbox_app, start_sandbox_in_thread
from .clock import SandboxClock
from .config import default_config, load_config

__all__ = [
    "SandboxClock",
    "SandboxServer",
    "create_sandbox_app",
    "default_config",
    "load_config",
    "start_sandbox_in_thread",
]
