"""The one error a user can fix, at the ground floor so every stage can raise it.

Bad input, a missing or changed model file, a label file that does not fit,
a folder the tool may not write: each stage raises a subclass of
``CountythemesError`` whose message is one line saying what and where. The
command line prints it as ``error: …`` with exit code 2; a notebook shows it
as the exception it is.
"""
from __future__ import annotations

__all__ = ["CountythemesError"]


class CountythemesError(Exception):
    """A problem the user can fix; its message is one line that names the file or option at fault."""
