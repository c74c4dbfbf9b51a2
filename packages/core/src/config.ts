/**
 * One shape for configuration problems, whatever package or app found them: every problem at
 * once, each with the path of the setting it concerns.
 */

/** One problem with a configuration or options object. */
export interface ConfigProblem {
  /** Dotted path of the setting (`retry.maxAttempts`, `agents[3].name`); `''` for the whole object. */
  readonly path: string;
  /** What is wrong with it, in words an operator can act on. */
  readonly message: string;
}

/** The part of a zod error (or any validator's) that {@link configProblemsFrom} reads. */
export interface IssueListLike {
  readonly issues: readonly { readonly path: readonly PropertyKey[]; readonly message: string }[];
}

/**
 * Dotted path of an issue: keys joined by `.`, array indexes as `[n]`.
 *
 * @example
 * formatPath(['agents', 3, 'name']); // 'agents[3].name'
 */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

/**
 * Every problem of a validation error, in order.
 *
 * @example
 * const parsed = schema.safeParse(input);
 * if (!parsed.success) throw new MyOptionsError(configProblemsFrom(parsed.error));
 */
export function configProblemsFrom(error: IssueListLike): ConfigProblem[] {
  return error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message }));
}

/**
 * The problems as one line: `path: message; path: message`.
 *
 * @example
 * formatConfigProblems([{ path: 'port', message: 'must be a number' }]); // 'port: must be a number'
 */
export function formatConfigProblems(problems: readonly ConfigProblem[]): string {
  return problems.map((p) => (p.path === '' ? p.message : `${p.path}: ${p.message}`)).join('; ');
}
