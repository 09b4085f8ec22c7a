"""F5's trend plots (textual-plotext): daily cost stacked by model or feature, and a histogram of
tokens per call. Each takes plain data from the trends service and redraws itself."""

from __future__ import annotations

from collections.abc import Sequence

from textual_plotext import PlotextPlot


class StackedDailyCost(PlotextPlot):
    """One bar per day, one colour per series."""

    def draw(self, days: Sequence[str], series: Sequence[tuple[str, Sequence[float]]]) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title("Cost per day (USD, UTC days)")
        if series and days:
            positions = list(range(1, len(days) + 1))
            plt.stacked_bar(
                positions, [list(values) for _name, values in series],
                labels=[name for name, _values in series], width=0.7,
            )  # fmt: skip
            step = max(len(days) // 6, 1)
            # Numbers on the axis, dates as their labels: plotext would parse strings as dates.
            plt.xticks(positions[::step], [day[5:] for day in days][::step])
        self.refresh()


class TokenHistogram(PlotextPlot):
    """Calls per power-of-two bucket of tokens per call (log-spaced: token counts are closer
    to log-normal than to anything equal-width bins would show)."""

    def draw(self, title: str, buckets: Sequence[tuple[str, int]]) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(title)
        if buckets:
            positions = list(range(1, len(buckets) + 1))
            plt.bar(positions, [calls for _, calls in buckets], width=0.6)
            step = max(len(buckets) // 6, 1)
            plt.xticks(positions[::step], [label for label, _ in buckets][::step])
        self.refresh()
