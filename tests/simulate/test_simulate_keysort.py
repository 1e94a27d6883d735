"""simulate.keysort.lex_order: exactly np.lexsort's permutation (the slider tables' rank order and a seed's order
rest on it: the replay's tie order must be kept)."""

from __future__ import annotations

import numpy as np
import pytest

from simulate.keysort import _lead, lex_order


def _column(rng: np.random.Generator, kind: str, n: int) -> np.ndarray:
    if kind == "few":                        # many exact ties
        return rng.integers(0, 4, n)
    if kind == "tokens":
        return rng.integers(100, 5000, n)
    if kind == "ts":                         # microseconds, at second resolution
        return rng.integers(1_735_689_600, 1_751_241_600, n) * 1_000_000
    if kind == "hash":                       # the full 64-bit range
        return rng.integers(0, 2**64 - 1, n, dtype=np.uint64, endpoint=True)
    if kind == "signed":
        return rng.integers(-2**63, 2**63 - 1, n, dtype=np.int64)
    if kind == "small_signed":
        return rng.integers(-5, 5, n).astype(np.int32)
    if kind == "bool":
        return rng.integers(0, 2, n).astype(bool)
    if kind == "score":                      # a router's score: ties, infinity for unscored, signed zeros
        return rng.choice([-0.0, 0.0, 0.25, 0.5, np.inf], n)
    raise AssertionError(kind)


KINDS = ["few", "tokens", "ts", "hash", "signed", "small_signed", "bool", "score"]


@pytest.mark.parametrize("seed", range(40))
def test_same_permutation_as_lexsort(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 400))
    kinds = rng.choice(KINDS, size=int(rng.integers(1, 5)))
    cols = [_column(rng, k, n) for k in kinds]
    assert np.array_equal(lex_order(cols), np.lexsort(cols[::-1])), list(kinds)


@pytest.mark.parametrize("keys", [["tokens", "ts", "hash"], ["hash", "hash"], ["score", "hash"], ["few", "few"]])
def test_rank_keys_with_ties(keys: list[str]) -> None:
    """The policies' order keys (simplest, random, score) with duplicated rows: equal tuples keep their position."""
    rng = np.random.default_rng(7)
    cols = [_column(rng, k, 2_000) for k in keys]
    cols = [np.concatenate([c, c[:500]]) for c in cols]          # 500 rows repeated exactly
    assert np.array_equal(lex_order(cols), np.lexsort(cols[::-1]))


def test_nan_leading_key_falls_back() -> None:
    cols = [np.array([np.nan, 1.0, np.nan, 0.0]), np.array([3, 2, 1, 0])]
    assert np.array_equal(lex_order(cols), np.lexsort(cols[::-1]))


def test_a_key_that_cannot_lead_is_none() -> None:
    # _lead says None (lex_order then uses lexsort) for a float first column with NaN and for a text one
    assert _lead([np.array([np.nan, 1.0]), np.array([1, 0])]) is None
    assert _lead([np.array(["b", "a"]), np.array([1, 0])]) is None
    key, used = _lead([np.array([2.0, 1.0]), np.array([1, 0])])
    assert used == 1 and np.array_equal(key, [2.0, 1.0])
    key, used = _lead([np.array([5, 3], dtype=np.int64), np.array([True, False])])
    assert used == 2 and np.array_equal(np.argsort(key), [1, 0])
