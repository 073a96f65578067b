"""The last error is described briefly with secrets masked, and known patterns get a fix
written with the workspace's real names."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from jupyter_dsagent.agent.errors import MAX_FRAMES, describe_error, known_fix
from jupyter_dsagent.agent.suggest import make_suggestion
from jupyter_dsagent.agent.workspace import Workspace
from jupyter_dsagent.exceptions import NotFoundError
from tests.ingest.manifest import PROPER_READS
from tests.paths import SHARED_DATA


def raised(code: str, namespace: dict[str, Any], tmp_path: Path) -> BaseException:
    """The exception ``code`` raises when run as a notebook cell (a real file, so the
    traceback has its source lines)."""
    cell = tmp_path / f"cell{len(list(tmp_path.iterdir()))}.py"
    cell.write_text(code)
    try:
        exec(compile(code, str(cell), "exec"), namespace)
    except BaseException as exc:  # the point is to capture whatever it raises
        return exc
    raise AssertionError(f"{code!r} did not raise")


def read(name: str) -> pd.DataFrame:
    return pd.read_csv(SHARED_DATA / name, **PROPER_READS[name])


@pytest.fixture
def namespace() -> dict[str, Any]:
    return {
        "pd": pd,
        "titanic": read("seaborn/titanic.csv"),
        "tips": read("seaborn/tips.csv"),
    }


# -- describe_error --------------------------------------------------------------------------


def test_no_error_says_so() -> None:
    assert describe_error(None) == "No error has been raised in this notebook."


def test_type_message_and_the_failing_line_are_shown(
    namespace: dict[str, Any], tmp_path: Path
) -> None:
    error = raised("titanic['agee'].mean()", namespace, tmp_path)
    text = describe_error(error)
    assert text.startswith("KeyError: 'agee'\nTraceback (most recent call last")
    assert "titanic['agee'].mean()" in text
    assert "…/pandas/" in text  # library paths are shortened
    assert "Raised while handling" not in text  # pandas re-raises the same KeyError


def test_a_different_cause_is_named(tmp_path: Path) -> None:
    code = "try:\n    {}['x']\nexcept KeyError as e:\n    raise ValueError('no x') from e\n"
    text = describe_error(raised(code, {}, tmp_path))
    assert text.startswith("ValueError: no x")
    assert text.endswith("Raised while handling KeyError: 'x'")


def test_secrets_are_masked_in_messages_and_source_lines(tmp_path: Path) -> None:
    code = (
        "api_key = 'sk-proj-abcdefghijklmnopqrstuvwx1234'\n"
        "url = 'https://user:hunter2secret@api.example.com'\n"
        "raise PermissionError(f'rejected {url} key {api_key}')\n"
    )
    text = describe_error(raised(code, {}, tmp_path))
    assert "abcdefghijklmnop" not in text
    assert "hunter2secret" not in text
    assert "sk-***" in text and "user:***@api.example.com" in text


def test_long_messages_and_deep_tracebacks_are_cut(tmp_path: Path) -> None:
    huge = raised("raise ValueError('x' * 100_000)", {}, tmp_path)
    text = describe_error(huge, max_chars=500)
    assert len(text) <= 500
    assert "more characters]" in text
    deep = raised("def f(n):\n    return f(n + 1)\nf(0)\n", {}, tmp_path)
    text = describe_error(deep)
    assert text.startswith("RecursionError: maximum recursion depth exceeded")
    assert text.count('  File "') == MAX_FRAMES
    assert "earlier frames left out" in text
    for limit in (80, 200, 1000):
        assert len(describe_error(deep, max_chars=limit)) <= limit


def test_an_unprintable_error_is_still_described() -> None:
    class Odd(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no")

    assert "cannot be shown" in describe_error(Odd())


# -- known_fix -------------------------------------------------------------------------------


def _fix(code: str, namespace: dict[str, Any], tmp_path: Path, **workspace: Any) -> Any:
    error = raised(code, namespace, tmp_path)
    return known_fix(error, Workspace(namespace=namespace, **workspace))


def test_a_misspelt_column_is_corrected_in_the_line(
    namespace: dict[str, Any], tmp_path: Path
) -> None:
    fix = _fix("titanic['agee'].mean()", namespace, tmp_path)
    assert fix.pattern == "missing_column"
    assert fix.code == "titanic['age'].mean()"
    assert "closest is `age` in `titanic`" in fix.summary
    listed = _fix('titanic[["agee", "fare"]].head()', namespace, tmp_path)
    assert listed.code == "titanic[['age', \"fare\"]].head()"


def test_a_case_slip_in_a_column_name_is_corrected(tmp_path: Path) -> None:
    namespace = {"hr": read("messy/HR_attrition_utf8_bom.csv")}
    fix = _fix("hr['monthlyincome'].median()", namespace, tmp_path)
    assert fix.code == "hr['MonthlyIncome'].median()"


def test_inside_a_function_the_fix_names_the_column_without_rerunning(
    namespace: dict[str, Any], tmp_path: Path
) -> None:
    code = "def mean_of(frame):\n    return frame['survivd'].mean()\nmean_of(titanic)\n"
    fix = _fix(code, namespace, tmp_path)
    assert fix.code == "titanic['survived'].head()"
    assert fix.explanation.startswith("Shows the first values")


def test_a_key_with_no_similar_column_lists_the_columns(
    namespace: dict[str, Any], tmp_path: Path
) -> None:
    fix = _fix("tips['zzzz']", namespace, tmp_path)
    assert fix.code == "list(tips.columns)"
    assert _fix("{'a': 1}['zzzz']", namespace, tmp_path) is None


def test_a_misspelt_variable_or_a_missing_import(namespace: dict[str, Any], tmp_path: Path) -> None:
    fix = _fix("titanc.head()", namespace, tmp_path)
    assert (fix.pattern, fix.code) == ("unknown_name", "titanic.head()")
    del namespace["pd"]
    fix = _fix("pd.concat([tips, tips]).shape", namespace, tmp_path)
    assert fix.code == "import pandas as pd\n\npd.concat([tips, tips]).shape"
    fix = _fix("json.dumps({})", namespace, tmp_path)
    assert fix.code.startswith("import json")
    assert _fix("completely_unknown_thing + 1", namespace, tmp_path) is None


def test_a_column_read_as_an_attribute(namespace: dict[str, Any], tmp_path: Path) -> None:
    fix = _fix("tips.totl_bill.sum()", namespace, tmp_path)
    assert (fix.pattern, fix.code) == ("missing_attribute", "tips['total_bill'].sum()")


def test_text_with_decimal_commas_is_converted(tmp_path: Path) -> None:
    name = "messy/superstore_semicolon_cp1252_decimalcomma.csv"
    store = pd.read_csv(SHARED_DATA / name, sep=";", encoding="cp1252")  # decimal="," forgotten
    namespace = {"store": store}
    fix = _fix("store['Sales'].sum() / 2", namespace, tmp_path)
    assert fix.pattern == "dtype"
    assert "`Sales` in `store` is text" in fix.summary
    assert 'str.replace(",", ".", regex=False)' in fix.code
    exec(fix.code, namespace)  # the fix itself runs
    proper = pd.read_csv(SHARED_DATA / name, **PROPER_READS[name])
    assert store["Sales"].dtype == "float64"
    assert (store["Sales"] - proper["Sales"]).abs().max() < 1e-9


def test_text_with_currency_signs_and_dates_as_text(tmp_path: Path) -> None:
    prices = pd.DataFrame({"price": ["$1,200.50", "$30", "n/a"], "day": ["2024-01-02"] * 3})
    namespace = {"prices": prices}
    fix = _fix("prices['price'] + 1", namespace, tmp_path)
    assert "drops currency signs" in fix.explanation
    exec(fix.code, namespace)
    assert prices["price"].tolist()[:2] == [1200.5, 30.0]
    fix = _fix("prices['day'] - prices['day'].min()", namespace, tmp_path)
    assert "holds dates as text" in fix.summary
    exec(fix.code, namespace)
    assert str(prices["day"].dtype).startswith("datetime64")


def test_missing_values_in_an_integer_cast(namespace: dict[str, Any], tmp_path: Path) -> None:
    fix = _fix("titanic['age'].astype(int)", namespace, tmp_path)
    assert "Int64" in fix.code
    exec(fix.code, namespace)
    assert str(namespace["titanic"]["age"].dtype) == "Int64"


def test_a_dtype_error_with_no_column_named_lists_the_text_columns(
    namespace: dict[str, Any], tmp_path: Path
) -> None:
    fix = _fix("titanic.sum(axis=1) + 'x'", namespace, tmp_path)
    assert fix.pattern == "dtype"
    assert "select_dtypes" in fix.code
    exec(fix.code, namespace)


@dataclass
class Record:
    id: str
    name: str
    kind: str = "csv"
    children: list[Any] = field(default_factory=list)


def test_a_missing_file_that_was_uploaded_is_loaded_from_the_uploads(tmp_path: Path) -> None:
    uploads = [Record("f00d", "sales.csv")]
    fix = _fix("pd.read_csv('data/sales.csv')", {"pd": pd}, tmp_path, list_uploads=lambda: uploads)
    assert fix.pattern == "file_not_found"
    assert "df_sales = dsa.load('f00d')" in fix.code
    fix = _fix("pd.read_csv('other.csv')", {"pd": pd}, tmp_path, list_uploads=lambda: uploads)
    assert "dsa.uploads()" in fix.code
    assert "Upload the file" in fix.summary
    not_uploaded = NotFoundError("There is no upload or file called 'Sales.csv'.")
    fix = known_fix(not_uploaded, Workspace(list_uploads=lambda: uploads))
    assert "df_sales = dsa.load('f00d')" in fix.code


def test_a_missing_package_gets_a_flagged_install(tmp_path: Path) -> None:
    fix = _fix("import sklearnx_not_here", {}, tmp_path)
    assert fix.code == "%pip install sklearnx_not_here"
    assert make_suggestion(fix.code, fix.explanation).flags == ("pip",)
    renamed = known_fix(ModuleNotFoundError("No module named 'cv2'", name="cv2"), Workspace())
    assert renamed.code == "%pip install opencv-python"
    submodule = _fix("import pandas.not_a_module", {}, tmp_path)
    assert submodule.code is None and "is installed" in submodule.summary
    odd = ModuleNotFoundError("No module named 'x; rm -rf ~'", name="x; rm -rf ~")
    assert known_fix(odd, Workspace()) is None


def test_other_errors_have_no_known_fix(tmp_path: Path) -> None:
    assert _fix("1 / 0", {}, tmp_path) is None
    assert known_fix(None, Workspace()) is None


def test_every_fix_is_valid_python(namespace: dict[str, Any], tmp_path: Path) -> None:
    for code in ("titanic['agee']", "titanc", "tips.totl_bill", "titanic['age'].astype(int)"):
        fix = _fix(code, dict(namespace), tmp_path)
        ast.parse(fix.code)
