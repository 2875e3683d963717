"""The Playground's settings: one schema, the defaults (TensorFlow Playground's), validation of
every value that comes from the page or the URL, and the URL-fragment encoding.

Validation is all-or-nothing: ``apply`` returns new settings or raises ``SettingsError`` with a
message for the page, and the settings it was given stay as they were.
"""

from __future__ import annotations

import math
from urllib.parse import parse_qsl, quote

from .core import ACTIVATIONS, FEATURES

CLASSIFICATION_SETS = ("circle", "xor", "gaussians", "spiral")
REGRESSION_SETS = ("plane", "multigaussian")
MAX_LAYERS, MAX_NEURONS = 6, 8

CHOICES = {
    "dataset": CLASSIFICATION_SETS + REGRESSION_SETS,
    "activation": tuple(ACTIVATIONS),
    "regularization": ("none", "l1", "l2"),
    "problem": ("classification", "regression"),
    "loss": ("half_sse", "cross_entropy"),
    "optimizer": ("sgd", "momentum", "adam"),
}
NUMBERS = {   # name -> (kind, low, high)
    "learning-rate": (float, 0.00001, 10.0),
    "regularization-rate": (float, 0.0, 10.0),
    "batch-size": (int, 1, 30),
    "noise": (int, 0, 50),
    "train-ratio": (int, 10, 90),
}
FLAGS = ("show-test", "discretize")

DEFAULTS = {
    "dataset": "circle", "activation": "tanh", "learning-rate": 0.03, "regularization": "none",
    "regularization-rate": 0.0, "batch-size": 10, "noise": 0, "train-ratio": 50,
    "problem": "classification", "loss": "half_sse", "optimizer": "sgd",
    "features": ["x1", "x2"], "layers": [4, 2], "show-test": False, "discretize": False,
}
KEYS = tuple(DEFAULTS)
# Changing these keeps the weights and the epoch count; anything else starts a fresh run.
LIVE = ("learning-rate", "regularization", "regularization-rate", "batch-size", "show-test",
        "discretize")


class SettingsError(ValueError):
    """A refused setting; the message is shown on the page as it is."""


def defaults() -> dict:
    return {k: (list(v) if isinstance(v, list) else v) for k, v in DEFAULTS.items()}


def schema() -> dict:
    """What the page needs to validate before it asks (the server checks again)."""
    return {"choices": {k: list(v) for k, v in CHOICES.items()},
            "numbers": {k: {"integer": kind is int, "min": lo, "max": hi}
                        for k, (kind, lo, hi) in NUMBERS.items()},
            "features": list(FEATURES), "max_layers": MAX_LAYERS, "max_neurons": MAX_NEURONS,
            "defaults": defaults(), "problems": {"classification": list(CLASSIFICATION_SETS),
                                                 "regression": list(REGRESSION_SETS)}}


def problem_of(dataset: str) -> str:
    return "regression" if dataset in REGRESSION_SETS else "classification"


def _number(key: str, value) -> float | int:
    kind, lo, hi = NUMBERS[key]
    what = "an integer" if kind is int else "a number"
    if isinstance(value, bool) or value is None or isinstance(value, (list, dict)):
        raise SettingsError(f"{key} must be {what} from {lo:g} to {hi:g}, got {value!r}")
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise SettingsError(f"{key} must be {what} from {lo:g} to {hi:g}, "
                                f"got {value[:40]!r}") from None
    value = float(value)
    if not math.isfinite(value) or not lo <= value <= hi:
        raise SettingsError(f"{key} must be from {lo:g} to {hi:g}, got {value:g}")
    if kind is int:
        if value != int(value):
            raise SettingsError(f"{key} must be a whole number, got {value:g}")
        return int(value)
    return value


def _choice(key: str, value) -> str:
    if not isinstance(value, str) or value not in CHOICES[key]:
        shown = value[:40] if isinstance(value, str) else value
        raise SettingsError(f"{key} must be one of {', '.join(CHOICES[key])}; got {shown!r}")
    return value


def _flag(key: str, value) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "1", 1):
        return True
    if value in ("false", "0", 0):
        return False
    raise SettingsError(f"{key} must be true or false, got {value!r}")


def _list(key: str, value) -> list:
    if isinstance(value, str):
        value = [v for v in value.split(",") if v.strip()] if value.strip() else []
    if not isinstance(value, (list, tuple)):
        raise SettingsError(f"{key} must be a list, got {value!r}")
    return list(value)


def _features(value) -> list[str]:
    names = _list("features", value)
    unknown = [n for n in names if n not in FEATURES]
    if unknown:
        raise SettingsError(f"features: unknown input {str(unknown[0])[:40]!r}; the inputs are "
                            f"{', '.join(FEATURES)}")
    if not names:
        raise SettingsError("features: pick at least one input feature")
    if len(set(names)) != len(names):
        raise SettingsError("features: each input may be chosen once")
    return [n for n in FEATURES if n in names]   # canonical order


def _layers(value) -> list[int]:
    raw = _list("layers", value)
    if len(raw) > MAX_LAYERS:
        raise SettingsError(f"layers: at most {MAX_LAYERS} hidden layers, got {len(raw)}")
    out = []
    for i, n in enumerate(raw, 1):
        try:
            k = float(n) if not isinstance(n, bool) else float("nan")
        except (TypeError, ValueError):
            k = float("nan")
        if not (math.isfinite(k) and k == int(k) and 1 <= k <= MAX_NEURONS):
            raise SettingsError(f"layers: hidden layer {i} must have 1 to {MAX_NEURONS} neurons, "
                                f"got {str(n)[:20]!r}")
        out.append(int(k))
    return out


def check(key: str, value):
    """One value, checked and converted; SettingsError names the key and the allowed range."""
    if key in NUMBERS:
        return _number(key, value)
    if key in CHOICES:
        return _choice(key, value)
    if key in FLAGS:
        return _flag(key, value)
    if key == "features":
        return _features(value)
    if key == "layers":
        return _layers(value)
    raise SettingsError(f"unknown setting {str(key)[:40]!r}; the settings are {', '.join(KEYS)}")


def apply(current: dict, changes: dict, custom: bool = False) -> dict:
    """Settings with ``changes`` applied, keeping dataset, problem and loss consistent: picking a
    dataset picks its problem; picking a problem picks a dataset of that kind; cross-entropy is for
    classification only.  ``custom``: uploaded data decide the problem until a dataset or problem
    is picked.  Raises SettingsError (``current`` untouched)."""
    if not isinstance(changes, dict):
        raise SettingsError(f"settings must be an object of name: value, got "
                            f"{type(changes).__name__}")
    new = dict(current)
    checked = {key: check(key, value) for key, value in changes.items()}
    new.update(checked)
    if "dataset" in checked and "problem" not in checked:
        new["problem"] = problem_of(new["dataset"])
    mismatch = problem_of(new["dataset"]) != new["problem"]
    if "problem" in checked and "dataset" not in checked and mismatch:
        new["dataset"] = (CLASSIFICATION_SETS if new["problem"] == "classification"
                          else REGRESSION_SETS)[0]
    kept = custom and "dataset" not in checked and "problem" not in checked
    if problem_of(new["dataset"]) != new["problem"] and not kept:
        raise SettingsError(f"dataset {new['dataset']} is a {problem_of(new['dataset'])} set, but "
                            f"problem is {new['problem']}")
    if new["problem"] == "regression" and new["loss"] == "cross_entropy":
        if "loss" in checked:
            raise SettingsError("loss cross_entropy is for classification; regression uses "
                                "half_sse")
        new["loss"] = "half_sse"
    return new


def with_custom_problem(current: dict, problem: str) -> dict:
    """Settings for uploaded data: its problem, the loss it allows; the dataset key stays."""
    new = dict(current, problem=problem)
    if problem == "regression":
        new["loss"] = "half_sse"
    return new


def to_fragment(settings: dict) -> str:
    """``key=value&...`` in KEYS order: lists comma-separated, flags true/false."""
    parts = []
    for key in KEYS:
        v = settings[key]
        if isinstance(v, bool):
            text = "true" if v else "false"
        elif isinstance(v, list):
            text = ",".join(str(x) for x in v)
        elif isinstance(v, float):
            text = f"{v:g}" if v == float(f"{v:g}") else repr(v)
        else:
            text = str(v)
        parts.append(f"{key}={quote(text, safe=',.')}")
    return "&".join(parts)


def from_fragment(fragment: str) -> dict:
    """The changes a URL fragment asks for (``key=value&...``, a leading '#' allowed); the values
    are checked by ``apply``.  Repeated keys are refused: a forged URL must not half-apply."""
    fragment = fragment[1:] if fragment.startswith("#") else fragment
    if len(fragment) > 4000:
        raise SettingsError(f"URL settings are too long ({len(fragment)} characters)")
    pairs = parse_qsl(fragment, keep_blank_values=True)
    if fragment.strip() and not pairs:
        raise SettingsError(f"URL settings must be key=value pairs joined by '&', got "
                            f"{fragment[:40]!r}")
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise SettingsError(f"URL settings name {key!r} twice")
        out[key] = value
    return out
