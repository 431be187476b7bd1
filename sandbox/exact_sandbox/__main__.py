"""``python -m exact_sandbox --port 5055``"""

from .cli import sandbox_command

if __name__ == "__main__":
    sandbox_command(prog_name="python -m exact_sandbox")
