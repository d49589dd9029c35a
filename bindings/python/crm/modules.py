"""Binds every libcrm module that the loaded library exports.

Each module's binding lives in its own file and is imported only when the
library has the module (so this package also works with an older or a
partial build); its public names are re-exported from ``crm``.
"""
from ._lib import has

__all__: list = []

if has("crm_rfm_new"):
    from . import rfm
    from .rfm import *  # noqa: F401,F403
    __all__ += rfm.__all__

if has("crm_analytics_new"):
    from . import analytics
    from .analytics import *  # noqa: F401,F403
    __all__ += analytics.__all__

if has("crm_segment_compile"):
    from . import segment
    from .segment import *  # noqa: F401,F403
    __all__ += segment.__all__

if has("crm_clv_model_new"):
    from . import clv
    from .clv import *  # noqa: F401,F403
    __all__ += clv.__all__

if has("crm_scenario_engine_new"):
    from . import scenario
    from .scenario import *  # noqa: F401,F403
    __all__ += scenario.__all__

if has("crm_identity_new"):
    from . import identity
    from .identity import *  # noqa: F401,F403
    __all__ += identity.__all__
