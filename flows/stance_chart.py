"""Stance over time per claim as a small SVG line chart, for the run's page in the Prefect UI (an image artifact)."""

import base64
from html import escape

import polars as pl

from stancewire.store import Store

WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 640, 260, 44, 210, 16, 36
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2")


def stance_by_day(store: Store) -> pl.DataFrame:
    """Per enabled claim and UTC day: net support, (supporting − refuting) / scored articles, in [-1, 1]."""
    return store.query(
        """
        SELECT claim_id, day, (sum(n_support) - sum(n_refute)) / sum(n_articles) AS net_support
        FROM v_claim_support_by_source_day JOIN claims USING (claim_id)
        WHERE enabled GROUP BY ALL ORDER BY claim_id, day
        """
    )


def stance_chart_svg(by_day: pl.DataFrame) -> str | None:
    """One line per claim over the days the data spans; None when it spans fewer than two days (nothing to draw)."""
    days = sorted(by_day["day"].unique().to_list()) if by_day.height else []
    if len(days) < 2:
        return None
    first, span = days[0], (days[-1] - days[0]).days
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(day) -> float:
        return LEFT + plot_w * (day - first).days / span

    def y(value: float) -> float:
        return TOP + plot_h * (1 - value) / 2

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" font-family="sans-serif" '
        'font-size="11"><rect width="100%" height="100%" fill="white"/>',
        *(
            f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(v)}" y2="{y(v)}" stroke="#ccc"/>'
            f'<text x="{LEFT - 4}" y="{y(v) + 4}" text-anchor="end">{label}</text>'
            for v, label in ((1, "+1 support"), (0, "0"), (-1, "-1 refute"))
        ),
        f'<text x="{LEFT}" y="{HEIGHT - 8}">{first}</text>',
        f'<text x="{LEFT + plot_w}" y="{HEIGHT - 8}" text-anchor="end">{days[-1]}</text>',
    ]
    for i, (claim, rows) in enumerate(by_day.group_by("claim_id", maintain_order=True)):
        colour = COLOURS[i % len(COLOURS)]
        points = [(f"{x(d):.1f}", f"{y(v):.1f}") for d, v in zip(rows["day"], rows["net_support"], strict=True)]
        polyline = " ".join(f"{px},{py}" for px, py in points)
        parts.append(f'<polyline points="{polyline}" fill="none" stroke="{colour}" stroke-width="2"/>')
        parts += [f'<circle cx="{px}" cy="{py}" r="2.5" fill="{colour}"/>' for px, py in points]
        legend_y = TOP + 14 * i + 4
        parts.append(f'<rect x="{WIDTH - RIGHT + 12}" y="{legend_y - 8}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{WIDTH - RIGHT + 26}" y="{legend_y + 1}">{escape(str(claim[0]))[:28]}</text>')
    return "\n".join([*parts, "</svg>"])


def data_url(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
