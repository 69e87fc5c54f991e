// eval.runner: the eval command wrapped for a scheduler (srun, sbatch --wait, sky exec, kubectl
// run, ...). Pure: it checks a template, renders the command line, writes the small wrapper that
// runs inside the job and prints a marker line when the job starts and when the eval ends, and
// reads those markers back to tell the runner's own failures (no end marker) from the eval's.
// It runs nothing (evaluator.ts does) and knows no scheduler: the job id is read from whichever
// scheduler's variable is set inside the job.
import { randomBytes } from "node:crypto";
import { constants } from "node:os";
import { EVAL_RUNNER_DEFAULTS } from "../experiment/defaults.ts";
import { shellQuote } from "../text/shell-quote.ts";

/**
 * The placeholders a runner template may use. {command}: the wrapped eval as words
 * (`bash -c '<wrapper>'`), for runners that run a program with its arguments (srun, kubectl run
 * -- ...). {quoted_command}: the same quoted once more into one word, for runners that take one
 * shell command line (sbatch --wrap=, sky exec, ssh).
 */
export const RUNNER_PLACEHOLDERS = ["command", "quoted_command", "name", "round", "iteration", "run", "cpus"] as const;
type Placeholder = typeof RUNNER_PLACEHOLDERS[number];

// `{word}` not preceded by `$`: bash's own `${VAR}` stays as it is.
const PLACEHOLDER = /(?<!\$)\{([A-Za-z_]\w*)\}/g;
const MARKER_PREFIX = "autoresearch-runner";
/** Seconds to wait before a new attempt, times the attempt's number: a busy queue gets a moment. */
export const RUNNER_RETRY_BACKOFF_S = 2;
/**
 * Messages schedulers' clients print about a job (`srun: error: vm: task 0: Terminated`,
 * `slurmstepd-vm: error: *** STEP 14.0 ON vm CANCELLED ***`): srun prints its own before the
 * job's last output reaches it, so these are told by their prefix, not only by their place.
 */
const RUNNER_MESSAGE = /^(?:srun|sbatch|salloc|slurmstepd(?:-[\w.-]+)?|sky|kubectl):\s/;
/** Runner lines kept for a failure's reason. */
const RUNNER_TAIL_LINES = 5;

/**
 * What is wrong with a runner template, in words, or null.
 * runnerTemplateProblem("srun {cmd}") -> "has an unknown placeholder {cmd} (known: {command}, ...)"
 */
export function runnerTemplateProblem(template: string): string | null {
  const names = [...template.matchAll(PLACEHOLDER)].map((match) => match[1]);
  const unknown = names.find((name) => !(RUNNER_PLACEHOLDERS as readonly string[]).includes(name));
  const known = RUNNER_PLACEHOLDERS.map((name) => `{${name}}`).join(", ");
  if (unknown !== undefined) return `has an unknown placeholder {${unknown}} (known: ${known})`;
  if (!names.includes("command") && !names.includes("quoted_command")) {
    return "must contain {command} (or {quoted_command}) where the eval goes, e.g. srun --ntasks=1 {command}";
  }
  return null;
}

/** The job one eval run is: what the template's other placeholders become. */
export type RunnerJob = {
  name: string;
  round: number;
  /** The iteration's number, or "baseline" for the baseline's runs. */
  iteration: number | "baseline";
  /** The run's label, as in its log's name: run1, probe, candidate2, incumbent1, holdout1. */
  run: string;
  cpus: number;
};

export type EvalRunner = {
  template: string;
  /** New attempts after a runner failure. */
  retries: number;
  job: RunnerJob;
  /** Told about each retry; the per-run log says it too. */
  notes?: (message: string) => void;
  /** The caller's status line, cleared before a note so the two do not share a line. */
  status?: { clear(): void };
};

type RunnerSettings = { runner?: string | null; runner_retries?: number; cpus?: number; concurrency?: number };

/** The runner one run of a round's eval goes through, or null when the round has none (the eval runs here). */
export function evalRunner(
  name: string,
  round: { round: number; eval: RunnerSettings },
  job: {
    iteration: number | "baseline";
    run: string;
    notes?: (message: string) => void;
    status?: { clear(): void };
  },
): EvalRunner | null {
  const template = round.eval.runner ?? EVAL_RUNNER_DEFAULTS.runner;
  if (template === null) return null;
  return {
    template,
    retries: round.eval.runner_retries ?? EVAL_RUNNER_DEFAULTS.runner_retries,
    job: {
      name,
      round: round.round,
      iteration: job.iteration,
      run: job.run,
      cpus: round.eval.cpus ?? EVAL_RUNNER_DEFAULTS.cpus,
    },
    notes: job.notes,
    status: job.status,
  };
}

/** The runner keys a round's eval sets, for a new round that should run its eval the same way. */
export function runnerSettings(roundEval: RunnerSettings): RunnerSettings {
  return Object.fromEntries(
    (["runner", "runner_retries", "cpus", "concurrency"] as const).filter((key) => roundEval[key] !== undefined).map((
      key,
    ) => [key, roundEval[key]]),
  );
}

/** A marker no eval prints by chance: one per attempt, so a line left from another run cannot match. */
export function newRunnerMarker(): string {
  return `${MARKER_PREFIX} ${randomBytes(4).toString("hex")}:`;
}

/**
 * The script that runs inside the job: a start marker (with the job id and host) on both
 * streams, the caller's environment exported (a runner may not pass it on), the eval command in
 * a subshell (its `exit` and `cd` stay there), then an end marker with the eval's exit status.
 * Both streams carry both markers so that, on each, what the runner printed itself (before the
 * start, after the end) is told from the eval's output.
 */
export function runnerWrapper(command: string, marker: string, env: Record<string, string>): string {
  const jobId = "${SLURM_JOB_ID:-${SKYPILOT_TASK_ID:-${PBS_JOBID:-${LSB_JOBID:-${JOB_ID:-}}}}}";
  const say = (what: string, value: string) => [
    `printf '${what}\\n' "$m" "${value}" "$j"`,
    `printf '${what}\\n' "$m" "${value}" "$j" >&2`,
  ];
  return [
    `m=${shellQuote(marker)} j="${jobId}"`,
    ...say("%s start host=%s job=%s", "${HOSTNAME:-}"),
    ...Object.entries(env).map(([key, value]) => `export ${key}=${shellQuote(value)}`),
    "(",
    command,
    ")",
    "s=$?",
    // The newline ends a last output line that had none, so the marker starts its own line.
    ...say("\\n%s end status=%s job=%s", "$s"),
    'exit "$s"',
  ].join("\n");
}

/** The command line to run: the template with its placeholders filled in; {command} runs `script`. */
export function runnerCommand(template: string, script: string, job: RunnerJob): string {
  const command = `bash -c ${shellQuote(script)}`;
  const values: Record<Placeholder, string> = {
    command,
    quoted_command: shellQuote(command),
    name: job.name,
    round: String(job.round),
    iteration: String(job.iteration),
    run: job.run,
    cpus: String(job.cpus),
  };
  return template.replace(PLACEHOLDER, (whole, name: string) => values[name as Placeholder] ?? whole);
}

export type LineRole = "eval" | "runner" | "marker";

export type RunnerReport = {
  /** The job started: its start marker was seen. */
  started: boolean;
  /** The eval's exit status from the end marker; null: the eval never reported its end. */
  evalStatus: number | null;
  jobId: string | null;
  host: string | null;
  /** The last lines the runner printed itself (stderr first), newest last. */
  runnerLines: string[];
};

/**
 * Reads one attempt's output line by line: each line is the eval's (between the markers), the
 * runner's own (before the start or after the end, per stream) or a marker.
 */
export function createRunnerTracker(marker: string) {
  const phase = { stdout: "before", stderr: "before" } as Record<"stdout" | "stderr", "before" | "inside" | "after">;
  const report: RunnerReport = { started: false, evalStatus: null, jobId: null, host: null, runnerLines: [] };
  const runnerLines = { stdout: [] as string[], stderr: [] as string[] };
  return {
    role(stream: "stdout" | "stderr", line: string): LineRole {
      if (line.startsWith(marker)) {
        const fields = Object.fromEntries(
          [...line.slice(marker.length).matchAll(/(\w+)=(\S*)/g)].map((match) => [match[1], match[2]]),
        );
        if (fields.job) report.jobId = fields.job;
        if (/^\s*start\b/.test(line.slice(marker.length))) {
          report.started = true;
          if (fields.host) report.host = fields.host;
          if (phase[stream] === "before") phase[stream] = "inside";
        } else if (/^\s*end\b/.test(line.slice(marker.length)) && /^\d+$/.test(fields.status ?? "")) {
          report.evalStatus = Number(fields.status);
          phase[stream] = "after";
        }
        return "marker";
      }
      if (phase[stream] === "inside" && !RUNNER_MESSAGE.test(line)) return "eval";
      if (line.trim() !== "") {
        runnerLines[stream].push(line.trim());
        if (runnerLines[stream].length > RUNNER_TAIL_LINES) runnerLines[stream].shift();
      }
      return "runner";
    },
    finish(): RunnerReport {
      return { ...report, runnerLines: [...runnerLines.stdout, ...runnerLines.stderr] };
    },
  };
}

/**
 * How the eval ended, from the status its wrapper reported: above 128 is bash's way of saying a
 * signal stopped it, told as the signal, as when the eval runs here. evalEnd(137) -> SIGKILL.
 */
export function evalEnd(status: number): { exitCode: number | null; signal: string | null } {
  const signal = status > 128
    ? Object.entries(constants.signals).find(([, number]) => number === status - 128)?.[0]
    : undefined;
  return signal === undefined ? { exitCode: status, signal: null } : { exitCode: null, signal };
}

/** What went wrong with the runner in one attempt, in words: "job 12 ended before the eval did (exit 143: "...")". */
export function runnerFailure(report: RunnerReport, exitCode: number | null, signal: string | null): string {
  const how = signal ? `stopped by ${signal}` : `exit ${exitCode}`;
  const last = report.runnerLines.at(-1);
  const said = last === undefined ? "" : `: "${last.length > 240 ? `${last.slice(0, 239)}…` : last}"`;
  if (!report.started) return `the job did not start (${how}${said})`;
  const job = report.jobId ? `job ${report.jobId}` : "the job";
  return `${job} ended before the eval did (${how}${said})`;
}

/** A runner failure no retry can mend: the runner's own command is not installed here. */
export function runnerNotFound(report: RunnerReport, exitCode: number | null): boolean {
  return !report.started && exitCode === 127;
}
