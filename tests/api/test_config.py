"""Configuration is read in one place (sys/config): the --jwt-*-key-file flags of `serve` really
choose the token keys (they were accepted and ignored: the keys came from the environment or the
data dir), a mismatched pair is refused at start, and the one production policy for secrets
refuses values that only look long enough. Expectations come from the openssl command line."""
import base64
import os
import subprocess

from conftest import BIN

PASSWORD = "correct horse battery staple"


def openssl(*args, **kw):
    return subprocess.run(["openssl", *args], capture_output=True, check=True, timeout=60, **kw)


def key_pair(d, name):
    priv, pub = os.path.join(d, name + ".pem"), os.path.join(d, name + ".pub.pem")
    openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", priv)
    os.chmod(priv, 0o600)
    openssl("pkey", "-in", priv, "-pubout", "-out", pub)
    return priv, pub


def b64url(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def test_jwt_key_file_flags_sign_the_tokens(start_server, tmp_path):
    keys = tmp_path / "keys"
    keys.mkdir()
    priv, pub = key_pair(str(keys), "jwt")
    srv = start_server(args=("--jwt-private-key-file", priv, "--jwt-public-key-file", pub))
    api = srv.client
    assert api.post("/api/v1/auth/register", json={"email": "keys@example.com", "password": PASSWORD}).status_code == 201
    r = api.post("/api/v1/auth/login", json={"email": "keys@example.com", "password": PASSWORD})
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    head, payload, sig = token.split(".")
    (keys / "signed").write_bytes(f"{head}.{payload}".encode())
    (keys / "sig").write_bytes(b64url(sig))
    v = subprocess.run(["openssl", "dgst", "-sha256", "-verify", pub, "-signature", str(keys / "sig"),
                        str(keys / "signed")], capture_output=True, text=True, timeout=30)
    assert v.returncode == 0 and "Verified OK" in v.stdout, (v.stdout, v.stderr)
    assert api.get("/api/v1/auth/me", headers={"Authorization": "Bearer " + token}).status_code == 200
    for name in ("jwt_private.pem", "jwt_public.pem"):
        assert not os.path.exists(os.path.join(srv.data_dir, name)), name  # nothing generated
    srv.stop()


def run_serve(args, env, timeout=20):
    """`serve` that must refuse to start: its exit code and stderr (a server that starts is killed)."""
    p = subprocess.Popen([BIN, "serve", "--port", "0", *args], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        raise AssertionError("the server started instead of refusing: " + err)
    return p.returncode, err


def test_mismatched_jwt_key_pair_is_refused_at_start(tmp_path):
    priv_a, _ = key_pair(str(tmp_path), "a")
    _, pub_b = key_pair(str(tmp_path), "b")
    data = tmp_path / "data"
    env = {"PATH": "/usr/bin:/bin", "APEX_DATA_DIR": str(data)}
    code, err = run_serve(["--jwt-private-key-file", priv_a, "--jwt-public-key-file", pub_b], env)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and pub_b in lines[0] and "does not belong" in lines[0], err
    assert not os.path.exists(data / "jwt_private.pem")


def test_production_secrets_follow_one_policy(tmp_path):
    strong = base64.b64encode(os.urandom(32)).decode()
    enc = os.urandom(32).hex()
    base = {"PATH": "/usr/bin:/bin", "APEX_DATA_DIR": str(tmp_path), "APP_ENV": "production"}
    for name, value in [
        ("SECRET_KEY", "Password123Password123Password123!!"),        # long, but a pattern of a password
        ("SECRET_KEY", "q8Zr2LmX9vTw4NpK7sYb3HcF6gJd1Ae5"),            # 32 characters: 192 bits only
        ("API_KEY_ENCRYPTION_KEY", "your-32-byte-key-your-32-byte-key-your-32"),  # the spec's example
        ("API_KEY_ENCRYPTION_KEY", "0123456789abcdef" * 4),            # 64 hex digits, sequential
    ]:
        env = {**base, "SECRET_KEY": strong, "API_KEY_ENCRYPTION_KEY": enc, name: value}
        code, err = run_serve([], env)
        assert code == 2, (name, value, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and name in lines[0], err
        assert value not in err and value[:12] not in err, "never the value"
    # The same policy through the flags.
    code, err = run_serve(["--secret-key", "Password123Password123Password123!!"],
                          {**base, "SECRET_KEY": strong, "API_KEY_ENCRYPTION_KEY": enc})
    assert code == 2 and "SECRET_KEY" in err and "Password123" not in err, err
    assert not os.path.exists(tmp_path / "jwt_private.pem")  # refused before anything is generated


def test_help_states_the_secret_policy():
    p = subprocess.run([BIN, "serve", "--help"], capture_output=True, text=True, timeout=10)
    lines = p.stdout.splitlines()
    for name in ("SECRET_KEY", "API_KEY_ENCRYPTION_KEY"):
        flag = lines[[i for i, l in enumerate(lines) if l.strip() == "env " + name][0] - 1]
        assert "256 bits" in flag and "43+ base64" in flag and "example" in flag, flag


def test_migrate_reads_the_data_dir_flag(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "APEX_DATA_DIR": str(tmp_path / "from-env")}
    r = subprocess.run([BIN, "migrate", "--data-dir", str(tmp_path / "from-flag")], env=env, capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert os.path.exists(tmp_path / "from-flag" / "apextrade.db")
    assert not os.path.exists(tmp_path / "from-env")
    r = subprocess.run([BIN, "migrate", "--database-url", "mysql://u:hunter2@h/db"], env=env, capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 2 and "DATABASE_URL" in r.stderr and "hunter2" not in r.stderr, r.stderr
