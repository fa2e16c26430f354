"""aelab.load_config: shipped configs by name, variants, paths and keyword overrides."""

import pytest

import aelab
from aelab.config import ConfigError


def test_shipped_names_are_the_config_files():
    names = aelab.list_configs()
    assert "quickstart" in names
    assert "iwae_table1/mlp_1layer" in names
    assert not [n for n in names if n.startswith("sweeps/")]


def test_a_name_with_a_variant_is_that_configs_get_config():
    config = aelab.load_config("quickstart:smoke")
    assert config.train.num_steps == 20
    assert aelab.load_config("quickstart").train.num_steps == 10_000
    assert aelab.load_config("mnist_dense:vae,smoke").model.name == "dense_vae"


def test_a_path_works_like_a_name(tmp_path):
    path = tmp_path / "mine.py"
    path.write_text(
        "from aelab.config import base_config\n\n"
        "def get_config(arg=None):\n"
        "    config = base_config(data='digits', model='dense_ae', objective='reconstruction')\n"
        "    config.train.num_steps = 7 if arg == 'short' else 70\n"
        "    return config\n"
    )
    assert aelab.load_config(str(path)).train.num_steps == 70
    assert aelab.load_config(f"{path}:short").train.num_steps == 7


def test_overrides_by_keyword_and_by_dotted_name():
    config = aelab.load_config(
        "quickstart:smoke", train__num_steps=5, **{"optimizer.learning_rate": 3e-4}
    )
    assert config.train.num_steps == 5
    assert config.optimizer.learning_rate == 3e-4


def test_an_unknown_name_lists_the_shipped_ones():
    with pytest.raises(ConfigError, match=r"Did you mean 'quickstart'\?.*hinton2006_mnist"):
        aelab.load_config("quickstrat")


def test_an_unknown_field_names_the_closest_one():
    with pytest.raises(
        ConfigError, match=r"no field 'train.num_stepz'; did you mean 'train.num_steps'"
    ):
        aelab.load_config("quickstart", train__num_stepz=5)


def test_a_value_of_the_wrong_type_is_one_line():
    with pytest.raises(ConfigError, match=r"Override train.num_steps='many' is not valid"):
        aelab.load_config("quickstart", train__num_steps="many")
