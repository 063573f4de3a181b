"""Only hypothesis's warning about the random module is silenced where we draw (the driver's threads cause it)."""

from __future__ import annotations

import warnings

from hypothesis.errors import HypothesisDeprecationWarning

from harness.fuzz.quiet import driver_random_ignored

RANDOM_MODULE = "Do not use the `random` module inside strategies; instead consider `st.randoms()`"


def test_only_the_random_module_warning_is_silenced_and_only_inside():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with driver_random_ignored():
            warnings.warn(RANDOM_MODULE, HypothesisDeprecationWarning, stacklevel=1)
            warnings.warn("another deprecation", HypothesisDeprecationWarning, stacklevel=1)
            warnings.warn(RANDOM_MODULE, UserWarning, stacklevel=1)
        warnings.warn(RANDOM_MODULE, HypothesisDeprecationWarning, stacklevel=1)
    assert [(w.category, str(w.message)) for w in caught] == [
        (HypothesisDeprecationWarning, "another deprecation"),
        (UserWarning, RANDOM_MODULE),
        (HypothesisDeprecationWarning, RANDOM_MODULE),
    ]
