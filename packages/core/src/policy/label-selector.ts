// Kubernetes label selectors (matchLabels + matchExpressions), as Server.spec.podSelector,
// externalWorkloadSelector and ServerAuthorization.spec.server.selector use them. An empty selector
// selects everything.
import { invalidPolicy } from './policy-error.js';

export type LabelSelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';

export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: LabelSelectorOperator;
  readonly values: readonly string[];
}

export interface LabelSelector {
  readonly matchLabels: Readonly<Record<string, string>>;
  readonly matchExpressions: readonly LabelSelectorRequirement[];
}

export const EMPTY_LABEL_SELECTOR: LabelSelector = Object.freeze({ matchLabels: {}, matchExpressions: [] });

const OPERATORS: ReadonlySet<string> = new Set(['In', 'NotIn', 'Exists', 'DoesNotExist']);

export function parseLabelSelector(value: unknown, where: string): LabelSelector {
  if (value === undefined || value === null) return EMPTY_LABEL_SELECTOR;
  if (typeof value !== 'object' || Array.isArray(value))
    throw invalidPolicy(where, 'must be a label selector object');
  const raw = value as Record<string, unknown>;
  const matchLabels: Record<string, string> = {};
  if (raw.matchLabels !== undefined && raw.matchLabels !== null) {
    if (typeof raw.matchLabels !== 'object' || Array.isArray(raw.matchLabels)) {
      throw invalidPolicy(`${where}.matchLabels`, 'must be a map of label names to values');
    }
    for (const [k, v] of Object.entries(raw.matchLabels as Record<string, unknown>)) {
      if (typeof v !== 'string')
        throw invalidPolicy(`${where}.matchLabels.${k}`, 'label value must be a string');
      matchLabels[k] = v;
    }
  }
  const matchExpressions: LabelSelectorRequirement[] = [];
  if (raw.matchExpressions !== undefined && raw.matchExpressions !== null) {
    if (!Array.isArray(raw.matchExpressions))
      throw invalidPolicy(`${where}.matchExpressions`, 'must be a list');
    for (const [i, expr] of (raw.matchExpressions as unknown[]).entries()) {
      const at = `${where}.matchExpressions[${i}]`;
      const e = (expr ?? {}) as Record<string, unknown>;
      if (typeof e.key !== 'string' || e.key === '') throw invalidPolicy(`${at}.key`, 'is required');
      if (typeof e.operator !== 'string' || !OPERATORS.has(e.operator)) {
        throw invalidPolicy(
          `${at}.operator`,
          `"${String(e.operator)}" is not an operator`,
          'use In, NotIn, Exists or DoesNotExist',
        );
      }
      const values = e.values === undefined || e.values === null ? [] : e.values;
      if (!Array.isArray(values) || values.some((v) => typeof v !== 'string')) {
        throw invalidPolicy(`${at}.values`, 'must be a list of strings');
      }
      const operator = e.operator as LabelSelectorOperator;
      if ((operator === 'In' || operator === 'NotIn') && values.length === 0) {
        throw invalidPolicy(`${at}.values`, `operator ${operator} needs at least one value`);
      }
      matchExpressions.push({ key: e.key, operator, values: values as string[] });
    }
  }
  return { matchLabels, matchExpressions };
}

export function labelSelectorMatches(
  selector: LabelSelector,
  labels: Readonly<Record<string, string>>,
): boolean {
  for (const key in selector.matchLabels) {
    if (labels[key] !== selector.matchLabels[key]) return false;
  }
  for (const req of selector.matchExpressions) {
    const has = Object.prototype.hasOwnProperty.call(labels, req.key);
    const value = labels[req.key];
    switch (req.operator) {
      case 'In':
        if (!has || !req.values.includes(value as string)) return false;
        break;
      case 'NotIn':
        if (has && req.values.includes(value as string)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
    }
  }
  return true;
}
