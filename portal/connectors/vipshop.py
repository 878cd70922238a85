"""Vipshop (唯品会) customer-service exports."""
from flask_babel import lazy_gettext as _l

from portal.connectors.base import Connector, register


@register
class VipshopConversations(Connector):
    code = "vipshop_conversations"
    label = _l("Vipshop conversation export")
    platform = "vipshop"
    kind = "conversations"
    presets = {
        "session_id": ("会话编号", "会话ID", "Session No."),
        "account": ("商家账号", "Vendor account"),
        "sub_account": ("客服工号", "客服名称", "Agent"),
        "customer_ref": ("会员ID", "用户ID", "Member ID"),
        "started_at": ("接入时间", "开始时间", "Start time"),
        "first_reply_at": ("首次响应时间", "First response time"),
        "ended_at": ("结束时间", "End time"),
        "customer_messages": ("会员消息数", "Member messages"),
        "agent_messages": ("客服消息数", "Agent messages"),
        "resolved": ("问题是否解决", "Resolved"),
        "rating": ("满意度", "Satisfaction"),
    }


@register
class VipshopMessages(Connector):
    code = "vipshop_messages"
    label = _l("Vipshop message log")
    platform = "vipshop"
    kind = "messages"
    presets = {
        "session_id": ("会话编号", "Session No."),
        "at": ("发送时间", "Sent at"),
        "sender": ("发送方", "Sender"),
        "sub_account": ("客服工号", "Agent"),
    }
