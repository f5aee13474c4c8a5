"""Skiff in Jupyter: the server extension (the runtime's API behind Jupyter's authentication), the
prebuilt JupyterLab extension, the Skiff kernels (a notebook's live session on the cluster) and the
`%%skiff` cell magic (`%load_ext skiff_jupyterlab`). Imports stay lazy: a kernel needs none of the
server's modules."""

__version__ = "0.1.0"


def _jupyter_server_extension_points():
    from .extension import SkiffExtension

    return [{"module": "skiff_jupyterlab", "app": SkiffExtension}]


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "@skiff/jupyterlab"}]


def load_ipython_extension(ipython):
    from .magic import load_ipython_extension as load

    load(ipython)
