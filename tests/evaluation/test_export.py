"""Exporting a trained run and loading it back: from the exported directory, from a fake
Hugging Face Hub, and the errors for damaged, missing or mismatched files."""

import json
import os
import pathlib
import shutil
import sys

import huggingface_hub
import jax
import numpy as np
import pytest
import safetensors
import safetensors.numpy

import aelab
from aelab.data import DataError, DatasetInfo, load_split
from aelab.evaluation import evaluate_run, export, exporting, load_run, load_trained, push_to_hub
from aelab.evaluation.exported import load_exported
from aelab.evaluation.hub import parse_hub_address
from aelab.evaluation.model_calls import ModelCalls
from aelab.training import train
from aelab.training.weight_files import WeightsError
from tests.conftest import load_config


def _tiny_config():
    """The quickstart's dense VAE, shrunk, with batch norm so that it has model state."""
    config = load_config("quickstart", "smoke")
    config.mesh.num_devices = 1
    config.model.hidden_dims = (16,)
    config.model.latent_dim = 3
    config.model.batch_norm = True
    config.data.batch_size = 16
    config.data.eval_batch_size = 120
    config.train.num_steps = 4
    config.train.log_every = 2
    config.train.eval_every = 2
    config.train.checkpoint_every = 2
    config.train.steps_per_call = 2
    config.evals = {"reconstruction": {}}
    return config


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("export") / "run")
    train(_tiny_config(), path)
    evaluate_run(path)  # results.json, for the model card.
    return path


@pytest.fixture(scope="module")
def exported(workdir, tmp_path_factory):
    return export(workdir, str(tmp_path_factory.mktemp("exports") / "tiny_vae"))


def _copy(exported, tmp_path):
    copy = str(tmp_path / "copy")
    shutil.copytree(exported, copy)
    return copy


def _trees_equal(a, b) -> bool:
    same_structure = jax.tree.structure(a) == jax.tree.structure(b)
    return same_structure and all(
        np.array_equal(x, y) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True)
    )


def test_an_exported_model_has_the_workdirs_weights_and_reconstructs_identically(workdir, exported):
    from_workdir = load_run(workdir)
    loaded = load_trained(exported)
    assert loaded.step == from_workdir.step == 4
    assert loaded.source == exported and loaded.workdir is None
    assert loaded.train_seconds == from_workdir.train_seconds
    assert jax.tree.leaves(loaded.model_state)  # batch statistics travel with the params
    assert _trees_equal(loaded.params, from_workdir.params)
    assert _trees_equal(loaded.model_state, from_workdir.model_state)
    # Rebuilt from data_info.json alone.
    assert loaded.spec.info == from_workdir.spec.info
    assert loaded.spec.transform == from_workdir.spec.transform

    records, _ = load_split(from_workdir.config.data, "test")
    inputs = from_workdir.spec.transform.prepare_split(records.get_batch(np.arange(50)))["inputs"]
    calls = [
        ModelCalls(run.graphdef, run.params, run.model_state, run.spec.objective.likelihood)
        for run in (from_workdir, loaded)
    ]
    np.testing.assert_array_equal(calls[0].reconstruct(inputs), calls[1].reconstruct(inputs))


def test_an_export_holds_the_config_the_data_info_and_named_weights_without_optimizer(
    workdir, exported
):
    assert sorted(os.listdir(exported)) == sorted(exporting.EXPORT_FILES)
    with (
        open(os.path.join(workdir, "config.json")) as f,
        open(os.path.join(exported, "config.json")) as g,
    ):
        assert json.load(f) == json.load(g)
    with open(os.path.join(exported, "data_info.json")) as f:
        info = DatasetInfo.from_dict(json.load(f))
    assert info == load_run(workdir).spec.info
    with safetensors.safe_open(os.path.join(exported, "params.safetensors"), "np") as f:
        metadata, names = f.metadata(), list(f.keys())
    assert metadata["step"] == "4" and metadata["aelab_version"] == aelab.__version__
    assert "params/encoder/mlp/hidden/0/kernel" in names
    assert any(name.startswith("model_state/") for name in names)
    assert all(name.split("/")[0] in ("params", "model_state") for name in names)


def test_the_model_card_says_what_was_trained_how_long_what_was_measured_and_how_to_load(
    workdir, exported
):
    with open(os.path.join(exported, "README.md")) as f:
        card = f.read()
    with open(os.path.join(workdir, "results.json")) as f:
        mse = json.load(f)["metrics"]["reconstruction/mse"]
    with open(os.path.join(workdir, "run_info.json")) as f:
        parameters = json.load(f)["parameter_count"]
    assert card.startswith("---\nlibrary_name: aelab\n")
    assert "# tiny_vae" in card
    assert "`dense_vae`" in card and "`digits`" in card
    assert f"| parameters | {parameters:,} |" in card
    assert "| training steps | 4 (of 4 configured) |" in card
    assert "| training time | " in card and "not recorded" not in card
    assert f"| `reconstruction/mse` | {mse:.6g} |" in card
    assert "| `eval/loss` |" in card
    assert 'load_trained("PATH")' in card and "hf://" in card


def test_export_refuses_a_non_empty_directory_unless_told_to_overwrite(workdir, tmp_path):
    out = tmp_path / "taken"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not empty; pass overwrite=True"):
        export(workdir, str(out))
    assert (out / "notes.txt").read_text() == "mine"
    export(workdir, str(out), overwrite=True)
    assert sorted(os.listdir(out)) == sorted(exporting.EXPORT_FILES)
    (tmp_path / "empty").mkdir()
    assert export(workdir, str(tmp_path / "empty")) == str(tmp_path / "empty")


def test_a_failed_export_leaves_no_directory_behind(workdir, tmp_path, monkeypatch):
    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(exporting, "write_weights", fail)
    with pytest.raises(OSError, match="disk full"):
        export(workdir, str(tmp_path / "half"))
    assert os.listdir(tmp_path) == []


def test_loading_an_export_with_a_missing_file_names_it(exported, tmp_path):
    copy = _copy(exported, tmp_path)
    os.remove(os.path.join(copy, "data_info.json"))
    with pytest.raises(FileNotFoundError, match=r"data_info\.json missing"):
        load_trained(copy)
    os.remove(os.path.join(copy, "params.safetensors"))
    with pytest.raises(FileNotFoundError, match="neither an exported model"):
        load_trained(copy)


def test_a_truncated_or_altered_weights_file_is_reported_as_damaged(exported, tmp_path):
    copy = _copy(exported, tmp_path)
    path = os.path.join(copy, "params.safetensors")
    data = pathlib.Path(path).read_bytes()
    pathlib.Path(path).write_bytes(data[:-7])
    with pytest.raises(WeightsError, match="damaged or truncated"):
        load_trained(copy)
    flipped = bytearray(data)
    flipped[-3] ^= 0xFF  # inside the last array: the structure stays valid
    pathlib.Path(path).write_bytes(bytes(flipped))
    with pytest.raises(WeightsError, match="do not match the checksum"):
        load_trained(copy)


def test_weights_that_do_not_fit_the_configs_model_name_the_first_array(exported, tmp_path):
    copy = _copy(exported, tmp_path)
    config_path = os.path.join(copy, "config.json")
    with open(config_path) as f:
        config = json.load(f)
    config["model"]["hidden_dims"] = [8]
    with open(config_path, "w") as f:
        json.dump(config, f)
    mismatch = r"array params/decoder/\S+ is float32 \[16\] but the model has float32 \[8\]"
    with pytest.raises(WeightsError, match=mismatch):
        load_trained(copy)

    copy = _copy(exported, tmp_path / "extra")
    path = os.path.join(copy, "params.safetensors")
    arrays = safetensors.numpy.load_file(path)
    arrays["params/encoder/extra"] = np.zeros(2, np.float32)
    safetensors.numpy.save_file(arrays, path, metadata={"step": "4"})
    with pytest.raises(WeightsError, match="array params/encoder/extra that the model does"):
        load_trained(copy)
    del arrays["params/encoder/extra"], arrays["params/encoder/mlp/out/bias"]
    safetensors.numpy.save_file(arrays, path, metadata={"step": "4"})
    with pytest.raises(WeightsError, match="no array params/encoder/mlp/out/bias"):
        load_trained(copy)


def test_an_export_holds_one_step_and_a_bad_data_info_is_named(exported, tmp_path):
    with pytest.raises(ValueError, match="exported model of step 4 only"):
        load_trained(exported, step=2)
    assert load_trained(exported, step=4).step == 4
    copy = _copy(exported, tmp_path)
    with open(os.path.join(copy, "data_info.json"), "w") as f:
        json.dump({"name": "digits"}, f)
    with pytest.raises(DataError, match="missing fields"):
        load_exported(copy)


class FakeHub:
    """The Hub as a local folder: uploads copy into it, downloads read from it."""

    def __init__(self, root):
        self.root, self.calls = root, []

    def create_repo(self, api, repo_id, *, private=None, exist_ok=False, **kwargs):
        self.calls.append(("create_repo", repo_id, private, exist_ok))
        os.makedirs(self.root / repo_id, exist_ok=exist_ok)

    def upload_folder(self, api, *, repo_id, folder_path, **kwargs):
        self.calls.append(("upload_folder", repo_id, folder_path))
        shutil.copytree(folder_path, self.root / repo_id, dirs_exist_ok=True)

    def snapshot_download(self, repo_id, *, revision=None, token=None, **kwargs):
        self.calls.append(("snapshot_download", repo_id, revision))
        return str(self.root / repo_id)


@pytest.fixture
def fake_hub(tmp_path, monkeypatch):
    hub = FakeHub(tmp_path / "hub")
    monkeypatch.setattr(
        huggingface_hub.HfApi,
        "create_repo",
        lambda api, repo_id, **kw: hub.create_repo(api, repo_id, **kw),
    )
    monkeypatch.setattr(
        huggingface_hub.HfApi, "upload_folder", lambda api, **kw: hub.upload_folder(api, **kw)
    )
    monkeypatch.setattr(huggingface_hub, "snapshot_download", hub.snapshot_download)
    return hub


def test_a_model_pushed_to_the_hub_loads_back_from_its_address(exported, fake_hub):
    assert push_to_hub(exported, "someone/tiny-vae", private=True) == "hf://someone/tiny-vae"
    assert fake_hub.calls == [
        ("create_repo", "someone/tiny-vae", True, True),
        ("upload_folder", "someone/tiny-vae", exported),
    ]
    run = load_trained("hf://someone/tiny-vae@v1")
    assert fake_hub.calls[-1] == ("snapshot_download", "someone/tiny-vae", "v1")
    assert run.source == "hf://someone/tiny-vae@v1"
    assert _trees_equal(run.params, load_trained(exported).params)
    load_trained("hf://someone/tiny-vae")
    assert fake_hub.calls[-1] == ("snapshot_download", "someone/tiny-vae", None)


def test_only_an_exported_directory_can_be_pushed(workdir, fake_hub):
    with pytest.raises(FileNotFoundError, match="not an exported model"):
        push_to_hub(workdir, "someone/tiny-vae")
    assert fake_hub.calls == []


@pytest.mark.parametrize("address", ["hf://tiny-vae", "hf://a/b/c", "hf://a/b@", "a/b"])
def test_a_malformed_hub_address_says_how_to_write_one(address):
    with pytest.raises(ValueError, match=r"write hf://OWNER/REPO"):
        parse_hub_address(address)


def test_without_huggingface_hub_the_error_names_the_extra_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)
    with pytest.raises(ImportError, match=r"pip install 'aelab\[hub\]'"):
        load_trained("hf://someone/tiny-vae")
