"""kernlearn: scikit-learn compatible kernel methods on fused CPU/GPU engines."""

from ._config import config_context, get_config, set_config

__version__ = "0.1.0.dev0"

__all__ = ["config_context", "get_config", "set_config", "__version__"]
