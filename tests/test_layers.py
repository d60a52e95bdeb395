"""The import contracts in pyproject.toml ([tool.importlinter]) hold, and they bite.

A module may import only from the layers below it (SPEC.md section 7). `lint-imports` checks it; these
tests run it, so that `make test` fails on an import that points up a layer.
"""

import json
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "conversations", "models")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(where: Path, *config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", *map(str, config)],
        cwd=where,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def layers_contract() -> dict:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    (contract,) = [contract for contract in config["contracts"] if contract["type"] == "layers"]
    return contract


def test_every_contract_is_kept():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_module_of_bot_is_in_a_layer():
    in_layers = {name.strip() for layer in layers_contract()["layers"] for name in layer.replace(":", "|").split("|")}
    modules = {
        f"bot.{path.stem}"
        for path in (ROOT / "bot").iterdir()
        if (path.suffix == ".py" or (path.is_dir() and any(path.glob("*.py"))))
    }
    assert modules - in_layers == set()


def test_an_import_pointing_up_a_layer_breaks_the_contract(tmp_path):
    # The layers upside down: every import the code makes down a layer now points up one. (Checked on
    # the tree itself: a copy of it would share the namespace package `bot` with the installed one.)
    layers = list(reversed(layers_contract()["layers"]))
    upside_down = tmp_path / "upside_down.toml"
    upside_down.write_text(
        "[tool.importlinter]\n"
        f"root_packages = {json.dumps(PACKAGES)}\n"
        "[[tool.importlinter.contracts]]\n"
        'name = "upside down"\n'
        'type = "layers"\n'
        f"layers = {json.dumps(layers, ensure_ascii=False)}\n",
        encoding="utf-8",
    )

    result = lint_imports(ROOT, upside_down)

    assert result.returncode != 0
    assert "bot.app is not allowed to import bot.dispatch" in result.stdout
    assert "bot.config is not allowed to import models" in result.stdout
