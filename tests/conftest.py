"""Hypothesis profiles, chosen by HYPOTHESIS_PROFILE: ci (bounded, the default), dev, intense."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=25, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile("intense", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# The reference tests against real PyTorch run where torch is installed (`make test-reference`,
# in the benchmark venv); elsewhere they are not collected, rather than reported as skipped.
import importlib.util  # noqa: E402

collect_ignore = [] if importlib.util.find_spec("torch") else ["test_nn_reference_torch.py"]
