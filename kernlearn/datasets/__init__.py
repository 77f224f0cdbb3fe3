"""Loaders for the data shipped beside the project, and generators of test data.

Loaders read files where they lie (``shared/data`` beside the checkout, or the
folder named by ``data_home`` or the environment variable ``KERNLEARN_DATA``) and
never copy them; generators need no files. For graphs: :func:`load_graph` opens
the shipped community graphs (``GRAPH_NAMES``), :func:`load_gml` reads any GML
file, and :func:`make_sbm_graph` draws stochastic block model graphs. For PDEs:
:func:`make_pde_problem` builds the high-frequency and multi-scale benchmark
problems of GP-HM (``PDE_PROBLEMS``) with their exact solutions. For indoor
localisation: :func:`load_rss_ble_uog` (and ``_map``) read the shipped BLE
RSS fingerprint data, and :func:`make_rss_fingerprints` simulates buildings of
any size.
"""

from ._graphs import GRAPH_NAMES, get_data_home, load_gml, load_graph, make_sbm_graph
from ._pde import PDE_PROBLEMS, make_pde_problem
from ._rss import (
    RSS_BLE_UOG_BEACONS,
    load_rss_ble_uog,
    load_rss_ble_uog_map,
    make_rss_fingerprints,
)

__all__ = [
    "GRAPH_NAMES",
    "PDE_PROBLEMS",
    "RSS_BLE_UOG_BEACONS",
    "get_data_home",
    "load_gml",
    "load_graph",
    "load_rss_ble_uog",
    "load_rss_ble_uog_map",
    "make_pde_problem",
    "make_rss_fingerprints",
    "make_sbm_graph",
]
