"""Kernel objects with the scikit-learn ``Kernel`` protocol, runnable fused."""

from ._base import Gaussian, KernlearnKernelMixin, Product, RadialKernel, Sum

__all__ = ["Gaussian", "KernlearnKernelMixin", "Product", "RadialKernel", "Sum"]
