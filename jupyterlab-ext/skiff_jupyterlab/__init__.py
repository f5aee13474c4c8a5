"""Skiff in Jupyter: the server extension (the runtime's API behind Jupyter's authentication), the
prebuilt JupyterLab extension, and the `%%skiff` cell magic (`%load_ext skiff_jupyterlab`)."""

from .extension import load_jupyter_server_extension

__version__ = "0.1.0"


def _jupyter_server_extension_points():
    return [{"module": "skiff_jupyterlab"}]


_load_jupyter_server_extension = load_jupyter_server_extension


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "@skiff/jupyterlab"}]


def load_ipython_extension(ipython):
    from .magic import load_ipython_extension as load

    load(ipython)
