"""The embedded store: its front door, hot paths and thread safety."""

from __future__ import annotations

import threading

import pytest
import redis

import kvstore


def test_fast_get_and_set_agree_with_the_generic_path(store):
    assert store.set("k", "v") is True
    assert store.get("k") == b"v"
    assert store.execute("GET", "k") == b"v"
    store.execute("HSET", "h", "f", "v")
    with pytest.raises(kvstore.WrongTypeError) as fast:
        store.get("h")
    with pytest.raises(kvstore.WrongTypeError) as generic:
        store.execute("GET", "h")
    assert str(fast.value) == str(generic.value)


def test_set_overwrites_any_type_and_drops_the_ttl(store):
    store.execute("HSET", "h", "f", "v")
    store.execute("EXPIRE", "h", 100)
    assert store.set("h", "s") is True
    assert store.get("h") == b"s"
    assert store.execute("TTL", "h") == -1


def test_fast_get_expires_lazily(timed, clock):
    timed.set("k", "v", px=50)
    assert timed.get("k") == b"v"
    clock.advance(51)
    assert timed.get("k") is None
    assert timed.keyspace.dbs[0].data == {}


def test_arguments_are_encoded_like_redis_py(store):
    store.set("i", 12)
    store.set("f", 1.5)
    assert store.get("i") == b"12"
    assert store.get("f") == b"1.5"
    with pytest.raises(kvstore.DataError):
        store.set("b", True)
    with pytest.raises(kvstore.DataError):
        store.set("n", None)


def test_decode_responses():
    s = kvstore.open(decode_responses=True)
    s.set("k", "v")
    assert s.get("k") == "v"
    assert s.execute("GET", "k") == "v"
    s.close()


def test_errors_are_typed_and_carry_redis_text(store):
    with pytest.raises(kvstore.ResponseError, match="^ERR unknown command 'NOPE', with args "
                       "beginning with: 'x' $"):
        store.execute("NOPE", "x")
    with pytest.raises(kvstore.ResponseError, match="wrong number of arguments for 'get'"):
        store.execute("GET")


def test_one_store_is_safe_to_share_between_threads(store):
    """Every command is atomic: 8 threads x 2,000 INCRs lose no increment."""
    def work():
        for _ in range(2_000):
            store.incr("counter")

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.get("counter") == b"16000"


def test_embedded_publishing_reaches_nobody(store):
    """No connection, no subscriber: (S)PUBLISH count 0, the subscribe family is refused."""
    assert store.execute_command("PUBLISH", "c", "m") == 0
    assert store.execute_command("SPUBLISH", "c", "m") == 0
    assert store.execute_command("PUBSUB", "SHARDNUMSUB", "c") == [b"c", 0]
    assert store.execute_command("PUBSUB", "SHARDCHANNELS") == []
    for name in ("SUBSCRIBE", "SSUBSCRIBE"):
        with pytest.raises(kvstore.ResponseError, match="no connection to subscribe"):
            store.execute_command(name, "c")


# -- pipelines, transactions and pub/sub on the store itself (the memory:// transport) ----------

def test_store_pipeline_runs_in_the_current_database():
    with kvstore.open(active_expire=False) as s:
        with s.pipeline() as p:
            assert p.set("a", 1).incr("a").get("a").execute() == [True, 2, b"2"]
        s.select(3)
        with s.pipeline(transaction=False) as p:
            assert p.set("in3", "x").lpush("l", "v").execute() == [True, 1]
        assert s.get("in3") == b"x"
        s.select(0)
        assert s.get("in3") is None and s.get("a") == b"2"


def test_store_transaction_retries_when_a_watched_key_changes():
    with kvstore.open(active_expire=False, decode_responses=True) as s:
        s.set("n", 1)
        tries = []

        def bump(pipe):
            value = int(pipe.get("n"))
            if not tries:
                s.set("n", 10)  # another writer between WATCH and EXEC: EXEC fails, retried
            tries.append(value)
            pipe.multi()
            pipe.set("n", value + 1)

        assert s.transaction(bump, "n") == [True]
        assert tries == [1, 10] and s.get("n") == "11"


def test_store_pubsub_receives_the_stores_publish():
    with kvstore.open(active_expire=False) as s:
        p = s.pubsub(ignore_subscribe_messages=True)
        p.subscribe("news")
        p.psubscribe("n*")
        assert s.publish("news", "hi") == 2
        got = []
        for _ in range(4):  # two subscribe confirmations (read as None), then the messages
            m = p.get_message(timeout=5)
            if m is not None:
                got.append((m["type"], m["data"]))
        assert sorted(got) == [("message", b"hi"), ("pmessage", b"hi")]
        assert s.pubsub_numsub("news", "other") == [(b"news", 1), (b"other", 0)]
        assert (s.pubsub_channels(), s.pubsub_channels("x*"), s.pubsub_numpat()) == \
            ([b"news"], [], 1)
        p.close()
        assert s.pubsub_numsub("news") == [(b"news", 0)] and s.pubsub_numpat() == 0
        assert s.publish("news", "again") == 0


def test_time_stands_still_during_an_embedded_exec():
    store = kvstore.open()
    pipe = store.pipeline(transaction=True)
    pipe.set("k", "v", px=1)
    pipe.execute_command("DEBUG", "SLEEP", "0.01")
    pipe.get("k")
    pipe.exists("k")
    assert pipe.execute()[2:] == [b"v", 1]  # as Redis: no key expires during EXEC
    assert store.get("k") is None
    store.close()


def test_debug_reload_in_memory():
    store = kvstore.open()
    store.rpush("l", "a", "b")
    store.set("e", "v", px=100_000)
    assert store.execute("DEBUG", "RELOAD") == b"OK"  # no file: through the snapshot records
    assert store.lrange("l", 0, -1) == [b"a", b"b"] and 0 < store.pttl("e") <= 100_000
    store.close()


def test_execute_command_takes_redis_py_options():
    """NEVER_DECODE keeps bytes, EMPTY_RESPONSE replaces an error reply; other options
    (keys=...) are for redis-py's response callbacks and change nothing."""
    s = kvstore.open(decode_responses=True)
    s.set("a", "x")
    assert s.execute_command("GET", "a", NEVER_DECODE=[]) == b"x"
    assert s.execute_command("GET", "a", keys=["a"]) == "x"
    assert s.execute_command("EXISTS", "a", EMPTY_RESPONSE=[]) == 1
    assert s.execute_command("LPOP", "a", EMPTY_RESPONSE=[]) == []
    with pytest.raises(kvstore.ResponseError):
        s.execute_command("LPOP", "a", NEVER_DECODE=[])
    s.close()


def test_errors_carry_redis_py_status_code(redis_server, store):
    client = redis.Redis(port=redis_server, protocol=2)
    for target in (client, store):
        target.delete("l")
        target.lpush("l", "1")
    for args in [("GET", "l"), ("NOPE",), ("INCR", "l")]:
        codes = []
        for target in (client, store):
            with pytest.raises((redis.ResponseError, kvstore.ResponseError)) as exc:
                target.execute_command(*args)
            codes.append(exc.value.status_code)
        assert codes[0] == codes[1], args
    client.delete("l")
    client.close()


def test_error_text_that_is_not_utf8_reads_as_redis_py_shows_it(redis_server, store):
    client = redis.Redis(port=redis_server, protocol=2)
    script = b"return redis.error_reply('\xff\xfeBAD oops')"
    texts = []
    for target in (client, store):
        with pytest.raises((redis.ResponseError, kvstore.ResponseError)) as exc:
            target.eval(script, 0)
        texts.append(str(exc.value))
    assert texts[1] == texts[0] == "\ufffd\ufffdBAD oops"
    client.close()


@pytest.mark.parametrize("method", ["latency_doctor", "latency_graph", "latency_histogram",
                                    "memory_doctor", "memory_help", "script_debug"])
def test_methods_redis_py_leaves_to_redis_cli(store, method):
    texts = []
    for target in (redis.Redis(), store):  # redis-py raises before connecting
        with pytest.raises(NotImplementedError) as exc:
            getattr(target, method)()
        texts.append(str(exc.value))
    assert texts[0] == texts[1]
