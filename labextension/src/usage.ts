/**
 * What the model gateway reports about spending (`GET /dsagent/api/llm/usage`).
 *
 * The panel shows this conversation's tokens and cost from the answers themselves;
 * from the gateway it shows the person's own use (today, all time) and what each
 * budget that applies to them has left.
 */
import { errorFrom } from './uploads';

export const USAGE_PATH = 'dsagent/api/llm/usage';

export interface BudgetLine {
  /** "Your daily token budget", "This server's total cost budget". */
  readonly label: string;
  readonly unit: 'tokens' | 'usd';
  readonly remaining: number;
  readonly limit: number | null;
}

export interface Spending {
  readonly tokens: number;
  readonly costUsd: number;
  readonly calls: number;
}

export interface UsageSummary {
  readonly budgets: BudgetLine[];
  /** The signed-in person's use of models, from any notebook. */
  readonly today: Spending | null;
  readonly total: Spending | null;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function spending(value: unknown): Spending | null {
  if (!isObject(value) || num(value.tokens) === null) {
    return null;
  }
  return { tokens: num(value.tokens) ?? 0, costUsd: num(value.cost_usd) ?? 0, calls: num(value.calls) ?? 0 };
}

function budgetLabel(budget: Json): string {
  const whose = budget.scope === 'server' ? "This server's" : 'Your';
  const period = budget.period === 'day' ? 'daily' : 'total';
  const kind = budget.unit === 'usd' ? 'cost' : 'token';
  return `${whose} ${period} ${kind} budget`;
}

/** The parts of a usage report the panel shows. */
export function summarize(report: unknown): UsageSummary {
  if (!isObject(report)) {
    return { budgets: [], today: null, total: null };
  }
  const budgets: BudgetLine[] = [];
  for (const budget of Array.isArray(report.budgets) ? report.budgets : []) {
    const remaining = isObject(budget) ? num(budget.remaining) : null;
    if (isObject(budget) && remaining !== null) {
      budgets.push({
        label: budgetLabel(budget),
        unit: budget.unit === 'usd' ? 'usd' : 'tokens',
        remaining,
        limit: num(budget.limit)
      });
    }
  }
  const byUser = isObject(report.by_user) ? report.by_user : {};
  const mine = typeof report.user === 'string' && isObject(byUser[report.user]) ? (byUser[report.user] as Json) : null;
  return {
    budgets,
    today: mine ? spending(mine.today) : null,
    total: mine ? spending(mine.total) : null
  };
}

/** A budget amount as people read it: "8,800 tokens" or "$0.9800". */
export function formatAmount(value: number, unit: 'tokens' | 'usd'): string {
  return unit === 'usd' ? `$${value.toFixed(4)}` : `${Math.round(value).toLocaleString()} tokens`;
}

/** The gateway's usage report for the signed-in user. */
export async function fetchUsage(
  baseUrl: string,
  request: (url: string, init: RequestInit) => Promise<Response>
): Promise<unknown> {
  const response = await request(`${baseUrl}${USAGE_PATH}`, { method: 'GET' });
  const body = await response.text();
  if (!response.ok) {
    throw errorFrom(response.status, body);
  }
  return JSON.parse(body);
}
