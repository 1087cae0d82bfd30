"""The interactive explorer (calstudy.explore): its payload, its page, and the chapter.

The payload tests check what the page is given: the sample, the offered columns, values that
decode to within half a quantisation level, architecture strings that decode exactly, and a
size that keeps a paper-size store under 5 MB. The browser test moves every control of the page
in headless Chromium with the network blocked and checks that the picture follows. The chapter
tests execute it on the demo store and on a store in the paper's released format.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from calstudy import book, explore, htmlcheck, paper, space

BROWSER_MISSING = htmlcheck.browser_unavailable()
needs_browser = pytest.mark.skipif(BROWSER_MISSING is not None, reason=str(BROWSER_MISSING))
MAX_BYTES = 5_000_000  # what the explorer may add to the book (issue 15, item 7)


def _store_like(n: int, *, seed: int = 0) -> pd.DataFrame:
    """Rows shaped like a store's: TSS and SSS strings, two datasets, bounded and heavy-tailed
    columns, one column with gaps and one never filled."""
    rng = np.random.default_rng(seed)
    tss = space.sample_archs("tss", n // 2, seed=seed, unique=False)  # up to 15,625
    sss = space.sample_archs("sss", n - n // 2, seed=seed)
    acc = rng.uniform(0.1, 0.95, n)
    ece = rng.gamma(2.0, 0.02, n)
    return pd.DataFrame({
        "space": ["tss"] * len(tss) + ["sss"] * len(sss),
        "arch": list(tss) + list(sss),
        "dataset": rng.choice(["cifar10", "cifar100"], n),
        "seed": 0,
        "acc": acc,
        "pre_ECE_15": ece,
        "post_ECE_15": np.where(rng.random(n) < 0.1, np.nan, ece / 3),
        "pre_NLL": rng.uniform(0.2, 3.0, n),
        "n_params": rng.integers(10_000, 5_000_000, n),
        "temperature": np.nan,
    })  # fmt: skip


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    return _store_like(400)


@pytest.fixture(scope="module")
def payload(rows: pd.DataFrame) -> dict:
    return explore.build_payload(rows)


# ---------------------------------------------------------------------------------------------
# The payload
# ---------------------------------------------------------------------------------------------


def test_offered_columns_are_the_filled_numeric_ones(rows: pd.DataFrame) -> None:
    offered, notes = explore.offered_columns(rows)
    assert offered == ["acc", "pre_ECE_15", "post_ECE_15", "pre_NLL", "n_params"]
    assert notes == []
    chosen, notes = explore.offered_columns(rows, ["pre_NLL", "temperature", "acc"])
    assert chosen == ["pre_NLL", "acc"]
    assert notes == [
        "`temperature` (temperature) holds no number in this store; it is not offered."
    ]
    with pytest.raises(ValueError, match=r"Expected `columns` to name columns .*\['pre_ECE_99'\]"):
        explore.offered_columns(rows, ["acc", "pre_ECE_99"])


def test_values_decode_to_within_half_a_level(rows: pd.DataFrame, payload: dict) -> None:
    shown = rows.iloc[payload["positions"]].reset_index(drop=True)
    decoded = explore.decode(payload)
    assert decoded["arch"].tolist() == shown["arch"].tolist()  # exact, from the vocabulary
    assert decoded["space"].tolist() == shown["space"].tolist()
    assert decoded["dataset"].tolist() == shown["dataset"].tolist()
    for number in payload["numbers"]:
        column = number["column"]
        truth = shown[column].to_numpy(float)
        got = decoded[column].to_numpy(float)
        assert (np.isnan(got) == np.isnan(truth)).all(), column
        ok = ~np.isnan(truth)
        if number["log"]:
            step = (number["hi"] - number["lo"]) / (explore.LEVELS - 1)
            assert np.abs(np.log10(got[ok]) - np.log10(truth[ok])).max() <= step / 2 + 1e-12
        else:
            step = (truth[ok].max() - truth[ok].min()) / (explore.LEVELS - 1)
            assert np.abs(got[ok] - truth[ok]).max() <= step / 2 + 1e-12, column


def test_units_and_scales_follow_the_column(payload: dict) -> None:
    by_column = {n["column"]: n for n in payload["numbers"]}
    assert by_column["acc"]["percent"] and by_column["pre_ECE_15"]["percent"]
    assert not by_column["pre_NLL"]["percent"] and not by_column["n_params"]["percent"]
    assert by_column["n_params"]["log"]  # 10k–5M: two decades and more
    assert not by_column["acc"]["log"] and not by_column["pre_NLL"]["log"]
    assert by_column["pre_ECE_15"]["name"] == "ECE, 15 bins, before scaling"  # the catalogue's
    assert [c["column"] for c in payload["categories"]] == ["space", "dataset"]  # one seed: no seed


def test_large_frames_are_sampled_reproducibly(rows: pd.DataFrame) -> None:
    a = explore.build_payload(rows, max_points=50, seed=3)
    assert a["n"] == 50 and a["total"] == len(rows) and len(set(a["positions"])) == 50
    assert a["notes"][0].startswith("The page shows a random sample of 50 of the store's 400")
    assert explore.build_payload(rows, max_points=50, seed=3)["positions"] == a["positions"]
    assert explore.build_payload(rows, max_points=50, seed=4)["positions"] != a["positions"]
    assert sorted(explore.build_payload(rows)["positions"]) == list(range(len(rows)))


def test_unfilled_choices_fall_back_with_a_note(rows: pd.DataFrame) -> None:
    p = explore.build_payload(rows, x="temperature", y="pre_NLL", color="dataset")
    assert p["start"] == {"x": "acc", "y": "pre_NLL", "color": "dataset"}
    assert p["notes"] == ['`x = "temperature"` is not a column this page offers for this store; '
                          "it opens with accuracy (`acc`) instead."]  # fmt: skip
    q = explore.build_payload(rows, columns=["pre_NLL"], y="pre_ECE_15")
    assert q["start"]["x"] == q["start"]["y"] == "pre_NLL"  # the only column offered


def test_bad_inputs_are_named(rows: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="Expected `max_points` to be a positive integer"):
        explore.build_payload(rows, max_points=0)
    with pytest.raises(ValueError, match=r"Expected `df` to have columns \['arch'\]"):
        explore.build_payload(rows.drop(columns="arch"))
    with pytest.raises(ValueError, match="Expected at least one row"):
        explore.build_payload(rows.iloc[:0])
    with pytest.raises(ValueError, match="Expected `df` to fill one of the columns"):
        explore.build_payload(rows[["space", "arch", "dataset", "temperature"]])
    with pytest.raises(ValueError, match="Expected `payload` from build_payload"):
        explore.render_html({"n": 1})


def test_a_paper_size_sample_stays_under_five_megabytes() -> None:
    """20,000 networks with every default column filled: the page's worst case."""
    rng = np.random.default_rng(1)
    big = _store_like(20_000, seed=1)
    for column in explore.DEFAULT_COLUMNS:
        if column not in big.columns or column == "temperature":
            big[column] = rng.uniform(0.0, 1.0, len(big))
    p = explore.build_payload(big)
    assert len(p["numbers"]) == len(explore.DEFAULT_COLUMNS)
    size = explore.payload_bytes(p)
    assert size < MAX_BYTES, size
    page = explore.render_html(p)
    assert len(page.encode()) < size + 60_000  # the controls and the script are small
    rounded = big[[n["column"] for n in p["numbers"]] + ["arch"]].round(4).to_json(orient="split")
    assert size < len(rounded) / 2  # what the packing is for


def test_the_explorer_needs_no_torch_and_no_plotting_library() -> None:
    script = (
        "import sys\n"
        "class Blocked:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('torch', 'plotly', 'matplotlib'):\n"
        "            raise ImportError(name)\n"
        "sys.meta_path.insert(0, Blocked())\n"
        "import pandas as pd\n"
        "from calstudy import explore\n"
        "rows = pd.DataFrame({'arch': ['a', 'b'], 'space': 'tss', 'dataset': 'c', 'acc': [.5, .6]})\n"
        "assert 'canvas' in explore.render_html(explore.build_payload(rows))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]


# ---------------------------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------------------------


def _embedded(page: str) -> dict:
    match = re.search(r'<script type="application/json">(.*?)</script>', page, re.S)
    assert match is not None
    return json.loads(match.group(1).replace("<\\/", "</"))


def test_page_is_self_contained_and_reproducible(rows: pd.DataFrame, payload: dict) -> None:
    page = explore.render_html(payload)
    assert page == explore.render_html(explore.build_payload(rows))  # id derived from the data
    assert not re.search(r'(?:src|href)\s*=\s*"(?:https?:)?//', page)  # nothing fetched
    assert page.count("<script") == 2 and "<canvas" in page and 'aria-live="polite"' in page
    data = _embedded(page)
    assert "notes" not in data and "positions" not in data
    assert data["numbers"] == payload["numbers"]
    for name in ("x", "y", "color", "subset", "search"):
        assert f'name="{name}"' in page, name
    assert '<option value="acc" selected>accuracy (%)</option>' in page
    assert '<option value="pre_ECE_15" selected>ECE, 15 bins, before scaling (%)</option>' in page
    assert '<option value="n_params">parameters (log scale)</option>' in page
    assert '<option value="dataset=cifar100">dataset: cifar100</option>' in page


def test_page_escapes_what_it_embeds(rows: pd.DataFrame) -> None:
    odd = rows.head(5).assign(arch=["</script><b>x</b>", "a|b", "a|b", "c", "d"])
    page = explore.render_html(explore.build_payload(odd))
    assert page.count("</script>") == 2  # the JSON cannot close its script element
    assert sorted(explore.decode(_embedded(page))["arch"]) == sorted(odd["arch"])
    assert 'id="my&quot;id"' in explore.render_html(explore.build_payload(odd), element_id='my"id')


def test_intro_names_a_network_the_page_draws(rows: pd.DataFrame) -> None:
    p = explore.build_payload(rows, max_points=40, y="pre_NLL")
    text = explore.intro(rows, p)
    shown = rows.iloc[p["positions"]]
    best = shown.loc[shown["pre_NLL"].idxmin()]
    assert f"`{best['arch']}` ({best['space']}, {best['dataset']})" in text
    assert f"{best['pre_NLL']:.4g}" in text and "400 networks" in text and "40 of them" in text
    assert rows["pre_NLL"].min() <= best["pre_NLL"]


@needs_browser
def test_controls_redraw_the_picture_offline(rows: pd.DataFrame, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    p = explore.build_payload(rows)
    decoded = explore.decode(p)
    page_file = tmp_path / "explorer.html"
    page_file.write_text("<!doctype html><meta charset='utf-8'><body style='width:800px'>"
                         f"{explore.render_html(p)}</body>", "utf-8")  # fmt: skip
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=htmlcheck.DEFAULT_BROWSER,
                                     args=list(htmlcheck.CHROMIUM_ARGS))  # fmt: skip
        page = browser.new_page(viewport={"width": 900, "height": 1000})
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
                   else (problems.append(route.request.url), route.abort()))  # fmt: skip
        page.goto(page_file.as_uri())

        def picture() -> str:
            return page.eval_on_selector("canvas", "c => c.toDataURL()")

        summary = page.inner_text("p.summary")
        assert summary.startswith(f"{len(rows)} networks drawn; horizontal: accuracy (%)")
        assert page.text_content("text.xlabel") == "accuracy (%)"
        assert page.locator(".legend .item").count() == 2  # tss, sss
        first = picture()

        page.select_option("select[name=x]", "n_params")
        assert page.text_content("text.xlabel") == "parameters (log scale)"
        second = picture()
        assert second != first
        page.select_option("select[name=y]", "post_ECE_15")  # has gaps: fewer points
        n_post = int(decoded["post_ECE_15"].notna().sum())
        assert page.inner_text("p.summary").startswith(f"{n_post} networks drawn")
        assert page.text_content("text.ylabel") == "ECE, 15 bins, after scaling (%)"
        page.select_option("select[name=color]", "acc")
        assert "linear-gradient" in page.inner_html(".legend")
        third = picture()
        assert third != second
        page.select_option("select[name=subset]", "dataset=cifar10")
        n_subset = int((decoded["post_ECE_15"].notna() & (decoded["dataset"] == "cifar10")).sum())
        assert page.inner_text("p.summary").startswith(
            f"{n_subset} networks drawn, dataset cifar10"
        )
        page.select_option("select[name=subset]", "")
        page.select_option("select[name=y]", "pre_ECE_15")

        query = "nor_conv_3x3~0 skip_connect"
        page.fill("input[name=search]", query)
        hits = decoded[decoded["arch"].map(lambda a: all(t in a for t in query.split()))]
        assert len(hits) > 1
        assert f"{len(hits)} networks match “{query}”" in page.inner_text("p.summary")
        assert page.locator("circle.match").count() == len(hits)
        assert picture() != third
        listed = page.locator(".matches tr td:first-child").all_inner_texts()
        assert listed == hits["arch"].head(10).tolist()

        ring = page.locator("circle.match").first.bounding_box()
        assert ring is not None
        row = int(page.get_attribute("circle.match >> nth=0", "data-row"))
        page.mouse.move(ring["x"] + ring["width"] / 2, ring["y"] + ring["height"] / 2)
        tip = page.inner_text(".tip")
        assert page.is_visible(".tip") and decoded["arch"].iloc[row] in tip
        page.mouse.click(ring["x"] + ring["width"] / 2, ring["y"] + ring["height"] / 2)
        assert decoded["arch"].iloc[row] in page.inner_text(".row caption")
        cells = dict(zip(page.locator(".row th").all_inner_texts(),
                         page.locator(".row td").all_inner_texts(), strict=True))  # fmt: skip
        assert cells["accuracy (%)"] == f"{100 * decoded['acc'].iloc[row]:.3g} %"
        assert page.locator("circle.selected").count() == 1

        page.fill("input[name=search]", "no-such-architecture")
        assert "0 networks match" in page.inner_text("p.summary")
        assert page.locator("circle.match").count() == 0
        browser.close()
    assert problems == []


# ---------------------------------------------------------------------------------------------
# The chapter, on the demo store and on a store in the paper's released format
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def paper_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("paper-format")
    paper.write_release_sample(root / "csv", n_tss=60, n_sss=40, seed=0)
    subprocess.run([sys.executable, "-m", "calstudy", "dataset", "import-paper", str(root / "csv"),
                    "--out", str(root / "store")], check=True, capture_output=True)  # fmt: skip
    return root / "store"


def _outputs(notebook: dict) -> list[tuple[dict, dict]]:
    return [(cell, o) for cell in notebook["cells"] if cell["cell_type"] == "code"
            for o in cell.get("outputs", [])]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("which", ["demo", "paper-format"])
def test_chapter_runs_on_any_store(which: str, paper_store: Path, tmp_path: Path) -> None:
    parameters = {"max_points": 150} if which == "demo" else {"store": str(paper_store)}
    output = book.execute_chapter("explorer", parameters=parameters, output=tmp_path / "x.ipynb")
    notebook = json.loads(output.read_text(encoding="utf-8"))
    outputs = _outputs(notebook)
    assert not [o for _, o in outputs if o["output_type"] == "error"]
    title = "".join(notebook["cells"][0]["source"])
    assert ":::{admonition}" in title and "```{glue:md} explorer-answer" in title
    glued = [o for _, o in outputs
             if o.get("metadata", {}).get("scrapbook", {}).get("name") == "explorer-answer"]  # fmt: skip
    assert len(glued) == 1
    intro = glued[0]["data"]["application/papermill.record/text/markdown"]
    assert intro.startswith("**What this page holds.**") and "**A place to start.**" in intro
    pages = [(cell, "".join(o["data"]["text/html"])) for cell, o in outputs
             if "calstudy-explorer" in "".join(o.get("data", {}).get("text/html", ""))]  # fmt: skip
    assert len(pages) == 1
    cell, page = pages[0]
    figure = cell["metadata"]["mystnb"]["figure"]
    assert figure["name"] == "fig-explorer" and len(figure["caption"]) > 100
    assert len(cell["metadata"]["mystnb"]["image"]["alt"]) > 40
    data = _embedded(page)
    # demo: 340 rows, 150 drawn; paper format: (60 TSS + 40 SSS) × 3 datasets, all drawn
    assert (data["total"], data["n"]) == ((340, 150) if which == "demo" else (300, 300))
    assert len(page.encode()) < MAX_BYTES
    start = intro.split("**A place to start.**")[1]
    arch = re.search(r"`([^`]+)`", start).group(1)
    assert arch in explore.decode(data)["arch"].tolist()  # the network it names is on the page
