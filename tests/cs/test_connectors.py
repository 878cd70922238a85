"""The connector registry and the cells the connectors read."""
import datetime as dt

import pytest
from hypothesis import given, strategies as st

from portal.connectors import connector, connectors_for
from portal.connectors.base import (
    Connector, parse_boolean, parse_count, parse_rating, parse_sender, parse_time, register,
)
from portal.core.tabular import CellError, RowError


def test_the_registry_finds_connectors_by_code_platform_and_kind():
    assert connector("jd_logins").kind == "logins"
    codes = [c.code for c in connectors_for("jd", "conversations")]
    assert codes == ["jd_conversations", "generic_conversations"]
    assert "tmall_conversations" not in codes
    assert {c.code for c in connectors_for("tmall")} >= {"tmall_conversations", "tmall_messages"}
    with pytest.raises(KeyError):
        connector("nope")


def test_registering_twice_or_an_unknown_kind_is_refused():
    class Twice(Connector):
        code, kind = "jd_logins", "logins"

    class Odd(Connector):
        code, kind = "odd", "orders"

    with pytest.raises(ValueError):
        register(Twice)
    with pytest.raises(ValueError):
        register(Odd)


def test_presets_name_the_marketplaces_columns_in_chinese_and_english():
    from portal.cs.imports import suggest_mapping

    jd = connector("jd_logins")
    assert suggest_mapping(jd, ["子账号", "登录时间", "登出时间", "IP", "会话ID"]) == {
        "sub_account": "子账号", "login_at": "登录时间", "logout_at": "登出时间", "address": "IP",
        "session_id": "会话ID"}
    assert suggest_mapping(connector("tmall_conversations"), ["waiter", "Session ID"]) == {
        "sub_account": "waiter", "session_id": "Session ID"}
    assert all(str(c.label) for c in connectors_for())


@pytest.mark.parametrize("raw", ["2025-05-01 08:30:05", "2025/05/01 08:30:05", "2025年05月01日 08:30:05",
                                 "2025-05-01T08:30:05", "20250501083005", dt.datetime(2025, 5, 1, 8, 30, 5, 120)])
def test_timestamps_in_several_formats(raw):
    assert parse_time(raw) == dt.datetime(2025, 5, 1, 8, 30, 5)


def test_ratings_booleans_counts_and_senders():
    assert [parse_rating(w) for w in ("很满意", "满意", "一般", "不满意", "很不满意")] == [5, 4, 3, 2, 1]
    assert [parse_rating(w) for w in ("5", "4星", 3, 2.0, "1")] == [5, 4, 3, 2, 1]
    assert (parse_boolean("是"), parse_boolean("否"), parse_boolean(True), parse_boolean("yes")) == (
        True, False, True, True)
    assert parse_count("12") == 12 and parse_count(3) == 3
    assert (parse_sender("客户"), parse_sender("客服"), parse_sender("Agent")) == ("customer", "agent", "agent")
    for parse, raw in ((parse_rating, "6"), (parse_rating, "good"), (parse_boolean, "maybe"), (parse_count, "-1"),
                       (parse_time, "yesterday"), (parse_sender, "bot")):
        with pytest.raises(CellError):
            parse(raw)


def test_a_refused_cell_reads_as_a_translated_reason(app):
    with app.test_request_context():
        with pytest.raises(CellError) as refused:
            parse_rating("超赞")
        error = RowError(2, "评价", refused.value.code, refused.value.params)
        assert "超赞" in error.message


@given(st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2099, 12, 31)))
def test_any_written_timestamp_reads_back(moment):
    moment = moment.replace(microsecond=0)
    assert parse_time(moment.strftime("%Y-%m-%d %H:%M:%S")) == moment
    assert parse_time(moment.strftime("%Y/%m/%d %H:%M:%S")) == moment


def test_parse_record_reports_each_bad_field():
    values, problems = connector("generic_conversations").parse_record(
        {"session_id": "S1", "started_at": "2025-05-01 08:00", "ended_at": "late", "rating": "很满意"})
    assert values["rating"] == 5 and values["session_id"] == "S1"
    assert problems == [("ended_at", "cs_bad_time", {"value": "late"})]
