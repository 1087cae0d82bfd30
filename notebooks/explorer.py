# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Architecture explorer
#
# Every network of the calibration dataset as one point: hover a point to see its architecture,
# accuracy and calibration before and after temperature scaling; drag to zoom, double-click to
# reset, click a legend entry to hide a search space. The page needs no server and no network:
# the plotting library is embedded in it.
#
# **Prerequisites:** the {doc}`dataset chapter <dataset>` (what one row is).

# %% tags=["parameters"]
store = "data/demo"  # calibration store to explore
spaces = []  # search spaces shown; empty list: every space in the store
datasets = []  # datasets shown; empty list: every dataset in the store
x = "acc"  # column on the horizontal axis
y = "pre_ECE_15"  # column on the vertical axis
color = "space"  # column that colours the points
facet = "dataset"  # one panel per value of this column ("" for a single panel)
max_points = 20_000  # larger stores are shown as a random sample of this many networks
seed = 0  # seed of that sample

# %%
from IPython.display import HTML, display

from calstudy import chapter, plots, report

df = chapter.load_study(store, space=spaces or None, datasets=datasets or None)
chosen, notes = plots.explorer_columns(df, x=x, y=y, color=color, facet=facet)
shown = df.sample(max_points, random_state=seed) if len(df) > max_points else df
hover = [c for c in ("arch", "acc", "pre_ECE_15", "post_ECE_15", "temperature")
         if shown[c].notna().any()]  # fmt: skip
report.md(
    f"{report.plural(len(df), 'network')}: "
    + report.join(f"{s} × {d}: {n:,}" for (s, d), n in df.groupby(["space", "dataset"]).size().items())
    + "." + (f" Shown: a random sample of {len(shown):,} (`max_points`)." if len(shown) < len(df)
             else ""),
    *notes,
)  # fmt: skip

# %%
display(HTML(plots.explorer_html(shown, **chosen, hover=hover)))

# %% [markdown]
# The same view for the calibration after temperature scaling, where the store has it: points
# that move down the most are the networks temperature scaling helps most ({doc}`rq4_posthoc`).

# %%
if shown["post_ECE_15"].notna().any() and chosen["y"] != "post_ECE_15":
    display(HTML(plots.explorer_html(shown, **{**chosen, "y": "post_ECE_15"}, hover=hover,
                                     include_plotlyjs=False)))  # fmt: skip
else:
    display(report.md("No second view: the first one already shows `post_ECE_15`, or this store "
                      "does not fill it."))  # fmt: skip

# %%
# What must hold for any store.
assert len(df) >= 1 and len(shown) == min(len(df), max_points)
assert all(shown[c].notna().any() for c in chosen.values() if c)
