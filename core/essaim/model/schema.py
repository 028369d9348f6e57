"""A small declarative vocabulary for the shape of values: command payloads
and strategy settings.

One declaration serves three readers: the validator (each field compiles to
a plain function, so a check costs about what hand-written code costs: this
runs for every participant message, see docs/performance.md), JSON Schema
(:meth:`Field.json_schema`, :meth:`Fields.json_schema`, for published
protocol documents) and the documentation (``description``).

Why not a library: msgspec and fastjsonschema were measured on the
participant hot path (docs/plugins.md, "Commands"); the compiled
functions here are as fast or faster, give the error codes clients
switch on (``too_long`` vs ``bad_request``) and messages that say what to
send instead, and need no dependency. JSON Schema is generated, not
interpreted, and a test checks that a JSON Schema validator accepts and
rejects the same payloads as these functions.

A failed check raises :class:`Invalid` (a message and a code); commands
turn it into a :class:`~essaim.errors.CommandError`, templates into a
:class:`~essaim.errors.TemplateError` naming the file and key.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from typing import Any

__all__ = [
    "Invalid",
    "Field",
    "Text",
    "Choice",
    "Integer",
    "Number",
    "Boolean",
    "ListOf",
    "Object",
    "Anything",
    "Fields",
    "MISSING",
]

Check = Callable[[Any], None]


class Invalid(ValueError):
    """A value does not have the declared shape.

    ``name`` is the field (``'text'``, ``'themes[]'``; empty for the object
    itself), ``expected`` what it should be (``"must be a string"``),
    ``found`` the value found (:data:`MISSING` when absent), ``code`` the
    error code clients switch on (``bad_request``, ``too_long``).
    """

    def __init__(self, name: str, expected: str, code: str = "bad_request", found: Any = None) -> None:
        super().__init__(name, expected)
        self.name = name
        self.expected = expected
        self.code = code
        self.found = found

    @property
    def message(self) -> str:
        return f"'{self.name}' {self.expected}" if self.name else self.expected

    def __str__(self) -> str:
        return self.message


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


#: The value of a field that was not sent (distinct from JSON ``null``).
MISSING: Any = _Missing()


class Field(ABC):
    """One value's shape. ``required``: must be present; ``nullable``: JSON
    ``null`` counts as absent; ``default``: what an absent value means (for
    documentation and :meth:`Fields.defaults`; the checks never fill it in)."""

    __slots__ = ("description", "required", "nullable", "default")
    json_type: str = ""

    def __init__(self, *, description: str = "", required: bool = False, nullable: bool = False,
                 default: Any = MISSING) -> None:
        self.description = description
        self.required = required
        self.nullable = nullable
        self.default = default

    @abstractmethod
    def compile(self, name: str) -> Check:
        """A function that raises :class:`Invalid` unless a present, non-null
        value fits; ``name`` is what messages call it (``'text'``)."""

    def _schema(self) -> dict[str, Any]:
        return {"type": self.json_type}

    def json_schema(self) -> dict[str, Any]:
        """This field as JSON Schema (draft 2020-12)."""
        schema = self._schema()
        if self.nullable:
            schema = {"anyOf": [schema, {"type": "null"}]}
        if self.description:
            schema["description"] = self.description
        if self.default is not MISSING:
            schema["default"] = self.default
        return schema

    @abstractmethod
    def describe(self) -> str:
        """What is expected, in words (for error messages and docs)."""

    def summary(self) -> str:
        """What is expected, the default and the description, on one line (docs, ``essaim plugins``)."""
        parts = [self.describe()]
        if self.default is not MISSING:
            parts.append(f"default {_as_toml(self.default)}")
        text = "; ".join(parts)
        return f"{self.description} ({text})" if self.description else text


def _as_toml(value: Any) -> str:
    """A default as a template would write it (``true``, not ``True``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


class Text(Field):
    """A string of at most ``max_len`` characters (code ``too_long`` past it)."""

    __slots__ = ("max_len", "min_len")
    json_type = "string"

    def __init__(self, max_len: int, *, min_len: int = 0, **kw: Any) -> None:
        super().__init__(**kw)
        self.max_len = max_len
        self.min_len = min_len

    def compile(self, name: str) -> Check:
        low, high = self.min_len, self.max_len
        too_long = f"is longer than {high} characters"
        too_short = f"needs at least {low} characters"

        def check(value: Any) -> None:
            if value.__class__ is not str and not isinstance(value, str):
                raise Invalid(name, "must be a string", found=value)
            n = len(value)
            if n > high:
                raise Invalid(name, too_long, "too_long", value)
            if n < low:
                raise Invalid(name, too_short, found=value)
        return check

    def _schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "string", "maxLength": self.max_len}
        if self.min_len:
            schema["minLength"] = self.min_len
        return schema

    def describe(self) -> str:
        return f"a string of at most {self.max_len} characters"


class Choice(Field):
    """One of a few allowed strings."""

    __slots__ = ("values",)
    json_type = "string"

    def __init__(self, *values: str, **kw: Any) -> None:
        super().__init__(**kw)
        self.values = tuple(values)

    def compile(self, name: str) -> Check:
        allowed = frozenset(self.values)
        expected = f"must be one of {list(self.values)}"

        def check(value: Any) -> None:
            if not isinstance(value, str) or value not in allowed:
                raise Invalid(name, expected, found=value)
        return check

    def _schema(self) -> dict[str, Any]:
        return {"type": "string", "enum": list(self.values)}

    def describe(self) -> str:
        return f"one of {list(self.values)}"


class _Numeric(Field):
    __slots__ = ("minimum", "maximum", "exclusive_minimum", "exclusive_maximum")

    def __init__(self, *, minimum: float | None = None, maximum: float | None = None,
                 exclusive_minimum: float | None = None, exclusive_maximum: float | None = None,
                 **kw: Any) -> None:
        super().__init__(**kw)
        self.minimum, self.maximum = minimum, maximum
        self.exclusive_minimum, self.exclusive_maximum = exclusive_minimum, exclusive_maximum

    @abstractmethod
    def _accepts_type(self, value: Any) -> bool:
        """Whether ``value`` has this field's JSON type (bool is not a number)."""

    def compile(self, name: str) -> Check:
        low, high = self.minimum, self.maximum
        xlow, xhigh = self.exclusive_minimum, self.exclusive_maximum
        expected = f"must be {self.describe()}"
        accepts = self._accepts_type

        def check(value: Any) -> None:
            if not accepts(value) or (low is not None and value < low) or (high is not None and value > high) \
                    or (xlow is not None and value <= xlow) or (xhigh is not None and value >= xhigh):
                raise Invalid(name, expected, found=value)
        return check

    def _schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": self.json_type}
        for key, value in (("minimum", self.minimum), ("maximum", self.maximum),
                           ("exclusiveMinimum", self.exclusive_minimum), ("exclusiveMaximum", self.exclusive_maximum)):
            if value is not None:
                schema[key] = value
        return schema

    def _range(self) -> str:
        parts = []
        if self.minimum is not None:
            parts.append(f"at least {self.minimum:g}")
        if self.exclusive_minimum is not None:
            parts.append(f"more than {self.exclusive_minimum:g}")
        if self.maximum is not None:
            parts.append(f"at most {self.maximum:g}")
        if self.exclusive_maximum is not None:
            parts.append(f"less than {self.exclusive_maximum:g}")
        return (", " + " and ".join(parts)) if parts else ""


class Integer(_Numeric):
    """A whole number. As in JSON, ``2.0`` is the integer 2 (JSON does not
    tell them apart); ``true`` is not a number."""

    __slots__ = ()
    json_type = "integer"

    def _accepts_type(self, value: Any) -> bool:
        cls = value.__class__
        return cls is int or (cls is float and value.is_integer()) or (
            isinstance(value, int) and not isinstance(value, bool))

    def describe(self) -> str:
        return "a whole number" + self._range()


class Number(_Numeric):
    """A number (``true`` is not one)."""

    __slots__ = ()
    json_type = "number"

    def _accepts_type(self, value: Any) -> bool:
        cls = value.__class__
        # value == value refuses NaN (TOML has it; it compares as in range).
        return (cls is int or cls is float or (isinstance(value, (int, float)) and not isinstance(value, bool))) \
            and value == value

    def describe(self) -> str:
        return "a number" + self._range()


class Boolean(Field):
    __slots__ = ()
    json_type = "boolean"

    def compile(self, name: str) -> Check:
        def check(value: Any) -> None:
            if value is not True and value is not False:
                raise Invalid(name, "must be true or false", found=value)
        return check

    def describe(self) -> str:
        return "true or false"


class ListOf(Field):
    """A list of at most ``max_items`` values, each of shape ``item``."""

    __slots__ = ("item", "max_items", "min_items", "what")
    json_type = "array"

    def __init__(self, item: Field, *, max_items: int | None = None, min_items: int = 0, what: str = "",
                 **kw: Any) -> None:
        super().__init__(**kw)
        self.item = item
        self.max_items = max_items
        self.min_items = min_items
        #: How messages describe the whole list when it does not fit.
        self.what = what

    def compile(self, name: str) -> Check:
        high, low = self.max_items, self.min_items
        expected = f"must be {self.describe()}"
        item = self.item.compile(f"{name}[]")
        what = self.what
        if what and isinstance(self.item, Text) and not self.item.min_len:
            return _text_list(name, expected, high, low, self.item.max_len)

        def check(value: Any) -> None:
            if value.__class__ is not list and not isinstance(value, list):
                raise Invalid(name, expected, found=value)
            n = len(value)
            if (high is not None and n > high) or n < low:
                raise Invalid(name, expected, found=value)
            if not what:
                for v in value:
                    item(v)
                return
            try:
                for v in value:
                    item(v)
            except Invalid:
                raise Invalid(name, expected, found=value) from None  # the list as a whole, as ``what`` says
        return check

    def _schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "array", "items": self.item.json_schema()}
        if self.max_items is not None:
            schema["maxItems"] = self.max_items
        if self.min_items:
            schema["minItems"] = self.min_items
        return schema

    def describe(self) -> str:
        if self.what:
            return self.what
        size = f"at most {self.max_items} " if self.max_items is not None else ""
        return f"a list of {size}items, each {self.item.describe()}"


def _text_list(name: str, expected: str, high: int | None, low: int, longest: int) -> Check:
    """A list of short strings (ids), the most common list: one loop, no call per item."""
    most = high if high is not None else float("inf")

    def check(value: Any) -> None:
        if value.__class__ is not list and not isinstance(value, list):
            raise Invalid(name, expected, found=value)
        if not low <= len(value) <= most:
            raise Invalid(name, expected, found=value)
        for v in value:
            if (v.__class__ is not str and not isinstance(v, str)) or len(v) > longest:
                raise Invalid(name, expected, found=value)
    return check


class Object(Field):
    """An object (a JSON object, a TOML table): free-form, or with declared
    ``fields`` (keys not declared are then refused, to catch typos)."""

    __slots__ = ("fields",)
    json_type = "object"

    def __init__(self, fields: Fields | Mapping[str, Field] | None = None, **kw: Any) -> None:
        super().__init__(**kw)
        self.fields = fields if fields is None or isinstance(fields, Fields) else Fields(fields, closed=True)

    def compile(self, name: str) -> Check:
        inner = self.fields.compile(prefix=f"{name}.") if self.fields is not None else None

        def check(value: Any) -> None:
            if value.__class__ is not dict and not isinstance(value, Mapping):
                raise Invalid(name, "must be an object", found=value)
            if inner is not None:
                inner(value)
        return check

    def _schema(self) -> dict[str, Any]:
        if self.fields is None:
            return {"type": "object"}
        return self.fields.json_schema()

    def describe(self) -> str:
        if self.fields is None:
            return "an object"
        return "an object with " + ", ".join(self.fields.names())


class Anything(Field):
    """Any value: a setting a strategy documents but does not constrain."""

    __slots__ = ()

    def compile(self, name: str) -> Check:
        return _accept

    def _schema(self) -> dict[str, Any]:
        return {}

    def describe(self) -> str:
        return "any value"


def _accept(value: Any) -> None:
    pass


def _step(key: str, field: Field, name: str) -> Callable[[Callable[..., Any]], None]:
    """A function checking one field of an object, given the object's ``get``.

    Specialised on whether the field is required and nullable, so the common
    cases cost one lookup and one call (``null`` fails every value check, so
    a field that is not nullable needs no test for it).
    """
    check = field.compile(name)
    missing = f"is required: {field.describe()}"
    if field.required:
        nullable = field.nullable

        def required(get: Callable[..., Any]) -> None:
            value = get(key, MISSING)
            if value is MISSING:
                raise Invalid(name, missing, found=MISSING)
            if value is not None or not nullable:
                check(value)
        return required
    if field.nullable:
        def optional_or_null(get: Callable[..., Any]) -> None:
            value = get(key)
            if value is not None:
                check(value)
        return optional_or_null

    def optional(get: Callable[..., Any]) -> None:
        value = get(key, MISSING)
        if value is not MISSING:
            check(value)
    return optional


class Fields:
    """The fields of an object: a command's payload, a strategy's settings.

    ``closed``: keys not declared are refused (settings, where a typo must
    fail loudly); open by default, as command payloads are (a client may
    send more than a server version reads).
    """

    __slots__ = ("fields", "closed", "check_mapping")

    def __init__(self, fields: Mapping[str, Field] | None = None, *, closed: bool = False) -> None:
        self.fields: dict[str, Field] = dict(fields or {})
        self.closed = closed
        #: The compiled check of a Mapping (what :meth:`check` runs after
        #: making sure it has a Mapping).
        self.check_mapping = self.compile()

    def __iter__(self) -> Iterator[tuple[str, Field]]:
        return iter(self.fields.items())

    def __len__(self) -> int:
        return len(self.fields)

    def names(self) -> list[str]:
        return list(self.fields)

    def compile(self, prefix: str = "") -> Callable[[Mapping[str, Any]], None]:
        """One function checking a whole object (which must be a Mapping)."""
        steps = tuple(_step(key, field, prefix + key) for key, field in self.fields.items())
        known = frozenset(self.fields)
        closed = self.closed

        def check(obj: Mapping[str, Any]) -> None:
            get = obj.get
            for step in steps:
                step(get)
            if closed:
                unknown = [k for k in obj if k not in known]
                if unknown:
                    expected = sorted(known) if known else "none"
                    raise Invalid(prefix.rstrip("."), f"has unknown key(s) {sorted(map(str, unknown))}; "
                                  f"expected {expected}", found=obj)
        return check

    def check(self, obj: Any) -> None:
        """Raise :class:`Invalid` unless ``obj`` is an object of these fields."""
        if obj.__class__ is not dict and not isinstance(obj, Mapping):
            raise Invalid("", "expected an object", found=obj)
        self.check_mapping(obj)

    def defaults(self) -> dict[str, Any]:
        """The declared defaults of the fields that have one."""
        return {key: field.default for key, field in self.fields.items() if field.default is not MISSING}

    def json_schema(self) -> dict[str, Any]:
        """This object as JSON Schema (draft 2020-12)."""
        schema: dict[str, Any] = {
            "type": "object",
            "properties": {key: field.json_schema() for key, field in self.fields.items()},
        }
        required = [key for key, field in self.fields.items() if field.required]
        if required:
            schema["required"] = required
        if self.closed:
            schema["additionalProperties"] = False
        return schema
