"""``sim.analysis``: the public name of :mod:`sim.report.analysis`."""

import sys

from sim.report import analysis

sys.modules[__name__] = analysis
