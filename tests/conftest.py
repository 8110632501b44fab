"""Test support comes from orrery's own pytest plugin (``orrery.testing``).

Installing orrery registers it: ``async def`` tests run under trio, and
``@pytest.mark.autojump`` gives a test virtual time (trio's MockClock).
The ``pytester`` fixture lets tests run small user projects through the plugin.
"""

from __future__ import annotations

pytest_plugins = ["pytester"]
