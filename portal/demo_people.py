"""The demo group's people: posts with job descriptions in each company's language,
one employee record per demo account, assignments (some people hold two posts,
across stores and once across companies), skills, contracts (some ending soon),
training, a few documents, and transfer requests waiting for approval.

Rows that come by the hundred are inserted in bulk, with one audit event for the
lot; posts, documents and requests go through their services like any other write.
Everything is drawn from the caller's seeded `rng` and dated from `today`.
"""
import datetime as dt
import re
from decimal import Decimal

from portal.accounts.models import User
from portal.approvals.services import decide_step, holders_of, submit_request
from portal.core.audit import record_event
from portal.core.db import chunked_insert, utcnow
from portal.core.money import to_minor_units
from portal.core.permissions import Actor
from portal.people.models import Assignment, Contract, Employee, EmployeeSkill, TrainingRecord
from portal.people.services import add_document, search_text_for, sensitive_columns
from portal.posts.models import Skill
from portal.posts.services import create_post

# company code → {post code: (title, capacity %, duties, growth path, [(skill, level)])}
POSTS = {
    "EXCN": {
        "CS-JD": ("京东客服专员", 100,
                  "在京东咚咚接待售前咨询，五分钟内首次响应\n处理订单查询、改地址、催发货\n跟进退换货与价保申请，记录工单",
                  "客服专员 → 资深客服 → 客服组长", [("京东商家后台", 3), ("售后纠纷处理", 2)]),
        "CS-VIP": ("唯品会客服专员", 100,
                   "处理唯品会订单咨询与特卖活动问题\n在VIS系统登记退货与拒收\n配合运营完成大促前话术准备",
                   "客服专员 → 资深客服 → 客服组长", [("唯品会VIS系统", 3), ("售后纠纷处理", 2)]),
        "CS-TM": ("天猫客服专员", 100,
                  "通过千牛接待天猫旗舰店买家\n处理退款、补发与差评回访\n维护快捷短语与常见问题库",
                  "客服专员 → 资深客服 → 客服组长", [("天猫千牛", 3), ("售后纠纷处理", 2)]),
        "CS-DY": ("抖音直播客服", 100,
                  "直播期间在线答疑，引导下单\n处理抖店订单与物流问题\n收集直播间反馈给主播与运营",
                  "直播客服 → 直播运营助理", [("抖店后台", 3), ("直播间互动", 3)]),
        "CS-AS": ("售后专员", 40,
                  "处理各平台升级的售后纠纷与投诉\n对接仓库核实退货，审核退款\n按月汇总售后原因",
                  "售后专员 → 售后主管", [("售后纠纷处理", 4), ("Excel", 2)]),
        "CS-QA": ("客服质检专员", 100,
                  "每日抽检各店铺聊天记录并打分\n整理典型案例，组织话术复盘\n跟踪满意度与响应时长指标",
                  "质检专员 → 客服培训师", [("售后纠纷处理", 3), ("Excel", 3)]),
        "OPS": ("店铺运营专员", 100,
                "维护商品详情、价格与库存\n策划平台大促活动并复盘\n分析流量与转化数据",
                "运营专员 → 店铺经理", [("天猫千牛", 2), ("京东商家后台", 2), ("Excel", 3)]),
        "ADS": ("推广专员", 100,
                "管理京准通、直通车等投放计划\n控制投放预算与投入产出比\n每周输出推广数据报告",
                "推广专员 → 推广主管", [("Excel", 3)]),
        "FIN-AP": ("应付会计", 100,
                   "核对供应商发票与入库单\n安排付款并登记应付账款\n配合月末结账与审计",
                   "会计 → 主管会计 → 财务经理", [("Excel", 4)]),
        "FIN-PAY": ("薪酬专员", 100,
                    "按月核算工资、社保与公积金\n计算客服绩效奖金并发放工资条\n解答员工薪酬问题",
                    "薪酬专员 → 薪酬主管", [("Excel", 4)]),
        "WH": ("仓库作业员", 100,
               "收货、上架与拣货复核\n打包发货，处理退货入库\n遵守叉车与消防安全规定",
               "作业员 → 班组长 → 仓库主管", [("Forklift licence", 2)]),
        "LEAD": ("团队组长", 100,
                 "排班与每日早会，分配接待任务\n跟进团队响应时长、满意度与绩效\n带教新人，处理升级投诉",
                 "组长 → 主管 → 部门经理", [("售后纠纷处理", 4), ("Excel", 3)]),
        "HR": ("人事专员", 100,
               "办理入职、转正、调岗与离职\n维护员工档案与劳动合同\n组织培训与绩效考核",
               "人事专员 → 人事主管 → 人力资源经理", [("Excel", 3)]),
    },
    "EXHK": {
        "CS-TMG": ("天貓國際客服專員", 100,
                   "以粵語、普通話及英語接待天貓國際買家\n處理清關、跨境物流查詢\n跟進退款及補發",
                   "客服專員 → 資深客服 → 團隊主管", [("天猫千牛", 3), ("粤语", 4), ("English", 3)]),
        "OPS": ("跨境運營專員", 100,
                "管理跨境商品上架及價格\n協調報關行及物流商\n分析銷售數據",
                "運營專員 → 運營經理", [("English", 3), ("Excel", 3)]),
        "FIN": ("會計", 100,
                "處理應收應付及銀行對賬\n按月編製管理報表\n配合核數師審計",
                "會計 → 高級會計 → 財務經理", [("Excel", 4), ("English", 3)]),
        "LEAD": ("團隊主管", 100,
                 "安排班次及分配工作\n跟進服務指標及績效\n處理升級投訴",
                 "團隊主管 → 部門經理", [("粤语", 4), ("English", 3)]),
    },
    "EXDE": {
        "KS": ("Kundenservice-Mitarbeiter:in", 100,
               "Kundenanfragen per E-Mail, Chat und Telefon beantworten\nRetouren und Erstattungen bearbeiten\n"
               "Bewertungen auf den Marktplätzen beantworten",
               "Kundenservice → Senior Kundenservice → Teamleitung", [("Deutsch", 4), ("English", 3)]),
        "MP": ("Marktplatzmanager:in", 100,
               "Angebote auf Amazon und Otto pflegen\nPreise und Bestände steuern\nKampagnen planen und auswerten",
               "Marktplatzmanager:in → Head of Marketplaces", [("Deutsch", 4), ("English", 3), ("Excel", 3)]),
        "BH": ("Buchhalter:in", 100,
               "Eingangsrechnungen prüfen und buchen\nZahlungsläufe vorbereiten\nMonatsabschluss unterstützen",
               "Buchhalter:in → Bilanzbuchhalter:in", [("Deutsch", 4), ("Excel", 4)]),
        "LAG": ("Lagerlogistiker:in", 100,
                "Wareneingang prüfen und einlagern\nKommissionieren und verpacken\nRetouren prüfen",
                "Lagerlogistiker:in → Schichtleitung", [("Forklift licence", 3), ("Deutsch", 3)]),
        "LEAD": ("Teamleitung", 100,
                 "Schichten planen und Aufgaben verteilen\nKennzahlen des Teams verfolgen\n"
                 "Neue Kolleg:innen einarbeiten",
                 "Teamleitung → Abteilungsleitung", [("Deutsch", 5), ("English", 3)]),
        "HR": ("HR-Referent:in", 100,
               "Ein- und Austritte bearbeiten\nArbeitsverträge und Personalakten pflegen\nSchulungen organisieren",
               "HR-Referent:in → HR Business Partner", [("Deutsch", 5), ("Excel", 3)]),
    },
    "EXJP": {
        "CS": ("カスタマーサポート担当", 100,
               "楽天・Amazonのお問い合わせにメールとチャットで対応\n返品・交換の受付と手配\nレビューへの返信",
               "担当 → リーダー → 課長", [("日本語", 5), ("English", 2)]),
        "EC": ("EC運営担当", 100,
               "商品ページの作成と更新\nセール企画の立案と振り返り\n売上データの分析",
               "担当 → 店長", [("日本語", 5), ("Excel", 3)]),
        "FIN": ("経理担当", 100,
                "請求書の確認と支払処理\n月次決算の補助\n経費精算のチェック",
                "担当 → 主任 → 経理課長", [("日本語", 5), ("Excel", 4)]),
        "WH": ("倉庫スタッフ", 100,
               "入荷検品と棚入れ\nピッキングと梱包\n返品の検品",
               "スタッフ → 班長", [("Forklift licence", 2), ("日本語", 4)]),
        "LEAD": ("チームリーダー", 100,
                 "シフト作成と業務の割り振り\nチームの指標管理\n新人の育成",
                 "リーダー → 課長", [("日本語", 5), ("English", 2)]),
    },
}

# The post the people of a team hold as their primary post (its lead holds LEAD).
TEAM_POSTS = {
    "CN-JD-CS-A": "CS-JD", "CN-JD-CS-B": "CS-JD", "CN-VIP-CS-A": "CS-VIP", "CN-VIP-CS-B": "CS-VIP",
    "CN-TM-CS": "CS-TM", "CN-DY-CS": "CS-DY", "EXCN-CS-QA": "CS-QA", "EXCN-OPS-OPS1": "OPS", "EXCN-OPS-ADS": "ADS",
    "EXCN-FIN-AP": "FIN-AP", "EXCN-FIN-PAY": "FIN-PAY", "EXCN-WH-WH-D": "WH", "EXCN-WH-WH-N": "WH",
    "HK-TM-CS": "CS-TMG", "EXHK-OPS-OPS1": "OPS", "EXHK-FIN-FIN1": "FIN",
    "EXDE-CS-CS1": "KS", "EXDE-OPS-OPS1": "MP", "EXDE-FIN-FIN1": "BH", "EXDE-WH-WH1": "LAG",
    "EXJP-CS-CS1": "CS", "EXJP-OPS-OPS1": "EC", "EXJP-FIN-FIN1": "FIN", "EXJP-WH-WH1": "WH",
}

# Demo logins with a record of their own: username → (unit code, post code). The
# administrator and the outside auditor are not employees.
DEMO_LOGIN_POSTS = {"hr.cn": ("EXCN", "HR"), "hr.de": ("EXDE", "HR"), "lead.jd": ("CN-JD-CS-A", "LEAD"),
                    "agent.jd1": ("CN-JD-CS-A", "CS-JD")}

COUNTRY_OF = {"EXCN": "CN", "EXHK": "HK", "EXDE": "DE", "EXJP": "JP"}
# A phone number: its pattern and the number of random digits in each gap.
PHONE_FORMATS = {"CN": ("+86 13{} {} {}", (1, 4, 4)), "HK": ("+852 9{} {}", (3, 4)), "DE": ("+49 15{} {}", (1, 8)),
                 "JP": ("+81 90-{}-{}", (4, 4))}
EMERGENCY_NAMES = {"CN": ["华", "明", "英", "丽", "军"], "HK": ["華", "明", "英", "麗", "軍"],
                   "DE": ["Jana", "Tom", "Eva", "Jens"], "JP": ["誠", "恵子", "浩", "美咲"]}
CITIES = {"CN": ["上海市浦东新区张江路", "上海市闵行区莘庄", "杭州市余杭区五常大道", "苏州市工业园区星湖街"],
          "HK": ["九龍觀塘道", "新界荃灣青山公路", "香港仔大道"],
          "DE": ["Hamburg, Billstraße", "Hamburg, Wandsbeker Chaussee", "Norderstedt, Ulzburger Straße"],
          "JP": ["東京都江東区有明", "千葉県市川市塩浜", "神奈川県川崎市中原区"]}
RELATIONS = {"CN": ["配偶", "父亲", "母亲"], "HK": ["配偶", "父親", "母親"], "DE": ["Ehepartner:in", "Mutter", "Vater"],
             "JP": ["配偶者", "父", "母"]}
# Monthly base pay range (in units of the currency) of rank-and-file staff; leads and HR earn 35% more.
PAY = {"CN": (6500, 12000, "CNY"), "HK": (16000, 28000, "HKD"), "DE": (2800, 4200, "EUR"),
       "JP": (230000, 360000, "JPY")}
CONTRACT_HOURS = {"CN": 40, "HK": 44, "DE": 40, "JP": 40}
COURSES = {
    "CN": {"onboarding": ("新员工入职培训", "人事部"), "cs": ("客服话术与服务规范", "客服部"),
           "wh": ("叉车安全操作", "上海安培职业培训学校"), "lead": ("基层管理者训练营", "外部讲师")},
    "HK": {"onboarding": ("新員工入職培訓", "人力資源部"), "cs": ("跨境客戶服務禮儀", "客服部"),
           "wh": ("倉庫安全", "職安局"), "lead": ("團隊管理基礎", "外部導師")},
    "DE": {"onboarding": ("Onboarding", "HR"), "cs": ("Kundenkommunikation am Telefon", "IHK Hamburg"),
           "wh": ("Staplerschein", "DEKRA Akademie"), "lead": ("Führen ohne Vorgesetztenrolle", "IHK Hamburg")},
    "JP": {"onboarding": ("新入社員研修", "人事部"), "cs": ("接客マナー研修", "外部講師"),
           "wh": ("フォークリフト安全講習", "コマツ教習所"), "lead": ("リーダーシップ研修", "外部講師")},
}
CS_POSTS = {"CS-JD", "CS-VIP", "CS-TM", "CS-DY", "CS-QA", "CS-TMG", "KS", "CS"}
WAREHOUSE_POSTS = {"WH", "LAG"}
LEAVING_REASONS = {"CN": "个人原因离职", "HK": "個人原因", "DE": "Eigene Kündigung", "JP": "自己都合退職"}


def seed_people(units, staff, rng, today=None):
    """Fill in the people of the demo group. `units` maps codes to OrgUnits; `staff` is
    [(user id, username, display name, team OrgUnit, is lead)] of the rank-and-file accounts."""
    today = today or dt.date.today()
    system = Actor.system()
    people = _employee_rows(units, staff, rng, today)
    _plan_posts(people, units, rng, today)
    posts = _seed_posts(system, units, people, rng, today)
    ids = _insert_employees(people)
    assignments = _assignment_rows(people, ids, posts)
    chunked_insert(Assignment, assignments)
    skills = _skill_rows(people, ids, rng)
    chunked_insert(EmployeeSkill, skills)
    contracts = _contract_rows(people, ids, rng, today)
    chunked_insert(Contract, contracts)
    training = _training_rows(people, ids, rng, today)
    chunked_insert(TrainingRecord, training)
    record_event("demo.people_seeded", object_type="employee", label=f"{len(people)} demo people",
                 after={"employees": len(people), "assignments": len(assignments), "skills": len(skills),
                        "contracts": len(contracts), "training_records": len(training)})
    _seed_documents(system, ids, people)
    _seed_requests(units, ids, people, posts, today)


def _seed_posts(system, units, people, rng, today):
    """Every post of POSTS, planned for the people who will hold it and a few more
    (some posts are short-staffed); {(company, code): Post}."""
    plan = {}
    for person in people:
        for company, post_code, _unit, _share, _start, end, _primary in person["_held"]:
            if end is None or end >= today:
                plan[company, post_code] = plan.get((company, post_code), 0) + 1
    posts = {}
    for company_code, company_posts in POSTS.items():
        for code, (title, capacity, duties, growth, skills) in company_posts.items():
            headcount = plan.get((company_code, code), 0) + rng.choice((0, 0, 1, 2))
            # Posts carry a grade in their code (CS-JD-01): the group may add senior grades later.
            posts[company_code, code] = create_post(system, units[company_code], f"{code}-01", title, duties,
                                                    growth, max(headcount, 2), capacity, skills)
    return posts


# --- people --------------------------------------------------------------------------------

def _legal_name(display_name):
    """The demo logins' display names carry a role in brackets: the name is what comes before."""
    return re.split(r"\s*[（(]", display_name, maxsplit=1)[0]


def _preferred_name(country, username):
    """Hong Kong colleagues go by their romanised name: chan.kayan → Kayan Chan."""
    if country != "HK":
        return ""
    surname, given = re.sub(r"\d+$", "", username).split(".", 1)
    return f"{given.capitalize()} {surname.capitalize()}"


def _phone(country, rng):
    pattern, gaps = PHONE_FORMATS[country]
    return pattern.format(*(_digits(rng, n) for n in gaps))


def _emergency_contact(country, legal_name, rng):
    """A relative: the same family name (Chinese and Japanese names put it first)."""
    given = rng.choice(EMERGENCY_NAMES[country])
    if country == "DE":
        return f"{given} {legal_name.split()[-1]}"
    if country == "JP":
        return f"{legal_name.split()[0]} {given}"
    return legal_name[:1] + given


def _digits(rng, n):
    return "".join(str(rng.randint(0, 9)) for _ in range(n))


def _national_id(country, rng, birth):
    if country == "CN":  # 18 characters: region, birth date, sequence, ISO 7064 check character
        body = f"310115{birth:%Y%m%d}{_digits(rng, 3)}"
        check = sum(int(d) * w for d, w in zip(body, (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2))) % 11
        return body + "10X98765432"[check]
    if country == "HK":
        return f"{rng.choice('ACDEGKPRYZ')}{_digits(rng, 6)}({rng.randint(0, 9)})"
    if country == "DE":  # Steuer-Identifikationsnummer
        return _digits(rng, 11)
    return f"{_digits(rng, 4)} {_digits(rng, 4)} {_digits(rng, 4)}"  # My Number


def _iban(rng):
    bank, account = "20050550", _digits(rng, 10)
    check = 98 - int(f"{bank}{account}131400") % 97  # DE = 13 14, then 00
    return f"DE{check:02d}{bank}{account}"


def _bank_account(country, rng):
    if country == "CN":
        return f"6222 {_digits(rng, 4)} {_digits(rng, 4)} {_digits(rng, 4)} {_digits(rng, 3)}"
    if country == "HK":
        return f"004-{_digits(rng, 3)}-{_digits(rng, 6)}-{_digits(rng, 3)}"
    if country == "DE":
        return _iban(rng)
    return f"0005 {_digits(rng, 3)} {_digits(rng, 7)}"


def _employee_rows(units, staff, rng, today):
    """One row per person: the record's columns, plus what the later steps need
    (the `_`-prefixed keys: company code, country, team, post code, seniority …)."""
    logins = {u.username: u for u in User.select().where(User.username.in_(list(DEMO_LOGIN_POSTS)))}
    people = [(logins[name].id, name, logins[name].display_name, units[code], post)
              for name, (code, post) in DEMO_LOGIN_POSTS.items()]
    people += [(user_id, username, display_name, team, "LEAD" if is_lead else TEAM_POSTS[team.code])
               for user_id, username, display_name, team, is_lead in staff]
    company_codes = {units[code].id: code for code in COUNTRY_OF}
    sequence = {}
    now = utcnow()
    rows = []
    for user_id, username, display_name, unit, post in people:
        company_code = company_codes[unit.company_id]
        country = COUNTRY_OF[company_code]
        senior = post in ("LEAD", "HR")  # paid more, trained to lead, left out of the status changes
        sequence[country] = sequence.get(country, 100) + 1
        number = f"{country}{sequence[country]:06d}"
        legal_name = _legal_name(display_name)
        preferred = _preferred_name(country, username)
        email = f"{username}@example.com"
        hire = today - dt.timedelta(days=rng.randint(200 if senior else 120, 6 * 365))
        birth = hire - dt.timedelta(days=rng.randint(20 * 365, 45 * 365))
        rows.append({
            "number": number, "legal_name": legal_name, "preferred_name": preferred,
            "search_text": search_text_for(number, legal_name, preferred, email),
            "company": unit.company_id, "unit": unit.id, "user": user_id, "email": email, "phone": _phone(country, rng),
            "address": rng.choice(CITIES[country]) + f" {rng.randint(1, 999)}",
            "emergency_contact_name": _emergency_contact(country, legal_name, rng),
            "emergency_contact_relation": rng.choice(RELATIONS[country]),
            "emergency_contact_phone": _phone(country, rng),
            "hire_date": hire, "status": "active", "leaving_date": None, "leaving_reason": "", "nationality": country,
            "created_at": now, "updated_at": now,
            "_company": company_code, "_country": country, "_team": unit, "_post": post, "_lead": senior,
            "_username": username,
            "_national_id": _national_id(country, rng, birth), "_bank_account": _bank_account(country, rng),
        })
    _set_statuses(rows, rng, today)
    return rows


def _set_statuses(rows, rng, today):
    """A few on probation (hired in the last three months), a few on leave, two gone."""
    rank_and_file = [r for r in rows if not r["_lead"] and r["_username"] not in DEMO_LOGIN_POSTS]
    chosen = rng.sample(rank_and_file, min(13, len(rank_and_file)))
    for row in chosen[:8]:
        row["hire_date"] = today - dt.timedelta(days=rng.randint(10, 80))
        row["status"] = "probation"
    for row in chosen[8:11]:
        row["status"] = "on_leave"
    for row in chosen[11:]:
        row["status"] = "left"
        row["leaving_date"] = today - dt.timedelta(days=rng.randint(5, 60))
        row["leaving_reason"] = LEAVING_REASONS[row["_country"]]
        row["unit"] = row["company"]  # no post in force any more


def _insert_employees(rows):
    """Insert the records, then their national IDs and bank accounts, encrypted (the
    associated data names the row, so the ids must exist first). {number: id}."""
    chunked_insert(Employee, [{k: v for k, v in row.items() if not k.startswith("_")} for row in rows])
    ids = dict(Employee.select(Employee.number, Employee.id).tuples())
    encrypted = []
    for row in rows:
        employee = Employee(id=ids[row["number"]], **sensitive_columns(
            row["company"], ids[row["number"]], row["_national_id"], row["_bank_account"]))
        encrypted.append(employee)
    Employee.bulk_update(encrypted, fields=[Employee.national_id, Employee.national_id_index, Employee.bank_account],
                         batch_size=100)
    return ids


# --- posts held ------------------------------------------------------------------------------

def _plan_posts(people, units, rng, today):
    """Who holds what, as each person's `_held` [(company, post code, unit, share, start, end,
    primary)] and `_share` (of their primary post). Everyone holds their team's post; some
    moved there from another post (history); some JD agents also serve a Vipshop team (60/40),
    some Douyin agents Tmall (70/30), a few Tmall agents take after-sales cases (60/40), and
    one Hong Kong agent helps the mainland Tmall team (70/30)."""
    agents = [p for p in people if not p["_lead"] and p["status"] == "active"
              and p["hire_date"] < today - dt.timedelta(days=400)]
    jd = [p for p in agents if p["_post"] == "CS-JD"][:12]
    jd_agent = next(p for p in people if p["_username"] == "agent.jd1")
    if jd_agent not in jd:
        jd = [jd_agent] + jd[:11]
    # employee number → (share kept on the primary post, company, secondary post, its unit)
    secondary = {p["number"]: (60, "EXCN", "CS-VIP", rng.choice(["CN-VIP-CS-A", "CN-VIP-CS-B"])) for p in jd}
    for group, plan in (([p for p in agents if p["_post"] == "CS-DY"][:3], (70, "EXCN", "CS-TM", "CN-TM-CS")),
                        ([p for p in agents if p["_post"] == "CS-TM"][:3], (60, "EXCN", "CS-AS", "EXCN-CS")),
                        ([p for p in agents if p["_post"] == "CS-TMG"][:1], (70, "EXCN", "CS-TM", "CN-TM-CS"))):
        secondary.update({p["number"]: plan for p in group})
    long_serving = [p for p in agents if p["number"] not in secondary
                    and p["hire_date"] < today - dt.timedelta(days=800)]
    movers = {p["number"] for p in rng.sample(long_serving, min(10, len(long_serving)))}
    moved_from = {"CN": ("WH", "EXCN-WH-WH-D"), "HK": ("OPS", "EXHK-OPS-OPS1"), "DE": ("LAG", "EXDE-WH-WH1"),
                  "JP": ("WH", "EXJP-WH-WH1")}
    secondary_since = today - dt.timedelta(days=rng.randint(60, 300))
    for person in people:
        company, start, held = person["_company"], person["hire_date"], []
        if person["number"] in movers:
            old_post, old_team = moved_from[person["_country"]]
            if old_post == person["_post"]:  # a warehouse hand came from another of the company's teams
                old_post, old_team = next((code, team_code) for team_code, code in TEAM_POSTS.items()
                                          if units[team_code].company_id == person["company"]
                                          and code != person["_post"])
            moved_on = start + dt.timedelta(days=rng.randint(180, (today - start).days - 200))
            held.append((company, old_post, units[old_team], 100, start, moved_on - dt.timedelta(days=1), True))
            start = moved_on
        share = 100
        if person["number"] in secondary:
            share, other_company, post_code, unit_code = secondary[person["number"]]
            held.append((other_company, post_code, units[unit_code], 100 - share, max(start, secondary_since), None,
                         False))
        held.append((company, person["_post"], person["_team"], share, start, person["leaving_date"], True))
        person["_held"], person["_share"] = held, share


def _assignment_rows(people, ids, posts):
    now = utcnow()
    return [{"employee": ids[person["number"]], "post": posts[company, post_code].id, "unit": unit.id,
             "is_primary": primary, "share": share, "start_date": start, "end_date": end, "created_at": now}
            for person in people for company, post_code, unit, share, start, end, primary in person["_held"]]


def _skill_rows(people, ids, rng):
    """Each person has the skills their posts ask for, at about the level they ask."""
    skill_ids = dict(Skill.select(Skill.name, Skill.id).tuples())
    rows = {}
    for person in people:
        for company, post_code, *_rest in person["_held"]:
            for name, level in POSTS[company][post_code][4]:
                rows[ids[person["number"]], skill_ids[name]] = max(1, min(5, level + rng.choice((-1, 0, 0, 1, 1))))
        if person["_country"] == "CN" and rng.random() < .2:
            rows[ids[person["number"]], skill_ids["English"]] = rng.randint(2, 4)
    return [{"employee": employee, "skill": skill, "level": level} for (employee, skill), level in rows.items()]


# --- contracts and training ----------------------------------------------------------------

def _contract_rows(people, ids, rng, today):
    """Mainland staff sign three-year fixed-term contracts, renewed; the others permanent
    ones. Some mainland contracts end within the month, to be renewed or not."""
    now = utcnow()
    mainland = [p["number"] for p in people if p["_country"] == "CN" and p["status"] == "active"
                and p["_username"] not in DEMO_LOGIN_POSTS]
    ending_soon = set(rng.sample(mainland, min(7, len(mainland))))
    rows = []
    for person in people:
        country = person["_country"]
        low, high, currency = PAY[country]
        pay = Decimal(rng.randrange(low, high, 100 if currency != "JPY" else 1000))
        if person["_lead"]:
            pay = (pay * Decimal("1.35")).quantize(Decimal(100))
        part_time = country == "DE" and rng.random() < .15
        base = {"employee": ids[person["number"]], "currency": currency, "weekly_hours": Decimal(
            20 if part_time else CONTRACT_HOURS[country]), "created_at": now}
        start = person["hire_date"]
        if country != "CN":
            rows.append({**base, "contract_type": "part_time" if part_time else "permanent", "start_date": start,
                         "end_date": person["leaving_date"],
                         "probation_end": start + dt.timedelta(days=182 if country == "DE" else 91),
                         "base_pay_minor": to_minor_units(pay * (Decimal(".5") if part_time else 1), currency)})
            continue
        first = True
        while True:
            end = start + dt.timedelta(days=3 * 365 - 1)
            current = end >= today
            if current and person["number"] in ending_soon:
                end = today + dt.timedelta(days=rng.randint(3, 28))
            if person["leaving_date"] and end >= person["leaving_date"]:
                end, current = person["leaving_date"], True
            rows.append({**base, "contract_type": "fixed_term", "start_date": start, "end_date": end,
                         "probation_end": start + dt.timedelta(days=90) if first else None,
                         "base_pay_minor": to_minor_units(pay if current else pay * Decimal(".9"), currency)})
            if current:
                break
            start, first = end + dt.timedelta(days=1), False
    return rows


def _training_rows(people, ids, rng, today):
    rows = []
    now = utcnow()
    for person in people:
        courses = COURSES[person["_country"]]
        taken = [("onboarding", person["hire_date"] + dt.timedelta(days=rng.randint(1, 5)), 8)]
        if person["_post"] in CS_POSTS:
            taken.append(("cs", person["hire_date"] + dt.timedelta(days=rng.randint(20, 60)), 12))
        if person["_post"] in WAREHOUSE_POSTS:
            taken.append(("wh", person["hire_date"] + dt.timedelta(days=rng.randint(10, 40)), 16))
        if person["_lead"]:
            taken.append(("lead", today - dt.timedelta(days=rng.randint(30, 400)), 24))
        for key, completed_on, hours in taken:
            if completed_on > today:
                continue
            course, provider = courses[key]
            passed = rng.random() < .9
            rows.append({"employee": ids[person["number"]], "course": course, "provider": provider,
                         "completed_on": completed_on, "hours": Decimal(hours),
                         "result": "passed" if passed else "attended",
                         "score": str(rng.randint(75, 98)) if passed and key != "onboarding" else "",
                         "created_at": now})
    return rows


# --- documents and requests ------------------------------------------------------------------

def _tiny_pdf(lines):
    """A one-page PDF of a few lines of ASCII text, with a correct cross-reference table."""
    text = " ".join(f"({line}) Tj T*" for line in lines)
    stream = f"BT /F1 12 Tf 16 TL 72 760 Td {text} ET".encode("ascii")
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
               b"/Contents 5 0 R >>",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
               b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream)]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _seed_documents(system, ids, people):
    """A few files in people's records, stored like any upload."""
    by_user = {p["_username"]: p for p in people}
    files = [
        ("agent.jd1", "劳动合同.pdf", "劳动合同（2023–2026）", "contract",
         _tiny_pdf(["Labour contract", "Employee: agent.jd1", "Term: three years"])),
        ("agent.jd1", "员工手册签收.txt", "员工手册签收确认", "other",
         "本人已阅读并理解《员工手册》全部内容，承诺遵守。\n签名：刘芳\n".encode("utf-8")),
        ("lead.jd", "基层管理者训练营证书.pdf", "基层管理者训练营结业证书", "certificate",
         _tiny_pdf(["Certificate of completion", "Team leader bootcamp"])),
        ("hr.de", "Arbeitsvertrag.pdf", "Arbeitsvertrag", "contract",
         _tiny_pdf(["Arbeitsvertrag", "Example Commerce GmbH", "unbefristet"])),
    ]
    for username, filename, title, category, data in files:
        employee = Employee.get_by_id(ids[by_user[username]["number"]])
        add_document(system, employee, data, filename, title, category)


# Transfers waiting for approval: (requester, team the person leaves, team they join,
# post there, days until it takes effect, reason).
# (requester, from team, to team, post, days until effective, reason, approved by the team's lead already):
# lead.jd finds the first in their inbox; hr.cn finds the second, its lead step decided.
PENDING_TRANSFERS = [
    ("admin", "CN-JD-CS-A", "CN-JD-CS-B", ("EXCN", "CS-JD"), 14, "B组大促期间人手不足，调往B组支援并长期留任。", False),
    ("admin", "CN-VIP-CS-A", "CN-DY-CS", ("EXCN", "CS-DY"), 30, "本人申请转岗直播客服，组长同意。", True),
    ("hr.cn", "EXCN-WH-WH-D", "EXCN-CS-QA", ("EXCN", "CS-QA"), 21, "仓库转客服质检，已通过内部考核。", False),
    ("hr.de", "EXDE-WH-WH1", "EXDE-CS-CS1", ("EXDE", "KS"), 21,
     "Wechsel in den Kundenservice auf eigenen Wunsch; Einarbeitung ist geplant.", False),
]


def _seed_requests(units, ids, people, posts, today):
    """PENDING_TRANSFERS, raised through the approval engine as in the browser, each for
    someone of the team who holds one post full time (skipped in a demo too small for one)."""
    for requester, from_team, to_team, post_key, days, reason, lead_approved in PENDING_TRANSFERS:
        person = next((p for p in people if p["_team"].code == from_team and not p["_lead"] and p["status"] == "active"
                       and p["_share"] == 100 and p["_username"] not in DEMO_LOGIN_POSTS), None)
        if person is None:
            continue
        employee = Employee.get_by_id(ids[person["number"]])
        held = Assignment.get((Assignment.employee == employee.id) & Assignment.is_primary
                              & Assignment.end_date.is_null())
        request = submit_request(Actor.for_user(User.get(User.username == requester)), "people.transfer", employee, {
            "assignment": held.id, "to_unit": units[to_team].id, "to_post": posts[post_key].id, "share": 100,
            "effective_date": today + dt.timedelta(days=days), "reason": reason})
        if lead_approved:
            lead = User.get_by_id(min(holders_of("team_lead", units[from_team])))
            decide_step(Actor.for_user(lead), request.id, request.version, True, "同意，人员已做好交接安排。")
