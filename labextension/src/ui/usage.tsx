/** The Usage tab: this conversation's tokens and cost, the person's use, and budgets left. */
import React from 'react';

import type { ChatModel } from '../chat';
import { RequestError } from '../uploads';
import { formatAmount, summarize, type Spending, type UsageSummary } from '../usage';
import { ErrorLine, useSignal } from './common';

interface Props {
  chat: ChatModel | null;
  load: () => Promise<unknown>;
}

function SpendingRow({ label, spending }: { label: string; spending: Spending | null }): JSX.Element | null {
  if (spending === null) {
    return null;
  }
  return (
    <tr>
      <th>{label}</th>
      <td>
        {spending.tokens.toLocaleString()} tokens · ${spending.costUsd.toFixed(4)}
      </td>
    </tr>
  );
}

export function UsageTab({ chat, load }: Props): JSX.Element {
  useSignal(chat?.changed);
  const [summary, setSummary] = React.useState<UsageSummary | null>(null);
  const [error, setError] = React.useState<RequestError | null>(null);
  const answers = chat?.totals.answers ?? 0;
  const refresh = React.useCallback(() => {
    load().then(
      report => {
        setSummary(summarize(report));
        setError(null);
      },
      reason => {
        setSummary(null);
        setError(reason instanceof RequestError ? reason : new RequestError('network', String(reason), 0));
      }
    );
  }, [load]);
  React.useEffect(refresh, [refresh, answers]);
  const totals = chat?.totals;
  return (
    <div className="jp-DSAgent-usage">
      <div className="jp-DSAgent-sectionTitle">This conversation</div>
      {totals ? (
        <table className="jp-DSAgent-table jp-DSAgent-conversationUsage">
          <tbody>
            <tr>
              <th>Answers</th>
              <td>{totals.answers}</td>
            </tr>
            <tr>
              <th>Tokens in / out</th>
              <td>
                {totals.promptTokens.toLocaleString()} / {totals.completionTokens.toLocaleString()}
              </td>
            </tr>
            <tr>
              <th>Cost</th>
              <td>${totals.costUsd.toFixed(4)}</td>
            </tr>
          </tbody>
        </table>
      ) : (
        <p className="jp-DSAgent-empty">Open a notebook to see its conversation.</p>
      )}
      <div className="jp-DSAgent-sectionTitle">
        From the model gateway
        <button type="button" className="jp-DSAgent-link" onClick={refresh}>
          refresh
        </button>
      </div>
      {error &&
        (error.status === 404 ? (
          <p className="jp-DSAgent-empty">This server has no model gateway; answers come from the offline planner.</p>
        ) : (
          <ErrorLine error={error} />
        ))}
      {summary && (
        <table className="jp-DSAgent-table jp-DSAgent-budgets">
          <tbody>
            <SpendingRow label="You, today" spending={summary.today} />
            <SpendingRow label="You, all time" spending={summary.total} />
            {summary.budgets.map(line => (
              <tr key={line.label}>
                <th>{line.label}</th>
                <td>
                  {formatAmount(line.remaining, line.unit)} left
                  {line.limit !== null ? ` of ${formatAmount(line.limit, line.unit)}` : ''}
                </td>
              </tr>
            ))}
            {summary.budgets.length === 0 && (
              <tr>
                <th>Budget</th>
                <td>no limit is set</td>
              </tr>
            )}
          </tbody>
        </table>
      )}
    </div>
  );
}
