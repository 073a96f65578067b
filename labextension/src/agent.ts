/**
 * The agent of one open notebook: its kernel link, conversation and AutoML runs.
 *
 * One exists per notebook panel for as long as the panel is open, so an answer keeps
 * streaming while the person looks at another notebook. It follows the panel's
 * kernel through changes and restarts, and notices `%load_ext jupyter_dsagent`
 * being run in a cell so the panel connects without being asked.
 */
import type { NotebookPanel } from '@jupyterlab/notebook';
import { type Kernel, KernelMessage as JupyterMessage } from '@jupyterlab/services';
import { Signal } from '@lumino/signaling';

import { ChatModel, type KeyValueStore, type Suggestion } from './chat';
import { describeError } from './errors';
import { sha256Hex } from './hash';
import { KernelLink } from './link';
import { insertCode } from './notebook';
import { RunsModel } from './runs';
import type { KernelMessage } from './wire';

/** The store key of a notebook's conversation. */
export function historyKey(path: string): string {
  return `jupyter-dsagent:history:v1:${path}`;
}

export class NotebookAgent {
  readonly link = new KernelLink();
  readonly chat: ChatModel;
  readonly runs: RunsModel;
  private _kernel: Kernel.IKernelConnection | null = null;
  private _restarting = false;
  private _retryWhenIdle = false;
  private readonly _changed = new Signal<this, void>(this);

  constructor(
    readonly panel: NotebookPanel,
    store: KeyValueStore
  ) {
    this.chat = new ChatModel(this.link, store, historyKey(panel.context.path));
    this.runs = new RunsModel(this.link);
    this.link.received.connect(this._onAgentMessage, this);
    const session = panel.sessionContext;
    session.kernelChanged.connect(this._onKernelChanged, this);
    session.statusChanged.connect(this._onStatus, this);
    panel.context.pathChanged.connect(this._onPathChanged, this);
    this.link.attach(null, 'starting');
    // SessionContext.ready only ever resolves.
    void session.ready.then(() => {
      if (!this.panel.isDisposed) {
        this._attach(session.session?.kernel ?? null);
      }
    });
  }

  /** Kernel name, status or notebook name changed. */
  get changed(): Signal<this, void> {
    return this._changed;
  }

  get notebookName(): string {
    return this.panel.context.localPath.split('/').pop() ?? this.panel.context.localPath;
  }

  get kernelName(): string {
    return this.panel.sessionContext.kernelDisplayName;
  }

  get kernelStatus(): string {
    return this.panel.sessionContext.kernelDisplayStatus;
  }

  /**
   * Insert a suggestion below the active cell, and run it when `run`, then tell the
   * kernel (which audits it as `suggestion.inserted`). The code must hash to what the
   * kernel sent, so what runs is exactly what was shown. Resolves to a sentence for
   * the person when it refuses.
   */
  async insertSuggestion(suggestion: Suggestion, run: boolean): Promise<string | null> {
    if (sha256Hex(suggestion.code) !== suggestion.sha256) {
      return 'This suggestion does not match the code the agent sent (hash mismatch), so it was not inserted.';
    }
    if (run && (this.link.state.kind !== 'ready' || !this.chat.isLive(suggestion.suggestionId))) {
      return (
        'Insert & Run works for suggestions of the connected kernel, which records the run; ' +
        'this one is from an earlier session: use Insert, then run the cell yourself.'
      );
    }
    const notice = {
      type: 'inserted' as const,
      suggestion_id: suggestion.suggestionId,
      sha256: suggestion.sha256,
      run
    };
    if (run) {
      this.link.send(notice);
    }
    await insertCode(this.panel, suggestion.code, run);
    if (!run) {
      this.link.send(notice);
    }
    return null;
  }

  dispose(): void {
    this._watch(null);
    this.link.dispose();
    this.chat.dispose();
    this.runs.dispose();
    Signal.clearData(this);
  }

  private _attach(kernel: Kernel.IKernelConnection | null): void {
    this._watch(kernel);
    this._restarting = false;
    const session = this.panel.sessionContext;
    this.link.attach(kernel, session.isReady && session.hasNoKernel ? 'no-kernel' : 'starting');
    this._emit();
  }

  private _watch(kernel: Kernel.IKernelConnection | null): void {
    this._kernel?.iopubMessage.disconnect(this._onIopub, this);
    this._kernel = kernel;
    kernel?.iopubMessage.connect(this._onIopub, this);
  }

  private _onKernelChanged(
    _: unknown,
    change: { newValue: Kernel.IKernelConnection | null }
  ): void {
    this._attach(change.newValue);
  }

  private _onStatus(_: unknown, status: Kernel.Status): void {
    if (status === 'restarting' || status === 'autorestarting') {
      this._restarting = true;
      this.link.attach(null, 'restarting');
    } else if (status === 'dead') {
      this.link.attach(null, 'dead');
    } else if (status === 'idle' && this._restarting) {
      this._attach(this._kernel);
    } else if (status === 'idle' && this._retryWhenIdle) {
      this._retryWhenIdle = false;
      this.link.reconnect();
    }
    this._emit();
  }

  /** A cell that loads jupyter_dsagent: connect once the kernel is idle again. */
  private _onIopub(_: unknown, message: JupyterMessage.IIOPubMessage): void {
    if (!JupyterMessage.isExecuteInputMsg(message)) {
      return;
    }
    const code = message.content.code;
    const state = this.link.state.kind;
    if (/\bjupyter_dsagent\b/.test(code) && (state === 'not-loaded' || state === 'failed')) {
      this._retryWhenIdle = true;
    }
  }

  /** The kernel asks to insert a suggestion the person chose in the notebook's own UI. */
  private _onAgentMessage(_: KernelLink, message: KernelMessage): void {
    if (message.type !== 'insert') {
      return;
    }
    this.chat.markLive(message.suggestion_id);
    const suggestion: Suggestion = {
      suggestionId: message.suggestion_id,
      code: message.code,
      explanation: '',
      sha256: message.sha256,
      flags: []
    };
    this.insertSuggestion(suggestion, message.run ?? false).then(
      refusal => {
        if (refusal !== null) {
          this.chat.setNotice({ code: 'insert_refused', message: refusal });
        }
      },
      error => this.chat.setNotice({ code: 'insert_refused', message: describeError(error) })
    );
  }

  private _onPathChanged(_: unknown, path: string): void {
    this.chat.moveTo(historyKey(path));
    this._emit();
  }

  private _emit(): void {
    this._changed.emit();
  }
}
