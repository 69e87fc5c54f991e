# AUTORESEARCH_TEST_DATA, when set, names another file of the same format to score instead (the harness sets it).
TEST_DATA = Path(os.environ["AUTORESEARCH_TEST_DATA"]) if os.environ.get("AUTORESEARCH_TEST_DATA") else ROOT / {{test_data}}
CACHE_DIR = ROOT / ".autoresearch_cache"  # input-keyed cache of expensive calls; never committed
MODULE = {{module}}  # the module holding the entry, as Python imports it
ENTRY = {{entry}}  # the function (or Class.method) the eval calls; its signature is frozen
OWNER = {{owner}}  # for a method: its class, how it is bound, and the constructor parameters "setup" fills
SHAPE = {{shape}}  # what the entry returns: ranked_list, scores, label, number, object or unknown
ADAPTER = {{adapter}}  # how the output becomes what metrics compare (see adapt())
PRIMARY_METRIC = {{metric}}
FORMULA = {{formula}}  # [(weight, metric), ...] for a composite SCORE, else None
GUARD_METRIC = {{guard_metric}}
EXTRA_METRICS = {{extra_metrics}}  # printed for context; not part of SCORE
LATENCY_REPEATS = 5  # calls per case when timing; the median is kept
BOOTSTRAP_TOP = 3  # results copied as "expected" per case by --bootstrap (rankings; scored above the lowest score)
PLACEHOLDER = "TODO:"
TIMING_METRICS = ("latency", "latency_ms", "time_ms", "duration_ms", "latency_s", "time_s", "duration_s", "seconds")


# ---- Input-keyed cache for expensive calls ---------------------------------------------------
# Embeddings, LLM calls and HTTP requests make every eval slow and noisy. Intercept them with
# unittest.mock.patch and answer from a cache KEYED ON THE CALL'S INPUT (its arguments):
#   - never key on the output, on a timestamp, or on the code under test: the code under test
#     is what the experiment changes, and its effect must reach the score;
#   - a cache that masks changes is worse than none: if the code under test changes what the
#     cached call returns for the same input (a different model, prompt template or index),
#     delete that namespace's folder under .autoresearch_cache/ once, on purpose;
#   - never cache the entry function or anything the experiment tunes.
# The cache folder is excluded from git; the agent must not delete it.
#
# List the calls to intercept as {"where.it.is.looked.up": "namespace"}. Patch the name the
# constrained file uses: for `from clients import embed` inside search/ranker.py that is
# "search.ranker.embed", not "clients.embed". For methods, patch a small wrapper function
# that keys on the real input rather than on `self`.
EXPENSIVE_CALLS = {
    # "search.ranker.embed_text": "embeddings",
    # "search.ranker.llm_complete": "llm",
}


def cache_key(*args, **kwargs):
    text = json.dumps([args, kwargs], sort_keys=True, default=repr)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def cached(namespace, function):
    """Wrap `function` so each distinct input is computed once and then read from disk."""
    folder = CACHE_DIR / namespace

    def wrapper(*args, **kwargs):
        path = folder / (cache_key(*args, **kwargs) + ".pickle")
        if path.exists():
            with path.open("rb") as handle:
                return pickle.load(handle)
        value = function(*args, **kwargs)
        folder.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name("%s.%d.tmp" % (path.name, os.getpid()))
        with temporary.open("wb") as handle:
            pickle.dump(value, handle)
        os.replace(temporary, path)  # atomic: a killed eval never leaves half an entry
        return value

    return wrapper


def intercept_expensive_calls(stack):
    for target, namespace in EXPENSIVE_CALLS.items():
        original = pkgutil.resolve_name(target)
        stack.enter_context(mock.patch(target, new=cached(namespace, original)))


# ---- Calling the entry ---------------------------------------------------------------------

class Entry:
    """The entry function, or the method of an instance built once per distinct "setup"."""

    def __init__(self):
        module = importlib.import_module(MODULE)
        owner_path, _, self.method_name = ENTRY.rpartition(".")
        self.owner = None
        self.function = None
        if owner_path:
            self.owner = module
            for part in owner_path.split("."):
                self.owner = getattr(self.owner, part)
        else:
            self.function = getattr(module, self.method_name)
        self.instances = {}  # canonical JSON of a setup -> the instance built from it

    def binding(self):
        if self.function is not None:
            return None
        if OWNER:
            return OWNER["binding"]
        if not inspect.isclass(self.owner):
            return "static"  # a module-level object: call its method as it is
        found = inspect.getattr_static(self.owner, self.method_name, None)
        return "static" if isinstance(found, staticmethod) else "class" if isinstance(found, classmethod) else "instance"

    def missing_setup(self, setup):
        """Required constructor parameters this setup lacks (none unless the entry needs an instance)."""
        if self.binding() != "instance" or not OWNER:
            return []
        return [name for name in OWNER.get("required", []) if name not in setup]

    def for_setup(self, setup):
        if self.function is not None:
            return self.function
        if self.binding() != "instance":
            return getattr(self.owner, self.method_name)
        key = json.dumps(setup, sort_keys=True, default=repr)
        if key not in self.instances:
            self.instances[key] = self.owner(**constructor_arguments(self.owner, setup))
        return getattr(self.instances[key], self.method_name)


def constructor_arguments(owner, setup):
    """setup as keyword arguments; "ids" names the items of a score list, so it is kept only when the constructor takes it."""
    arguments = dict(setup)
    if "ids" in arguments and not accepts_keyword(owner, "ids"):
        del arguments["ids"]
    return arguments


def accepts_keyword(function, name):
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return True
    return name in parameters or any(parameter.kind == parameter.VAR_KEYWORD for parameter in parameters.values())


def case_setup(document, case):
    """The document's shared "setup", with the keys a case's own "setup" overrides."""
    shared = document.get("setup") if isinstance(document, dict) else None
    own = case.get("setup")
    return {**(shared if isinstance(shared, dict) else {}), **(own if isinstance(own, dict) else {})}


def call_entry(entry, arguments):
    """The entry's result, with a coroutine awaited and a generator's items collected (an async one's awaited)."""
    result = entry(**arguments)
    if inspect.isawaitable(result):
        result = asyncio.run(result)
    if inspect.isasyncgen(result):
        result = asyncio.run(collect_async(result))
    if inspect.isgenerator(result):
        result = list(result)
    return result


async def collect_async(generator):
    return [item async for item in generator]


# ---- Reading the output --------------------------------------------------------------------

ID_KEYS = ("id", "pk", "slug", "key", "name", "title")
POSITION_KEYS = ("refIndex", "index")


def item_id(item):
    """The id of one returned item, compared with the ids in "expected" (as text)."""
    if isinstance(item, dict):
        for key in ID_KEYS:
            if key in item:
                return str(item[key])
        nested = item.get("item")
        if isinstance(nested, str) or (isinstance(nested, dict) and any(key in nested for key in ID_KEYS)):
            return item_id(nested)  # {"item": {...}, "refIndex": 3, "score": 0.1}
        for key in POSITION_KEYS:
            if key in item:
                return str(item[key])
    elif not isinstance(item, (str, bytes, int, float, bool, tuple, list)):
        for key in ID_KEYS:
            if hasattr(item, key) and not callable(getattr(item, key)):
                return str(getattr(item, key))
    if isinstance(item, (tuple, list)) and item:
        return str(item[0])  # (id, score) pairs
    return str(item)


def read_field(value, path):
    """The field at a dot path ("hits", "items.0.id", "result.label") of a record, list or object."""
    for part in path.split("."):
        if isinstance(value, dict):
            if part not in value:
                raise KeyError('the output has no field "%s" (of "%s"); its fields: %s' % (part, path, ", ".join(map(str, value))))
            value = value[part]
        elif isinstance(value, (list, tuple)) and part.lstrip("-").isdigit():
            index = int(part)
            value = value[index] if -len(value) <= index < len(value) else None  # an empty result has no first item
        elif value is not None and hasattr(value, part):
            value = getattr(value, part)
        else:
            raise KeyError('the output has no field "%s" (of "%s"): it is %s' % (part, path, type(value).__name__))
    return value


def is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def looks_like_scores(value):
    """A record of numbers, or numbers with a fraction: one score per item rather than ids."""
    if isinstance(value, dict):
        return bool(value) and all(is_number(item) for item in value.values())
    if isinstance(value, (str, bytes)) or value is None or not hasattr(value, "__iter__"):
        return False
    items = list(value)
    return bool(items) and all(is_number(item) for item in items) and any(float(item) != int(item) for item in items if math.isfinite(item))


def scored_items(value, names):
    """(item id, score) pairs sorted by score, highest first; ties keep list order and NaN comes last."""
    if isinstance(value, dict):
        pairs = [(str(key), score) for key, score in value.items()]
    else:
        scores = [] if value is None else list(value)
        if isinstance(names, list):
            if len(names) != len(scores):
                raise ValueError('setup "ids" names %d items but the entry returned %d scores' % (len(names), len(scores)))
            pairs = [(str(name), score) for name, score in zip(names, scores)]
        else:
            pairs = [(str(position), score) for position, score in enumerate(scores)]
    pairs = [(name, float(score) if float(score) == float(score) else -math.inf) for name, score in pairs]
    return sorted(pairs, key=lambda pair: -pair[1])


def ranking_from_scores(value, names):
    return [name for name, _ in scored_items(value, names)]


def ranked_ids(value):
    if value is None:
        return []
    if isinstance(value, (str, bytes, dict)) or is_number(value) or not hasattr(value, "__iter__"):
        return [item_id(value)]  # one answer: a one-item ranking
    return [item_id(item) for item in list(value)]


def field_value(output):
    return read_field(output, ADAPTER["field"]) if ADAPTER.get("field") else output


def read_kind(value):
    """ADAPTER's read, with "auto" settled by what the value looks like."""
    if ADAPTER["read"] == "auto":
        return "scores" if looks_like_scores(value) else "ids"
    return ADAPTER["read"]


def adapt(output, setup):
    """What the metrics compare: the output field (when ADAPTER names one), read as ADAPTER says."""
    value = field_value(output)
    read = read_kind(value)
    if read == "scores":
        return ranking_from_scores(value, setup.get("ids"))
    if read == "ids":
        return ranked_ids(value)
    return value


def bootstrap_expected(output, setup):
    """What --bootstrap proposes as "expected": the top results, only items scored above the lowest score."""
    value = field_value(output)
    read = read_kind(value)
    if read == "scores":
        pairs = scored_items(value, setup.get("ids"))
        floor = min((score for _, score in pairs), default=0.0)
        above = [name for name, score in pairs if score > floor]
        return (above or [name for name, _ in pairs])[:BOOTSTRAP_TOP]
    if read == "ids":
        return ranked_ids(value)[:BOOTSTRAP_TOP]
    return normalise(value)


def normalise(value):
    return json.loads(json.dumps(value, sort_keys=True, default=str))


# ---- Metrics ---------------------------------------------------------------------------------

class NoMetricRule(Exception):
    """A metric the experiment asks for but no rule computes: a setup problem, not a crash of the code."""


def cut_off(name, default=10):
    """k from "precision@12"; `default` when the name has no @k."""
    _, _, k = name.partition("@")
    return int(k) if k.isdigit() else default


def metric_for_case(name, output, expected, seconds):
    """One metric for one case; None when this case has nothing to measure (expected is null)."""
    key = name.lower()
    if key in TIMING_METRICS:
        return seconds if key in ("latency_s", "time_s", "duration_s", "seconds") else seconds * 1000.0
    if expected is None:
        return None
    if key in ("accuracy", "pass_rate", "exact_match", "pass"):
        if is_number(output) and is_number(expected):
            return 1.0 if math.isclose(output, expected, rel_tol=1e-6, abs_tol=1e-9) else 0.0
        return 1.0 if normalise(output) == normalise(expected) else 0.0
    if key in ("abs_error", "mean_abs_error", "mae"):
        return abs(float(output) - float(expected))
    if key.split("@")[0] in ("precision", "recall", "hit_rate", "hitrate", "hit", "mrr"):
        ranked = ranked_ids(output)
        relevant = {str(item) for item in (expected if isinstance(expected, list) else [expected])}
        k = cut_off(key, default=len(ranked) or 1)
        hits = sum(1 for item in ranked[:k] if item in relevant)
        kind = key.split("@")[0]
        if kind == "precision":
            # Divided by min(k, relevant) so a perfect ranking scores 1.0 even with few relevant ids.
            return hits / max(1, min(k, len(relevant)))
        if kind == "recall":
            return hits / max(1, len(relevant))
        if kind in ("hit_rate", "hitrate", "hit"):
            return 1.0 if hits > 0 else 0.0
        for position, item in enumerate(ranked[:k], start=1):
            if item in relevant:
                return 1.0 / position
        return 0.0
    raise NoMetricRule('No rule computes the metric "%s"; add one to metric_for_case() in %s' % (name, Path(__file__).name))


def score_terms():
    return FORMULA if FORMULA else [(1.0, PRIMARY_METRIC)]


def needed_metrics():
    names = [metric for _, metric in score_terms()]
    for extra in [GUARD_METRIC] + list(EXTRA_METRICS):
        if extra and extra not in names:
            names.append(extra)
    return names


def mean(values):
    values = [value for value in values if value is not None]
    return sum(values) / len(values) if values else None


# ---- Test data -------------------------------------------------------------------------------

def has_placeholder(value):
    if isinstance(value, str):
        return value.lstrip().startswith(PLACEHOLDER)
    if isinstance(value, list):
        return any(has_placeholder(item) for item in value)
    if isinstance(value, dict):
        return any(has_placeholder(item) for item in value.values())
    return False


def load_test_data():
    with TEST_DATA.open(encoding="utf-8") as handle:
        document = json.load(handle)
    cases = document["cases"] if isinstance(document, dict) else document
    return document, cases


def unfinished_test_data(document, cases):
    """Where the test data still has a placeholder ("setup" or a case id), else None."""
    if isinstance(document, dict) and has_placeholder(document.get("setup")):
        return '"setup"'
    for case in cases:
        if has_placeholder(case.get("setup")) or has_placeholder(case.get("input")) or has_placeholder(case.get("expected")):
            return "case %s" % case.get("id")
    return None


def setup_problem(entry, document, cases):
    """A message when a case's setup lacks a required constructor parameter, else None."""
    for case in cases:
        missing = entry.missing_setup(case_setup(document, case))
        if missing:
            return '%s(...) needs %s: add %s to "setup" in %s (once for all cases, or in a case to override it); first case without it: %s.' % (
                OWNER["class"], ", ".join('"%s"' % name for name in missing), " and ".join('"%s"' % name for name in missing), TEST_DATA.name, case.get("id"))
    return None


# ---- The result ------------------------------------------------------------------------------
# The harness reads the last SCORE line the eval prints, and the code under test runs in this
# process. So the result goes to a copy of stdout taken before that code is imported, and then,
# when the eval is the process's own program, stdout and stderr are pointed at /dev/null: what the
# code prints afterwards (an atexit handler, a finalizer, a thread) goes nowhere, and a replaced
# sys.stdout or print never sees the result. The exit itself goes on as usual. Run any other way
# (%run in a notebook, python -i, pdb, runpy, coverage), the eval prints as any script does.
try:
    RESULT_FD = os.dup(1)
except OSError:  # no stdout to copy (closed)
    RESULT_FD = None
_write_fd, _open_fd, _redirect_fd, _close_fd = os.write, os.open, os.dup2, os.close
IN_SESSION = bool(sys.flags.interactive or sys.flags.inspect) or hasattr(sys, "ps1") or "__IPYTHON__" in dir(__import__("builtins"))


def started_as_this_script():
    """True when the command line ran this file (python3 autoresearch_eval.py), not pdb, runpy or -m."""
    original = getattr(sys, "orig_argv", None)  # Python 3.10+; runpy rewrites sys.argv[0], not this
    if original is None:
        script = None if "runpy" in sys.modules else sys.argv[0]
    else:
        words, script = iter(original[1:]), None
        for word in words:
            if word in ("-c", "-m"):
                return False
            if word in ("-W", "-X"):  # an option whose value is the next word
                next(words, None)
            elif not word.startswith("-"):
                script = word
                break
    return bool(script) and os.path.realpath(script) == os.path.realpath(__file__)


OWNS_PROCESS = __name__ == "__main__" and not IN_SESSION and sys.gettrace() is None and started_as_this_script()


def flush(*streams):
    for stream in streams:
        try:
            stream.flush()
        except Exception:  # a stream the code under test closed or replaced
            pass


def write_result(lines, owns_process=OWNS_PROCESS):
    text = "\n".join(lines) + "\n"
    if not owns_process or RESULT_FD is None:
        print(text, end="", flush=True)  # as any script prints (nothing when stdout is closed)
        return
    flush(sys.stdout, sys.__stdout__, sys.stderr, sys.__stderr__)  # what the code printed so far comes first
    # Silenced before the result is written, so a thread of the code printing meanwhile goes nowhere too.
    nowhere = _open_fd(os.devnull, os.O_WRONLY)
    for fd in (1, 2):
        _redirect_fd(nowhere, fd)
    _close_fd(nowhere)
    data = text.encode("utf-8")
    while data:
        data = data[_write_fd(RESULT_FD, data):]
    _close_fd(RESULT_FD)


# ---- The run ---------------------------------------------------------------------------------

def time_call(entry, arguments, repeats):
    timings, output = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        output = call_entry(entry, arguments)
        timings.append(time.perf_counter() - started)
    return output, statistics.median(timings)


def evaluate(verbose=False, owns_process=OWNS_PROCESS):
    document, cases = load_test_data()
    unfinished = unfinished_test_data(document, cases)
    if unfinished:
        print("The test data %s still has placeholders (first: %s); fill it in first." % (TEST_DATA.name, unfinished), file=sys.stderr)
        return 2
    names = needed_metrics()
    timing = any(name.lower() in TIMING_METRICS for name in names)
    entry = Entry()
    problem = setup_problem(entry, document, cases)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    per_case = []  # (case id, {metric: value})
    for case in cases:
        case_id = str(case.get("id", len(per_case) + 1))
        try:
            setup = case_setup(document, case)
            function = entry.for_setup(setup)  # built before timing: construction is not the call
            output, seconds = time_call(function, case.get("input") or {}, LATENCY_REPEATS if timing else 1)
            answer = adapt(output, setup)
            values = {name: metric_for_case(name, answer, case.get("expected"), seconds) for name in names}
        except NoMetricRule as error:
            print(error, file=sys.stderr)
            return 1
        except Exception as error:  # the code under test failed: this run is a crash
            print("Case %s raised %s: %s" % (case_id, type(error).__name__, error), file=sys.stderr)
            traceback.print_exc(file=sys.stderr)
            return 1
        per_case.append((case_id, values))
        if verbose:
            shown = json.dumps(normalise(answer))[:300]
            print("[%s] %s expected=%s got=%s" % (case_id, " ".join("%s=%s" % (n, "-" if v is None else "%.4f" % v) for n, v in values.items()), json.dumps(case.get("expected"))[:200], shown), file=sys.stderr)

    totals = {name: mean(values[name] for _, values in per_case) for name in names}
    missing = [metric for _, metric in score_terms() if totals.get(metric) is None]
    if missing:
        print('No case has an expected value to compute "%s"; fill "expected" in %s.' % (missing[0], TEST_DATA.name), file=sys.stderr)
        return 1
    lines = []
    for case_id, values in per_case:
        if all(values.get(metric) is not None for _, metric in score_terms()):
            lines.append("CASE %s %.6f" % (case_id.replace(" ", "_"), sum(weight * values[metric] for weight, metric in score_terms())))
    score = sum(weight * totals[metric] for weight, metric in score_terms())
    lines += ["---", "SCORE: %.6f" % score]
    lines += ["  %s: %.6f" % (name, totals[name]) for name in names if totals[name] is not None]
    lines.append("  cases: %d" % len(per_case))
    if GUARD_METRIC and totals.get(GUARD_METRIC) is not None:
        lines.append("GUARD: %.6f" % totals[GUARD_METRIC])
    write_result(lines, owns_process)
    return 0


def bootstrap():
    """Fill each placeholder (or null) "expected" with what the current code returns, for review."""
    document, cases = load_test_data()
    if isinstance(document, dict) and has_placeholder(document.get("setup")):
        print('Fill "setup" in %s first: the entry cannot be called without it.' % TEST_DATA.name, file=sys.stderr)
        return 2
    entry = Entry()
    filled = 0
    for case in cases:
        if has_placeholder(case.get("input")) or has_placeholder(case.get("setup")):
            continue
        if case.get("expected") is not None and not has_placeholder(case.get("expected")):
            continue
        setup = case_setup(document, case)
        problem = setup_problem(entry, document, [case])
        if problem:
            print(problem, file=sys.stderr)
            return 2
        case["expected"] = bootstrap_expected(call_entry(entry.for_setup(setup), case.get("input") or {}), setup)
        case["source"] = "bootstrap"
        filled += 1
    temporary = TEST_DATA.with_name(TEST_DATA.name + ".tmp")
    temporary.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(temporary, TEST_DATA)
    print("Filled %d expected output(s) in %s from the current code. Review and correct them, then delete each \"source\" field." % (filled, TEST_DATA.name), file=sys.stderr)
    return 0


def run(verbose=False, bootstrap_only=False, owns_process=OWNS_PROCESS):
    with ExitStack() as stack:
        intercept_expensive_calls(stack)
        return bootstrap() if bootstrap_only else evaluate(verbose, owns_process)
