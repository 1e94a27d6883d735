"""The oracle's bound when requests of one conversation pay for each other's lost cache (`unit: request`,
`cache_on_switch: lost`; docs/simulation.md "Limits" and "Oracle bound and router metrics").

Moving a subset S of a conversation's eligible requests costs the sum of each moved request's own delta (priced
with the cache kept) plus its cache extra: the first moved one (by ts, then row hash) pays its cache-read tokens at
the cache-write price (`cw`); every later one at the input price (`inp`), unless S is the whole conversation
(every request row of it the replay reads), when they pay nothing more. So a request's cost when moved is not its
own, and the cheapest assignment at a quality level is a choice of one subset per conversation (a multiple-choice
knapsack), not a prefix of any ranking of requests.

`cache_bound` computes, exactly:

1. Per conversation, the upper hull (most quality gained per dollar, from its cheapest subset to its best) of the
   points (cost, quality) of *all* its subsets. Only these candidates can be hull vertices: the empty set; the
   whole conversation (where whole is possible); and for each first-moved request f, the upper chain of
   {f} ∪ T over subsets T of the requests after f — there each later request adds its own (cost + inp, quality),
   so that set is a zonotope whose upper chain starts at f plus every later request that saves money (or is free
   and gains), then adds (or drops) the others one at a time by quality per dollar, best first: O(m) points per f,
   O(m²) per conversation of m requests. A subset that is not a candidate lies under its own f's chain.
2. Across conversations, the Minkowski sum of those concave chains: the sum of their cheapest points, then every
   chain's edges merged by slope, best first (the greedy over hull segments of the fractional multiple-choice
   knapsack).

What is exact: every vertex of the result is reached by a real assignment (each conversation at one of its own
hull vertices: a subset), and no assignment reaches at least its quality for less, or more quality for at most its
cost. Between two vertices the segment is an upper bound (of the quality any assignment reaches at that cost),
not itself reached in general. Tested against every assignment of small random ledgers
(tests/simulate/test_simulate_hull.py) and on the worked example of docs/simulation.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Bound:
    """The bound's vertices, cheapest first (gain strictly increasing): relative to nothing moved, the cost and the
    quality gain, the requests moved, and the carried sums (`extra`, K × vertices: e.g. scored requests, baseline
    quality), each summed over the assignment of that vertex."""

    cost: np.ndarray
    gain: np.ndarray
    moved: np.ndarray
    extra: np.ndarray


def _seg_prev_max(group: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Per element, the largest `value` of the elements before it in its group (−inf for a group's first). `group`
    non-decreasing."""
    uniq, rank = np.unique(value, return_inverse=True)
    width = int(rank.max(initial=0)) + 2
    key = group.astype(np.int64) * width + rank + 1
    run = np.maximum.accumulate(key)
    prev = np.empty_like(run)
    prev[0] = -1
    prev[1:] = run[:-1]
    first = np.ones(len(group), dtype=bool)
    first[1:] = group[1:] != group[:-1]
    out = np.full(len(group), -np.inf)
    ok = ~first & (prev >= group.astype(np.int64) * width + 1)
    out[ok] = uniq[prev[ok] - group[ok].astype(np.int64) * width - 1]
    return out


def _upper_chains(group: np.ndarray, cost: np.ndarray, gain: np.ndarray) -> np.ndarray:
    """Indices of each group's upper-hull chain (cheapest point with the most gain, then gain strictly rising,
    concave), sorted by (group, cost). Vectorised across groups: non-dominated points first, then points on or
    under the segment joining their neighbours removed, repeatedly (a point under a segment between two points of
    the set is never a vertex, so removing all such at once is safe)."""
    order = np.lexsort((-gain, cost, group))
    g, c, q = group[order], cost[order], gain[order]
    keep = q > _seg_prev_max(g, q)
    idx = order[keep]
    while True:
        g, c, q = group[idx], cost[idx], gain[idx]
        if len(idx) < 3:
            return idx
        inner = np.zeros(len(idx), dtype=bool)
        inner[1:-1] = (g[:-2] == g[1:-1]) & (g[2:] == g[1:-1])
        a, b, d = slice(0, -2), slice(1, -1), slice(2, None)
        under = np.zeros(len(idx), dtype=bool)
        under[1:-1] = (q[b] - q[a]) * (c[d] - c[a]) <= (q[d] - q[a]) * (c[b] - c[a])
        drop = inner & under
        if not drop.any():
            return idx
        idx = idx[~drop]


def cache_bound(conv: np.ndarray, pos: np.ndarray, dcost: np.ndarray, dgain: np.ndarray, cw: np.ndarray,
                inp: np.ndarray, whole_ok: np.ndarray, extra: np.ndarray | None = None) -> Bound:
    """The exact bound's vertices (see the module docstring) over n eligible request rows: `conv` their conversation
    (a row without one: a code of its own), `pos` their order within it (ts, then row hash), `dcost` / `dgain` the
    cost and quality delta of moving the row with its cache kept, `cw` / `inp` its cache extra when it is the first
    moved of its conversation / a later one of a split conversation (≥ 0), `whole_ok` whether moving every row of
    its conversation given here moves the whole conversation; `extra` (K × n) sums carried along."""
    n = len(conv)
    extra = np.zeros((0, n)) if extra is None else np.asarray(extra, dtype=float)
    k_extra = extra.shape[0]
    if n == 0:
        return Bound(np.zeros(1), np.zeros(1), np.zeros(1, dtype=np.int64), np.zeros((k_extra, 1)))
    if (inp < 0).any() or (cw < 0).any():
        raise ValueError("cache extras must be >= 0 (a target's cache-read price above its input or write price)")
    srt = np.lexsort((pos, conv))
    conv, dcost, dgain, cw, inp, whole_ok, extra = (conv[srt], dcost[srt], dgain[srt], cw[srt], inp[srt],
                                                    whole_ok[srt], extra[:, srt])
    start = np.ones(n, dtype=bool)
    start[1:] = conv[1:] != conv[:-1]
    grp = np.cumsum(start) - 1                                 # conversation index 0..C-1
    n_grp = int(grp[-1]) + 1
    bounds = np.append(np.flatnonzero(start), n)
    end = bounds[grp + 1]                                       # one past each row's conversation
    # pairs (f, t): t after f in its conversation
    later = end - np.arange(n) - 1
    pf = np.repeat(np.arange(n), later)
    off = np.cumsum(later) - later
    pt = pf + 1 + (np.arange(len(pf)) - off[pf])
    ic, ig, ix = dcost[pt] + inp[pt], dgain[pt], extra[:, pt]
    at_start = (ic < 0) | ((ic == 0) & (ig > 0))
    edge = ((ic > 0) & (ig > 0)) | ((ic < 0) & (ig < 0))
    # each f's cheapest point: f (first: its cache write) and every later request that saves (or is free and gains)
    w = at_start.astype(float)
    s_cost = dcost + cw + np.bincount(pf, weights=ic * w, minlength=n)
    s_gain = dgain + np.bincount(pf, weights=ig * w, minlength=n)
    s_moved = 1 + np.bincount(pf, weights=w, minlength=n).astype(np.int64)
    s_extra = extra + np.vstack([np.bincount(pf, weights=ix[j] * w, minlength=n) for j in range(k_extra)]
                                ) if k_extra else extra.copy()
    # then its chain: the edges by quality per dollar, best first (adding a request, or dropping a saving one)
    e = np.flatnonzero(edge)
    sign = np.where(ic[e] > 0, 1.0, -1.0)
    slope = ig[e] / ic[e]
    e_order = np.lexsort((-slope, pf[e]))
    e, sign = e[e_order], sign[e_order]
    ef = pf[e]
    d_cost, d_gain, d_moved = sign * ic[e], sign * ig[e], sign.astype(np.int64)
    d_extra = ix[:, e] * sign
    first_e = np.ones(len(e), dtype=bool)
    first_e[1:] = ef[1:] != ef[:-1]

    def seg_cumsum(v: np.ndarray) -> np.ndarray:
        cs = np.cumsum(v, axis=-1)
        if v.shape[-1] == 0:
            return cs
        lead = np.flatnonzero(first_e)
        base = (cs - v)[..., lead]                         # the sum before each f's first edge
        counts = np.diff(np.append(lead, v.shape[-1]))
        return cs - np.repeat(base, counts, axis=-1)

    c_cost = s_cost[ef] + seg_cumsum(d_cost)
    c_gain = s_gain[ef] + seg_cumsum(d_gain)
    c_moved = s_moved[ef] + seg_cumsum(d_moved)
    c_extra = s_extra[:, ef] + seg_cumsum(d_extra)
    # the whole conversation (its later requests keep the cache) where that is possible; and nothing moved
    firsts = bounds[:-1]
    whole = whole_ok[firsts]
    w_cost = np.add.reduceat(dcost, firsts) + cw[firsts]
    w_gain = np.add.reduceat(dgain, firsts)
    w_moved = np.diff(bounds)
    w_extra = np.add.reduceat(extra, firsts, axis=1) if k_extra else np.zeros((0, n_grp))
    wi = np.flatnonzero(whole)
    cand_grp = np.concatenate([grp, grp[ef], wi, np.arange(n_grp)])
    cand_cost = np.concatenate([s_cost, c_cost, w_cost[wi], np.zeros(n_grp)])
    cand_gain = np.concatenate([s_gain, c_gain, w_gain[wi], np.zeros(n_grp)])
    cand_moved = np.concatenate([s_moved, c_moved, w_moved[wi], np.zeros(n_grp, dtype=np.int64)])
    cand_extra = np.concatenate([s_extra, c_extra, w_extra[:, wi], np.zeros((k_extra, n_grp))], axis=1)
    # per conversation its upper hull; then the Minkowski sum of the chains: the cheapest points, edges by slope
    chain = _upper_chains(cand_grp, cand_cost, cand_gain)
    cg = cand_grp[chain]
    lead = np.ones(len(chain), dtype=bool)
    lead[1:] = cg[1:] != cg[:-1]
    heads = chain[lead]
    dc = np.diff(cand_cost[chain])[~lead[1:]]
    dg = np.diff(cand_gain[chain])[~lead[1:]]
    dm = np.diff(cand_moved[chain])[~lead[1:]]
    dx = np.diff(cand_extra[:, chain], axis=1)[:, ~lead[1:]]
    o = np.argsort(-(dg / dc), kind="stable")
    cost = np.concatenate([[cand_cost[heads].sum()], cand_cost[heads].sum() + np.cumsum(dc[o])])
    gain = np.concatenate([[cand_gain[heads].sum()], cand_gain[heads].sum() + np.cumsum(dg[o])])
    moved = np.concatenate([[cand_moved[heads].sum()], cand_moved[heads].sum() + np.cumsum(dm[o])])
    x0 = cand_extra[:, heads].sum(axis=1)
    xs = np.concatenate([x0[:, None], x0[:, None] + np.cumsum(dx[:, o], axis=1)], axis=1)
    return Bound(cost, gain, moved.astype(np.int64), xs)


__all__ = ["Bound", "cache_bound"]
