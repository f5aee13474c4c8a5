"""The runtime's loopback API as a child process of the Jupyter server, started on first use."""

import asyncio
import json
import os
import shlex

from traitlets import List, Unicode
from traitlets.config import LoggingConfigurable

from .command import skiff_command


class SkiffApiError(RuntimeError):
    """The API could not be started; the message says what to do."""


class SkiffApi(LoggingConfigurable):
    """Starts `skiff api` once and remembers where it listens and its bearer token."""

    command = List(
        Unicode(),
        default_value=[],
        help="Command that starts the Skiff runtime's API; it must print {url, token} as JSON on one line. "
        "Default: `skiff api`, with skiff from $SKIFF_COMMAND or PATH.",
    ).tag(config=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._process = None
        self._endpoint = None
        self._drains = []
        self._lock = asyncio.Lock()

    async def endpoint(self):
        """(url, token) of the running API, starting it when needed (again if it died)."""
        async with self._lock:
            if self._endpoint and self._process and self._process.returncode is None:
                return self._endpoint
            self._endpoint = await self._start()
            return self._endpoint

    def _command(self):
        # Read when the API starts, so a changed environment takes effect on the next start.
        env_command = os.environ.get("SKIFF_API_COMMAND")
        if env_command:
            return shlex.split(env_command)
        # --stop-with-stdin: the API goes when this server does, even one killed outright.
        # --code-root: requests take code only from the server's own folder (the proxy keeps
        # notebooks inside it too).
        return list(self.command) or [*skiff_command(), "api", "--stop-with-stdin", *self._code_root_args()]

    def _code_root_args(self):
        root = getattr(self.parent, "root_dir", None)
        return ["--code-root", os.path.realpath(root)] if root else []

    async def _start(self):
        command = self._command()
        try:
            self._process = await asyncio.create_subprocess_exec(
                *command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
            )
        except FileNotFoundError as err:
            raise SkiffApiError(
                f"cannot start the Skiff runtime: {command[0]} not found "
                "(install it, or set c.SkiffApi.command / SKIFF_API_COMMAND)"
            ) from err
        try:
            line = await asyncio.wait_for(self._process.stdout.readline(), timeout=30)
            info = json.loads(line)
            self.log.info("Skiff API at %s", info["url"])
            # From now on nobody reads the pipes: drain them into the log, or a chatty runtime
            # would fill the pipe buffer and block on its next write.
            self._drains = [
                asyncio.ensure_future(self._drain(self._process.stdout, self.log.info)),
                asyncio.ensure_future(self._drain(self._process.stderr, self.log.warning)),
            ]
            return info["url"], info["token"]
        except (asyncio.TimeoutError, ValueError, KeyError) as err:
            stderr = b""
            if self._process.returncode is not None:
                stderr = await self._process.stderr.read()
            raise SkiffApiError(
                f"the Skiff runtime did not start its API: {stderr.decode(errors='replace').strip() or err}"
            ) from err

    @staticmethod
    async def _drain(stream, log):
        while True:
            line = await stream.readline()
            if not line:
                return
            log("skiff api: %s", line.decode(errors="replace").rstrip())

    async def aclose(self, timeout=5):
        """Stops the API process (killed after `timeout` s) and ends the tasks that drain its pipes."""
        process, drains = self._process, self._drains
        self._process, self._endpoint, self._drains = None, None, []
        if process and process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), timeout)
            except asyncio.TimeoutError:
                process.kill()
                await process.wait()
        # Its pipes close with it, so the drains read to the end and return; none is left pending.
        if drains:
            _, pending = await asyncio.wait(drains, timeout=timeout)
            for task in pending:
                task.cancel()
