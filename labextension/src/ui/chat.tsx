/** The Chat tab: the conversation, suggestion cards and the question box. */
import { Clipboard } from '@jupyterlab/apputils';
import type { IEditorLanguageRegistry } from '@jupyterlab/codemirror';
import React from 'react';

import type { NotebookAgent } from '../agent';
import type { Exchange, Suggestion } from '../chat';
import { describeError } from '../errors';
import { FLAG_INFO } from '../flags';
import { CodeBlock, ErrorLine, Markdown, useSignal } from './common';

interface Props {
  agent: NotebookAgent;
  languages: IEditorLanguageRegistry | null;
}

export function ChatTab({ agent, languages }: Props): JSX.Element {
  useSignal(agent.chat.changed);
  useSignal(agent.link.stateChanged);
  const chat = agent.chat;
  const history = React.useRef<HTMLDivElement>(null);
  const last = chat.exchanges[chat.exchanges.length - 1];
  const progress = `${chat.exchanges.length}:${last?.answer.length ?? 0}:${last?.suggestions.length ?? 0}:${last?.status}`;
  React.useEffect(() => {
    const element = history.current;
    if (element !== null) {
      element.scrollTop = element.scrollHeight;
    }
  }, [progress]);
  return (
    <div className="jp-DSAgent-chat">
      <div className="jp-DSAgent-history" ref={history} aria-live="polite">
        {chat.exchanges.length === 0 ? (
          <p className="jp-DSAgent-empty">
            Ask about the DataFrames in this notebook: “profile df”, “which columns have
            missing values?”, “train a model to predict price”.
          </p>
        ) : (
          chat.exchanges.map(exchange => (
            <ExchangeView key={exchange.id} exchange={exchange} agent={agent} languages={languages} />
          ))
        )}
      </div>
      {chat.notice && <ErrorLine error={chat.notice} />}
      <Composer agent={agent} />
    </div>
  );
}

function Composer({ agent }: { agent: NotebookAgent }): JSX.Element {
  const [text, setText] = React.useState('');
  const chat = agent.chat;
  const ready = agent.link.state.kind === 'ready';
  const pending = chat.pending;
  const send = (): void => {
    if (chat.ask(text)) {
      setText('');
    }
  };
  const onKeyDown = (event: React.KeyboardEvent<HTMLTextAreaElement>): void => {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      send();
    }
  };
  return (
    <div className="jp-DSAgent-composer">
      <textarea
        className="jp-DSAgent-input"
        aria-label="Question for the agent (Enter sends, Shift+Enter adds a line)"
        placeholder={ready ? 'Ask the agent… (Enter to send, Shift+Enter for a new line)' : 'Connect the agent to ask'}
        value={text}
        rows={3}
        disabled={!ready}
        onChange={event => setText(event.target.value)}
        onKeyDown={onKeyDown}
      />
      <div className="jp-DSAgent-composerActions">
        <button
          type="button"
          className="jp-DSAgent-button jp-DSAgent-clear"
          onClick={() => chat.clear()}
          disabled={pending !== null || chat.exchanges.length === 0}
          title="Forget this notebook's conversation in the panel"
        >
          Clear
        </button>
        {pending !== null ? (
          <button
            type="button"
            className="jp-DSAgent-button jp-DSAgent-stop"
            onClick={() => chat.stop()}
            disabled={pending.status === 'stopping'}
          >
            {pending.status === 'stopping' ? 'Stopping…' : 'Stop'}
          </button>
        ) : (
          <button
            type="button"
            className="jp-DSAgent-button jp-mod-accept jp-DSAgent-send"
            onClick={send}
            disabled={!ready || !text.trim()}
          >
            Send
          </button>
        )}
      </div>
    </div>
  );
}

function ExchangeView({ exchange, agent, languages }: { exchange: Exchange } & Props): JSX.Element {
  const busy = exchange.status === 'streaming' || exchange.status === 'stopping';
  return (
    <div className="jp-DSAgent-exchange" data-status={exchange.status}>
      <div className="jp-DSAgent-question">{exchange.question}</div>
      <div className="jp-DSAgent-answer">
        {exchange.answer && <Markdown text={exchange.answer} />}
        {busy && <span className="jp-DSAgent-typing" aria-label="The agent is answering">…</span>}
      </div>
      {exchange.suggestions.map(suggestion => (
        <SuggestionCard key={suggestion.suggestionId} suggestion={suggestion} agent={agent} languages={languages} />
      ))}
      {exchange.stopped && <div className="jp-DSAgent-stopped">Stopped before the answer was complete.</div>}
      {exchange.error && <ErrorLine error={exchange.error} />}
      {exchange.status === 'done' && <AnswerFacts exchange={exchange} />}
    </div>
  );
}

function AnswerFacts({ exchange }: { exchange: Exchange }): JSX.Element {
  const [open, setOpen] = React.useState(false);
  const usage = exchange.usage;
  const tokens = usage ? usage.prompt_tokens + usage.completion_tokens : 0;
  const offline = exchange.offline || !exchange.model;
  const who = offline ? 'offline planner' : exchange.model;
  return (
    <div className="jp-DSAgent-facts">
      <button
        type="button"
        className="jp-DSAgent-link"
        aria-expanded={open}
        onClick={() => setOpen(!open)}
      >
        {open ? '▾' : '▸'} {who} · {tokens.toLocaleString()} tokens · ${(usage?.cost_usd ?? 0).toFixed(4)}
      </button>
      {open && (
        <div className="jp-DSAgent-trace">
          <div>
            Model: {offline ? 'none (offline planner)' : exchange.model}
          </div>
          <div>
            Tokens: {usage?.prompt_tokens ?? 0} in, {usage?.completion_tokens ?? 0} out · cost $
            {(usage?.cost_usd ?? 0).toFixed(6)}
          </div>
          {(exchange.trace ?? []).length === 0 ? (
            <div>No tools were used.</div>
          ) : (
            <ol className="jp-DSAgent-steps">
              {(exchange.trace ?? []).map((step, index) => (
                <li key={index}>
                  <code>{step.tool}</code> {Math.round(step.duration_ms)} ms, {step.result_chars} characters
                  {step.error ? <span className="jp-DSAgent-stepError"> — {step.error}</span> : null}
                </li>
              ))}
            </ol>
          )}
        </div>
      )}
    </div>
  );
}

function SuggestionCard({ suggestion, agent, languages }: { suggestion: Suggestion } & Props): JSX.Element {
  const [outcome, setOutcome] = React.useState<string | null>(null);
  const [refusal, setRefusal] = React.useState<string | null>(null);
  useSignal(agent.link.stateChanged);
  const live = agent.link.state.kind === 'ready' && agent.chat.isLive(suggestion.suggestionId);
  const language = agent.panel.model?.defaultKernelLanguage || 'python';
  const insert = (run: boolean): void => {
    setRefusal(null);
    agent.insertSuggestion(suggestion, run).then(
      refused => {
        if (refused !== null) {
          setRefusal(refused);
        } else {
          setOutcome(run ? 'Inserted and ran below the active cell.' : 'Inserted below the active cell.');
        }
      },
      error => setRefusal(describeError(error))
    );
  };
  return (
    <div className="jp-DSAgent-suggestion" data-suggestion-id={suggestion.suggestionId}>
      {suggestion.explanation && <Markdown className="jp-DSAgent-explanation" text={suggestion.explanation} />}
      {suggestion.flags.length > 0 && (
        <ul className="jp-DSAgent-flags" aria-label="What this code does that deserves a look">
          {suggestion.flags.map(flag => (
            <li key={flag} className={`jp-DSAgent-flag jp-DSAgent-flag-${flag}`} title={FLAG_INFO[flag]?.title ?? flag}>
              ⚠ {FLAG_INFO[flag]?.label ?? flag}
            </li>
          ))}
        </ul>
      )}
      <CodeBlock code={suggestion.code} language={language} languages={languages} />
      <div className="jp-DSAgent-actions">
        <button type="button" className="jp-DSAgent-button jp-DSAgent-insert" onClick={() => insert(false)}>
          Insert
        </button>
        <button
          type="button"
          className="jp-DSAgent-button jp-DSAgent-insertRun"
          disabled={!live}
          title={live ? 'Insert below the active cell and run it' : 'From an earlier kernel session: use Insert'}
          onClick={() => insert(true)}
        >
          Insert &amp; Run
        </button>
        <button
          type="button"
          className="jp-DSAgent-button jp-DSAgent-copy"
          onClick={() => {
            Clipboard.copyToSystem(suggestion.code);
            setOutcome('Copied.');
          }}
        >
          Copy
        </button>
      </div>
      {outcome && !refusal && <div className="jp-DSAgent-outcome">{outcome}</div>}
      {refusal && <ErrorLine error={{ code: 'insert_refused', message: refusal }} />}
    </div>
  );
}
