"""The one error type that the build reports as a message, not a traceback."""

from __future__ import annotations


class BuildError(Exception):
    """A problem the user can fix (bad config, corrupt dataset, missing tool, network too big):
    the message names it and the fix. Each step raises a subclass of it; the doit glue prints
    the message and fails the task without a traceback."""
