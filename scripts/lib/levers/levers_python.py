"""Print what a Python module holds for tuning, read from stdin, as one JSON object:
{"levers": [...], "functions": [...], "classes": [...], "imports": [...]} in the shapes of
lever.ts (RawLever, FunctionFacts, ClassFacts, ImportFacts), or {"syntaxError": {...}}. With
`--many`, stdin is a JSON list of sources and stdout the list of their results.

Levers are module constants, class attributes, dataclass / pydantic / attrs / NamedTuple fields
with defaults, keyword defaults of public functions and methods (`Okapi.__init__.k1`), entries of
config dicts, and numbers compared inside functions. Each carries the scope that owns it. The raw
kinds it reports are named by kinds.ts.

Run by levers.ts. Standard library only, Python 3.8+, one parse and one walk over the tree. It
never imports or runs the analysed code, and leaves the choice of entry function to levers.ts.
"""
import ast
import json
import re
import sys

# Keep these three rules in step with typescript.ts.
PROMPT_NAME = re.compile(r"prompt|template|instruction|system", re.I)
VALUE_WIDTH = 80  # characters in a rendered value
PROMPT_PREVIEW = 60
MIN_TABLE_ENTRIES = 2  # a dict of numbers with fewer entries is a setting, not a table of weights (typescript.ts too)  # characters of a prompt shown before the ellipsis
MAX_NUMBER = 1e300

ARITHMETIC = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.FloorDiv: lambda a, b: a // b,
    ast.Mod: lambda a, b: a % b,
    ast.Pow: lambda a, b: a ** b,
}
ORDERING = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)
OPERATOR_TEXT = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
STRING_WRAPPERS = {"dedent", "cleandoc", "strip", "lstrip", "rstrip", "format"}
FUNCTION_NODES = (ast.FunctionDef, ast.AsyncFunctionDef)
DECLARATIONS = (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Expr)


class Source:
    """Source text addressed the way `ast` addresses it: 1-based lines, UTF-8 byte columns."""

    def __init__(self, text):
        # Only \r\n, \r and \n end a line for the tokenizer; str.splitlines also splits on \f etc.
        self.lines = re.split(r"\r\n|\r|\n", text)
        self.encoded = {}

    def line_bytes(self, number):
        if number not in self.encoded:
            self.encoded[number] = self.lines[number - 1].encode("utf-8")
        return self.encoded[number]

    def segment(self, node):
        first, last = node.lineno, node.end_lineno
        if first == last:
            return self.line_bytes(first)[node.col_offset:node.end_col_offset].decode("utf-8", "replace")
        parts = [self.line_bytes(first)[node.col_offset:].decode("utf-8", "replace")]
        parts += [self.lines[number - 1] for number in range(first + 1, last)]
        parts.append(self.line_bytes(last)[:node.end_col_offset].decode("utf-8", "replace"))
        return " ".join(part.strip() for part in parts)


def clip(text, width=VALUE_WIDTH):
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def number_of(node, depth=0):
    """The value of a numeric literal or a small constant expression (-0.5, 1/3, 2 ** 10), else None."""
    if depth > 8:
        return None
    if isinstance(node, ast.Constant):
        value = node.value
        return value if type(value) in (int, float) and abs(value) <= MAX_NUMBER else None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = number_of(node.operand, depth + 1)
        if value is None:
            return None
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and type(node.op) in ARITHMETIC:
        left, right = number_of(node.left, depth + 1), number_of(node.right, depth + 1)
        if left is None or right is None:
            return None
        if isinstance(node.op, ast.Pow) and (abs(right) > 64 or abs(left) > 1e6):
            return None  # 10 ** 10 ** 10 would hang the analysis
        try:
            value = ARITHMETIC[type(node.op)](left, right)
        except (ZeroDivisionError, OverflowError, ValueError):
            return None
        if isinstance(value, complex) or not abs(value) <= MAX_NUMBER:
            return None  # JSON cannot carry inf or nan, and JavaScript numbers stop near 1e308
        return value
    return None


def string_of(node, source):
    """The text of a string literal, f-string (placeholders kept), concatenation or dedent(...)."""
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, ast.JoinedStr):
        parts = []
        for part in node.values:
            if isinstance(part, ast.Constant):
                parts.append(str(part.value))
            elif isinstance(part.value, ast.Name):
                parts.append("{" + part.value.id + "}")
            else:
                parts.append("{" + source.segment(part.value) + "}")
        return "".join(parts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = string_of(node.left, source), string_of(node.right, source)
        return left + right if left is not None and right is not None else None
    if isinstance(node, ast.Call):
        function = node.func
        name = function.id if isinstance(function, ast.Name) else getattr(function, "attr", None)
        if name not in STRING_WRAPPERS:
            return None
        if isinstance(function, ast.Attribute) and not isinstance(function.value, ast.Name):
            return string_of(function.value, source)  # "...".strip() / "...".format(x=1)
        if node.args:
            return string_of(node.args[0], source)  # textwrap.dedent("""...""")
    return None


def is_prompt(name, text):
    if PROMPT_NAME.search(name) and len(text.strip()) >= 20:
        return True
    # Long prose, not a long path or URL: prompts have words.
    return len(text) >= 40 and ("\n" in text.strip() or text.count(" ") >= 5)


MAX_DICT_DEPTH = 6  # nesting levels of a config dict split into entries
SEQUENCE_NAMES = {ast.List: "list", ast.Tuple: "tuple", ast.Set: "set"}
# Calls that declare a class field and hold its default: dataclasses.field(default=...),
# pydantic Field(0.5, ge=0) / Field(default=0.5), attr.ib(default=3), attrs.field(default=3).
FIELD_CALLS = {"field", "Field", "ib", "attrib"}
FIELD_CALLS_WITH_POSITIONAL_DEFAULT = {"Field", "ib", "attrib"}


def dict_entries(node, source):
    """(entry name suffix, value node, key node) for a dict display or dict(a=1) call, else None."""
    if isinstance(node, ast.Dict):
        if any(key is None for key in node.keys):
            return None  # {**other} has no fixed keys
        return [(dict_key(key, source), value, key) for key, value in zip(node.keys, node.values)]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict" and not node.args:
        if any(keyword.arg is None for keyword in node.keywords):
            return None
        return [(keyword.arg, keyword.value, keyword.value) for keyword in node.keywords]
    return None


def dict_key(key, source):
    """A string key as its text (`title`), any other key as written (`1`, `Field.TITLE`)."""
    return key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else source.segment(key)


def entry_name(name, key, key_node):
    """CONFIG["min_score"] for string keys, CONFIG[1] for others."""
    if isinstance(key_node, ast.Constant) and not isinstance(key_node.value, str):
        return "%s[%s]" % (name, key)
    return '%s["%s"]' % (name, key)


def sequence_lever(node, source):
    """A list, tuple or set of numbers or strings, written as the code writes it: `(16,)`, `["a", "b"]`."""
    items = node.elts
    if not items or any(isinstance(item, ast.Starred) for item in items):
        return None
    if all(number_of(item) is not None for item in items):
        rendered = [source.segment(item) for item in items]
    else:
        rendered = []
        for item in items:
            if isinstance(item, ast.Constant) and isinstance(item.value, str):
                rendered.append(source.segment(item))
            else:
                text = string_of(item, source)  # dedent(...), f-strings: their text, quoted
                if text is None:
                    return None
                rendered.append(json.dumps(text, ensure_ascii=False))
    kind = SEQUENCE_NAMES[type(node)]
    inside = ", ".join(rendered)
    if kind == "tuple":
        value = "(" + inside + ("," if len(items) == 1 else "") + ")"
    else:
        value = ("[%s]" if kind == "list" else "{%s}") % inside
    count = len(items)
    detail = "%s, %d item%s" % (kind, count, "" if count == 1 else "s")
    return {"kind": "list", "value": clip(value), "detail": detail}


def prompt_preview(text):
    collapsed = " ".join(text.split())
    return collapsed if len(collapsed) <= PROMPT_PREVIEW else collapsed[:PROMPT_PREVIEW].rstrip() + "\u2026"


def levers_for_value(name, node, line, source, scope, depth=0):
    """Levers for `name = node` written at `line`: none, one, or one per entry of a config dict.

    The one rule for dicts: a dict of two or more entries whose values are all numbers is a table
    of weights, one lever (a one-entry dict is a setting, not a table);
    any other dict is split per key, and each entry follows the same rule (a nested all-number
    table becomes its own weights lever, named by its path).
    """
    lever = None
    if isinstance(node, ast.Constant) and isinstance(node.value, bool):
        lever = {"kind": "flag", "value": str(node.value)}
    elif isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        lever = sequence_lever(node, source)
    else:
        number = number_of(node)
        if number is not None:
            lever = {"kind": "number", "value": clip(source.segment(node)), "numeric": number}
        else:
            text = string_of(node, source)
            if text is not None:
                lever = string_lever(name, node, text, source)
            elif depth < MAX_DICT_DEPTH:
                entries = dict_entries(node, source)
                if entries and len(entries) >= MIN_TABLE_ENTRIES and all(number_of(value) is not None for _, value, _ in entries):
                    rendered = "{" + ", ".join("%s: %s" % (key, source.segment(value)) for key, value, _ in entries) + "}"
                    lever = {"kind": "weights", "value": clip(rendered), "keys": [key for key, _, _ in entries]}
                elif entries:
                    found = []
                    for key, value, key_node in entries:
                        found += levers_for_value(entry_name(name, key, key_node), value, key_node.lineno, source, scope, depth + 1)
                    return found
    if lever is None:
        return []
    lever = dict([("kind", lever.pop("kind")), ("name", name), ("line", line), ("scope", scope)] + sorted(lever.items()))
    if node.end_lineno > line:
        lever["endLine"] = node.end_lineno
    return [lever]


def string_lever(name, node, text, source):
    if is_prompt(name, text):
        lines = text.count("\n") + 1
        detail = "%d chars, %d line%s" % (len(text), lines, "" if lines == 1 else "s")
        return {"kind": "prompt", "value": prompt_preview(text), "detail": detail}
    return {"kind": "string", "value": clip(source.segment(node))}


def assignment_pairs(statement):
    """(name, value node) for `X = 1`, `X: float = 1`, `A = B = 1` and `A, B = 1, 2`."""
    if isinstance(statement, ast.AnnAssign):
        if statement.value is not None and isinstance(statement.target, ast.Name):
            return [(statement.target.id, statement.value)]
        return []
    if not isinstance(statement, ast.Assign):
        return []
    pairs = []
    for target in statement.targets:
        if isinstance(target, ast.Name):
            pairs.append((target.id, statement.value))
        elif isinstance(target, ast.Tuple) and isinstance(statement.value, ast.Tuple) and len(target.elts) == len(statement.value.elts):
            pairs += [(item.id, value) for item, value in zip(target.elts, statement.value.elts) if isinstance(item, ast.Name)]
    return pairs


def is_dunder(name):
    return name.startswith("__") and name.endswith("__")


def field_default(node):
    """The default a field declaration holds (`field(default=0.5)`, `Field(0.5, ge=0)`), None if it
    has none (`Field(...)` is required; a default_factory builds a value at run time), or False
    when `node` is no field call at all."""
    if not isinstance(node, ast.Call) or call_name(node) not in FIELD_CALLS:
        return False
    for keyword in node.keywords:
        if keyword.arg == "default":
            return keyword.value
    if node.args and call_name(node) in FIELD_CALLS_WITH_POSITIONAL_DEFAULT:
        first = node.args[0]
        return None if isinstance(first, ast.Constant) and first.value is Ellipsis else first
    return None


def declared_levers(body, source, prefix, out, scope="module"):
    """Levers assigned directly in a module or class body (not inside if/try/functions)."""
    in_class = scope != "module"
    for statement in body:
        for name, value in assignment_pairs(statement):
            if is_dunder(name):
                continue
            default = field_default(value) if in_class else False
            if default is False:
                out += levers_for_value(prefix + name, value, statement.lineno, source, scope)
            elif default is not None:
                out += levers_for_value(prefix + name, default, default.lineno, source, scope)
        if isinstance(statement, ast.ClassDef):
            bases = [source.segment(base) for base in statement.bases]
            if not any(base.endswith(("Enum", "Flag")) for base in bases):
                declared_levers(statement.body, source, prefix + statement.name + ".", out, prefix + statement.name)


def default_levers(qualified, function, source):
    """Levers for the literal keyword defaults of a function: `def __init__(self, k1=1.5)` in
    Okapi -> `Okapi.__init__.k1`, written where the literal is, owned by `Okapi.__init__`."""
    arguments = function.args
    positional = list(getattr(arguments, "posonlyargs", [])) + list(arguments.args)
    pairs = list(zip(positional[len(positional) - len(arguments.defaults):], arguments.defaults))
    pairs += [(argument, default) for argument, default in zip(arguments.kwonlyargs, arguments.kw_defaults) if default is not None]
    found = []
    for argument, default in pairs:
        found += levers_for_value(qualified + "." + argument.arg, default, default.lineno, source, qualified)
    return found


# ---- functions ---------------------------------------------------------------------------------

# One number per item, in the items' order: list[float], np.ndarray, NDArray[np.float64].
SCORES_ANNOTATION = re.compile(
    r"^(?:(?:list|List|Sequence|MutableSequence)\[\s*(?:float|(?:np|numpy)\.float\w*)\s*\]$"
    r"|(?:(?:np|numpy)\.)?ndarray\b|(?:(?:np|numpy|npt|numpy\.typing)\.)?NDArray\b)"
)
LIST_ANNOTATION = re.compile(
    r"^(?:list|List|Sequence|MutableSequence|Iterable|Iterator|Generator|Collection|Deque|deque)\b"
)
OBJECT_ANNOTATION = re.compile(r"^(?:dict|Dict|Mapping|MutableMapping|TypedDict|OrderedDict|defaultdict)\b")
LABEL_ANNOTATION = re.compile(r"^(?:str|bool|Literal)\b")
NUMBER_ANNOTATION = re.compile(r"^(?:int|float|Decimal|complex|(?:np|numpy)\.(?:float|int)\w*)$")
LIST_CALLS = {"sorted", "list", "reversed", "nlargest", "nsmallest", "tolist", "most_common", "argsort"}
LABEL_CALLS = {"str", "bool", "join", "format", "lower", "upper", "strip", "title"}
NUMBER_CALLS = {
    "int", "float", "round", "len", "sum", "mean", "fsum", "item", "sqrt", "log", "log1p", "log2", "log10",
    "exp", "abs", "fabs", "pow", "tanh",
}
# np.zeros(n) and friends build an array of numbers: returned, it is a score per item.
NUMPY_MODULES = {"np", "numpy"}
NUMPY_BUILDERS = {
    "zeros", "ones", "empty", "full", "array", "asarray", "asanyarray", "fromiter",
    "zeros_like", "ones_like", "empty_like", "full_like",
}
# Methods of an array that keep it one number per item.
ARRAY_KEEPING = {"tolist", "astype", "copy", "flatten", "ravel", "squeeze"}
SHAPE_PRECEDENCE = ("scores", "ranked_list", "object", "label", "number")
ABSTRACT_BASES = {"ABC", "Protocol"}
ABSTRACT_DECORATORS = {"abstractmethod", "abstractproperty", "abstractclassmethod", "abstractstaticmethod"}
# Private (underscore) methods keep no levers, except these, which callers reach through the class.
DUNDERS_WITH_LEVERS = {"__init__", "__call__", "__post_init__"}


def shape_of_annotation(text, record_types):
    text = text.strip().strip("\"'").replace("typing.", "")
    for _ in range(3):
        optional = re.match(r"^Optional\[(.*)\]$", text)
        if optional:
            text = optional.group(1).strip()
        text = re.sub(r"\s*\|\s*None$|^None\s*\|\s*", "", text)
    if SCORES_ANNOTATION.match(text):
        return "scores"
    if LIST_ANNOTATION.match(text):
        return "ranked_list"
    if OBJECT_ANNOTATION.match(text) or text in record_types:
        return "object"
    if LABEL_ANNOTATION.match(text):
        return "label"
    if NUMBER_ANNOTATION.match(text):
        return "number"
    return "unknown"


def call_name(node):
    function = node.func
    return function.id if isinstance(function, ast.Name) else getattr(function, "attr", None)


def is_numpy_builder(node):
    function = node.func
    return (
        isinstance(function, ast.Attribute)
        and function.attr in NUMPY_BUILDERS
        and isinstance(function.value, ast.Name)
        and function.value.id in NUMPY_MODULES
    )


def shape_of_sequence(node, assigned, depth):
    """[f(d) for d in docs] is a ranking unless its items are plainly numbers (sum(...), w * x)."""
    if isinstance(node, ast.List):
        floats = [item for item in node.elts if isinstance(item, ast.Constant) and type(item.value) is float]
        return "scores" if node.elts and len(floats) == len(node.elts) else "ranked_list"
    if isinstance(node, (ast.ListComp, ast.GeneratorExp)):
        return "scores" if shape_of_expression(node.elt, assigned, depth + 1) == "number" else "ranked_list"
    return "ranked_list"


def shape_of_expression(node, assigned, depth=0):
    if node is None or depth > 4:
        return "unknown"
    if isinstance(node, (ast.List, ast.ListComp, ast.GeneratorExp)):
        return shape_of_sequence(node, assigned, depth)
    if isinstance(node, (ast.Dict, ast.DictComp)):
        return "object"
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
        return "ranked_list"  # results[:k]
    if isinstance(node, ast.Constant):
        if isinstance(node.value, (str, bool)):
            return "label"
        if isinstance(node.value, (int, float)):
            return "number"
        return "unknown"
    if isinstance(node, (ast.JoinedStr, ast.Compare)) or (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not)):
        return "label"
    if isinstance(node, ast.UnaryOp):
        return shape_of_expression(node.operand, assigned, depth + 1)
    if isinstance(node, ast.Call):
        name = call_name(node)
        if is_numpy_builder(node):
            return "scores"
        if name in ARRAY_KEEPING and isinstance(node.func, ast.Attribute):
            if shape_of_expression(node.func.value, assigned, depth + 1) == "scores":
                return "scores"
        if name in LIST_CALLS:
            return "ranked_list"
        if name == "dict":
            return "object"
        if name in LABEL_CALLS:
            return "label"
        if name in NUMBER_CALLS:
            return "number"
        return "unknown"
    if isinstance(node, ast.BinOp):
        shapes = {shape_of_expression(node.left, assigned, depth + 1), shape_of_expression(node.right, assigned, depth + 1)}
        for shape in SHAPE_PRECEDENCE:
            if shape in shapes:
                return shape
        return "number" if not isinstance(node.op, ast.Add) else "unknown"
    if isinstance(node, ast.IfExp):
        shape = shape_of_expression(node.body, assigned, depth + 1)
        return shape if shape != "unknown" else shape_of_expression(node.orelse, assigned, depth + 1)
    if isinstance(node, ast.Name):
        return shape_of_expression(assigned.get(node.id, (0, None))[1], assigned, depth + 1)
    return "unknown"


def returns_value(scope):
    """Whether the function hands anything back: a `return <value>` (not `return None`) or a `yield`."""
    if scope["yields"]:
        return True
    return any(value is not None and not (isinstance(value, ast.Constant) and value.value is None) for value in scope["returns"])


def returns_shape(function, scope, source, record_types):
    if function.returns is not None:
        shape = shape_of_annotation(source.segment(function.returns), record_types)
        if shape != "unknown":
            return shape
    counts = {}
    for value in scope["returns"]:
        shape = shape_of_expression(value, scope["assigned"])
        if shape != "unknown":
            counts[shape] = counts.get(shape, 0) + 1
    if counts:
        return max(counts, key=lambda shape: counts[shape])  # max() keeps the first of equals
    return "ranked_list" if scope["yields"] else "unknown"


def parameter_text(argument, default, source, prefix=""):
    text = prefix + argument.arg
    if argument.annotation is not None:
        text += ": " + source.segment(argument.annotation)
    if default is not None:
        text += (" = " if argument.annotation is not None else "=") + source.segment(default)
    return text


def decorator_names(function):
    names = set()
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Name):
            names.add(target.id)
        elif isinstance(target, ast.Attribute):
            names.add(target.attr)
    return names


def binding_of(function):
    decorators = decorator_names(function)
    if "staticmethod" in decorators:
        return "static"
    if "classmethod" in decorators:
        return "class"
    return "instance"


def signature_of(function, source, binding):
    """(signature as written, parameter names, required names, return annotation). A method's
    first parameter (self, cls) is left out of the names unless it is a staticmethod."""
    arguments = function.args
    positional_only = list(getattr(arguments, "posonlyargs", []))
    positional = positional_only + list(arguments.args)
    defaults = [None] * (len(positional) - len(arguments.defaults)) + list(arguments.defaults)
    parts, names, required = [], [], []
    bound = binding in ("instance", "class") and len(positional) > 0
    for index, argument in enumerate(positional):
        parts.append(parameter_text(argument, defaults[index], source))
        if index + 1 == len(positional_only):
            parts.append("/")
        if bound and index == 0:
            continue
        names.append(argument.arg)
        if defaults[index] is None:
            required.append(argument.arg)
    if arguments.vararg is not None:
        parts.append(parameter_text(arguments.vararg, None, source, "*"))
        names.append("*" + arguments.vararg.arg)
    elif arguments.kwonlyargs:
        parts.append("*")
    for argument, default in zip(arguments.kwonlyargs, arguments.kw_defaults):
        parts.append(parameter_text(argument, default, source))
        names.append(argument.arg)
        if default is None:
            required.append(argument.arg)
    if arguments.kwarg is not None:
        parts.append(parameter_text(arguments.kwarg, None, source, "**"))
        names.append("**" + arguments.kwarg.arg)
    keyword = "async def" if isinstance(function, ast.AsyncFunctionDef) else "def"
    signature = "%s %s(%s)" % (keyword, function.name, ", ".join(parts))
    returns = source.segment(function.returns) if function.returns is not None else None
    if returns is not None:
        signature += " -> " + returns
    return signature, names, required, returns


def keeps_levers(name):
    return not name.startswith("_") or name in DUNDERS_WITH_LEVERS


def only_raises_not_implemented(function):
    body = function.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
        body = body[1:]  # the docstring
    if len(body) != 1 or not isinstance(body[0], ast.Raise) or body[0].exc is None:
        return False
    raised = body[0].exc.func if isinstance(body[0].exc, ast.Call) else body[0].exc
    return isinstance(raised, ast.Name) and raised.id == "NotImplementedError"


def base_name(text):
    """`abc.ABC` -> ABC, `Protocol[T]` -> Protocol, `Generic[T]` -> Generic."""
    return text.split("[", 1)[0].rsplit(".", 1)[-1].strip()


def class_facts(node, methods, signatures, source):
    """What the eval needs to reach a class: bases as written, abstract or not, its own methods and constructor."""
    bases = [source.segment(base) for base in node.bases]
    abstract = any(base_name(base) in ABSTRACT_BASES for base in bases) or any(
        keyword.arg == "metaclass" and base_name(source.segment(keyword.value)) == "ABCMeta" for keyword in node.keywords
    )
    listed, constructor = [], None
    for method, binding in methods:
        if decorator_names(method) & ABSTRACT_DECORATORS or only_raises_not_implemented(method):
            abstract = True
        if method.name == "__init__":
            signature, params, required, _ = signatures[id(method)]
            constructor = {"signature": signature, "params": params, "required": required}
        if not is_dunder(method.name) or method.name == "__call__":
            listed.append({"name": method.name, "binding": binding})
    return {
        "name": node.name,
        "line": node.lineno,
        "bases": bases,
        "public": not node.name.startswith("_"),
        "abstract": abstract,
        "methods": listed,
        "constructor": constructor,
    }


def import_facts(node):
    """`from .base import BM25 as Base` -> local Base, module .base, imported BM25; `import a.b` ->
    local a.b (the name the code writes before an attribute), imported None."""
    if isinstance(node, ast.Import):
        return [
            {"local": alias.asname or alias.name, "module": alias.name, "imported": None, "line": node.lineno}
            for alias in node.names
        ]
    module = "." * (node.level or 0) + (node.module or "")
    return [
        {"local": alias.asname or alias.name, "module": module, "imported": alias.name, "line": node.lineno}
        for alias in node.names
    ]


def analyze(text):
    source = Source(text)
    tree = ast.parse(text)
    levers = []
    declared_levers(tree.body, source, "", levers)

    # Functions the entry heuristic may pick (top level) or --entry may name (Class.method).
    described = []  # (qualified name, node, binding or None for a module function)
    class_methods = []  # (class node, [(method node, binding)])
    record_types = set()  # classes a function may return as a record: TypedDicts
    for statement in tree.body:
        if isinstance(statement, FUNCTION_NODES):
            described.append((statement.name, statement, None))
        elif isinstance(statement, ast.ClassDef):
            methods = [(member, binding_of(member)) for member in statement.body if isinstance(member, FUNCTION_NODES)]
            class_methods.append((statement, methods))
            described += [(statement.name + "." + method.name, method, binding) for method, binding in methods]
            if any(base_name(source.segment(base)) == "TypedDict" for base in statement.bases):
                record_types.add(statement.name)
    top_level = {name for name, _, binding in described if binding is None}

    # One walk over the whole tree. A scope is the innermost enclosing function; its owner is the
    # top-level function or method it sits in, whose `calls` feed the entry heuristic.
    module_scope = {"name": None, "owner": None, "calls": set()}
    scopes = {}  # id(function node) -> scope
    owners = {}  # qualified name -> scope of a top-level function or method
    comparisons = []  # (line, column, lever): the walk visits them out of source order
    imports = []  # (line, column, facts)
    stack = [(tree, module_scope, "")]
    while stack:
        node, scope, qualifier = stack.pop()
        child_scope, child_qualifier = scope, qualifier
        if isinstance(node, FUNCTION_NODES):
            name = qualifier + node.name
            child_scope = {"name": name, "owner": scope["owner"] or name, "returns": [], "assigned": {}, "yields": False, "calls": set()}
            scopes[id(node)] = child_scope
            if scope is module_scope:
                owners[name] = child_scope
            child_qualifier = name + "."
        elif isinstance(node, ast.ClassDef):
            child_qualifier = qualifier + node.name + "."
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in top_level:
            owners.get(scope["owner"], module_scope)["calls"].add(node.id)
        elif scope is module_scope:
            # Imports anywhere outside functions (under `try:` too); the rest only matters inside functions.
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                imports += [(node.lineno, node.col_offset, facts) for facts in import_facts(node)]
            elif isinstance(node, DECLARATIONS):
                continue  # a constant's value holds no function, import or return: no need to walk it
        elif isinstance(node, ast.Return):
            scope["returns"].append(node.value)
        elif isinstance(node, (ast.Yield, ast.YieldFrom)):
            scope["yields"] = True
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                # The walk is not in source order; the last assignment in the text wins.
                if isinstance(target, ast.Name) and node.value is not None and node.lineno >= scope["assigned"].get(target.id, (0, None))[0]:
                    scope["assigned"][target.id] = (node.lineno, node.value)
        elif isinstance(node, ast.Compare):
            comparisons += comparison_levers(node, scope["name"], source)
        for child in ast.iter_child_nodes(node):
            stack.append((child, child_scope, child_qualifier))

    functions = []
    signatures = {}  # id(function node) -> signature_of(...)
    for name, node, binding in described:
        scope = scopes[id(node)]
        signature, params, required, returns = signatures[id(node)] = signature_of(node, source, binding)
        facts = {
            "name": name,
            "line": node.lineno,
            "endLine": node.end_lineno,
            "signature": signature,
            "params": params,
            "required": required,
            "returns": returns,
            "returnsShape": returns_shape(node, scope, source, record_types),
            "returnsValue": returns_value(scope),
            "calls": sorted(owners.get(name, scope)["calls"] - {name}),
            "public": not node.name.startswith("_"),
            "method": binding is not None,
        }
        if binding is not None:
            facts["binding"] = binding
        functions.append(facts)
        if keeps_levers(node.name):
            levers += default_levers(name, node, source)
    classes = [class_facts(node, methods, signatures, source) for node, methods in class_methods]
    comparisons.sort(key=lambda found: found[:2])
    levers += [lever for _, _, lever in comparisons]
    levers.sort(key=lambda lever: lever["line"])  # stable: declarations keep their source order
    imports.sort(key=lambda found: found[:2])
    return {"levers": levers, "functions": functions, "classes": classes, "imports": [facts for _, _, facts in imports]}


def comparison_levers(node, function_name, source):
    """`if score > 0.5:` inside a function: the literal is a threshold someone can tune."""
    found = []
    operands = [node.left] + list(node.comparators)
    for index, operator in enumerate(node.ops):
        if not isinstance(operator, ORDERING):
            continue
        left, right = operands[index], operands[index + 1]
        for literal, other in ((right, left), (left, right)):
            value = number_of(literal)
            if value is None or number_of(other) is not None:
                continue
            # 0 and 1 are boundaries (empty, first, sign), not tunable thresholds.
            if value == 0 or (isinstance(value, int) and abs(value) == 1):
                break
            comparison = "%s %s %s" % (source.segment(left), OPERATOR_TEXT[type(operator)], source.segment(right))
            found.append((literal.lineno, literal.col_offset, {
                "kind": "threshold",
                "name": clip(source.segment(other), 40),
                "line": literal.lineno,
                "value": clip(source.segment(literal)),
                "numeric": value,
                "detail": clip("in %s(): %s" % (function_name, comparison)),
                "scope": function_name,
            }))
            break
    return found


def analyze_or_error(text):
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        return analyze(text)
    except SyntaxError as error:
        return {"syntaxError": {"line": error.lineno, "message": error.msg}}
    except (ValueError, RecursionError, MemoryError) as error:
        return {"syntaxError": {"line": None, "message": str(error) or type(error).__name__}}


def main():
    text = sys.stdin.buffer.read().decode("utf-8", "replace")
    # `--many`: stdin is a JSON list of sources, stdout the list of their results, so several
    # versions of a file cost one interpreter start.
    if "--many" in sys.argv[1:]:
        result = [analyze_or_error(source) for source in json.loads(text)]
    else:
        result = analyze_or_error(text)
    sys.stdout.write(json.dumps(result))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
