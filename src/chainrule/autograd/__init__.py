"""PyTorch's ``torch.autograd`` surface: ``backward``, ``grad``, ``Function``, anomaly detection,
``gradcheck``; and ``set_gc_tuning`` (how the cyclic collector is treated while a large graph
is recorded)."""

from ..core.collector import is_gc_tuning_enabled, set_gc_tuning
from .anomaly import detect_anomaly, is_anomaly_enabled
from .core import backward, grad
from .function import Function, FunctionCtx
from .gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = [
    "backward", "grad", "Function", "FunctionCtx", "detect_anomaly", "is_anomaly_enabled",
    "gradcheck", "gradgradcheck", "GradcheckError", "set_gc_tuning", "is_gc_tuning_enabled",
]
