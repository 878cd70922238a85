"""Tmall (千牛) exports: conversations by sub-account (waiter, 子账号)."""
from flask_babel import lazy_gettext as _l

from portal.connectors.base import Connector, register


@register
class TmallConversations(Connector):
    code = "tmall_conversations"
    label = _l("Tmall 千牛 conversation export")
    platform = "tmall"
    kind = "conversations"
    presets = {
        "session_id": ("会话ID", "Session ID"),
        "account": ("主账号", "店铺", "Shop"),
        "sub_account": ("子账号", "旺旺子账号", "waiter", "Waiter"),
        "customer_ref": ("买家昵称", "买家", "Buyer nick"),
        "started_at": ("买家首次咨询时间", "咨询时间", "Start time"),
        "first_reply_at": ("客服首次响应时间", "First response time"),
        "ended_at": ("会话结束时间", "End time"),
        "customer_messages": ("买家消息数", "Buyer messages"),
        "agent_messages": ("客服消息数", "Waiter messages"),
        "resolved": ("是否解决", "Resolved"),
        "reopened": ("是否重复咨询", "Reopened"),
        "rating": ("买家评价", "服务评价", "Rating"),
    }


@register
class TmallMessages(Connector):
    code = "tmall_messages"
    label = _l("Tmall 千牛 chat log")
    platform = "tmall"
    kind = "messages"
    presets = {
        "session_id": ("会话ID", "Session ID"),
        "at": ("发送时间", "Time"),
        "sender": ("发送方", "Sender"),
        "sub_account": ("子账号", "waiter", "Waiter"),
    }
