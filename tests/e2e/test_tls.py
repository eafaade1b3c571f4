"""Portside serving https (`--tls-cert/--tls-key`) with a self-signed certificate made at test time:
httpx verifies it, skopeo pushes and pulls with `--dest-cert-dir` / `--cert-dir` (and its token
requests go to the https realm the challenge names)."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .conftest import StartPortside
from .images import OCI_MANIFEST, NotebookImages, OciLayout
from .protocol import SERVICE, bearer_token, http_client, parse_bearer_challenge
from .servers import LOOPBACK
from .skopeo import ANONYMOUS_DENIED, Skopeo

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class TlsFiles:
    cert: Path  # PEM certificate, self-signed, SAN IP:127.0.0.1 and DNS:localhost
    key: Path  # PEM private key
    cert_dir: Path  # a containers-style cert dir: the certificate as ca.crt


def write_self_signed_certificate(directory: Path) -> TlsFiles:
    """A P-256 key and a one-day self-signed certificate (its own CA) for 127.0.0.1 and localhost."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "portside e2e")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([
            x509.IPAddress(ipaddress.ip_address(LOOPBACK)), x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False, key_agreement=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM)
    files = TlsFiles(directory / "server.crt", directory / "server.key", directory / "certs.d")
    files.cert.write_bytes(cert_pem)
    files.key.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()))
    files.key.chmod(0o600)
    files.cert_dir.mkdir()
    (files.cert_dir / "ca.crt").write_bytes(cert_pem)
    return files


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return write_self_signed_certificate(tmp_path_factory.mktemp("tls"))


def test_https_with_a_self_signed_certificate(start_portside: StartPortside, tls_files: TlsFiles,
                                              skopeo: Skopeo, notebook_images: NotebookImages, project: str,
                                              tmp_path: Path) -> None:
    server = start_portside("portside-tls", tls_cert=tls_files.cert, tls_key=tls_files.key)
    assert server.url == f"https://{LOOPBACK}:{server.port}"
    trust = ssl.create_default_context(cafile=str(tls_files.cert))

    # httpx: verified https with the admin's Basic credentials; the challenge names the https realm.
    response = httpx.get(f"{server.url}/v2/", verify=trust, auth=server.credentials, timeout=10)
    assert response.status_code == 200, (response.status_code, response.text)
    assert response.headers["Docker-Distribution-API-Version"] == "registry/2.0"
    anonymous = httpx.get(f"{server.url}/v2/", verify=trust, timeout=10)
    assert anonymous.status_code == 401
    challenge = parse_bearer_challenge(anonymous.headers["WWW-Authenticate"])
    assert challenge == {"realm": f"{server.url}/service/token", "service": SERVICE}
    # The certificate is what the server presents: without it as a trust anchor the handshake fails,
    # and the port speaks no plain http.
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{server.url}/v2/", timeout=10)
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://{server.host}/v2/", timeout=10)

    image = notebook_images.normalised
    repository = f"{project}/tls-notebook"
    ref = f"docker://{server.host}/{repository}:1.0"

    # skopeo: verified TLS through --dest-cert-dir / --cert-dir / --src-cert-dir (ca.crt), with --creds.
    client = skopeo.logged_in(server).trusting(server.host, tls_files.cert_dir)
    client.copy(image.oci_ref, ref, "--preserve-digests")
    info = client.inspect(ref)
    assert info["Digest"] == image.manifest_digest
    assert info["Layers"] == list(image.layer_digests)
    assert client.inspect_raw(ref) == image.manifest_bytes
    assert client.list_tags(f"docker://{server.host}/{repository}") == ["1.0"]

    # The token service over https: a Bearer token for the pushed repository reads its manifest.
    token = bearer_token(server.url, server.credentials, f"repository:{repository}:pull", verify=server.verify)
    with http_client(verify=server.verify) as http:
        manifest = http.get(f"{server.url}/v2/{repository}/manifests/1.0",
                            headers={"Authorization": f"Bearer {token}", "Accept": OCI_MANIFEST})
    assert (manifest.status_code, manifest.content) == (200, image.manifest_bytes)

    pulled = OciLayout(tmp_path / "pulled")
    client.copy(ref, f"oci:{pulled.path}:1.0", "--preserve-digests")
    assert pulled.descriptor("1.0")["digest"] == image.manifest_digest
    for digest in (image.config_digest, *image.layer_digests):
        assert pulled.read_blob(digest) == image.blob(digest)

    # Verification is real: skopeo without the cert dir refuses the certificate.
    untrusted = skopeo.run("inspect", "--tls-verify=true", f"--creds={':'.join(server.credentials)}", ref,
                           check=False)
    assert untrusted.returncode != 0
    assert b"x509" in untrusted.stderr, untrusted.stderr

    denied = client.anonymous_pull_fails(ref, f"oci:{tmp_path / 'anonymous'}:1.0")
    assert ANONYMOUS_DENIED in denied, denied
