"""Suite-wide settings.

Hypothesis runs derandomized by default (profile ``ci``), so a CI run is repeatable: the
same examples every time. Set ``HYPOTHESIS_PROFILE=explore`` for fresh random examples
(200 per property unless a test sets its own) when hunting for new edge cases.
"""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None)
settings.register_profile("explore", max_examples=200)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
