"""The chart output the kernel and the magic share: one display, redrawn at a pace, the last samples always drawn."""

from skiff_jupyterlab.metrics_chart import METRICS_MIME, REDRAW_SECONDS, MetricsChart


def test_one_display_made_at_the_first_samples_then_updated_at_most_once_per_interval():
    now = [100.0]
    shown = []
    chart = MetricsChart("train", lambda bundle, first: shown.append((first, len(bundle[METRICS_MIME]["samples"]))), clock=lambda: now[0])
    chart.finish()
    assert shown == []  # no samples, no chart
    chart.add([{"n": 1}])
    chart.add([{"n": 2}])
    now[0] += REDRAW_SECONDS
    chart.add([{"n": 3}, {"n": 4}])
    chart.add([{"n": 5}])
    assert shown == [(True, 1), (False, 4)]
    chart.finish()
    assert shown[-1] == (False, 5)
    chart.finish()
    assert len(shown) == 3  # nothing new, nothing drawn
