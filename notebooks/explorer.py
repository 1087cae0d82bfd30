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
# :::{admonition} This chapter in one box
# :class: tip
# ```{glue:md} explorer-answer
# :format: myst
# ```
# :::
#
# Every network of the calibration dataset as one point, in a picture you steer: the two axes
# and the colour are yours to choose among the store's accuracy, calibration and robustness
# columns. The page needs no server and no network: the data and a few lines of JavaScript are
# embedded in it, so it works offline and in the static book.
#
# **Prerequisites:** the {doc}`dataset chapter <dataset>` (what one row is).

# %% tags=["parameters"]
store = "data/demo"  # calibration store to explore
spaces = []  # search spaces shown; empty list: every space in the store
datasets = []  # datasets shown; empty list: every dataset in the store
x = "acc"  # column on the horizontal axis when the page opens
y = "pre_ECE_15"  # column on the vertical axis when the page opens
color = "space"  # what colours the points when the page opens: space, dataset or a column
columns = []  # columns offered on the axes and the colour; empty list: the default set
max_points = 20_000  # larger stores are shown as a random sample of this many networks
seed = 0  # seed of that sample

# %%
from IPython.display import HTML, display

from calstudy import chapter, explore, report

df = chapter.load_study(store, space=spaces or None, datasets=datasets or None)
payload = explore.build_payload(df, columns=columns, x=x, y=y, color=color,
                                max_points=max_points, seed=seed)  # fmt: skip
report.glue_md("explorer-answer", explore.intro(df, payload))
if payload["notes"]:  # a sample, or a choice this store cannot fill
    display(report.md(*payload["notes"]))

# %% mystnb={"figure": {"caption": "The networks of the store, one point each. Controls: the horizontal and vertical axes, the colour (search space, dataset or any offered column), a filter to one search space or dataset, and a search box that rings the networks whose architecture string contains every word typed and lists them with their values. Hover a point for its architecture and values; click it for its whole row.", "name": "fig-explorer"}, "image": {"alt": "Interactive scatter plot of the store's networks with axis, colour, subset and architecture-search controls."}}
display(HTML(explore.render_html(payload)))

# %% [markdown]
# **Reading the picture.** Each axis and the colour bar span the values of the networks drawn;
# accuracies and the ECE-type estimators are in percent, and a positive column that spans two
# decades or more (such as the parameter count) is drawn on a log axis. To keep the page small
# it holds each value to within 1/8,188 of its column's range, finer than a pixel of the plot
# (the store keeps the exact values). Two places to begin: put accuracy against an
# ECE column and colour by dataset to see how much of calibration is the dataset
# ({doc}`rq5_accuracy`); put ECE before scaling against ECE after it to see which networks
# temperature scaling helps most ({doc}`rq4_posthoc`).

# %%
# What must hold for any store.
assert payload["n"] == min(len(df), max_points) and payload["total"] == len(df)
assert {payload["start"]["x"], payload["start"]["y"]} <= {n["column"] for n in payload["numbers"]}
assert explore.payload_bytes(payload) < 5_000_000
