"""JD (京东咚咚) exports: the conversation export and the sub-account login log."""
from flask_babel import lazy_gettext as _l

from portal.connectors.base import Connector, register


@register
class JdConversations(Connector):
    code = "jd_conversations"
    label = _l("JD 咚咚 conversation export")
    platform = "jd"
    kind = "conversations"
    presets = {
        "session_id": ("会话ID", "咚咚会话ID", "Session ID"),
        "account": ("店铺账号", "商家账号", "Account"),
        "sub_account": ("客服账号", "子账号", "Waiter"),
        "customer_ref": ("客户账号", "顾客账号", "Customer PIN"),
        "started_at": ("咨询时间", "会话开始时间", "Consult time"),
        "first_reply_at": ("首次回复时间", "First reply time"),
        "ended_at": ("会话结束时间", "结束时间", "End time"),
        "customer_messages": ("顾客消息数", "客户消息数", "Customer messages"),
        "agent_messages": ("客服消息数", "Agent messages"),
        "resolved": ("是否解决", "Resolved"),
        "reopened": ("是否重复咨询", "Reopened"),
        "rating": ("满意度评价", "评价结果", "Satisfaction"),
    }


@register
class JdLogins(Connector):
    code = "jd_logins"
    label = _l("JD sub-account login log")
    platform = "jd"
    kind = "logins"
    presets = {
        "sub_account": ("子账号", "Sub-account"),
        "login_at": ("登录时间", "Login time"),
        "logout_at": ("登出时间", "Logout time"),
        "address": ("IP", "登录IP", "IP address"),
        "session_id": ("会话ID", "Session ID"),
        "workstation": ("登录设备", "Workstation"),
    }
