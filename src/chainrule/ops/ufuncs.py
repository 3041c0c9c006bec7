"""NumPy's remaining ufuncs: inverse hyperbolics, arctan2, hypot, exp2, logaddexp2, angle conversions, remainder and fmod, fabs, sinc, cbrt, copysign."""

from __future__ import annotations
