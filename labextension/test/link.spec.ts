import { describe, expect, it } from 'vitest';

import { COMM_TARGET, KernelLink, LOAD_EXTENSION_CODE, type LinkState } from '../src/link';
import type { KernelMessage } from '../src/wire';
import { FakeKernel, HELLO } from './fakes';

function connected(): { link: KernelLink; kernel: FakeKernel } {
  const link = new KernelLink();
  const kernel = new FakeKernel();
  link.attach(kernel);
  kernel.lastComm.receive(HELLO);
  return { link, kernel };
}

describe('KernelLink', () => {
  it('opens a comm to the agent target and says hello', () => {
    const link = new KernelLink();
    const kernel = new FakeKernel();
    link.attach(kernel);
    expect(kernel.comms).toHaveLength(1);
    expect(kernel.lastComm.target).toBe(COMM_TARGET);
    expect(kernel.lastComm.opened).toBe(true);
    expect(kernel.lastComm.sent).toEqual([{ type: 'hello' }]);
    expect(link.state.kind).toBe('connecting');
  });

  it('is ready once the kernel answers hello, with the model it reported', () => {
    const { link } = connected();
    const model = { ...HELLO, model: 'openai/gpt-4o-mini', offline: false };
    const again = new FakeKernel();
    link.attach(again);
    again.lastComm.receive(model);
    expect(link.state).toEqual({ kind: 'ready', hello: model });
  });

  it('offers to load the extension when the kernel closes the comm (unknown target)', () => {
    const link = new KernelLink();
    const kernel = new FakeKernel();
    const states: LinkState['kind'][] = [];
    link.stateChanged.connect((_, state) => states.push(state.kind));
    link.attach(kernel);
    kernel.lastComm.closeFromKernel();
    expect(link.state.kind).toBe('not-loaded');
    expect(states).toEqual(['connecting', 'not-loaded']);
    expect(link.send({ type: 'runs' })).toBe(false);
  });

  it('loads the extension in the kernel and connects again', async () => {
    const link = new KernelLink();
    const kernel = new FakeKernel();
    link.attach(kernel);
    kernel.lastComm.closeFromKernel();
    await link.loadExtension();
    expect(kernel.executed).toEqual([LOAD_EXTENSION_CODE]);
    expect(kernel.comms).toHaveLength(2);
    expect(link.state.kind).toBe('connecting');
    kernel.lastComm.receive(HELLO);
    expect(link.state.kind).toBe('ready');
  });

  it('says why loading failed, in one line, and does not reconnect', async () => {
    const link = new KernelLink();
    const kernel = new FakeKernel();
    link.attach(kernel);
    kernel.lastComm.closeFromKernel();
    kernel.reply = { status: 'error', ename: 'UsageError', evalue: 'jupyter_dsagent cannot start: bad setting' };
    await link.loadExtension();
    expect(link.state).toEqual({
      kind: 'failed',
      message: `${LOAD_EXTENSION_CODE} failed (UsageError: jupyter_dsagent cannot start: bad setting).`
    });
    expect(kernel.comms).toHaveLength(1);
  });

  it('passes kernel messages on and drops what is not a protocol message', () => {
    const { link, kernel } = connected();
    const seen: KernelMessage[] = [];
    link.received.connect((_, message) => seen.push(message));
    kernel.lastComm.receive({ type: 'delta', id: 'a', text: 'Hi' });
    kernel.lastComm.receive({ type: 'exec', code: 'import os' });
    kernel.lastComm.receive('not an object');
    kernel.lastComm.receive(null);
    expect(seen).toEqual([{ type: 'delta', id: 'a', text: 'Hi' }]);
  });

  it('sends only when ready, on the current comm', () => {
    const { link, kernel } = connected();
    expect(link.send({ type: 'ask', id: 'q1', text: 'profile df' })).toBe(true);
    expect(kernel.lastComm.sent[1]).toEqual({ type: 'ask', id: 'q1', text: 'profile df' });
  });

  it('closes the old comm and ignores it after the kernel changes', () => {
    const { link, kernel } = connected();
    const old = kernel.lastComm;
    const seen: KernelMessage[] = [];
    link.received.connect((_, message) => seen.push(message));
    const next = new FakeKernel();
    link.attach(next);
    expect(old.closedByPanel).toBe(true);
    old.receive({ type: 'delta', id: 'a', text: 'late' });
    old.onClose({});
    expect(seen).toEqual([]);
    expect(link.state.kind).toBe('connecting');
  });

  it('is detached with a reason when there is no kernel', () => {
    const { link, kernel } = connected();
    link.attach(null, 'restarting');
    expect(link.state).toEqual({ kind: 'detached', reason: 'restarting' });
    expect(kernel.comms[0].closedByPanel).toBe(true);
  });

  it('reports a kernel that cannot make comms as failed', () => {
    const link = new KernelLink();
    const kernel = new FakeKernel();
    kernel.createComm = () => {
      throw new Error('Comms are disabled on this kernel connection');
    };
    link.attach(kernel);
    expect(link.state.kind).toBe('failed');
  });
});
