"""Skiff's Jupyter server extension: the runtime's API behind Jupyter's authentication."""

from .extension import load_jupyter_server_extension

__version__ = "0.1.0"


def _jupyter_server_extension_points():
    return [{"module": "skiff_jupyterlab"}]


_load_jupyter_server_extension = load_jupyter_server_extension
