"""The Example Group demo: four companies, stores on four marketplaces,
departments and teams, about 300 people, and the six demo logins; their
records, posts and the rest come from demo_people.

Org units and the demo logins go through the services (so they are audited
like any other write); the rank-and-file accounts are inserted in bulk with
one audit event, since hashing 300 passwords one by one would only slow the
set-up down.
"""
import random

from portal.accounts.models import Grant, Role, User
from portal.accounts.services import create_user, grant_role, sync_builtin_roles
from portal.core.audit import record_event
from portal.core.auth import hash_password
from portal.core.db import chunked_insert, database, utcnow
from portal.core.permissions import Actor
from portal.demo_bonus import seed_bonus
from portal.demo_cs import CS_DAILY_CONVERSATIONS, seed_cs
from portal.demo_people import seed_people
from portal.demo_time import ROSTER_MONTHS_BACK, seed_time
from portal.org.models import OrgUnit
from portal.org.services import create_unit

DEMO_PASSWORD = "demo1234"

COMPANIES = [
    # code, name, country, currency, time zone, locale
    ("EXCN", "示例电商（上海）有限公司", "CN", "CNY", "Asia/Shanghai", "zh_CN"),
    ("EXHK", "Example Trading (Hong Kong) Ltd.", "HK", "HKD", "Asia/Hong_Kong", "zh_Hant"),
    ("EXDE", "Example Commerce GmbH", "DE", "EUR", "Europe/Berlin", "de"),
    ("EXJP", "Example Japan K.K.", "JP", "JPY", "Asia/Tokyo", "ja"),
]

# company code → [(store code, name, platform, [(team code, team name, headcount)])]
STORES = {
    "EXCN": [
        ("CN-JD", "京东旗舰店", "jd", [("CN-JD-CS-A", "京东客服A组", 12), ("CN-JD-CS-B", "京东客服B组", 12)]),
        ("CN-VIP", "唯品会专卖店", "vipshop", [("CN-VIP-CS-A", "唯品会客服A组", 9), ("CN-VIP-CS-B", "唯品会客服B组", 9)]),
        ("CN-TM", "天猫旗舰店", "tmall", [("CN-TM-CS", "天猫客服组", 16)]),
        ("CN-DY", "抖音小店", "douyin", [("CN-DY-CS", "抖音客服组", 10)]),
    ],
    "EXHK": [("HK-TM", "Tmall Global HK Store", "tmall", [("HK-TM-CS", "Tmall Global CS team", 8)])],
    "EXDE": [],
    "EXJP": [],
}

# company code → [(department code suffix, name, [(team suffix, team name, headcount)])]
DEPARTMENTS = {
    "EXCN": [
        ("CS", "客服部", [("QA", "客服质检组", 6)]),
        ("OPS", "运营部", [("OPS1", "店铺运营组", 14), ("ADS", "推广组", 8)]),
        ("FIN", "财务部", [("AP", "应付组", 6), ("PAY", "薪酬组", 5)]),
        ("WH", "仓储部", [("WH-D", "仓库白班", 24), ("WH-N", "仓库夜班", 18)]),
    ],
    "EXHK": [
        ("OPS", "Operations", [("OPS1", "Cross-border operations", 8)]),
        ("FIN", "Finance", [("FIN1", "Accounts", 4)]),
    ],
    "EXDE": [
        ("CS", "Kundenservice", [("CS1", "Kundenservice Team", 10)]),
        ("OPS", "Operations", [("OPS1", "Marktplatz-Team", 8)]),
        ("FIN", "Finanzen", [("FIN1", "Buchhaltung", 5)]),
        ("WH", "Lager", [("WH1", "Lager Hamburg", 14)]),
    ],
    "EXJP": [
        ("CS", "カスタマーサービス部", [("CS1", "カスタマーサポート課", 10)]),
        ("OPS", "運営部", [("OPS1", "EC運営課", 8)]),
        ("FIN", "経理部", [("FIN1", "経理課", 4)]),
        ("WH", "物流部", [("WH1", "倉庫チーム", 8)]),
    ],
}

CN_SURNAMES = [("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"),
               ("赵", "zhao"), ("黄", "huang"), ("周", "zhou"), ("吴", "wu"), ("徐", "xu"), ("孙", "sun"),
               ("胡", "hu"), ("朱", "zhu"), ("高", "gao"), ("林", "lin"), ("何", "he"), ("郭", "guo")]
CN_GIVEN = [("芳", "fang"), ("伟", "wei"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"), ("强", "qiang"),
            ("磊", "lei"), ("洋", "yang"), ("艳", "yan"), ("勇", "yong"), ("军", "jun"), ("杰", "jie"),
            ("娟", "juan"), ("涛", "tao"), ("明", "ming"), ("超", "chao"), ("秀英", "xiuying"), ("婷", "ting"),
            ("晨", "chen"), ("雪", "xue"), ("佳怡", "jiayi"), ("子涵", "zihan"), ("浩然", "haoran")]
HK_NAMES = [("陳嘉欣", "chan.kayan"), ("李志明", "lee.chiming"), ("黃美玲", "wong.meiling"), ("張家豪", "cheung.kaho"),
            ("劉詠詩", "lau.wingsze"), ("林俊傑", "lam.chunkit"), ("吳曉彤", "ng.hiutung"), ("梁偉文", "leung.waiman")]
DE_FIRST = ["Anna", "Lukas", "Lea", "Felix", "Marie", "Jonas", "Sophie", "Paul", "Laura", "Max", "Hannah", "Tim"]
DE_LAST = ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Hoffmann", "Koch"]
JP_NAMES = [("佐藤 陽菜", "sato.hina"), ("鈴木 蓮", "suzuki.ren"), ("高橋 結衣", "takahashi.yui"),
            ("田中 大翔", "tanaka.hiroto"), ("伊藤 葵", "ito.aoi"), ("渡辺 湊", "watanabe.minato"),
            ("山本 さくら", "yamamoto.sakura"), ("中村 悠真", "nakamura.yuma")]

DEMO_LOGINS = [
    # username, display name, home unit code, built-in role, grant unit code, include descendants
    ("admin", "Group Administrator", "EXG", "group_admin", "EXG", True),
    ("hr.cn", "赵静（人事）", "EXCN", "company_hr", "EXCN", True),
    ("hr.de", "Katrin Vogel (HR)", "EXDE", "company_hr", "EXDE", True),
    ("lead.jd", "陈伟（京东客服组长）", "CN-JD-CS-A", "team_lead", "CN-JD-CS-A", True),
    ("agent.jd1", "刘芳", "CN-JD-CS-A", "employee", "CN-JD-CS-A", False),
    ("auditor", "Audit Partner", "EXG", "auditor", "EXG", True),
]


def _people_names(country, rng):
    """An endless stream of (display name, username stem) for a country."""
    while True:
        if country == "CN":
            (s, sp), (g, gp) = rng.choice(CN_SURNAMES), rng.choice(CN_GIVEN)
            yield s + g, f"{sp}.{gp}"
        elif country == "HK":
            yield rng.choice(HK_NAMES)
        elif country == "DE":
            first, last = rng.choice(DE_FIRST), rng.choice(DE_LAST)
            stem = f"{first}.{last}".lower().replace("ü", "ue").replace("ö", "oe").replace("ä", "ae")
            yield f"{first} {last}", stem
        else:
            yield rng.choice(JP_NAMES)


def seed(people=300, echo=print, seed_value=20261122, time_history_months=ROSTER_MONTHS_BACK,
         cs_history_days=None, cs_daily_conversations=CS_DAILY_CONVERSATIONS):
    """Create the demo group on an empty database; a seeded one is left alone.
    Rosters and punches reach back to the first of the month `time_history_months` back;
    CS conversations `cs_history_days` days (None: as far as the rosters), about
    `cs_daily_conversations` a day."""
    if OrgUnit.select().exists():
        echo("The database already holds a group; demo data not added.")
        return False
    rng = random.Random(seed_value)
    system = Actor.system()
    with database.atomic():
        group = create_unit(system, None, "group", "EXG", "Example Group", settings={
            "country": "CN", "currency": "CNY", "timezone": "Asia/Shanghai", "default_locale": "zh_CN"})
        sync_builtin_roles(group)
        roles = {r.builtin_key: r for r in Role.select().where(Role.builtin_key.is_null(False))}
        units, teams = {"EXG": group}, []
        for code, name, country, currency, tz, locale in COMPANIES:
            company = create_unit(system, group, "company", code, name, settings={
                "country": country, "currency": currency, "timezone": tz, "default_locale": locale})
            units[code] = company
            for store_code, store_name, platform, store_teams in STORES[code]:
                store = create_unit(system, company, "store", store_code, store_name, platform=platform)
                units[store_code] = store
                for team_code, team_name, headcount in store_teams:
                    units[team_code] = create_unit(system, store, "team", team_code, team_name)
                    teams.append((units[team_code], country, headcount))
            for dept_suffix, dept_name, dept_teams in DEPARTMENTS[code]:
                dept = units[f"{code}-{dept_suffix}"] = create_unit(system, company, "department",
                                                                     f"{code}-{dept_suffix}", dept_name)
                for team_suffix, team_name, headcount in dept_teams:
                    team_code = f"{code}-{dept_suffix}-{team_suffix}"
                    units[team_code] = create_unit(system, dept, "team", team_code, team_name)
                    teams.append((units[team_code], country, headcount))

        demo_users = {}
        for username, display_name, home, role_key, grant_unit, descendants in DEMO_LOGINS:
            user = create_user(system, units[home], username, display_name, DEMO_PASSWORD)
            grant_role(system, user, roles[role_key], units[grant_unit], descendants)
            demo_users[username] = user

        staff = _seed_staff(teams, people - len(DEMO_LOGINS), roles, rng)
        seed_people(units, staff, rng)
        seed_time(units, rng, history_months=time_history_months)
    seed_cs(units, rng, history_days=cs_history_days, daily_conversations=cs_daily_conversations, echo=echo)
    seed_bonus(echo=echo)  # the pools split the CS figures: after seed_cs
    echo(f"Seeded Example Group: {OrgUnit.select().count()} units, {User.select().count()} users.")
    return True


def _seed_staff(teams, count, roles, rng):
    """Spread `count` accounts over the teams by headcount; the first of each
    team is its lead. One shared hash: every demo account has the demo password.
    Returns [(user id, username, display name, team, is lead)]."""
    total_headcount = sum(headcount for _, _, headcount in teams)
    shared_hash = hash_password(DEMO_PASSWORD)
    taken = {u for (u,) in User.select(User.username).tuples()}
    now = utcnow()
    users, leads = [], set()
    for team, country, headcount in teams:
        names = _people_names(country, rng)
        for index in range(max(1, round(count * headcount / total_headcount))):
            display_name, stem = next(names)
            username, n = stem, 1
            while username in taken:
                n += 1
                username = f"{stem}{n}"
            taken.add(username)
            if index == 0:
                leads.add(username)
            users.append({"username": username, "display_name": display_name, "unit": team.id,
                          "password_hash": shared_hash, "created_at": now, "password_changed_at": now})
    users = users[:count]
    chunked_insert(User, users)
    ids = dict(User.select(User.username, User.id).where(User.username.in_([u["username"] for u in users])).tuples())
    grants = []
    for row in users:
        role = roles["team_lead" if row["username"] in leads else "employee"]
        grants.append({"user": ids[row["username"]], "role": role.id, "unit": row["unit"],
                       "include_descendants": row["username"] in leads, "created_at": now})
    chunked_insert(Grant, grants)
    record_event("demo.staff_seeded", object_type="user", label=f"{len(users)} demo accounts",
                 after={"users": len(users), "grants": len(grants)})
    teams_by_id = {team.id: team for team, _country, _headcount in teams}
    return [(ids[row["username"]], row["username"], row["display_name"], teams_by_id[row["unit"]],
             row["username"] in leads) for row in users]
