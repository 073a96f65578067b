"""What a person does in JupyterLab and the DS Agent panel, as Playwright steps."""

from __future__ import annotations

from typing import Any

from .lab import Lab

__all__ = [
    "CELLS",
    "PANEL",
    "PANEL_TAB",
    "cell_count",
    "cell_source",
    "open_notebook",
    "open_panel",
    "show_tab",
    "wait_for_agent_state",
    "wait_for_cell_count",
]

PANEL = "#jupyter-dsagent-sidebar"
CELLS = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell"
PANEL_TAB = '.jp-SideBar.jp-mod-left li[data-id="jupyter-dsagent-sidebar"]'
KERNEL_START_MS = 90_000


def open_notebook(page: Any, lab: Lab, name: str, cells: list[str] | None = None) -> None:
    """Open a new notebook in JupyterLab and wait until its kernel is idle."""
    page.goto(lab.notebook(name, cells))
    page.wait_for_selector(CELLS)
    page.wait_for_function(
        """name => {
          const widget = window.jupyterapp?.shell.currentWidget;
          return widget?.context?.path === name
            && widget.sessionContext?.session?.kernel?.status === 'idle';
        }""",
        arg=name,
        timeout=KERNEL_START_MS,
    )


def open_panel(page: Any) -> Any:
    """Show the DS Agent panel (click its sidebar tab unless it is already open)."""
    panel = page.locator(PANEL)
    if not panel.is_visible():
        page.click(PANEL_TAB)
    panel.wait_for(state="visible")
    return panel


def show_tab(page: Any, label: str) -> None:
    page.locator(f'{PANEL} .jp-DSAgent-tab:text-is("{label}")').click()


def wait_for_agent_state(page: Any, state: str, timeout: float = KERNEL_START_MS) -> None:
    page.wait_for_selector(f'{PANEL} .jp-DSAgent-kernel[data-state="{state}"]', timeout=timeout)


def cell_count(page: Any) -> int:
    count: int = page.locator(CELLS).count()
    return count


def wait_for_cell_count(page: Any, count: int) -> None:
    page.wait_for_function(
        "([cells, n]) => document.querySelectorAll(cells).length === n", arg=[CELLS, count]
    )


def cell_source(page: Any, index: int) -> str:
    """The exact source of the active notebook's cell ``index``, from its model."""
    source: str = page.evaluate(
        "i => window.jupyterapp.shell.currentWidget.content.model.cells.get(i)"
        ".sharedModel.getSource()",
        index,
    )
    return source
