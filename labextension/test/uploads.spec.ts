import { describe, expect, it } from 'vitest';

import { UploadsModel } from '../src/transfers';
import {
  describe as describeRecord,
  errorFrom,
  humanBytes,
  loadCode,
  RequestError,
  stripped,
  UploadsClient
} from '../src/uploads';
import type { UploadRecord } from '../src/wire';

const RECORD: UploadRecord = {
  id: 'a'.repeat(32),
  name: 'tips.csv',
  kind: 'csv',
  size: 7943,
  sha256: 'b'.repeat(64),
  status: 'ready',
  created: '2025-01-01T00:00:00Z',
  path: `${'a'.repeat(32)}.csv`,
  metadata: { rows: 244, columns: 7, encoding: 'utf-8' },
  warnings: [{ code: 'formula_cells', message: '2 cells start like a formula.' }],
  children: []
};

/** Records what the client does with XMLHttpRequest and answers as told. */
class FakeXhr {
  static last: FakeXhr;
  method = '';
  url = '';
  headers: Record<string, string> = {};
  body: FormData | null = null;
  status = 0;
  responseText = '';
  aborted = false;
  upload: { onprogress: ((event: ProgressEvent) => void) | null } = { onprogress: null };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onabort: (() => void) | null = null;

  constructor() {
    FakeXhr.last = this;
  }
  open(method: string, url: string): void {
    this.method = method;
    this.url = url;
  }
  setRequestHeader(name: string, value: string): void {
    this.headers[name] = value;
  }
  send(body: FormData): void {
    this.body = body;
  }
  abort(): void {
    this.aborted = true;
    this.onabort?.();
  }
  progress(loaded: number, total: number): void {
    this.upload.onprogress?.({ loaded, total, lengthComputable: true } as ProgressEvent);
  }
  answer(status: number, body: unknown): void {
    this.status = status;
    this.responseText = typeof body === 'string' ? body : JSON.stringify(body);
    this.onload?.();
  }
}

function client(
  request: (url: string, init: RequestInit) => Promise<Response> = () => Promise.resolve(new Response('[]'))
): UploadsClient {
  return new UploadsClient({
    baseUrl: '/user/ada/',
    token: 'secret-token',
    request,
    xsrfToken: () => 'xsrf-value',
    createXhr: () => new FakeXhr() as unknown as XMLHttpRequest
  });
}

describe('UploadsClient.upload', () => {
  it('posts the file as multipart field "file" with the auth and XSRF headers, reporting progress', async () => {
    const progress: Array<[number, number]> = [];
    const file = new File(['a,b\n1,2\n'], 'tips.csv', { type: 'text/csv' });
    const done = client().upload(file, (sent, total) => progress.push([sent, total]));
    const xhr = FakeXhr.last;
    expect([xhr.method, xhr.url]).toEqual(['POST', '/user/ada/dsagent/api/uploads']);
    expect(xhr.headers).toEqual({ Authorization: 'token secret-token', 'X-XSRFToken': 'xsrf-value' });
    expect((xhr.body?.get('file') as File).name).toBe('tips.csv');
    xhr.progress(4, 8);
    xhr.progress(8, 8);
    xhr.answer(201, RECORD);
    await expect(done).resolves.toEqual(RECORD);
    expect(progress).toEqual([
      [4, 8],
      [8, 8]
    ]);
  });

  it('rejects with the server’s code and sentence', async () => {
    const done = client().upload(new File(['x'], 'bomb.zip'), () => undefined);
    FakeXhr.last.answer(422, { error: { code: 'zip_bomb', message: 'The archive expands to more than 1 GB.' } });
    await expect(done).rejects.toMatchObject({ code: 'zip_bomb', message: 'The archive expands to more than 1 GB.', status: 422 });
  });

  it('explains a dropped connection (early refusal of a large body)', async () => {
    const done = client().upload(new File(['x'], 'big.csv'), () => undefined);
    FakeXhr.last.onerror?.();
    await expect(done).rejects.toMatchObject({ code: 'network', status: 0 });
  });

  it('aborts when the signal fires', async () => {
    const controller = new AbortController();
    const done = client().upload(new File(['x'], 'a.csv'), () => undefined, controller.signal);
    controller.abort();
    await expect(done).rejects.toMatchObject({ code: 'cancelled' });
    expect(FakeXhr.last.aborted).toBe(true);
  });
});

describe('UploadsClient.list and remove', () => {
  it('lists through the server connection and deletes by id', async () => {
    const calls: Array<[string, string | undefined]> = [];
    const c = client((url, init) => {
      calls.push([url, init.method]);
      return Promise.resolve(
        init.method === 'DELETE' ? new Response(null, { status: 204 }) : new Response(JSON.stringify([RECORD]))
      );
    });
    await expect(c.list()).resolves.toEqual([RECORD]);
    await c.remove(RECORD.id);
    expect(calls).toEqual([
      ['/user/ada/dsagent/api/uploads', 'GET'],
      [`/user/ada/dsagent/api/uploads/${RECORD.id}`, 'DELETE']
    ]);
  });

  it('turns an error body into a RequestError', async () => {
    const c = client(() =>
      Promise.resolve(
        new Response(JSON.stringify({ error: { code: 'not_found', message: 'No upload has that id.' } }), { status: 404 })
      )
    );
    await expect(c.remove('nope')).rejects.toMatchObject({ code: 'not_found', status: 404 });
  });
});

describe('record helpers', () => {
  it('describes a table, an image and an archive in one line', () => {
    expect(describeRecord(RECORD)).toBe('csv · 7.9 kB · 244 rows × 7 columns · utf-8');
    expect(describeRecord({ ...RECORD, kind: 'image', size: 2_500_000, metadata: { width: 640, height: 480 } })).toBe(
      'image · 2.5 MB · 640 × 480 px'
    );
    expect(describeRecord({ ...RECORD, kind: 'zip', size: 12, metadata: {}, children: [RECORD, RECORD] })).toBe(
      'zip · 12 B · 2 files'
    );
    expect(humanBytes(999)).toBe('999 B');
  });

  it('lists what validation stripped from an image', () => {
    expect(stripped({ ...RECORD, metadata: { removed: ['EXIF', 'GPS', 'ICC profile'] } })).toEqual(['EXIF', 'GPS', 'ICC profile']);
    expect(stripped(RECORD)).toEqual([]);
  });

  it('loads by name when the name is unique, by id otherwise, as a valid Python string', () => {
    expect(loadCode(RECORD, [RECORD])).toBe('import jupyter_dsagent as dsa\n\ndf = dsa.load("tips.csv")');
    const twin = { ...RECORD, id: 'c'.repeat(32) };
    expect(loadCode(RECORD, [RECORD, { ...RECORD, id: 'z'.repeat(32), kind: 'zip', name: 'all.zip', children: [twin] }])).toBe(
      `import jupyter_dsagent as dsa\n\ndf = dsa.load("${RECORD.id}")`
    );
    expect(loadCode({ ...RECORD, name: 'say "hi"\\.csv' }, [])).toContain('dsa.load("say \\"hi\\"\\\\.csv")');
  });

  it('describes errors without a body', () => {
    expect(errorFrom(502, '<html>Bad gateway</html>')).toMatchObject({ code: 'http_error', status: 502 });
    expect(errorFrom(403, '')).toMatchObject({ code: 'unauthorized' });
  });
});

describe('UploadsModel', () => {
  it('follows each file from sending to its record or its error, then refreshes the list', async () => {
    const fake = {
      uploads: [] as string[],
      upload(file: File, onProgress: (sent: number, total: number) => void): Promise<UploadRecord> {
        fake.uploads.push(file.name);
        onProgress(file.size / 2, file.size);
        onProgress(file.size, file.size);
        if (file.name.endsWith('.zip')) {
          return Promise.reject(
            new RequestError('zip_path_traversal', 'An entry would be written outside the archive.', 422)
          );
        }
        return Promise.resolve({ ...RECORD, name: file.name });
      },
      list(): Promise<UploadRecord[]> {
        return Promise.resolve([RECORD]);
      },
      async remove(): Promise<void> {}
    };
    const model = new UploadsModel(fake as unknown as UploadsClient);
    const states: string[] = [];
    model.changed.connect(() => states.push(model.transfers.map(t => t.state).join(',')));
    await model.add([new File(['1234'], 'tips.csv'), new File(['zz'], 'zip-slip.zip')]);
    expect(fake.uploads).toEqual(['tips.csv', 'zip-slip.zip']);
    const [slip, tips] = model.transfers;
    expect(tips).toMatchObject({ state: 'done', sent: 4, record: { name: 'tips.csv' } });
    expect(slip.state).toBe('failed');
    expect(slip.error).toMatchObject({ code: 'zip_path_traversal' });
    expect(states).toContain('sending,validating');
    expect(model.records).toEqual([RECORD]);
    model.dismiss(slip.key);
    expect(model.transfers).toHaveLength(1);
  });
});
