"""Config validation: every field is checked before anything compiles, with clear errors.

The property-based tests feed random invalid configs (hypothesis) and require a
`ConfigError` naming the broken field, never another exception from deep inside JAX;
and random valid variations of a config, which must pass.
"""

import os
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aelab.config_validation import ConfigError, validate_config
from aelab.defaults import base_config
from aelab.training import train_and_evaluate
from tests.conftest import all_config_names, load_config


def tiny():
    """The quickstart smoke config on one device, as in the `tiny_config` fixture."""
    config = load_config("quickstart", "smoke")
    config.mesh.num_devices = 1
    config.model.hidden_dims = (8,)
    config.model.latent_dim = 2
    config.data.batch_size = 16
    config.data.eval_batch_size = 64
    return config


def set_field(config, path: str, value) -> None:
    """Sets `config.<path>` to `value`, whatever the field's declared type."""
    *sections, name = path.split(".")
    target = config
    for section in sections:
        target = target[section]
    with target.ignore_type():
        target[name] = value


@pytest.mark.parametrize("name", all_config_names())
@pytest.mark.parametrize("variant", [None, "smoke"])
def test_every_config_is_valid(name, variant):
    validate_config(load_config(name, variant))


@pytest.mark.parametrize(
    "path, value, message",
    [
        (
            "train.num_step",
            5,
            r"config.train.num_step is not a known field: did you mean 'num_steps'",
        ),
        ("data.batchsize", 5, r"config.data.batchsize .*did you mean 'batch_size'"),
        ("trian", {}, r"config.trian is not a known field: did you mean 'train'"),
        ("train.num_steps", 0, r"config.train.num_steps=0 is not valid: must be an integer >= 1"),
        ("train.num_steps", "100", r"config.train.num_steps='100' is not valid: must be an integ"),
        ("train.num_steps", 2.5, r"config.train.num_steps=2.5 is not valid"),
        (
            "train.nonfinite",
            "ignore",
            r"nonfinite='ignore' is not valid.*'stop', 'skip'|stop, skip",
        ),
        ("optimizer.learning_rate", float("nan"), r"learning_rate=nan is not valid: must be a fin"),
        ("optimizer.learning_rate", -1e-3, r"learning_rate=-0.001 is not valid: must be .* > 0"),
        ("optimizer.name", "adan", r"Unknown optimizer 'adan'; did you mean 'adam'"),
        ("data.name", "mnits", r"Unknown data set 'mnits'; did you mean 'mnist'.*'tfds:<name>'"),
        ("data.binarize", True, r"config.data.binarize=True is not valid"),
        ("data.scale", "yes", r"config.data.scale='yes' is not valid: must be True or False"),
        ("data.eval_batch_size", -4, r"eval_batch_size=-4 is not valid: must be None or an int"),
        ("data.train_labels", (0, 10), r"train_labels=\(0, 10\) .*class indices below 10"),
        ("data.batch_size", 4096, r"batch_size=4096 .*at most the 1437 examples of split 'train'"),
        ("mesh.num_devices", 64, r"num_devices=64 is not valid: must be at most the 8 devices"),
        ("model.latent_dim", 0, r"latent_dim=0 is not valid: must be an integer >= 1"),
        ("model.hidden_dims", (8, -1), r"hidden_dims=\(8, -1\) is not valid: must be an integer"),
        ("model.dropout_rate", 1.5, r"dropout_rate=1.5 is not valid: must be .* < 1"),
        ("model.hiden_dims", (8,), r"config.model.hiden_dims is not read by model 'dense_vae': "),
        ("model.activation", "rleu", r"Unknown activation 'rleu'"),
        ("objective.betta", 2.0, r"config.objective.betta .*did you mean 'beta'"),
        ("optimizer.schedule", "step", r"It needs config.optimizer.decay_boundaries"),
        ("distributed.coordinator_address", "host", r"must be None or a 'host:port' string"),
    ],
)
def test_invalid_field_names_the_field_value_and_choices(path, value, message):
    config = tiny()
    set_field(config, path, value)
    with pytest.raises(ConfigError, match=message):
        validate_config(config)


def test_batch_must_divide_among_devices():
    config = tiny()
    config.mesh.num_devices = 8
    config.data.batch_size = 12
    with pytest.raises(ConfigError, match=r"batch_size=12 does not divide among 8 devices"):
        validate_config(config)


def test_conv_model_on_a_series_is_refused_before_building():
    config = tiny()
    config.data.name = "ecg5000"  # [140, 1] series: the metadata is known without files.
    config.model.name = "conv_vae"
    config.model.channels = (4,)
    with pytest.raises(ConfigError, match=r"'conv_vae' cannot be built for inputs of shape "):
        validate_config(config)


def test_objective_that_needs_a_vae_is_refused_for_an_autoencoder():
    config = tiny()
    config.model.name = "dense_ae"
    with pytest.raises(ConfigError, match=r"objective.name='elbo' with .*'dense_ae'.*variational"):
        validate_config(config)


def test_all_problems_are_reported_together():
    config = tiny()
    config.train.num_steps = -1
    config.optimizer.learning_rate = 0.0
    with pytest.raises(ConfigError, match=r"2 problems") as error:
        validate_config(config)
    assert {p.split("=")[0] for p in error.value.problems} == {
        "config.optimizer.learning_rate",
        "config.train.num_steps",
    }


def test_an_unread_free_form_field_is_only_a_warning(caplog):
    config = tiny()
    config.model.channels = (8, 16)  # A conv field, harmless on a dense model.
    validate_config(config)
    assert "config.model.channels has no effect" in caplog.text


def test_train_and_evaluate_validates_before_touching_the_workdir(tmp_path):
    config = tiny()
    config.train.log_evry = 5
    workdir = tmp_path / "run"
    with pytest.raises(ConfigError, match=r"did you mean 'log_every'"):
        train_and_evaluate(config, str(workdir))
    assert not workdir.exists()


# --------------------------------------------------------------- property-based


def _field_paths() -> list[str]:
    base = base_config()
    return [
        f"{section}.{name}"
        for section in base.keys()
        if section != "seed"
        for name in base[section].keys()
    ] + ["seed"]


# Values that are wrong for a field of each kind: wrong type, out of range, not finite.
_BAD_VALUES = {
    int: st.one_of(st.text(max_size=3), st.floats(allow_nan=True), st.integers(max_value=-1)),
    float: st.one_of(st.text(max_size=3), st.just(float("nan")), st.just(float("inf"))),
    bool: st.one_of(st.integers(), st.text(max_size=3)),
    str: st.one_of(st.integers(), st.just(""), st.tuples(st.integers())),
}
_NAME_FIELDS = [
    "data.name",
    "model.name",
    "objective.name",
    "objective.likelihood",
    "optimizer.name",
    "optimizer.schedule",
    "data.binarize",
    "train.nonfinite",
    "train.best_mode",
    "distributed.initialize",
]
_IDENTIFIER = st.text(alphabet=string.ascii_lowercase + "_", min_size=1, max_size=12)


def _typed_fields() -> dict[str, type]:
    """Base fields with a non-None default whose type a random value can break."""
    base = base_config()
    fields = {}
    for path in _field_paths():
        section, _, name = path.rpartition(".")
        value = base[section][name] if section else base[name]
        if type(value) in _BAD_VALUES and path not in ("data.data_dir",):
            fields[path] = type(value)
    return fields


@st.composite
def invalid_change(draw):
    """(path, value): one change that makes the tiny config invalid."""
    kind = draw(st.sampled_from(["typed", "name", "misspelled", "unknown_section", "size"]))
    if kind == "typed":
        fields = _typed_fields()
        path = draw(st.sampled_from(sorted(fields)))
        value = draw(_BAD_VALUES[fields[path]])
        if fields[path] is int and path.endswith(("_every", "patience")) and _is_int(value):
            value = -1 - abs(value)  # 0 is valid for these (off)
        if fields[path] is float and path.endswith(("min_delta", "weight", "beta")):
            value = draw(st.one_of(st.just(float("nan")), st.floats(max_value=-1e-6)))
        return path, value
    if kind == "name":
        path = draw(st.sampled_from(_NAME_FIELDS))
        return path, draw(_IDENTIFIER.filter(lambda s: s not in _valid_names(path)))
    if kind == "misspelled":
        path = draw(st.sampled_from([p for p in _field_paths() if "." in p]))
        section, name = path.split(".")
        position = draw(st.integers(0, len(name) - 1))
        typo = name[:position] + name[position + 1 :]  # One letter dropped.
        if typo in base_config()[section] or not typo:
            typo = name + "s"
        return f"{section}.{typo}", 1
    if kind == "unknown_section":
        return draw(_IDENTIFIER.filter(lambda s: s not in base_config())), {}
    path = draw(
        st.sampled_from(
            [
                "model.latent_dim",
                "model.hidden_dims",
                "train.keep_checkpoints",
                "train.steps_per_call",
                "data.batch_size",
            ]
        )
    )
    return path, draw(st.sampled_from([0, -3, (0,), (4, -2), 10**9 if "batch" in path else 0]))


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _valid_names(path: str) -> set[str]:
    from aelab.config_validation import FIELD_RULES

    return {name for name in _candidate_names() if FIELD_RULES[path](name) is None}


def _candidate_names() -> list[str]:
    import aelab.data
    import aelab.models
    import aelab.objectives
    import aelab.training

    return [
        *aelab.data.list_datasets(),
        *aelab.models.list_models(),
        *aelab.objectives.list_objectives(),
        *aelab.training.list_optimizers(),
        "auto",
        "always",
        "never",
        "none",
        "dynamic",
        "threshold",
        "stop",
        "skip",
        "min",
        "max",
        "bernoulli",
        "gaussian",
        "gaussian_learned_scale",
        "mse",
        "constant",
        "cosine",
        "warmup_constant",
        "step",
        "piecewise",
        "exponential",
    ]


@settings(
    max_examples=int(os.environ.get("AELAB_HYPOTHESIS_EXAMPLES", 60)),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(change=invalid_change())
def test_random_invalid_configs_get_a_config_error_naming_the_field(change):
    path, value = change
    config = tiny()
    set_field(config, path, value)
    with pytest.raises(ConfigError) as error:
        validate_config(config)
    assert f"config.{path}" in str(error.value), str(error.value)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    num_steps=st.integers(1, 10**6),
    every=st.integers(0, 1000),
    learning_rate=st.floats(1e-6, 10.0),
    hidden=st.lists(st.integers(1, 16), max_size=3),
    latent=st.integers(1, 8),
    batch_multiple=st.integers(1, 8),
    optimizer=st.sampled_from(["sgd", "adam", "adamw", "rmsprop"]),
    model=st.sampled_from(["dense_vae", "conv_vae"]),
)
def test_random_valid_configs_pass(
    num_steps, every, learning_rate, hidden, latent, batch_multiple, optimizer, model
):
    config = tiny()
    config.mesh.num_devices = 8
    config.train.num_steps = num_steps
    config.train.log_every = every
    config.train.checkpoint_every = every
    config.optimizer.learning_rate = learning_rate
    config.optimizer.name = optimizer
    config.model.name = model
    config.model.latent_dim = latent
    if model == "conv_vae":
        del config.model["hidden_dims"]
        config.model.channels = tuple(hidden) or (4,)
    else:
        config.model.hidden_dims = tuple(hidden)
    config.data.batch_size = 8 * batch_multiple
    config.data.eval_batch_size = 8 * batch_multiple
    validate_config(config)


def test_validation_reads_no_data_files(tmp_path, monkeypatch):
    """Checks use metadata only: an MNIST config validates with an empty data folder."""
    monkeypatch.setenv("AELAB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("AELAB_TFDS_DIR", str(tmp_path / "tfds"))
    validate_config(load_config("mnist_vae", "smoke"), num_devices=1)
    assert os.listdir(tmp_path) == []
