"""Compiled adoption, churn and switching (:mod:`sim.mechanisms.adoption`): remembered value,
quit hazards and today's quits and joins per provider, with the numpy code's operations.

:func:`remember` updates remembered value and writes the sigmoids' exponential arguments;
after numpy's ``exp``, :func:`decide` draws each provider's uniforms and marks quits and joins.
"""

from __future__ import annotations

from sim.kernels import at, jit


@jit
def remember(
    minutes, compulsive, R, remembered, knowledge, attachment, offline_value, regret_value,
    value_memory, switching_knowledge, switching_attachment, quit_scale, args,
):  # fmt: skip
    """Remembered value (adoption.remember_value), then in ``args`` (2, N, P) the arguments
    of exp in the quit hazard's sigmoid and in former users' return sigmoid."""
    n, P = minutes.shape
    for i in range(n):
        off = offline_value[i]
        for j in range(P):
            m = minutes[i, j]
            used = 1.0 if m > 0.0 else 0.0
            x = compulsive[i, j] / max(m, 1e-9)
            x *= used
            x *= regret_value
            x = R[i, j] - x
            x -= remembered[i, j]
            x *= value_memory
            x *= used
            rem = remembered[i, j] + x
            remembered[i, j] = rem
            cost = switching_knowledge * knowledge[i, j] + switching_attachment * attachment[i, j]
            surplus = (rem + cost) - off
            args[0, i, j] = -(-surplus / quit_scale)
            args[1, i, j] = -((rem - off) / quit_scale)


@jit
def decide(
    j, rng, e, adopted, quit_day, quit_rate, marketing, word_of_mouth, network, endorse_product,
    manipulation_wom, perceived, friend_counts, indptr, target, degree, appeal_companion,
    ai_openness, loneliness, availability, quits, joins, endorser,
):  # fmt: skip
    """Quits and joins of provider column ``j`` from one uniform per user (adoption.update);
    ``e`` holds the exponentials of :func:`remember`'s arguments, ``endorser`` (N,) is a work
    buffer."""
    n = adopted.shape[0]
    if network and endorse_product:  # each user's weight as a friend who endorses it
        for f in range(n):
            a = 1.0 if adopted[f, j] else 0.0
            endorser[f] = a * (1.0 - manipulation_wom * perceived[f, j])
    for i in range(n):
        draw = rng.random()
        hazard = quit_rate * (1.0 / (e[0, i, j] + 1.0))
        a = adopted[i, j]
        quits[i, j] = a and draw < hazard
        share = 0.0
        if network:
            if endorse_product:  # friends who use it and do not feel manipulated
                s = 0.0
                for k in range(indptr[i], indptr[i + 1]):
                    s += endorser[target[k]]
            else:
                s = friend_counts[i, j]
            share = s / max(degree[i], 1)
        prob = marketing + word_of_mouth * share
        if appeal_companion:
            prob *= (2.0 * ai_openness[i]) * (0.5 + loneliness[i])
        else:
            prob *= 1.0
        if quit_day[i, j] >= 0:
            prob *= 1.0 / (e[1, i, j] + 1.0)
        joins[i, j] = (not a) and draw < prob and availability[at(availability, i), j] > 0.0
