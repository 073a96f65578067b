import { beforeEach, describe, expect, it } from 'vitest';

import { KernelLink } from '../src/link';
import { RunsModel } from '../src/runs';
import { FakeKernel, HELLO } from './fakes';

const RUNNING = {
  type: 'progress',
  run: 'r1',
  status: 'running',
  elapsed: 12,
  budget: 60,
  models_done: 2,
  best_score: 0.81,
  metric: 'accuracy',
  target: 'survived',
  message: null
};

let link: KernelLink;
let kernel: FakeKernel;
let runs: RunsModel;

beforeEach(() => {
  link = new KernelLink();
  kernel = new FakeKernel();
  runs = new RunsModel(link);
  link.attach(kernel);
  kernel.lastComm.receive(HELLO);
});

describe('RunsModel', () => {
  it('asks the kernel for its runs as soon as the agent is connected', () => {
    expect(kernel.lastComm.sent).toEqual([{ type: 'hello' }, { type: 'runs' }]);
  });

  it('takes the runs reply, then follows progress of known and new runs', () => {
    kernel.lastComm.receive({ type: 'runs', runs: [{ ...RUNNING, run: 'r0', status: 'done', message: 'accuracy 0.8' }] });
    kernel.lastComm.receive(RUNNING);
    kernel.lastComm.receive({ ...RUNNING, elapsed: 30, models_done: 4 });
    expect(runs.runs.map(run => [run.run, run.status, run.elapsed, run.models_done])).toEqual([
      ['r1', 'running', 30, 4],
      ['r0', 'done', 12, 2]
    ]);
  });

  it('cancel sends cancel_run and shows the run as cancelling until the kernel reports', () => {
    kernel.lastComm.receive(RUNNING);
    expect(runs.cancel('r1')).toBe(true);
    expect(kernel.lastComm.sent[kernel.lastComm.sent.length - 1]).toEqual({ type: 'cancel_run', run: 'r1' });
    expect(runs.runs[0].cancelling).toBe(true);
    kernel.lastComm.receive({ ...RUNNING, elapsed: 13 });
    expect(runs.runs[0].cancelling).toBe(true);
    kernel.lastComm.receive({ ...RUNNING, status: 'cancelled', elapsed: 13 });
    expect(runs.runs[0].cancelling).toBe(false);
    expect(runs.cancel('r1')).toBe(false);
  });

  it('shows the kernel’s refusal to cancel an unknown run', () => {
    kernel.lastComm.receive(RUNNING);
    runs.cancel('r1');
    kernel.lastComm.receive({ type: 'error', code: 'not_found', message: 'No AutoML run r1 in this kernel.' });
    expect(runs.error).toBe('No AutoML run r1 in this kernel.');
    expect(runs.runs[0].cancelling).toBe(false);
  });

  it('forgets the runs when the kernel goes away', () => {
    kernel.lastComm.receive(RUNNING);
    link.attach(null, 'dead');
    expect(runs.runs).toEqual([]);
  });
});
