"""autograd.malloc: glibc keeps freed memory for reuse; the opt-out and glibc's own settings win."""

import platform
import sys

import pytest

from autograd.malloc import keep_freed_memory


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_applies_on_glibc(monkeypatch):
    monkeypatch.delenv("GRAPHGRAD_KEEP_MEMORY", raising=False)
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    assert keep_freed_memory() is True


@pytest.mark.parametrize("name, value", [("GRAPHGRAD_KEEP_MEMORY", "0"),
                                         ("MALLOC_TRIM_THRESHOLD_", "131072")])
def test_opt_out_and_explicit_glibc_settings_are_respected(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    assert keep_freed_memory() is False


def test_not_applied_off_linux(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    assert keep_freed_memory() is False
