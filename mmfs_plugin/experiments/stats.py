"""Mean, sample standard deviation and 95% confidence interval over seeds.

The spread is the **sample** standard deviation (``ddof=1``, Bessel's correction: the seeds are
a sample of the possible k-shot draws), and the 95% confidence interval is the half-width
``1.96 * std / sqrt(n)`` that TFA and DeFRCN report (a normal approximation). With a single
value, std and the interval are undefined and are NaN.
"""
import math
from dataclasses import dataclass
from typing import Sequence

#: The two-sided 95% quantile of the standard normal distribution.
Z_95 = 1.96


@dataclass(frozen=True)
class MetricSummary:
    """The summary of one metric over ``n`` runs.

    Args:
        n (int): The number of values.
        mean (float): Their mean.
        std (float): Their sample standard deviation (``ddof=1``); NaN when ``n == 1``.
        ci95 (float): The 95% confidence half-width ``1.96 * std / sqrt(n)``; NaN when
            ``n == 1``.
    """
    n: int
    mean: float
    std: float
    ci95: float


def summarize(values: Sequence[float]) -> MetricSummary:
    """Summarise the values of one metric over seeds.

    Args:
        values (Sequence[float]): At least one finite value.

    Returns:
        MetricSummary: n, mean, sample std and 95% CI half-width.
    """
    if len(values) == 0:
        raise ValueError('summarize: values: expected at least one value, got none')
    if not all(math.isfinite(value) for value in values):
        raise ValueError(f'summarize: values: expected finite numbers, got {list(values)}')
    n = len(values)
    mean = math.fsum(values) / n
    if n == 1:
        return MetricSummary(n=1, mean=mean, std=math.nan, ci95=math.nan)
    std = math.sqrt(math.fsum((value - mean)**2 for value in values) / (n - 1))
    return MetricSummary(n=n, mean=mean, std=std, ci95=Z_95 * std / math.sqrt(n))
