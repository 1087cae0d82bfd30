"""Tests of `calstudy.plots.explorer_columns`, the plotly explorer's column choice.

The explorer chapter now uses `calstudy.explore`, tested in test_explore.py.
"""

from __future__ import annotations

import pandas as pd
import pytest

from calstudy import plots


@pytest.fixture
def rows() -> pd.DataFrame:
    """A paper-like store: no temperature, device or post-hoc columns filled."""
    return pd.DataFrame({
        "space": ["tss", "sss"], "dataset": ["cifar10", "cifar100"], "acc": [0.9, 0.8],
        "pre_ECE_15": [0.03, 0.05], "post_ECE_15": [0.01, 0.02],
        "temperature": [None, None], "device": [None, None],
    })  # fmt: skip


def test_requested_columns_that_are_filled_are_kept(rows: pd.DataFrame) -> None:
    chosen, notes = plots.explorer_columns(
        rows, x="pre_ECE_15", y="post_ECE_15", color="dataset", facet="space"
    )
    assert chosen == {"x": "pre_ECE_15", "y": "post_ECE_15", "color": "dataset", "facet": "space"}
    assert notes == []
    assert plots.explorer_columns(rows, facet="")[0]["facet"] is None


def test_unfilled_or_unknown_columns_fall_back_with_a_note(rows: pd.DataFrame) -> None:
    chosen, notes = plots.explorer_columns(
        rows, x="no_such_column", y="temperature", color="device", facet="seed"
    )
    assert chosen == {"x": "acc", "y": "pre_ECE_15", "color": "space", "facet": "dataset"}
    assert len(notes) == 4
    assert notes[1] == '`y = "temperature"` is not a column this store fills; `pre_ECE_15` is shown instead.'


def test_fallbacks_in_order(rows: pd.DataFrame) -> None:
    few = rows.drop(columns=["pre_ECE_15", "dataset"])
    chosen, notes = plots.explorer_columns(few, y="temperature", facet="dataset")
    assert chosen["y"] == "post_ECE_15" and chosen["facet"] is None
    assert notes[-1].endswith("one panel is shown.")
    with pytest.raises(ValueError, match="Expected roles"):
        plots.explorer_columns(rows, size="acc")
    with pytest.raises(ValueError, match="to fill one of"):
        plots.explorer_columns(rows[["pre_ECE_15"]], x="acc")


def test_the_chosen_columns_draw(rows: pd.DataFrame) -> None:
    pytest.importorskip("plotly")
    chosen, _ = plots.explorer_columns(rows, y="temperature")
    html = plots.explorer_html(rows, **chosen, hover=["acc"], include_plotlyjs=False)
    assert "pre_ECE_15" in html
