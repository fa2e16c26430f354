"""aelab's XLA CPU flags: added once, before a backend starts, never over the user's own."""

import pytest

from aelab import xla_flags

FLAG = "--xla_cpu_experimental_ynn_fusion_type=-individual_convolution"


@pytest.fixture
def measured_jaxlib(monkeypatch):
    monkeypatch.setattr(xla_flags, "_jaxlib_minor", lambda: xla_flags.MEASURED_JAXLIB[0])
    monkeypatch.setattr(xla_flags, "_backends_initialized", lambda: False)


def test_flags_are_appended_to_the_users_flags(measured_jaxlib):
    environ = {"XLA_FLAGS": "--xla_force_host_platform_device_count=8"}
    assert xla_flags.apply_cpu_flags(environ) == [FLAG]
    assert environ["XLA_FLAGS"] == f"--xla_force_host_platform_device_count=8 {FLAG}"
    # A second import-time call adds nothing more.
    assert xla_flags.apply_cpu_flags(environ) == []


def test_the_users_own_value_wins(measured_jaxlib):
    environ = {"XLA_FLAGS": "--xla_cpu_experimental_ynn_fusion_type=dot"}
    assert xla_flags.apply_cpu_flags(environ) == []
    assert environ["XLA_FLAGS"] == "--xla_cpu_experimental_ynn_fusion_type=dot"


def test_opt_out_adds_nothing(measured_jaxlib):
    environ = {xla_flags.OPT_OUT_VARIABLE: "0"}
    assert xla_flags.apply_cpu_flags(environ) == []
    assert "XLA_FLAGS" not in environ


def test_unmeasured_jaxlib_gets_no_flags(monkeypatch):
    monkeypatch.setattr(xla_flags, "_jaxlib_minor", lambda: "9.99")
    assert xla_flags.flags_to_add("", "9.99") == []
    assert xla_flags.apply_cpu_flags({}) == []


def test_too_late_leaves_flags_alone_and_says_so(monkeypatch, caplog):
    monkeypatch.setattr(xla_flags, "_jaxlib_minor", lambda: xla_flags.MEASURED_JAXLIB[0])
    monkeypatch.setattr(xla_flags, "_backends_initialized", lambda: True)
    environ = {}
    assert xla_flags.apply_cpu_flags(environ) == []
    assert environ == {}
    assert "Import aelab before creating JAX arrays" in caplog.text
