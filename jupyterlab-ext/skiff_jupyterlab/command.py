"""Where the `skiff` command is: one answer for the server extension and the IPython magic."""

import os
import shlex
import shutil
from pathlib import Path

# The runtime this package ships (scripts/bundle-runtime.mjs): the CLI bundle, run by Node.js.
BUNDLED = Path(__file__).parent / "runtime"


def skiff_command(env=None):
    """The skiff CLI as an argv prefix: $SKIFF_COMMAND (a shell-style command line), else `skiff` on
    PATH, else the runtime bundled in this package (with Node.js from PATH)."""
    env = os.environ if env is None else env
    configured = env.get("SKIFF_COMMAND")
    if configured:
        return shlex.split(configured)
    on_path = shutil.which("skiff")
    if on_path or not (BUNDLED / "skiff.mjs").exists():
        return [on_path or "skiff"]
    # The bundle finds its Python helper and image recipes through these (as in the VS Code extension).
    env.setdefault("SKIFF_PYTHON_DIR", str(BUNDLED / "python" / "skiff"))
    env.setdefault("SKIFF_IMAGES_DIR", str(BUNDLED / "images"))
    return [shutil.which("node") or "node", str(BUNDLED / "skiff.mjs")]
