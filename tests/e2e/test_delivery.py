"""Verify codes delivered for real: a mail to a local SMTP server and a POST to a
local webhook, end to end through a running server with echo off."""
import logging

import pytest

from weiguan.entities import messages

from tests.support.servers import start_server, stop_server
from tests.support.servers import test_config as make_config
from tests.support.receivers import SmtpSink, WebhookReceiver
from tests.support import call, register

TOKEN = 'relay-secret'


@pytest.fixture
async def sink():
    sink = await SmtpSink().start()
    yield sink
    await sink.close()


@pytest.fixture
async def receiver():
    receiver = await WebhookReceiver().start()
    yield receiver
    await receiver.close()


@pytest.fixture
def config(tmp_path, sink, receiver):
    return make_config(tmp_path, VERIFY_CODE_ECHO=False, SMTP_HOST='127.0.0.1',
                       SMTP_PORT=sink.port, SMTP_STARTTLS=False,
                       SMTP_FROM='codes@weiguan.test', SMS_WEBHOOK_URL=receiver.url,
                       SMS_WEBHOOK_TOKEN=TOKEN, VERIFY_CODE_DELIVERY_TIMEOUT=5)


def server_log(caplog) -> str:
    """Every record of the process but the test SMTP server's own (aiosmtpd logs
    each mail it gets at DEBUG under 'mail.log')."""
    return '\n'.join(record.getMessage() for record in caplog.records
                     if not record.name.startswith('mail.log'))


async def send(client, channel: str, target: str) -> dict:
    return await call(client, 'POST', f'/account/send/{channel}/verify/code',
                      type='modify', **{channel: target})


async def test_codes_arrive_by_mail_and_webhook_and_are_accepted(client, sink, receiver,
                                                                 caplog):
    caplog.set_level(logging.DEBUG)
    await register(client, 'alice')

    body = await send(client, 'email', 'alice@example.com')
    assert (body['code'], body['data']) == ('ok', {'verifyCode': None})
    mail = sink.mails[-1]
    assert (mail['From'], mail['To']) == ('codes@weiguan.test', 'alice@example.com')
    assert mail['Subject'] == messages.VERIFY_MAIL_SUBJECT
    email_code = sink.code_for('alice@example.com')
    assert 'valid for 5 minutes' in mail.get_payload(decode=True).decode()

    body = await send(client, 'mobile', '13800000000')
    assert (body['code'], body['data']) == ('ok', {'verifyCode': None})
    (webhook,) = receiver.calls
    assert webhook['request'].startswith('POST /sms ')
    assert webhook['headers']['authorization'] == f'Bearer {TOKEN}'
    assert webhook['headers']['content-type'] == 'application/json'
    assert set(webhook['json']) == {'mobile', 'code', 'text'}
    assert webhook['json']['mobile'] == '13800000000'
    sms_code = webhook['json']['code']
    assert sms_code in webhook['json']['text']

    body = await call(client, 'POST', '/account/modify', email='alice@example.com',
                      code=email_code)
    assert body['code'] == 'ok' and body['data']['user']['email'] == 'alice@example.com'
    body = await call(client, 'POST', '/account/modify', mobile='13800000000', code=sms_code)
    assert body['code'] == 'ok' and body['data']['user']['mobile'] == '13800000000'

    logged = server_log(caplog)
    assert email_code not in logged and sms_code not in logged


@pytest.mark.parametrize('status', [500, 302])
async def test_a_failing_webhook_is_503_and_a_resend_may_follow_at_once(
        client, receiver, status, caplog):
    caplog.set_level(logging.DEBUG)
    await register(client, 'alice')
    receiver.status = status  # a redirect is not followed: not delivered either
    body = await send(client, 'mobile', '13800000000')
    assert body['code'] == 'unavailable'
    assert body['message'] == messages.VERIFY_CODE_NOT_DELIVERED
    assert len(receiver.calls) == 1  # the redirect's target was never asked
    lost = receiver.calls[0]['json']['code']
    # The code that did not arrive is not usable.
    body = await call(client, 'POST', '/account/modify', mobile='13800000000', code=lost)
    assert body['code'] == 'fail'

    receiver.status = 200
    body = await send(client, 'mobile', '13800000000')  # no resend interval to wait
    assert body['code'] == 'ok'
    code = receiver.calls[-1]['json']['code']
    body = await call(client, 'POST', '/account/modify', mobile='13800000000', code=code)
    assert body['code'] == 'ok'
    logged = server_log(caplog)
    assert lost not in logged and code not in logged


async def test_a_failing_mail_server_is_503_and_a_resend_may_follow_at_once(client, sink):
    await register(client, 'alice')
    sink.fail = True
    body = await send(client, 'email', 'alice@example.com')
    assert (body['code'], body['message']) == ('unavailable',
                                               messages.VERIFY_CODE_NOT_DELIVERED)
    sink.fail = False
    assert (await send(client, 'email', 'alice@example.com'))['code'] == 'ok'
    assert len(sink.mails) == 1


async def test_an_unreachable_mail_server_is_503(tmp_path, receiver):
    config = make_config(tmp_path, VERIFY_CODE_ECHO=False, SMTP_HOST='127.0.0.1',
                         SMTP_PORT=1, SMTP_STARTTLS=False)
    handle, server = await start_server(config)
    try:
        import httpx
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            # Targets of its own: this server's backends are not reset between tests.
            body = await send(client, 'email', 'unreachable@example.com')
            assert body['code'] == 'unavailable'
            body = await send(client, 'mobile', '13900000009')  # no SMS channel here
            assert body['code'] == 'fail'
    finally:
        await stop_server(handle)
