import { Readable } from 'node:stream';
import { type FirehoseItem, readFirehoseRecords } from '@connect-wfm/ctr-csv-mapper';
import { Simulation, type SimulationOptions, type SimulationOutput } from '../../src/index.js';

/** Runs a model for `hours` simulated hours (then finish()) and returns it with every output. */
export function runModel(
  options: SimulationOptions,
  hours: number,
): { sim: Simulation; outputs: SimulationOutput[] } {
  const sim = new Simulation({ start: new Date('2026-12-07T06:00:00Z'), ...options });
  const outputs: SimulationOutput[] = [];
  for (let h = 1; h <= hours; h++) outputs.push(...sim.advanceTo(sim.start + h * 3_600_000));
  outputs.push(...sim.finish());
  return { sim, outputs };
}

/** Every item the mapper's reader finds in a CTR object body. */
export async function readItems(body: Buffer, sourceName: string): Promise<FirehoseItem[]> {
  const items: FirehoseItem[] = [];
  for await (const item of readFirehoseRecords(Readable.from([body]), { sourceName }))
    items.push(item);
  return items;
}
