"""An agent-based model of the attention and intimacy economies.

Users split their days among ad-funded feed platforms, subscription AI companions, friends and
the rest of life; providers pursue attention-, intimacy- or wellbeing-aligned objectives and adapt
their levers by A/B tests. See docs/ODD.md for the model and README.md for how to run it.
"""

from sim.model import EconomyModel
from sim.model.interventions import Intervention
from sim.model.params import ParamError, Params
from sim.model.scenarios import SCENARIOS, resolve
from sim.sweeps.single import RunResult, run

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
