"""What a run found, in a few sentences generated from the summary table (never typed numbers).

:func:`findings` reads the summary of :func:`vidanon.report.summary.summarize` (Rank-1 in percent,
utility in [0, 1]) and says which anonymization protects best against the strongest attack measured,
at what utility, with the confidence interval and the chance level; which attack won; how much the
naive pretrained attacker understates the leak; and what face identification and the leaked-face
check add. A number that is missing is left out of the sentence, not invented.
"""

from __future__ import annotations

import math

import pandas as pd

REFERENCE = "original"


def _num(row, col):
    v = row.get(col) if hasattr(row, "get") else None
    try:
        v = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def _pct(row, col="rank1") -> str:
    v = _num(row, col)
    if v is None:
        return "n/a"
    lo, hi = _num(row, f"{col}_lo"), _num(row, f"{col}_hi")
    return f"{v:.1f} %" + (f" [{lo:.1f}, {hi:.1f}]" if lo is not None and hi is not None else "")


def _util(row, label: str) -> str:
    v = _num(row, "utility")
    if v is None:
        return ""
    lo, hi = _num(row, "utility_lo"), _num(row, "utility_hi")
    ci = f" [{lo:.2f}, {hi:.2f}]" if lo is not None and hi is not None else ""
    return f"{label or 'utility'} {v:.2f}{ci}"


def nearest_to_chance(methods: pd.DataFrame) -> tuple[list[str], str | None]:
    """The methods whose strongest attack is down to chance (the 95 % CI of its Rank-1 reaches the chance
    level) and, when there is none, the one closest to it (least Rank-1 minus chance; None when nothing
    was measured). ``methods``: one row per method, ``rank1``, ``rank1_lo`` and ``chance`` in percent."""
    if not {"rank1", "rank1_lo", "chance"} <= set(methods.columns):
        return [], None
    r1, lo, ch = (pd.to_numeric(methods[c], errors="coerce") for c in ("rank1", "rank1_lo", "chance"))
    ok = r1.notna() & lo.notna() & ch.notna()
    if not ok.any():
        return [], None
    at_chance = [m for m in methods.index[ok] if lo[m] <= ch[m]]
    return at_chance, (None if at_chance else (r1 - ch)[ok].idxmin())


def closest_to_chance(methods: pd.DataFrame, label: str = "utility") -> str:
    """Whether any method's strongest attack is down to chance (its 95 % CI reaches the chance level),
    and if none is, which one comes closest (Rank-1 minus chance) and the attack that keeps it above;
    "" when nothing was measured (see :func:`nearest_to_chance`)."""
    at_chance, m = nearest_to_chance(methods)
    if at_chance:
        parts = []
        for name in at_chance:
            row, util = methods.loc[name], _util(methods.loc[name], label)
            parts.append(f"{name} (Rank-1 {_pct(row)}, chance {_num(row, 'chance'):.1f} %"
                         + (f", {util}" if util else "") + ")")
        return "Down to chance against the strongest attack (its 95 % CI reaches the chance level): " + \
            "; ".join(parts) + "."
    if m is None:
        return ""
    row = methods.loc[m]
    ch = _num(row, "chance")
    return (f"No method is down to chance against its strongest attack. Closest: {m}, Rank-1 {_pct(row)} "
            f"against chance {ch:.1f} % ({_num(row, 'rank1') - ch:.1f} points above); the leak in the way: "
            f"{row.get('attack', 'n/a')}.")


def findings(summary: pd.DataFrame, info: dict | None = None) -> list[str]:
    """Sentences on the run's result, from ``summary`` (indexed by method); [] when it has no Rank-1.

    Parameters
    ----------
    summary : pandas.DataFrame
        One row per method with ``rank1`` (strongest attack, percent) and, where measured,
        ``rank1_lo/hi``, ``chance``, ``attack``, ``level``, ``rank1_naive``, ``utility`` (+ CI),
        ``faceid_rank1``, ``leaked_rate``.
    info : dict, optional
        ``utility_label`` names the utility number.

    Returns
    -------
    list of str
        Plain sentences, most important first.
    """
    if summary is None or not len(summary) or "rank1" not in summary.columns:
        return []
    label = (info or {}).get("utility_label", "") or "utility"
    methods = summary.drop(index=[REFERENCE], errors="ignore")
    rank1 = pd.to_numeric(methods["rank1"], errors="coerce").dropna()
    if not len(rank1):
        return ["No re-identification attack was measured on an anonymized method in this run."]
    out = []
    tied = rank1[rank1 == rank1.min()].index  # a tie goes to the more useful method
    util_all = pd.to_numeric(methods.get("utility", pd.Series(index=methods.index, dtype=float)), errors="coerce")
    best = methods.loc[util_all.reindex(tied).fillna(-1).idxmax() if len(tied) > 1 else tied[0]]
    chance = _num(best, "chance")
    util = _util(best, label)
    s = (f"Best protection against the strongest attack measured: {best.name}, Rank-1 {_pct(best)}"
         f" ({best.get('level', 'n/a')}; the attack that won: {best.get('attack', 'n/a')}"
         + (f"; chance {chance:.1f} %" if chance is not None else "") + ")")
    out.append(s + (f", at {util}." if util else "."))
    near = closest_to_chance(methods, label)
    if near:
        out.append(near)
    if REFERENCE in summary.index:
        ref = summary.loc[REFERENCE]
        out.append(f"Unprotected, the original video is re-identified at Rank-1 {_pct(ref)}"
                   f" ({ref.get('attack', 'n/a')})" + (f", {_util(ref, label)}." if _util(ref, label) else "."))
    if "utility" in methods.columns and pd.to_numeric(methods["utility"], errors="coerce").notna().any():
        top = methods.loc[pd.to_numeric(methods["utility"], errors="coerce").idxmax()]
        if top.name != best.name:
            out.append(f"Most useful anonymization: {top.name} ({_util(top, label)}), but the strongest attack "
                       f"re-identifies it at Rank-1 {_pct(top)} ({top.get('level', 'n/a')}; {top.get('attack', 'n/a')}).")
    if "rank1_naive" in methods.columns:
        gap = (pd.to_numeric(methods["rank1"], errors="coerce")
               - pd.to_numeric(methods["rank1_naive"], errors="coerce")).dropna()
        gap = gap[gap >= 10]
        if len(gap):
            worst = methods.loc[gap.idxmax()]
            out.append(f"The pretrained (naive) attacker understates the leak for {len(gap)} of {len(methods)} "
                       f"methods, most for {worst.name}: {_pct(worst, 'rank1_naive')} naive against "
                       f"{_pct(worst)} for the strongest ({worst.get('attack', 'n/a')}).")
    if "faceid_rank1" in methods.columns:
        f = pd.to_numeric(methods["faceid_rank1"], errors="coerce").dropna()
        if len(f):
            won = [m for m in methods.index if "face identification" in str(methods.loc[m].get("attack", ""))]
            s = (f"Face identification (dlib) reaches Rank-1 {f.max():.1f} % on {f.idxmax()}"
                 f" and {f.min():.1f} % on {f.idxmin()}")
            out.append(s + (f"; it is the strongest attack for {', '.join(won)}." if won else "."))
    if "leaked_rate" in methods.columns:
        leak = pd.to_numeric(methods["leaked_rate"], errors="coerce").dropna()
        if len(leak) and leak.max() > 0:
            out.append(f"An independent face detector still finds a face in {100 * leak.max():.1f} % of the frames of "
                       f"{leak.idxmax()}; " + (f"{', '.join(leak[leak == 0].index)} "
                                                 f"{'leaves' if (leak == 0).sum() == 1 else 'leave'} none."
                                                 if (leak == 0).any() else "every method leaves some."))
        elif len(leak):
            out.append("An independent face detector finds no face left in any anonymized frame.")
    return out
