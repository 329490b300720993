"""An agent-based model of the attention and intimacy economies.

Users split their days among ad-funded feed platforms, subscription AI companions, friends and
the rest of life; providers pursue attention-, intimacy- or wellbeing-aligned objectives and adapt
their levers by A/B tests. See docs/ODD.md for the model and README.md for how to run it.
"""

from sim.api import RunResult, run
from sim.interventions import Intervention
from sim.model import EconomyModel
from sim.params import ParamError, Params
from sim.scenarios import SCENARIOS, resolve

__all__ = [
    "EconomyModel",
    "Intervention",
    "ParamError",
    "Params",
    "RunResult",
    "SCENARIOS",
    "resolve",
    "run",
]
