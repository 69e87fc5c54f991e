// The guard metric spec: `mrr>=0.9` parsed into { metric, op, threshold }, and
// the one comparison every script uses. Pure.
import type { Guard } from "./experiment.ts";

const GUARD_PATTERN = /^\s*([A-Za-z][\w@.\-/]*)\s*(>=|<=|>|<)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$/;

/** Parse `mrr>=0.9`; returns null when the text is not of that form. */
export function parseGuardSpec(text: string): Guard | null {
  const match = GUARD_PATTERN.exec(text);
  if (!match) return null;
  return { metric: match[1], op: match[2] as Guard["op"], threshold: Number(match[3]) };
}

export function guardPasses(guard: Pick<Guard, "op" | "threshold">, value: number): boolean {
  switch (guard.op) {
    case ">=": return value >= guard.threshold;
    case "<=": return value <= guard.threshold;
    case ">": return value > guard.threshold;
    case "<": return value < guard.threshold;
  }
}

export function describeGuard(guard: Guard): string {
  return `${guard.metric} ${guard.op} ${guard.threshold}`;
}
