import { readFileSync } from 'node:fs';
import {
  isAlias,
  isNode,
  type Node,
  parseDocument,
  type Tags,
  visit,
  type YAMLMap,
  type YAMLSeq,
} from 'yaml';
import { TemplateParseError } from './errors.js';

/** A JSON value as a parsed CloudFormation template holds it (intrinsics in their long form). */
export type CfnValue = string | number | boolean | null | CfnValue[] | { [key: string]: CfnValue };

/** A parsed CloudFormation template. */
export interface CfnTemplate {
  readonly AWSTemplateFormatVersion?: string;
  readonly Description?: string;
  readonly Parameters?: Record<string, CfnParameter>;
  readonly Conditions?: Record<string, CfnValue>;
  readonly Rules?: Record<string, CfnValue>;
  readonly Mappings?: Record<string, CfnValue>;
  readonly Resources: Record<string, CfnResource>;
  readonly Outputs?: Record<string, CfnOutput>;
}

/** One entry of `Parameters`. */
export interface CfnParameter {
  readonly Type: string;
  readonly Default?: string | number;
  readonly NoEcho?: boolean | string;
  readonly AllowedValues?: readonly (string | number)[];
  readonly AllowedPattern?: string;
  readonly Description?: string;
}

/** One entry of `Resources`. */
export interface CfnResource {
  readonly Type: string;
  readonly Condition?: string;
  readonly DependsOn?: string | readonly string[];
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
  readonly Metadata?: Record<string, CfnValue>;
  readonly Properties?: Record<string, CfnValue>;
}

/** One entry of `Outputs`. */
export interface CfnOutput {
  readonly Value: CfnValue;
  readonly Condition?: string;
  readonly Description?: string;
  readonly Export?: CfnValue;
}

/** Short-form intrinsic function tags and the long form each stands for. */
const FUNCTIONS: Record<string, string> = {
  '!Base64': 'Fn::Base64',
  '!Cidr': 'Fn::Cidr',
  '!FindInMap': 'Fn::FindInMap',
  '!GetAZs': 'Fn::GetAZs',
  '!ImportValue': 'Fn::ImportValue',
  '!Join': 'Fn::Join',
  '!Select': 'Fn::Select',
  '!Split': 'Fn::Split',
  '!Sub': 'Fn::Sub',
  '!Transform': 'Fn::Transform',
  '!Length': 'Fn::Length',
  '!ToJsonString': 'Fn::ToJsonString',
  '!And': 'Fn::And',
  '!Equals': 'Fn::Equals',
  '!If': 'Fn::If',
  '!Not': 'Fn::Not',
  '!Or': 'Fn::Or',
  '!Contains': 'Fn::Contains',
  '!EachMemberEquals': 'Fn::EachMemberEquals',
  '!EachMemberIn': 'Fn::EachMemberIn',
  '!RefAll': 'Fn::RefAll',
  '!ValueOf': 'Fn::ValueOf',
  '!ValueOfAll': 'Fn::ValueOfAll',
};

function toPlain(value: YAMLMap | YAMLSeq): CfnValue {
  return value.toJSON() as CfnValue;
}

/**
 * The YAML tags of CloudFormation's short-form intrinsic functions (`!Ref`, `!Sub`, `!GetAtt`,
 * `!If`, ...), each turned into its long form (`{ Ref: ... }`, `{ 'Fn::Sub': ... }`), for the
 * `yaml` package's `customTags` option.
 *
 * @example
 * import { parse } from 'yaml';
 * parse('Bucket: !Ref Name', { customTags: cloudFormationTags() }); // { Bucket: { Ref: 'Name' } }
 */
export function cloudFormationTags(): Tags {
  const tags: Tags = [
    { tag: '!Ref', resolve: (text: string) => ({ Ref: text }) },
    { tag: '!Condition', resolve: (text: string) => ({ Condition: text }) },
    {
      tag: '!GetAtt',
      resolve: (text: string) => {
        const dot = text.indexOf('.');
        return { 'Fn::GetAtt': dot < 0 ? [text] : [text.slice(0, dot), text.slice(dot + 1)] };
      },
    },
    {
      tag: '!GetAtt',
      collection: 'seq',
      resolve: (seq) => ({ 'Fn::GetAtt': toPlain(seq as YAMLSeq) }),
    },
  ];
  for (const [tag, name] of Object.entries(FUNCTIONS)) {
    tags.push({ tag, resolve: (text: string) => ({ [name]: text }) });
    tags.push({ tag, collection: 'seq', resolve: (seq) => ({ [name]: toPlain(seq as YAMLSeq) }) });
    tags.push({ tag, collection: 'map', resolve: (map) => ({ [name]: toPlain(map as YAMLMap) }) });
  }
  return tags;
}

/**
 * Parses a CloudFormation YAML template. Fails, naming the source and line, on YAML errors,
 * unknown tags, and the YAML features CloudFormation rejects (anchors, aliases, merge keys).
 *
 * @example
 * const template = parseTemplate(readFileSync('deploy/rta-feed.yaml', 'utf8'), 'deploy/rta-feed.yaml');
 * Object.keys(template.Resources); // ['AgentEventStream', ...]
 */
export function parseTemplate(text: string, source: string): CfnTemplate {
  const doc = parseDocument(text, { customTags: cloudFormationTags(), prettyErrors: true });
  const problems = [...doc.errors, ...doc.warnings].map((e) => e.message);
  visit(doc, {
    Alias(_, node) {
      problems.push(`alias *${node.source}: CloudFormation does not support YAML aliases`);
    },
    Node(_, node: Node) {
      if (isNode(node) && !isAlias(node) && node.anchor) {
        problems.push(`anchor &${node.anchor}: CloudFormation does not support YAML anchors`);
      }
    },
  });
  if (problems.length > 0) {
    throw new TemplateParseError(
      `${source} is not a valid CloudFormation template: ${problems.join('; ')}`,
    );
  }
  const value = doc.toJS({ maxAliasCount: 0 }) as unknown;
  if (typeof value !== 'object' || value === null || !('Resources' in value)) {
    throw new TemplateParseError(`${source} has no Resources section`);
  }
  return value as CfnTemplate;
}

/**
 * Reads and parses a template file.
 *
 * @example
 * const template = loadTemplate('/repo/deploy/historical-feed.yaml');
 */
export function loadTemplate(path: string): CfnTemplate {
  return parseTemplate(readFileSync(path, 'utf8'), path);
}

/**
 * The template's resources of one type, as `[logicalId, resource]` pairs.
 *
 * @example
 * resourcesOfType(template, 'AWS::IAM::Role').map(([id]) => id); // ['ReaderRole', 'TaskRole', ...]
 */
export function resourcesOfType(template: CfnTemplate, type: string): [string, CfnResource][] {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

/**
 * The resource with that logical id; throws naming it when missing.
 *
 * @example
 * resource(template, 'Queue').Type; // 'AWS::SQS::Queue'
 */
export function resource(template: CfnTemplate, logicalId: string): CfnResource {
  const found = template.Resources[logicalId];
  if (found === undefined) throw new Error(`the template has no resource ${logicalId}`);
  return found;
}
