"""``sim.plots``: the public name of :mod:`sim.report.plots`."""

import sys

from sim.report import plots

sys.modules[__name__] = plots
