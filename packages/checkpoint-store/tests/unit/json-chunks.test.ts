import { InvalidArgumentError } from '@connect-wfm/checkpoint-store';
import fc from 'fast-check';
import { assertJsonValue, jsonChunks } from '../../src/json-chunks.js';

const text = (value: unknown): string => [...jsonChunks('rta/agents', value)].join('');

describe('jsonChunks', () => {
  it('joins to exactly JSON.stringify for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(text(value)).toBe(JSON.stringify(value));
      }),
      { numRuns: 500 },
    );
  });

  it('drops and nulls what JSON.stringify drops and nulls, and honours toJSON', () => {
    const member = fc.oneof(
      fc.jsonValue(),
      fc.constant(undefined),
      fc.constant(() => 1),
      fc.constant(Symbol('s')),
      fc.date({ noInvalidDate: true }),
      fc.constant({ toJSON: () => undefined }),
      fc.constant({ toJSON: () => ({ replaced: true }) }),
    );
    const state = fc.oneof(
      fc.dictionary(
        fc.string(),
        fc.oneof(member, fc.array(member), fc.dictionary(fc.string(), member)),
      ),
      fc.array(fc.oneof(member, fc.dictionary(fc.string(), member))),
    );
    fc.assert(
      fc.property(state, (value) => {
        expect(text(value)).toBe(JSON.stringify(value));
      }),
      { numRuns: 500 },
    );
  });

  it('yields one piece per member below the top two levels (no whole-state string)', () => {
    const agents = Array.from({ length: 1000 }, (_, i) => ({ userCode: `agent.${i}`, n: i }));
    const pieces = [...jsonChunks('rta/agents', { version: 2, agents })];
    expect(pieces.length).toBeGreaterThan(1000);
    expect(Math.max(...pieces.map((p) => p.length))).toBeLessThan(60);
    expect(pieces.join('')).toBe(JSON.stringify({ version: 2, agents }));
  });

  it('refuses cycles and bigints with InvalidArgumentError naming the scope', () => {
    const top: Record<string, unknown> = { a: 1 };
    top.self = top;
    const deep: Record<string, unknown> = {};
    deep.agents = [{ back: deep }];
    const nested: Record<string, unknown> = { list: [] };
    (nested.list as unknown[]).push(nested.list);
    for (const bad of [top, deep, nested, { n: 1n }, [{ x: { y: 2n } }], 3n]) {
      let caught: unknown;
      try {
        text(bad);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(InvalidArgumentError);
      expect(String((caught as Error).message)).toContain('rta/agents');
    }
  });

  it('assertJsonValue refuses a state without JSON text at once', () => {
    for (const bad of [undefined, () => 1, Symbol('s')]) {
      expect(() => assertJsonValue('rta/agents', bad)).toThrow(/must be a JSON value/);
    }
    for (const good of [null, 0, 'x', [], {}, new Date(0)]) {
      expect(() => assertJsonValue('rta/agents', good)).not.toThrow();
    }
  });
});
