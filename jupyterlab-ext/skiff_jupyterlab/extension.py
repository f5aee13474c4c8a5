"""The server extension: the proxy route, and the runtime's API stopped with the server.

An ExtensionApp rather than a bare load function, because only an app gets `stop_extension`, which
the server awaits while its event loop still runs: the API process is stopped and its pipes drained
there, not in an atexit hook after the loop has closed (which left the drain tasks pending)."""

from jupyter_server.extension.application import ExtensionApp

from .api_process import SkiffApi
from .handlers import SkiffApiProxy


class SkiffExtension(ExtensionApp):
    name = "skiff_jupyterlab"

    def initialize_handlers(self):
        # `parent=serverapp`: c.SkiffApi.command in the server's config still applies.
        self.skiff_api = SkiffApi(parent=self.serverapp)
        # ExtensionApp puts the server's base_url in front of each pattern.
        self.handlers.append((r"/skiff/api/(.*)", SkiffApiProxy, {"skiff_api": self.skiff_api}))
        self.log.info("Skiff: runtime API served at /skiff/api/")

    async def stop_extension(self):
        await self.skiff_api.aclose()
