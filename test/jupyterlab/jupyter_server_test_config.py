# The Jupyter server Galata drives: JupyterLab with Skiff installed from its wheel, talking to the
# real runtime ($SKIFF_COMMAND) on a real cluster. Test-only settings; never use them elsewhere.
import os

from jupyterlab.galata import configure_jupyter_server

configure_jupyter_server(c)  # noqa: F821
c.ServerApp.port = int(os.environ.get("SKIFF_JLAB_PORT", "8888"))  # noqa: F821
c.ServerApp.allow_root = True  # noqa: F821
c.LabApp.news_url = None  # noqa: F821
