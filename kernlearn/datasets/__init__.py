"""Loaders for the data shipped beside the project, and generators of test data.

Loaders read files where they lie (``shared/data`` beside the checkout, or the
folder named by ``data_home`` or the environment variable ``KERNLEARN_DATA``) and
never copy them; generators need no files. For graphs: :func:`load_graph` opens
the shipped community graphs (``GRAPH_NAMES``), :func:`load_gml` reads any GML
file, and :func:`make_sbm_graph` draws stochastic block model graphs. For PDEs:
:func:`make_pde_problem` builds the high-frequency and multi-scale benchmark
problems of GP-HM (``PDE_PROBLEMS``) with their exact solutions.
"""

from ._graphs import GRAPH_NAMES, get_data_home, load_gml, load_graph, make_sbm_graph
from ._pde import PDE_PROBLEMS, make_pde_problem

__all__ = [
    "GRAPH_NAMES",
    "PDE_PROBLEMS",
    "get_data_home",
    "load_gml",
    "load_graph",
    "make_pde_problem",
    "make_sbm_graph",
]
