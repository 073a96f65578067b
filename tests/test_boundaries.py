"""The cut of the package: library code imports neither tornado nor IPython, and the
entry-point module stays light so ``%load_ext`` is fast."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import jupyter_dsagent

LIBRARY_PACKAGES = ("ingest", "profiling", "automl", "agent", "llm")
LIBRARY_MODULES = (
    "api",
    "audit",
    "config",
    "datadir",
    "exceptions",
    "health",
    "observability",
    "redaction",
    "reference",
    "runtime",
    "throttle",
    "cli",
)
FRAMEWORKS = ("tornado", "IPython", "ipykernel", "jupyter_server")


def library_modules() -> list[str]:
    names = [f"jupyter_dsagent.{m}" for m in LIBRARY_MODULES]
    for info in pkgutil.iter_modules(jupyter_dsagent.__path__):
        if info.name in LIBRARY_PACKAGES:
            package = f"jupyter_dsagent.{info.name}"
            names.append(package)
            module = __import__(package, fromlist=["__path__"])
            names += [f"{package}.{sub.name}" for sub in pkgutil.iter_modules(module.__path__)]
    return names


def modules_loaded_by(imports: list[str]) -> set[str]:
    code = (
        "import sys\n"
        + "".join(f"import {name}\n" for name in imports)
        + ("print('\\n'.join(sys.modules))")
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(done.stdout.split())


def test_library_code_knows_nothing_of_tornado_or_ipython() -> None:
    loaded = modules_loaded_by(library_modules())
    assert not {name for name in loaded if name.split(".")[0] in FRAMEWORKS}


def test_importing_the_package_loads_no_heavy_dependency() -> None:
    loaded = modules_loaded_by(["jupyter_dsagent"])
    heavy = {"litellm", "autogluon", "pandas", "PIL", "sklearn", "tornado", "traitlets"}
    assert not {name for name in loaded if name.split(".")[0] in heavy}


def test_public_functions_resolve_lazily() -> None:
    assert callable(jupyter_dsagent.load) and callable(jupyter_dsagent.uploads)
    assert jupyter_dsagent.profile.__module__.startswith("jupyter_dsagent.profiling")
    assert jupyter_dsagent.sanitize_for_export.__module__ == "jupyter_dsagent.ingest.export"
    assert "api" in LIBRARY_MODULES
