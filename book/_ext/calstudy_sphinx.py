"""Sphinx fixes for the calstudy book, loaded through ``sphinx.local_extensions`` in _config.yml.

Four problems of rendering, not of content:

* sphinx-thebe adds its inline configuration script while documents are read; Sphinx 7.4 then
  lists it twice, and the second copy throws "Identifier 'THEBE_JS_URL' has already been
  declared" in the browser on every page. Repeated scripts are dropped.
* numpydoc docstrings cite with labels such as ``.. [1]``, local to one docstring; on the API
  page many docstrings share one document, where such labels collide and references to a label
  defined in another docstring dangle. Citations are rendered as plain text there.
* Sphinx loads MathJax from a CDN, so offline (a laptop, a classroom without internet) the
  maths shows as raw TeX. MathJax 3 is served with the book instead, from the files of the
  ``django-static-mathjax`` package (a dependency of the ``book`` extra): the combined TeX
  component, the TeX extensions it loads on demand, the CHTML fonts and the menu.
* The theme's launch buttons open ``book/executed/<chapter>.ipynb``, which git ignores, so
  Binder would open a missing file. Each chapter page gets a "run this chapter" line instead,
  linking its jupytext source ``notebooks/<chapter>.py`` on Binder (JupyterLab opens it as a
  notebook through jupytext), its committed ``.ipynb`` copy on Colab (which opens only
  ``.ipynb`` files), and naming the local command.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path
from typing import Any

# What the book needs of MathJax's es5 build (about 3 MB of its 24).
_MATHJAX_PARTS = ("tex-mml-chtml.js", "input/tex", "output/chtml", "ui", "a11y")
_MATHJAX_DIR = "_static/mathjax"

_DEFINITION = re.compile(r"^(\s*)\.\. \[([^\]#*]+)\]")
_REFERENCE = re.compile(r"\[([^\]\s#*]+)\]_")


def _drop_repeated_scripts(
    app: Any, pagename: str, templatename: str, context: dict, doctree: Any
) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    unique = []
    for script in scripts:
        key = (script.filename or "", tuple(sorted(script.attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


def _local_citations(
    app: Any, what: str, name: str, obj: Any, options: Any, lines: list[str]
) -> None:
    """Render numpydoc citations (``.. [1] ...`` and ``[1]_``) as plain text.

    Each docstring's labels are local to it, but the API page puts every docstring in one
    document, where footnote labels collide and references to another docstring's label dangle.
    The reference list under "References" stays readable as plain paragraphs.
    """
    definition_indent: int | None = None
    for i, line in enumerate(lines):
        definition = _DEFINITION.match(line)
        indent = len(line) - len(line.lstrip())
        if definition:
            definition_indent = len(definition.group(1))
            lines[i] = f"{definition.group(1)}[{definition.group(2)}]{line[definition.end() :]}"
        elif definition_indent is not None and line.strip() and indent > definition_indent:
            # Continuation lines join the paragraph instead of opening a block quote.
            lines[i] = " " * definition_indent + line.lstrip()
        else:
            definition_indent = None if line.strip() else definition_indent
            lines[i] = _REFERENCE.sub(lambda m: f"[{m.group(1)}]", line)


def mathjax_source() -> Path | None:
    """The es5 folder of the installed MathJax 3 files, or None when they are not installed."""
    spec = importlib.util.find_spec("mathjax")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        es5 = Path(location) / "static" / "mathjax" / "es5"
        if (es5 / _MATHJAX_PARTS[0]).is_file():
            return es5
    return None


def _serve_mathjax(app: Any, config: Any) -> None:
    if mathjax_source() is None:
        from sphinx.util import logging

        logging.getLogger(__name__).warning(
            "MathJax files not found (install calstudy[book]); the book loads MathJax from a CDN"
        )
        return
    config.mathjax_path = f"{_MATHJAX_DIR.removeprefix('_static/')}/{_MATHJAX_PARTS[0]}"


def _copy_mathjax(app: Any, exception: Exception | None) -> None:
    source = mathjax_source()
    if exception is not None or source is None or app.builder.format != "html":
        return
    target = Path(app.outdir) / _MATHJAX_DIR
    for part in _MATHJAX_PARTS:
        if (source / part).is_dir():
            shutil.copytree(source / part, target / part, dirs_exist_ok=True)
        else:
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / part, target / part)


def run_this_chapter(
    chapter: str, *, repo: str, branch: str = "main", binder: str = "", colab: str = ""
) -> str:
    """The "Run this chapter" line of a chapter page, as HTML.

    Binder opens the jupytext source ``notebooks/<chapter>.py`` in JupyterLab; Colab opens only
    ``.ipynb`` files on GitHub, so its link opens the committed copy
    ``notebooks/ipynb/<chapter>.ipynb`` (written by ``scripts/export_ipynb.py``). An empty
    ``binder`` or ``colab`` leaves that link out.

    >>> colab = "https://colab.research.google.com"
    >>> line = run_this_chapter("primer", repo="https://github.com/o/r", colab=colab)
    >>> f"{colab}/github/o/r/blob/main/notebooks/ipynb/primer.ipynb" in line
    True
    """
    slug = repo.rstrip("/").removeprefix("https://github.com/")
    links = []
    if binder:
        url = f"{binder.rstrip('/')}/v2/gh/{slug}/{branch}?urlpath=lab/tree/notebooks/{chapter}.py"
        links.append(f'<a href="{url}">on Binder</a>')
    if colab:
        url = f"{colab.rstrip('/')}/github/{slug}/blob/{branch}/notebooks/ipynb/{chapter}.ipynb"
        links.append(f'<a href="{url}">on Colab</a>')
    online = " or ".join(links) + ", or " if links else ""
    return (
        f'<p class="calstudy-run">Run this chapter: {online}locally with <code>calstudy book '
        f"run {chapter} -p NAME VALUE</code> (its parameters are listed in the first code "
        "cell).</p>\n"
    )


def _run_this_chapter(
    app: Any, pagename: str, templatename: str, context: dict, doctree: Any
) -> None:
    prefix = "book/executed/"
    options = app.config.html_theme_options or {}
    repo = options.get("repository_url", "")
    if not pagename.startswith(prefix) or "body" not in context or not repo:
        return
    line = run_this_chapter(
        pagename[len(prefix) :],
        repo=repo,
        branch=options.get("repository_branch", "main"),
        binder=app.config.calstudy_binder,
        colab=app.config.calstudy_colab,
    )
    context["body"] = line + context["body"]


def setup(app: Any) -> dict[str, Any]:
    app.add_config_value("calstudy_binder", "", "html")
    app.add_config_value("calstudy_colab", "", "html")
    app.connect("html-page-context", _run_this_chapter)
    app.connect("config-inited", _serve_mathjax)
    app.connect("build-finished", _copy_mathjax)
    app.connect("html-page-context", _drop_repeated_scripts)
    app.connect("autodoc-process-docstring", _local_citations)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
