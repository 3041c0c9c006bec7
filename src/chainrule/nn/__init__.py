"""Neural-network building blocks (``cr.nn``): modules, parameters, layers, losses."""

from . import functional, init
from .layers import Dropout, Linear, ReLU, Sequential, Sigmoid, Tanh
from .loss import CrossEntropyLoss, MSELoss
from .module import Module
from .parameter import Parameter
from .stateless import functional_call

__all__ = [
    "CrossEntropyLoss",
    "Dropout",
    "Linear",
    "MSELoss",
    "Module",
    "Parameter",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Tanh",
    "functional",
    "functional_call",
    "init",
]
