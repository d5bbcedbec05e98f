"""The packaging rule: ``platform/`` must never shadow the standard library's ``platform``."""

import configparser
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CODE_FOLDERS = ("platform", "communities", "federation", "auth")


def listed_packages() -> set[str]:
    parser = configparser.ConfigParser()
    parser.read(ROOT / "setup.cfg")
    return {line.strip() for line in parser["options"]["packages"].splitlines() if line.strip()}


def packages_on_disk() -> set[str]:
    """Every folder holding Python code under the four code folders, as a ``maillage.`` name."""
    found = set()
    for folder in CODE_FOLDERS:
        for source in (ROOT / folder).rglob("*.py"):
            relative = source.parent.relative_to(ROOT)
            if "__pycache__" not in relative.parts:
                found.add("maillage." + ".".join(relative.parts))
    return found


def test_every_code_folder_is_listed_in_setup_cfg():
    missing = packages_on_disk() - listed_packages()
    assert not missing, f"add to setup.cfg [options] packages: {sorted(missing)}"


def test_listed_packages_exist():
    for package in listed_packages():
        path = ROOT.joinpath(*package.split(".")[1:])
        assert path.is_dir(), package


def test_top_level_code_folders_have_no_init():
    for folder in CODE_FOLDERS:
        assert not (ROOT / folder / "__init__.py").exists(), folder


def test_subpackages_have_init():
    for package in listed_packages():
        parts = package.split(".")[1:]
        if len(parts) > 1:
            assert ROOT.joinpath(*parts, "__init__.py").exists(), package


def test_standard_library_platform_is_not_shadowed_from_the_repository_root():
    result = subprocess.run(
        [sys.executable, "-c", "import platform, sqlalchemy; print(platform.system())"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()


def test_python_dash_m_pytest_style_path_still_imports_maillage():
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; sys.path.insert(0, '.'); import platform; "
            "platform.system(); import maillage.platform.app",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
