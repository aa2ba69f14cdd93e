"""统计 ``/stats/``: listings added, each division's and memo's feedback
on time, as SVG charts with their numbers in tables, and the embedded
checks; the same as xlsx."""

import datetime
from urllib.parse import quote

from django import forms
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.safestring import mark_safe

from memo_registry.lib.charts import Bar, bar_chart
from memo_registry.lib.spreadsheet.writer import XLSX_CONTENT_TYPE, xlsx_table
from memo_registry.services import stats as stats_service

ROW_HEADERS = ["名称", "新增待办事项", "按期反馈", "逾期反馈", "待反馈", "已超期", "按期率（%）"]


class PeriodForm(forms.Form):
    """The period of ``/stats/``, completed and refused by the API's rule
    (``stats_service.period``): ``to`` alone is that year up to that day."""

    start = forms.DateField(
        label="开始日期", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label="截至日期", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, today: datetime.date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        start, end = stats_service.period(cleaned.get("start"), cleaned.get("end"), self.today)
        if start > end:
            self.add_error("end", stats_service.REVERSED)
        return {**cleaned, "start": start, "end": end}


def period(data, today: datetime.date):
    """(form, start, end); start and end None when the form is refused."""
    if not data:
        return PeriodForm(today=today), *stats_service.period(None, None, today)
    form = PeriodForm({"start": data.get("from", ""), "end": data.get("to", "")}, today=today)
    if not form.is_valid():
        return form, None, None
    return form, form.cleaned_data["start"], form.cleaned_data["end"]


def _rate(row) -> str:
    return "—" if row.on_time_rate is None else f"{row.on_time_rate:.1f}%"


def row_cells(row) -> list:
    return [row.name, row.opened, row.on_time, row.late, row.open, row.overdue, _rate(row)]


def _viewer(view):
    return login_required(permission_required("measures.view_feedback", raise_exception=True)(view))


def _computed(request):
    """(form, stats, refusal): the refusal a 400 page naming the field."""
    today = timezone.localdate()
    form, start, end = period(request.GET, today)
    if start is None:
        return form, None, render(request, "stats/page.html", {"form": form}, status=400)
    return form, stats_service.compute(start, end, today), None


@_viewer
def stats_page(request):
    form, stats, refused = _computed(request)
    if refused:
        return refused
    months, listing_table = stats_service.listings_by_month(stats)
    chart = bar_chart(
        "各处室按期反馈率",
        [Bar(row.name, row.on_time_rate, _rate(row)) for row in stats.divisions],
        maximum=100,
    )
    context = {
        "form": form,
        "stats": stats,
        "months": months,
        "listing_table": listing_table,
        "division_chart": mark_safe(chart),  # built from escaped text only
        "memo_chart": mark_safe(
            bar_chart(
                "各备忘录按期反馈率",
                [Bar(row.name, row.on_time_rate, _rate(row)) for row in stats.memos],
                maximum=100,
            )
        ),
        "division_rows": [row_cells(row) for row in stats.divisions],
        "memo_rows": [row_cells(row) for row in stats.memos],
        "headers": ROW_HEADERS,
        "check_headers": stats_service.CHECK_HEADERS,
        "check_table": [(row.label, row.cells) for row in stats.checks],
        "query": request.GET.urlencode(),
    }
    return render(request, "stats/page.html", context)


@_viewer
def stats_export(request):
    form, stats, refused = _computed(request)
    if refused:
        return refused
    start, end = stats.start, stats.end
    rows = [["处室", *row_cells(row)] for row in stats.divisions]
    rows += [["备忘录", *row_cells(row)] for row in stats.memos]
    rows += [
        ["新增名单记录", row["list"], row["count"], "", "", "", "", row["month"].strftime("%Y-%m")]
        for row in stats.listings
    ]
    # The checks' own columns, under a header row of their own.
    rows.append(["类别", "核查结论", *stats_service.CHECK_HEADERS])
    rows += [["嵌入式核查", row.label, *row.cells] for row in stats.checks]
    content = xlsx_table(f"统计 {start}至{end}", ["类别", *ROW_HEADERS, "月份"], rows)
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    name = f"统计-{start:%Y%m%d}-{end:%Y%m%d}.xlsx"
    response["Content-Disposition"] = (
        f"attachment; filename=\"stats.xlsx\"; filename*=UTF-8''{quote(name)}"
    )
    return response
