import re, pytest
from django.urls import reverse
from signoff.visuals.models import ImageFinding
from test_web_images import *  # noqa


@pytest.mark.django_db
def test_dbg(options, as_person):
    for o in options:
        print(o.pk, list(o.findings.values_list("severity", "rule_id", "message", "bbox")))
    page = as_person("maya").get(images_url())
    m = re.search(r'<li class="tile option.*?</li>', page.text, re.S)
    print(m.group(0))
