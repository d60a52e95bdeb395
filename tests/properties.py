"""Hypothesis settings and strategies for the property tests (tests/test_properties_*.py).

Profiles: `default` runs a modest number of examples so the suite stays quick; set
HYPOTHESIS_PROFILE=thorough for many more (before a release, or after changing a parser, the
callback or the state codec):

    HYPOTHESIS_PROFILE=thorough .venv/bin/pytest -q tests/test_properties_*.py

A failing example is kept in .hypothesis/ and tried first on the next run; one worth keeping
becomes a regression test in tests/regressions/.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# No deadline: the machines running the suite are shared, and a slow example is not a wrong one.
settings.register_profile("default", max_examples=60, deadline=None)
settings.register_profile("thorough", max_examples=2000, deadline=None)
# Through the HTTP app each example is a request: fewer of them, and the app fixture is per test
# on purpose (one app serves all of the test's examples).
HTTP = {"suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]}
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def examples(default: int) -> int:
    """`default` examples in the default profile, the profile's count otherwise."""
    return default if os.environ.get("HYPOTHESIS_PROFILE", "default") == "default" else settings().max_examples


# What a resident may type: any text, weighted towards the characters the parsers look at.
TYPED = st.one_of(
    st.text(),
    st.text(alphabet=st.sampled_from("0123456789０１２３４５６７８９Xx -—/.年月日号+86　·")),
    st.text(alphabet=st.characters(codec="utf-8")),
)
# XML 1.0's characters, less CR: a parser reads CR and CRLF as LF, so they would not come back as sent.
XML_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", blacklist_characters="\r", blacklist_categories=("Cs",)).filter(
        lambda c: c in "\t\n" or (ord(c) >= 0x20 and c not in "\ufffe\uffff")
    ),
    min_size=1,
    max_size=60,
)
