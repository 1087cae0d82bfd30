"""Sphinx fixes for the calstudy book, loaded through ``sphinx.local_extensions`` in _config.yml.

Two problems of rendering, not of content:

* sphinx-thebe adds its inline configuration script while documents are read; Sphinx 7.4 then
  lists it twice, and the second copy throws "Identifier 'THEBE_JS_URL' has already been
  declared" in the browser on every page. Repeated scripts are dropped.
* numpydoc docstrings cite with labels such as ``.. [1]``, local to one docstring; on the API
  page many docstrings share one document, where such labels collide and references to a label
  defined in another docstring dangle. Citations are rendered as plain text there.
"""

from __future__ import annotations

import re
from typing import Any

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


def setup(app: Any) -> dict[str, Any]:
    app.connect("html-page-context", _drop_repeated_scripts)
    app.connect("autodoc-process-docstring", _local_citations)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
