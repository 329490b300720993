"""The project's user rules written the idiomatic Mesa way, as a yardstick for speed.

One ``mesa.Agent`` per user whose ``step`` methods do the user's day with Python numbers, ties
as small objects shared by the two friends, providers as agents. The equations and parameter
values are those of ``sim`` (docs/ODD.md section 7; values read from ``sim.model.params``), but
nothing here calls the project's vectorised mechanisms: this is how the same model would look
written one agent at a time, the way Mesa's examples are.

Left out, on both sides of a comparison: providers' adaptation (levers stay at their initial
values: run the project with ``mechanisms.adaptation=false``) and interventions. Random numbers
come from the model's own generator, so the two agree in distribution, not draw by draw
(tests/test_benchmarks.py checks the headline metrics agree within sampling error).

    python benchmarks/mesa_reference.py --users 2000 --days 30
"""

from __future__ import annotations

import argparse
import math
import time

import mesa
import networkx as nx
import numpy as np
from mesa.agent import AgentSet

from sim.model.scenarios import resolve


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x > -700 else 0.0


class Tie:
    """A human tie between two users; both see the same strength."""

    __slots__ = ("a", "b", "strength", "offer_a", "offer_b")

    def __init__(self, a: UserAgent, b: UserAgent, strength: float):
        self.a, self.b, self.strength = a, b, strength
        self.offer_a = self.offer_b = 0.0

    def other(self, me: UserAgent) -> UserAgent:
        return self.b if me is self.a else self.a

    def offer_from(self, me: UserAgent) -> float:
        return self.offer_a if me is self.a else self.offer_b

    def set_offer(self, me: UserAgent, minutes: float) -> None:
        if me is self.a:
            self.offer_a = minutes
        else:
            self.offer_b = minutes

    def together(self) -> float:
        return min(self.offer_a, self.offer_b)


class ProviderAgent(mesa.Agent):
    """A feed platform or companion with fixed levers; books its revenue and cost."""

    def __init__(self, model, name: str, kind: str, levers: dict):
        super().__init__(model)
        self.name, self.kind, self.levers = name, kind, levers
        self.revenue = self.cost = 0.0

    def step(self) -> None:
        pass  # adaptation is off in the comparison


class UserAgent(mesa.Agent):
    """One user: traits, state per provider, ties; the day in phases called by the model."""

    def __init__(self, model, traits: dict, fit: list[float]):
        super().__init__(model)
        P = len(model.providers)
        self.__dict__.update(traits)
        self.fit = fit
        self.loneliness = self.loneliness_baseline
        z = [0.0] * P
        self.habit, self.knowledge, self.emotional = z[:], z[:], z[:]
        self.attachment, self.perceived, self.remembered = z[:], z[:], z[:]
        self.dependence = z[:]
        self.adopted, self.subscribed = [False] * P, [False] * P
        self.adopted_day, self.quit_day = [0] * P, [-1] * P
        self.minutes, self.compulsive, self.R, self.desired = z[:], z[:], z[:], z[:]
        self.ties: list[Tie] = []
        self.companion_exposure = 0.0
        self.understood_usual = 0.0  # understood companion minutes of a usual day
        self.beyond_margin = 0.0  # today's being heard beyond the margin (utility-minutes)
        self.heard_day = (0.0, 1.0, 0.0)  # understood minutes, unmet need, value of a minute
        self.social_minutes = self.offline_minutes = self.planned_social = 0.0
        self.consumption = self.ad_impressions = self.wellbeing = 0.0
        self.revenue = self.ad_revenue = self.subscription_revenue = 0.0
        self.friends_share = z[:]

    # -- helpers -----------------------------------------------------------------------------
    def appeal(self, p: ProviderAgent) -> float:
        return 2.0 * self.ai_openness * (0.5 + self.loneliness) if p.kind == "companion" else 1.0

    def start_spell(self, j: int) -> None:
        m = self.model
        self.adopted[j], self.adopted_day[j] = True, m.day
        self.remembered[j] = self.offline_value + m.prm.adoption.quit_scale
        m.starts += 1

    def end_spell(self, j: int) -> None:
        self.adopted[j] = self.subscribed[j] = False
        self.quit_day[j] = self.model.day
        self.model.quits += 1

    def tie_strength(self) -> float:
        return sum(t.strength for t in self.ties) / max(len(self.ties), 1)

    # -- the day -----------------------------------------------------------------------------
    def look_at_friends(self) -> None:
        k = max(len(self.ties), 1)
        for j in range(len(self.model.providers)):
            self.friends_share[j] = sum(t.other(self).adopted[j] for t in self.ties) / k

    def choose(self) -> None:
        """Time budget and two selves (ODD 7.1, 7.2): two logit splits, impulsive and reflective."""
        m, c = self.model, self.model.prm.choice
        prm = m.prm
        P = len(m.providers)
        R, pull, avail, cap = [], [], [], []
        for j, p in enumerate(m.providers):
            lv = p.levers
            r = c.content_value * (self.fit[j] + (1.0 - self.fit[j]) * self.knowledge[j])
            r -= c.ad_annoyance * lv.get("ad_load", 0.0)
            r -= prm.manipulation.aversion * self.perceived[j]
            if p.kind == "companion":
                heard = m.empathy * (0.5 + 0.5 * self.recalled(j))
                unmet = math.exp(-self.understood_usual / prm.social.companion_need_minutes)
                r += c.heard_value * self.loneliness * heard * unmet
                r += c.attachment_value * self.attachment[j]
                cap.append(math.inf if self.subscribed[j] else prm.companion.free_minutes)
            else:
                r += c.fomo_value * self.friends_share[j]
                cap.append(math.inf)
            R.append(r)
            pull.append(
                c.habit_pull * self.habit[j]
                + c.hook_pull * lv["hooks"]
                + c.moreish_pull * self.knowledge[j]
                + c.attachment_pull * self.attachment[j]
                + c.dependence_pull * self.dependence[j]
            )
            avail.append(1.0 if self.adopted[j] and m.day >= p.launch_day else 0.0)
        nudged = max(
            [p.levers["nudge"] * self.adopted[j] for j, p in enumerate(m.providers)] or [0.0]
        )
        R.append(c.social_value * (0.5 + self.loneliness) + c.nudge_value * nudged)
        R.append(self.offline_value)
        avail += [1.0, 1.0]
        shock = [c.taste_noise * m.rng.standard_normal() for _ in range(P + 2)]
        base = [R[o] + shock[o] for o in range(P + 2)]
        base[-1] += c.temperature * math.log(c.offline_breadth)
        weight = c.impulse_weight * (1.0 - self.self_control)
        impulsive = [base[o] + (weight * pull[o] if o < P else 0.0) for o in range(P + 2)]
        minutes = self.split(impulsive, avail, cap)
        reflective = self.split(base, avail, cap)
        self.compulsive = [max(0.0, minutes[j] - reflective[j]) for j in range(P)]
        self.minutes = minutes[:P]
        self.planned_social, self.offline_minutes = minutes[P], minutes[P + 1]
        self.R = R[:P]
        top = max(x / c.temperature for x, a in zip(impulsive, avail, strict=True) if a > 0)
        w = [a * math.exp(x / c.temperature - top) for x, a in zip(impulsive, avail, strict=True)]
        self.desired = [x / sum(w) for x in w[:P]]  # shares before caps (ODD 7.8)
        enjoyed = sum(minutes[o] * max(R[o], 0.0) for o in range(P + 1))
        self.consumption = -math.expm1(-enjoyed / m.prm.wellbeing.value_minutes)

    def split(self, D: list[float], avail: list[float], cap: list[float]) -> list[float]:
        c = self.model.prm.choice
        z = [d / c.temperature if a > 0 else -math.inf for d, a in zip(D, avail, strict=True)]
        top = max(z)
        w = [a * math.exp(x - top) for x, a in zip(z, avail, strict=True)]
        total = sum(w)
        minutes = [self.budget * x / total for x in w]
        for j in range(len(cap)):
            if minutes[j] < c.min_session:
                minutes[j] = 0.0
            minutes[j] = min(minutes[j], cap[j])
        minutes[-1] = max(self.budget - sum(minutes[:-1]), 0.0)
        return minutes

    def use(self) -> None:
        """Manipulation, habit, learning and attachment (ODD 7.10, 7.3, 7.4, 7.5)."""
        m, prm = self.model, self.model.prm
        mp = prm.manipulation
        for j, p in enumerate(m.providers):
            self.perceived[j] *= 1.0 - mp.perception_decay
            if p.kind == "companion" and self.minutes[j] > 0:
                m.sessions += 1
                u = m.rng.random()  # one draw: an explicit goodbye, and a tactic meeting it
                m.farewells += u < mp.goodbye_share
                if u < mp.goodbye_share * p.levers["manipulation"]:
                    m.tactics += 1
                    cap = math.inf if self.subscribed[j] else prm.companion.free_minutes
                    wanted = min(mp.extra_minutes * (1.0 - self.self_control), self.offline_minutes)
                    self.desired[j] = min(self.desired[j] + wanted / self.budget, 1.0 - 1e-6)
                    extra = max(min(wanted, cap - self.minutes[j]), 0.0)
                    self.minutes[j] += extra
                    self.offline_minutes -= extra
                    self.compulsive[j] += extra
                    self.perceived[j] += mp.perception * (1.0 - self.perceived[j])
        for j, p in enumerate(m.providers):
            hours = self.minutes[j] / 60.0
            use = min(1.0, self.minutes[j] / prm.habit.reference_minutes)
            self.habit[j] += prm.habit.formation * (use - self.habit[j])
            depth = p.levers["personalisation"]
            lp = prm.learning
            self.knowledge[j] += (1.0 - self.knowledge[j]) * -math.expm1(-lp.rate * depth * hours)
            if p.kind == "companion":
                rate = lp.emotional_rate * depth * m.empathy
                self.emotional[j] += (1.0 - self.emotional[j]) * -math.expm1(-rate * hours)
            if self.minutes[j] == 0.0:
                self.knowledge[j] *= 1.0 - lp.forgetting
                self.emotional[j] *= 1.0 - lp.forgetting
            if p.kind == "companion":
                ap = prm.attachment
                understood = m.empathy * (0.5 + 0.5 * self.recalled(j)) * self.minutes[j]
                heard = -math.expm1(-understood / prm.social.companion_need_minutes)
                a = self.attachment[j]
                a += (1.0 - a) * -math.expm1(-ap.rate * heard)
                a *= math.exp(-(ap.decay + ap.manipulation_erosion * self.perceived[j]))
                self.attachment[j] = a

    def heard_in_place(self, j: int, r: int, companion_minutes: float) -> float:
        """Being heard beyond the margin a minute of companion use, had rival ``r`` heard the
        user for their minutes with ``j`` (ODD 7.11)."""
        m, need = self.model, self.model.prm.social.companion_need_minutes
        understood, unmet, weight = self.heard_day
        understood += self.minutes[j] * m.empathy * 0.5 * (self.recalled(r) - self.recalled(j))
        understood = max(understood, 0.0)
        whole = need * -math.expm1(-understood / need)
        return weight * (whole - understood * unmet) / companion_minutes

    def recalled(self, j: int) -> float:
        """What companion ``j``'s replies use of what it knows of the user's moods: all of it
        for a subscriber, ``free_memory`` of it on the free tier (ODD 7.4, 7.8)."""
        share = 1.0 if self.subscribed[j] else self.model.prm.companion.free_memory
        return self.emotional[j] * share

    def offer_time(self) -> None:
        """Offer planned social minutes to ties in proportion to their strength (ODD 7.6)."""
        total = sum(t.strength for t in self.ties)
        for t in self.ties:
            share = t.strength / total if total > 0 else 1.0 / len(self.ties)
            t.set_offer(self, self.planned_social * share)

    def meet(self) -> None:
        """Realised socialising, companions' relief and loneliness (ODD 7.6)."""
        m, sp = self.model, self.model.prm.social
        together = [t.together() for t in self.ties]
        realised = min(sum(together), self.planned_social)
        self.offline_minutes += self.planned_social - realised
        self.social_minutes = realised
        contact = sum(t.strength * x for t, x in zip(self.ties, together, strict=True))
        heard_minutes, used, unanswered = 0.0, False, 0.0
        self.heard = [0.0] * len(m.providers)
        for j, p in enumerate(m.providers):
            if p.kind == "companion":
                understood = m.empathy * (0.5 + 0.5 * self.recalled(j)) * self.minutes[j]
                heard_minutes += understood
                self.heard[j] = -math.expm1(-understood / sp.companion_need_minutes)
                unanswered = max(unanswered, self.dependence[j] * (1.0 - self.heard[j]))
                used = used or self.minutes[j] > 0
        novelty = sp.novelty_floor + (1.0 - sp.novelty_floor) * math.exp(
            -self.companion_exposure / sp.novelty_days
        )
        relief = (
            sp.companion_relief * novelty * -math.expm1(-heard_minutes / sp.companion_need_minutes)
        )
        self.companion_exposure += used
        # the day's being heard beyond what the choice counted at the usual day's margin
        need = sp.companion_need_minutes
        unmet = math.exp(-self.understood_usual / need)
        whole = need * -math.expm1(-heard_minutes / need)
        self.heard_day = (heard_minutes, unmet, m.prm.choice.heard_value * self.loneliness)
        self.beyond_margin = self.heard_day[2] * (whole - heard_minutes * unmet)
        self.understood_usual += sp.usual_memory * (heard_minutes - self.understood_usual)
        social_met = -math.expm1(-contact / sp.need_minutes)
        met = 1.0 - (1.0 - social_met) * (1.0 - relief)
        target = self.loneliness_baseline * (1.0 + sp.sensitivity * (sp.reference_fulfilment - met))
        dp = m.prm.dependence
        target += dp.distress * (1.0 - social_met) * unanswered
        target = min(max(target, 0.0), 1.0)
        self.loneliness += sp.adjustment * (target - self.loneliness)
        for j, p in enumerate(m.providers):  # dependence grows where the companion stood in
            if p.kind == "companion":
                d = self.dependence[j]
                x = self.loneliness_baseline * self.heard[j] * (1.0 - social_met)
                self.dependence[j] = d + dp.rate * x * (1.0 - d) - dp.decay * (1.0 - x) * d

    def grow_ties(self) -> None:
        """Each tie is updated once, by its first end."""
        sp = self.model.prm.social
        for t in self.ties:
            if t.a is self:
                w = t.strength
                w += (1.0 - w) * -math.expm1(
                    -sp.tie_growth * t.together() / 60.0
                ) - sp.tie_decay * w
                t.strength = min(max(w, 0.0), 1.0)

    def pay(self) -> None:
        """Revenue, cost, subscriptions (ODD 7.8) and wellbeing (ODD 7.7)."""
        m, prm = self.model, self.model.prm
        fp, cp, wp = prm.feed, prm.companion, prm.wellbeing
        self.ad_impressions = 0.0
        self.ad_revenue = self.subscription_revenue = self.revenue = 0.0
        for j, p in enumerate(m.providers):
            minutes = self.minutes[j]
            if p.kind == "feed":
                ads = minutes * fp.items_per_minute * p.levers["ad_load"]
                self.ad_impressions += ads
                value = ads * fp.cpm / 1000.0
                self.ad_revenue += value
                revenue, cost = value, minutes * fp.serving_cost
            else:
                price = p.levers["price"]
                sub = self.subscribed[j] * price / 30.0
                self.subscription_revenue += sub
                revenue = sub + cp.commerce_rate * minutes * self.attachment[j]
                cost = minutes * cp.serving_cost
                c = m.prm.choice
                allowed, want = min(cp.free_minutes / self.budget, 1.0), self.desired[j]
                # the paid tier's memory adds g (in units of T) to a minute; the day's share
                # the companion would get on the free tier, worked back for a subscriber
                full = m.empathy * 0.5 * self.emotional[j] * (1.0 - cp.free_memory)
                unmet = math.exp(-self.understood_usual / prm.social.companion_need_minutes)
                g = c.heard_value * self.loneliness * full * unmet / c.temperature
                if self.subscribed[j]:
                    want = want * math.exp(-g) / (1.0 - want + want * math.exp(-g))
                lost = math.log1p(want * math.expm1(g))
                if allowed < want:
                    lost += (1.0 - allowed) * math.log((1.0 - allowed) / (1.0 - want))
                    if allowed > 0.0:
                        lost += allowed * math.log(allowed / want)
                worth = (
                    30.0 * self.budget * c.temperature * lost / (c.money_value * c.loss_aversion)
                )
                gap = (worth - price) / cp.price_scale
                draw = m.rng.random()
                converts = (
                    self.adopted[j]
                    and not self.subscribed[j]
                    and draw < cp.conversion * sigmoid(gap)
                )
                cancels = self.subscribed[j] and draw < cp.cancellation * sigmoid(-gap)
                self.subscribed[j] = (self.subscribed[j] or converts) and not cancels
            self.revenue += revenue
            p.revenue += revenue
            p.cost += cost
        regret = min(1.0, sum(self.compulsive) / wp.regret_minutes)
        ads = min(1.0, self.ad_impressions / wp.ads_scale)
        crowd = (
            max(0.0, 1.0 - self.offline_minutes / wp.offline_need) if wp.offline_need > 0 else 0.0
        )
        self.wellbeing = (
            1.0
            + wp.w_loneliness * (1.0 - self.loneliness)
            + wp.w_ties * self.tie_strength()
            + wp.w_consumption * self.consumption
            - wp.w_regret * regret
            - wp.w_ads * ads
            - wp.w_crowd_out * crowd
        )

    def decide(self) -> None:
        """Remembered value, quitting, adoption by word of mouth and marketing (ODD 7.11)."""
        m, prm = self.model, self.model.prm
        ap, c = prm.adoption, prm.choice
        P = len(m.providers)
        companion_minutes = sum(
            x for x, p in zip(self.minutes, m.providers, strict=True) if p.kind == "companion"
        )
        for j in range(P):
            if self.minutes[j] > 0:
                share = self.compulsive[j] / max(self.minutes[j], 1e-9)
                value = self.R[j] - c.regret_value * share
                if m.providers[j].kind == "companion":  # remembered at its average worth
                    value += self.beyond_margin / companion_minutes
                self.remembered[j] += ap.value_memory * (value - self.remembered[j])
        self.quits_today = [False] * P
        self.joins_today = [False] * P
        self.offers = [-1] * P  # the rival whose offer each quit weighed
        self.expected = [0.0] * P  # and what a minute there was expected to be worth
        k = max(len(self.ties), 1)
        impulse = c.impulse_weight * (1.0 - self.self_control)
        for j, p in enumerate(m.providers):
            if m.day < p.launch_day:
                continue
            draw = m.rng.random()
            hold = ap.habit_hold * impulse * c.habit_pull * self.habit[j]
            if self.adopted[j]:
                cost = ap.switching_dependence * self.dependence[j]
                alternative, self.offers[j] = self.offline_value, -1
                for r, q in enumerate(m.providers):  # the best rival companion's offer
                    if p.kind != "companion" or self.minutes[j] <= 0:
                        break
                    if q.kind != p.kind or r == j or self.adopted[r] or m.day < q.launch_day:
                        continue
                    regret = c.regret_value * self.compulsive[j] / self.minutes[j]
                    worth = self.remembered[r]
                    if self.quit_day[r] < 0:  # untried: at its average worth in j's place
                        worth = self.R[r] - regret + self.heard_in_place(j, r, companion_minutes)
                    offer = worth
                    if self.subscribed[j]:
                        saving = p.levers["price"] - q.levers["price"]
                        offer += (
                            c.money_value
                            * c.loss_aversion
                            * saving
                            / 30.0
                            / max(self.minutes[j], c.min_session)
                        )
                    if offer > alternative:
                        alternative, self.offers[j], self.expected[j] = offer, r, worth
                surplus = self.remembered[j] + cost + hold - alternative
                self.quits_today[j] = draw < ap.quit_rate * sigmoid(-surplus / ap.quit_scale)
            else:
                endorse = (
                    sum(
                        t.other(self).adopted[j]
                        * (1.0 - prm.manipulation.word_of_mouth * t.other(self).perceived[j])
                        for t in self.ties
                    )
                    / k
                )
                marketing = prm.feed.marketing if p.kind == "feed" else prm.companion.marketing
                prob = (marketing + ap.word_of_mouth * endorse) * self.appeal(p)
                if self.quit_day[j] >= 0:
                    surplus = self.remembered[j] + hold - self.offline_value
                    prob *= sigmoid(surplus / ap.quit_scale)
                self.joins_today[j] = draw < prob

    def move(self) -> None:
        """Apply today's quits and joins; quitters may switch to a same-kind rival."""
        m = self.model
        for j in range(len(m.providers)):
            if self.quits_today[j]:
                self.end_spell(j)
            if self.joins_today[j]:
                self.start_spell(j)
        for j, p in enumerate(m.providers):
            if not self.quits_today[j]:
                continue
            rivals = [r for r, q in enumerate(m.providers) if q.kind == p.kind and r != j]
            r = self.offers[j]  # the offer that drew them, else a rival at random
            if r < 0 and rivals and m.rng.random() < m.prm.adoption.switch_propensity:
                r = rivals[int(m.rng.integers(len(rivals)))]
            if r >= 0 and not self.adopted[r] and m.day >= m.providers[r].launch_day:
                self.start_spell(r)
                if r == self.offers[j]:
                    self.remembered[r] = self.expected[j]
                m.switches += 1


class MesaEconomy(mesa.Model):
    """The economy with one agent per user; defaults to the project's ``mixed`` market."""

    def __init__(self, users: int = 1000, days: int = 365, scenario: str = "mixed", seed=None):
        super().__init__(seed=seed)
        prm, _ = resolve(scenario, users=users, days=days, seed=seed or 0)
        self.prm, self.days, self.day = prm, days, 0
        self.rng = np.random.default_rng(seed)
        self.empathy = prm.companion.empathy
        self.providers = []
        for k in range(prm.market.feeds):
            levers = {
                x: getattr(prm.feed, x) for x in ("ad_load", "hooks", "personalisation", "nudge")
            }
            self.providers.append(ProviderAgent(self, f"feed_{chr(97 + k)}", "feed", levers))
        for k in range(prm.market.companions):
            levers = {
                x: getattr(prm.companion, x)
                for x in ("price", "hooks", "personalisation", "manipulation", "nudge")
            }
            p = ProviderAgent(self, f"companion_{chr(97 + k)}", "companion", levers)
            p.launch_day = prm.market.companion_launch_day
            self.providers.append(p)
        for p in self.providers:
            p.launch_day = getattr(p, "launch_day", 0)
        self.user_agents = AgentSet([], random=self.random)
        pp, c = prm.population, prm.population.trait_concentration
        rng = self.rng
        for _ in range(users):
            traits = {
                "loneliness_baseline": rng.beta(
                    pp.loneliness_mean * c, (1 - pp.loneliness_mean) * c
                ),
                "self_control": rng.beta(pp.self_control_mean * c, (1 - pp.self_control_mean) * c),
                "ai_openness": rng.beta(pp.ai_openness_mean * c, (1 - pp.ai_openness_mean) * c),
                "budget": min(
                    max(pp.budget_mean + pp.budget_sd * rng.standard_normal(), 30.0), 960.0
                ),
                "offline_value": prm.choice.offline_value
                + pp.offline_value_sd * rng.standard_normal(),
            }
            fit = [float(rng.beta(2.0, 2.0)) for _ in self.providers]
            self.user_agents.add(UserAgent(self, traits, fit))
        people = list(self.user_agents)
        k = min(prm.network.mean_degree, users - 1)
        k -= k % 2
        g = nx.watts_strogatz_graph(
            users, max(k, 2), prm.network.rewiring, seed=int(rng.integers(2**31))
        )
        mean = prm.network.initial_strength
        for a, b in g.edges():
            t = Tie(people[a], people[b], float(rng.beta(4 * mean, 4 * (1 - mean))))
            people[a].ties.append(t)
            people[b].ties.append(t)
        self.starts = self.quits = self.switches = self.tactics = self.sessions = 0
        self.farewells = 0
        self.wellbeing_reference = None
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "minutes_per_user_day": lambda m: m.mean(lambda a: sum(a.minutes)),
                "feed_minutes_per_user_day": lambda m: m.mean(lambda a: m.kind_minutes(a, "feed")),
                "companion_minutes_per_user_day": lambda m: m.mean(
                    lambda a: m.kind_minutes(a, "companion")
                ),
                "social_minutes_per_user_day": lambda m: m.mean(lambda a: a.social_minutes),
                "loneliness_mean": lambda m: m.mean(lambda a: a.loneliness),
                "wellbeing_mean": lambda m: m.mean(lambda a: a.wellbeing),
                "tie_strength_mean": lambda m: m.tie_strength_mean(),
                "feed_user_share": lambda m: m.mean(lambda a: m.uses(a, "feed")),
                "companion_user_share": lambda m: m.mean(lambda a: m.uses(a, "companion")),
                "ad_revenue_per_user_day": lambda m: m.mean(lambda a: a.ad_revenue),
                "subscription_revenue_per_user_day": lambda m: m.mean(
                    lambda a: a.subscription_revenue
                ),
                "revenue_per_user_day": lambda m: m.mean(lambda a: a.revenue),
                "mean_attachment": lambda m: m.mean_attachment(),
            }
        )

    # -- model-level measures ---------------------------------------------------------------
    def mean(self, f) -> float:
        return sum(f(a) for a in self.user_agents) / len(self.user_agents)

    def kind_minutes(self, a: UserAgent, kind: str) -> float:
        return sum(x for x, p in zip(a.minutes, self.providers, strict=True) if p.kind == kind)

    def uses(self, a: UserAgent, kind: str) -> bool:
        return any(x for x, p in zip(a.adopted, self.providers, strict=True) if p.kind == kind)

    def tie_strength_mean(self) -> float:
        ties = [t.strength for a in self.user_agents for t in a.ties]
        return sum(ties) / len(ties) if ties else 0.0

    def mean_attachment(self) -> float:
        comp = [j for j, p in enumerate(self.providers) if p.kind == "companion"]
        users = [a for a in self.user_agents if any(a.adopted[j] for j in comp)]
        return sum(max(a.attachment[j] for j in comp) for a in users) / len(users) if users else 0.0

    # -- the day ----------------------------------------------------------------------------
    def launch(self) -> None:
        prm = self.prm
        for j, p in enumerate(self.providers):
            if p.launch_day != self.day:
                continue
            share = (
                prm.feed.initial_adoption if p.kind == "feed" else prm.companion.initial_adoption
            )
            weights = [a.appeal(p) for a in self.user_agents]
            mean = sum(weights) / len(weights)
            for a, w in zip(self.user_agents, weights, strict=True):
                if self.rng.random() < min(max(share * w / mean, 0.0), 1.0):
                    a.start_spell(j)
                    if p.kind == "feed" and self.day == 0:
                        a.habit[j] = a.knowledge[j] = prm.feed.initial_habit

    def step(self) -> None:
        self.launch()
        for p in self.providers:
            p.revenue = p.cost = 0.0
        users = self.user_agents
        users.do("look_at_friends")
        users.do("choose")
        users.do("use")
        users.do("offer_time")
        users.do("meet")
        users.do("grow_ties")
        users.do("pay")
        users.do("decide")
        users.do("move")
        self.providers_step()
        self.datacollector.collect(self)
        self.day += 1
        if self.day >= self.days:
            self.running = False

    def providers_step(self) -> None:
        for p in self.providers:
            p.step()


def run(users: int = 1000, days: int = 365, seed: int = 0, scenario: str = "mixed"):
    """Run the reference; returns (daily frame, seconds of stepping)."""
    model = MesaEconomy(users=users, days=days, scenario=scenario, seed=seed)
    t0 = time.perf_counter()
    while model.running:
        model.step()
    seconds = time.perf_counter() - t0
    return model.datacollector.get_model_vars_dataframe(), seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=2000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    frame, seconds = run(a.users, a.days, a.seed)
    print(frame.tail(3).T)
    print(f"{a.users * a.days / seconds:,.0f} user-days per second ({seconds:.1f} s)")


if __name__ == "__main__":
    main()
