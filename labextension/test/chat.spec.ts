import { beforeEach, describe, expect, it } from 'vitest';

import { ChatModel, HISTORY_LIMIT } from '../src/chat';
import { KernelLink } from '../src/link';
import { FakeKernel, HELLO, MemoryStore } from './fakes';

const KEY = 'jupyter-dsagent:history:v1:analysis.ipynb';
const CODE = 'df.describe()';
const CODE_SHA = '0'.repeat(64);

let link: KernelLink;
let kernel: FakeKernel;
let store: MemoryStore;
let chat: ChatModel;

function lastSent(): Record<string, unknown> {
  return kernel.lastComm.sent[kernel.lastComm.sent.length - 1];
}

function askedId(): string {
  return String(lastSent().id);
}

beforeEach(() => {
  link = new KernelLink();
  kernel = new FakeKernel();
  store = new MemoryStore();
  chat = new ChatModel(link, store, KEY);
  link.attach(kernel);
  kernel.lastComm.receive(HELLO);
});

describe('ChatModel', () => {
  it('sends a question with a fresh id and shows it as streaming', () => {
    expect(chat.ask('  What columns does df have?  ')).toBe(true);
    expect(lastSent()).toMatchObject({ type: 'ask', text: 'What columns does df have?' });
    expect(askedId()).toMatch(/^[0-9a-f]{16,}$/);
    expect(chat.pending?.status).toBe('streaming');
  });

  it('refuses empty questions, a second question while one is answered, and no agent', () => {
    expect(chat.ask('   ')).toBe(false);
    expect(chat.ask('first')).toBe(true);
    expect(chat.ask('second')).toBe(false);
    const other = new ChatModel(new KernelLink(), new MemoryStore(), 'k');
    expect(other.ask('anyone?')).toBe(false);
    expect(other.exchanges).toHaveLength(0);
  });

  it('streams deltas, attaches suggestions with flags, and finishes with usage and trace', () => {
    chat.ask('summarise');
    const id = askedId();
    const comm = kernel.lastComm;
    comm.receive({ type: 'delta', id, text: 'The frame has ' });
    comm.receive({ type: 'delta', id, text: '**3** columns.' });
    comm.receive({
      type: 'suggestion',
      id,
      suggestion_id: 's1',
      code: `${CODE}\ndf.to_csv("out.csv")`,
      explanation: 'Summary statistics.',
      sha256: CODE_SHA,
      flags: ['file_write']
    });
    comm.receive({
      type: 'done',
      id,
      usage: { prompt_tokens: 120, completion_tokens: 30, cost_usd: 0.0012 },
      model: 'openai/gpt-4o-mini',
      offline: false,
      trace: [{ tool: 'profile_dataframe', arguments: {}, duration_ms: 12.5, result_chars: 800 }]
    });
    const [exchange] = chat.exchanges;
    expect(exchange.answer).toBe('The frame has **3** columns.');
    expect(exchange.status).toBe('done');
    expect(exchange.suggestions).toEqual([
      {
        suggestionId: 's1',
        code: `${CODE}\ndf.to_csv("out.csv")`,
        explanation: 'Summary statistics.',
        sha256: CODE_SHA,
        flags: ['file_write']
      }
    ]);
    expect(exchange.usage).toEqual({ prompt_tokens: 120, completion_tokens: 30, cost_usd: 0.0012 });
    expect(exchange.trace?.[0].tool).toBe('profile_dataframe');
    expect(chat.pending).toBeNull();
    expect(chat.totals).toEqual({ promptTokens: 120, completionTokens: 30, costUsd: 0.0012, answers: 1 });
  });

  it('lets only suggestions of the connected kernel session be run', () => {
    chat.ask('q');
    const id = askedId();
    kernel.lastComm.receive({ type: 'suggestion', id, suggestion_id: 's9', code: 'x', explanation: '', sha256: CODE_SHA });
    kernel.lastComm.receive({ type: 'done', id });
    expect(chat.isLive('s9')).toBe(true);
    link.attach(null, 'restarting');
    expect(chat.isLive('s9')).toBe(false);
    const reloaded = new ChatModel(new KernelLink(), store, KEY);
    expect(reloaded.exchanges[0].suggestions[0].suggestionId).toBe('s9');
    expect(reloaded.isLive('s9')).toBe(false);
  });

  it('adds the panel’s own flags to what the kernel flagged', () => {
    chat.ask('install');
    kernel.lastComm.receive({
      type: 'suggestion',
      id: askedId(),
      suggestion_id: 's2',
      code: '%pip install requests\nimport requests\nrequests.get("https://example.org")',
      explanation: '',
      sha256: CODE_SHA
    });
    expect(chat.exchanges[0].suggestions[0].flags).toEqual(['network', 'pip']);
  });

  it('shows an error as the answer’s outcome and keeps what was streamed', () => {
    chat.ask('expensive');
    const id = askedId();
    kernel.lastComm.receive({ type: 'delta', id, text: 'Partial' });
    kernel.lastComm.receive({
      type: 'error',
      id,
      code: 'budget_exhausted',
      message: 'Your token budget is used up.'
    });
    const [exchange] = chat.exchanges;
    expect(exchange.status).toBe('failed');
    expect(exchange.error).toEqual({ code: 'budget_exhausted', message: 'Your token budget is used up.' });
    expect(exchange.answer).toBe('Partial');
    expect(chat.pending).toBeNull();
  });

  it('ignores replies to questions it did not ask and after the answer ended', () => {
    chat.ask('q');
    const id = askedId();
    kernel.lastComm.receive({ type: 'delta', id: 'someone-else', text: 'x' });
    kernel.lastComm.receive({ type: 'done', id });
    kernel.lastComm.receive({ type: 'delta', id, text: 'late' });
    expect(chat.exchanges[0].answer).toBe('');
  });

  it('shows an error that belongs to no question as a notice', () => {
    kernel.lastComm.receive({ type: 'error', code: 'bad_request', message: 'That cell is not a suggestion this kernel made.' });
    expect(chat.notice).toEqual({ code: 'bad_request', message: 'That cell is not a suggestion this kernel made.' });
  });

  it('stop sends cancel for the pending question and waits for the kernel', () => {
    chat.ask('long');
    const id = askedId();
    chat.stop();
    expect(lastSent()).toEqual({ type: 'cancel', id });
    expect(chat.pending?.status).toBe('stopping');
    kernel.lastComm.receive({ type: 'error', id, code: 'cancelled', message: 'Stopped.' });
    expect(chat.pending).toBeNull();
  });

  it('marks an answer the kernel ended after Stop as stopped', () => {
    chat.ask('long');
    const id = askedId();
    kernel.lastComm.receive({ type: 'delta', id, text: 'Partial' });
    chat.stop();
    kernel.lastComm.receive({ type: 'done', id });
    expect(chat.exchanges[0]).toMatchObject({ status: 'done', stopped: true, answer: 'Partial' });
  });

  it('ends a pending answer when the kernel goes away', () => {
    chat.ask('q');
    link.attach(null, 'restarting');
    expect(chat.exchanges[0].status).toBe('failed');
    expect(chat.exchanges[0].error?.code).toBe('kernel_gone');
  });

  it('keeps the history across reloads, marking an unfinished answer as interrupted', () => {
    chat.ask('first');
    const id = askedId();
    kernel.lastComm.receive({ type: 'delta', id, text: 'Done.' });
    kernel.lastComm.receive({ type: 'done', id, usage: { prompt_tokens: 5, completion_tokens: 2, cost_usd: 0 } });
    chat.ask('second');
    const reloaded = new ChatModel(new KernelLink(), store, KEY);
    expect(reloaded.exchanges.map(e => [e.question, e.status])).toEqual([
      ['first', 'done'],
      ['second', 'failed']
    ]);
    expect(reloaded.exchanges[0].answer).toBe('Done.');
    expect(reloaded.exchanges[1].error?.code).toBe('interrupted');
    expect(new ChatModel(new KernelLink(), store, 'other.ipynb').exchanges).toEqual([]);
  });

  it('keeps at most HISTORY_LIMIT exchanges and survives a corrupt store', () => {
    for (let i = 0; i < HISTORY_LIMIT + 5; i++) {
      chat.ask(`q${i}`);
      kernel.lastComm.receive({ type: 'done', id: askedId() });
    }
    expect(chat.exchanges).toHaveLength(HISTORY_LIMIT);
    expect(chat.exchanges[0].question).toBe('q5');
    store.setItem(KEY, '{not json');
    expect(new ChatModel(new KernelLink(), store, KEY).exchanges).toEqual([]);
    store.setItem(KEY, JSON.stringify([{ id: 1 }, 'x']));
    expect(new ChatModel(new KernelLink(), store, KEY).exchanges).toEqual([]);
  });

  it('moves the history with the notebook when it is renamed', () => {
    chat.ask('q');
    kernel.lastComm.receive({ type: 'done', id: askedId() });
    chat.moveTo('jupyter-dsagent:history:v1:renamed.ipynb');
    expect(store.getItem(KEY)).toBeNull();
    expect(new ChatModel(new KernelLink(), store, 'jupyter-dsagent:history:v1:renamed.ipynb').exchanges).toHaveLength(1);
  });

  it('clear forgets the stored history', () => {
    chat.ask('q');
    kernel.lastComm.receive({ type: 'done', id: askedId() });
    chat.clear();
    expect(chat.exchanges).toEqual([]);
    expect(store.getItem(KEY)).toBeNull();
  });
});
