"""Errors a user can act on. The message says what happened and what to do; faces show it without a traceback."""


class NewsragError(Exception):
    """A problem with the user's input, data or configuration."""

    status = 400


class NotReady(NewsragError):
    status = 409


class NotFound(NewsragError):
    status = 404


class ConfigError(NewsragError):
    status = 400


class Busy(NewsragError):
    """Another process is writing to the index."""

    status = 423
