TEST_DATA = ROOT / {{test_data}}
CACHE_DIR = ROOT / ".autoresearch_cache"  # input-keyed cache of expensive calls; never committed
MODULE = {{module}}  # the constrained file, as Python imports it
ENTRY = {{entry}}  # the function the eval calls; its signature is frozen
SHAPE = {{shape}}  # what the entry returns: ranked_list, label, number or unknown
PRIMARY_METRIC = {{metric}}
FORMULA = {{formula}}  # [(weight, metric), ...] for a composite SCORE, else None
GUARD_METRIC = {{guard_metric}}
EXTRA_METRICS = {{extra_metrics}}  # printed for context; not part of SCORE
LATENCY_REPEATS = 5  # calls per case when timing; the median is kept
BOOTSTRAP_TOP = 3  # results copied as "expected" per case by --bootstrap (ranked lists)
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


# ---- Calling the constrained file ------------------------------------------------------------

def load_entry():
    module = importlib.import_module(MODULE)
    owner_name, _, function_name = ENTRY.rpartition(".")
    if owner_name:
        owner = getattr(module, owner_name)
        target = owner() if inspect.isclass(owner) else owner  # add constructor arguments here if needed
        return getattr(target, function_name)
    return getattr(module, function_name)


def call_entry(entry, arguments):
    result = entry(**arguments)
    if inspect.isawaitable(result):
        result = asyncio.run(result)
    if inspect.isgenerator(result):
        result = list(result)
    return result


def item_id(item):
    """The id of one returned item, compared with the ids in "expected" (as text)."""
    if isinstance(item, dict):
        for key in ("id", "pk", "slug", "key", "name", "title"):
            if key in item:
                return str(item[key])
    for key in ("id", "pk", "slug", "key", "name", "title"):
        if hasattr(item, key) and not callable(getattr(item, key)):
            return str(getattr(item, key))
    if isinstance(item, (tuple, list)) and item:
        return str(item[0])  # (id, score) pairs
    return str(item)


def normalise(value):
    return json.loads(json.dumps(value, sort_keys=True, default=str))


# ---- Metrics ---------------------------------------------------------------------------------

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
        if SHAPE == "number" and isinstance(expected, (int, float)) and isinstance(output, (int, float)):
            return 1.0 if math.isclose(output, expected, rel_tol=1e-6, abs_tol=1e-9) else 0.0
        return 1.0 if normalise(output) == normalise(expected) else 0.0
    if key in ("abs_error", "mean_abs_error", "mae"):
        return abs(float(output) - float(expected))
    if key.split("@")[0] in ("precision", "recall", "hit_rate", "hitrate", "hit", "mrr"):
        ranked = [item_id(item) for item in list(output or [])]
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
    raise LookupError('No rule computes the metric "%s"; add one to metric_for_case() in %s' % (name, Path(__file__).name))


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


# ---- The run ---------------------------------------------------------------------------------

def time_call(entry, arguments, repeats):
    timings, output = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        output = call_entry(entry, arguments)
        timings.append(time.perf_counter() - started)
    return output, statistics.median(timings)


def evaluate(verbose=False):
    document, cases = load_test_data()
    unfinished = [case.get("id") for case in cases if has_placeholder(case.get("input")) or has_placeholder(case.get("expected"))]
    if unfinished:
        print("The test data %s still has placeholders (first: case %s); fill it in first." % (TEST_DATA.name, unfinished[0]), file=sys.stderr)
        return 2
    names = needed_metrics()
    timing = any(name.lower() in TIMING_METRICS for name in names)
    entry = load_entry()
    per_case = []  # (case id, {metric: value})
    for case in cases:
        case_id = str(case.get("id", len(per_case) + 1))
        try:
            output, seconds = time_call(entry, case.get("input") or {}, LATENCY_REPEATS if timing else 1)
            values = {name: metric_for_case(name, output, case.get("expected"), seconds) for name in names}
        except LookupError as error:
            print(error, file=sys.stderr)
            return 1
        except Exception as error:  # the code under test failed: this run is a crash
            print("Case %s raised %s: %s" % (case_id, type(error).__name__, error), file=sys.stderr)
            traceback.print_exc(file=sys.stderr)
            return 1
        per_case.append((case_id, values))
        if verbose:
            shown = json.dumps(normalise(output))[:300]
            print("[%s] %s expected=%s got=%s" % (case_id, " ".join("%s=%s" % (n, "-" if v is None else "%.4f" % v) for n, v in values.items()), json.dumps(case.get("expected"))[:200], shown), file=sys.stderr)

    totals = {name: mean(values[name] for _, values in per_case) for name in names}
    missing = [metric for _, metric in score_terms() if totals.get(metric) is None]
    if missing:
        print('No case has an expected value to compute "%s"; fill "expected" in %s.' % (missing[0], TEST_DATA.name), file=sys.stderr)
        return 1
    for case_id, values in per_case:
        if all(values.get(metric) is not None for _, metric in score_terms()):
            print("CASE %s %.6f" % (case_id.replace(" ", "_"), sum(weight * values[metric] for weight, metric in score_terms())))
    score = sum(weight * totals[metric] for weight, metric in score_terms())
    print("---")
    print("SCORE: %.6f" % score)
    for name in names:
        if totals[name] is not None:
            print("  %s: %.6f" % (name, totals[name]))
    print("  cases: %d" % len(per_case))
    if GUARD_METRIC and totals.get(GUARD_METRIC) is not None:
        print("GUARD: %.6f" % totals[GUARD_METRIC])
    return 0


def bootstrap():
    """Fill each placeholder (or null) "expected" with what the current code returns, for review."""
    document, cases = load_test_data()
    entry = load_entry()
    filled = 0
    for case in cases:
        if has_placeholder(case.get("input")):
            continue
        if case.get("expected") is not None and not has_placeholder(case.get("expected")):
            continue
        output = call_entry(entry, case.get("input") or {})
        if SHAPE == "ranked_list":
            case["expected"] = [item_id(item) for item in list(output or [])[:BOOTSTRAP_TOP]]
        else:
            case["expected"] = normalise(output)
        case["source"] = "bootstrap"
        filled += 1
    temporary = TEST_DATA.with_name(TEST_DATA.name + ".tmp")
    temporary.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(temporary, TEST_DATA)
    print("Filled %d expected output(s) in %s from the current code. Review and correct them, then delete each \"source\" field." % (filled, TEST_DATA.name), file=sys.stderr)
    return 0


def run(verbose=False, bootstrap_only=False):
    with ExitStack() as stack:
        intercept_expensive_calls(stack)
        return bootstrap() if bootstrap_only else evaluate(verbose)
