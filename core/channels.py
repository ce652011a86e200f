"""The kernel's notification channels: in-app, email (SMTP, off until configured), and SMS and WeChat
template messages as examples of the channel hook that stay "not configured" until a provider plugin
supplies a sender."""
from __future__ import annotations

import asyncio
import smtplib
import threading
import time
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

    await asyncio.get_running_loop().run_in_executor(None, _smtp_send, settings, msg)
    return "sent"


_smtp = threading.local()  # each executor thread keeps its own open SMTP sessions, one per server and login
_SMTP_IDLE_SECONDS = 30.0


def _smtp_send(settings: dict[str, Any], msg: EmailMessage) -> None:
    """Send on this thread's open session to the server (a fan-out of many messages opens one session per
    thread, not one per message); a session the server has closed, or one idle too long, is opened again."""
    key = (settings["host"], int(settings.get("port", 25)), bool(settings.get("starttls")), settings.get("user") or "",
           settings.get("password", ""))
    sessions: dict[tuple[Any, ...], tuple[smtplib.SMTP, float]] = getattr(_smtp, "sessions", None) or {}
    _smtp.sessions = sessions
    known = sessions.pop(key, None)
    if known is not None and time.monotonic() - known[1] > _SMTP_IDLE_SECONDS:
        _quit(known[0])
        known = None
    smtp = known[0] if known else None
    for attempt in (1, 2):
        if smtp is None:
            smtp = _open(*key)
        try:
            smtp.send_message(msg)
            break
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError):
            sessions[key] = (smtp, time.monotonic())  # this message was refused; the session goes on
            raise
        except (smtplib.SMTPServerDisconnected, ConnectionError, TimeoutError):
            _quit(smtp)
            smtp = None
            if attempt == 2 or known is None:  # a fresh session failed: the server is away
                raise
        except BaseException:
            _quit(smtp)
            raise
    sessions[key] = (smtp, time.monotonic())


def _open(host: str, port: int, starttls: bool, user: str, password: str) -> smtplib.SMTP:
    smtp = smtplib.SMTP(host, port, timeout=15)
    try:
        if starttls:
            smtp.starttls()
        if user:
            smtp.login(user, password)
    except BaseException:
        smtp.close()
        raise
    return smtp


def _quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


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
