import re, pytest
from signoff.visuals.models import ImageFinding
from signoff.visuals import selectors
from test_web_images import images_url, options, generate, campaign  # noqa

@pytest.mark.django_db
def test_dbg(options, as_person, campaign):
    blocked = options[0]
    f = ImageFinding.objects.create(image=blocked, rule_id="x", severity="block", message="The label does not match", bbox=[1,2,3,4])
    print(f.pk, f.rendition_id, blocked.findings.count())
    print([ (i["id"], i["findings"]) for i in selectors.images_of(campaign)])
