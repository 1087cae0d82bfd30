"""``python -m calstudy`` is the ``calstudy`` command."""

from calstudy.cli import main

raise SystemExit(main())
