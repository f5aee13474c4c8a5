"""Registers the proxy route and stops the runtime's API with the server."""

import atexit

from jupyter_server.utils import url_path_join

from .api_process import SkiffApi
from .handlers import SkiffApiProxy


def load_jupyter_server_extension(server_app):
    skiff_api = SkiffApi(parent=server_app)
    route = url_path_join(server_app.web_app.settings["base_url"], "skiff", "api", "(.*)")
    server_app.web_app.add_handlers(".*$", [(route, SkiffApiProxy, {"skiff_api": skiff_api})])
    server_app.web_app.settings["skiff_api"] = skiff_api
    atexit.register(skiff_api.stop)
    server_app.log.info("Skiff: runtime API served at %s", route)
