"""Exported models on the Hugging Face Hub: `hf://owner/repo[@revision]` addresses,
downloading one, and pushing an exported directory.

huggingface_hub is an optional dependency (`pip install 'aelab[hub]'`), imported only
when the Hub is used.
"""

from __future__ import annotations

import importlib
import os
import re
from types import ModuleType

from aelab.evaluation.exporting import LOADED_FILES

HUB_PREFIX = "hf://"
_REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")


def is_hub_address(path: str) -> bool:
    """Whether `path` names a Hub repository (`hf://owner/repo[@revision]`)."""
    return str(path).startswith(HUB_PREFIX)


def parse_hub_address(address: str) -> tuple[str, str | None]:
    """("owner/repo", revision or None) of "hf://owner/repo[@revision]".

    Raises:
      ValueError: `address` is not of that form.
    """
    rest = address[len(HUB_PREFIX) :] if is_hub_address(address) else ""
    repo_id, _, revision = rest.partition("@")
    if not _REPO_ID.fullmatch(repo_id) or (revision == "" and "@" in rest):
        raise ValueError(
            f"{address!r} is not a Hub address: write hf://OWNER/REPO or "
            "hf://OWNER/REPO@REVISION (a branch, tag or commit)."
        )
    return repo_id, revision or None


def _huggingface_hub() -> ModuleType:
    try:
        return importlib.import_module("huggingface_hub")
    except ImportError:
        raise ImportError(
            "The Hugging Face Hub needs the huggingface_hub package: pip install 'aelab[hub]'."
        ) from None


def download(address: str, *, token: str | None = None) -> str:
    """Downloads the repository `address` names ("hf://owner/repo[@revision]") into the
    Hub's local cache; returns the local directory."""
    repo_id, revision = parse_hub_address(address)
    hub = _huggingface_hub()
    return hub.snapshot_download(repo_id=repo_id, revision=revision, token=token)


def push_to_hub(
    out_dir: str,
    repo_id: str,
    *,
    token: str | None = None,
    private: bool = False,
    commit_message: str = "Upload aelab model",
) -> str:
    """Uploads an exported model directory to the Hub repository `repo_id`
    ("owner/name"; created when missing). Returns its address, "hf://owner/name".

    Raises:
      FileNotFoundError: `out_dir` is not an exported model directory.
      ValueError: `repo_id` is not "owner/name".
    """
    missing = [name for name in LOADED_FILES if not os.path.isfile(os.path.join(out_dir, name))]
    if missing:
        raise FileNotFoundError(
            f"{out_dir} is not an exported model (missing {', '.join(missing)}): export a run "
            "first with aelab.evaluation.export(workdir, out_dir)."
        )
    parse_hub_address(HUB_PREFIX + repo_id)
    api = _huggingface_hub().HfApi(token=token)
    api.create_repo(repo_id, private=private, exist_ok=True)
    api.upload_folder(repo_id=repo_id, folder_path=out_dir, commit_message=commit_message)
    return HUB_PREFIX + repo_id
