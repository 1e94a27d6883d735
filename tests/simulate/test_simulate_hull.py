"""The oracle's exact bound when requests of one conversation pay for each other's lost cache (simulate/hull.py):
against every assignment of small random ledgers, and on the worked example of docs/simulation.md."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from simulate.hull import cache_bound


def brute(conv, pos, dcost, dgain, cw, inp, whole_ok):
    """(cost, gain, moved) of every assignment, by the replay's rule: per conversation the first moved request (by
    position) pays its cache write, each later one its input extra unless the whole conversation moved."""
    n = len(conv)
    out = []
    for mask in itertools.product((False, True), repeat=n):
        s = np.array(mask, dtype=bool)
        cost = gain = 0.0
        for c in np.unique(conv):
            rows = np.flatnonzero(conv == c)
            took = rows[s[rows]]
            if not len(took):
                continue
            first = took[np.argmin(pos[took])]
            cost += dcost[took].sum() + cw[first]
            if not (len(took) == len(rows) and whole_ok[rows[0]]):
                cost += inp[took].sum() - inp[first]
            gain += dgain[took].sum()
        out.append((cost, gain, int(s.sum())))
    return np.array(out)


def envelope(b, cost):
    """The bound's quality at `cost` (piecewise linear between vertices, flat after the last; no assignment is
    cheaper than the first, checked apart)."""
    return np.interp(np.maximum(cost, b.cost[0]), b.cost, b.gain, right=b.gain[-1])


def check(conv, pos, dcost, dgain, cw, inp, whole_ok):
    b = cache_bound(conv, pos, dcost, dgain, cw, inp, whole_ok)
    pts = brute(conv, pos, dcost, dgain, cw, inp, whole_ok)
    tol = 1e-9
    assert np.all(np.diff(b.cost) > 0) and np.all(np.diff(b.gain) > 0)
    # every assignment lies on or under the bound, none is cheaper than its first vertex
    assert pts[:, 0].min() >= b.cost[0] - tol
    assert np.all(pts[:, 1] <= envelope(b, pts[:, 0]) + tol)
    for c, g, m in zip(b.cost, b.gain, b.moved, strict=True):
        # each vertex is a real assignment (cost, quality and requests moved)
        hit = (np.abs(pts[:, 0] - c) < tol) & (np.abs(pts[:, 1] - g) < tol) & (pts[:, 2] == m)
        assert hit.any(), (c, g, m)
        # and the cheapest way to reach its quality
        assert pts[pts[:, 1] >= g - tol, 0].min() == pytest.approx(c, abs=tol)
    return b


@pytest.mark.parametrize("seed", range(60))
def test_the_bound_is_exact_at_its_vertices_against_every_assignment(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 10))
    conv = rng.integers(0, max(1, n // 2), n)
    lone = rng.random(n) < 0.25                    # rows without a session: each its own conversation
    conv = np.where(lone, 100 + np.arange(n), conv)
    pos = rng.permutation(n)
    dcost = rng.normal(-1.0, 1.0, n).round(3)      # most moves save, some cost
    dgain = rng.normal(-0.1, 0.15, n).round(3)     # most lose quality, some gain
    cw = (rng.random(n) * 1.5).round(3)
    inp = (rng.random(n) * 1.0).round(3)
    whole = {c: bool(rng.random() < 0.7) for c in np.unique(conv)}
    whole_ok = np.array([True if c >= 100 else whole[c] for c in conv])
    check(conv, pos, dcost, dgain, cw, inp, whole_ok)


def test_the_worked_example():
    """docs/simulation.md's conversations at a target of $1 input, $0.10 cache read, $1.25 cache write per 1M, each
    request billed $0.01 and kept at (1,000 + cache reads × 0.1 + 100 × 2) / 1M; each moved request loses 0.1 of
    quality. A: 0, 10k, 20k cache reads; B: 5k, 30k; a request without a session: 40k.

    Moving (cache kept): A1 −0.0088, A2 −0.0078, A3 −0.0068, B1 −0.0083, B2 −0.0058, lone −0.0048. Cache write
    extra (× 1.15 / 1M): 0, 0.0115, 0.023, 0.00575, 0.0345, 0.046; input extra (× 0.9 / 1M): 0, 0.009, 0.018,
    0.0045, 0.027, 0.036. A's hull: whole (−0.0234, −0.3; only A1's write, which is 0), {A1} (−0.0088, −0.1),
    nothing ({A1, A2} is −0.0076 for −0.2: dominated). B's: whole (−0.00835, −0.2), nothing ({B1} −0.00255 for
    −0.1 lies under that segment). The lone request: nothing (moving it costs +0.0412). Cheapest: A and B whole,
    −0.03175 with 5 moved; then B's edge (0.2 of quality for $0.00835: 23.95 a dollar), A's first (0.2 for
    $0.0146: 13.70), A's last (0.1 for $0.0088: 11.36)."""
    cr = np.array([0, 10_000, 20_000, 5_000, 30_000, 40_000], dtype=float)
    conv = np.array([0, 0, 0, 1, 1, 2])
    pos = np.arange(6)
    dcost = (1_200 + 0.1 * cr) / 1e6 - 0.01
    b = check(conv, pos, dcost, np.full(6, -0.1), cr * 1.15 / 1e6, cr * 0.9 / 1e6, np.ones(6, dtype=bool))
    assert b.cost == pytest.approx([-0.03175, -0.0234, -0.0088, 0.0], abs=1e-12)
    assert b.gain == pytest.approx([-0.5, -0.3, -0.1, 0.0], abs=1e-12)
    assert b.moved.tolist() == [5, 3, 1, 0]
    # the same conversations when B has a request the policy cannot move (B is never whole): B's only point that
    # saves is {B1}: −0.00255 for −0.1
    whole_ok = np.array([True, True, True, False, False, True])
    b = check(conv, pos, dcost, np.full(6, -0.1), cr * 1.15 / 1e6, cr * 0.9 / 1e6, whole_ok)
    assert b.cost[0] == pytest.approx(-0.0234 - 0.00255, abs=1e-12) and b.moved[0] == 4


def test_carried_sums_follow_the_vertices():
    conv, pos = np.array([0, 0, 1]), np.arange(3)
    b = cache_bound(conv, pos, np.array([-1.0, -1.0, -2.0]), np.array([-0.1, -0.1, -0.5]), np.zeros(3),
                    np.array([0.0, 0.5, 0.0]), np.ones(3, dtype=bool), extra=np.array([[1.0, 10.0, 100.0]]))
    for m, x in zip(b.moved, b.extra[0], strict=True):
        assert x in {0.0, 1.0, 11.0, 100.0, 101.0, 111.0} and (m == 0) == (x == 0)
    assert b.extra[0, 0] == 111.0 and b.moved[0] == 3                 # everything moved is the cheapest
