// init's questions, asked by the entry on a terminal only (never in CI, pipes, Jupyter or
// with --yes): the metric, its direction, a guard and the iteration budget, each only when
// its flag was not given, with defaults from what the inspected file returns. The answers
// are data for planInit; nothing here plans, writes or runs git.
import { CliError } from "../cli/errors.ts";
import { defaultDirectionFor } from "../harness/metric-catalog.ts";
import { DEFAULTS } from "../experiment/defaults.ts";
import {
  type Asker,
  checkDirection,
  checkIterations,
  checkMetric,
  defaultMetric,
  type InitAnswers,
  type InitInspection,
  parseGuard,
} from "./plan.ts";

/** Asks for an answer again after an invalid one, at most this many times in all. */
const MAX_ANSWER_ATTEMPTS = 3;

/** Ask what the flags left open; an invalid answer is explained through `notes` and asked again. */
export async function askInitAnswers(
  inspection: InitInspection,
  ask: Asker,
  notes: (message: string) => void,
): Promise<InitAnswers> {
  const { options } = inspection;
  const answers: InitAnswers = {};
  const until = <T>(question: string, fallback: string, check: (answer: string) => T) =>
    askUntilValid(ask, notes, { question, fallback, check });
  if (options.metric === undefined) {
    answers.metric = await until(
      "Metric to optimise (a name, or a formula such as 0.8*precision@10+0.2*mrr)",
      defaultMetric(inspection),
      checkMetric,
    );
  }
  if (options.direction === undefined) {
    answers.direction = await until(
      "Direction: max or min",
      defaultDirectionFor(options.metric ?? answers.metric!),
      checkDirection,
    );
  }
  if (options.guard === undefined) {
    answers.guard = await until(
      "Guard metric that must not regress, e.g. mrr>=0.9 or mrr>=baseline-0.02 (none for no guard)",
      "none",
      (answer) => (answer === "none" || answer === "" ? null : parseGuard(answer)),
    );
  }
  if (options.iterations === undefined) {
    answers.iterations = await until("Iteration budget", String(DEFAULTS.budget.iterations), checkIterations);
  }
  return answers;
}

/** Ask again (up to three times) when an answer is invalid; the last invalid answer is bad input. */
async function askUntilValid<T>(
  ask: Asker,
  notes: (message: string) => void,
  question: { question: string; fallback: string; check: (answer: string) => T },
): Promise<T> {
  for (let attempt = 1;; attempt++) {
    const answer = await ask(question.question, question.fallback);
    try {
      return question.check(answer);
    } catch (error) {
      if (attempt >= MAX_ANSWER_ATTEMPTS || !(error instanceof CliError)) throw error;
      notes(error.message);
    }
  }
}
