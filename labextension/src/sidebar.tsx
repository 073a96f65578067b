/**
 * The left-sidebar panel: it follows the active notebook and shows that notebook's
 * agent (chat, AutoML runs, usage) and the server's uploads. Files dropped anywhere
 * on the panel are uploaded.
 */
import { Notification } from '@jupyterlab/apputils';
import type { IEditorLanguageRegistry } from '@jupyterlab/codemirror';
import type { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { ServerConnection } from '@jupyterlab/services';
import { ReactWidget } from '@jupyterlab/ui-components';
import type { Message } from '@lumino/messaging';
import { Signal } from '@lumino/signaling';
import React from 'react';

import { NotebookAgent } from './agent';
import type { KeyValueStore } from './chat';
import { describeError } from './errors';
import { insertCode } from './notebook';
import { UploadsModel } from './transfers';
import { loadCode, UploadsClient } from './uploads';
import { fetchUsage } from './usage';
import { ChatTab } from './ui/chat';
import { useSignal } from './ui/common';
import { KernelBar } from './ui/header';
import { RunsTab } from './ui/runs';
import { UploadsTab } from './ui/uploads';
import { UsageTab } from './ui/usage';
import type { UploadRecord } from './wire';

export const SIDEBAR_ID = 'jupyter-dsagent-sidebar';

export type Tab = 'chat' | 'uploads' | 'runs' | 'usage';

const TABS: ReadonlyArray<[Tab, string]> = [
  ['chat', 'Chat'],
  ['uploads', 'Uploads'],
  ['runs', 'AutoML'],
  ['usage', 'Usage']
];

export interface SidebarOptions {
  tracker: INotebookTracker;
  settings: ServerConnection.ISettings;
  store: KeyValueStore;
  languages: IEditorLanguageRegistry | null;
}

export class AgentSidebar extends ReactWidget {
  readonly uploads: UploadsModel;
  private readonly _agents = new Map<NotebookPanel, NotebookAgent>();
  private _current: NotebookAgent | null = null;
  private _tab: Tab = 'chat';
  private readonly _changed = new Signal<this, void>(this);

  constructor(private readonly options: SidebarOptions) {
    super();
    this.id = SIDEBAR_ID;
    this.addClass('jp-DSAgent');
    const { settings } = options;
    const request = (url: string, init: RequestInit): Promise<Response> =>
      ServerConnection.makeRequest(url, init, settings);
    this.uploads = new UploadsModel(
      new UploadsClient({ baseUrl: settings.baseUrl, token: settings.token, request })
    );
    this.loadUsage = () => fetchUsage(settings.baseUrl, request);
    options.tracker.currentChanged.connect(this._follow, this);
    for (const type of ['dragenter', 'dragover', 'dragleave', 'drop']) {
      this.node.addEventListener(type, this);
    }
  }

  /** The gateway's usage report. */
  readonly loadUsage: () => Promise<unknown>;

  /** The current notebook or tab changed. */
  get changed(): Signal<this, void> {
    return this._changed;
  }

  get current(): NotebookAgent | null {
    return this._current;
  }

  get tab(): Tab {
    return this._tab;
  }

  set tab(tab: Tab) {
    this._tab = tab;
    this._changed.emit();
  }

  get languages(): IEditorLanguageRegistry | null {
    return this.options.languages;
  }

  /** Insert the cell that loads an upload into the current notebook. */
  loadIntoNotebook(record: UploadRecord): void {
    const panel = this._current?.panel;
    if (panel) {
      insertCode(panel, loadCode(record, this.uploads.records), false).catch(error =>
        Notification.error(`The loading cell was not inserted: ${describeError(error)}`)
      );
    }
  }

  handleEvent(event: Event): void {
    const drag = event as DragEvent;
    if (!drag.dataTransfer || !Array.from(drag.dataTransfer.types).includes('Files')) {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
    if (event.type === 'dragenter' || event.type === 'dragover') {
      drag.dataTransfer.dropEffect = 'copy';
      this.addClass('jp-mod-dropTarget');
    } else if (event.type === 'dragleave') {
      if (!this.node.contains(drag.relatedTarget as Node | null)) {
        this.removeClass('jp-mod-dropTarget');
      }
    } else {
      this.removeClass('jp-mod-dropTarget');
      this.tab = 'uploads';
      // add() keeps each file's failure on its transfer and never rejects.
      void this.uploads.add(Array.from(drag.dataTransfer.files));
    }
  }

  override dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._agents.forEach(agent => agent.dispose());
    this._agents.clear();
    this.uploads.dispose();
    Signal.clearData(this);
    super.dispose();
  }

  protected override render(): JSX.Element {
    return <SidebarView sidebar={this} />;
  }

  protected override onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this._follow();
  }

  protected override onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    this._follow();
  }

  /**
   * Show the active notebook's agent. Agents are made only while the panel is
   * visible, so kernels of people who never open it are not contacted.
   */
  private _follow(): void {
    const panel = this.options.tracker.currentWidget;
    if (!this.isVisible && (panel === null || !this._agents.has(panel))) {
      return;
    }
    let agent: NotebookAgent | null = null;
    if (panel !== null) {
      agent = this._agents.get(panel) ?? null;
      if (agent === null) {
        const created = new NotebookAgent(panel, this.options.store);
        this._agents.set(panel, created);
        panel.disposed.connect(() => {
          created.dispose();
          this._agents.delete(panel);
          if (this._current === created) {
            this._current = null;
            this._changed.emit();
          }
        });
        agent = created;
      }
    }
    if (agent !== this._current) {
      this._current = agent;
      this._changed.emit();
    }
  }
}

function SidebarView({ sidebar }: { sidebar: AgentSidebar }): JSX.Element {
  useSignal(sidebar.changed);
  const agent = sidebar.current;
  useSignal(agent?.link.stateChanged);
  const ready = agent?.link.state.kind === 'ready';
  return (
    <div className="jp-DSAgent-panel">
      <div className="jp-DSAgent-header">
        <h2 className="jp-DSAgent-title">DS Agent</h2>
      </div>
      <KernelBar agent={agent} />
      <div className="jp-DSAgent-tabs" role="tablist" aria-label="DS Agent sections">
        {TABS.map(([tab, label]) => (
          <button
            key={tab}
            type="button"
            role="tab"
            id={`jp-DSAgent-tab-${tab}`}
            aria-selected={sidebar.tab === tab}
            aria-controls={`jp-DSAgent-tabpanel-${tab}`}
            className={`jp-DSAgent-tab${sidebar.tab === tab ? ' jp-mod-active' : ''}`}
            onClick={() => (sidebar.tab = tab)}
          >
            {label}
          </button>
        ))}
      </div>
      <div
        className="jp-DSAgent-tabpanel"
        role="tabpanel"
        id={`jp-DSAgent-tabpanel-${sidebar.tab}`}
        aria-labelledby={`jp-DSAgent-tab-${sidebar.tab}`}
      >
        {sidebar.tab === 'chat' &&
          (agent ? (
            <ChatTab key={agent.panel.id} agent={agent} languages={sidebar.languages} />
          ) : (
            <p className="jp-DSAgent-empty">Open a notebook to chat with its agent.</p>
          ))}
        {sidebar.tab === 'uploads' && (
          <UploadsTab
            uploads={sidebar.uploads}
            onLoad={agent ? record => sidebar.loadIntoNotebook(record) : null}
          />
        )}
        {sidebar.tab === 'runs' &&
          (agent ? (
            <RunsTab key={agent.panel.id} runs={agent.runs} ready={ready} />
          ) : (
            <p className="jp-DSAgent-empty">Open a notebook to see its kernel’s AutoML runs.</p>
          ))}
        {sidebar.tab === 'usage' && <UsageTab chat={agent?.chat ?? null} load={sidebar.loadUsage} />}
      </div>
    </div>
  );
}
