import { createHash } from 'node:crypto';
import {
  ConnectSimulator,
  Simulation,
  type SimulationOutput,
  SimulatorOptionsError,
} from '../../src/index.js';
import { runModel } from './helpers.js';

function digest(outputs: readonly SimulationOutput[]): string {
  const h = createHash('sha256');
  for (const o of outputs) {
    h.update(o.kind);
    h.update(String(o.at));
    if (o.kind === 'agent-event') h.update(o.data);
    else if (o.kind === 'ctr-object') h.update(o.key).update(o.body);
    else h.update(o.key).update(o.body);
  }
  return h.digest('hex');
}

describe('seeded determinism', () => {
  it('produces byte-identical outputs and truth for the same seed', () => {
    const faults = { duplicate: 0.02, reorder: 0.02, malformed: 0.01, lateUpdate: 0.3 };
    const a = runModel({ seed: 11, agents: 12, faults }, 3);
    const b = runModel({ seed: 11, agents: 12, faults }, 3);
    expect(a.outputs.length).toBeGreaterThan(300);
    expect(digest(a.outputs)).toBe(digest(b.outputs));
    expect(a.sim.agentTruth()).toEqual(b.sim.agentTruth());
    expect(a.sim.contactTruth()).toEqual(b.sim.contactTruth());
  });

  it('produces different outputs for another seed', () => {
    const a = runModel({ seed: 11, agents: 12 }, 2);
    const b = runModel({ seed: 12, agents: 12 }, 2);
    expect(digest(a.outputs)).not.toBe(digest(b.outputs));
  });

  it('does not depend on how the clock is advanced', () => {
    const coarse = runModel({ seed: 5, agents: 8 }, 2);
    const fine = new Simulation({
      seed: 5,
      agents: 8,
      start: new Date('2026-12-07T06:00:00Z'),
    });
    const outputs: SimulationOutput[] = [];
    for (let t = fine.start; t < fine.start + 2 * 3_600_000; t += 7_000) {
      outputs.push(...fine.advanceTo(t));
    }
    outputs.push(...fine.advanceTo(fine.start + 2 * 3_600_000), ...fine.finish());
    expect(digest(outputs)).toBe(digest(coarse.outputs));
  });
});

describe('options', () => {
  it('reports every invalid option at once, naming each', () => {
    let error: unknown;
    try {
      new ConnectSimulator({ agents: 0, speed: -1, faults: { duplicate: 2 }, sinks: [] });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SimulatorOptionsError);
    const problems = (error as SimulatorOptionsError).problems.map((p) => p.path).sort();
    expect(problems).toEqual(['agents', 'faults.duplicate', 'speed']);
    expect((error as SimulatorOptionsError).code).toBe('invalid-options');
    expect((error as SimulatorOptionsError).retryable).toBe(false);
  });
});
