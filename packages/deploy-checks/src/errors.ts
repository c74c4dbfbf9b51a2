import { ConnectWfmError, type ConnectWfmErrorOptions } from '@connect-wfm/core';

/** Codes of {@link DeployCheckError}. */
export type DeployCheckErrorCode = 'INVALID_TEMPLATE' | 'EVALUATION_FAILED';

/**
 * The base of this package's errors (core's `ConnectWfmError`; never retryable: a template or a
 * scenario must change).
 *
 * @example
 * try { loadTemplate('deploy/rta-feed.yaml'); } catch (e) { if (e instanceof DeployCheckError) console.error(e.code); }
 */
export class DeployCheckError extends ConnectWfmError<DeployCheckErrorCode> {}

/**
 * A template that is not YAML CloudFormation accepts (syntax, unknown tags, anchors, aliases).
 *
 * @example
 * expect(() => parseTemplate('Resources: [', 'x.yaml')).toThrow(TemplateParseError);
 */
export class TemplateParseError extends DeployCheckError {
  constructor(message: string, options?: ConnectWfmErrorOptions) {
    super('INVALID_TEMPLATE', message, options);
  }
}

/**
 * A value {@link TemplateEvaluator} cannot evaluate (a parameter without a value, an unknown
 * condition or function).
 *
 * @example
 * expect(() => new TemplateEvaluator(t).parameter('SftpHost')).toThrow(EvaluationError);
 */
export class EvaluationError extends DeployCheckError {
  constructor(message: string, options?: ConnectWfmErrorOptions) {
    super('EVALUATION_FAILED', message, options);
  }
}
