"""PyTorch's ``torch.autograd`` surface: ``backward``, ``grad``, ``Function``, anomaly detection,
``gradcheck``."""

from .anomaly import detect_anomaly, is_anomaly_enabled
from .core import backward, grad
from .function import Function, FunctionCtx
from .gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = [
    "backward", "grad", "Function", "FunctionCtx", "detect_anomaly", "is_anomaly_enabled",
    "gradcheck", "gradgradcheck", "GradcheckError",
]
