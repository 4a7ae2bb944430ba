import base64
from datetime import date

import polars as pl

from flows.stance_chart import TOP, data_url, stance_chart_svg


def by_day(rows):
    return pl.DataFrame(rows, schema=["claim_id", "day", "net_support"], orient="row")


def test_one_day_draws_nothing():
    assert stance_chart_svg(by_day([("a", date(2026, 5, 1), 0.5), ("b", date(2026, 5, 1), -1.0)])) is None
    assert stance_chart_svg(by_day([])) is None


def test_a_line_per_claim_from_the_first_to_the_last_day():
    svg = stance_chart_svg(
        by_day(
            [
                ("dam-approved", date(2026, 5, 1), 1.0),
                ("dam-approved", date(2026, 5, 3), -1.0),
                ("strike-<ended>", date(2026, 5, 2), 0.0),
            ]
        )
    )
    assert svg.startswith("<svg") and svg.count("<polyline") == 2
    first_line = svg.split('<polyline points="')[1].split('"')[0].split()
    assert [float(p.split(",")[1]) for p in first_line] == [TOP, TOP + (260 - TOP - 36)]  # +1 at the top, -1 below
    assert "2026-05-01" in svg and "2026-05-03" in svg and "strike-&lt;ended&gt;" in svg
    assert base64.b64decode(data_url(svg).removeprefix("data:image/svg+xml;base64,")).decode() == svg
