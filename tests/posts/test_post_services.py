"""Posts, skills and the talent pool through the services, without HTTP."""
import datetime as dt

import pytest

from factories import SYSTEM, make_assignment, make_employee, make_post, unit_by_code
from portal.accounts.models import User
from portal.audit.models import AuditEvent
from portal.core.errors import NotInScope, ServiceError
from portal.core.permissions import Scope
from portal.posts import services
from portal.posts.models import Post, Skill

pytestmark = pytest.mark.usefixtures("db")

TODAY = dt.date.today()
YEAR_AGO = TODAY - dt.timedelta(days=365)


def skills_of(post):
    return sorted((row.skill.name, row.level) for row in services.post_skills(post))


# --- posts -------------------------------------------------------------------------------

def test_create_a_post_with_new_and_known_skills(hr_cn, excn):
    Skill.create(name="Swedish")
    skills = Skill.select().count()
    post = services.create_post(hr_cn, excn, " cs-x ", "京东客服", "接待咨询", "组长", 4, 60,
                                [("swedish", 2), ("京东后台测试", 3), ("", 5)])
    assert (post.code, post.title, post.headcount_plan, post.capacity) == ("CS-X", "京东客服", 4, 60)
    assert skills_of(post) == [("Swedish", 2), ("京东后台测试", 3)]  # "swedish" is the known "Swedish"
    assert Skill.select().count() == skills + 1
    actions = [e.action for e in AuditEvent.select().order_by(AuditEvent.id.desc()).limit(2)]
    assert actions == ["posts.post_created", "posts.skill_created"]


def test_a_post_belongs_to_a_company(hr_cn):
    with pytest.raises(ServiceError) as error:
        services.create_post(hr_cn, unit_by_code("CN-JD"), "X", "X")
    assert error.value.field == "company"


def test_codes_are_unique_per_company(hr_cn, hr_de, excn):
    services.create_post(hr_cn, excn, "CS", "客服")
    with pytest.raises(ServiceError) as error:
        services.create_post(hr_cn, excn, "cs", "客服二")
    assert error.value.field == "code"
    services.create_post(hr_de, unit_by_code("EXDE"), "CS", "Kundenservice")  # another company may


@pytest.mark.parametrize("field,values", [
    ("title", {"title": " "}),
    ("capacity", {"capacity": 0}),
    ("capacity", {"capacity": 101}),
    ("headcount_plan", {"headcount_plan": -1}),
    ("code", {"code": "a b"}),
    ("skills", {"skills": [("售后", 6)]}),
    ("skills", {"skills": [("售后", 2), ("售后 ", 3)]}),
])
def test_bad_posts_are_refused(hr_cn, excn, field, values):
    arguments = {"code": "OK", "title": "OK", "capacity": 100, "headcount_plan": 1, "skills": ()} | values
    posts = Post.select().count()
    with pytest.raises(ServiceError) as error:
        services.create_post(hr_cn, excn, **arguments)
    assert error.value.field == field
    assert Post.select().count() == posts


def test_hr_cannot_create_posts_in_another_company(hr_de, excn):
    with pytest.raises(NotInScope):
        services.create_post(hr_de, excn, "X", "X")


def test_update_a_post_and_its_skills(hr_cn):
    post = make_post("EXCN", skills=[("售后", 2), ("京东后台", 3)])
    updated = services.update_post(hr_cn, post, post.version, post.code, "新标题", "职责", "", 2, 80,
                                   [("售后", 4), ("话术", 1)])
    assert (updated.title, updated.capacity, updated.version) == ("新标题", 80, post.version + 1)
    assert skills_of(updated) == [("售后", 4), ("话术", 1)]
    event = AuditEvent.select().where(AuditEvent.action == "posts.post_updated").get()
    assert "京东后台" in event.before and "话术" in event.after


def test_an_edit_of_an_old_version_is_refused(hr_cn):
    post = make_post("EXCN")
    services.update_post(hr_cn, post, post.version, post.code, "A", "", "", 1, 100, [])
    with pytest.raises(ServiceError):
        services.update_post(hr_cn, post, post.version, post.code, "B", "", "", 1, 100, [])
    assert Post.get_by_id(post.id).title == "A"


def test_archive_refused_while_someone_holds_the_post(hr_cn):
    post = make_post("EXCN")
    assignment = make_assignment(make_employee("EXCN"), post, "CN-JD-CS-A", 50, YEAR_AGO)
    with pytest.raises(ServiceError):
        services.archive_post(hr_cn, post)
    from portal.people.assignments import end_assignment

    end_assignment(SYSTEM, assignment, TODAY - dt.timedelta(days=1))
    archived = services.archive_post(hr_cn, post)
    assert archived.archived_at is not None
    assert services.restore_post(hr_cn, archived).archived_at is None


# --- people's skills ----------------------------------------------------------------------

def test_set_a_persons_skills(hr_cn):
    person = make_employee("EXCN")
    services.set_employee_skills(hr_cn, person, [("售后", 3), ("German", 2)])
    services.set_employee_skills(hr_cn, person, [("售后", 4)])
    assert [(row.skill.name, row.level) for row in services.employee_skills(person)] == [("售后", 4)]
    event = AuditEvent.select().where(AuditEvent.action == "people.skills_changed").order_by(AuditEvent.id.desc()).get()
    assert '"German", 2' in event.before


def test_hr_cannot_set_skills_of_people_outside_their_scope(hr_de):
    with pytest.raises(NotInScope):
        services.set_employee_skills(hr_de, make_employee("EXCN"), [("售后", 3)])


# --- lists --------------------------------------------------------------------------------

def test_list_posts_counts_holders_and_shares_in_scope(hr_cn, hr_de):
    post = make_post("EXCN", code="TEST-1", title="测试岗位", headcount_plan=3)
    make_post("EXDE", code="TEST-2", title="Testposten")
    for share in (60, 40):
        make_assignment(make_employee("EXCN"), post, "CN-JD-CS-A", share, YEAR_AGO)
    rows, has_next = services.list_posts(hr_cn.scope, services.PostFilters(q="test-"))
    assert [(p.title, p.holders, p.filled) for p in rows] == [("测试岗位", 2, 100)] and not has_next
    rows, _ = services.list_posts(hr_de.scope, services.PostFilters(q="test"))
    assert [p.title for p in rows] == ["Testposten"]
    rows, _ = services.list_posts(hr_de.scope, services.PostFilters(), per_page=1000)
    assert {p.company_id for p in rows} == {unit_by_code("EXDE").id}


def test_post_holders_now_and_later(hr_cn):
    post = make_post("EXCN", headcount_plan=2)
    now = make_assignment(make_employee("EXCN"), post, "CN-JD-CS-A", 60, YEAR_AGO)
    later = make_assignment(make_employee("EXCN"), post, "CN-JD-CS-A", 50, TODAY + dt.timedelta(days=9))
    current, coming, hidden = services.post_holders(post, hr_cn.scope)
    assert [a.id for a in current] == [now.id] and [a.id for a in coming] == [later.id] and hidden == 0
    assert services.staffing(post, current) == {"people": 1, "filled": 60, "plan": 2}


# --- the talent pool ----------------------------------------------------------------------

@pytest.fixture
def pool(db):
    """Three people of EXCN and one of EXDE with skills and posts."""
    jd = make_post("EXCN", title="京东客服")
    people = {name: make_employee(code, legal_name=name) for name, code in
              (("甲", "EXCN"), ("乙", "EXCN"), ("丙", "EXCN"), ("Dora", "EXDE"))}
    services.set_employee_skills(SYSTEM, people["甲"], [("售后", 4), ("German", 1)])
    services.set_employee_skills(SYSTEM, people["乙"], [("售后", 2)])
    services.set_employee_skills(SYSTEM, people["Dora"], [("售后", 5)])
    make_assignment(people["甲"], jd, "CN-JD-CS-A", 80, YEAR_AGO, is_primary=True)
    make_assignment(people["乙"], jd, "CN-JD-CS-B", 30, YEAR_AGO, is_primary=True)
    return {"people": people, "jd": jd, "after_sales": Skill.get(Skill.name == "售后"),
            "german": Skill.get(Skill.name == "German")}


def names(scope, **filters):
    rows, _ = services.talent_pool(scope, services.TalentFilters(**filters), per_page=1000)
    return {row.legal_name for row in rows} & {"甲", "乙", "丙", "Dora"}


def test_talent_pool_filters(hr_cn, pool):
    scope = hr_cn.scope
    assert names(scope) == {"甲", "乙", "丙"}
    assert names(scope, skill_id=pool["after_sales"].id) == {"甲", "乙"}
    assert names(scope, skill_id=pool["after_sales"].id, min_level=3) == {"甲"}
    assert names(scope, post_id=pool["jd"].id) == {"甲", "乙"}
    assert names(scope, min_spare=50) == {"乙", "丙"}  # 甲 holds 80%
    assert names(scope, min_spare=100) == {"丙"}
    assert names(scope, q="乙") == {"乙"}


def test_talent_pool_spans_the_companies_in_scope_only(hr_de, pool):
    assert names(hr_de.scope) == {"Dora"}
    admin = Scope.for_user(User.get(User.username == "admin"))
    assert names(admin, skill_id=pool["after_sales"].id, min_level=4) == {"甲", "Dora"}


def test_talent_pool_rows_carry_posts_load_and_skills(hr_cn, pool):
    rows, _ = services.talent_pool(hr_cn.scope, services.TalentFilters(skill_id=pool["german"].id))
    (row,) = rows
    assert row.load == 80 and [a.post.title for a in row.assignments] == ["京东客服"]
    assert row.skill_levels[0].skill.name == "German"  # the skill searched for comes first

