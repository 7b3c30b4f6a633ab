"""Plume-free background statistics: find the significant plume pixels and take them out of the statistics.

A plume inside the pixels that define the background shifts the mean toward the target and inflates the covariance
along it, so the matched filter is biased low — by roughly the share of the group's pixels in the plume times their
mean enhancement. A push-broom column that runs along a plume can hold a third of its pixels in it (−70 to −90 %
for faint pixels on a 200 × 200 scene). The engine therefore, after the first application of the filter:

1. marks the plume (:func:`plume_mask`): pixels whose *spatially averaged* significance ``ΔX/σ`` exceeds a
   threshold — plumes are spatially coherent and noise is not, so a 5 × 5 mean lifts a faint plume at 1σ per pixel to
   ~5σ — together with single pixels far above their noise, grown by a few pixels to take in the faint fringe;
2. sums the spectra of the marked pixels per group (a re-read of only the blocks that hold them) and updates the
   group statistics exactly (:func:`plume_free_statistics`): the marked pixels stay, with their estimated plume
   removed (:func:`remove_target`), so target-like clutter the mask also marks stays in the background; groups too
   starved or too heavily marked for a one-step estimate exclude them instead (:func:`exclude_pixels`);
3. re-applies the filter with weights from the downdated statistics.

The mask is taken from the first estimate each round, and the exclusion is always from the statistics of all pixels,
so a second round simply uses a better mask. Excluding background pixels that happen to be marked costs a little
statistical efficiency but no bias: the spatial test marks few pure-noise pixels (its threshold is calibrated on the
robust spread of the averaged significance itself).

**When the re-application is skipped** (:func:`reapply_needed`, one test for every engine). Step 3 is skipped only
when the downdated filter would change the summed estimate of the marked pixels by less than
:data:`REAPPLY_MIN_CHANGE` (1 %) — computed exactly from the sums of step 2 (``Σ (x - μ)`` of the marked pixels of
each group), so deciding costs no pass over the scene. The estimate is what the round exists to correct, so the test
measures it directly. A test on the mean (skip when the marked pixels cannot move any group's *mean* by 5 % of its
1σ) ignores the damage a plume does through the covariance: its radiance signature is ``t ∘ x``, which differs from
pixel to pixel on cluttered ground, so it is not a harmless rank-one term along the target, and on 100 × 100 EMIT
scenes such a test skips the round even with a 5000 ppm·m plume on 15–18 % of the pixels whose first estimate was
deflated to 0.6–0.7× (docs/design/robust_round.md).
"""

from __future__ import annotations

import numpy as np

from plumetrace.detect.covariance import GroupStatistics
from plumetrace.detect.matched_filter import AUTO_ROWS_PER_BAND, FilterWeights
from plumetrace.errors import InvalidInputError

__all__ = [
    "MASK_THRESHOLD",
    "MASK_WINDOW",
    "MASK_GROW",
    "MIN_KEPT",
    "POOL_BELOW_FRACTION",
    "REAPPLY_MIN_CHANGE",
    "EXCLUDE_ABOVE_SHARE",
    "REMOVE_MIN_PIXELS_PER_BAND",
    "ROUND_ALPHA_FLOOR_PPM_M",
    "plume_mask",
    "exclude_pixels",
    "plume_estimate_terms",
    "plume_estimate_sums",
    "remove_target",
    "plume_free_statistics",
    "marked_estimate_change",
    "reapply_needed",
]

#: Threshold (robust standard deviations) of the spatially averaged significance for a pixel to count as plume.
MASK_THRESHOLD = 3.0
#: Sides (pixels) of the square windows over which the significance is averaged (a faint, broad plume needs the
#: larger one: 0.8σ per pixel over 15 × 15 pixels is 12σ).
MASK_WINDOW = (5, 15)
#: Fewest pixels a group must keep for its statistics to be downdated at all.
MIN_KEPT = 10
#: A group pools its covariance only when it keeps less than this share of its pixels (and fewer than ``min_pixels``):
#: a few masked pixels cost its own covariance little, pooling costs column-to-column detail (noise +10 %).
POOL_BELOW_FRACTION = 0.75
#: A group whose marked share exceeds this excludes its marked pixels instead of removing the target from them
#: (:func:`plume_free_statistics`): where the plume is a large part of the background the first estimate ``α`` is
#: deflated and a one-step removal leaves most of the contamination (the complement of ``POOL_BELOW_FRACTION``).
EXCLUDE_ABOVE_SHARE = 1.0 - POOL_BELOW_FRACTION
#: Fewest pixels per window band a group needs for :func:`plume_free_statistics` to remove the target rather than
#: exclude: with fewer, each marked pixel's leverage on the covariance (≈ bands / pixels) deflates its own first
#: estimate (per-column statistics of a 200-row scene: −26 % bias left by removal, −8 % by exclusion). The threshold
#: at which ``stats="auto"`` trusts a column's own statistics.
REMOVE_MIN_PIXELS_PER_BAND = AUTO_ROWS_PER_BAND
#: Pixels by which the mask is grown (binary dilation) to take in the plume's faint fringe.
MASK_GROW = 2
#: Floor (ppm·m) of the first estimate the round removes from each marked pixel (:func:`plume_estimate_sums`): a plume
#: never absorbs negatively. Lowered to -inf it removes signed estimates (docs/design/bias_sources.md, point 5).
ROUND_ALPHA_FLOOR_PPM_M = 0.0
#: The filter is re-applied when the downdated statistics change the marked pixels' summed estimate by more than this
#: share (a tenth of the ±10 % bias target, below the sampling error of a plume's summed enhancement).
REAPPLY_MIN_CHANGE = 0.01


def _robust_scale(values: np.ndarray) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if finite.size < 10:
        return 0.0, 1.0
    sample = finite if finite.size <= 200_000 else finite[:: finite.size // 200_000]
    centre = float(np.median(sample))
    spread = 1.4826 * float(np.median(np.abs(sample - centre)))
    return centre, spread if spread > 0 else 1.0


def plume_mask(
    significance: np.ndarray,
    *,
    threshold: float = MASK_THRESHOLD,
    window: int | tuple[int, ...] = MASK_WINDOW,
    grow: int = MASK_GROW,
) -> np.ndarray:
    """Pixels that belong to a plume with high confidence.

    Parameters
    ----------
    significance : ndarray (n_row, n_col)
        ``ΔX / σ`` of every pixel (unitless), NaN where invalid.
    threshold : float, keyword-only
        In robust standard deviations, applied to the window-averaged significance; single pixels need
        ``threshold + 2`` on their own.
    window : int or tuple of int, keyword-only
        Sides of the averaging windows, pixels (odd, ≥ 1); a pixel is marked when any of them exceeds the threshold.
    grow : int, keyword-only
        Dilation of the mask, pixels (≥ 0).

    Returns
    -------
    ndarray (n_row, n_col) bool; False wherever ``significance`` is NaN.
    """
    from scipy import ndimage  # lazy: keeps `plumetrace detect` start-up short

    z = np.asarray(significance, dtype=np.float32)
    if z.ndim != 2:
        raise InvalidInputError("significance", f"expected a 2-D map, got shape {z.shape}")
    windows = (window,) if isinstance(window, (int, np.integer)) else tuple(window)
    if not windows or any(int(w) < 1 or int(w) % 2 == 0 for w in windows):
        raise InvalidInputError("window", f"{window!r}; expected odd whole numbers ≥ 1")
    if grow < 0:
        raise InvalidInputError("grow", f"{grow!r}; expected ≥ 0")
    valid = np.isfinite(z)
    filled = np.where(valid, z, np.float32(0.0))
    weight = valid.astype(np.float32)
    mask = np.zeros(z.shape, dtype=bool)
    all_valid = bool(valid.all())
    for side in windows:
        # Σz / √n over the window: unit variance for independent unit-variance z (the window area cancels).
        if all_valid:  # every window full (edges reflected): Σz / √n = mean × side
            averaged = ndimage.uniform_filter(filled, size=int(side), mode="reflect")
            averaged *= np.float32(side)
        else:
            total = ndimage.uniform_filter(filled, size=int(side), mode="constant")
            count = ndimage.uniform_filter(weight, size=int(side), mode="constant")
            with np.errstate(divide="ignore", invalid="ignore"):
                averaged = np.where(count > 0, total / np.sqrt(count) * np.float32(side), np.float32(np.nan))
        centre, spread = _robust_scale(averaged)
        mask |= (averaged - centre) > threshold * spread
    z_centre, z_spread = _robust_scale(z)
    mask |= (z - z_centre) > (threshold + 2.0) * z_spread
    mask &= valid
    if grow and mask.any():
        mask = ndimage.binary_dilation(mask, iterations=int(grow)) & valid
    return mask


def exclude_pixels(
    stats: GroupStatistics,
    count: np.ndarray,
    sum_d: np.ndarray,
    sum_dd: np.ndarray,
    *,
    min_pixels: int = 0,
) -> GroupStatistics:
    """Statistics of each group without a subset of its pixels (exact downdate), pooled where too few remain.

    Parameters
    ----------
    stats : GroupStatistics
        Count ``n``, mean ``μ`` and sample covariance ``C`` of all pixels of each group.
    count : ndarray (n_group,) int
        Pixels removed from each group (``m``).
    sum_d : ndarray (n_group, n_band) float64
        ``a = Σ (x - μ)`` over the removed pixels.
    sum_dd : ndarray (n_group, n_band, n_band) float64
        ``B = Σ (x - μ)(x - μ)ᵀ`` over the removed pixels.
    min_pixels : int, keyword-only
        A group left with fewer pixels than this and less than ``POOL_BELOW_FRACTION`` of its own (but at least
        ``MIN_KEPT``) keeps its own downdated mean but takes
        the covariance pooled (within-group scatter) over the groups that kept enough pixels: a plume that fills most
        of a column leaves too few rows for that column's covariance.

    Returns
    -------
    GroupStatistics
        With ``n' = n - m`` remaining pixels (their sum of ``x - μ`` is ``-a``): ``μ' = μ - a / n'`` and
        ``(n' - 1) C' = (n - 1) C - B - a aᵀ / n'``. Groups that would keep fewer than ``MIN_KEPT`` pixels are
        returned unchanged.
    """
    m = np.asarray(count, dtype=np.float64)
    n = stats.count.astype(np.float64)
    remaining = n - m
    change = (m > 0) & (remaining >= MIN_KEPT)
    idx = np.flatnonzero(change)
    new_count = np.where(change, remaining, n)
    mean = stats.mean.copy()
    cov = stats.cov.copy()
    if idx.size:  # only the groups that lose pixels
        a = np.asarray(sum_d, dtype=np.float64)[idx]
        kept = remaining[idx]
        mean[idx] -= a / kept[:, None]
        scatter = np.nan_to_num(stats.cov[idx]) * np.maximum(n[idx] - 1.0, 1.0)[:, None, None]
        scatter -= np.asarray(sum_dd, dtype=np.float64)[idx]
        scatter -= a[:, :, None] * a[:, None, :] / kept[:, None, None]
        scatter += scatter.transpose(0, 2, 1).copy()
        scatter *= 0.5
        cov[idx] = scatter / np.maximum(kept - 1.0, 1.0)[:, None, None]
    scarce = change & (new_count < min_pixels) & (new_count < POOL_BELOW_FRACTION * n)
    if np.any(scarce):
        good = (stats.count >= 2) & ~scarce
        if not good.any():
            good = stats.count >= 2
        weights = np.maximum(new_count[good] - 1.0, 0.0)
        pooled = np.einsum("g,gbc->bc", weights, np.nan_to_num(cov[good])) / max(float(weights.sum()), 1.0)
        cov[scarce] = pooled
    cov[stats.count < 2] = np.nan
    return GroupStatistics(count=new_count.astype(np.int64), mean=mean, cov=cov)


def plume_estimate_terms(
    weights: FilterWeights, base_mean: np.ndarray, stats_mean: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-group terms of each marked pixel's first plume estimate, for the sums :func:`remove_target` takes.

    With ``d = x - b`` (``b = base_mean``, what the marked pixels are centred on): ``α = max(0, d·gain +
    alpha_offset)`` (ppm·m) with ``gain = q / (sᵀq)`` of the current filter and ``alpha_offset = (b - μ_filter)·gain``;
    ``Σ α (x - μ) = Σ α (d + stats_offset)`` about the statistics' mean, ``stats_offset = b - μ_stats``.
    Returns ``gain`` (n_group, n_band), ``alpha_offset`` (n_group,), ``stats_offset`` (n_group, n_band).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        gain = np.nan_to_num(weights.q / weights.normalizer[:, None])
    alpha_offset = np.einsum("gb,gb->g", np.nan_to_num(base_mean - weights.mean), gain)
    return gain, alpha_offset, np.nan_to_num(base_mean - stats_mean)


def plume_estimate_sums(
    centred: np.ndarray, gain: np.ndarray, alpha_offset: float, stats_offset: np.ndarray
) -> tuple[float, np.ndarray, float]:
    """``A = Σ α``, ``P = Σ α (d + stats_offset)`` and ``Q = Σ α²`` over one group's marked pixels, for
    :func:`remove_target`.

    ``centred`` (n, n_band) float64 holds ``d = x - b``; each pixel's first estimate is
    ``α = max(ROUND_ALPHA_FLOOR_PPM_M, d·gain + alpha_offset)`` (ppm·m), with the group's terms from
    :func:`plume_estimate_terms`.
    """
    alpha = np.maximum(centred @ gain + alpha_offset, ROUND_ALPHA_FLOOR_PPM_M)
    total = float(alpha.sum())
    return total, alpha @ centred + total * stats_offset, float(alpha @ alpha)


def remove_target(
    stats: GroupStatistics,
    target: np.ndarray,
    sum_alpha: np.ndarray,
    sum_alpha_d: np.ndarray,
    sum_alpha2: np.ndarray,
) -> GroupStatistics:
    """Statistics of each group with the estimated plume signal taken out of some of its pixels (exact update).

    Every pixel stays in the statistics; a marked pixel ``x`` enters as ``x - α s`` with ``α`` its estimated
    enhancement (ppm·m; ≥ 0 in the engine) and ``s`` the group's target (radiance per ppm·m) — the plume removal of
    mag1c (Foote et al. 2020, IEEE TGRS 58:6480) applied to the marked pixels only. Unlike :func:`exclude_pixels`, a
    marked pixel of target-like *clutter* (a minority surface) keeps describing the background in every direction but
    the target's, so it is not judged afterwards against a background that no longer contains it.

    Parameters
    ----------
    stats : GroupStatistics
        Count ``n``, mean ``μ`` and sample covariance ``C`` of all pixels of each group.
    target : ndarray (n_group, n_band) float64
        Target signature ``s`` of each group (radiance units per ppm·m).
    sum_alpha : ndarray (n_group,)
        ``A = Σ α`` over the marked pixels (ppm·m).
    sum_alpha_d : ndarray (n_group, n_band)
        ``P = Σ α (x - μ)`` over the marked pixels.
    sum_alpha2 : ndarray (n_group,)
        ``Q = Σ α²`` over the marked pixels.

    Returns
    -------
    GroupStatistics
        Same counts; ``μ' = μ - (A / n) s`` and
        ``(n - 1) C' = (n - 1) C - s Pᵀ - P sᵀ + (Q - A² / n) s sᵀ``.
    """
    n = stats.count.astype(np.float64)
    s = np.asarray(target, dtype=np.float64)
    a = np.asarray(sum_alpha, dtype=np.float64)
    p = np.asarray(sum_alpha_d, dtype=np.float64)
    q = np.asarray(sum_alpha2, dtype=np.float64)
    if s.shape != stats.mean.shape or p.shape != stats.mean.shape or a.shape != n.shape or q.shape != n.shape:
        raise InvalidInputError(
            "target", f"sums shaped {s.shape}, {a.shape}, {p.shape}, {q.shape} for statistics {stats.mean.shape}"
        )
    change = (stats.count >= 2) & (q > 0)  # some α ≠ 0 (the same as Σα > 0 for the engine's α ≥ 0)
    mean = stats.mean.copy()
    cov = stats.cov.copy()
    idx = np.flatnonzero(change)
    if idx.size:
        si, ni = s[idx], n[idx]
        mean[idx] -= (a[idx] / ni)[:, None] * si
        sp = si[:, :, None] * p[idx][:, None, :]
        scatter = stats.cov[idx] * (ni - 1.0)[:, None, None] - sp - sp.transpose(0, 2, 1)
        scatter += (q[idx] - a[idx] ** 2 / ni)[:, None, None] * (si[:, :, None] * si[:, None, :])
        cov[idx] = scatter / (ni - 1.0)[:, None, None]
    return GroupStatistics(count=stats.count.copy(), mean=mean, cov=cov)


def plume_free_statistics(
    stats: GroupStatistics,
    target: np.ndarray,
    count: np.ndarray,
    sum_d: np.ndarray,
    sum_dd: np.ndarray,
    sum_alpha: np.ndarray,
    sum_alpha_d: np.ndarray,
    sum_alpha2: np.ndarray,
    *,
    min_pixels: int = 0,
) -> GroupStatistics:
    """Statistics for the robust round: :func:`remove_target` per group, :func:`exclude_pixels` where the marked
    pixels are more than :data:`EXCLUDE_ABOVE_SHARE` of the group or the group has fewer than
    :data:`REMOVE_MIN_PIXELS_PER_BAND` pixels per band.

    Removing the estimated plume keeps target-like clutter that the mask also marks in the background (excluding it
    made it stand out: half the AUPRC on procedural AVIRIS-NG, docs/design/spy_gap.md); but its one-step estimate
    ``α`` is deflated where the plume fills much of a group (a column along the plume), and there exclusion is the
    better estimate of the plume-free background.
    Arguments as for :func:`exclude_pixels` (``count``, ``sum_d``, ``sum_dd`` about the group mean, ``min_pixels``)
    and :func:`remove_target` (``target``, ``sum_alpha``, ``sum_alpha_d``, ``sum_alpha2``).
    """
    removed = remove_target(stats, target, sum_alpha, sum_alpha_d, sum_alpha2)
    n = stats.count.astype(np.float64)
    heavy = (np.asarray(count, dtype=np.float64) > EXCLUDE_ABOVE_SHARE * n) | (
        n < REMOVE_MIN_PIXELS_PER_BAND * stats.mean.shape[1]
    )
    if not heavy.any():
        return removed
    excluded = exclude_pixels(stats, count, sum_d, sum_dd, min_pixels=min_pixels)
    return GroupStatistics(
        count=np.where(heavy, excluded.count, removed.count),
        mean=np.where(heavy[:, None], excluded.mean, removed.mean),
        cov=np.where(heavy[:, None, None], excluded.cov, removed.cov),
    )


def marked_estimate_change(
    count: np.ndarray,
    sum_d: np.ndarray,
    base_mean: np.ndarray,
    before: FilterWeights,
    after: FilterWeights,
) -> float:
    """Relative change of the marked pixels' summed matched-filter estimate from one filter to another.

    Parameters
    ----------
    count : ndarray (n_group,) int
        Marked pixels of each group ``m``.
    sum_d : ndarray (n_group, n_band) float64
        ``Σ (x - b)`` over the marked pixels of each group, radiance units.
    base_mean : ndarray (n_group, n_band)
        The spectra ``b`` the sums were taken about (radiance units).
    before, after : FilterWeights
        The filter applied so far and the one from the downdated statistics.

    Returns
    -------
    float
        ``Σ_g |S'_g - S_g| / Σ_g |S_g|`` with ``S_g = (Σ (x - b) + m (b - μ))ᵀ q / (sᵀ q)`` the summed linear estimate
        (ppm·m, before any albedo correction) of group ``g``'s marked pixels under each filter; 0 when nothing is
        marked.
    """
    m = np.asarray(count, dtype=np.float64)[:, None]
    a = np.asarray(sum_d, dtype=np.float64)
    b = np.asarray(base_mean, dtype=np.float64)

    def summed(weights: FilterWeights) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            total = np.einsum("gb,gb->g", a + m * (b - weights.mean), weights.q) / weights.normalizer
        return np.where(m[:, 0] > 0, np.nan_to_num(total, nan=0.0, posinf=0.0, neginf=0.0), 0.0)

    old, new = summed(before), summed(after)
    scale = float(np.abs(old).sum())
    return float(np.abs(new - old).sum()) / scale if scale > 0 else 0.0


def reapply_needed(
    count: np.ndarray,
    sum_d: np.ndarray,
    base_mean: np.ndarray,
    before: FilterWeights,
    after: FilterWeights,
    *,
    min_change: float = REAPPLY_MIN_CHANGE,
) -> bool:
    """Whether a robust round must re-apply the filter: the downdated statistics move the estimate of the marked pixels.

    The round exists to correct the estimate of the plume pixels for their own contamination of the statistics
    (through the mean *and* the covariance), so the test measures that directly with
    :func:`marked_estimate_change` — exact, from sums the round has already taken — instead of a proxy such as the
    shift of a group's mean. Arguments as for :func:`marked_estimate_change`; ``min_change`` (share, ≥ 0) is the
    smallest relative change worth another pass over the scene.
    """
    if not (min_change >= 0):
        raise InvalidInputError("min_change", f"{min_change!r}; expected a share ≥ 0")
    if not np.any(np.asarray(count) > 0):
        return False
    return marked_estimate_change(count, sum_d, base_mean, before, after) > min_change
