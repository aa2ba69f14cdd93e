"""Query parameters checked as ``/api/schema/`` documents them.

A parameter the schema gives one value (a string, an integer, a boolean) is
refused when it comes twice (``?include_repealed=true&include_repealed=false``
would otherwise mean whichever the framework happens to read); a boolean
takes ``true`` or ``false`` only (django-filter reads anything else as "not
given", so ``include_repealed=null`` quietly listed the default).  Both
answer 400 in the API's error shape, naming the parameter.
"""

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers

BOOLEAN_VALUES = {"true": True, "false": False}


def check_params(request, *, single: tuple[str, ...] = (), booleans: tuple[str, ...] = ()) -> None:
    errors: dict[str, list[str]] = {}
    for name in (*single, *booleans):
        values = request.query_params.getlist(name)
        if len(values) > 1:
            errors[name] = [f"参数 {name} 只能给一次，收到 {len(values)} 个值。"]
        elif values and name in booleans and values[0] not in BOOLEAN_VALUES:
            errors[name] = [f"参数 {name} 只能是 true 或 false，收到“{values[0][:20]}”。"]
    if errors:
        raise serializers.ValidationError(errors)


class StrictCharField(serializers.CharField):
    """A string field that takes a JSON string only: DRF's CharField would
    take ``0`` or ``true`` as the text "0" / "True", which the schema refuses."""

    def __init__(self, **kwargs):
        # What the schema says is what is checked: no silent trimming (a
        # value of spaces is not "blank" then), and minLength 1 unless blank
        # is allowed.
        kwargs.setdefault("trim_whitespace", False)
        if not kwargs.get("allow_blank"):
            kwargs.setdefault("min_length", 1)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


# A code field's schema: the custom format lets a client (and schemathesis,
# tests/test_api_contract.py) know that the check character must be right;
# a pattern cannot say it.
CREDIT_CODE_FORMAT = "uscc"  # 统一社会信用代码, GB 32100-2015
REGISTRY_CODE_FORMAT = "uscc-or-ric"  # or 居民身份证号码, GB 11643-1999


class CodeField(StrictCharField):
    """A 统一社会信用代码 or 身份证号码 in a request body."""


class CodeFieldSchema(OpenApiSerializerFieldExtension):
    target_class = CodeField

    def map_serializer_field(self, auto_schema, direction):
        return {"type": "string", "format": REGISTRY_CODE_FORMAT, "maxLength": 64}
