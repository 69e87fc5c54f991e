// The guard metric spec and the one way every script reads it: `mrr>=0.9` (absolute) or
// `mrr>=baseline-0.02`, `latency_ms<=baseline*1.10`, `latency_ms<=baseline+10%`, `mrr>=baseline`
// (relative to the round's baseline) parsed into the experiment file's guard; a relative guard
// resolved against the baseline's guard figure into the absolute threshold the decision judges
// on (resolveGuard), and the guard written as people read it, resolved where it can be
// (describeGuard); plus the one comparison every script uses. Pure: it reads no file and
// measures nothing (baseline measures the guard figure a relative guard is resolved against).
import type { Baseline, Experiment, Guard } from "./schema.ts";
import type { GuardConfig, GuardOperator } from "../decision/options.ts";
import { cleanNumber, formatCompact } from "../text/number-format.ts";

const NUMBER = String.raw`(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?`;
const METRIC = String.raw`[A-Za-z][\w@.\-/]*`;
const OPERATOR = String.raw`>=|<=|>|<`;
const SPEC_PATTERN = new RegExp(String.raw`^\s*(${METRIC})\s*(${OPERATOR})\s*(.*?)\s*$`);
const ABSOLUTE_PATTERN = new RegExp(String.raw`^[-+]?${NUMBER}$`);
/** `baseline`, `baseline-0.02`, `baseline + 10%`, `baseline*1.10`, `baseline×1.1`. */
const RELATIVE_PATTERN = new RegExp(String.raw`^baseline(?:\s*([-+*×])\s*([-+]?${NUMBER})\s*(%?))?$`, "i");

const FORMS = 'e.g. "mrr>=0.9", "mrr>=baseline-0.02", "latency_ms<=baseline*1.10" or "latency_ms<=baseline+10%"';

/** Parse a guard spec; null when the text is not of one of the forms (guardSpecProblem says why). */
export function parseGuardSpec(text: string): Guard | null {
  const read = readGuardSpec(text);
  return "guard" in read ? read.guard : null;
}

/** Why `text` is not a guard spec, as the rest of a sentence naming it; null when it is one. */
export function guardSpecProblem(text: string): string | null {
  const read = readGuardSpec(text);
  return "problem" in read ? read.problem : null;
}

/** The guard a spec names, or why it names none (the rest of a sentence: "it <problem>"). */
export function readGuardSpec(text: string): { guard: Guard } | { problem: string } {
  const match = SPEC_PATTERN.exec(text);
  if (!match || match[3] === "") {
    return { problem: `is not METRIC OP VALUE (OP one of >= <= > <), ${FORMS}` };
  }
  const [, metric, opText, value] = match;
  const op = opText as GuardOperator; // the pattern admits only the four operators
  if (ABSOLUTE_PATTERN.test(value)) return { guard: { metric, op, threshold: Number(value) } };
  const relative = RELATIVE_PATTERN.exec(value);
  if (!relative) {
    const word = /^[A-Za-z_]\w*/.exec(value)?.[0];
    const what = word && word.toLowerCase() !== "baseline"
      ? `"${word}" is neither a number nor "baseline"`
      : `"${value}" is neither a number nor baseline followed by -N, +N, *N or ±N%`;
    return { problem: `cannot be read: ${what}; ${FORMS}` };
  }
  const [, sign, amountText, percent] = relative;
  if (sign === undefined) return { guard: { metric, op, baseline_offset: 0 } };
  const amount = Number(amountText);
  if (sign === "*" || sign === "×") {
    if (percent) return { problem: `cannot scale the baseline by a percentage; write baseline+10% or baseline*1.10` };
    if (!(amount > 0)) {
      return { problem: `scales the baseline by ${amountText}: the factor must be above 0, e.g. baseline*1.10` };
    }
    return { guard: { metric, op, baseline_factor: amount } };
  }
  const signed = sign === "-" ? -amount : amount;
  if (!percent) return { guard: { metric, op, baseline_offset: cleanNumber(signed) ?? 0 } };
  const factor = cleanNumber(1 + signed / 100) ?? 0;
  if (!(factor > 0)) {
    return {
      problem: `takes ${Math.abs(signed)}% off the baseline, leaving nothing: the percentage must be under 100`,
    };
  }
  return { guard: { metric, op, baseline_factor: factor } };
}

/** Whether the guard is stated against the round's baseline rather than as a fixed threshold. */
export function isRelativeGuard(guard: Guard): boolean {
  return guard.threshold === undefined;
}

/**
 * The baseline figure a relative guard is resolved against: the mean of the baseline's guard
 * runs (what iterate judges a candidate's guard on), else — a baseline recorded before the mean
 * was — its guard score, the median. null before a baseline or when the eval printed no guard.
 */
export function baselineGuardFigure(baseline: Baseline | null | undefined): number | null {
  if (!baseline) return null;
  return baseline.guard_mean ?? baseline.guard_score ?? null;
}

/**
 * The guard as the decision judges it: an absolute threshold, the relative forms resolved
 * against the baseline's guard figure (offset added, or factor applied) and cleaned of binary
 * noise so the same experiment file always gives the same threshold. null with no guard, and for
 * a relative guard with no baseline figure yet.
 */
export function resolveGuard(
  guard: Guard | null | undefined,
  baselineGuardScore: number | null | undefined,
): GuardConfig | null {
  if (!guard) return null;
  const { metric, op } = guard;
  if (guard.threshold !== undefined) return { metric, op, threshold: guard.threshold };
  if (baselineGuardScore === null || baselineGuardScore === undefined || !Number.isFinite(baselineGuardScore)) {
    return null;
  }
  const threshold = guard.baseline_factor !== undefined
    ? baselineGuardScore * guard.baseline_factor
    : baselineGuardScore + (guard.baseline_offset ?? 0);
  return { metric, op, threshold: cleanNumber(threshold) ?? threshold };
}

/**
 * The experiment's guard resolved against one round's baseline (default the current round):
 * what iterate's decision, the summary and the prompts judge a round by.
 */
export function roundGuard(experiment: Experiment, roundNumber?: number | null): GuardConfig | null {
  const wanted = roundNumber ?? experiment.current_round;
  const round = experiment.rounds.find((candidate) => candidate.round === wanted);
  return resolveGuard(experiment.guard, baselineGuardFigure(round?.baseline));
}

/** The relative part as written: "baseline", "baseline-0.02", "baseline×1.10"; null for an absolute guard. */
function relativeText(guard: Guard, times: string): string | null {
  if (guard.baseline_factor !== undefined) return `baseline${times}${factorText(guard.baseline_factor)}`;
  if (guard.baseline_offset === undefined) return null;
  if (guard.baseline_offset === 0) return "baseline";
  return `baseline${guard.baseline_offset < 0 ? "-" : "+"}${Math.abs(guard.baseline_offset)}`;
}

/** A factor with at least two decimals, as people write one: 1.1 -> "1.10", 0.95 -> "0.95", 1.125 -> "1.125". */
function factorText(factor: number): string {
  const text = String(factor);
  const decimals = text.split(".")[1]?.length ?? 0;
  return decimals >= 2 || text.includes("e") ? text : factor.toFixed(2);
}

/**
 * The spec as the user writes it, parseable again: "mrr>=0.9", "mrr>=baseline-0.02",
 * "latency_ms<=baseline*1.10". What the journal's config header keeps as `guard_spec`.
 */
export function guardSpecText(guard: Guard): string {
  return `${guard.metric}${guard.op}${relativeText(guard, "*") ?? String(guard.threshold)}`;
}

/**
 * Where a relative guard's threshold comes from, for showing next to it: "baseline 8.00 ×1.10",
 * "baseline 0.80 -0.02"; before a baseline "baseline×1.10"; null for an absolute guard.
 */
export function guardBasis(guard: Guard, baselineGuardScore: number | null | undefined): string | null {
  const relative = relativeText(guard, "×");
  if (relative === null) return null;
  if (!resolveGuard(guard, baselineGuardScore)) return relative;
  const how = relative.slice("baseline".length);
  return `baseline ${formatCompact(baselineGuardScore ?? null)}${how ? ` ${how}` : ""}`;
}

/**
 * The guard as every script shows it: "mrr>=0.9"; a relative guard resolved once there is a
 * baseline, "latency_ms<=8.80 (baseline 8.00 ×1.10)", "mrr>=0.78 (baseline 0.80 -0.02)", and
 * before one "latency_ms<=baseline×1.10".
 */
export function describeGuard(guard: Guard, baselineGuardScore: number | null | undefined): string {
  return `${guard.metric}${guard.op}${describeThreshold(guard, baselineGuardScore)}`;
}

/** describeGuard's part after the operator: "0.9", "8.80 (baseline 8.00 ×1.10)", "baseline×1.10". */
export function describeThreshold(guard: Guard, baselineGuardScore: number | null | undefined): string {
  const basis = guardBasis(guard, baselineGuardScore);
  if (basis === null) return String(guard.threshold);
  const resolved = resolveGuard(guard, baselineGuardScore);
  return resolved ? `${formatCompact(resolved.threshold)} (${basis})` : basis;
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
