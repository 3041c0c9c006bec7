"""PyTorch's ``torch.autograd`` surface: ``backward``, ``grad``, ``Function``, anomaly detection."""

from .anomaly import detect_anomaly, is_anomaly_enabled
from .core import backward, grad
from .function import Function, FunctionCtx

__all__ = ["backward", "grad", "Function", "FunctionCtx", "detect_anomaly", "is_anomaly_enabled"]
