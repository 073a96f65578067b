import { describe, expect, it } from 'vitest';

import { errorFrom } from '../src/uploads';
import { formatAmount, summarize } from '../src/usage';
import { oneLine } from '../src/errors';

describe('summarize', () => {
  it('reads the person’s use and every budget with what is left', () => {
    const spent = { calls: 2, tokens_in: 900, tokens_out: 300, tokens: 1200, cost_usd: 0.02 };
    const report = {
      user: 'u-1a2b',
      day: '2026-11-21',
      total: spent,
      today: spent,
      by_user: { 'u-1a2b': { total: spent, today: { ...spent, tokens: 200, cost_usd: 0.001 }, by_model: {} } },
      by_model: {},
      budgets: [
        { scope: 'user', period: 'day', unit: 'tokens', limit: 10000, used: 1200, remaining: 8800, setting: 'user_daily_token_budget' },
        { scope: 'server', period: 'total', unit: 'usd', limit: 5, used: 0.02, remaining: 4.98, setting: 'server_cost_budget' }
      ]
    };
    expect(summarize(report)).toEqual({
      budgets: [
        { label: 'Your daily token budget', unit: 'tokens', remaining: 8800, limit: 10000 },
        { label: "This server's total cost budget", unit: 'usd', remaining: 4.98, limit: 5 }
      ],
      today: { tokens: 200, costUsd: 0.001, calls: 2 },
      total: { tokens: 1200, costUsd: 0.02, calls: 2 }
    });
    expect(formatAmount(8800, 'tokens')).toBe('8,800 tokens');
    expect(formatAmount(4.98, 'usd')).toBe('$4.9800');
  });

  it('shows nothing it cannot read', () => {
    expect(summarize('nope')).toEqual({ budgets: [], today: null, total: null });
    expect(summarize({ budgets: [{ remaining: 'x' }], user: 'a', by_user: {} })).toEqual({
      budgets: [],
      today: null,
      total: null
    });
  });
});

describe('oneLine', () => {
  it('gives the message and what to do for codes a person can act on', () => {
    expect(oneLine({ code: 'budget_exhausted', message: 'Your daily token budget is used up.' })).toBe(
      'Your daily token budget is used up. Ask whoever runs this server to raise the budget, or wait until it resets.'
    );
    expect(oneLine({ code: 'zip_bomb', message: 'The archive\nexpands too much.' })).toBe('The archive expands too much.');
    expect(oneLine(errorFrom(401, ''))).toContain('reload the page');
  });
});
