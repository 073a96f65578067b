/**
 * One notebook's conversation with its kernel's agent.
 *
 * Questions go out as `ask`; the answer streams back as `delta` pieces, `suggestion`
 * cards and one `done` (or `error`), all carrying the question's id. The history is
 * stored per notebook so it survives a page reload; an answer that was still
 * streaming when the page went away is marked as interrupted.
 */
import { Signal } from '@lumino/signaling';

import { detectFlags } from './flags';
import type { KernelLink, LinkState } from './link';
import type { DoneMessage, KernelMessage, SuggestionMessage, TraceStep, Usage } from './wire';

/** How many exchanges a notebook's stored history keeps. */
export const HISTORY_LIMIT = 50;

/** Where histories are kept: `window.localStorage` in the browser, a map in tests. */
export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface Suggestion {
  readonly suggestionId: string;
  readonly code: string;
  readonly explanation: string;
  readonly sha256: string;
  /** The kernel's flags and the ones the panel finds itself, without repeats. */
  readonly flags: readonly string[];
}

export interface ChatError {
  readonly code: string;
  readonly message: string;
}

export type ExchangeStatus = 'streaming' | 'stopping' | 'done' | 'failed';

export interface Exchange {
  readonly id: string;
  readonly question: string;
  readonly asked: string;
  answer: string;
  suggestions: Suggestion[];
  status: ExchangeStatus;
  /** The person pressed Stop and the kernel ended the answer early. */
  stopped?: boolean;
  error?: ChatError;
  usage?: Required<Usage>;
  model?: string | null;
  offline?: boolean;
  trace?: TraceStep[];
}

export interface Totals {
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly costUsd: number;
  readonly answers: number;
}

/** A fresh question id; the kernel echoes it on every part of the answer. */
export function newId(): string {
  const random = globalThis.crypto?.getRandomValues?.(new Uint32Array(4));
  if (random) {
    return Array.from(random, part => part.toString(16).padStart(8, '0')).join('');
  }
  return `${Date.now().toString(16)}${Math.random().toString(16).slice(2)}`;
}

/** A suggestion as the panel shows it, flags completed by the panel's own check. */
export function toSuggestion(message: SuggestionMessage): Suggestion {
  const flags = [...(message.flags ?? []), ...detectFlags(message.code)];
  return {
    suggestionId: message.suggestion_id,
    code: message.code,
    explanation: message.explanation,
    sha256: message.sha256,
    flags: Array.from(new Set(flags))
  };
}

export class ChatModel {
  private _exchanges: Exchange[];
  private _notice: ChatError | null = null;
  private readonly _live = new Set<string>();
  private readonly _changed = new Signal<this, void>(this);

  /**
   * @param link the kernel link the questions go through
   * @param store where the history is kept
   * @param key the store key of this notebook's history
   */
  constructor(
    private readonly link: KernelLink,
    private readonly store: KeyValueStore,
    private key: string
  ) {
    this._exchanges = this._load();
    link.received.connect(this._onMessage, this);
    link.stateChanged.connect(this._onLinkState, this);
  }

  get changed(): Signal<this, void> {
    return this._changed;
  }

  get exchanges(): readonly Exchange[] {
    return this._exchanges;
  }

  /**
   * True for a suggestion the connected kernel made in this session: only those can be
   * run from the panel, because only those can be checked and audited by the kernel.
   */
  isLive(suggestionId: string): boolean {
    return this._live.has(suggestionId);
  }

  /** Count a suggestion the kernel sent outside an answer (its own Insert button). */
  markLive(suggestionId: string): void {
    this._live.add(suggestionId);
  }

  /** A message about the conversation that belongs to no question (e.g. a refused insert). */
  get notice(): ChatError | null {
    return this._notice;
  }

  /** The question being answered, if any. */
  get pending(): Exchange | null {
    const last = this._exchanges[this._exchanges.length - 1];
    return last && (last.status === 'streaming' || last.status === 'stopping') ? last : null;
  }

  /** Tokens and cost of every answer in this conversation. */
  get totals(): Totals {
    let promptTokens = 0;
    let completionTokens = 0;
    let costUsd = 0;
    let answers = 0;
    for (const exchange of this._exchanges) {
      if (exchange.usage) {
        promptTokens += exchange.usage.prompt_tokens;
        completionTokens += exchange.usage.completion_tokens;
        costUsd += exchange.usage.cost_usd;
        answers += 1;
      }
    }
    return { promptTokens, completionTokens, costUsd, answers };
  }

  /** Ask a question; false when it cannot be sent now (empty, busy, no agent). */
  ask(text: string): boolean {
    const question = text.trim();
    if (!question || this.pending !== null) {
      return false;
    }
    const id = newId();
    if (!this.link.send({ type: 'ask', id, text: question })) {
      return false;
    }
    this._notice = null;
    this._exchanges.push({
      id,
      question,
      asked: new Date().toISOString(),
      answer: '',
      suggestions: [],
      status: 'streaming'
    });
    this._save();
    this._changed.emit();
    return true;
  }

  /** Ask the kernel to stop the answer being written. */
  stop(): void {
    const pending = this.pending;
    if (pending === null) {
      return;
    }
    if (this.link.send({ type: 'cancel', id: pending.id })) {
      pending.status = 'stopping';
    } else {
      this._fail(pending, { code: 'cancelled', message: 'Stopped.' });
    }
    this._changed.emit();
  }

  /** Forget this notebook's conversation (the kernel keeps its own). */
  clear(): void {
    if (this.pending !== null) {
      return;
    }
    this._exchanges = [];
    this._notice = null;
    this.store.removeItem(this.key);
    this._changed.emit();
  }

  /** Keep the history under `key` from now on (the notebook was renamed or moved). */
  moveTo(key: string): void {
    if (key !== this.key) {
      this.store.removeItem(this.key);
      this.key = key;
      this._save();
    }
  }

  /** Show a one-line message that belongs to no question. */
  setNotice(notice: ChatError | null): void {
    this._notice = notice;
    this._changed.emit();
  }

  dispose(): void {
    Signal.clearData(this);
  }

  private _onMessage(_: KernelLink, message: KernelMessage): void {
    switch (message.type) {
      case 'delta':
      case 'suggestion':
      case 'done':
      case 'error':
        break;
      default:
        return;
    }
    const exchange = message.id ? this._find(message.id) : undefined;
    if (exchange === undefined) {
      if (message.type === 'error') {
        this.setNotice({ code: message.code, message: message.message });
      }
      return;
    }
    if (exchange.status === 'done' || exchange.status === 'failed') {
      return;
    }
    switch (message.type) {
      case 'delta':
        exchange.answer += message.text;
        break;
      case 'suggestion':
        exchange.suggestions.push(toSuggestion(message));
        this._live.add(message.suggestion_id);
        break;
      case 'done':
        this._finish(exchange, message);
        break;
      case 'error':
        this._fail(exchange, { code: message.code, message: message.message });
        break;
    }
    this._changed.emit();
  }

  private _onLinkState(_: KernelLink, state: LinkState): void {
    if (state.kind !== 'ready') {
      this._live.clear();
    }
    const pending = this.pending;
    if (pending !== null && state.kind !== 'ready') {
      this._fail(pending, {
        code: 'kernel_gone',
        message: 'The connection to the kernel ended before the answer was complete.'
      });
      this._changed.emit();
    }
  }

  private _finish(exchange: Exchange, message: DoneMessage): void {
    exchange.stopped = exchange.status === 'stopping';
    exchange.status = 'done';
    exchange.usage = {
      prompt_tokens: message.usage?.prompt_tokens ?? 0,
      completion_tokens: message.usage?.completion_tokens ?? 0,
      cost_usd: message.usage?.cost_usd ?? 0
    };
    exchange.model = message.model ?? null;
    exchange.offline = message.offline ?? false;
    exchange.trace = message.trace ?? [];
    this._save();
  }

  private _fail(exchange: Exchange, error: ChatError): void {
    exchange.status = 'failed';
    exchange.error = error;
    this._save();
  }

  private _find(id: string): Exchange | undefined {
    for (let i = this._exchanges.length - 1; i >= 0; i--) {
      if (this._exchanges[i].id === id) {
        return this._exchanges[i];
      }
    }
    return undefined;
  }

  private _load(): Exchange[] {
    let stored: unknown;
    try {
      stored = JSON.parse(this.store.getItem(this.key) ?? '[]');
    } catch {
      return [];
    }
    if (!Array.isArray(stored)) {
      return [];
    }
    const exchanges = stored.filter(isExchange);
    for (const exchange of exchanges) {
      if (exchange.status === 'streaming' || exchange.status === 'stopping') {
        exchange.status = 'failed';
        exchange.error = {
          code: 'interrupted',
          message: 'The page was reloaded before this answer was complete.'
        };
      }
    }
    return exchanges;
  }

  private _save(): void {
    this._exchanges = this._exchanges.slice(-HISTORY_LIMIT);
    try {
      this.store.setItem(this.key, JSON.stringify(this._exchanges));
    } catch {
      // A full store loses the history, never the conversation on screen.
    }
  }
}

function isExchange(value: unknown): value is Exchange {
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  const item = value as Partial<Exchange>;
  return (
    typeof item.id === 'string' &&
    typeof item.question === 'string' &&
    typeof item.answer === 'string' &&
    Array.isArray(item.suggestions) &&
    typeof item.status === 'string'
  );
}
