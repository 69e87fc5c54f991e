"""Print the levers and functions of Python source read from stdin as one JSON object:
{"levers": [...], "functions": [...]}, or {"syntaxError": {"line": N, "message": "..."}}.

Run by levers.ts. Standard library only, Python 3.8+, one parse and one walk over the tree. It
never imports or runs the analysed code, and leaves the choice of entry function to levers.ts.
"""
import ast
import json
import re
import sys

# Keep these three rules in step with levers-typescript.ts.
THRESHOLD_NAME = re.compile(r"(?i:thresh|cutoff|(?:^|[_-])(?:min|max)(?:[_-]|$))|^(?:min|max)[A-Z]|[a-z](?:Min|Max)(?:[A-Z]|$)")
PROMPT_NAME = re.compile(r"prompt|template|instruction|system", re.I)
VALUE_WIDTH = 80  # characters in a rendered value
PROMPT_PREVIEW = 60  # characters of a prompt shown before the ellipsis
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


def numeric_kind(name):
    """By the last part of the name: CONFIG["min_score"] and Ranker.MAX_HITS are thresholds."""
    entry = re.search(r'\["([^"]*)"\]$', name)
    last = entry.group(1) if entry else name.rsplit(".", 1)[-1]
    return "threshold" if THRESHOLD_NAME.search(last) else "constant"


def dict_entries(node, source):
    """(key text, value node, key node) for a dict display or dict(a=1) call, else None."""
    if isinstance(node, ast.Dict):
        if any(key is None for key in node.keys):
            return None  # {**other} has no fixed keys
        return [
            (key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else source.segment(key), value, key)
            for key, value in zip(node.keys, node.values)
        ]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict" and not node.args:
        if any(keyword.arg is None for keyword in node.keywords):
            return None
        return [(keyword.arg, keyword.value, keyword.value) for keyword in node.keywords]
    return None


def numeric_leaves(entries, source, prefix, out, depth=0):
    """Flatten {"title": 3.0, "body": {"exact": 2}} into [("title", "3.0"), ("body.exact", "2")]."""
    for key, value, _ in entries:
        nested = dict_entries(value, source) if depth < 3 else None
        if nested:
            if not numeric_leaves(nested, source, prefix + key + ".", out, depth + 1):
                return False
        elif number_of(value) is not None:
            out.append((prefix + key, source.segment(value)))
        else:
            return False
    return True


def sequence_lever(node, source):
    items = node.elts
    if not items or any(isinstance(item, ast.Starred) for item in items):
        return None
    if all(number_of(item) is not None for item in items):
        rendered = [source.segment(item) for item in items]
    else:
        texts = [string_of(item, source) for item in items]
        if any(text is None for text in texts):
            return None
        rendered = [json.dumps(text, ensure_ascii=False) for text in texts]
    brackets = {ast.List: "[]", ast.Tuple: "()", ast.Set: "{}"}[type(node)]
    value = brackets[0] + ", ".join(rendered) + brackets[1]
    return {"kind": "list", "value": clip(value), "detail": "%d items" % len(items)}


def prompt_preview(text):
    collapsed = " ".join(text.split())
    return collapsed if len(collapsed) <= PROMPT_PREVIEW else collapsed[:PROMPT_PREVIEW].rstrip() + "\u2026"


def levers_for_value(name, node, line, source, scope):
    """Levers for `name = node` written at `line`: none, one, or one per entry of a mixed config dict."""
    lever = None
    number = number_of(node)
    text = string_of(node, source)
    entries = dict_entries(node, source)
    if isinstance(node, ast.Constant) and isinstance(node.value, bool):
        lever = {"kind": "flag", "value": str(node.value)}
    elif number is not None:
        lever = {"kind": "number", "value": clip(source.segment(node)), "numeric": number}
    elif isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        lever = sequence_lever(node, source)
    elif text is not None:
        if is_prompt(name, text):
            lines = text.count("\n") + 1
            detail = "%d chars, %d line%s" % (len(text), lines, "" if lines == 1 else "s")
            lever = {"kind": "prompt", "value": prompt_preview(text), "detail": detail}
        else:
            lever = {"kind": "string", "value": clip(source.segment(node))}
    elif entries:
        leaves = []
        if numeric_leaves(entries, source, "", leaves):
            rendered = "{" + ", ".join("%s: %s" % leaf for leaf in leaves) + "}"
            lever = {"kind": "weights", "value": clip(rendered), "keys": [key for key, _ in leaves]}
        else:
            found = []
            for key, value, key_node in entries:
                found += levers_for_value('%s["%s"]' % (name, key), value, key_node.lineno, source, scope)
            return found
    if lever is None:
        return []
    lever = dict([("kind", lever.pop("kind")), ("name", name), ("line", line), ("scope", scope)] + sorted(lever.items()))
    if node.end_lineno > line:
        lever["endLine"] = node.end_lineno
    return [lever]


def assignment_pairs(statement):
    """(name, value node, line) for `X = 1`, `X: float = 1`, `A = B = 1` and `A, B = 1, 2`."""
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


def declared_levers(body, source, prefix, out, scope="module"):
    """Levers assigned directly in a module or class body (not inside if/try/functions)."""
    for statement in body:
        for name, value in assignment_pairs(statement):
            if not is_dunder(name):
                out += levers_for_value(prefix + name, value, statement.lineno, source, scope)
        if isinstance(statement, ast.ClassDef):
            bases = [source.segment(base) for base in statement.bases]
            if not any(base.endswith(("Enum", "Flag")) for base in bases):
                declared_levers(statement.body, source, prefix + statement.name + ".", out, prefix + statement.name)


# ---- functions ---------------------------------------------------------------------------------

LIST_ANNOTATION = re.compile(
    r"^(?:list|List|Sequence|MutableSequence|Iterable|Iterator|Generator|Collection|Deque|deque|(?:np|numpy)\.ndarray|ndarray)\b"
)
LABEL_ANNOTATION = re.compile(r"^(?:str|bool|Literal)\b")
NUMBER_ANNOTATION = re.compile(r"^(?:int|float|Decimal|complex|(?:np|numpy)\.(?:float|int)\w*)$")
LIST_CALLS = {"sorted", "list", "reversed", "nlargest", "nsmallest", "tolist", "most_common", "argsort"}
LABEL_CALLS = {"str", "bool", "join", "format", "lower", "upper", "strip", "title"}
NUMBER_CALLS = {"int", "float", "round", "len", "sum", "mean", "fsum", "item", "sqrt", "log", "exp"}


def shape_of_annotation(text):
    text = text.strip().strip("\"'").replace("typing.", "")
    for _ in range(3):
        optional = re.match(r"^Optional\[(.*)\]$", text)
        if optional:
            text = optional.group(1).strip()
        text = re.sub(r"\s*\|\s*None$|^None\s*\|\s*", "", text)
    if LIST_ANNOTATION.match(text):
        return "ranked_list"
    if LABEL_ANNOTATION.match(text):
        return "label"
    if NUMBER_ANNOTATION.match(text):
        return "number"
    return "unknown"


def call_name(node):
    function = node.func
    return function.id if isinstance(function, ast.Name) else getattr(function, "attr", None)


def shape_of_expression(node, assigned, depth=0):
    if node is None or depth > 4:
        return "unknown"
    if isinstance(node, (ast.List, ast.ListComp, ast.GeneratorExp)):
        return "ranked_list"
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
        if name in LIST_CALLS:
            return "ranked_list"
        if name in LABEL_CALLS:
            return "label"
        if name in NUMBER_CALLS:
            return "number"
        return "unknown"
    if isinstance(node, ast.BinOp):
        shapes = {shape_of_expression(node.left, assigned, depth + 1), shape_of_expression(node.right, assigned, depth + 1)}
        for shape in ("ranked_list", "label", "number"):
            if shape in shapes:
                return shape
        return "number" if not isinstance(node.op, ast.Add) else "unknown"
    if isinstance(node, ast.IfExp):
        shape = shape_of_expression(node.body, assigned, depth + 1)
        return shape if shape != "unknown" else shape_of_expression(node.orelse, assigned, depth + 1)
    if isinstance(node, ast.Name):
        return shape_of_expression(assigned.get(node.id, (0, None))[1], assigned, depth + 1)
    return "unknown"


def returns_shape(function, scope, source):
    if function.returns is not None:
        shape = shape_of_annotation(source.segment(function.returns))
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


def signature_of(function, source, is_method):
    arguments = function.args
    positional = list(getattr(arguments, "posonlyargs", [])) + list(arguments.args)
    defaults = [None] * (len(positional) - len(arguments.defaults)) + list(arguments.defaults)
    parts, names = [], []
    for index, argument in enumerate(positional):
        parts.append(parameter_text(argument, defaults[index], source))
        names.append(argument.arg)
        if index + 1 == len(getattr(arguments, "posonlyargs", [])):
            parts.append("/")
    if arguments.vararg is not None:
        parts.append(parameter_text(arguments.vararg, None, source, "*"))
        names.append("*" + arguments.vararg.arg)
    elif arguments.kwonlyargs:
        parts.append("*")
    for argument, default in zip(arguments.kwonlyargs, arguments.kw_defaults):
        parts.append(parameter_text(argument, default, source))
        names.append(argument.arg)
    if arguments.kwarg is not None:
        parts.append(parameter_text(arguments.kwarg, None, source, "**"))
        names.append("**" + arguments.kwarg.arg)
    keyword = "async def" if isinstance(function, ast.AsyncFunctionDef) else "def"
    signature = "%s %s(%s)" % (keyword, function.name, ", ".join(parts))
    returns = source.segment(function.returns) if function.returns is not None else None
    if returns is not None:
        signature += " -> " + returns
    if is_method and names and names[0] in ("self", "cls"):
        names = names[1:]
    return signature, names, returns


def analyze(text):
    source = Source(text)
    tree = ast.parse(text)
    levers = []
    declared_levers(tree.body, source, "", levers)

    # Functions the entry heuristic may pick (top level) or --entry may name (Class.method).
    described = []  # (qualified name, node, is_method)
    for statement in tree.body:
        if isinstance(statement, FUNCTION_NODES):
            described.append((statement.name, statement, False))
        elif isinstance(statement, ast.ClassDef):
            methods = [member for member in statement.body if isinstance(member, FUNCTION_NODES)]
            described += [(statement.name + "." + method.name, method, True) for method in methods]
    top_level = {name for name, _, is_method in described if not is_method}

    # One walk over the whole tree. A scope is the innermost enclosing function; its owner is the
    # top-level function or method it sits in, whose `calls` feed the entry heuristic.
    module_scope = {"name": None, "owner": None, "calls": set()}
    scopes = {}  # id(function node) -> scope
    owners = {}  # qualified name -> scope of a top-level function or method
    comparisons = []  # (line, column, lever): the walk visits them out of source order
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
            pass  # returns, assignments and comparisons only matter inside functions
        elif isinstance(node, ast.Return):
            scope["returns"].append(node.value)
        elif isinstance(node, (ast.Yield, ast.YieldFrom)):
            scope["yields"] = True
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                # The walk is not in source order; the last assignment in the text wins.
                if isinstance(target, ast.Name) and node.lineno >= scope["assigned"].get(target.id, (0, None))[0]:
                    scope["assigned"][target.id] = (node.lineno, node.value)
        elif isinstance(node, ast.Compare):
            comparisons += comparison_levers(node, scope["name"], source)
        for child in ast.iter_child_nodes(node):
            stack.append((child, child_scope, child_qualifier))

    functions = []
    for name, node, is_method in described:
        scope = scopes[id(node)]
        signature, params, returns = signature_of(node, source, is_method)
        functions.append({
            "name": name,
            "line": node.lineno,
            "signature": signature,
            "params": params,
            "returns": returns,
            "returnsShape": returns_shape(node, scope, source),
            "calls": sorted(owners.get(name, scope)["calls"] - {name}),
            "public": not node.name.startswith("_"),
            "method": is_method,
        })
    comparisons.sort(key=lambda found: found[:2])
    levers += [lever for _, _, lever in comparisons]
    levers.sort(key=lambda lever: lever["line"])  # stable: declarations keep their source order
    return {"levers": levers, "functions": functions}


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


def main():
    text = sys.stdin.buffer.read().decode("utf-8", "replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        result = analyze(text)
    except SyntaxError as error:
        result = {"syntaxError": {"line": error.lineno, "message": error.msg}}
    except (ValueError, RecursionError, MemoryError) as error:
        result = {"syntaxError": {"line": None, "message": str(error) or type(error).__name__}}
    sys.stdout.write(json.dumps(result))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
