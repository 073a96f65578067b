/**
 * The AutoML runs of the panel's kernel, as the kernel reports them.
 *
 * `runs` answers the panel's request with every run; `progress` updates one run
 * while it works and once more when it ends.
 */
import { Signal } from '@lumino/signaling';

import type { KernelLink, LinkState } from './link';
import type { KernelMessage, ProgressMessage } from './wire';

export interface Run extends ProgressMessage {
  /** The person pressed Cancel and the kernel has not reported the end yet. */
  cancelling?: boolean;
}

/** True while a run can still be cancelled. */
export function isActive(run: ProgressMessage): boolean {
  return run.status === 'queued' || run.status === 'running';
}

export class RunsModel {
  private _runs: Run[] = [];
  private _error: string | null = null;
  private readonly _changed = new Signal<this, void>(this);

  constructor(private readonly link: KernelLink) {
    link.received.connect(this._onMessage, this);
    link.stateChanged.connect(this._onLinkState, this);
  }

  get changed(): Signal<this, void> {
    return this._changed;
  }

  /** Newest first. */
  get runs(): readonly Run[] {
    return this._runs;
  }

  /** The last refusal about a run (e.g. cancelling one the kernel no longer has). */
  get error(): string | null {
    return this._error;
  }

  /** Ask the kernel for every run it knows. */
  refresh(): boolean {
    return this.link.send({ type: 'runs' });
  }

  cancel(runId: string): boolean {
    const run = this._runs.find(item => item.run === runId);
    if (run === undefined || !isActive(run) || !this.link.send({ type: 'cancel_run', run: runId })) {
      return false;
    }
    run.cancelling = true;
    this._error = null;
    this._changed.emit();
    return true;
  }

  dispose(): void {
    Signal.clearData(this);
  }

  private _onMessage(_: KernelLink, message: KernelMessage): void {
    if (message.type === 'runs') {
      this._runs = message.runs.map(run => ({ ...run }));
    } else if (message.type === 'progress') {
      const index = this._runs.findIndex(run => run.run === message.run);
      if (index >= 0) {
        const cancelling = isActive(message) && this._runs[index].cancelling;
        this._runs[index] = { ...message, cancelling };
      } else {
        this._runs.unshift({ ...message });
      }
    } else if (message.type === 'error' && !message.id && message.code === 'not_found') {
      this._error = message.message;
      this._runs.forEach(run => (run.cancelling = false));
    } else {
      return;
    }
    this._changed.emit();
  }

  private _onLinkState(_: KernelLink, state: LinkState): void {
    if (state.kind === 'ready') {
      this.refresh();
    } else if (state.kind !== 'connecting') {
      this._runs = [];
      this._changed.emit();
    }
  }
}
