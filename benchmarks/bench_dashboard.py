"""Time of one dashboard step at 10,000 users, in each market: the model's day plus reading it
for the page, and building the chart data (the dashboard's target is under 100 ms a step).

    python benchmarks/bench_dashboard.py            # 200 steps per market after 5 warm-up days
    python benchmarks/bench_dashboard.py --steps 50

Prints the median, 95th percentile and maximum per market. A measurement, not a test.
"""

from __future__ import annotations

import argparse
import statistics
import time

from sim.report import dashboard


def measure(scenario: str, users: int, steps: int) -> dict[str, float]:
    run = dashboard.Run(dashboard.Setup(scenario=scenario, users=users, days=365))
    run.advance(5)  # compiled loops loaded and buffers made on the first days
    step_ms, chart_ms = [], []
    for _ in range(steps):
        t0 = time.perf_counter()
        run.advance(1)
        t1 = time.perf_counter()
        dashboard.series_charts(run) + dashboard.histograms(run.view)
        t2 = time.perf_counter()
        step_ms.append(1000 * (t1 - t0))
        chart_ms.append(1000 * (t2 - t1))
    return {
        "median": statistics.median(step_ms),
        "p95": statistics.quantiles(step_ms, n=20)[-1],
        "max": max(step_ms),
        "charts_median": statistics.median(chart_ms),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=10_000)
    ap.add_argument("--steps", type=int, default=200)
    args = ap.parse_args()
    for scenario in dashboard.SCENARIOS:
        r = measure(scenario, args.users, args.steps)
        print(
            f"{scenario}: step {r['median']:.1f} ms median, p95 {r['p95']:.1f}, "
            f"max {r['max']:.1f}; chart data {r['charts_median']:.1f} ms median"
        )


if __name__ == "__main__":
    main()
