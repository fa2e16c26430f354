"""Config validation: every field is checked before anything compiles, with clear errors.

The property-based tests feed random invalid configs (hypothesis) and require a
`ConfigError` naming the broken field, never another exception from deep inside JAX;
and random valid variations of a config, which must pass.
"""

import os

import ml_collections
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from aelab.config import CONFIG_SCHEMA, ConfigError, validate_config
from aelab.evaluation import train_and_evaluate
from tests.conftest import all_config_names, load_config, skip_without_metadata
from tests.option_strategies import declared_options, example_value, invalid_values


def tiny():
    """The quickstart smoke config on one device, as in the `tiny_config` fixture."""
    config = load_config("quickstart", "smoke")
    config.mesh.num_devices = 1
    config.model.hidden_dims = (8,)
    config.model.latent_dim = 8  # A multiple of a VQ-VAE's code_dim.
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
    config = load_config(name, variant)
    skip_without_metadata(config)
    validate_config(config)


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
        ("model.hidden_dims", (8, -1), r"hidden_dims=\(8, -1\) is not valid: must be a tuple of i"),
        ("model.dropout_rate", 1.5, r"dropout_rate=1.5 is not valid: must be .* < 1"),
        ("model.hiden_dims", (8,), r"hiden_dims is not a known field for model 'dense_vae': did"),
        ("model.activation", "rleu", r"Unknown activation 'rleu'"),
        ("objective.betta", 2.0, r"config.objective.betta .*did you mean 'beta'"),
        ("optimizer.schedule", "step", r"config.optimizer.decay_boundaries is missing: "),
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


# ------------------------------------------- derived from the declared options

DECLARED = declared_options()
ENUM_OPTIONS = [o for o in DECLARED if o.field.spec.choices is not None]


def config_with(option) -> ml_collections.ConfigDict:
    """The tiny config with `option`'s component chosen and every required option of it
    set to a valid value (so that only the change under test is wrong)."""
    config = tiny()
    target = _section(config, option.path)
    for selector_field, entry in option.choices.items():
        target[selector_field] = entry
    complete = CONFIG_SCHEMA.complete(config)
    for other in DECLARED:
        if (
            other.path == option.path
            and other.field.required
            and other.choices in ({}, option.choices)
        ):
            section = _section(complete, other.path)
            if other.field.name not in section:
                section[other.field.name] = example_value(other.field)
    return complete


def _section(config, path: str):
    target = config
    for part in filter(None, path.split(".")):
        if part not in target:
            target[part] = ml_collections.ConfigDict()
        target = target[part]
    return target


def _walk_problems(config) -> list[str]:
    report, _ = CONFIG_SCHEMA.check(config)
    return report.problems


def test_the_declarations_cover_every_section():
    sections = {o.path.split(".")[0] for o in DECLARED}
    assert sections == {
        "",
        "data",
        "model",
        "objective",
        "optimizer",
        "train",
        "mesh",
        "distributed",
        "evals",
    }
    assert len(ENUM_OPTIONS) >= 20


@pytest.mark.parametrize("option", DECLARED, ids=repr)
def test_every_option_accepts_a_valid_value(option):
    config = config_with(option)
    set_field(config, option.dotted, example_value(option.field))
    assert _walk_problems(config) == []


@pytest.mark.parametrize("option", ENUM_OPTIONS, ids=repr)
def test_every_enum_option_refuses_a_value_outside_its_choices(option):
    config = config_with(option)
    set_field(config, option.dotted, "not_a_choice")
    problems = _walk_problems(config)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"config.{option.dotted}='not_a_choice' is not valid")
    valid = option.field.spec.valid_choices()
    assert all(repr(v) in problems[0] or str(v) in problems[0] for v in valid), problems[0]


@settings(
    max_examples=int(os.environ.get("AELAB_HYPOTHESIS_EXAMPLES", 80)),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(data=st.data())
def test_random_invalid_values_get_a_config_error_naming_the_field(data):
    option = data.draw(st.sampled_from(DECLARED), label="option")
    value = data.draw(invalid_values(option.field), label="value")
    config = config_with(option)
    set_field(config, option.dotted, value)
    stored = _section(config, option.path)[option.field.name]
    # ConfigDict itself turns some values into valid ones (a bool set on a float field
    # becomes 0.0 or 1.0): those are not invalid configs.
    assume(option.field.convert(stored)[0] is not None)
    with pytest.raises(ConfigError) as error:
        validate_config(config)
    assert f"config.{option.dotted}" in str(error.value), str(error.value)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_misspelled_fields_get_a_did_you_mean(data):
    option = data.draw(
        st.sampled_from(
            [
                o
                for o in DECLARED
                if o.path and not o.path.startswith("evals") and len(o.field.name) > 4
            ]
        )
    )
    position = data.draw(st.integers(0, len(option.field.name) - 1))
    typo = option.field.name[:position] + option.field.name[position + 1 :]
    config = config_with(option)
    section = _section(config, option.path)
    if typo in section or typo in {o.field.name for o in DECLARED}:
        return  # The dropped letter made another real field.
    set_field(config, f"{option.path}.{typo}", 1)
    problems = _walk_problems(config)
    assert any(f"config.{option.path}.{typo} is not a known field" in p for p in problems), problems


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
    validate_config(load_config("mnist_dense:vae", "smoke"), num_devices=1)
    assert os.listdir(tmp_path) == []
