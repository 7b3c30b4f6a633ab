"""Which library gases a plume holds, and how much: stepwise selection with the Bayesian information criterion.

Model of a plume's pixels (whitened, :mod:`plumetrace.detect.lwir.background`): the exact single-layer radiance
change ``ΔL(x) = τ D(x) ⊙ (exp(Σ_g α_g c_g(x)) − 1)`` with the observed contrast ``D`` (no thin-plume
linearisation: strong bands of a 500 ppm·m plume reach optical depths near 1).

*Selection* fits each candidate set ``S`` of gases with a rank-one column model ``c_g(x) = r_g m(x)`` (co-emitted
gases share the plume's dilution map ``m``; ``r_g`` is the gas's plume-mean column) by alternating Gauss-Newton
steps, and scores it with ``BIC(S) = RSS(S)/φ + κ |S| ln N`` (``N`` = pixels × channels, ``φ`` ≥ 1 the residual
dispersion of the current model, κ the penalty multiplier, 1 for the textbook BIC). Forward stepwise: start from the
best single gas, add the gas that lowers the BIC most while one does (its column must come out positive), and after
each addition drop any gas whose removal lowers it. The identification confidence of the chosen set is its posterior
probability among every model visited, ``exp(−BIC/2)`` normalised.

*Columns* of the chosen set are then fitted pixel by pixel (Gauss-Newton, free columns) with their 1σ from the
Jacobian. Gases whose whitened targets correlate above a threshold cannot be told apart at the sensor's resolution:
:func:`ambiguous_groups` finds them, and a plume holding one of them reports the whole group.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from plumetrace.detect.lwir.layer import LayerModel

__all__ = ["PlumeFit", "ambiguous_groups", "fit_pixel_columns", "fit_rank_one", "select_gases"]

Whitener = Callable[[np.ndarray], np.ndarray]


def ambiguous_groups(
    targets_w: np.ndarray, names: tuple[str, ...], threshold: float
) -> tuple[list[tuple[str, ...]], np.ndarray]:
    """Groups of gases whose whitened targets correlate above ``threshold`` (connected components of the graph).

    Parameters
    ----------
    targets_w : ndarray (n_gas, n_band)
        Whitened target per gas (e.g. at the scene's median contrast).
    names : tuple of str
        Gas names.
    threshold : float
        Correlation (|cos| of the whitened targets) above which two gases are alike.

    Returns
    -------
    (groups, correlation)
        Groups of two or more gases (each sorted by library order), and the (n_gas, n_gas) correlation matrix.
    """
    unit = targets_w / np.maximum(np.linalg.norm(targets_w, axis=1, keepdims=True), 1e-300)
    corr = unit @ unit.T
    n = len(names)
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(n):
        for j in range(i + 1, n):
            if abs(corr[i, j]) > threshold:
                parent[root(j)] = root(i)
    members: dict[int, list[int]] = {}
    for i in range(n):
        members.setdefault(root(i), []).append(i)
    groups = [tuple(names[i] for i in sorted(m)) for m in members.values() if len(m) > 1]
    return groups, corr


def fit_pixel_columns(
    residual_w: np.ndarray,
    contrast: np.ndarray,
    layer: LayerModel,
    whitener: Whitener,
    *,
    start: np.ndarray | None = None,
    iterations: int = 6,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-pixel Gauss-Newton fit of the columns of a set of gases.

    Parameters
    ----------
    residual_w : ndarray (n_p, n_band)
        Whitened ``x − μ`` of the pixels.
    contrast : ndarray (n_p, n_band)
        ``τ ⊙ D`` of the pixels.
    layer : LayerModel
        Forward model of the gases (s of them).
    whitener : callable
        Applies the pixels' whitening to an array (n_p, …, n_band).
    start : ndarray (n_p, s), optional
        Starting columns (default 0).
    iterations : int
        Gauss-Newton steps.

    Returns
    -------
    (columns_ppm_m, sigma_ppm_m, rss) : (n_p, s), (n_p, s), (n_p,)
    """
    n_p, s = residual_w.shape[0], layer.n_gas
    columns = np.zeros((n_p, s)) if start is None else np.array(start, dtype=np.float64)
    eye = 1e-12 * np.eye(s)
    for _ in range(iterations + 1):
        model, jac = layer.evaluate(contrast, columns)
        jac = whitener(jac)  # (n_p, s, b)
        err = residual_w - whitener(model)
        normal = np.einsum("psb,ptb->pst", jac, jac) + eye
        if _ == iterations:
            break
        step = np.linalg.solve(normal, np.einsum("psb,pb->ps", jac, err)[..., None])[..., 0]
        columns = columns + step
    cov = np.linalg.inv(normal)
    sigma = np.sqrt(np.clip(np.einsum("pss->ps", cov), 0.0, None))
    return columns, sigma, np.einsum("pb,pb->p", err, err)


@dataclass(frozen=True)
class PlumeFit:
    """Rank-one fit of a set of gases to a plume.

    ``gases``: indices into the library; ``column_ppm_m`` (s,): plume-mean column of each gas; ``sigma_ppm_m`` (s,):
    its 1σ (dispersion-scaled); ``dilution`` (n_p,): the shared map ``m`` (mean 1); ``rss``: whitened residual sum
    of squares.
    """

    gases: tuple[int, ...]
    column_ppm_m: np.ndarray
    sigma_ppm_m: np.ndarray
    dilution: np.ndarray
    rss: float
    normal: np.ndarray = field(repr=False)


def fit_rank_one(
    residual_w: np.ndarray,
    contrast: np.ndarray,
    layer: LayerModel,
    gases: tuple[int, ...],
    whitener: Whitener,
    start_dilution: np.ndarray,
    *,
    iterations: int = 5,
) -> PlumeFit:
    """Alternating Gauss-Newton fit of ``c_g(x) = r_g m(x)`` for the gases ``gases`` (indices into ``layer``).

    ``start_dilution`` (n_p,) is the starting ``m`` (e.g. the best single gas's matched-filter column, any scale).
    """
    sub = layer.subset(gases)
    s = len(gases)
    m = np.asarray(start_dilution, dtype=np.float64).copy()
    scale = np.mean(np.abs(m))
    m = m / scale if scale > 0 else np.ones_like(m)
    r = np.zeros(s)
    for _ in range(iterations):
        model, jac = sub.evaluate(contrast, m[:, None] * r[None, :])
        jac = whitener(jac)  # dpred/dc_g (n_p, s, b)
        err = residual_w - whitener(model)
        jr = jac * m[:, None, None]
        normal = np.einsum("psb,ptb->st", jr, jr) + 1e-12 * np.eye(s)
        r = r + np.linalg.solve(normal, np.einsum("psb,pb->s", jr, err))
        model, jac = sub.evaluate(contrast, m[:, None] * r[None, :])
        jm = np.einsum("psb,s->pb", whitener(jac), r)  # dpred/dm (n_p, b)
        err = residual_w - whitener(model)
        with np.errstate(divide="ignore", invalid="ignore"):
            dm = np.einsum("pb,pb->p", jm, err) / np.einsum("pb,pb->p", jm, jm)
        m = m + np.nan_to_num(dm)
        mean = np.mean(m)
        if mean != 0 and np.isfinite(mean):
            m, r = m / mean, r * mean
    model, jac = sub.evaluate(contrast, m[:, None] * r[None, :])
    err = residual_w - whitener(model)
    rss = float(np.einsum("pb,pb->", err, err))
    jr = whitener(jac) * m[:, None, None]
    normal = np.einsum("psb,ptb->st", jr, jr) + 1e-12 * np.eye(s)
    sigma = np.sqrt(np.clip(np.diag(np.linalg.inv(normal)), 0.0, None))
    return PlumeFit(tuple(gases), r, sigma, m, rss, normal)


def _predicted_rss(
    residual_w: np.ndarray,
    contrast: np.ndarray,
    layer: LayerModel,
    whitener: Whitener,
    current: PlumeFit | None,
    dilution: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, float]:
    """One Gauss-Newton step from ``current`` (None: from zero columns) with each gas added, ``m`` fixed.

    Returns the Gram matrix of every gas's rank-one Jacobian column (n_gas, n_gas), their products with the
    residual (n_gas,), and the residual sum of squares at ``current``.
    """
    columns = np.zeros((residual_w.shape[0], layer.n_gas))
    model = np.zeros_like(contrast)
    if current is not None:
        dilution = current.dilution
        own = dilution[:, None] * current.column_ppm_m[None, :]
        columns[:, list(current.gases)] = own
        model, _ = layer.subset(current.gases).evaluate(contrast, own)
    # The Jacobians only rank the candidates: the channel model's are close enough and cost no high-resolution grid.
    _, jac = LayerModel(layer.absorption).evaluate(contrast, columns)
    err = residual_w - whitener(model)
    jac = whitener(jac) * dilution[:, None, None]  # (n_p, n_gas, b)
    gram = np.einsum("pgb,phb->gh", jac, jac)
    return gram, np.einsum("pgb,pb->g", jac, err), float(np.einsum("pb,pb->", err, err))


def _step_rss(gram: np.ndarray, score: np.ndarray, rss: float, gases: list[int]) -> tuple[float, np.ndarray]:
    """RSS after one joint Gauss-Newton step on ``gases`` and the step itself."""
    sub = gram[np.ix_(gases, gases)] + 1e-12 * np.eye(len(gases))
    step = np.linalg.solve(sub, score[gases])
    return rss - float(score[gases] @ step), step


@dataclass(frozen=True)
class Selection:
    """Outcome of :func:`select_gases`: the chosen fit, its confidence, each gas's posterior probability of being
    present (over the models fitted), the BIC of every model fitted and the dispersion φ."""

    fit: PlumeFit
    confidence: float
    gas_probability: dict[int, float]
    bic: dict[tuple[int, ...], float]
    dispersion: float


def select_gases(
    residual_w: np.ndarray,
    contrast: np.ndarray,
    layer: LayerModel,
    whitener: Whitener,
    start_dilution: np.ndarray,
    *,
    max_gases: int = 3,
    penalty: float = 1.0,
    shortlist: int = 3,
) -> Selection:
    """Stepwise BIC selection of the gases of one plume (see the module docstring).

    Every candidate model is first scored by one Gauss-Newton step from the current fit (a score test: cheap for
    the whole library); the ``shortlist`` best are fitted in full and the BIC decides on the full fits.

    Parameters
    ----------
    residual_w, contrast : ndarray (n_p, n_band)
        Whitened residuals and ``τ ⊙ D`` of the plume's pixels.
    layer : LayerModel
        Forward model of every library gas.
    whitener : callable
        The pixels' whitening.
    start_dilution : ndarray (n_p,)
        Starting dilution map (any positive scale).
    max_gases : int
        Largest set.
    penalty : float
        κ, multiplier of the ``ln N`` penalty per gas.
    shortlist : int
        Candidates fitted in full at each step.
    """
    n_p, n_band = residual_w.shape
    n_gas = layer.n_gas
    ln_n = math.log(max(n_p * n_band, 2))
    m0 = np.asarray(start_dilution, dtype=np.float64)
    m0 = m0 / (np.mean(np.abs(m0)) or 1.0)
    fits: dict[tuple[int, ...], PlumeFit] = {}

    def fit(gases: tuple[int, ...], dilution: np.ndarray) -> PlumeFit:
        key = tuple(sorted(gases))
        if key not in fits:
            fits[key] = fit_rank_one(residual_w, contrast, layer, key, whitener, dilution)
        return fits[key]

    def dispersion(f: PlumeFit) -> float:
        return max(1.0, f.rss / max(n_p * n_band - n_p - len(f.gases), 1))

    def candidates(current: PlumeFit | None, positive: bool = True) -> list[tuple[int, ...]]:
        base = [] if current is None else list(current.gases)
        gram, score, rss = _predicted_rss(residual_w, contrast, layer, whitener, current, m0)
        scored = []
        for g in range(n_gas):
            if g in base:
                continue
            predicted, step = _step_rss(gram, score, rss, base + [g])
            key = tuple(sorted(base + [g]))
            if step[-1] > 0 or not positive:  # a column must come out positive
                scored.append((predicted, key))
        scored.sort()
        return [key for _, key in scored[:shortlist]]

    singles = [fit(key, m0) for key in candidates(None) or candidates(None, positive=False)]
    positive = [f for f in singles if f.column_ppm_m[0] > 0]
    current = min(positive or singles, key=lambda f: f.rss)
    while len(current.gases) < max_gases:
        phi = dispersion(current)
        trials = [fit(key, current.dilution) for key in candidates(current)]
        trials = [t for t in trials if np.all(t.column_ppm_m > 0)]
        if not trials:
            break
        trial = min(trials, key=lambda t: t.rss)
        if (current.rss - trial.rss) / phi - penalty * ln_n <= 0:
            break
        current = trial
        while len(current.gases) > 1:  # backward step: drop a gas that no longer pays for itself
            phi = dispersion(current)
            smaller = min(
                (fit(tuple(x for x in current.gases if x != g), current.dilution) for g in current.gases),
                key=lambda f: f.rss,
            )
            if (smaller.rss - current.rss) / phi - penalty * ln_n >= 0 or not np.all(smaller.column_ppm_m > 0):
                break
            current = smaller
    phi = dispersion(current)
    # The posterior runs over the models fitted in full with positive columns (the one-step scores only rank).
    rss = {key: f.rss for key, f in fits.items() if np.all(f.column_ppm_m > 0)}
    rss[current.gases] = current.rss
    bic = {key: value / phi + penalty * len(key) * ln_n for key, value in rss.items()}
    low = bic[current.gases]
    weights = {key: math.exp(-0.5 * max(value - low, -700.0)) for key, value in bic.items()}
    total = sum(weights.values())
    probability = {g: sum(w for key, w in weights.items() if g in key) / total for g in range(n_gas)}
    scaled = PlumeFit(
        current.gases,
        current.column_ppm_m,
        current.sigma_ppm_m * math.sqrt(phi),
        current.dilution,
        current.rss,
        current.normal,
    )
    return Selection(scaled, weights[current.gases] / total, probability, bic, phi)
