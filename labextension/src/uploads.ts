/**
 * The server's upload API (`/dsagent/api/uploads`) as the panel uses it.
 *
 * Listing and deleting go through JupyterLab's `ServerConnection` (passed in as
 * `request`), which adds the token and XSRF headers. Uploading needs progress
 * events, which `fetch` does not give for request bodies, so it uses
 * XMLHttpRequest with the same two headers.
 */
import type { ErrorBody, UploadRecord } from './wire';

export const UPLOADS_PATH = 'dsagent/api/uploads';

/** A refusal from the server (its stable code and sentence) or a transport failure. */
export class RequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number
  ) {
    super(message);
    this.name = 'RequestError';
  }
}

/** The error a response carries: the server's `ErrorBody`, or a plain description. */
export function errorFrom(status: number, body: string): RequestError {
  try {
    const parsed = JSON.parse(body) as Partial<ErrorBody>;
    const error = parsed.error;
    if (error && typeof error.code === 'string' && typeof error.message === 'string') {
      return new RequestError(error.code, error.message, status);
    }
  } catch {
    // Not our JSON (a proxy's page, an empty body): described below.
  }
  if (status === 0) {
    return new RequestError(
      'network',
      'The server closed the connection: the file may be over the upload limit, or the ' +
        'server is unreachable. Check the file size and try again.',
      status
    );
  }
  if (status === 401 || status === 403) {
    return new RequestError('unauthorized', 'Not signed in any more: reload the page.', status);
  }
  return new RequestError('http_error', `The server answered ${status}; try again.`, status);
}

/** Human size: 1.2 MB, 340 kB, 12 B. */
export function humanBytes(size: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = size;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** `records` and the members of their archives, depth first. */
export function flatten(records: readonly UploadRecord[]): UploadRecord[] {
  return records.flatMap(record => [record, ...flatten(record.children ?? [])]);
}

/**
 * The cell "load into notebook" inserts: the upload by name when that name is
 * unambiguous among `known`, else by id. JSON string syntax is valid Python.
 */
export function loadCode(record: UploadRecord, known: readonly UploadRecord[]): string {
  const sameName = flatten(known).filter(item => item.name === record.name).length;
  const key = sameName > 1 ? record.id : record.name;
  return `import jupyter_dsagent as dsa\n\ndf = dsa.load(${JSON.stringify(key)})`;
}

/** One-line facts about a record: rows and columns, image size, encoding. */
export function describe(record: UploadRecord): string {
  const meta = record.metadata ?? {};
  const parts: string[] = [record.kind, humanBytes(record.size)];
  if (typeof meta.rows === 'number' && typeof meta.columns === 'number') {
    parts.push(`${meta.rows.toLocaleString()} rows × ${meta.columns} columns`);
  }
  if (typeof meta.width === 'number' && typeof meta.height === 'number') {
    parts.push(`${meta.width} × ${meta.height} px`);
  }
  if (typeof meta.encoding === 'string') {
    parts.push(meta.encoding);
  }
  if (record.children?.length) {
    parts.push(`${record.children.length} file${record.children.length === 1 ? '' : 's'}`);
  }
  return parts.join(' · ');
}

/** What validation took out of the file (image metadata), for the record view. */
export function stripped(record: UploadRecord): string[] {
  const removed = record.metadata?.removed;
  if (Array.isArray(removed)) {
    return removed.map(String);
  }
  if (removed && typeof removed === 'object') {
    return Object.entries(removed)
      .filter(([, value]) => Boolean(value))
      .map(([key]) => key);
  }
  return [];
}

export interface ClientOptions {
  /** The server's base URL, ending in `/`. */
  baseUrl: string;
  /** The server token (empty when the session cookie authenticates). */
  token: string;
  /** `ServerConnection.makeRequest` bound to the server settings. */
  request: (url: string, init: RequestInit) => Promise<Response>;
  /** The `_xsrf` cookie's value, if any. */
  xsrfToken?: () => string | undefined;
  createXhr?: () => XMLHttpRequest;
}

/** The `_xsrf` cookie, read the way JupyterLab's ServerConnection reads it. */
export function xsrfCookie(): string | undefined {
  const match = document.cookie.match('\\b_xsrf=([^;]*)\\b');
  return match ? decodeURIComponent(match[1]) : undefined;
}

export class UploadsClient {
  private readonly options: Required<ClientOptions>;

  constructor(options: ClientOptions) {
    this.options = {
      xsrfToken: xsrfCookie,
      createXhr: () => new XMLHttpRequest(),
      ...options
    };
  }

  get url(): string {
    return `${this.options.baseUrl}${UPLOADS_PATH}`;
  }

  /** Every upload, newest first. */
  async list(): Promise<UploadRecord[]> {
    const response = await this.options.request(this.url, { method: 'GET' });
    const body = await response.text();
    if (!response.ok) {
      throw errorFrom(response.status, body);
    }
    return JSON.parse(body) as UploadRecord[];
  }

  async remove(id: string): Promise<void> {
    const response = await this.options.request(`${this.url}/${encodeURIComponent(id)}`, {
      method: 'DELETE'
    });
    if (!response.ok) {
      throw errorFrom(response.status, await response.text());
    }
  }

  /**
   * Send one file; `onProgress(sent, total)` follows the bytes going out.
   * Resolves to the accepted record, rejects with a RequestError.
   */
  upload(
    file: Blob & { name?: string },
    onProgress: (sent: number, total: number) => void,
    signal?: AbortSignal
  ): Promise<UploadRecord> {
    return new Promise((resolve, reject) => {
      const xhr = this.options.createXhr();
      xhr.open('POST', this.url);
      if (this.options.token) {
        xhr.setRequestHeader('Authorization', `token ${this.options.token}`);
      }
      const xsrf = this.options.xsrfToken();
      if (xsrf !== undefined) {
        xhr.setRequestHeader('X-XSRFToken', xsrf);
      }
      xhr.upload.onprogress = event => {
        onProgress(event.loaded, event.lengthComputable ? event.total : file.size);
      };
      xhr.onload = () => {
        if (xhr.status === 201 || xhr.status === 200) {
          try {
            resolve(JSON.parse(xhr.responseText) as UploadRecord);
          } catch {
            reject(new RequestError('http_error', 'The server sent an unreadable record.', xhr.status));
          }
        } else {
          reject(errorFrom(xhr.status, xhr.responseText));
        }
      };
      xhr.onerror = () => reject(errorFrom(0, ''));
      xhr.onabort = () => reject(new RequestError('cancelled', 'Upload cancelled.', 0));
      signal?.addEventListener('abort', () => xhr.abort(), { once: true });
      const form = new FormData();
      form.append('file', file, file.name ?? 'upload');
      xhr.send(form);
    });
  }
}
