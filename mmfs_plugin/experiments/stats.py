"""Mean, sample standard deviation (``ddof=1``) and 95% confidence interval of the mean over
seeds: Student's t with ``n - 1`` degrees of freedom, half-width ``t·s/√n`` (t = 2.776 for n = 5,
where the normal 1.96 gives an interval 1.42 times too narrow); NaN for a single value."""
import math
import statistics
from dataclasses import dataclass
from typing import Sequence

from scipy.stats import t as student_t

#: The confidence level of the interval.
CONFIDENCE = 0.95


@dataclass(frozen=True)
class MetricSummary:
    """The summary of one metric over ``n`` runs.

    Args:
        n (int): The number of values.
        mean (float): Their mean.
        std (float): Their sample standard deviation ``s`` (``ddof=1``); NaN when ``n == 1``.
        ci95 (float): The half-width of the 95% confidence interval of the mean, Student's t
            with ``n - 1`` degrees of freedom: ``t·s/√n``; NaN when ``n == 1``.
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
        MetricSummary: n, mean, sample std and the Student's t 95% CI half-width of the mean.

    Raises:
        ValueError: If ``values`` is empty or holds a value that is not finite.
    """
    if len(values) == 0:
        raise ValueError('summarize: values: expected at least one value, got none')
    if not all(math.isfinite(value) for value in values):
        raise ValueError(f'summarize: values: expected finite numbers, got {list(values)}')
    n = len(values)
    mean = statistics.fmean(values)
    if n == 1:
        return MetricSummary(n=1, mean=mean, std=math.nan, ci95=math.nan)
    std = statistics.stdev(values)
    quantile = float(student_t.ppf((1 + CONFIDENCE) / 2, n - 1))
    return MetricSummary(n=n, mean=mean, std=std, ci95=quantile * std / math.sqrt(n))
