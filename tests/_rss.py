"""Skip marker for tests on the shipped RSS fingerprint data."""

import pytest

from kernlearn.datasets import get_data_home


def rss_folder():
    """The shipped ``rss_ble_uog`` folder, or None where it is not here."""
    try:
        folder = get_data_home() / "rss_ble_uog"
    except FileNotFoundError:
        return None
    return folder if folder.is_dir() else None


needs_rss_data = pytest.mark.skipif(
    rss_folder() is None,
    reason="the RSS data (shared/data/rss_ble_uog beside the checkout, or "
    "$KERNLEARN_DATA/rss_ble_uog) is not on this machine",
)
