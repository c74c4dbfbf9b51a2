import { join } from 'node:path';
import { type CfnTemplate, type CfnValue, loadTemplate } from '../src/index.js';

/** The repository root. */
export const REPO = join(import.meta.dirname, '..', '..', '..');
/** deploy/ at the repository root. */
export const DEPLOY = join(REPO, 'deploy');

export const TEMPLATE_FILES = ['historical-feed.yaml', 'rta-feed.yaml'] as const;
export type TemplateFile = (typeof TEMPLATE_FILES)[number];

const cache = new Map<string, CfnTemplate>();

/** A template under deploy/, parsed once per test file. */
export function template(file: TemplateFile): CfnTemplate {
  let found = cache.get(file);
  if (found === undefined) {
    found = loadTemplate(join(DEPLOY, file));
    cache.set(file, found);
  }
  return found;
}

/** A property of a resource, or throws naming both. */
export function prop(t: CfnTemplate, logicalId: string, name: string): CfnValue {
  const res = t.Resources[logicalId];
  if (res === undefined) throw new Error(`no resource ${logicalId}`);
  const value = res.Properties?.[name];
  if (value === undefined) throw new Error(`${logicalId} has no property ${name}`);
  return value;
}
