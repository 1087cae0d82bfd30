"""Sphinx fixes for the calstudy book, loaded through ``sphinx.local_extensions`` in _config.yml.

Two problems of rendering, not of content:

* sphinx-thebe adds its inline configuration script while documents are read; Sphinx 7.4 then
  lists it twice, and the second copy throws "Identifier 'THEBE_JS_URL' has already been
  declared" in the browser on every page. Repeated scripts are dropped.
* numpydoc docstrings cite with labels such as ``.. [1]``, local to one docstring; on the API
  page many docstrings share one document, where such labels collide and references to a label
  defined in another docstring dangle. Labels become auto-numbered footnotes unique to their
  docstring, and a reference to a label the docstring does not define is rendered as plain text.
"""

from __future__ import annotations

import re
from typing import Any

_DEFINITION = re.compile(r"^(\s*)\.\. \[([^\]#*]+)\]")
_REFERENCE = re.compile(r"\[([^\]\s#*]+)\]_")


def _drop_repeated_scripts(app: Any, pagename: str, templatename: str, context: dict,
                           doctree: Any) -> None:
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


def _local_citations(app: Any, what: str, name: str, obj: Any, options: Any,
                     lines: list[str]) -> None:
    defined = {m.group(2) for line in lines if (m := _DEFINITION.match(line))}
    if not defined and not any(_REFERENCE.search(line) for line in lines):
        return
    prefix = re.sub(r"\W", "-", name)

    def reference(match: re.Match[str]) -> str:
        label = match.group(1)
        return f"[#{prefix}-{label}]_" if label in defined else f"[{label}]"

    for i, line in enumerate(lines):
        definition = _DEFINITION.match(line)
        if definition:
            indent, label = definition.groups()
            lines[i] = f"{indent}.. [#{prefix}-{label}]{line[definition.end():]}"
        else:
            lines[i] = _REFERENCE.sub(reference, line)


def setup(app: Any) -> dict[str, Any]:
    app.connect("html-page-context", _drop_repeated_scripts)
    app.connect("autodoc-process-docstring", _local_citations)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
