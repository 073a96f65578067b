/**
 * Putting code into the active notebook: a new cell below the active one, run on request.
 */
import { NotebookActions, type NotebookPanel } from '@jupyterlab/notebook';

/**
 * Insert `code` as a new code cell below the active cell (at the end when no cell is
 * active) and make it the active cell; when `run`, run that cell. Running checks that
 * the cell still holds exactly `code`, so nothing else runs in its place.
 *
 * @returns the new cell's index
 */
export async function insertCode(panel: NotebookPanel, code: string, run: boolean): Promise<number> {
  const notebook = panel.content;
  const model = notebook.model;
  if (model === null) {
    throw new Error('The notebook is not ready yet.');
  }
  const active = notebook.activeCellIndex;
  const index = active >= 0 && active < model.cells.length ? active + 1 : model.cells.length;
  model.sharedModel.insertCell(index, { cell_type: 'code', source: code, metadata: {} });
  notebook.deselectAll();
  notebook.activeCellIndex = index;
  const cell = notebook.widgets[index];
  // Only a scroll superseded by a newer one rejects, and the notebook catches that itself.
  void notebook.scrollToItem(index);
  if (run) {
    if (cell === undefined || cell.model.sharedModel.getSource() !== code) {
      throw new Error('The inserted cell changed before it could run; it was not run.');
    }
    await NotebookActions.runCells(notebook, [cell], panel.sessionContext);
  }
  return index;
}
