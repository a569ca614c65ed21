#!/usr/bin/env python3
"""AMQP helpers of scripts/bench-swap.sh (needs `pika`: pip install pika).

  bench_amqp.py publish URL QUEUE COUNT SIZE   persistent messages of SIZE bytes to QUEUE
                                               (default exchange), publisher confirms with
                                               a window of outstanding messages; prints the
                                               seconds it took, confirms included
  bench_amqp.py count URL QUEUE...             messages in each queue (passive declares:
                                               exact, unlike the management statistics)
  bench_amqp.py wait URL SECONDS QUEUE=N...    polls until every QUEUE holds N messages;
                                               prints the seconds waited, exits 1 on timeout
"""

import sys
import time

import pika

WINDOW = 2000  # unconfirmed messages in flight


def publish(url, queue, count, size):
    body = b"x" * size
    props = pika.BasicProperties(delivery_mode=2)
    state = {"sent": 0, "confirmed": 0, "nacked": 0, "error": None}
    t0 = time.perf_counter()

    def on_open(conn):
        conn.channel(on_open_callback=on_channel)

    def on_channel(ch):
        state["ch"] = ch
        ch.confirm_delivery(on_confirm)
        pump()

    def on_confirm(frame):
        method = frame.method
        tag = method.delivery_tag
        # one queue on one channel: the broker confirms in order
        if isinstance(method, pika.spec.Basic.Nack):
            state["nacked"] += tag - state["confirmed"] if method.multiple else 1
        state["confirmed"] = max(state["confirmed"], tag)
        if state["confirmed"] >= count:
            state["conn"].close()
        else:
            pump()

    def pump():
        ch = state["ch"]
        while state["sent"] < count and state["sent"] - state["confirmed"] < WINDOW:
            ch.basic_publish("", queue, body, props)
            state["sent"] += 1

    def on_open_error(_conn, err):
        state["error"] = err
        _conn.ioloop.stop()

    def on_closed(_conn, _reason):
        _conn.ioloop.stop()

    conn = pika.SelectConnection(
        pika.URLParameters(url),
        on_open_callback=on_open,
        on_open_error_callback=on_open_error,
        on_close_callback=on_closed,
    )
    state["conn"] = conn
    conn.ioloop.start()
    if state["error"] is not None:
        sys.exit(f"cannot connect: {state['error']}")
    if state["confirmed"] < count or state["nacked"]:
        sys.exit(f"published {state['sent']}, confirmed {state['confirmed']}, nacked {state['nacked']}")
    print(f"{time.perf_counter() - t0:.3f}")


def counts(url, queues):
    conn = pika.BlockingConnection(pika.URLParameters(url))
    try:
        ch = conn.channel()
        return [ch.queue_declare(q, passive=True).method.message_count for q in queues]
    finally:
        conn.close()


def wait(url, seconds, wanted):
    t0 = time.perf_counter()
    names = [w.split("=")[0] for w in wanted]
    goal = [int(w.split("=")[1]) for w in wanted]
    conn = pika.BlockingConnection(pika.URLParameters(url))
    ch = conn.channel()
    last = None
    while time.perf_counter() - t0 < seconds:
        last = [ch.queue_declare(q, passive=True).method.message_count for q in names]
        if last == goal:
            print(f"{time.perf_counter() - t0:.3f}")
            conn.close()
            return
        time.sleep(0.05)
    conn.close()
    sys.exit(f"after {seconds}s: {dict(zip(names, last or []))}, wanted {dict(zip(names, goal))}")


def main(argv):
    if len(argv) >= 5 and argv[0] == "publish":
        publish(argv[1], argv[2], int(argv[3]), int(argv[4]))
    elif len(argv) >= 3 and argv[0] == "count":
        print(" ".join(str(n) for n in counts(argv[1], argv[2:])))
    elif len(argv) >= 4 and argv[0] == "wait":
        wait(argv[1], float(argv[2]), argv[3:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
