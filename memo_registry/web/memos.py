"""The public pages: the list, one memo, the lookup, the divisions, the export, the icon.

Thin views over ``memo_registry.services.memos`` (which memos, with what) and
``memo_registry.services.lookup`` (what applies to a listing).  Every page runs a fixed
number of queries whatever the number of memos; a query string a page cannot
use (an unknown kind, a page number, control characters, a paragraph of
text) gives the normal page, with a notice where a filter was ignored.
"""

from urllib.parse import quote, urlencode

from django.conf import settings
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpResponse
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe
from django.views.generic import DetailView, ListView, TemplateView

from measures.models import BasisStatus, Division, Measure
from memo_registry.services import export
from memo_registry.services.lookup import MATCH_LABELS, listing_labels, measures_for_listing
from memo_registry.services.memos import (
    MemoFilterSet,
    all_lists,
    current_list,
    filter_choices,
    valid_filterset,
)
from memo_registry.services.search import clean_query, pinyin_sort_key
from memos.models import Memorandum

EXPORT_NAME = "联合奖惩备忘录责任清单"


def effective_filters(filterset: MemoFilterSet) -> dict[str, str]:
    """The filters a page applied, as query-string values (for links and notices)."""
    data = filterset.form.cleaned_data
    values = {
        "search": data.get("search") or "",
        "kind": data.get("kind") or "",
        "department": data.get("department") or "",
        "division": data.get("division") or "",
        "basis_status": data.get("basis_status") or "",
        "list": data["list"].doc_number if data.get("list") else "",
        "include_repealed": "true" if data.get("include_repealed") else "",
    }
    return {name: value for name, value in values.items() if value}


def _by_pinyin(names):
    return sorted(set(names), key=pinyin_sort_key)


def _link_divisions(memos) -> None:
    """Give each division on the page its ``url``: reversed once per division,
    not once per measure (a page of 50 memos links ~250 divisions; reversing
    each was a fifth of the page's time)."""
    urls: dict[int, str] = {}
    for memo in memos:
        for measure in memo.measures.all():
            for division in measure.divisions.all():
                if division.pk not in urls:
                    urls[division.pk] = reverse("division_detail", args=[division.pk])
                division.url = urls[division.pk]


class MemoListView(ListView):
    """``/``: the list as the document's table, filtered, searched, with counts."""

    template_name = "memos/list.html"
    context_object_name = "memos"
    # A city list is tens of memoranda and fits one page; a province's
    # thousand would be a 1.6 MB page taking most of a second to render.
    paginate_by = 50

    def paginate_queryset(self, queryset, page_size):
        """Like ListView's, but a page number out of range or not a number
        shows the nearest page instead of a 404, and the memo and measure
        totals come from one query."""
        self.totals = Memorandum.objects.filter(pk__in=queryset.values("pk")).aggregate(
            memos=Count("pk", distinct=True), measures=Count("measures")
        )
        paginator = self.get_paginator(queryset, page_size, allow_empty_first_page=True)
        paginator.count = self.totals["memos"]  # a cached_property: no COUNT query
        page = paginator.get_page(self.request.GET.get("page"))
        return paginator, page, page.object_list, page.has_other_pages()

    def get_queryset(self):
        self.filterset, self.ignored = valid_filterset(
            self.request.GET, Memorandum.objects.with_relations(), self.request
        )
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        memos = list(context["memos"])
        paginator = context["paginator"]
        chosen = self.filterset.responsibility_list
        filters = effective_filters(self.filterset)
        names = filter_choices(self.filterset)
        departments, divisions = (_by_pinyin(offered) for offered in names)
        _link_divisions(memos)
        # A name typed into the address bar stays visible as the selected option.
        for name, options in (("department", departments), ("division", divisions)):
            if filters.get(name) and filters[name] not in options:
                options.insert(0, filters[name])
        query = "?" + urlencode(filters) if filters else ""
        context.update(
            memos=memos,
            memo_count=paginator.count,
            measure_count=self.totals["measures"],
            page_query=urlencode(filters) + "&" if filters else "",
            responsibility_list=chosen,
            is_current_list=chosen is not None and chosen.is_current,
            lists=all_lists(self.request),
            filters=filters,
            ignored=self.ignored,
            kinds=Memorandum.Kind.choices,
            basis_statuses=BasisStatus.choices,
            basis_status_label=dict(BasisStatus.choices).get(filters.get("basis_status"), ""),
            departments=departments,
            divisions=divisions,
            export_links=[
                ("xlsx", "Excel 表格（xlsx）"),
                ("csv", "CSV"),
            ],
            export_query=query,
            filtered=bool(set(filters) - {"list"}),
        )
        return context


class MemoDetailView(DetailView):
    """``/memos/<id>/``: one memo in full, whatever its list or status."""

    template_name = "memos/detail.html"
    context_object_name = "memo"
    queryset = Memorandum.objects.with_relations()


class LookupView(TemplateView):
    """``/lookup/``: a subject has been flagged under a listing; what must be done?"""

    template_name = "memos/lookup.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        responsibility_list = current_list(self.request)
        query = clean_query(self.request.GET.get("q"))
        labels = listing_labels(responsibility_list)
        answer = measures_for_listing(query, responsibility_list) if query else None
        context.update(
            query=query,
            answer=answer,
            labels=labels,
            label_chosen=any(query in group for _, group in labels),
            match_labels=MATCH_LABELS,
            responsibility_list=responsibility_list,
        )
        return context


class DivisionListView(PermissionRequiredMixin, ListView):
    """``/divisions/``: every division with what it is responsible for in the current list.

    Signed-in staff only: anonymous visitors read the list, memo pages and lookup.
    """

    permission_required = "measures.view_division"
    template_name = "divisions/list.html"
    context_object_name = "divisions"

    def get_queryset(self):
        in_list = Q(
            measures__memo__in=Memorandum.objects.of_list(current_list(self.request)).in_force()
        )
        divisions = Division.objects.annotate(
            memo_count=Count("measures__memo", filter=in_list, distinct=True),
            measure_count=Count("measures", filter=in_list, distinct=True),
        )
        return sorted(divisions, key=lambda division: pinyin_sort_key(division.name))


class DivisionDetailView(PermissionRequiredMixin, DetailView):
    """``/divisions/<id>/``: the measures one division carries out, memo by memo."""

    permission_required = "measures.view_division"
    template_name = "divisions/detail.html"
    context_object_name = "division"
    model = Division

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        division = self.object
        responsibility_list = current_list(self.request)
        its_measures = Measure.objects.filter(divisions=division)
        basis_status = self.request.GET.get("basis_status", "")
        if basis_status in BasisStatus.values:
            its_measures = its_measures.in_basis_status(basis_status)
        else:
            # An unknown status is ignored, and said so (as the list page does).
            context["ignored"] = ["实施依据"] if basis_status else []
            basis_status = ""
        memos = list(
            Memorandum.objects.of_list(responsibility_list)
            .in_force()
            .filter(pk__in=its_measures.values("memo_id"))
            .with_relations(measures=its_measures)
        )
        context.update(
            memos=memos,
            memo_count=len(memos),
            measure_count=sum(len(memo.measures.all()) for memo in memos),
            responsibility_list=responsibility_list,
            basis_statuses=BasisStatus.choices,
            filters={"basis_status": basis_status},
        )
        return context


class ApiDocsView(TemplateView):
    """``/api-docs/``: the API's endpoints and parameters, for the people who call it."""

    template_name = "api_docs.html"


def content_disposition(filename: str) -> str:
    """An attachment header that every browser reads, Chinese name included (RFC 6266/5987)."""
    ascii_name = filename.encode("ascii", "ignore").decode() or "export"
    if ascii_name.startswith("."):
        ascii_name = "memo-registry" + ascii_name
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def memo_export(request, fmt: str):
    """``/export.<fmt>``: exactly the memos the list page shows for the same query string."""
    if fmt not in export.CONTENT_TYPES:
        raise Http404("不支持的导出格式。")
    filterset, _ = valid_filterset(request.GET, Memorandum.objects.with_relations(), request)
    response = HttpResponse(
        export.export_file(filterset.qs, fmt), content_type=export.CONTENT_TYPES[fmt]
    )
    response["Content-Disposition"] = content_disposition(f"{EXPORT_NAME}.{fmt}")
    return response


# The source file, not the collected one: it is where the code is, whether or
# not collectstatic has run (the tests, DEBUG), and it is the file the pages link.
FAVICON = settings.BASE_DIR / "static" / "favicon.svg"


@require_safe
@cache_control(public=True, max_age=24 * 60 * 60)
def favicon(request):
    """``/favicon.ico``: browsers ask for it by themselves wherever no page names
    an icon (a JSON answer, a file); the pages and the admin link the same SVG."""
    return FileResponse(FAVICON.open("rb"), content_type="image/svg+xml")
