"""Reference epsilons from Google's dp_accounting 0.6.0 for the DPAccounting tests.

Reads {"cases": [...]} as JSON on stdin and prints {"version": ..., "epsilons": {id: epsilon}}.
Each case has "id", "kind" and its parameters:
  pld          Poisson-subsampled Gaussian, PLDAccountant (add/remove): q, sigma, steps, delta
  rdp_poisson  same event, RdpAccountant: q, sigma, steps, delta
  rdp_wor      Gaussian sampled without replacement, RdpAccountant(REPLACE_ONE): n, m, sigma, steps, delta
  pld_composed a composition of parts (each q, sigma, steps; q = 1 means unsampled), PLDAccountant: parts, delta
  gaussian     steps unsampled Gaussians, exact (gaussian_mechanism.get_epsilon_gaussian): sigma, steps, delta
  pld_partition  shots x PoissonSampled(q, Gaussian(sigma / sqrt(steps))), PLDAccountant: one Poisson sample per
               demonstration and steps Gaussian releases on it (algorithm.md, partition mode): q, sigma, steps, shots, delta
The whole grid runs in this one process.
"""
import importlib.metadata
import json
import math
import sys

from dp_accounting import dp_event
from dp_accounting import gaussian_mechanism
from dp_accounting import privacy_accountant
from dp_accounting.pld import pld_privacy_accountant
from dp_accounting.rdp import rdp_privacy_accountant


def poisson_event(case):
    return dp_event.SelfComposedDpEvent(
        dp_event.PoissonSampledDpEvent(case["q"], dp_event.GaussianDpEvent(case["sigma"])), case["steps"])


def epsilon(case):
    kind = case["kind"]
    if kind == "pld":
        accountant = pld_privacy_accountant.PLDAccountant()
        accountant.compose(poisson_event(case))
    elif kind == "pld_composed":
        accountant = pld_privacy_accountant.PLDAccountant()
        parts = []
        for part in case["parts"]:
            step = dp_event.GaussianDpEvent(part["sigma"])
            if part["q"] < 1:
                step = dp_event.PoissonSampledDpEvent(part["q"], step)
            parts.append(dp_event.SelfComposedDpEvent(step, part["steps"]))
        accountant.compose(dp_event.ComposedDpEvent(parts))
    elif kind == "rdp_poisson":
        accountant = rdp_privacy_accountant.RdpAccountant()
        accountant.compose(poisson_event(case))
    elif kind == "rdp_wor":
        accountant = rdp_privacy_accountant.RdpAccountant(
            neighboring_relation=privacy_accountant.NeighboringRelation.REPLACE_ONE)
        accountant.compose(dp_event.SelfComposedDpEvent(
            dp_event.SampledWithoutReplacementDpEvent(case["n"], case["m"], dp_event.GaussianDpEvent(case["sigma"])),
            case["steps"]))
    elif kind == "pld_partition":
        accountant = pld_privacy_accountant.PLDAccountant()
        demonstration = dp_event.PoissonSampledDpEvent(
            case["q"], dp_event.GaussianDpEvent(case["sigma"] / math.sqrt(case["steps"])))
        accountant.compose(dp_event.SelfComposedDpEvent(demonstration, case["shots"]))
    elif kind == "gaussian":
        return gaussian_mechanism.get_epsilon_gaussian(case["sigma"] / math.sqrt(case["steps"]), case["delta"])
    else:
        raise ValueError(f"unknown case kind {kind!r}")
    return accountant.get_epsilon(case["delta"])


def main():
    cases = json.load(sys.stdin)["cases"]
    results = {case["id"]: epsilon(case) for case in cases}
    json.dump({"version": importlib.metadata.version("dp-accounting"), "epsilons": results}, sys.stdout)


if __name__ == "__main__":
    main()
