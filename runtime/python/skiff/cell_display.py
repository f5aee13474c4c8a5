"""Where rich output of the running notebook-session cell goes, for code outside the agent.

``python3 -m skiff.agent`` runs as ``__main__``, so modules that need the agent (the matplotlib
backend in inline_figures.py) cannot import it; they hand MIME bundles here instead, and the
agent connects this to the cell it is running. Nothing is shown outside a session.
"""

# Set by the agent to its display_bundle(data).
sink = None


def display_bundle(data):
    """Puts one MIME bundle ({"image/png": base64, "text/plain": ...}) into the running cell's output."""
    if sink is not None:
        sink(data)
