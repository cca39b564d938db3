"""Errors the command line prints as one line (and a hint), without a traceback."""


class UserError(Exception):
    """A mistake in what the user asked for, or a state they can fix: "message\\nhint"."""
