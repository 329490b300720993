"""Compiled adoption, churn and switching (:mod:`sim.model.mechanisms.adoption`): remembered value,
quit hazards and today's quits and joins per provider, with the numpy code's operations.

:func:`remember` updates remembered value and writes the sigmoids' exponential arguments;
after numpy's ``exp``, :func:`decide` marks quits, joins and switches from each provider's
uniforms.
"""

from __future__ import annotations

from sim.model.kernels import at, jit


@jit
def remember(
    start,
    stop,
    minutes,
    compulsive,
    R,
    remembered,
    knowledge,
    attachment,
    offline_value,
    regret_value,
    value_memory,
    switching_knowledge,
    switching_attachment,
    quit_scale,
    args,
):
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
    start,
    stop,
    columns,
    draws,
    e,
    adopted,
    quit_day,
    quit_rate,
    marketing,
    word_of_mouth,
    network,
    endorse_row,
    friend_counts,
    indptr,
    target,
    degree,
    companion,
    ai_openness,
    loneliness,
    availability,
    quits,
    joins,
    endorser,
    endorser_users,
    switch_row,
    rival,
    propensity,
    launched,
    moved,
):
    """Quits and joins of users ``start`` to ``stop`` (adoption.update) for the providers in
    ``columns`` (K,), from their uniforms ``draws`` (K + S, block); ``e`` holds the
    exponentials of :func:`remember`'s arguments for the block. Where ``endorse_row[k]`` >= 0,
    friends' endorsements come from that row of :func:`endorsers`' weights, else from friends'
    counts. ``marketing`` and ``companion`` are per provider in ``columns``.

    Then switching (adoption.switch) for markets where a provider has at most one rival
    (``rival[j]``, -1 for none): provider by provider, a quitter of ``j`` moves to its rival
    if its uniform (row ``switch_row[j]`` of ``draws``) is below ``propensity`` and it does not
    use the rival after today's quits, joins and earlier moves, which may take it. ``moved``
    (N, P) marks who moved into each provider. With ``switch_row`` all -1 nobody moves."""
    P = adopted.shape[1]
    for i in range(start, stop):
        b = i - start
        for k in range(columns.shape[0]):
            j = columns[k]
            draw = draws[k, b]
            if adopted[i, j]:  # users may quit; they cannot join
                quits[i, j] = draw < quit_rate * (1.0 / (e[0, b, j] + 1.0))
                joins[i, j] = False
                continue
            quits[i, j] = False
            available = availability[at(availability, i), j] > 0.0
            appeal = (2.0 * ai_openness[i]) * (0.5 + loneliness[i]) if companion[k] else 1.0
            if not available or draw >= (marketing[k] + word_of_mouth) * appeal:
                # no join, whatever friends do: a share is at most 1 and the return factor
                # at most 1, so the probability below cannot reach this bound
                joins[i, j] = False
                continue
            share = 0.0
            if network:
                r = endorse_row[k]
                if r >= 0:  # friends who use it and do not feel manipulated
                    s = 0.0
                    for x in range(indptr[i], indptr[i + 1]):
                        f = target[x]
                        if endorser_users[r, f]:  # others add exactly 0: skip their weight
                            s += endorser[r, f]
                else:
                    s = friend_counts[i, j]
                share = s / max(degree[i], 1)
            prob = marketing[k] + word_of_mouth * share
            if companion[k]:
                prob *= appeal
            else:
                prob *= 1.0
            if quit_day[i, j] >= 0:
                prob *= 1.0 / (e[1, b, j] + 1.0)
            joins[i, j] = draw < prob
        for j in range(P):
            moved[i, j] = False
        for j in range(P):
            row = switch_row[j]
            if row < 0 or not quits[i, j]:
                continue
            r = rival[j]
            uses = (adopted[i, r] and not quits[i, r]) or joins[i, r] or moved[i, r]
            moves = draws[row, i - start] < propensity and not uses
            if moves and launched[r] and availability[at(availability, i), r] > 0.0:
                moved[i, r] = True
