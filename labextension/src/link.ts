/**
 * The sidebar's connection to one kernel's agent: the comm `jupyter_dsagent`.
 *
 * The panel opens a comm to the target and says `hello`. A kernel that has run
 * `%load_ext jupyter_dsagent` answers `hello`; one that has not closes the comm at
 * once (the target is unknown to it), which is how the panel knows to offer loading
 * the extension. Only the structural parts of a Jupyter kernel connection are used,
 * so tests drive this class with a fake kernel.
 */
import type { JSONObject } from '@lumino/coreutils';
import { Signal } from '@lumino/signaling';

import { describeError } from './errors';
import type { BrowserMessage, HelloReply, KernelMessage } from './wire';

/** The comm target the kernel registers on `%load_ext jupyter_dsagent`. */
export const COMM_TARGET = 'jupyter_dsagent';

/** What runs in the kernel when the person asks to load the agent. */
export const LOAD_EXTENSION_CODE = '%load_ext jupyter_dsagent';

/** The parts of a kernel comm the link uses (methods, so real comms fit). */
export interface CommLike {
  readonly isDisposed: boolean;
  onMsg(msg: { content: { data: unknown } }): void | PromiseLike<void>;
  onClose(msg: unknown): void | PromiseLike<void>;
  open(data?: JSONObject): unknown;
  send(data: JSONObject): unknown;
  close(): unknown;
}

/** The parts of a kernel connection the link uses. */
export interface KernelLike {
  readonly id: string;
  createComm(targetName: string): CommLike;
  requestExecute(content: {
    code: string;
    silent?: boolean;
    store_history?: boolean;
    stop_on_error?: boolean;
  }): {
    done: PromiseLike<{
      content: { status: string; ename?: string; evalue?: string };
    }>;
  };
}

export type LinkState =
  | { readonly kind: 'detached'; readonly reason: string }
  | { readonly kind: 'connecting' }
  | { readonly kind: 'not-loaded' }
  | { readonly kind: 'loading' }
  | { readonly kind: 'ready'; readonly hello: HelloReply }
  | { readonly kind: 'failed'; readonly message: string };

const KERNEL_MESSAGE_TYPES: ReadonlySet<string> = new Set<KernelMessage['type']>([
  'hello',
  'delta',
  'suggestion',
  'done',
  'error',
  'progress',
  'insert',
  'runs'
]);

/** A kernel message, or null for anything that does not look like one. */
export function asKernelMessage(data: unknown): KernelMessage | null {
  if (typeof data !== 'object' || data === null) {
    return null;
  }
  const type = (data as { type?: unknown }).type;
  return typeof type === 'string' && KERNEL_MESSAGE_TYPES.has(type)
    ? (data as KernelMessage)
    : null;
}

/** One panel's comm to one kernel, re-opened whenever the kernel changes. */
export class KernelLink {
  private _kernel: KernelLike | null = null;
  private _comm: CommLike | null = null;
  private _state: LinkState = { kind: 'detached', reason: 'no-kernel' };
  private readonly _stateChanged = new Signal<this, LinkState>(this);
  private readonly _received = new Signal<this, KernelMessage>(this);

  /** Current state; `ready` carries the kernel's `hello`. */
  get state(): LinkState {
    return this._state;
  }

  get kernel(): KernelLike | null {
    return this._kernel;
  }

  get stateChanged(): Signal<this, LinkState> {
    return this._stateChanged;
  }

  /** Every well-formed message from the kernel's agent. */
  get received(): Signal<this, KernelMessage> {
    return this._received;
  }

  /** Talk to `kernel` from now on (null: there is none, with `reason` to show). */
  attach(kernel: KernelLike | null, reason = 'no-kernel'): void {
    this._dropComm();
    this._kernel = kernel;
    if (kernel === null) {
      this._setState({ kind: 'detached', reason });
      return;
    }
    this._open(kernel);
  }

  /** Open the comm again on the same kernel (after `%load_ext` ran elsewhere). */
  reconnect(): void {
    if (this._kernel !== null) {
      this._dropComm();
      this._open(this._kernel);
    }
  }

  /** Run `%load_ext jupyter_dsagent` in the kernel, then connect again. */
  async loadExtension(): Promise<void> {
    const kernel = this._kernel;
    if (kernel === null) {
      return;
    }
    this._setState({ kind: 'loading' });
    let reply: { content: { status: string; ename?: string; evalue?: string } };
    try {
      reply = await kernel.requestExecute({
        code: LOAD_EXTENSION_CODE,
        silent: false,
        store_history: false,
        stop_on_error: true
      }).done;
    } catch (error) {
      if (this._kernel === kernel) {
        this._setState({ kind: 'failed', message: `Could not run ${LOAD_EXTENSION_CODE}: ${describeError(error)}` });
      }
      return;
    }
    if (this._kernel !== kernel) {
      return;
    }
    if (reply.content.status !== 'ok') {
      const what = [reply.content.ename, reply.content.evalue].filter(Boolean).join(': ');
      this._setState({
        kind: 'failed',
        message: `${LOAD_EXTENSION_CODE} failed${what ? ` (${what})` : ''}.`
      });
      return;
    }
    this.reconnect();
  }

  /** Send a message; false when there is no ready comm. */
  send(message: BrowserMessage): boolean {
    if (this._comm === null || this._comm.isDisposed || this._state.kind !== 'ready') {
      return false;
    }
    this._comm.send(message as unknown as JSONObject);
    return true;
  }

  dispose(): void {
    this._dropComm();
    this._kernel = null;
    Signal.clearData(this);
  }

  private _open(kernel: KernelLike): void {
    this._setState({ kind: 'connecting' });
    let comm: CommLike;
    try {
      comm = kernel.createComm(COMM_TARGET);
    } catch (error) {
      this._setState({ kind: 'failed', message: `Cannot talk to this kernel: ${describeError(error)}` });
      return;
    }
    this._comm = comm;
    comm.onMsg = msg => {
      if (this._comm === comm) {
        this._onData(msg.content.data);
      }
    };
    comm.onClose = () => {
      if (this._comm === comm) {
        this._comm = null;
        this._setState({ kind: 'not-loaded' });
      }
    };
    comm.open({});
    comm.send({ type: 'hello' });
  }

  private _onData(data: unknown): void {
    const message = asKernelMessage(data);
    if (message === null) {
      return;
    }
    if (message.type === 'hello') {
      this._setState({ kind: 'ready', hello: message });
      return;
    }
    this._received.emit(message);
  }

  private _dropComm(): void {
    const comm = this._comm;
    this._comm = null;
    if (comm !== null && !comm.isDisposed) {
      try {
        comm.close();
      } catch {
        // The kernel is gone already; there is nothing left to close.
      }
    }
  }

  private _setState(state: LinkState): void {
    this._state = state;
    this._stateChanged.emit(state);
  }
}
