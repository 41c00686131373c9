"""Password-reset mail over SMTP: with SMTP_URL set, the reset token arrives at a local SMTP
server (Python's smtpd on 127.0.0.1) and resets the password; the server log never shows it."""
import os
import re
import socket
import subprocess
import sys
import time

import httpx
import pytest

from test_app_flow import BIN, PASSWORD, free_port


SINK = r"""
import smtpd, asyncore, sys
class Sink(smtpd.SMTPServer):
    def process_message(self, peer, mailfrom, rcpttos, data, **kw):
        with open(sys.argv[2], "ab") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
            f.write(b"\n--end--\n")
Sink(("127.0.0.1", int(sys.argv[1])), None, decode_data=False)
asyncore.loop()
"""


def test_reset_token_arrives_by_smtp(tmp_path):
    smtp_port, mbox = free_port(), tmp_path / "mbox"
    sink = subprocess.Popen([sys.executable, "-W", "ignore", "-c", SINK, str(smtp_port), str(mbox)])
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", smtp_port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    port = free_port()
    env = dict(os.environ, APEX_DATA_DIR=str(tmp_path), SMTP_URL=f"smtp://127.0.0.1:{smtp_port}",
               SMTP_FROM="ApexTrade <noreply@apextrade.local>")
    env.pop("DATABASE_URL", None)
    env.pop("APEX_TEST_PG_URL", None)
    log = open(tmp_path / "server.log", "w")
    proc = subprocess.Popen([BIN, "serve", "--port", str(port)], env=env, stdout=log, stderr=log)
    try:
        api = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
        for _ in range(100):
            try:
                api.get("/healthz")
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        assert api.post("/api/v1/auth/register", json={"email": "mail@example.com", "password": PASSWORD}).status_code == 201
        assert api.post("/api/v1/auth/forgot", json={"email": "mail@example.com"}).status_code == 202
        for _ in range(100):
            if mbox.exists() and b"--end--" in mbox.read_bytes():
                break
            time.sleep(0.05)
        mail = mbox.read_text()
        assert "To: mail@example.com" in mail and "Subject: ApexTrade password reset" in mail
        token = re.search(r"Reset token \(valid 30 minutes, once\): ([A-Za-z0-9_-]{43})", mail).group(1)
        assert api.post("/api/v1/auth/reset", json={"token": token, "password": "a brand new passphrase"}).status_code == 204
        assert api.post("/api/v1/auth/login", json={"email": "mail@example.com",
                                                    "password": "a brand new passphrase"}).status_code == 200
        assert token not in (tmp_path / "server.log").read_text()
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
        sink.kill()
