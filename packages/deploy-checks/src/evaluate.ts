import { EvaluationError } from './errors.js';
import type { CfnTemplate, CfnValue } from './template.js';

/** The inputs of one evaluation: parameter values and stand-ins for what AWS would create. */
export interface Scenario {
  /** Parameter values; a parameter not given takes its `Default`. */
  readonly parameters?: Readonly<Record<string, string>>;
  /** `Ref` of a resource (its physical id); default `<LogicalId>-physical-id`. */
  readonly refs?: Readonly<Record<string, string>>;
  /** `GetAtt` values by `"LogicalId.Attribute"`; default `<LogicalId>.<Attribute>`. */
  readonly attributes?: Readonly<Record<string, string>>;
  /** Pseudo parameters; defaults: account 111122223333, region eu-west-1, partition aws. */
  readonly pseudo?: Readonly<Record<string, string>>;
}

/** What `AWS::NoValue` evaluates to: the property is left out. */
export const NO_VALUE: unique symbol = Symbol('AWS::NoValue');

/** An evaluated value. */
export type Evaluated =
  | string
  | number
  | boolean
  | null
  | typeof NO_VALUE
  | Evaluated[]
  | { [key: string]: Evaluated };

const PSEUDO: Record<string, string> = {
  'AWS::AccountId': '111122223333',
  'AWS::Region': 'eu-west-1',
  'AWS::Partition': 'aws',
  'AWS::StackName': 'connect-wfm-test',
  'AWS::StackId':
    'arn:aws:cloudformation:eu-west-1:111122223333:stack/connect-wfm-test/0f6a1e60-1c2b-11f0-9d6c-0a1b2c3d4e5f',
  'AWS::URLSuffix': 'amazonaws.com',
};

function isObject(v: CfnValue | undefined): v is { [key: string]: CfnValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Evaluates template values the way CloudFormation would for one set of parameter values:
 * `Ref`, `Fn::GetAtt`, `Fn::Sub`, `Fn::Join`, `Fn::Select`, `Fn::Split`, `Fn::FindInMap`,
 * `Fn::If` with the template's `Conditions` (`Fn::Equals`, `Not`, `And`, `Or`, `Condition`).
 * Resources get stand-in names, so the result shows what a function or container would be given.
 *
 * @example
 * const evaluator = new TemplateEvaluator(template, { parameters: { SftpHost: 'sftp.example.com' } });
 * evaluator.condition('UseKms'); // false
 * evaluator.value(template.Resources.DeliveryFunction?.Properties?.Environment);
 */
export class TemplateEvaluator {
  readonly #template: CfnTemplate;
  readonly #scenario: Scenario;
  readonly #conditions = new Map<string, boolean>();

  constructor(template: CfnTemplate, scenario: Scenario = {}) {
    this.#template = template;
    this.#scenario = scenario;
  }

  /** The value of a parameter (given, or its default). */
  parameter(name: string): string {
    const given = this.#scenario.parameters?.[name];
    if (given !== undefined) return given;
    const p = this.#template.Parameters?.[name];
    if (p === undefined) throw new EvaluationError(`no parameter ${name}`);
    if (p.Default === undefined)
      throw new EvaluationError(`parameter ${name} has no default and was not given`);
    return String(p.Default);
  }

  /** Whether a named condition holds. */
  condition(name: string): boolean {
    let known = this.#conditions.get(name);
    if (known === undefined) {
      const expr = this.#template.Conditions?.[name];
      if (expr === undefined) throw new EvaluationError(`no condition ${name}`);
      known = this.#truth(expr);
      this.#conditions.set(name, known);
    }
    return known;
  }

  /** Whether a resource exists (its `Condition` holds, or it has none). */
  exists(logicalId: string): boolean {
    const res = this.#template.Resources[logicalId];
    if (res === undefined) throw new EvaluationError(`no resource ${logicalId}`);
    return res.Condition === undefined || this.condition(res.Condition);
  }

  #truth(expr: CfnValue): boolean {
    if (!isObject(expr)) throw new EvaluationError(`not a condition: ${JSON.stringify(expr)}`);
    const [name] = Object.keys(expr);
    const arg = expr[name as string];
    const list = Array.isArray(arg) ? arg : [];
    switch (name) {
      case 'Fn::Equals': {
        const [a, b] = list.map((v) => this.value(v));
        return JSON.stringify(a) === JSON.stringify(b);
      }
      case 'Fn::Not':
        return !this.#truth(list[0] ?? null);
      case 'Fn::And':
        return list.every((c) => this.#truth(c));
      case 'Fn::Or':
        return list.some((c) => this.#truth(c));
      case 'Condition':
        return this.condition(String(arg));
      default:
        throw new EvaluationError(`unsupported condition function ${String(name)}`);
    }
  }

  /** Evaluates a value; properties that are `AWS::NoValue` are dropped from objects and lists. */
  value(v: CfnValue | undefined): Evaluated {
    if (v === undefined) return NO_VALUE;
    if (v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) return v.map((x) => this.value(x)).filter((x) => x !== NO_VALUE);
    const keys = Object.keys(v);
    const [name] = keys;
    if (
      keys.length === 1 &&
      name !== undefined &&
      (name === 'Ref' || name.startsWith('Fn::') || name === 'Condition')
    ) {
      return this.#function(name, v[name] as CfnValue);
    }
    const out: { [key: string]: Evaluated } = {};
    for (const [k, x] of Object.entries(v)) {
      const e = this.value(x);
      if (e !== NO_VALUE) out[k] = e;
    }
    return out;
  }

  #string(v: CfnValue): string {
    const e = this.value(v);
    if (typeof e === 'string' || typeof e === 'number' || typeof e === 'boolean') return String(e);
    throw new EvaluationError(`expected a string, got ${JSON.stringify(e)}`);
  }

  #ref(name: string): Evaluated {
    if (name === 'AWS::NoValue') return NO_VALUE;
    const pseudo = this.#scenario.pseudo?.[name] ?? PSEUDO[name];
    if (pseudo !== undefined) return pseudo;
    const p = this.#template.Parameters?.[name];
    if (p !== undefined) {
      const value = this.parameter(name);
      return p.Type.startsWith('List<') || p.Type === 'CommaDelimitedList'
        ? value.split(',')
        : value;
    }
    if (this.#template.Resources[name] !== undefined) {
      return this.#scenario.refs?.[name] ?? `${name}-physical-id`;
    }
    throw new EvaluationError(`Ref to unknown ${name}`);
  }

  #function(name: string, arg: CfnValue): Evaluated {
    const list = Array.isArray(arg) ? arg : [];
    switch (name) {
      case 'Ref':
        return this.#ref(String(arg));
      case 'Fn::GetAtt': {
        const path = (Array.isArray(arg) ? arg : [arg]).map(String).join('.');
        return this.#scenario.attributes?.[path] ?? path;
      }
      case 'Fn::If':
        return this.value(this.condition(String(list[0])) ? list[1] : list[2]);
      case 'Fn::Join': {
        const items = this.value(list[1]);
        if (!Array.isArray(items)) throw new EvaluationError('Fn::Join needs a list');
        return items.map((i) => String(i)).join(String(list[0]));
      }
      case 'Fn::Select': {
        const items = this.value(list[1]);
        if (!Array.isArray(items)) throw new EvaluationError('Fn::Select needs a list');
        return items[Number(this.value(list[0]))] ?? NO_VALUE;
      }
      case 'Fn::Split':
        return this.#string(list[1] ?? '').split(String(list[0]));
      case 'Fn::FindInMap': {
        const [map, top, second] = list.map((x) => this.#string(x));
        const found = (
          this.#template.Mappings?.[map as string] as
            | Record<string, Record<string, CfnValue>>
            | undefined
        )?.[top as string]?.[second as string];
        if (found === undefined) throw new EvaluationError(`no mapping ${map}.${top}.${second}`);
        return this.value(found);
      }
      case 'Fn::Sub': {
        const [text, vars] = Array.isArray(arg) ? [arg[0], arg[1]] : [arg, undefined];
        return String(text).replace(/\$\{([^}!]+)\}/g, (_, key: string) => {
          if (isObject(vars) && key in vars) return this.#string(vars[key] as CfnValue);
          const dot = key.indexOf('.');
          if (dot > 0 && this.#template.Resources[key.slice(0, dot)] !== undefined) {
            return this.#string({ 'Fn::GetAtt': [key.slice(0, dot), key.slice(dot + 1)] });
          }
          return this.#string({ Ref: key });
        });
      }
      case 'Condition':
        return this.condition(String(arg));
      default:
        throw new EvaluationError(`unsupported function ${name}`);
    }
  }
}
