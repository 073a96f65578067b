/**
 * jupyter-dsagent: the DS Agent sidebar for JupyterLab 4 and Notebook 7.
 */
import { ILayoutRestorer, type JupyterFrontEnd, type JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IEditorLanguageRegistry } from '@jupyterlab/codemirror';
import { INotebookTracker } from '@jupyterlab/notebook';
import { ServerConnection } from '@jupyterlab/services';

import { agentIcon } from './icon';
import { AgentSidebar, SIDEBAR_ID } from './sidebar';

const OPEN_COMMAND = 'jupyter-dsagent:open';

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-dsagent:sidebar',
  description: 'Chat with the kernel’s data-science agent, upload files, follow AutoML runs.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ILayoutRestorer, IEditorLanguageRegistry, ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    restorer: ILayoutRestorer | null,
    languages: IEditorLanguageRegistry | null,
    palette: ICommandPalette | null
  ): void => {
    const sidebar = new AgentSidebar({
      tracker,
      languages,
      settings: ServerConnection.makeSettings(),
      store: window.localStorage
    });
    sidebar.title.icon = agentIcon;
    sidebar.title.caption = 'DS Agent';
    app.shell.add(sidebar, 'left', { rank: 650 });
    restorer?.add(sidebar, SIDEBAR_ID);
    app.commands.addCommand(OPEN_COMMAND, {
      label: 'Open DS Agent',
      caption: 'Show the DS Agent sidebar',
      icon: agentIcon,
      execute: () => app.shell.activateById(SIDEBAR_ID)
    });
    palette?.addItem({ command: OPEN_COMMAND, category: 'DS Agent' });
  }
};

export default plugin;
