// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation ${...} placeholders, not template literals
import type { CfnTemplate, CfnValue } from './template.js';

/** What kind of policy document a statement comes from. */
export type PolicyKind = 'identity' | 'trust' | 'resource';

/** One policy statement found in a template, with where it came from. */
export interface FoundStatement {
  /** Logical id of the resource holding the document. */
  readonly resourceId: string;
  /** The resource's type (`AWS::IAM::Role`, `AWS::SQS::QueuePolicy`, ...). */
  readonly resourceType: string;
  /** Identity (what a role/user may do), trust (who may assume a role) or resource policy. */
  readonly kind: PolicyKind;
  /** Inline policy name, when the document is one of `Policies`. */
  readonly policyName?: string;
  /** `Sid`, or `#<index>` when the statement has none. */
  readonly sid: string;
  readonly effect: 'Allow' | 'Deny';
  /** The actions, each rendered (intrinsics as `${...}`). */
  readonly actions: readonly string[];
  /** Every resource alternative, rendered (both branches of an `Fn::If`). */
  readonly resources: readonly string[];
  /** True when the statement uses `NotAction` or `NotResource`. */
  readonly negated: boolean;
  /** The raw statement. */
  readonly statement: Readonly<Record<string, CfnValue>>;
}

const NO_VALUE = { Ref: 'AWS::NoValue' };

function isObject(v: CfnValue | undefined): v is { [key: string]: CfnValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isNoValue(v: CfnValue | undefined): boolean {
  return isObject(v) && v.Ref === NO_VALUE.Ref && Object.keys(v).length === 1;
}

function cartesian(parts: readonly (readonly string[])[]): string[] {
  let out = [''];
  for (const alternatives of parts) {
    const next: string[] = [];
    for (const prefix of out) for (const alt of alternatives) next.push(prefix + alt);
    out = next;
  }
  return out;
}

/**
 * Every string a value can become, with intrinsics written as placeholders: `Ref X` as `${X}`,
 * `GetAtt A.B` as `${A.B}`, `Sub` with its variables substituted, `Join` joined, both branches of
 * `If` (a branch that is `AWS::NoValue` yields nothing); other functions as `<Fn::Name>`.
 *
 * @example
 * render({ 'Fn::If': ['UseKms', { Ref: 'KeyArn' }, { Ref: 'AWS::NoValue' }] }); // ['${KeyArn}']
 * render({ 'Fn::Sub': ['arn:${AWS::Partition}:s3:::${B}/*', { B: { Ref: 'Bucket' } }] });
 * // ['arn:${AWS::Partition}:s3:::${Bucket}/*']
 */
export function render(value: CfnValue | undefined): string[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return [value];
  if (typeof value === 'number' || typeof value === 'boolean') return [String(value)];
  if (Array.isArray(value)) return value.flatMap((v) => render(v));
  if (isNoValue(value)) return [];
  const [name] = Object.keys(value);
  const arg = name === undefined ? undefined : value[name];
  switch (name) {
    case 'Ref':
      return [`\${${String(arg)}}`];
    case 'Fn::GetAtt':
      return [`\${${(Array.isArray(arg) ? arg : [arg]).map(String).join('.')}}`];
    case 'Fn::If': {
      const branches = Array.isArray(arg) ? arg.slice(1) : [];
      return branches.flatMap((b) => (isNoValue(b) ? [] : render(b)));
    }
    case 'Fn::Join': {
      if (!Array.isArray(arg) || typeof arg[0] !== 'string' || !Array.isArray(arg[1])) {
        return ['<Fn::Join>'];
      }
      const sep = arg[0];
      const parts = arg[1].map((p) => render(p));
      const joined: string[][] = [];
      parts.forEach((alternatives, i) => {
        joined.push(i === 0 ? alternatives : alternatives.map((a) => sep + a));
      });
      return cartesian(joined);
    }
    case 'Fn::Sub': {
      const [text, vars] = Array.isArray(arg) ? [arg[0], arg[1]] : [arg, undefined];
      if (typeof text !== 'string') return ['<Fn::Sub>'];
      if (!isObject(vars)) return [text];
      const pieces: string[][] = [];
      let rest = text;
      const pattern = /\$\{([^}!]+)\}/;
      for (let m = pattern.exec(rest); m !== null; m = pattern.exec(rest)) {
        const key = m[1] as string;
        pieces.push([rest.slice(0, m.index)]);
        pieces.push(key in vars ? render(vars[key]) : [m[0]]);
        rest = rest.slice(m.index + m[0].length);
      }
      pieces.push([rest]);
      return cartesian(pieces);
    }
    default:
      return [`<${name}>`];
  }
}

/**
 * The items of a list that may hold `Fn::If` elements, each branch expanded (`AWS::NoValue`
 * dropped), or the single value as a one-element list.
 *
 * @example
 * expandList([{ 'Fn::If': ['C', { Sid: 'A' }, { Ref: 'AWS::NoValue' }] }]); // [{ Sid: 'A' }]
 */
export function expandList(value: CfnValue | undefined): CfnValue[] {
  if (value === undefined || value === null || isNoValue(value)) return [];
  if (Array.isArray(value)) return value.flatMap((v) => expandList(v));
  if (isObject(value) && 'Fn::If' in value && Object.keys(value).length === 1) {
    const arg = value['Fn::If'];
    return Array.isArray(arg) ? arg.slice(1).flatMap((b) => expandList(b)) : [];
  }
  return [value];
}

function statementsOf(
  document: CfnValue | undefined,
  base: Omit<FoundStatement, 'sid' | 'effect' | 'actions' | 'resources' | 'negated' | 'statement'>,
): FoundStatement[] {
  if (!isObject(document)) return [];
  return expandList(document.Statement).flatMap((raw, index) => {
    if (!isObject(raw)) return [];
    const effect = raw.Effect === 'Deny' ? 'Deny' : 'Allow';
    const actionValue = raw.Action ?? raw.NotAction;
    const resourceValue = raw.Resource ?? raw.NotResource;
    return [
      {
        ...base,
        sid: typeof raw.Sid === 'string' ? raw.Sid : `#${index}`,
        effect,
        actions: expandList(actionValue).flatMap((a) => render(a)),
        resources: expandList(resourceValue).flatMap((r) => render(r)),
        negated: 'NotAction' in raw || 'NotResource' in raw,
        statement: raw,
      } satisfies FoundStatement,
    ];
  });
}

/**
 * Every IAM policy statement in a template: inline and managed policies of roles, users and
 * groups (`identity`), role trust policies (`trust`), and queue, bucket and topic policies
 * (`resource`), with `Fn::If` branches expanded.
 *
 * @example
 * const wildcards = policyStatements(template).filter((s) => s.actions.some((a) => a.includes('*')));
 */
export function policyStatements(template: CfnTemplate): FoundStatement[] {
  const out: FoundStatement[] = [];
  for (const [resourceId, res] of Object.entries(template.Resources)) {
    const props = res.Properties ?? {};
    const base = { resourceId, resourceType: res.Type };
    switch (res.Type) {
      case 'AWS::IAM::Role':
      case 'AWS::IAM::User':
      case 'AWS::IAM::Group':
        if (res.Type === 'AWS::IAM::Role') {
          out.push(...statementsOf(props.AssumeRolePolicyDocument, { ...base, kind: 'trust' }));
        }
        for (const policy of expandList(props.Policies)) {
          if (!isObject(policy)) continue;
          out.push(
            ...statementsOf(policy.PolicyDocument, {
              ...base,
              kind: 'identity',
              policyName: String(policy.PolicyName),
            }),
          );
        }
        break;
      case 'AWS::IAM::ManagedPolicy':
      case 'AWS::IAM::Policy':
      case 'AWS::IAM::RolePolicy':
      case 'AWS::IAM::UserPolicy':
        out.push(...statementsOf(props.PolicyDocument, { ...base, kind: 'identity' }));
        break;
      case 'AWS::SQS::QueuePolicy':
      case 'AWS::SQS::QueueInlinePolicy':
      case 'AWS::S3::BucketPolicy':
      case 'AWS::SNS::TopicPolicy':
      case 'AWS::KMS::Key':
        out.push(
          ...statementsOf(props.PolicyDocument ?? props.KeyPolicy, { ...base, kind: 'resource' }),
        );
        break;
      default:
        break;
    }
  }
  return out;
}

/**
 * The ARNs of managed policies attached to roles, users and groups that are NOT defined in the
 * template (AWS managed or foreign ones: their statements cannot be checked here).
 *
 * @example
 * externalManagedPolicies(template); // [] when every attached policy is the template's own
 */
export function externalManagedPolicies(template: CfnTemplate): string[] {
  const out: string[] = [];
  for (const res of Object.values(template.Resources)) {
    if (!['AWS::IAM::Role', 'AWS::IAM::User', 'AWS::IAM::Group'].includes(res.Type)) continue;
    for (const arn of expandList(res.Properties?.ManagedPolicyArns)) {
      const isOwn =
        isObject(arn) &&
        typeof arn.Ref === 'string' &&
        template.Resources[arn.Ref]?.Type === 'AWS::IAM::ManagedPolicy';
      if (!isOwn) out.push(...render(arn));
    }
  }
  return out;
}
