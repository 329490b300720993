"""The model: parameters, the user population, the social network, random streams, the
mechanisms (one module each), providers, policies, interventions, metrics and
:class:`EconomyModel`, which runs the day's schedule (docs/ODD.md)."""

from sim.model.economy import EconomyModel

__all__ = ["EconomyModel"]
