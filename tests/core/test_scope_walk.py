"""Org scope, walked over the whole URL map.

hr.de is company HR on the German company. Every route whose URL names an
object of a registered type (unit_id, user_id, role_id, …) is requested with
every object of that type belonging to mainland China, with each of its
methods: each answer must be 404 (indistinguishable from "no such object")
and nothing may change. The routes come from the URL map, so a new route with
an object id in its URL is walked without anyone adding it here.
"""
import base64
import datetime as dt
import io

import pytest
from werkzeug.routing import IntegerConverter

from factories import SYSTEM, make_assignment, make_contact_change, make_contract, make_document, make_employee, \
    make_clock_import, make_leave_request, make_leave_type, make_people_import, make_post, make_role, \
    make_training, make_unit, unit_by_code
from portal import create_app
from portal.accounts.models import LoginAttempt, Role, User, UserSession
from portal.accounts.services import grant_role
from portal.approvals.models import ApprovalRequest
from portal.audit.models import AuditEvent
from portal.core.db import BaseModel
from portal.core.jobs import start_job
from portal.core.permissions import OBJECT_TYPES, PERMISSIONS, Scope, ScopeGrant
from portal.org.models import ALLOWED_CHILDREN, OrgUnit
from portal.people.models import Contract, Employee
from portal.posts.models import Post
from portal.time.models import CalendarDay, Rotation, ShiftType

# A 1×1 PNG, for the photo upload.
PNG_PIXEL = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")

# URL arguments that name something of the user's own rather than an org-owned
# object (ending one's own sessions is checked in tests/accounts; notifications and
# delegations in tests/approvals).
OWN_OBJECT_ARGS = {"session_id", "notification_id", "delegation_id"}


def _url_map():
    """The URL map, read at collection time so that each route becomes a test case."""
    app = create_app({"TESTING": True, "DATABASE_URL": "sqlite:///:memory:", "SECRET_KEY": "collect"})
    return app.url_map


def object_routes(url_map):
    """(endpoint, method, rule) for every method of every rule with an object-type argument."""
    cases = []
    for rule in url_map.iter_rules():
        if rule.arguments & set(OBJECT_TYPES):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                cases.append((rule.endpoint, method, rule.rule))
    return sorted(cases)


URL_MAP = _url_map()
CASES = object_routes(URL_MAP)


def _rule(url_map, endpoint, method):
    return next(r for r in url_map.iter_rules() if r.endpoint == endpoint and method in r.methods)


def _subtree_scope(company):
    """A scope holding every permission on `company` and below."""
    grant = ScopeGrant(company.id, company.path, True)
    return Scope({permission: {grant} for permission in PERMISSIONS})


def _objects_in(company, outside=None):
    """{url argument: [ids]} of every registered object type owned by `company`'s
    subtree and not reachable from `outside` (a person employed in Germany who
    also holds a post in China belongs to both)."""
    inside = _subtree_scope(company)
    excluded = _subtree_scope(outside) if outside is not None else None
    found = {}
    for arg, t in OBJECT_TYPES.items():
        query = t.model.select(t.model._meta.primary_key).where(t.scope_condition(inside, t.view_permission))
        if excluded is not None:
            query = query.where(~t.scope_condition(excluded, t.view_permission))
        found[arg] = [pk for (pk,) in query.order_by(t.model._meta.primary_key).tuples()]
    return found


@pytest.fixture
def china(db):
    """Every mainland-China object, with at least one of each type the routes use:
    a custom role defined on EXCN, a grant of it there and a job filed under EXCN."""
    excn = unit_by_code("EXCN")
    role = make_role(excn, ["org.view", "users.view"], name="CN reviewer")
    grant_role(SYSTEM, User.get(User.username == "agent.jd1"), role, unit_by_code("CN-JD"))
    start_job("audit.verify", actor=User.get(User.username == "hr.cn"), unit=excn)
    make_people_import(excn, "hr.cn", checked=True)
    make_clock_import(excn, "hr.cn")
    _person_with_records("EXCN", legal_name="王芳", national_id="110101199003071234")
    make_contact_change("agent.jd1")
    _cs_conversation("CN-JD")
    _cs_import_and_token(excn)
    return _objects_in(excn, outside=unit_by_code("EXDE"))


def _cs_conversation(store_code):
    """A CS account of the store and one conversation on it (cs_conversation_id)."""
    from portal.cs.models import CsAccount, CsConversation

    store = unit_by_code(store_code)
    account = CsAccount.create(company=store.company_id, store=store.id, code=f"WALK-{store_code}", name="Walk")
    start = dt.datetime(2026, 3, 10, 2)
    return CsConversation.create(company=store.company_id, account=account.id, session_id="WALK-1",
                                 started_at=start, ended_at=start + dt.timedelta(minutes=5))


def _cs_import_and_token(company):
    """An uploaded CS export and an API token of the company (cs_import_id, cs_api_token_id)."""
    from portal.cs import api_tokens, imports

    content = b"session_id,started_at,ended_at\nW-1,2026-03-10 10:00,2026-03-10 10:05\n"
    upload = imports.upload_cs_import(SYSTEM, company, "generic_conversations", "walk.csv", io.BytesIO(content))
    token, _secret = api_tokens.create_token(SYSTEM, company, "Walk")
    return {"cs_import_id": upload.id, "cs_api_token_id": token.id}


def _person_with_records(company_code, **values):
    """A person with a contract, a document and a training record: (person, contract, document, training)."""
    person = make_employee(company_code, **values)
    return person, make_contract(person), make_document(person), make_training(person)


def _bonus_pool(company_code, team_code):
    """A published rule of the company and this month's computed pool of the team (its
    people's statements): bonus_rule_id, bonus_pool_id."""
    from portal.bonus import services

    company = unit_by_code(company_code)
    version = services.publish_rule_version(SYSTEM, services.create_rule(
        SYSTEM, company, "Walk rule", {"dimensions": [{"source": "hr.support_points", "weight": 1}]}))
    pool = services.create_pool(SYSTEM, unit_by_code(team_code), dt.date.today(), 100_000, company.currency, version)
    services.compute_pool(SYSTEM, pool)
    return {"bonus_rule_id": version.rule_id, "bonus_pool_id": pool.id}


@pytest.fixture
def germany(db):
    """German objects for the positive control and as targets inside form data
    (a team to move things under, a role to grant)."""
    exde = unit_by_code("EXDE")
    team = make_unit(unit_by_code("EXDE-OPS"), "team", name="Retouren", code="DE-RET")
    role = make_role(exde, ["org.view"], name="DE reader")
    grant = grant_role(SYSTEM, User.get(User.username == "admin"), role, team)
    job = start_job("audit.verify", actor=User.get(User.username == "admin"), unit=exde)
    people_import = make_people_import(exde, "hr.de")
    person, contract, document, training = _person_with_records("EXDE", legal_name="Lea Becker",
                                                                national_id="L01X00T47")
    user = User.select().where(User.unit == unit_by_code("EXDE-CS-CS1")).order_by(User.id).first()
    request = make_contact_change(user)  # hr.de decides it
    post = make_post(exde, code="DE-WALK")  # nobody holds it: it may be archived
    assignment = make_assignment(person, make_post(exde, code="DE-WALK-HELD"), "EXDE-CS-CS1", 50)
    leave_type = make_leave_type(exde, needs_balance=False)
    leave_request = make_leave_request(person, leave_type, dt.date(2025, 3, 3))
    return {
        "unit_id": team.id, "user_id": user.id, "role_id": role.id, "grant_id": grant.id, "job_id": job.id,
        "import_id": people_import.id, "employee_id": person.id, "contract_id": contract.id,
        "document_id": document.id, "training_id": training.id, "request_id": request.id,
        "post_id": post.id, "assignment_id": assignment.id, "leave_type_id": leave_type.id,
        "leave_request_id": leave_request.id, "clock_import_id": make_clock_import(exde, "hr.de").id,
        **_bonus_pool("EXDE", "EXDE-CS-CS1"),  # after the assignment: the person is in the pool
        # the demo's German shift type and rotation (rosters)
        "shift_type_id": ShiftType.get((ShiftType.company == exde.id) & (ShiftType.code == "T")).id,
        "rotation_id": Rotation.select(Rotation.id).where(Rotation.company == exde.id).order_by(Rotation.id).scalar(),
        # the demo's German company calendar day (attendance)
        "calendar_day_id": CalendarDay.select(CalendarDay.id).where(CalendarDay.company == exde.id)
        .order_by(CalendarDay.id).scalar(),
        "department": unit_by_code("EXDE-CS").id, "team": team.id, "role": role.id,
        "cs_conversation_id": _cs_conversation("EXDE-CS").id,
        **_cs_set_up(exde, person),
        **_cs_import_and_token(exde),
    }


def _cs_set_up(company, person):
    """A store of the company with a personal CS account held by `person` last year, a
    sub-account they used then too, and their registered IP: the ids the set-up pages take."""
    from portal.cs import services

    store = make_unit(company, "store", name="Walk-Shop", code=f"WALK-{company.code}", platform="other")
    account = services.create_cs_account(SYSTEM, store, f"WALK-P-{company.code}", "Walk personal", kind="personal")
    binding = services.bind_personal_account(SYSTEM, account, person, dt.date(2030, 1, 1), dt.date(2030, 12, 31))
    sub = services.create_sub_account(SYSTEM, account, "Walk:waiter")
    sub_binding = services.bind_sub_account(SYSTEM, sub, person, dt.date(2030, 1, 1), dt.date(2030, 12, 31))
    station = services.register_workstation(SYSTEM, person, "ip", "10.99.0.1", "", dt.date(2030, 1, 1))
    return {"cs_account_id": account.id, "cs_sub_account_id": sub.id, "cs_account_binding_id": binding.id,
            "cs_sub_binding_id": sub_binding.id, "cs_workstation_id": station.id, "cs_store": store.id,
            "cs_person_number": person.number}


def plausible_form(endpoint, args, germany):
    """Form data a real user of the page would send, aimed where the attacker wants it."""
    if endpoint == "org.update_unit":
        unit = OrgUnit.get_by_id(args["unit_id"])
        return {"edit-name": "Übernommen", "edit-code": unit.code, "edit-version": unit.version,
                "edit-platform": unit.platform or "other", "edit-country": "DE", "edit-currency": "EUR",
                "edit-timezone": "Europe/Berlin", "edit-default_locale": "de"}
    if endpoint == "org.create_child":
        unit = OrgUnit.get_by_id(args["unit_id"])
        kind = (ALLOWED_CHILDREN.get(unit.kind) or ("team",))[0]
        return {"new-kind": kind, "new-name": "Eindringlinge", "new-code": f"INTRUDE-{unit.id}",
                "new-platform": "other", "new-country": "DE", "new-currency": "EUR",
                "new-timezone": "Europe/Berlin", "new-default_locale": "de"}
    if endpoint == "org.move_unit":
        return {"move-parent": germany["department"]}
    if endpoint == "accounts.user":
        user = User.get_by_id(args["user_id"])
        return {"username": user.username, "display_name": "Übernommen", "email": "", "unit": germany["team"],
                "locale": "", "is_active": "y"}
    if endpoint == "accounts.reset_password":
        return {"reset-new_password": "taken-over-1"}
    if endpoint == "accounts.add_grant":
        return {"grant-role": germany["role"], "grant-unit": germany["team"], "grant-include_descendants": "y"}
    if endpoint == "accounts.role":
        return {"name": "Übernommen", "description": "", "permissions": ["org.view"], "version": "1"}
    if endpoint == "people.import_mapping":
        return {"map-number": "number", "map-legal_name": "legal_name", "map-hire_date": "hire_date"}
    if endpoint in ("people.edit_employee", "people.new_employee"):
        person = Employee.get_by_id(args["employee_id"])
        return {"company": person.company_id, "number": person.number, "legal_name": "Übernommen",
                "hire_date": "2022-03-01", "status": "active", "version": person.version}
    if endpoint == "people.change_sensitive":
        return {"field": "bank_account", "value": "DE89 3704 0044 0532 0130 00"}
    if endpoint == "people.reveal_sensitive":
        return {"field": "national_id"}
    if endpoint in ("people.new_contract", "people.contract"):
        contract = Contract.get_or_none(Contract.id == args.get("contract_id"))
        return {"contract_type": "fixed_term", "start_date": "2023-01-01", "end_date": "2027-12-31",
                "weekly_hours": "30", "base_pay": "4200", "currency": "EUR",
                "version": contract.version if contract else ""}
    if endpoint in ("people.new_training", "people.training_record"):
        return {"course": "Übernahme", "completed_on": "2024-02-02", "hours": "4", "result": "attended"}
    if endpoint == "people.upload_document":
        return {"doc-file": (io.BytesIO(b"%PDF-1.4 taken over"), "takeover.pdf"), "doc-title": "Übernommen",
                "doc-category": "other"}
    if endpoint == "people.upload_photo":
        return {"photo-file": (io.BytesIO(PNG_PIXEL), "face.png")}
    if endpoint == "approvals.decide":
        return {"version": ApprovalRequest.get_by_id(args["request_id"]).version, "decision": "approve",
                "comment": "Übernommen"}
    if endpoint == "approvals.chain":
        return {"steps-0": Role.get(Role.builtin_key == "company_hr").id}
    if endpoint == "posts.edit_post":
        post = Post.get_by_id(args["post_id"])
        return {"code": post.code, "title": "Übernommen", "headcount_plan": "1", "capacity": "100",
                "version": post.version}
    if endpoint == "posts.end_assignment":
        return {"end_date": dt.date.today().isoformat()}
    if endpoint == "posts.employee_skills":
        return {"skills-0-name": "Übernahme", "skills-0-level": "3"}
    if endpoint == "cs.accounts.edit_account":
        from portal.cs.models import CsAccount

        account = CsAccount.get_by_id(args["cs_account_id"])
        return {"store": germany["cs_store"], "code": account.code, "name": "Übernommen", "kind": account.kind,
                "split_rule": "equal", "service_hours": "09:00–18:00", "version": account.version}
    if endpoint == "cs.accounts.new_sub_account":
        return {"new-name": "Übernahme"}
    if endpoint == "cs.accounts.bind_account":
        return {"bind-number": germany["cs_person_number"], "bind-valid_from": "2031-01-01"}
    if endpoint == "cs.accounts.bind_sub_account":
        from portal.cs.models import CsSubAccount

        sub = CsSubAccount.get_or_none(CsSubAccount.account == args["cs_account_id"])
        return {"sub-sub_account": sub.id if sub else germany["cs_sub_account_id"], "sub-number": germany["cs_person_number"], "sub-valid_from": "2031-01-01"}
    if endpoint == "cs.imports.import_page":
        return {"map-session_id": "session_id", "map-started_at": "started_at", "map-ended_at": "ended_at"}
    if endpoint in ("cs.accounts.end_account_binding", "cs.accounts.end_sub_binding"):
        return {"valid_to": "2030-06-30"}
    return {}  # archive, restore, revoke …: the CSRF token is all they take


def fingerprint():
    """Every row of every table (but login attempts and session touch times)."""
    state = {}
    for model in _all_models():
        if model is LoginAttempt:
            continue
        fields = [f for f in model._meta.sorted_fields if not (model is UserSession and f.name == "last_seen_at")]
        state[model.__name__] = list(model.select(*fields).order_by(model._meta.primary_key).tuples())
    return state


def _all_models():
    found, todo = [], list(BaseModel.__subclasses__())
    while todo:
        model = todo.pop()
        found.append(model)
        todo.extend(model.__subclasses__())
    return found


def request(client, method, url, data):
    return client.get(url) if method == "GET" else client.post(url, data)


def url_for_case(url_map, endpoint, method, values):
    return url_map.bind("localhost").build(endpoint, values, method=method)


# Arguments that are not objects but must name something real for the route to answer.
OTHER_ARGS = {"form_name": "edit", "kind": "people.transfer"}


def filled_args(rule, object_values):
    values = {}
    for name in rule.arguments:
        if name in object_values:
            values[name] = object_values[name]
        elif name in OTHER_ARGS:
            values[name] = OTHER_ARGS[name]
        else:
            values[name] = 1 if isinstance(rule._converters[name], IntegerConverter) else "x"
    return values


def test_every_id_in_a_url_is_a_registered_object_type():
    id_args = {arg for rule in URL_MAP.iter_rules() for arg in rule.arguments if arg.endswith("_id")}
    assert id_args - OWN_OBJECT_ARGS <= set(OBJECT_TYPES), "register the new type with register_object_type"


def test_the_walk_covers_every_route_with_an_object_in_its_url(app):
    assert object_routes(app.url_map) == CASES
    used_types = {arg for rule in app.url_map.iter_rules() for arg in rule.arguments if arg in OBJECT_TYPES}
    assert used_types >= {"unit_id", "user_id", "role_id", "grant_id", "job_id"}
    assert len(CASES) >= 13


def test_there_is_a_chinese_object_of_every_type_the_routes_use(china):
    used_types = {arg for rule in URL_MAP.iter_rules() for arg in rule.arguments if arg in OBJECT_TYPES}
    assert all(china[arg] for arg in used_types), {arg: len(china[arg]) for arg in used_types}


@pytest.mark.parametrize("endpoint,method,rule", CASES, ids=[f"{m} {r}" for _e, m, r in CASES])
def test_company_hr_cannot_reach_another_companys_objects(endpoint, method, rule, china, germany, hr_de_client):
    url_rule = _rule(URL_MAP, endpoint, method)
    object_args = sorted(url_rule.arguments & set(OBJECT_TYPES))
    before = fingerprint()
    requests = 0
    for arg in object_args:
        for object_id in china[arg]:
            # the other object arguments, if any, point at German objects hr.de may reach
            values = filled_args(url_rule, {**{a: germany[a] for a in object_args}, arg: object_id})
            url = url_for_case(URL_MAP, endpoint, method, values)
            data = {} if method == "GET" else plausible_form(endpoint, values, germany)
            response = request(hr_de_client, method, url, data)
            assert response.status_code == 404, (method, url, response.status_code)
            requests += 1
    assert requests > 0
    assert fingerprint() == before


# POST routes whose form data above is known to be complete: on a German object they must change something.
KNOWN_FORMS = {"org.update_unit", "org.create_child", "org.move_unit", "org.archive_unit", "org.restore_unit",
               "accounts.user", "accounts.reset_password", "accounts.add_grant", "accounts.revoke_grant",
               "accounts.role", "people.import_mapping", "people.edit_employee", "people.change_sensitive",
               "people.new_contract", "people.contract", "people.new_training", "people.training_record",
               "people.upload_document", "people.upload_photo", "people.archive_document", "approvals.decide",
               "approvals.chain", "posts.edit_post", "posts.archive_post", "posts.restore_post",
               "posts.end_assignment", "posts.employee_skills", "cs.accounts.edit_account",
               "cs.accounts.archive_account", "cs.accounts.new_sub_account", "cs.accounts.bind_account",
               "cs.accounts.bind_sub_account", "cs.accounts.end_account_binding", "cs.accounts.end_sub_binding",
               "cs.workstations.remove", "cs.imports.revoke_token"}


@pytest.mark.parametrize("endpoint,method,rule", CASES, ids=[f"{m} {r}" for _e, m, r in CASES])
def test_company_hr_reaches_their_own_companys_objects(endpoint, method, rule, germany, hr_de_client):
    """The same requests on German objects go through: the 404s above come from
    the scope, not from a bad URL or bad form data."""
    url_rule = _rule(URL_MAP, endpoint, method)
    values = filled_args(url_rule, germany)
    url = url_for_case(URL_MAP, endpoint, method, values)
    events = AuditEvent.select().count()
    response = request(hr_de_client, method, url, {} if method == "GET" else plausible_form(endpoint, values, germany))
    if method == "GET":
        assert response.status_code == 200, (url, response.status_code)
    elif endpoint in KNOWN_FORMS:
        assert response.status_code == 302, (url, response.status_code, response.get_data(as_text=True))
        assert AuditEvent.select().count() > events
    else:
        assert response.status_code not in (403, 404), (url, response.status_code)
