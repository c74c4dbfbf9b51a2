export {
  DeployCheckError,
  type DeployCheckErrorCode,
  EvaluationError,
  TemplateParseError,
} from './errors.js';
export {
  type Evaluated,
  NO_VALUE,
  type Scenario,
  TemplateEvaluator,
} from './evaluate.js';
export { type CfnLintResult, findOnPath, runCfnLint } from './lint.js';
export {
  expandList,
  externalManagedPolicies,
  type FoundStatement,
  type PolicyKind,
  policyStatements,
  render,
} from './policies.js';
export {
  type CfnOutput,
  type CfnParameter,
  type CfnResource,
  type CfnTemplate,
  type CfnValue,
  cloudFormationTags,
  loadTemplate,
  parseTemplate,
  resource,
  resourcesOfType,
} from './template.js';
