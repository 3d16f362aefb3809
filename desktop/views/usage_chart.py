"""The tokens-per-day chart: a stacked bar per day (one colour per model) and the quota line."""

from __future__ import annotations

from PySide6.QtCharts import (
    QAbstractSeries,
    QBarCategoryAxis,
    QBarSet,
    QChart,
    QChartView,
    QLineSeries,
    QStackedBarSeries,
    QValueAxis,
)
from PySide6.QtCore import QMargins, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPainter, QPalette, QPen
from PySide6.QtWidgets import QWidget

from desktop.theme import is_dark
from desktop.usage_data import DailyTokens

QUOTA_COLOR = QColor("#d64545")


class UsageChart(QChartView):
    """QtCharts (in the PySide6 wheel): no extra dependency, and it follows the palette."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setMinimumHeight(260)
        self.bars = QStackedBarSeries()
        self.quota_line: QLineSeries | None = None
        self.show_days(DailyTokens([], {}), None)

    def show_days(self, days: DailyTokens, quota: int | None) -> None:
        """Draw `days` afresh; a daily `quota` adds a horizontal line at its height."""
        chart = QChart()
        chart.setTitle("Tokens per day")
        chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
        chart.setMargins(QMargins(4, 4, 4, 4))
        self.bars = _bars(days)
        chart.addSeries(self.bars)
        self.quota_line = None if quota is None else _quota_line(chart, len(days.dates), quota)
        lines = [self.quota_line] if self.quota_line is not None else []
        _add_axes(chart, [self.bars, *lines], days, max(days.peak, quota or 0))
        old = self.chart()
        self.setChart(chart)
        if old is not None:
            old.deleteLater()
        self.follow_theme()

    def follow_theme(self) -> None:
        """Colours from the application palette, so light and dark both read well."""
        chart, palette = self.chart(), QGuiApplication.palette()
        chart.setTheme(
            QChart.ChartTheme.ChartThemeDark if is_dark() else QChart.ChartTheme.ChartThemeLight
        )
        chart.setBackgroundBrush(palette.color(QPalette.ColorRole.Base))
        text = palette.color(QPalette.ColorRole.Text)
        chart.setTitleBrush(text)
        chart.legend().setLabelColor(text)
        for axis in chart.axes():
            axis.setLabelsColor(text)
            axis.setGridLineColor(palette.color(QPalette.ColorRole.Mid))
        if self.quota_line is not None:
            self.quota_line.setPen(QPen(QUOTA_COLOR, 2, Qt.PenStyle.DashLine))

    def series_values(self) -> dict[str, list[float]]:
        """What each model's bars show, by day (for tests and for a quick look)."""
        return {
            bar_set.label(): [bar_set.at(i) for i in range(bar_set.count())]
            for bar_set in self.bars.barSets()
        }


def _bars(days: DailyTokens) -> QStackedBarSeries:
    series = QStackedBarSeries()
    for model, values in days.by_model.items():
        bar_set = QBarSet(model)
        bar_set.append([float(v) for v in values])
        series.append(bar_set)
    return series


def _add_axes(chart: QChart, series: list[QAbstractSeries], days: DailyTokens, top: int) -> None:
    """Days along the bottom, tokens up the left, shared by the bars and the quota line."""
    x_axis = QBarCategoryAxis()
    x_axis.append(_labels(days))
    x_axis.setLabelsAngle(-90)  # upright, a label would be elided to one bar's width
    x_axis.setGridLineVisible(False)
    y_axis = QValueAxis()
    y_axis.setLabelFormat("%d")
    y_axis.setRange(0, _ceiling(top))
    y_axis.applyNiceNumbers()
    chart.addAxis(x_axis, Qt.AlignmentFlag.AlignBottom)
    chart.addAxis(y_axis, Qt.AlignmentFlag.AlignLeft)
    for one in series:
        one.attachAxis(x_axis)
        one.attachAxis(y_axis)


def _labels(days: DailyTokens) -> list[str]:
    """The date under each bar; with many days, only every few are labelled. Categories
    must differ, so an unlabelled day is that many zero-width spaces."""
    step = max(1, len(days.dates) // 15)
    return [
        d.strftime("%b %d") if n % step == 0 else "\u200b" * n for n, d in enumerate(days.dates)
    ]


def _quota_line(chart: QChart, count: int, quota: int) -> QLineSeries:
    line = QLineSeries()
    line.setName(f"Daily quota ({quota:,})")
    # Category n is centred on x = n, so the line spans the bars from edge to edge.
    line.append(-0.5, quota)
    line.append(max(count, 1) - 0.5, quota)
    chart.addSeries(line)
    return line


def _ceiling(value: int) -> float:
    """Headroom above the tallest bar or the quota line, so neither touches the top."""
    return max(10.0, value * 1.1)
