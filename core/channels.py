"""The kernel's notification channels: in-app, email (SMTP, off until configured), and SMS and WeChat
template messages as examples of the channel hook that stay "not configured" until a provider plugin
supplies a sender."""
from __future__ import annotations

import asyncio
import smtplib
from email.message import EmailMessage
from typing import Any

from core.contracts import NotificationChannel


def _in_app(**_: Any) -> str:
    return "sent"  # stored in core_notification; the portal reads it from there


def _email_configured(settings: dict[str, Any]) -> bool:
    return bool(settings.get("host") and settings.get("sender"))


async def _email(*, recipient: str, subject: str, body: str, settings: dict[str, Any], **_: Any) -> str:
    if not recipient:
        raise ValueError("no email address for this recipient")
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = settings["sender"], recipient, subject
    msg.set_content(body or subject)

    def deliver() -> None:
        with smtplib.SMTP(settings["host"], int(settings.get("port", 25)), timeout=15) as smtp:
            if settings.get("starttls"):
                smtp.starttls()
            if settings.get("user"):
                smtp.login(settings["user"], settings.get("password", ""))
            smtp.send_message(msg)

    await asyncio.get_running_loop().run_in_executor(None, deliver)
    return "sent"


def _provider_missing(name: str):
    def send(**_: Any) -> str:
        from core.notify import NotConfigured

        raise NotConfigured(f"no {name} provider is installed; add a plugin that implements this channel")

    return send


KERNEL_CHANNELS = (
    NotificationChannel("in_app", "站内消息 / In-app", _in_app),
    NotificationChannel("email", "邮件 / Email", _email, configured=_email_configured),
    NotificationChannel("sms", "短信 / SMS", _provider_missing("SMS"), configured=lambda s: False),
    NotificationChannel("wechat", "微信模板消息 / WeChat template message", _provider_missing("WeChat"),
                        configured=lambda s: False),
)
