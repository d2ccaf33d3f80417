"""How accurately the verdict logic measures time-to-recover and judges a recovery criterion,
on synthetic series with a known answer and realistic sampling noise.

Each trial: 100 QPS (requests counted per 200 ms interval, Poisson noise), a fault at 30 s that
drops QPS to a random depth after a random delay, and a linear ramp back ending at a known
time. The truth is the noiseless curve's time-to-recover (back at >= 90 % of baseline for good);
the estimate is what `backend.domain.verdict.evaluate` reports. Prints the error distribution
and how often the criterion "recoverTo: 90 within 20s from faultStart" got the right verdict.

A second set of trials has step outages: the service refuses everything from the fault start
for a random T (1..20 s), sampled as the load probe samples (each 200 ms interval counts the
successes that finished in it, Poisson noise), so the true time-to-recover is T exactly - the
shape of the e2e ground-truth test (tests/e2e/test_experiment_truth.py).

Usage: .venv/bin/python bench/verdict_accuracy.py [trials]
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.domain.recovery import Sample
from backend.domain.verdict import Timeline, evaluate
from backend.spec.experiment import Tolerance

DT = 0.2
BASE = 100.0
FAULT_START, FAULT_END, END = 30.0, 40.0, 90.0
WITHIN = 20.0


def _poisson(rng: random.Random, lam: float) -> int:
    # Knuth's method is fine for lam = 20 requests per interval.
    limit, k, p = pow(2.718281828459045, -lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def trial(rng: random.Random) -> tuple[float, float | None]:
    depth = rng.uniform(0.3, 1.0)
    impact = rng.uniform(0.0, 2.0)
    ramp_end = FAULT_START + impact + rng.uniform(2.0, 40.0)
    ramp_start = min(ramp_end - 0.5, FAULT_START + impact + rng.uniform(0.5, 10.0))

    def rate(t: float) -> float:
        if t < FAULT_START + impact or t >= ramp_end:
            return BASE
        low = BASE * (1 - depth)
        if t < ramp_start:
            return low
        return low + (BASE - low) * (t - ramp_start) / (ramp_end - ramp_start)

    # True TTR: first time the noiseless rate is >= 90 % and stays there.
    t90 = ramp_start + (0.9 * BASE - BASE * (1 - depth)) / (BASE * depth) * (ramp_end - ramp_start)
    truth = max(t90, FAULT_START + impact) - FAULT_START
    samples = []
    for i in range(int(END / DT) + 1):
        t = i * DT
        n = _poisson(rng, rate(t) * DT)
        samples.append(Sample(t, n / DT, 0.0, requests=n))
    tol = Tolerance.model_validate(
        {"probe": "web", "recoverTo": 90, "within": f"{WITHIN:g}s", "from": "faultStart"}
    )
    tl = Timeline(0.0, FAULT_START, FAULT_END, END, hold=3.0)
    results, _ = evaluate([tol], {"web": samples}, tl)
    return truth, results["web"].metrics.time_to_recover_from_start


def step_trial(rng: random.Random) -> tuple[float, float | None]:
    outage = rng.uniform(1.0, 20.0)
    offset = rng.uniform(0.0, DT)  # where the probe's intervals fall relative to the fault
    samples = []
    for i in range(int(END / DT)):
        end = offset + (i + 1) * DT
        down = max(0.0, min(end, FAULT_START + outage) - max(end - DT, FAULT_START))
        n = _poisson(rng, BASE * (DT - down))
        samples.append(Sample(end, n / DT, 0.0, requests=max(n, 1)))
    tol = Tolerance.model_validate(
        {"probe": "web", "recoverTo": 90, "within": "60s", "from": "faultStart"}
    )
    tl = Timeline(0.0, FAULT_START, FAULT_START + outage, END, hold=3.0)
    results, _ = evaluate([tol], {"web": samples}, tl)
    return outage, results["web"].metrics.time_to_recover_from_start


def main() -> None:
    trials = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    rng = random.Random(42)
    errors: list[float] = []
    right = missed = 0
    confusion = {"pass/pass": 0, "pass/fail": 0, "fail/pass": 0, "fail/fail": 0}
    t0 = time.perf_counter()
    for _ in range(trials):
        truth, est = trial(rng)
        if est is None:
            missed += 1
        else:
            errors.append(est - truth)
        want = "pass" if truth <= WITHIN else "fail"
        got = "pass" if est is not None and est <= WITHIN else "fail"
        confusion[f"{want}/{got}"] += 1
        right += want == got
    elapsed = time.perf_counter() - t0
    abs_err = sorted(abs(e) for e in errors)
    print(f"trials: {trials} (451 samples each, 5 samples/s, Poisson noise at 100 QPS)")
    print(
        f"time-to-recover error (estimate - truth): mean {statistics.fmean(errors):+.2f}s, "
        f"median |err| {statistics.median(abs_err):.2f}s, "
        f"p95 |err| {abs_err[int(0.95 * (len(abs_err) - 1))]:.2f}s, max |err| {abs_err[-1]:.2f}s"
    )
    print(f"no recovery found: {missed}")
    print(
        f"verdict of 'recoverTo 90 within {WITHIN:g}s': {right}/{trials} right "
        f"({100 * right / trials:.1f}%); truth/verdict counts {confusion}"
    )
    print(f"evaluation time: {1000 * elapsed / trials:.1f} ms per run")
    steps = [step_trial(rng) for _ in range(trials)]
    errs = [est - truth for truth, est in steps if est is not None]
    abs_errs = sorted(abs(e) for e in errs)
    print(
        f"step outages (T = 1..20 s, truth = T): mean error {statistics.fmean(errs):+.2f}s, "
        f"median |err| {statistics.median(abs_errs):.2f}s, "
        f"p95 |err| {abs_errs[int(0.95 * (len(abs_errs) - 1))]:.2f}s, "
        f"max |err| {abs_errs[-1]:.2f}s, "
        f"within 1 s: {sum(e <= 1.0 for e in abs_errs)}/{len(steps)}"
    )


if __name__ == "__main__":
    main()
