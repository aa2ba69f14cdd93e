import pytest
from django.core.management import call_command

FIXTURE_2018 = "fixtures/responsibility_list_2018.json"


@pytest.fixture
def list_2018(db):
    """The 2018 responsibility list, loaded from the project's fixture."""
    from memos.models import ResponsibilityList

    call_command("loaddata", FIXTURE_2018, verbosity=0)
    return ResponsibilityList.objects.get(doc_number="武质技监管〔2018〕22号")
