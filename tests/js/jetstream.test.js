// JetStream through nats.js (npm nats 2.x), against the server at NATS_URL (run.sh starts one).
// Each test owns its stream, named after the test, and deletes it at the end. Message i of a
// fixture carries "m<i>" and i is its stream sequence, so every delivery is checked against the
// sequence the client reports. Every test has a time limit; waits for nothing use short expiries.
"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const { connect, StringCodec, AckPolicy } = require("nats");

const sc = StringCodec();
const LIMIT = { timeout: 15000 };
let nc;
let jsm;
let js;

before(async () => {
  assert.ok(process.env.NATS_URL, "NATS_URL names the server under test");
  nc = await connect({ servers: process.env.NATS_URL, maxReconnectAttempts: 0, timeout: 2000 });
  jsm = await nc.jetstreamManager({ timeout: 2000 });
  js = nc.jetstream({ timeout: 2000 });
});

// A consumer of a test that timed out (an ordered consumer retries for ever) keeps the event loop
// alive, so the process ends on its own a moment after the close.
after(async () => {
  const grace = new Promise((resolve) => setTimeout(resolve, 2000).unref());
  await Promise.race([nc.close(), grace]);
  setTimeout(() => process.exit(), 500).unref();
});

// A stream on "<prefix>.>" holding messages 1..n on "<prefix>.x".
async function fixture(name, prefix, n) {
  const si = await jsm.streams.add({ name, subjects: [`${prefix}.>`] });
  assert.equal(si.config.name, name);
  for (let i = 1; i <= n; i++) {
    const pa = await js.publish(`${prefix}.x`, sc.encode(`m${i}`));
    assert.equal(pa.seq, i);
  }
}

// The delivery must be stream sequence seq, with the payload that goes with it.
function expectSeq(m, seq, deliveries = 1) {
  assert.equal(m.seq, seq);
  assert.equal(sc.decode(m.data), `m${seq}`);
  assert.equal(m.info.redeliveryCount, deliveries);
}

async function durable(stream, name, extra = {}) {
  await jsm.consumers.add(stream, {
    durable_name: name,
    ack_policy: AckPolicy.Explicit,
    ack_wait: 1_000_000_000,
    ...extra,
  });
  return js.consumers.get(stream, name);
}

test("streams.add/info and publish with a msgID duplicate", LIMIT, async () => {
  await fixture("JSINFO", "jsinfo", 0);
  const first = await js.publish("jsinfo.a", sc.encode("once"), { msgID: "id-1" });
  const again = await js.publish("jsinfo.a", sc.encode("twice"), { msgID: "id-1" });
  assert.equal(first.stream, "JSINFO");
  assert.equal(first.seq, 1);
  assert.equal(first.duplicate, false);
  assert.equal(again.seq, 1);
  assert.equal(again.duplicate, true);
  const si = await jsm.streams.info("JSINFO");
  assert.equal(si.state.messages, 1);
  assert.equal(si.state.last_seq, 1);
  assert.deepEqual(si.config.subjects, ["jsinfo.>"]);
  const stored = await jsm.streams.getMessage("JSINFO", { seq: 1 });
  assert.equal(sc.decode(stored.data), "once");
  await jsm.streams.delete("JSINFO");
});

test("consumers.get: fetch, next and consume with acks", LIMIT, async () => {
  await fixture("JSPULL", "jspull", 6);
  const c = await durable("JSPULL", "D");
  const batch = await c.fetch({ max_messages: 3, expires: 1000 });
  let seq = 1;
  for await (const m of batch) {
    expectSeq(m, seq++);
    m.ack();
  }
  assert.equal(seq, 4);
  const fourth = await c.next({ expires: 1000 });
  expectSeq(fourth, 4);
  assert.equal(await fourth.ackAck(), true);
  const msgs = await c.consume({ max_messages: 10, expires: 1000 });
  for await (const m of msgs) {
    expectSeq(m, ++seq);
    await m.ackAck();
    if (seq === 6) break;
  }
  const info = await c.info();
  assert.equal(info.num_ack_pending, 0);
  assert.equal(info.ack_floor.stream_seq, 6);
  assert.equal(await c.next({ expires: 1000 }), null);
  await jsm.streams.delete("JSPULL");
});

test("nak redelivers at once, term stops it, ack_wait redelivers", LIMIT, async () => {
  // one message at a time: a nak is not confirmed, so a second message could overtake it
  await fixture("JSNAK", "jsnak", 1);
  const c = await durable("JSNAK", "N", { ack_wait: 300_000_000 });
  const m1 = await c.next({ expires: 1000 });
  expectSeq(m1, 1);
  m1.nak();
  const again = await c.next({ expires: 1000 });
  expectSeq(again, 1, 2);
  assert.equal(again.redelivered, true);
  again.term();
  assert.equal(await c.next({ expires: 1000 }), null);
  assert.equal((await js.publish("jsnak.x", sc.encode("m2"))).seq, 2);
  expectSeq(await c.next({ expires: 1000 }), 2);
  const late = await c.next({ expires: 2000 }); // not acked within 300 ms: back again
  expectSeq(late, 2, 2);
  await late.ackAck();
  assert.equal(await c.next({ expires: 1000 }), null);
  await jsm.streams.delete("JSNAK");
});

test("ordered consumer reads everything around a deleted message", LIMIT, async () => {
  await fixture("JSORD", "jsord", 6);
  await jsm.streams.deleteMessage("JSORD", 3);
  const oc = await js.consumers.get("JSORD");
  const msgs = await oc.consume({ max_messages: 10 });
  const got = [];
  for await (const m of msgs) {
    expectSeq(m, m.seq);
    got.push(m.seq);
    assert.equal(m.info.deliverySequence, got.length);
    if (got.length === 5) break;
  }
  assert.deepEqual(got, [1, 2, 4, 5, 6]);
  await jsm.streams.delete("JSORD");
});

// Reads n entries from a KV watch as "key op value" strings; leaving a for-await loop would stop
// the watch, so the iterator is stepped by hand.
async function take(iter, n) {
  const out = [];
  while (out.length < n) {
    const { value: e, done } = await iter.next();
    assert.equal(done, false);
    out.push(`${e.key} ${e.operation} ${e.string()}`);
  }
  return out;
}

test("KV create, put, get, watch and history", LIMIT, async () => {
  const kv = await js.views.kv("jskv", { history: 3 });
  assert.equal(await kv.put("a", sc.encode("1")), 1);
  await kv.put("b", sc.encode("x"));
  const e = await kv.get("a");
  assert.equal(e.string(), "1");
  assert.equal(e.revision, 1);
  assert.equal(await kv.get("none"), null);
  const w = await kv.watch({ key: "a" });
  const it = w[Symbol.asyncIterator]();
  const initial = await take(it, 1);
  assert.deepEqual(initial, ["a PUT 1"]);
  await kv.put("a", sc.encode("2"));
  await kv.put("b", sc.encode("y"));
  await kv.delete("a");
  assert.deepEqual(await take(it, 2), ["a PUT 2", "a DEL "]);
  w.stop();
  const h = await kv.history({ key: "a" });
  const revisions = [];
  for await (const entry of h) revisions.push(`${entry.revision} ${entry.operation}`);
  assert.deepEqual(revisions, ["1 PUT", "3 PUT", "5 DEL"]);
  await jsm.streams.delete("KV_jskv");
});
