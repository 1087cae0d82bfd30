"""One module per chapter of the book: its tables and, in an "in words" part, its sentences.

``transfer`` (RQ i), ``robustness`` (RQ ii), ``estimators`` (RQ iii), ``posthoc`` (RQ iv),
``accuracy`` (RQ v), ``bins`` (RQ vi), ``design`` (RQ vii), ``dataset`` (the dataset chapter),
``seeds`` (the seed-noise chapter); ``groups``, ``verdicts`` and ``versus_paper`` hold what
several chapters share. The statistics they call are in :mod:`calstudy.stats`,
:mod:`calstudy.differences`, :mod:`calstudy.selection`, :mod:`calstudy.trends`,
:mod:`calstudy.hcs` and :mod:`calstudy.seednoise`.
"""
