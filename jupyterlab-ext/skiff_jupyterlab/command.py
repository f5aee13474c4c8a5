"""Where the `skiff` command is: one answer for the server extension and the IPython magic."""

import os
import shlex
import shutil


def skiff_command(env=None):
    """The skiff CLI as an argv prefix: $SKIFF_COMMAND (a shell-style command line), else `skiff`."""
    env = os.environ if env is None else env
    configured = env.get("SKIFF_COMMAND")
    if configured:
        return shlex.split(configured)
    return [shutil.which("skiff") or "skiff"]
