"""matplotlib's backend in a notebook session: figures show in the cell's output, as in Jupyter.

The agent selects it (``MPLBACKEND=module://skiff.inline_figures``, unless the user chose another
backend) before any cell runs. ``plt.show()`` in a cell, and the end of every cell, put each open
figure into the cell's output as a PNG and close it, which is what Jupyter's inline backend does:
a notebook written for Jupyter (``plt.plot(...)`` as a cell's last line) shows its plot here too.
Without this a pod has no display, so matplotlib picks Agg, ``show()`` draws nothing, and
figures pile up between cells.
"""

import base64
import io

from matplotlib.backend_bases import FigureManagerBase
from matplotlib.backends.backend_agg import FigureCanvasAgg

from . import cell_display

BACKEND = "module://skiff.inline_figures"

FigureCanvas = FigureCanvasAgg
FigureManager = FigureManagerBase

def figure_bundle(figure):
    """A figure as Jupyter's inline backend sends it: a PNG, and its text form."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    return {"image/png": base64.b64encode(buffer.getvalue()).decode("ascii"), "text/plain": repr(figure)}


def show(*args, **kwargs):
    """Each open figure into the cell's output, then closed (a later cell starts with none)."""
    import matplotlib.pyplot as plt

    for number in plt.get_fignums():
        figure = plt.figure(number)
        cell_display.display_bundle(figure_bundle(figure))
        plt.close(figure)
