"""Compiled adoption, churn and switching (:mod:`sim.mechanisms.adoption`): remembered value,
quit hazards and today's quits and joins per provider, with the numpy code's operations.

:func:`remember` updates remembered value and writes the sigmoids' exponential arguments;
after numpy's ``exp``, :func:`decide` draws each provider's uniforms and marks quits and joins.
"""

from __future__ import annotations

from sim.kernels import at, jit


@jit
def remember(
    start, stop, minutes, compulsive, R, remembered, knowledge, attachment, offline_value, regret_value,
    value_memory, switching_knowledge, switching_attachment, quit_scale, args,
):  # fmt: skip
    """Remembered value (adoption.remember_value) of users ``start`` to ``stop``, then in
    ``args`` (2, block, P) the arguments of exp in the quit hazard's sigmoid and in former
    users' return sigmoid."""
    P = minutes.shape[1]
    for i in range(start, stop):
        b = i - start
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
            args[0, b, j] = -(-surplus / quit_scale)
            args[1, b, j] = -((rem - off) / quit_scale)


@jit
def endorsers(j, adopted, perceived, manipulation_wom, out, users):
    """Each user's weight as a friend who endorses provider ``j``: a user who does not feel
    manipulated by it (adoption.endorsing_share); ``users`` (N,) uint8 marks its users, the
    only ones whose weight is not 0."""
    for f in range(adopted.shape[0]):
        a = 1.0 if adopted[f, j] else 0.0
        out[f] = a * (1.0 - manipulation_wom * perceived[f, j])
        users[f] = adopted[f, j]


@jit
def decide(
    start, stop, j, rng, e, adopted, quit_day, quit_rate, marketing, word_of_mouth, network, endorse_product,
    friend_counts, indptr, target, degree, appeal_companion, ai_openness, loneliness,
    availability, quits, joins, endorser, endorser_users,
):  # fmt: skip
    """Quits and joins of provider column ``j`` from one uniform per user (adoption.update);
    for users ``start`` to ``stop``; ``e`` holds the exponentials of :func:`remember`'s
    arguments for the block, ``endorser`` the weights of :func:`endorsers`."""
    for i in range(start, stop):
        b = i - start
        draw = rng.random()
        hazard = quit_rate * (1.0 / (e[0, b, j] + 1.0))
        a = adopted[i, j]
        quits[i, j] = a and draw < hazard
        share = 0.0
        if network:
            if endorse_product:  # friends who use it and do not feel manipulated
                s = 0.0
                for k in range(indptr[i], indptr[i + 1]):
                    f = target[k]
                    if endorser_users[f]:  # others add exactly 0: skip reading their weight
                        s += endorser[f]
            else:
                s = friend_counts[i, j]
            share = s / max(degree[i], 1)
        prob = marketing + word_of_mouth * share
        if appeal_companion:
            prob *= (2.0 * ai_openness[i]) * (0.5 + loneliness[i])
        else:
            prob *= 1.0
        if quit_day[i, j] >= 0:
            prob *= 1.0 / (e[1, b, j] + 1.0)
        joins[i, j] = (not a) and draw < prob and availability[at(availability, i), j] > 0.0


@jit
def switchers(rng, quitters, propensity, r, adopted, availability, launched, who):
    """Quitters who move to the one rival ``r`` (adoption.switch): one uniform per user;
    fills ``who`` (N,) and returns how many."""
    n = quitters.shape[0]
    count = 0
    for i in range(n):
        draw = rng.random()
        moves = quitters[i] and draw < propensity and not adopted[i, r]
        moves = moves and launched and availability[at(availability, i), r] > 0.0
        who[i] = moves
        count += moves
    return count
