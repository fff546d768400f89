"""The caller's address behind proxies: the right-most hop that none of our proxies added."""

from __future__ import annotations

from crvshub.net import forwarded_client, parse_networks

OURS = parse_networks("10.0.0.0/8, 2001:db8::/32")


def test_an_untrusted_peer_is_the_caller_whatever_it_forwards() -> None:
    assert forwarded_client("198.51.100.9", "1.1.1.1", OURS) == "198.51.100.9"


def test_the_right_most_address_not_ours_is_the_caller() -> None:
    assert forwarded_client("10.0.0.2", "1.1.1.1, 203.0.113.5, 10.0.0.9", OURS) == "203.0.113.5"
    assert forwarded_client("2001:db8::1", "2001:0db8:0::2, 2001:DB9::5", OURS) == "2001:db9::5"


def test_only_our_proxies_give_the_left_most_and_garbage_stops_the_walk() -> None:
    assert forwarded_client("10.0.0.2", "10.0.0.3, 10.0.0.4", OURS) == "10.0.0.3"
    assert forwarded_client("10.0.0.2", "203.0.113.5, not-an-ip", OURS) == "10.0.0.2"


def test_nothing_is_trusted_by_default() -> None:
    assert forwarded_client("127.0.0.1", "203.0.113.5", parse_networks("")) == "127.0.0.1"
