from attribution_world import build_world
from factories import SYSTEM
from portal.accounts.models import User
from portal.cs import attribution
from portal.cs.models import CsAttribution, CsOverride
from portal.people.models import Employee


def demo_employee(username):
    return Employee.get(Employee.user == User.get(User.username == username).id)


def computed_world(bound=None):
    world = build_world(bound=bound)
    attribution.compute_period(SYSTEM, world.company, world.day, world.day)
    return world


def test_hr_sees_the_evidence_full_page_and_fragment(db, hr_cn_client):
    w = computed_world()
    url = f"/cs/conversations/{w.convs.login.id}"
    page = hr_cn_client.get(url)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Why was this credited?" in text and "10.9.8.7" in text and "matched by IP address" in text
    assert "<html" in text.lower()
    fragment = hr_cn_client.get(url, htmx=True).get_data(as_text=True)
    assert "10.9.8.7" in fragment and "<html" not in fragment.lower()
    shift = hr_cn_client.get(f"/cs/conversations/{w.convs.clocked.id}").get_data(as_text=True)
    assert "clocked in and rostered" in shift
    assert "Nobody: no evidence" in hr_cn_client.get(f"/cs/conversations/{w.convs.nobody.id}").get_data(as_text=True)


def test_german_hr_gets_404_on_mainland_conversations(db, hr_de_client):
    w = computed_world()
    assert hr_de_client.get(f"/cs/conversations/{w.convs.bound.id}").status_code == 404
    listing = hr_de_client.get("/cs/conversations")
    assert w.convs.bound.session_id not in listing.get_data(as_text=True)


def test_agent_sees_only_their_own_credited_conversation(db, agent_client):
    w = computed_world(bound=demo_employee("agent.jd1"))
    assert agent_client.get(f"/cs/conversations/{w.convs.bound.id}").status_code == 200
    assert agent_client.get(f"/cs/conversations/{w.convs.login.id}").status_code == 404
    assert agent_client.get("/cs/conversations").status_code in (403, 404)


def test_lead_sees_the_team_and_overrides(db, lead_client):
    agent = demo_employee("agent.jd1")
    w = computed_world(bound=agent)
    url = f"/cs/conversations/{w.convs.bound.id}"
    page = lead_client.get(url)
    assert page.status_code == 200 and "Override the credit" in page.get_data(as_text=True)
    response = lead_client.post(url + "/override", {"employee": "0", "reason": "test conversation"})
    assert response.status_code == 302
    assert not CsAttribution.select().where(CsAttribution.conversation == w.convs.bound.id).exists()
    assert CsOverride.get(CsOverride.conversation == w.convs.bound.id).employee_id is None
    # credited to nobody, the conversation left the lead's team scope (the store is not theirs)
    assert lead_client.get(url).status_code == 404


def test_override_needs_a_reason(db, hr_cn_client):
    w = computed_world()
    response = hr_cn_client.post(f"/cs/conversations/{w.convs.login.id}/override", {"employee": "0", "reason": ""},
                                 htmx=True)
    assert response.status_code == 422


def test_unattributed_list_is_counted(db, hr_cn_client):
    w = computed_world()
    day = w.day.isoformat()
    text = hr_cn_client.get(f"/cs/conversations?account={w.account.id}&start={day}&end={day}&unattributed=1") \
        .get_data(as_text=True)
    assert "1 unattributed conversation" in text
    assert w.convs.nobody.session_id in text and w.convs.login.session_id not in text
    level = hr_cn_client.get(f"/cs/conversations?account={w.account.id}&level=4", htmx=True).get_data(as_text=True)
    assert w.convs.rostered.session_id in level and w.convs.bound.session_id not in level
    person = hr_cn_client.get(f"/cs/conversations?employee={w.ip_person.id}").get_data(as_text=True)
    assert w.convs.login.session_id in person and w.convs.rostered.session_id not in person
