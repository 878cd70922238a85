"""The connector registry (Redash-style): a Connector names a marketplace export
format — its code, label, platform, what it holds (conversations, messages or
logins), the fields it fills as ImportFields whose aliases are the column names the
marketplace's export uses (Chinese and English, so the mapping comes prefilled) —
and reads its cells. Parsing of cells lives here, never in views: timestamps in
several formats, ratings (很满意…很不满意 or 1–5 stars), 是/否 booleans, counts.

Parsed instants are naive *local* times; the import turns them into naive UTC
with the store's company time zone.
"""
import datetime as dt
import re

from flask_babel import lazy_gettext as _l

from portal.core.tabular import CellError, ImportField, cell_text, declare_row_errors

KINDS = ("conversations", "messages", "logins")
ANY_PLATFORM = "*"

declare_row_errors({
    "cs_bad_time": _l("“%(value)s” is not a date and time. Write it as YYYY-MM-DD HH:MM:SS, for example "
                      "2025-03-01 08:58:00."),
    "cs_bad_rating": _l("“%(value)s” is not a rating: use 1 to 5 stars or 很满意/满意/一般/不满意/很不满意."),
    "cs_bad_boolean": _l("“%(value)s” is not yes or no (是/否)."),
    "cs_bad_count": _l("“%(value)s” is not a count (a whole number from 0)."),
    "cs_bad_sender": _l("“%(value)s” is not a sender: use customer or agent (客户/客服)."),
})

TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M",
                "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y.%m.%d %H:%M:%S", "%Y.%m.%d %H:%M",
                "%Y年%m月%d日 %H:%M:%S", "%Y年%m月%d日 %H:%M", "%Y年%m月%d日%H:%M:%S", "%Y%m%d%H%M%S",
                "%Y/%m/%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S.%f")
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")


def parse_time(value):
    """A naive local date and time: an Excel date-time cell, epoch seconds or
    milliseconds, or text in a common format."""
    if (value.__class__ is str and len(value) == 19 and value[10] in " T" and value[13] == value[16] == ":"
            and value[4] == value[7] == "-"):
        try:  # the common case first, fast: 2025-03-01 08:58:00
            return dt.datetime.fromisoformat(value)
        except ValueError:
            pass
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None, microsecond=0)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(int(value))
    raw = " ".join(str(value).split())
    if _ISO.match(raw):
        return dt.datetime.fromisoformat(raw).replace(microsecond=0)
    if raw.isdigit() and len(raw) in (10, 13):  # epoch seconds or milliseconds (UTC, given as local below)
        seconds = int(raw) // (1000 if len(raw) == 13 else 1)
        return dt.datetime(1970, 1, 1) + dt.timedelta(seconds=seconds)
    for pattern in TIME_FORMATS:
        try:
            return dt.datetime.strptime(raw, pattern).replace(microsecond=0)
        except ValueError:
            continue
    raise CellError("cs_bad_time", value=raw)


RATING_WORDS = {
    "很满意": 5, "非常满意": 5, "满意": 4, "一般": 3, "不满意": 2, "很不满意": 1, "非常不满意": 1,
    "very satisfied": 5, "satisfied": 4, "neutral": 3, "dissatisfied": 2, "very dissatisfied": 1,
    "★★★★★": 5, "★★★★": 4, "★★★": 3, "★★": 2, "★": 1,
}


def parse_rating(value):
    """1–5, from stars (1–5, "4星", "5.0") or the marketplaces' words. Empty: not rated (None)."""
    raw = cell_text(value).lower()
    if raw in RATING_WORDS:
        return RATING_WORDS[raw]
    number = raw.removesuffix("星").removesuffix("stars").removesuffix("star").strip()
    try:
        stars = float(number)
    except ValueError:
        raise CellError("cs_bad_rating", value=cell_text(value)) from None
    if not stars.is_integer() or not 1 <= stars <= 5:
        raise CellError("cs_bad_rating", value=cell_text(value))
    return int(stars)


TRUE_WORDS = {"是", "y", "yes", "true", "1", "已解决", "解决", "ja", "t"}
FALSE_WORDS = {"否", "n", "no", "false", "0", "未解决", "nein", "f"}


def parse_boolean(value):
    if isinstance(value, bool):
        return value
    raw = cell_text(value).lower()
    if raw in TRUE_WORDS:
        return True
    if raw in FALSE_WORDS:
        return False
    raise CellError("cs_bad_boolean", value=cell_text(value))


def parse_count(value):
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raw = cell_text(value)
    if raw.isdigit():
        return int(raw)
    raise CellError("cs_bad_count", value=raw)


SENDER_WORDS = {"customer": ("customer", "buyer", "客户", "买家", "顾客", "用户", "c"),
                "agent": ("agent", "waiter", "seller", "staff", "客服", "卖家", "商家", "s", "a")}
_SENDER_BY_WORD = {word: kind for kind, words in SENDER_WORDS.items() for word in words}


def parse_sender(value):
    try:
        return _SENDER_BY_WORD[cell_text(value).lower()]
    except KeyError:
        raise CellError("cs_bad_sender", value=cell_text(value)) from None


def text(max_length):
    def parse(value):
        result = cell_text(value)
        if len(result) > max_length:
            raise CellError("too_long", max=max_length)
        return result

    return parse


# The generic fields of each kind (their names are also the JSON API's record keys);
# a connector gives them its marketplace's column names.
FIELD_SPECS = {
    "conversations": (
        ("session_id", _l("Session ID"), text(64), True),
        ("account", _l("Account"), text(64), False),
        ("sub_account", _l("Sub-account"), text(120), False),
        ("customer_ref", _l("Customer"), text(64), False),
        ("started_at", _l("First customer message"), parse_time, True),
        ("first_reply_at", _l("First agent reply"), parse_time, False),
        ("ended_at", _l("End"), parse_time, True),
        ("customer_messages", _l("Customer messages"), parse_count, False),
        ("agent_messages", _l("Agent messages"), parse_count, False),
        ("resolved", _l("Resolved"), parse_boolean, False),
        ("reopened", _l("Reopened"), parse_boolean, False),
        ("rating", _l("Rating"), parse_rating, False),
    ),
    "messages": (
        ("session_id", _l("Session ID"), text(64), True),
        ("account", _l("Account"), text(64), False),
        ("at", _l("Time"), parse_time, True),
        ("sender", _l("Sender"), parse_sender, True),
        ("sub_account", _l("Sub-account"), text(120), False),
    ),
    "logins": (
        ("sub_account", _l("Sub-account"), text(120), False),
        ("account", _l("Account"), text(64), False),
        ("login_at", _l("Login time"), parse_time, True),
        ("logout_at", _l("Logout time"), parse_time, False),
        ("address", _l("IP address"), text(45), False),
        ("session_id", _l("Session ID"), text(64), True),
        ("workstation", _l("Workstation"), text(64), False),
    ),
}

# Column names every connector of a kind recognises besides its own presets.
COMMON_ALIASES = {
    "session_id": ("session id", "session", "会话id", "会话编号", "会话号"),
    "account": ("account", "账号", "店铺账号", "主账号"),
    "sub_account": ("sub account", "sub-account", "waiter", "子账号", "客服账号", "客服"),
    "customer_ref": ("customer", "buyer", "客户", "买家", "顾客", "用户"),
    "started_at": ("start", "start time", "started at", "开始时间", "会话开始时间"),
    "first_reply_at": ("first reply", "first reply time", "首次回复时间", "首次响应时间"),
    "ended_at": ("end", "end time", "ended at", "结束时间", "会话结束时间"),
    "customer_messages": ("customer messages", "客户消息数", "买家消息数"),
    "agent_messages": ("agent messages", "客服消息数"),
    "resolved": ("resolved", "是否解决", "已解决"),
    "reopened": ("reopened", "是否重开", "重开"),
    "rating": ("rating", "satisfaction", "评价", "满意度"),
    "at": ("time", "message time", "时间", "消息时间", "发送时间"),
    "sender": ("sender", "from", "发送方", "发送人类型", "角色"),
    "login_at": ("login", "login time", "登录时间", "上线时间"),
    "logout_at": ("logout", "logout time", "登出时间", "下线时间", "退出时间"),
    "address": ("ip", "ip address", "ip地址", "登录ip"),
    "workstation": ("workstation", "computer", "终端", "电脑", "设备"),
}


class Connector:
    """A marketplace export format. Subclasses set code, label, platform, kind and
    `presets` ({field: (column names as the marketplace's export names them, …)})."""

    code = None
    label = None
    platform = ANY_PLATFORM
    kind = None
    presets = {}

    @classmethod
    def fields(cls):
        """The ImportFields this format fills, aliases = presets + the common names."""
        return tuple(ImportField(name, label, parse, required,
                                 tuple(cls.presets.get(name, ())) + COMMON_ALIASES.get(name, ()))
                     for name, label, parse, required in FIELD_SPECS[cls.kind])

    @classmethod
    def parse_record(cls, cells, fields=None):
        """Parse one row {field: raw cell} (absent or empty cells are skipped). Returns
        (values, [(field, code, params)]) — values hold only the cells that read."""
        values, problems = {}, []
        for import_field in fields or cls.fields():
            raw = cells.get(import_field.name)
            if raw.__class__ is str:  # CSV cells: stripped once here
                raw = raw.strip() or None
            if raw is None or (not isinstance(raw, (str, bool, int, float, dt.datetime)) and cell_text(raw) == ""):
                if import_field.required:
                    problems.append((import_field.name, "required", {}))
                continue
            try:
                values[import_field.name] = import_field.parse(raw)
            except CellError as error:
                problems.append((import_field.name, error.code, error.params))
        return values, problems


REGISTRY = {}


def register(cls):
    """Class decorator: add a connector to the registry."""
    if cls.kind not in KINDS:
        raise ValueError(f"connector {cls.code}: unknown kind {cls.kind}")
    if cls.code in REGISTRY:
        raise ValueError(f"connector {cls.code} registered twice")
    REGISTRY[cls.code] = cls
    return cls


def connector(code):
    """The connector registered as `code` (KeyError when there is none)."""
    return REGISTRY[code]


def connectors_for(platform=None, kind=None):
    """The connectors for a platform (generic ones included) and kind, by code."""
    return sorted((c for c in REGISTRY.values()
                   if (platform is None or c.platform in (platform, ANY_PLATFORM))
                   and (kind is None or c.kind == kind)), key=lambda c: (c.platform == ANY_PLATFORM, c.code))
