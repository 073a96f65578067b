/** The AutoML tab: this kernel's runs with live progress, cancel, and the result. */
import React from 'react';

import { isActive, type Run, type RunsModel } from '../runs';
import { ErrorLine, useSignal } from './common';

function seconds(value: number): string {
  return value >= 90 ? `${Math.floor(value / 60)} min ${Math.round(value % 60)} s` : `${Math.round(value)} s`;
}

export function RunsTab({ runs, ready }: { runs: RunsModel; ready: boolean }): JSX.Element {
  useSignal(runs.changed);
  return (
    <div className="jp-DSAgent-runs">
      {runs.error && <ErrorLine error={{ code: 'not_found', message: runs.error }} />}
      {runs.runs.length === 0 ? (
        <p className="jp-DSAgent-empty">
          {ready
            ? 'No AutoML runs in this kernel. Start one with %dsagent automl df --target COLUMN, or ask the agent.'
            : 'Connect the agent to see this kernel’s AutoML runs.'}
        </p>
      ) : (
        <ul className="jp-DSAgent-runList">
          {runs.runs.map(run => (
            <RunView key={run.run} run={run} onCancel={() => runs.cancel(run.run)} />
          ))}
        </ul>
      )}
    </div>
  );
}

function RunView({ run, onCancel }: { run: Run; onCancel: () => void }): JSX.Element {
  const active = isActive(run);
  const score =
    typeof run.best_score === 'number' ? `best ${run.metric ?? 'score'} ${run.best_score.toPrecision(4)}` : null;
  return (
    <li className="jp-DSAgent-run" data-run={run.run} data-status={run.status}>
      <div className="jp-DSAgent-transferHead">
        <span className="jp-DSAgent-fileName">
          {run.target ? `predict ${run.target}` : 'AutoML run'} <small>{run.run}</small>
        </span>
        <span className="jp-DSAgent-runStatus">{run.cancelling ? 'cancelling…' : run.status}</span>
      </div>
      {active && (
        <progress
          className="jp-DSAgent-progress"
          max={Math.max(run.budget, 1)}
          value={Math.min(run.elapsed, run.budget)}
          aria-label="Time used of the run's budget"
        />
      )}
      <div className="jp-DSAgent-recordFacts">
        {seconds(run.elapsed)} of {seconds(run.budget)} · {run.models_done ?? 0} models
        {score ? ` · ${score}` : ''}
      </div>
      {run.message && <div className={run.status === 'failed' ? 'jp-DSAgent-error' : 'jp-DSAgent-summary'}>{run.message}</div>}
      {active && (
        <div className="jp-DSAgent-actions">
          <button type="button" className="jp-DSAgent-button jp-DSAgent-cancelRun" disabled={run.cancelling} onClick={onCancel}>
            Cancel
          </button>
        </div>
      )}
    </li>
  );
}
