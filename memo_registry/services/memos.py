"""Which memoranda a page or an API call shows: one queryset, one set of filters.

Everything a memo is shown with comes from ``Memorandum.objects.with_relations()``
(``memos.models.MemorandumQuerySet``, with ``of_list`` and ``in_force``).
``MemoFilterSet`` reads the filters of the list page, its export and
``/api/memos/`` from a query string, so the three always agree:

- ``list``: a list's 文号, in any bracket style; by default the current list;
- ``include_repealed``: repealed memos are left out unless this is true;
- ``search``: see ``memo_registry.services.search``;
- ``kind``: ``reward`` or ``punishment``;
- ``department``: an initiating department's name (发起部门);
- ``division``: a responsible division's name (责任处室);
- ``basis_status``: ``sufficient``, ``insufficient`` or ``missing``: the memos
  with at least one measure whose legal basis (实施依据) is in that status.

An unknown department or division name is not an error: no memo matches it,
as no memo of that department exists.  An unknown ``kind`` or ``list`` is an
error (the form is invalid; the API answers 400, the pages ignore that filter
and say so).
"""

from django import forms
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest
from django_filters import rest_framework as filters

from measures.models import BasisStatus, Division, Measure
from memo_registry.lib.text import canonical_doc_number, squeeze_to
from memo_registry.services.search import MAX_QUERY_LENGTH, search_memos
from memos.models import Department, Memorandum, ResponsibilityList

# Names and 文号 are short; anything longer cannot match and is cut.
MAX_NAME_LENGTH = 200


def all_lists(request: HttpRequest) -> list[ResponsibilityList]:
    """Every responsibility list (a handful), read once per request."""
    if not hasattr(request, "_all_lists"):
        request._all_lists = list(ResponsibilityList.objects.all())
    return request._all_lists


def current_list(request: HttpRequest | None = None) -> ResponsibilityList | None:
    """The current responsibility list, read once per request (with the others:
    the list page offers them all, and they are few)."""
    if request is None:
        return ResponsibilityList.current()
    return next((item for item in all_lists(request) if item.is_current), None)


class CleanTextField(forms.CharField):
    """Text from a query string, cleaned like stored text and cut to a sane length.

    Control characters (a NUL reaches PostgreSQL as an error) never get
    through, and an over-long value is cut rather than refused.
    """

    def __init__(self, *args, max_chars: int = MAX_NAME_LENGTH, **kwargs):
        self.max_chars = max_chars
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        # Cut, squeezed, cut again: the raw value is bounded before any work.
        return squeeze_to(super().to_python(value), self.max_chars)


class CleanCharFilter(filters.CharFilter):
    field_class = CleanTextField


class ListField(forms.ModelChoiceField):
    """A responsibility list named by its 文号, typed with any brackets."""

    default_error_messages = {"invalid_choice": "没有文号为“%(value)s”的责任清单。"}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        return super().to_python(canonical_doc_number(squeeze_to(value, MAX_NAME_LENGTH)))


class ListFilter(filters.CharFilter):
    """The list to show, by 文号 (a CharFilter to the schema: a 文号 is a string)."""

    field_class = ListField

    def filter(self, qs, value):
        # Applied in MemoFilterSet.filter_queryset, which knows the default.
        return qs


class MemoFilterSet(filters.FilterSet):
    """The filters of the list page, its export and ``GET /api/memos/``."""

    search = CleanCharFilter(
        method="filter_search",
        label="搜索",
        max_chars=MAX_QUERY_LENGTH,
        help_text=(
            "在文号、名称、发起部门、实施部门、奖惩对象、奖惩措施和责任处室中查找（包含即可）；"
            "只含字母时也按拼音首字母查找（sxbzxr 找到“失信被执行人”）。"
            f"控制字符被去掉，超过 {MAX_QUERY_LENGTH} 个字符的部分不用。"
        ),
    )
    kind = filters.ChoiceFilter(
        field_name="kind",
        choices=Memorandum.Kind.choices,
        label="类型",
        help_text="类型：reward（激励）或 punishment（惩戒）；其他值答 400。",
    )
    department = CleanCharFilter(
        field_name="initiating_departments__name",
        label="发起部门",
        help_text="发起部门的名称（完整名称，如“武汉海关”）；没有该部门时结果为空。",
    )
    division = CleanCharFilter(
        method="filter_division",
        label="责任处室",
        help_text="责任处室的名称（完整名称，如“行政审批处”）；没有该处室时结果为空。",
    )
    basis_status = filters.ChoiceFilter(
        method="filter_basis_status",
        choices=BasisStatus.choices,
        label="实施依据",
        help_text=(
            "实施依据状态：sufficient（依据充分：有法律、行政法规、地方性法规或党中央国务院政策文件）、"
            "insufficient（依据不足：有依据但都不是上述层级）、missing（未录入实施依据）；"
            "列出至少有一项措施处于该状态的备忘录；其他值答 400。"
        ),
    )
    list = ListFilter(
        queryset=ResponsibilityList.objects.all(),
        to_field_name="doc_number",
        label="责任清单",
        help_text="责任清单的文号（括号写法不限，如“武质技监管(2018)22号”）；默认现行清单；没有该清单时答 400。",
    )
    include_repealed = filters.BooleanFilter(
        method="applied_in_filter_queryset",
        label="含已废止",
        help_text="true 时包括已废止的备忘录；默认只列现行有效的。",
    )

    class Meta:
        model = Memorandum
        fields: list[str] = []

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        self.responsibility_list: ResponsibilityList | None = None

    def filter_search(self, queryset, name, value):
        return search_memos(queryset, value)

    def filter_division(self, queryset, name, value):
        # A subquery, not a join: a memo with two measures of the division
        # must still come once.
        return queryset.filter(
            pk__in=Measure.objects.filter(divisions__name=value).values("memo_id")
        )

    def filter_basis_status(self, queryset, name, value):
        # A subquery, as for the division: a memo comes once.
        return queryset.filter(pk__in=Measure.objects.in_basis_status(value).values("memo_id"))

    def applied_in_filter_queryset(self, queryset, name, value):
        # include_repealed decides together with the default list, below.
        return queryset

    def filter_queryset(self, queryset):
        data = self.form.cleaned_data
        self.responsibility_list = data.get("list") or current_list(self.request)
        if self.responsibility_list is None:
            return queryset.none()
        queryset = queryset.of_list(self.responsibility_list)
        if not data.get("include_repealed"):
            queryset = queryset.in_force()
        return super().filter_queryset(queryset)


def filter_choices(filterset: MemoFilterSet) -> tuple[list[str], list[str]]:
    """The 发起部门 and 责任处室 names a page offers as filters (after
    ``filterset.qs``): those of at least one memo the page would show for its
    list and its 含已废止 choice, so that no choice leads to an empty page (a
    department whose only memo is repealed is not offered).  EXISTS rather
    than a join, which would read a row per measure."""
    if filterset.responsibility_list is None:
        return [], []
    shown = Memorandum.objects.of_list(filterset.responsibility_list)
    if not filterset.form.cleaned_data.get("include_repealed"):
        shown = shown.in_force()
    initiated = Memorandum.initiating_departments.through.objects.filter(
        department=OuterRef("pk"), memorandum__in=shown.values("pk")
    )
    linked = Measure.divisions.through.objects.filter(
        division=OuterRef("pk"), measure__memo__in=shown.values("pk")
    )
    departments = Department.objects.filter(Exists(initiated)).values_list("name", flat=True)
    divisions = Division.objects.filter(Exists(linked)).values_list("name", flat=True)
    return list(departments), list(divisions)


def valid_filterset(data, queryset: QuerySet, request=None) -> tuple[MemoFilterSet, list[str]]:
    """A MemoFilterSet for a page: the invalid filters are dropped, not refused.

    Gives the filterset and the labels of the filters it ignored, for the page
    to say so ("unknown kind" is a normal page with a notice, never an error).
    """
    filterset = MemoFilterSet(data, queryset=queryset, request=request)
    if filterset.is_valid():
        return filterset, []
    ignored = list(filterset.errors)
    kept = data.copy()
    for name in ignored:
        kept.pop(name, None)
    labels = [str(filterset.filters[name].label or name) for name in ignored]
    filterset = MemoFilterSet(kept, queryset=queryset, request=request)
    filterset.is_valid()
    return filterset, labels
