from django.shortcuts import render

from memos.models import Memorandum, ResponsibilityList


def memo_list(request):
    current = ResponsibilityList.current()
    memos = (
        Memorandum.objects.filter(responsibility_list=current)
        .select_related("target_subject", "implementing_department")
        .order_by("seq")
    )
    return render(request, "memo_list.html", {"current": current, "memos": memos})
