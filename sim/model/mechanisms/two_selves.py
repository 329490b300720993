"""Two selves: what the reflective self values and what the impulsive self is pulled toward
(ODD 7.2).

For user i and option o (each provider, human socialising, other offline life):

    D[i, o] = R[i, o] + impulse_weight * (1 - self_control[i]) * pull[i, o] + eps[i, o]

R is reflective utility per minute: enjoyment of well-matched content, for companions being
heard and the relationship, for feeds friends being there, less ad annoyance, perceived
manipulation and, under a bonus for cutting use, the payment forgone (``money_value * bonus /
60`` per minute). pull is the impulsive pull of habit, hooks, "moreish" learned content and
attachment. eps is a daily taste shock from the stream ``taste``. Other offline life stands for
``offline_breadth`` activities of equal value, so its decision value gains
``temperature * ln(offline_breadth)`` (as a nest in a nested logit) while its value per minute,
the outside option of ODD 7.11, stays ``offline_value``. With the mechanism off, or in the
reflective counterfactual, the pull is dropped: the difference between the two splits of the
budget (:mod:`sim.model.mechanisms.time_budget`) is the day's compulsive use.

Money has two values in utility (ODD 7.2, money). ``money_value`` is the value of a dollar
received for use given up, as a bonus for cutting use pays it; use given up is a loss and
weighs ``loss_aversion`` times what the same use is worth to buy, so a dollar paid for use is
worth ``paying_value = loss_aversion * money_value`` (Tversky and Kahneman 1991; willingness to
accept runs several times willingness to pay, Horowitz and McConnell 2002). A subscriber who
cancels, or moves to a cheaper rival, gives use up, so weighs the price they would keep at
``money_value`` (:func:`subscription_money_value`).
"""

from __future__ import annotations

from sim.model.compiled import jit
from sim.model.mechanisms.attachment import understanding

SWITCH = "two_selves"
PARAMS = ("choice",)  # the parameter sections it reads
STATE = ()  # the user state it owns (others may read it)


@jit
def match_quality(fit, knowledge):
    """How well content suits the user: its fit, raised by what the provider knows."""
    return fit + (1.0 - fit) * knowledge


@jit
def reflective_value(match, ad_load, perceived_manipulation, bonus, k, aversion):
    """R of a provider before what its kind adds: content enjoyed, less ads, manipulation felt
    and the bonus forgone per minute."""
    return (
        k.content_value * match
        - k.ad_annoyance * ad_load
        - aversion * perceived_manipulation
        - k.money_value * bonus / 60.0
    )


@jit
def paying_value(k):
    """Utility per $/minute of money paid for use a user does not have yet (a free user deciding
    to subscribe; welfare): the value of money received for use given up, times the loss
    aversion over use given up."""
    return k.money_value * k.loss_aversion


@jit
def subscription_money_value(subscribed, k):
    """Utility per $/minute in deciding on a subscription: a free user deciding to pay weighs
    money paid for use they do not have yet (:func:`paying_value`); a subscriber deciding to
    cancel gives up use they have, a loss, against money they keep, and weighs it as money
    received for use given up (``money_value``): the inertia of subscribers. A subscriber weighs
    a rival's lower price the same way (ODD 7.11)."""
    return k.money_value if subscribed else paying_value(k)


@jit
def companion_value(empathy, emotional_knowledge, attachment, loneliness, unmet, k):
    """What a companion adds to R: being heard, worth more to the lonely and less the more of
    the need a usual day already meets (``unmet``, :func:`unmet_need`), and the relationship."""
    heard = understanding(empathy, emotional_knowledge) * k.heard_value * loneliness * unmet
    return heard + k.attachment_value * attachment


@jit
def feed_value(friends_share, k):
    """What a feed adds to R: friends being there (fear of missing out)."""
    return k.fomo_value * friends_share


@jit
def social_value(loneliness, nudged, k):
    """R of human socialising: worth more to the lonely, and nudges toward it."""
    return (0.5 + loneliness) * k.social_value + k.nudge_value * nudged


@jit
def impulsive_pull(habit, hooks, knowledge, attachment, dependence, k):
    """The impulsive self's pull toward a provider."""
    return (
        k.habit_pull * habit
        + k.hook_pull * hooks
        + k.moreish_pull * knowledge
        + k.attachment_pull * attachment
        + k.dependence_pull * dependence
    )


@jit
def impulse_weight(self_control, k):
    """Weight of the impulsive pull in a user's decisions: less with more self-control."""
    return k.impulse_weight * (1.0 - self_control)
