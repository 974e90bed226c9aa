"""The SSRF guard: every refused address class, the allow-list, URL rules, DNS answers.

DNS is an injected resolver here (a table), so nothing leaves the process.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network
from typing import Any

import pytest

from notify.ssrf import Guard, Target, TargetRefused, TargetUnresolved
from tests.conftest import Run

LOOPBACK = [ip_network("127.0.0.0/8")]


def table(answers: dict[str, list[str]]) -> Any:
    """A resolver answering from ``answers``; a missing name does not resolve."""

    async def resolve(host: str, port: int) -> Sequence[str]:
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return answers[host]

    return resolve


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "a loopback"),
        ("127.5.6.7", "a loopback"),
        ("::1", "a loopback"),
        ("::ffff:127.0.0.1", "a loopback"),
        ("169.254.10.1", "a link-local"),
        ("fe80::1", "a link-local"),
        ("10.0.0.5", "a private"),
        ("172.16.3.4", "a private"),
        ("192.168.1.1", "a private"),
        ("::ffff:192.168.1.1", "a private"),
        ("fc00::1", "a private"),
        ("fd12:3456::1", "a private"),
        ("0.0.0.0", "an unspecified"),
        ("::", "an unspecified"),
        ("224.0.0.1", "a multicast"),
        ("ff02::1", "a multicast"),
        ("240.0.0.1", "a reserved"),
        ("100.64.0.1", "a shared (CGNAT)"),
        ("100.127.255.254", "a shared (CGNAT)"),
        ("169.254.169.254", "a cloud metadata"),
        ("::ffff:169.254.169.254", "a cloud metadata"),
        ("fd00:ec2::254", "a cloud metadata"),
        ("100.100.100.200", "a cloud metadata"),
        ("2002:7f00:1::", "a loopback"),
        ("64:ff9b::a00:5", "a private"),
        ("192.0.2.10", "a private"),
    ],
)
def test_non_public_addresses_are_refused(address: str, kind: str) -> None:
    with pytest.raises(TargetRefused) as refused:
        Guard().check_address(ip_address(address))
    assert str(refused.value) == (
        f"notification target {ip_address(address)}, {kind} address;"
        " allow it with CALLPROBE_NOTIFY_ALLOW_NETWORKS"
    )


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:93.184.216.34"]
)
def test_public_addresses_pass(address: str) -> None:
    Guard().check_address(ip_address(address))


@pytest.mark.parametrize(
    ("allow", "address"),
    [
        ("127.0.0.0/8", "127.0.0.1"),
        ("127.0.0.0/8", "::ffff:127.0.0.1"),
        ("::1/128", "::1"),
        ("10.20.0.0/16", "10.20.1.2"),
        ("169.254.169.254/32", "169.254.169.254"),
        ("100.64.0.0/10", "100.64.0.1"),
    ],
)
def test_allow_listed_networks_pass(allow: str, address: str) -> None:
    networks: list[IPv4Network | IPv6Network] = [ip_network(allow)]
    Guard(networks).check_address(ip_address(address))


def test_allow_list_covers_only_its_networks() -> None:
    guard = Guard([ip_network("10.20.0.0/16")])
    for address in ("10.21.0.1", "127.0.0.1", "169.254.169.254"):
        with pytest.raises(TargetRefused):
            guard.check_address(ip_address(address))


def test_a_name_is_refused_with_its_address_and_the_setting(run: Run[Any]) -> None:
    guard = Guard(resolver=table({"example.com": ["10.0.0.5"]}))
    with pytest.raises(TargetRefused) as refused:
        run(guard.resolve("example.com", 443))
    assert str(refused.value) == (
        "notification target example.com resolves to 10.0.0.5, a private address;"
        " allow it with CALLPROBE_NOTIFY_ALLOW_NETWORKS"
    )


def test_every_answer_is_checked(run: Run[Any]) -> None:
    guard = Guard(resolver=table({"mixed.test": ["93.184.216.34", "127.0.0.1"]}))
    with pytest.raises(TargetRefused, match=r"mixed\.test resolves to 127\.0\.0\.1, a loopback"):
        run(guard.resolve("mixed.test", 443))


def test_public_answers_are_returned_once_each_in_order(run: Run[Any]) -> None:
    answers = ["93.184.216.34", "2606:2800:220:1::", "93.184.216.34"]
    guard = Guard(resolver=table({"example.com": answers}))
    addresses = run(guard.resolve("example.com", 443))
    assert addresses == [ip_address("93.184.216.34"), ip_address("2606:2800:220:1::")]


def test_an_ip_literal_is_checked_without_resolving(run: Run[Any]) -> None:
    guard = Guard(resolver=table({}))
    assert run(guard.resolve("93.184.216.34", 443)) == [ip_address("93.184.216.34")]
    with pytest.raises(TargetRefused, match=r"notification target 10\.1\.2\.3, a private"):
        run(guard.resolve("10.1.2.3", 443))


def test_unresolvable_names_are_a_clear_error(run: Run[Any]) -> None:
    guard = Guard(resolver=table({"empty.test": []}))
    with pytest.raises(TargetUnresolved) as unresolved:
        run(guard.check_url("https://nowhere.test/hook"))
    assert str(unresolved.value) == (
        "notification target nowhere.test does not resolve (Name or service not known)"
    )
    with pytest.raises(TargetUnresolved, match=r"empty\.test has no address"):
        run(guard.resolve("empty.test", 443))


def test_dns_rebinding_is_caught_on_the_second_lookup(run: Run[Any]) -> None:
    answers = iter([["93.184.216.34"], ["127.0.0.1"]])

    async def rebinding(host: str, port: int) -> Sequence[str]:
        return next(answers)

    guard = Guard(resolver=rebinding)
    target = run(guard.check_url("https://hooks.example.com/x"))
    assert target.addresses == [ip_address("93.184.216.34")]
    with pytest.raises(TargetRefused, match=r"resolves to 127\.0\.0\.1, a loopback address"):
        run(guard.check_url("https://hooks.example.com/x"))


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("ftp://hooks.example.com/secret-path", "the URL's scheme is ftp; use https"),
        ("hooks.example.com/secret-path", "the URL's scheme is missing; use https"),
        ("https://user:pw@hooks.example.com/secret-path", "credentials in the URL are not"),
        ("https://user@hooks.example.com/secret-path", "credentials in the URL are not"),
        ("https:///secret-path", "the URL has no host"),
        ("https://hooks.example.com:99999/secret-path", "the URL's port is not a valid port"),
        ("http://hooks.example.com/secret-path", "hooks.example.com uses plain http"),
    ],
)
def test_bad_urls_are_refused_without_quoting_them(run: Run[Any], url: str, error: str) -> None:
    guard = Guard(LOOPBACK, resolver=table({"hooks.example.com": ["93.184.216.34"]}))
    with pytest.raises(TargetRefused) as refused:
        run(guard.check_url(url))
    assert error in str(refused.value)
    assert "secret-path" not in str(refused.value)


def test_https_to_a_public_address_passes_with_the_default_port(run: Run[Any]) -> None:
    guard = Guard(resolver=table({"hooks.example.com": ["93.184.216.34"]}))
    target = run(guard.check_url("https://Hooks.Example.com/services/T0/B0"))
    assert target == Target(
        scheme="https", host="hooks.example.com", port=443, addresses=[ip_address("93.184.216.34")]
    )


def test_plain_http_passes_only_to_allow_listed_addresses(run: Run[Any]) -> None:
    guard = Guard(LOOPBACK, resolver=table({"receiver.test": ["127.0.0.1"]}))
    target = run(guard.check_url("http://receiver.test:8080/hook"))
    assert (target.scheme, target.port, target.addresses) == (
        "http",
        8080,
        [ip_address("127.0.0.1")],
    )
    assert run(guard.check_url("http://127.0.0.1/hook")).port == 80
    with pytest.raises(TargetRefused, match="the URL's scheme is http; use smtp"):
        run(guard.check_url("http://127.0.0.1/hook", schemes=("smtp",)))


def test_other_schemes_are_checked_with_their_default_port(run: Run[Any]) -> None:
    guard = Guard(resolver=table({"mail.example.com": ["93.184.216.34"]}))
    target = run(guard.check_url("smtp://mail.example.com", schemes=("smtp",)))
    assert (target.scheme, target.port) == ("smtp", 25)
