/**
 * The Uploads tab's state: files being sent (with progress), what became of them,
 * and the server's list of accepted uploads.
 */
import { Signal } from '@lumino/signaling';

import { describeError } from './errors';
import { RequestError, type UploadsClient } from './uploads';
import type { UploadRecord } from './wire';

export type TransferState = 'sending' | 'validating' | 'done' | 'failed';

export interface Transfer {
  readonly key: number;
  readonly name: string;
  readonly size: number;
  sent: number;
  state: TransferState;
  record?: UploadRecord;
  error?: RequestError;
}

export class UploadsModel {
  private _transfers: Transfer[] = [];
  private _records: UploadRecord[] = [];
  private _listError: RequestError | null = null;
  private _nextKey = 1;
  private readonly _changed = new Signal<this, void>(this);

  constructor(private readonly client: UploadsClient) {}

  get changed(): Signal<this, void> {
    return this._changed;
  }

  /** This session's uploads, newest first. */
  get transfers(): readonly Transfer[] {
    return this._transfers;
  }

  /** The server's accepted uploads, newest first. */
  get records(): readonly UploadRecord[] {
    return this._records;
  }

  /** Why the list could not be read or an upload deleted, if that happened last. */
  get listError(): RequestError | null {
    return this._listError;
  }

  /** Send each file, one after another; resolves when all have an outcome. */
  async add(files: Iterable<File>): Promise<void> {
    const queued = Array.from(files, file => this._queue(file));
    for (const [transfer, file] of queued) {
      await this._send(transfer, file);
    }
    await this.refresh();
  }

  async refresh(): Promise<void> {
    try {
      this._records = await this.client.list();
      this._listError = null;
    } catch (error) {
      this._listError = asRequestError(error);
    }
    this._changed.emit();
  }

  async remove(id: string): Promise<void> {
    try {
      await this.client.remove(id);
      this._listError = null;
    } catch (error) {
      this._listError = asRequestError(error);
    }
    await this.refresh();
  }

  /** Take a finished transfer off the list. */
  dismiss(key: number): void {
    this._transfers = this._transfers.filter(item => item.key !== key || !isFinished(item));
    this._changed.emit();
  }

  dispose(): void {
    Signal.clearData(this);
  }

  private _queue(file: File): [Transfer, File] {
    const transfer: Transfer = {
      key: this._nextKey++,
      name: file.name,
      size: file.size,
      sent: 0,
      state: 'sending'
    };
    this._transfers.unshift(transfer);
    this._changed.emit();
    return [transfer, file];
  }

  private async _send(transfer: Transfer, file: File): Promise<void> {
    try {
      transfer.record = await this.client.upload(file, (sent, total) => {
        transfer.sent = Math.min(sent, total);
        transfer.state = sent >= total ? 'validating' : 'sending';
        this._changed.emit();
      });
      transfer.sent = transfer.size;
      transfer.state = 'done';
    } catch (error) {
      transfer.error = asRequestError(error);
      transfer.state = 'failed';
    }
    this._changed.emit();
  }
}

function isFinished(transfer: Transfer): boolean {
  return transfer.state === 'done' || transfer.state === 'failed';
}

function asRequestError(error: unknown): RequestError {
  if (error instanceof RequestError) {
    return error;
  }
  return new RequestError('network', `The server could not be reached (${describeError(error)}).`, 0);
}
