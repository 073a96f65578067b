/** The top of the panel: which notebook and kernel it follows, and the agent's state. */
import React from 'react';

import type { NotebookAgent } from '../agent';
import { LOAD_EXTENSION_CODE } from '../link';
import { ErrorLine, useSignal } from './common';

const DETACHED: Readonly<Record<string, string>> = {
  'no-kernel': 'This notebook has no kernel. Start one (Kernel menu) to use the agent.',
  starting: 'Waiting for the kernel to start…',
  restarting: 'The kernel is restarting…',
  dead: 'The kernel died. Restart it (Kernel menu) to use the agent.'
};

export function KernelBar({ agent }: { agent: NotebookAgent | null }): JSX.Element {
  useSignal(agent?.changed);
  useSignal(agent?.link.stateChanged);
  if (agent === null) {
    return (
      <div className="jp-DSAgent-kernel" data-state="no-notebook">
        Open a notebook: the agent lives in its kernel.
      </div>
    );
  }
  const state = agent.link.state;
  return (
    <div className="jp-DSAgent-kernel" data-state={state.kind}>
      <div className="jp-DSAgent-kernelLine" title={agent.panel.context.path}>
        <span className="jp-DSAgent-notebookName">{agent.notebookName}</span>
        <span className="jp-DSAgent-kernelName">{agent.kernelName}</span>
        <span className="jp-DSAgent-kernelStatus">{agent.kernelStatus}</span>
      </div>
      {state.kind === 'ready' && (
        <div className="jp-DSAgent-agentLine">
          Agent connected · {state.hello.offline || !state.hello.model ? 'offline planner (no model)' : `model ${state.hello.model}`}
        </div>
      )}
      {state.kind === 'connecting' && <div className="jp-DSAgent-agentLine">Connecting to the kernel…</div>}
      {state.kind === 'loading' && <div className="jp-DSAgent-agentLine">Loading jupyter_dsagent in the kernel…</div>}
      {state.kind === 'detached' && <div className="jp-DSAgent-agentLine">{DETACHED[state.reason] ?? state.reason}</div>}
      {(state.kind === 'not-loaded' || state.kind === 'failed') && (
        <div className="jp-DSAgent-load">
          {state.kind === 'failed' ? (
            <ErrorLine error={{ code: 'load_failed', message: state.message }} />
          ) : (
            <span>The agent is not loaded in this kernel.</span>
          )}
          <button
            type="button"
            className="jp-DSAgent-button jp-mod-accept jp-DSAgent-loadExt"
            onClick={() => void agent.link.loadExtension()}
          >
            Run <code>{LOAD_EXTENSION_CODE}</code>
          </button>
        </div>
      )}
    </div>
  );
}
