"""Debug records of which engine runs each primitive."""

from __future__ import annotations

import logging

logger = logging.getLogger("kernlearn")


def note_engine(op: str, name: str) -> None:
    """Log (debug level, ``"kernlearn"`` logger) which engine runs a primitive.

    The record carries ``kernlearn_engine`` and ``kernlearn_op`` attributes, so a
    handler can tally the engines a computation used (``kernlearn demo`` does).
    Nothing is formatted unless debug logging is on.
    """
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug(
            "%s runs on the %s engine.",
            op,
            name,
            extra={"kernlearn_engine": name, "kernlearn_op": op},
        )
