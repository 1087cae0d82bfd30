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
x = "acc"  # column on the horizontal axis
y = "pre_ECE_15"  # column on the vertical axis
color = "space"  # column that colours the points
facet = "dataset"  # one panel per value of this column ("" for a single panel)

# %%
from IPython.display import HTML, display

from calstudy import chapter, plots

df = chapter.load_study(
    store, metrics=[name for name in (x, y) if name.startswith(("pre_", "post_"))]
)
for name in (x, y, color, facet):
    if name and name not in df.columns:
        raise ValueError(f"Unknown column {name!r}; the store has e.g. {sorted(df.columns)[:12]}.")
print(
    f"{len(df)} networks: "
    + ", ".join(
        f"{space} × {dataset}: {n}"
        for (space, dataset), n in df.groupby(["space", "dataset"]).size().items()
    )
)

# %%
html = plots.explorer_html(df, x=x, y=y, color=color, facet=facet or None)
display(HTML(html))

# %% [markdown]
# The same view for the calibration after temperature scaling: points that move down the most
# are the networks temperature scaling helps most ({doc}`rq4_posthoc`).

# %%
if "post_ECE_15" in df.columns and y != "post_ECE_15":
    display(
        HTML(
            plots.explorer_html(
                df, x=x, y="post_ECE_15", color=color, facet=facet or None, include_plotlyjs=False
            )
        )
    )

# %%
assert len(df) >= 1 and df[y].between(0, float("inf")).all()
