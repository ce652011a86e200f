"""Notifications: the in-app inbox API scoped to its user, email through SMTP to a local server,
SMS and WeChat recorded as not configured, and the idempotency key."""
from __future__ import annotations

import asyncio
import email
import email.policy
import socket

import pytest

from core import jobs, notify
from core.tables import Notification, User
from tests.conftest import make_world


@pytest.fixture
def stub_broker():
    jobs.load_actor_modules()
    broker = jobs.make_broker(None)
    previous = jobs.use_broker(broker)
    yield broker
    jobs.use_broker(previous)


async def run_queue(broker, queue: str) -> None:
    worker = jobs.make_worker(threads=1)
    worker.start()
    try:
        await asyncio.get_running_loop().run_in_executor(None, lambda: broker.join(queue, timeout=30_000, fail_fast=True))
    finally:
        await asyncio.get_running_loop().run_in_executor(None, worker.stop)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """An aiosmtpd handler keeping what it receives."""

    def __init__(self) -> None:
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller.port, inbox
    controller.stop()


async def row(notification_id: int) -> dict:
    return await Notification.select().where(Notification.id == notification_id).first()


# ---------------------------------------------------------------- in-app inbox API

async def test_inbox_lists_my_messages_and_marks_them_read(client, world):
    butler, supervisor = world.staff["butler"], world.staff["supervisor"]
    [a] = await notify.send(world.tenant_id, template="test.one", subject="第一条", key="inbox:1", user_ids=[butler])
    [b] = await notify.send(world.tenant_id, template="test.two", subject="第二条", key="inbox:2", user_ids=[butler])
    await notify.send(world.tenant_id, template="test.other", subject="别人的", key="inbox:3", user_ids=[supervisor])
    r = await client.get("/api/v1/notifications", headers=world.headers("butler"))
    assert r.status_code == 200
    assert [n["id"] for n in r.json()["items"]] == [b, a] and r.json()["unread_count"] == 2
    r = await client.post(f"/api/v1/notifications/{a}/read", headers=world.headers("butler"))
    assert r.status_code == 200 and r.json()["read_at"] is not None
    first_read = r.json()["read_at"]
    r = await client.post(f"/api/v1/notifications/{a}/read", headers=world.headers("butler"))
    assert r.json()["read_at"] == first_read  # reading again keeps the first time
    unread = (await client.get("/api/v1/notifications?unread=true", headers=world.headers("butler"))).json()
    assert [n["id"] for n in unread["items"]] == [b] and unread["unread_count"] == 1
    read = (await client.get("/api/v1/notifications?unread=false", headers=world.headers("butler"))).json()
    assert [n["id"] for n in read["items"]] == [a]
    page = (await client.get("/api/v1/notifications?limit=1", headers=world.headers("butler"))).json()
    assert [n["id"] for n in page["items"]] == [b] and page["next_cursor"]
    page2 = (await client.get(f"/api/v1/notifications?limit=1&cursor={page['next_cursor']}",
                              headers=world.headers("butler"))).json()
    assert [n["id"] for n in page2["items"]] == [a] and page2["next_cursor"] is None


async def test_another_persons_or_another_companys_message_is_404(client, world, other_world):
    [mine] = await notify.send(world.tenant_id, template="test", subject="x", key="scope:1", user_ids=[world.staff["butler"]])
    [theirs] = await notify.send(other_world.tenant_id, template="test", subject="y", key="scope:1",
                                 user_ids=[other_world.staff["butler"]])
    r = await client.post(f"/api/v1/notifications/{theirs}/read", headers=world.headers("butler"))
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    r = await client.post(f"/api/v1/notifications/{mine}/read", headers=world.headers("supervisor"))
    assert r.status_code == 404
    assert (await row(theirs))["read_at"] is None and (await row(mine))["read_at"] is None
    listed = (await client.get("/api/v1/notifications", headers=world.headers("butler"))).json()["items"]
    assert [n["id"] for n in listed] == [mine]


async def test_inbox_refuses_a_bad_unread_value_naming_the_field(client, world):
    r = await client.get("/api/v1/notifications?unread=maybe", headers=world.headers("butler"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "unread"


async def test_same_key_is_recorded_once(world):
    ids = await notify.send(world.tenant_id, template="test", subject="一次", key="once",
                            user_ids=[world.staff["butler"], world.staff["butler"], world.staff["supervisor"]])
    assert len(ids) == 2
    assert await notify.send(world.tenant_id, template="test", subject="一次", key="once",
                             user_ids=[world.staff["butler"]]) == []
    assert await Notification.count().where((Notification.tenant_id == world.tenant_id)
                                            & Notification.idempotency_key.like("once:%")) == 2


# ---------------------------------------------------------------- email, SMS, WeChat

async def test_email_goes_through_smtp_and_records_the_outcome(smtp_server, stub_broker):
    port, inbox = smtp_server
    world = await make_world(settings={"notifications": {"email": {"host": "127.0.0.1", "port": port,
                                                                   "sender": "kefu@wuye.example"}}}, login=False)
    await User.update({User.email: "butler@wuye.example"}).where(User.id == world.staff["butler"])
    [nid] = await notify.send(world.tenant_id, template="ticket.assigned", subject="新工单 #1: 厨房漏水",
                              body="请尽快处理", key="mail:1", user_ids=[world.staff["butler"]], channel="email")
    pending = await row(nid)
    assert (pending["outcome"], pending["address"], pending["channel"]) == ("pending", "butler@wuye.example", "email")
    assert inbox.envelopes == []
    await run_queue(stub_broker, "core.notifications")
    sent = await row(nid)
    assert (sent["outcome"], sent["error"]) == ("sent", "") and sent["sent_at"] is not None
    [mail] = inbox.envelopes
    assert mail.mail_from == "kefu@wuye.example" and mail.rcpt_tos == ["butler@wuye.example"]
    message = email.message_from_bytes(mail.content, policy=email.policy.default)
    assert message["Subject"] == "新工单 #1: 厨房漏水" and message.get_content().strip() == "请尽快处理"
    # the same key again sends nothing, and delivering the same row again sends nothing
    assert await notify.send(world.tenant_id, template="ticket.assigned", subject="新工单 #1: 厨房漏水",
                             key="mail:1", user_ids=[world.staff["butler"]], channel="email") == []
    assert await notify.deliver(world.tenant_id, nid) == "sent"
    assert len(inbox.envelopes) == 1


def test_email_fan_out_keeps_one_smtp_session_and_reopens_one_the_server_closed():
    """Many messages to one server go through one session per thread; after the server restarts (its
    sessions gone) the next message opens a new one and nothing is lost."""
    from email.message import EmailMessage

    from aiosmtpd.controller import Controller

    from core import channels

    class Counting(Inbox):
        sessions = 0

        async def handle_EHLO(self, server, session, envelope, hostname, responses):
            Counting.sessions += 1
            session.host_name = hostname
            return responses

    port = free_port()
    inbox = Counting()
    settings = {"host": "127.0.0.1", "port": port, "sender": "kefu@wuye.example"}

    def message(i: int) -> EmailMessage:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = "kefu@wuye.example", f"owner{i}@wuye.example", f"停水通知 {i}"
        msg.set_content("明日 9:00-12:00 停水。")
        return msg

    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        for i in range(5):
            channels._smtp_send(settings, message(i))
        assert (len(inbox.envelopes), Counting.sessions) == (5, 1)
    finally:
        controller.stop()  # the server goes away with its sessions
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        channels._smtp_send(settings, message(5))
        assert (len(inbox.envelopes), Counting.sessions) == (6, 2)
        assert [e.rcpt_tos for e in inbox.envelopes][-1] == ["owner5@wuye.example"]
    finally:
        controller.stop()
    with pytest.raises(OSError):  # away for good: the send fails (recorded as failed by `deliver`)
        channels._smtp_send(settings, message(6))


async def test_email_to_an_smtp_server_that_is_away_records_failed(stub_broker):
    world = await make_world(settings={"notifications": {"email": {"host": "127.0.0.1", "port": free_port(),
                                                                   "sender": "kefu@wuye.example"}}}, login=False)
    [nid] = await notify.send(world.tenant_id, template="test", subject="x", key="mail:away", address="a@b.example",
                              customer_id=world.customers[0]["id"], channel="email")
    await run_queue(stub_broker, "core.notifications")
    failed = await row(nid)
    assert failed["outcome"] == "failed" and "Connection" in failed["error"]
    assert failed["recipient_customer_id"] == world.customers[0]["id"]


async def test_email_without_smtp_settings_is_not_configured_and_never_sent(world, stub_broker):
    [nid] = await notify.send(world.tenant_id, template="test", subject="x", key="mail:off",
                              user_ids=[world.staff["butler"]], channel="email")
    r = await row(nid)
    assert r["outcome"] == "not_configured" and "not configured" in r["error"] and r["sent_at"] is None
    assert stub_broker.queues.get("core.notifications") is None or stub_broker.queues["core.notifications"].qsize() == 0


async def test_email_to_someone_without_an_address_records_no_address(smtp_server, stub_broker):
    port, inbox = smtp_server
    world = await make_world(settings={"notifications": {"email": {"host": "127.0.0.1", "port": port,
                                                                   "sender": "kefu@wuye.example"}}}, login=False)
    [nid] = await notify.send(world.tenant_id, template="test", subject="x", key="mail:none",
                              user_ids=[world.staff["supervisor"]], channel="email")
    assert (await row(nid))["outcome"] == "no_address"
    assert inbox.envelopes == []


@pytest.mark.parametrize("channel", ["sms", "wechat"])
async def test_sms_and_wechat_record_not_configured_never_a_fake_send(world, stub_broker, channel):
    # even with settings, the kernel has no provider: a provider plugin must implement the channel
    [nid] = await notify.send(world.tenant_id, template="ticket.assigned", subject="新工单", key=f"{channel}:1",
                              customer_id=world.customers[0]["id"], channel=channel)
    r = await row(nid)
    assert (r["channel"], r["recipient_customer_id"], r["template"], r["outcome"]) == (
        channel, world.customers[0]["id"], "ticket.assigned", "not_configured")
    assert r["created_at"] is not None and r["sent_at"] is None
    assert await notify.deliver(world.tenant_id, nid) == "not_configured"


async def test_unknown_channel_is_refused_and_writes_nothing(world):
    with pytest.raises(ValueError):
        await notify.send(world.tenant_id, template="t", subject="x", key="k", user_ids=[world.staff["butler"]],
                          channel="pigeon")
    assert await Notification.count().where(Notification.tenant_id == world.tenant_id) == 0
