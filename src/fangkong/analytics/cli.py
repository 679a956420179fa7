"""``fangkong analytics``: reproduction number, aberration detection and growth from files."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from fangkong.analytics.ears import ears
from fangkong.analytics.farrington import farrington, farrington_flexible
from fangkong.analytics.files import (
    read_incidence,
    read_series,
    read_si_distr,
    read_si_sample,
)
from fangkong.analytics.growth import growth_rate
from fangkong.analytics.messages import A
from fangkong.analytics.rt import (
    COLUMNS,
    GENERATORS,
    estimate_rt,
    estimate_rt_si_from_sample,
    estimate_rt_uncertain_si,
)
from fangkong.cliutil import JsonOpt, console, emit, err_console, handle_errors, say
from fangkong.core.errors import Invalid

app = typer.Typer(help="Epidemic analytics (Rt, aberration detection, growth) on files.",
                  no_args_is_help=True)
METHODS = ("ears-c1", "ears-c2", "ears-c3", "farrington", "farrington-flexible")


def _fmt(v: Any) -> str:
    if v is None:
        return "NA"
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def _table(rows: list[dict[str, Any]], columns: list[str]) -> Table:
    table = Table(*columns)
    for r in rows:
        table.add_row(*(_fmt(r[c]) for c in columns))
    return table


UNCERTAIN = ("--si-mean-sd", "--si-mean-min", "--si-mean-max", "--si-sd-sd", "--si-sd-min",
             "--si-sd-max")


@app.command("rt")
@handle_errors
def rt(
    incidence: Path = typer.Option(..., "--incidence", help="CSV: t,local[,imported] or t,I."),
    si_mean: float | None = typer.Option(None, "--si-mean", help="Serial interval mean (days)."),
    si_sd: float | None = typer.Option(None, "--si-sd", help="Serial interval sd (days)."),
    si_distr: Path | None = typer.Option(None, "--si-distr",
                                         help="CSV k,p: a given discrete serial interval."),
    si_sample: Path | None = typer.Option(
        None, "--si-sample", help="CSV sample,k,p: a sample of discrete serial intervals "
                                  "to integrate over (EpiEstim si_from_sample)."),
    window: int = typer.Option(7, "--window", help="Sliding window length (days)."),
    mean_prior: float = typer.Option(5.0, "--mean-prior"),
    std_prior: float = typer.Option(5.0, "--std-prior"),
    si_mean_sd: float | None = typer.Option(
        None, "--si-mean-sd", help="Uncertain SI: sd of the SI mean (EpiEstim std_mean_si)."),
    si_mean_min: float | None = typer.Option(None, "--si-mean-min",
                                             help="Uncertain SI: lowest SI mean (>= 1)."),
    si_mean_max: float | None = typer.Option(None, "--si-mean-max",
                                             help="Uncertain SI: highest SI mean."),
    si_sd_sd: float | None = typer.Option(
        None, "--si-sd-sd", help="Uncertain SI: sd of the SI sd (EpiEstim std_std_si)."),
    si_sd_min: float | None = typer.Option(None, "--si-sd-min",
                                           help="Uncertain SI: lowest SI sd."),
    si_sd_max: float | None = typer.Option(None, "--si-sd-max",
                                           help="Uncertain SI: highest SI sd."),
    n1: int = typer.Option(500, "--n1", help="Uncertain SI: serial intervals drawn."),
    n2: int = typer.Option(50, "--n2", help="Uncertain SI / SI sample: draws of R per "
                                            "serial interval."),
    seed: int | None = typer.Option(
        None, "--seed", help="Uncertain SI: R's set.seed (the same numbers as EpiEstim with "
                             "config$seed); drawn and reported when not given."),
    generator: str = typer.Option("r", "--generator",
                                  help="Uncertain SI: r (EpiEstim's draws) | numpy."),
    as_json: bool = JsonOpt,
) -> None:
    """Instantaneous reproduction number (Cori et al. 2013, as EpiEstim).

    A serial interval given by its mean and sd (parametric_si) or as a distribution
    (non_parametric_si); with the --si-mean-sd ... --si-sd-max bounds as well, the SI's
    uncertainty is integrated over (uncertain_si); or over a sample of distributions given in
    --si-sample (si_from_sample)."""
    local, imported = read_incidence(incidence)
    if si_sample is not None:
        if si_mean is not None or si_sd is not None or si_distr is not None:
            raise Invalid(A("si_sample_replaces"))
        if generator not in GENERATORS:
            raise Invalid(A("use_one_of", option="--generator", value=repr(generator),
                            allowed=", ".join(GENERATORS)))
        res = estimate_rt_si_from_sample(
            local, imported, si_sample=read_si_sample(si_sample), n2=n2, window=window,
            mean_prior=mean_prior, std_prior=std_prior, seed=seed, generator=generator)
        err_console.print(say(A("seed", seed=res.seed)), highlight=False)
        rows = [{c: r[c] for c in COLUMNS} for r in res.rows()]
        emit(rows, as_json, lambda: console.print(_table(rows, list(COLUMNS))))
        return
    uncertain = [si_mean_sd, si_mean_min, si_mean_max, si_sd_sd, si_sd_min, si_sd_max]
    if any(v is not None for v in uncertain):
        missing = [name for name, v in zip(UNCERTAIN, uncertain, strict=True) if v is None]
        if missing or si_mean is None or si_sd is None or si_distr is not None:
            raise Invalid(A("uncertain_needs", options=", ".join(UNCERTAIN),
                            missing=", ".join(missing) or "--si-mean/--si-sd"))
        if generator not in GENERATORS:
            raise Invalid(A("use_one_of", option="--generator", value=repr(generator),
                            allowed=", ".join(GENERATORS)))
        assert si_mean_sd is not None and si_mean_min is not None and si_mean_max is not None
        assert si_sd_sd is not None and si_sd_min is not None and si_sd_max is not None
        res = estimate_rt_uncertain_si(
            local, imported, mean_si=si_mean, std_mean_si=si_mean_sd, min_mean_si=si_mean_min,
            max_mean_si=si_mean_max, std_si=si_sd, std_std_si=si_sd_sd, min_std_si=si_sd_min,
            max_std_si=si_sd_max, n1=n1, n2=n2, window=window, mean_prior=mean_prior,
            std_prior=std_prior, seed=seed, generator=generator)
        err_console.print(say(A("seed", seed=res.seed)), highlight=False)
    else:
        distr = read_si_distr(si_distr) if si_distr is not None else None
        res = estimate_rt(local, imported, si_mean=si_mean, si_sd=si_sd, si_distr=distr,
                          window=window, mean_prior=mean_prior, std_prior=std_prior)
    for w in res.warnings:
        err_console.print(f"[yellow]{escape(say(A('warning')))}[/]{escape(say(w))}",
                          highlight=False)
    rows = [{c: r[c] for c in COLUMNS} for r in res.rows()]
    emit(rows, as_json, lambda: console.print(_table(rows, list(COLUMNS))))


def _range(text: str | None, n: int) -> list[int] | None:
    if text is None:
        return None
    try:
        a, b = (int(p) for p in text.split(":"))
    except ValueError:
        raise Invalid(A("range_format", value=repr(text))) from None
    if not 1 <= a <= b <= n:
        raise Invalid(A("range_bounds", value=repr(text), n=n))
    return list(range(a, b + 1))


def _limit54(text: str) -> tuple[int, int]:
    try:
        cases, periods = (int(p) for p in text.split(","))
    except ValueError:
        raise Invalid(A("limit54_format", value=repr(text))) from None
    return cases, periods


@app.command("aberration")
@handle_errors
def aberration(
    method: str = typer.Option(..., "--method", help=" | ".join(METHODS)),
    series: Path = typer.Option(..., "--series", help="CSV: t,count[,week_start]."),
    range_: str | None = typer.Option(None, "--range", help="A:B, 1-based time points."),
    alpha: float | None = typer.Option(None, "--alpha"),
    baseline: int = typer.Option(7, "--baseline", help="EARS: reference values."),
    min_sigma: float = typer.Option(0.0, "--min-sigma", help="EARS: minimum sd."),
    freq: int = typer.Option(52, "--freq", help="Farrington: periods per year."),
    b: int = typer.Option(5, "--b", help="Farrington: years back."),
    w: int = typer.Option(3, "--w", help="Farrington: half-width of the reference windows."),
    reweight: bool = typer.Option(True, "--reweight/--no-reweight"),
    weights_threshold: float | None = typer.Option(None, "--weights-threshold"),
    trend: bool = typer.Option(True, "--trend/--no-trend"),
    p_threshold_trend: float = typer.Option(0.05, "--p-threshold-trend"),
    limit54: str = typer.Option("5,4", "--limit54", help="CASES,PERIODS"),
    powertrans: str = typer.Option("2/3", "--powertrans", help="none | 1/2 | 2/3"),
    no_periods: int = typer.Option(1, "--no-periods"),
    past_weeks_not_included: int | None = typer.Option(None, "--past-weeks-not-included"),
    threshold_method: str = typer.Option("delta", "--threshold-method",
                                         help="delta | nbPlugin | muan"),
    as_json: bool = JsonOpt,
) -> None:
    """Upper bounds and alarms of an aberration detector (as the R package surveillance)."""
    if method not in METHODS:
        raise Invalid(A("use_one_of", option="--method", value=repr(method),
                        allowed=", ".join(METHODS)))
    counts, dates = read_series(series)
    rng = _range(range_, len(counts))
    if method.startswith("ears-"):
        det = ears(counts, method=method[-2:].upper(), range_=rng, baseline=baseline,
                   alpha=alpha, min_sigma=min_sigma)
    elif method == "farrington":
        det = farrington(counts, freq=freq, range_=rng, b=b, w=w, reweight=reweight,
                         alpha=0.05 if alpha is None else alpha, trend=trend,
                         limit54=_limit54(limit54), powertrans=powertrans)
    else:
        det = farrington_flexible(
            counts, freq=freq, dates=dates, range_=rng, b=b, w=w, reweight=reweight,
            weights_threshold=2.58 if weights_threshold is None else weights_threshold,
            alpha=0.05 if alpha is None else alpha, trend=trend,
            p_threshold_trend=p_threshold_trend, limit54=_limit54(limit54),
            powertrans=powertrans, no_periods=no_periods,
            past_weeks_not_included=past_weeks_not_included,
            threshold_method=threshold_method)
    rows = det.rows()
    emit(rows, as_json, lambda: console.print(
        _table(rows, ["t", "observed", "upperbound", "alarm"])))


@app.command("growth")
@handle_errors
def growth(
    incidence: Path = typer.Option(..., "--incidence", help="CSV: t,I or t,local[,imported]."),
    range_: str | None = typer.Option(None, "--range", help="A:B, 1-based days (default all)."),
    level: float = typer.Option(0.95, "--level"),
    quasi: bool = typer.Option(False, "--quasi", help="Scale by the Pearson dispersion."),
    as_json: bool = JsonOpt,
) -> None:
    """Exponential growth rate and doubling time with confidence intervals."""
    local, imported = read_incidence(incidence)
    total = [a + (imported[i] if imported else 0.0) for i, a in enumerate(local)]
    rng = _range(range_, len(total)) or list(range(1, len(total) + 1))
    g = growth_rate([total[i - 1] for i in rng], level=level, quasi=quasi,
                    times=[float(i) for i in rng])
    data = {k: (None if isinstance(v, float) and math.isinf(v) else v)
            for k, v in g.as_dict().items()}
    emit(data, as_json, lambda: console.print(say(A(
        "growth_line", r=f"{g.r:.4f}", r_lower=f"{g.r_lower:.4f}", r_upper=f"{g.r_upper:.4f}",
        doubling=f"{g.doubling_time:.2f}", doubling_lower=f"{g.doubling_lower:.2f}",
        doubling_upper=f"{g.doubling_upper:.2f}")), highlight=False))
