/** A kernel and comms that behave like ipykernel's, for driving KernelLink in tests. */
import type { JSONObject } from '@lumino/coreutils';

import type { CommLike, KernelLike } from '../src/link';

export class FakeComm implements CommLike {
  isDisposed = false;
  opened = false;
  closedByPanel = false;
  readonly sent: JSONObject[] = [];

  constructor(readonly target: string) {}

  onMsg(_msg: { content: { data: unknown } }): void {
    // replaced by the link
  }

  onClose(_msg: unknown): void {
    // replaced by the link
  }

  open(): void {
    this.opened = true;
  }

  send(data: JSONObject): void {
    this.sent.push(data);
  }

  close(): void {
    this.closedByPanel = true;
    this.isDisposed = true;
  }

  /** The kernel sends `data` on this comm. */
  receive(data: unknown): void {
    this.onMsg({ content: { data } });
  }

  /** The kernel closes the comm, as ipykernel does at once for an unknown target. */
  closeFromKernel(): void {
    this.isDisposed = true;
    this.onClose({});
  }
}

type ExecuteReply = { status: string; ename?: string; evalue?: string };

export class FakeKernel implements KernelLike {
  readonly id = 'kernel-1';
  readonly comms: FakeComm[] = [];
  readonly executed: string[] = [];
  reply: ExecuteReply = { status: 'ok' };

  createComm(target: string): FakeComm {
    const comm = new FakeComm(target);
    this.comms.push(comm);
    return comm;
  }

  requestExecute(content: { code: string }): { done: Promise<{ content: ExecuteReply }> } {
    this.executed.push(content.code);
    return { done: Promise.resolve({ content: this.reply }) };
  }

  get lastComm(): FakeComm {
    return this.comms[this.comms.length - 1];
  }
}

export class MemoryStore {
  readonly items = new Map<string, string>();

  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }

  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }

  removeItem(key: string): void {
    this.items.delete(key);
  }
}

export const HELLO = { type: 'hello', version: 1, kernel_ready: true, model: null, offline: true };
