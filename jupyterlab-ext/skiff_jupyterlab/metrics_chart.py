"""A job's metrics as one chart output, for the Skiff kernel and the `%%skiff` magic alike: one
display, made at the first samples and redrawn as more arrive, at most once per REDRAW_SECONDS
(the frontend's renderer of METRICS_MIME draws it, as it does in the sidebar)."""

import time

METRICS_MIME = "application/vnd.skiff.metrics+json"
REDRAW_SECONDS = 1.0


def metrics_bundle(job, samples):
    return {METRICS_MIME: {"job": job, "samples": list(samples)}, "text/plain": f"<{len(samples)} metric samples of {job}>"}


class MetricsChart:
    """`show(bundle, first)` puts a bundle on screen: a new display when `first`, an update of it after."""

    def __init__(self, job, show, clock=time.monotonic):
        self.job = job
        self.samples = []
        self._show, self._clock = show, clock
        self._shown = self._pending = False
        self._drawn_at = 0.0

    def add(self, samples):
        self.samples.extend(samples)
        self._pending = True
        if self._clock() - self._drawn_at >= REDRAW_SECONDS:
            self._draw()

    def finish(self):
        """The last samples, drawn whatever the pace."""
        if self._pending:
            self._draw()

    def _draw(self):
        self._show(metrics_bundle(self.job, self.samples), not self._shown)
        self._shown, self._pending, self._drawn_at = True, False, self._clock()
