"""Loaders for the data shipped beside the project, and generators of test data.

Loaders read files where they lie (``shared/data`` beside the checkout, or the
folder named by ``data_home`` or the environment variable ``KERNLEARN_DATA``) and
never copy them; generators need no files. For graphs: :func:`load_graph` opens
the shipped community graphs (``GRAPH_NAMES``), :func:`load_gml` reads any GML
file, and :func:`make_sbm_graph` draws stochastic block model graphs.
"""

from ._graphs import GRAPH_NAMES, get_data_home, load_gml, load_graph, make_sbm_graph

__all__ = [
    "GRAPH_NAMES",
    "get_data_home",
    "load_gml",
    "load_graph",
    "make_sbm_graph",
]
