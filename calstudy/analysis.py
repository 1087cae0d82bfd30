"""The statistics and the research questions' tables, under one name for the chapters.

``from calstudy import analysis`` then ``analysis.kendall_ci(...)``: every public name of the
modules below is re-exported here, so a chapter needs one import. Each concept lives in its own
module, where its documentation is:

- :mod:`calstudy.stats`: Kendall's τ-b, its intervals, τ against τ, multiple-comparison correction;
- :mod:`calstudy.differences`: differences with intervals (bootstrap, paired and two-sample
  tests, Wilson intervals, simulated differences);
- :mod:`calstudy.selection`: top-N and lowest-N rows, joins by key, τ on the selections;
- :mod:`calstudy.hcs`: the harmonic calibration score;
- :mod:`calstudy.trends`: trends, OLS tables, edge and operation effects;
- :mod:`calstudy.seednoise`: seed variance, ICCs, seed-noise thresholds, retest τ;
- :mod:`calstudy.questions`: one module per chapter (``transfer`` RQ i, ``robustness`` RQ ii,
  ``estimators`` RQ iii, ``posthoc`` RQ iv, ``accuracy`` RQ v, ``bins`` RQ vi, ``design``
  RQ vii, ``dataset``, ``seeds``) with its tables and its sentences, and the helpers they share
  (``groups``, ``verdicts``, ``versus_paper``).
"""

from __future__ import annotations

import importlib

from calstudy.differences import *  # noqa: F403
from calstudy.hcs import *  # noqa: F403
from calstudy.questions.accuracy import *  # noqa: F403
from calstudy.questions.bins import *  # noqa: F403
from calstudy.questions.dataset import *  # noqa: F403
from calstudy.questions.design import *  # noqa: F403
from calstudy.questions.estimators import *  # noqa: F403
from calstudy.questions.groups import *  # noqa: F403
from calstudy.questions.posthoc import *  # noqa: F403
from calstudy.questions.robustness import *  # noqa: F403
from calstudy.questions.seeds import *  # noqa: F403
from calstudy.questions.transfer import *  # noqa: F403
from calstudy.questions.verdicts import *  # noqa: F403
from calstudy.questions.versus_paper import *  # noqa: F403
from calstudy.seednoise import *  # noqa: F403
from calstudy.selection import *  # noqa: F403
from calstudy.stats import *  # noqa: F403
from calstudy.trends import *  # noqa: F403

#: The modules whose public names this facade re-exports, in import order.
_MODULES: tuple[str, ...] = (
    "stats",
    "differences",
    "selection",
    "hcs",
    "trends",
    "seednoise",
    "questions.groups",
    "questions.verdicts",
    "questions.versus_paper",
    "questions.dataset",
    "questions.transfer",
    "questions.robustness",
    "questions.estimators",
    "questions.posthoc",
    "questions.accuracy",
    "questions.bins",
    "questions.design",
    "questions.seeds",
)

__all__ = sorted({name for m in _MODULES for name in importlib.import_module(f"calstudy.{m}").__all__})
