"""The README's runnable examples: the commands of its ```sh blocks and the `#=>` lines that say
what each prints, and the matcher for those lines. README.md ("Try the API with curl") explains the
notation to readers; in short:

- `#=> X` starts an expected item; `#=>  X` (one more space) continues the item above.
- One item that is JSON (with `…` for any value, `"…"` inside a string for any text, a trailing
  `…` member for "more keys may follow", `[x, …]` for a non-empty list of x's, `[…]` for any
  list) is matched against the whole output parsed as JSON.
- Otherwise the items are matched in order against the output's lines (a subsequence): a JSON item
  against one line parsed as JSON, any other item as text where `…` stands for any text.
"""
import json
import re
import shlex
from dataclasses import dataclass, field

ELLIPSIS = "…"
EXPECT = "#=>"


@dataclass
class Example:
    line: int                 # README line of the command's first line
    command: str
    expected: list = field(default_factory=list)   # items, each the joined text of its lines
    language: str = ""


def fenced_blocks(text):
    """(language, first line number, lines) of each fenced code block."""
    blocks = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        opening = re.match(r"^\s*(```+|~~~+)\s*([\w-]*)", lines[index])
        if not opening:
            index += 1
            continue
        fence, language = opening.group(1), opening.group(2)
        body = []
        start = index + 2
        index += 1
        while index < len(lines) and not lines[index].strip().startswith(fence):
            body.append(lines[index])
            index += 1
        blocks.append((language, start, body))
        index += 1
    return blocks


def is_complete(command):
    if command.endswith("\\"):
        return False
    try:
        shlex.split(command)
        return True
    except ValueError:   # an open quote: the command goes on on the next line
        return False


def examples(text):
    """Every command of every fenced block with the `#=>` items written under it."""
    found = []
    for language, start, body in fenced_blocks(text):
        current = None
        pending = None   # a command still open (trailing backslash or open quote)
        for offset, raw in enumerate(body):
            number = start + offset
            stripped = raw.strip()
            if pending is not None:
                pending.command += "\n" + raw
                if is_complete(pending.command):
                    current, pending = pending, None
                continue
            if stripped.startswith(EXPECT):
                rest = stripped[len(EXPECT):]
                if current is None:
                    raise ValueError("README line %d: %s with no command above it" % (number, EXPECT))
                if rest.startswith("  ") and current.expected:
                    current.expected[-1] += " " + rest.strip()
                else:
                    current.expected.append(rest.strip())
                continue
            if not stripped or stripped.startswith("#"):
                current = None   # a blank line or a description ends the command above
                continue
            example = Example(line=number, command=raw, language=language)
            found.append(example)
            if is_complete(raw):
                current = example
            else:
                pending = example
    return found


def mentions_curl(command):
    return re.search(r"(^|[\s|;&(`$])curl\s", command) is not None


# --- the notation ------------------------------------------------------------------------------

class Any:
    def __repr__(self):
        return ELLIPSIS


ANY = Any()


@dataclass
class Text:
    """A string with `…` standing for any text."""
    pattern: str

    def matches(self, value):
        return isinstance(value, str) and glob(self.pattern).fullmatch(value) is not None


@dataclass
class Obj:
    members: dict
    open: bool


@dataclass
class Arr:
    items: list
    open: bool


def glob(pattern):
    return re.compile(".*".join(re.escape(part) for part in pattern.split(ELLIPSIS)), re.DOTALL)


class ShapeParser:
    """JSON plus `…`, recursive descent."""

    def __init__(self, text):
        self.text = text
        self.at = 0

    def parse(self):
        value = self.value()
        self.space()
        if self.at != len(self.text):
            raise ValueError("unexpected %r" % self.text[self.at:self.at + 20])
        return value

    def space(self):
        while self.at < len(self.text) and self.text[self.at] in " \t\n\r":
            self.at += 1

    def peek(self):
        self.space()
        return self.text[self.at] if self.at < len(self.text) else ""

    def take(self, token):
        if self.peek() != token:
            raise ValueError("expected %r at %r" % (token, self.text[self.at:self.at + 20]))
        self.at += 1

    def value(self):
        char = self.peek()
        if char == ELLIPSIS:
            self.at += 1
            return ANY
        if char == "{":
            return self.object()
        if char == "[":
            return self.array()
        if char == '"':
            string, self.at = json.decoder.scanstring(self.text, self.at + 1)
            return Text(string) if ELLIPSIS in string else string
        literal = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?|true|false|null").match(self.text, self.at)
        if not literal:
            raise ValueError("not a value at %r" % self.text[self.at:self.at + 20])
        self.at = literal.end()
        return json.loads(literal.group(0))

    def object(self):
        self.take("{")
        members, is_open = {}, False
        while self.peek() != "}":
            if self.peek() == ELLIPSIS:
                self.at += 1
                is_open = True
            else:
                if self.peek() != '"':
                    self.fail("a key")
                key, self.at = json.decoder.scanstring(self.text, self.at + 1)
                self.take(":")
                members[key] = self.value()
            if self.peek() == ",":
                self.at += 1
        self.take("}")
        return Obj(members, is_open)

    def array(self):
        self.take("[")
        items, is_open = [], False
        while self.peek() != "]":
            if self.peek() == ELLIPSIS and self.after_ellipsis() in ("]", ","):
                self.at += 1
                is_open = True
            else:
                items.append(self.value())
            if self.peek() == ",":
                self.at += 1
        self.take("]")
        return Arr(items, is_open)

    def after_ellipsis(self):
        rest = self.text[self.at + 1:].lstrip()
        return rest[:1]

    def fail(self, what):
        raise ValueError("expected %s at %r" % (what, self.text[self.at:self.at + 20]))


def shape(text):
    """The item as a JSON shape, or None when it is not one (then it is text)."""
    if not text.startswith(("{", "[")):
        return None
    try:
        return ShapeParser(text).parse()
    except ValueError:
        return None


def mismatch(expected, actual, where="$"):
    """None when `actual` fits `expected`, else a sentence saying where it does not."""
    if expected is ANY:
        return None
    if isinstance(expected, Text):
        return None if expected.matches(actual) else "%s: %r does not match %r" % (where, actual, expected.pattern)
    if isinstance(expected, Obj):
        if not isinstance(actual, dict):
            return "%s: expected an object, got %r" % (where, actual)
        for key, value in expected.members.items():
            if key not in actual:
                return "%s: no key %r" % (where, key)
            problem = mismatch(value, actual[key], "%s.%s" % (where, key))
            if problem:
                return problem
        extra = sorted(set(actual) - set(expected.members))
        if extra and not expected.open:
            return "%s: keys the README does not list: %s (add them, or end the object with …)" % (where, extra)
        return None
    if isinstance(expected, Arr):
        if not isinstance(actual, list):
            return "%s: expected a list, got %r" % (where, actual)
        if expected.open:
            if not expected.items:
                return None
            if len(expected.items) != 1:
                return "%s: the README's list mixes elements and …" % where
            if not actual:
                return "%s: expected a non-empty list" % where
            for index, item in enumerate(actual):
                problem = mismatch(expected.items[0], item, "%s[%d]" % (where, index))
                if problem:
                    return problem
            return None
        if len(actual) != len(expected.items):
            return "%s: expected %d elements, got %d" % (where, len(expected.items), len(actual))
        for index, (item, value) in enumerate(zip(expected.items, actual)):
            problem = mismatch(item, value, "%s[%d]" % (where, index))
            if problem:
                return problem
        return None
    # A literal: equal, and of the same kind (true is not 1, 2 is 2.0).
    numbers = all(isinstance(value, (int, float)) and not isinstance(value, bool) for value in (expected, actual))
    same_kind = numbers or type(expected) is type(actual)
    return None if same_kind and expected == actual else "%s: expected %r, got %r" % (where, expected, actual)


def check_output(items, output):
    """None when the output is what the items say, else why not."""
    if len(items) == 1 and shape(items[0]) is not None:
        try:
            document = json.loads(output)
        except ValueError:
            return "the output is not one JSON document"
        return mismatch(shape(items[0]), document)
    lines = [line.rstrip("\r") for line in output.splitlines()]
    position = 0
    for item in items:
        expected = shape(item)
        while position < len(lines):
            line = lines[position]
            position += 1
            if expected is None:
                if glob(item).fullmatch(line):
                    break
            else:
                try:
                    if mismatch(expected, json.loads(line)) is None:
                        break
                except ValueError:
                    pass
        else:
            return "no line (in order) matches %r" % item
    return None
