"""Graph node kernels, kernel distances and node clustering.

Node proximity families (Walk, Forest, Communicability, Heat, commute time,
PageRank, RSP / free energy, ... and their logarithmic versions) computed from one
decomposition per graph (:class:`NodeKernels`), the kernel/distance transforms,
kernel clustering estimators and :class:`GraphNodeClustering`, which takes a
graph, a family and a parameter (or selects them without labels by modularity).

References: Ivashkin & Chebotarev, "Do logarithmic proximity measures outperform
plain ones in graph clustering?" (2017); Avrachenkov, Chebotarev & Rubanov,
"Similarities on graphs: kernels versus proximity measures" (2019).
"""

from ._clustering import (
    AUTO_FAMILIES,
    DEFAULT_GRID,
    GraphNodeClustering,
    WholeGraphSplit,
)
from ._input import check_adjacency
from ._kernels import (
    FAMILIES,
    LOG_FAMILIES,
    PARAMETRIC_FAMILIES,
    NodeKernels,
    distance_to_kernel,
    kernel_to_distance,
    log_transform,
    node_distance,
    node_kernel,
)
from ._kkmeans import KernelKMeans, KernelSpectralClustering, KernelWard
from ._modularity import modularity

__all__ = [
    "AUTO_FAMILIES",
    "DEFAULT_GRID",
    "FAMILIES",
    "GraphNodeClustering",
    "KernelKMeans",
    "KernelSpectralClustering",
    "KernelWard",
    "WholeGraphSplit",
    "LOG_FAMILIES",
    "PARAMETRIC_FAMILIES",
    "NodeKernels",
    "check_adjacency",
    "distance_to_kernel",
    "kernel_to_distance",
    "log_transform",
    "modularity",
    "node_distance",
    "node_kernel",
]
