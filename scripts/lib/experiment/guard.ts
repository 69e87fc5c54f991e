// The guard metric spec: `mrr>=0.9` parsed into { metric, op, threshold }, and
// the one comparison every script uses. Pure.
import type { Guard } from "./schema.ts";

const GUARD_PATTERN = /^\s*([A-Za-z][\w@.\-/]*)\s*(>=|<=|>|<)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$/;

/** Parse `mrr>=0.9`; returns null when the text is not of that form. */
export function parseGuardSpec(text: string): Guard | null {
  const match = GUARD_PATTERN.exec(text);
  if (!match) return null;
  return { metric: match[1], op: match[2] as Guard["op"], threshold: Number(match[3]) };
}

/**
 * Whether `value` satisfies the guard, e.g. passesGuard(0.95, ">=", 0.9) -> true. The one
 * comparison the decision, baseline, summary and chart share; an operator a hand-written
 * journal spells oddly reads as ">=", the common case.
 */
export function passesGuard(value: number, op: string, threshold: number): boolean {
  if (op === "<=") return value <= threshold;
  if (op === ">") return value > threshold;
  if (op === "<") return value < threshold;
  return value >= threshold;
}
