// JetStream through nats.js (npm nats 2.x), against the server at NATS_URL (run.sh starts one).
// Each test owns its stream, named after the test, and deletes it at the end. Message i of a
// fixture carries "m<i>" and i is its stream sequence, so every delivery is checked against the
// sequence the client reports. Every test has a time limit; waits for nothing use short expiries.
"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const { connect, StringCodec, AckPolicy, DeliverPolicy, RetentionPolicy } = require("nats");

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

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Waits up to 2 s for the stream to hold msgs messages from first on (acks remove them on their
// own time in nats-server).
async function awaitMsgs(stream, msgs, first) {
  let state;
  for (const end = Date.now() + 2000; Date.now() < end; await sleep(20)) {
    state = (await jsm.streams.info(stream)).state;
    if (state.messages === msgs && (msgs === 0 || state.first_seq === first)) return;
  }
  const got = `${state.messages} from ${state.first_seq}`;
  assert.fail(`${stream} holds ${got}, want ${msgs} from ${first}`);
}

// Fetches (and acks) exactly the messages a consumer must deliver and returns their stream
// sequences; a batch of exactly n ends as soon as the n-th arrives.
async function fetchSeqs(c, n) {
  const seqs = [];
  if (n === 0) return seqs;
  for await (const m of await c.fetch({ max_messages: n, expires: 1000 })) {
    assert.equal(sc.decode(m.data), `m${m.seq}`);
    seqs.push(m.seq);
    m.ack();
  }
  return seqs;
}

test("every deliver policy through consumers.get and fetch", LIMIT, async () => {
  await jsm.streams.add({ name: "JSDP", subjects: ["jsdp.>"] });
  const subjects = ["a", "b", "a", "b", "a"];
  for (let i = 1; i <= 5; i++) {
    if (i === 3) await sleep(20); // a start time between 2 and 3, at the millisecond
    assert.equal((await js.publish(`jsdp.${subjects[i - 1]}`, sc.encode(`m${i}`))).seq, i);
  }
  const third = (await jsm.streams.getMessage("JSDP", { seq: 3 })).time.toISOString();
  const policies = [
    ["ALL", { deliver_policy: DeliverPolicy.All }, [1, 2, 3, 4, 5]],
    ["LAST", { deliver_policy: DeliverPolicy.Last }, [5]],
    ["NEW", { deliver_policy: DeliverPolicy.New }, []],
    ["SEQ", { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: 3 }, [3, 4, 5]],
    ["TIME", { deliver_policy: DeliverPolicy.StartTime, opt_start_time: third }, [3, 4, 5]],
    // nats-server 2.9 wants a filter with last_per_subject (10094)
    ["LPS", { deliver_policy: DeliverPolicy.LastPerSubject, filter_subject: "jsdp.*" }, [4, 5]],
  ];
  const consumers = {};
  for (const [name, cfg, want] of policies) {
    consumers[name] = await durable("JSDP", name, { ack_policy: AckPolicy.None, ...cfg });
    assert.deepEqual(await fetchSeqs(consumers[name], want.length), want, name);
    assert.equal((await consumers[name].info()).num_pending, 0, name);
  }
  assert.equal((await js.publish("jsdp.b", sc.encode("m6"))).seq, 6);
  for (const [name] of policies) assert.deepEqual(await fetchSeqs(consumers[name], 1), [6], name);
  await jsm.streams.delete("JSDP");
});

test("ack, nak, nak with a delay, working and term", LIMIT, async () => {
  await jsm.streams.add({ name: "JSACK", subjects: ["jsack.>"] });
  const kinds = ["ack", "nak", "delay", "term"];
  for (let i = 1; i <= kinds.length; i++) {
    assert.equal((await js.publish(`jsack.${kinds[i - 1]}`, sc.encode(`m${i}`))).seq, i);
  }
  const one = (kind) => durable("JSACK", kind, { filter_subject: `jsack.${kind}` });
  const ack = await one("ack");
  const m1 = await ack.next({ expires: 1000 });
  expectSeq(m1, 1);
  assert.equal(await m1.ackAck(), true);
  let info = await ack.info();
  assert.equal(info.num_ack_pending, 0);
  assert.equal(info.ack_floor.stream_seq, 1);

  const nak = await one("nak");
  const m2 = await nak.next({ expires: 1000 });
  let start = Date.now();
  m2.nak();
  const again = await nak.next({ expires: 1000 });
  assert.ok(Date.now() - start < 700, "a nak redelivers at once, not after ack_wait");
  expectSeq(again, 2, 2);
  assert.equal(again.redelivered, true);
  assert.equal(again.info.deliverySequence, 2);
  assert.equal(await again.ackAck(), true);

  const delay = await one("delay");
  const m3 = await delay.next({ expires: 1000 });
  start = Date.now();
  m3.nak(500);
  const later = await delay.next({ expires: 2000 });
  assert.ok(Date.now() - start >= 450, "nak(500) waits 500 ms");
  expectSeq(later, 3, 2);
  assert.equal(await later.ackAck(), true);

  const term = await one("term");
  const m4 = await term.next({ expires: 1000 });
  m4.term();
  await nc.flush();
  info = await term.info();
  assert.equal(info.num_ack_pending, 0);
  assert.equal(info.ack_floor.stream_seq, 4);
  await jsm.streams.delete("JSACK");
});

test("working() holds off redelivery for another ack_wait", LIMIT, async () => {
  await fixture("JSWPI", "jswpi", 1);
  const c = await durable("JSWPI", "W", { ack_wait: 600_000_000 });
  const start = Date.now();
  const m = await c.next({ expires: 1000 });
  expectSeq(m, 1);
  await sleep(400);
  m.working(); // the deadline moves from 600 ms to about 1000 ms
  const again = await c.next({ expires: 2000 });
  assert.ok(Date.now() - start >= 900, `redelivered after ${Date.now() - start} ms`);
  expectSeq(again, 1, 2);
  await again.ackAck();
  await jsm.streams.delete("JSWPI");
});

test("ack_wait redelivers with the delivery count until max_deliver", LIMIT, async () => {
  await fixture("JSMAXD", "jsmaxd", 1);
  const c = await durable("JSMAXD", "M", { ack_wait: 300_000_000, max_deliver: 3 });
  for (let n = 1; n <= 3; n++) {
    const m = await c.next({ expires: 2000 });
    expectSeq(m, 1, n);
    assert.equal(m.info.deliverySequence, n);
    assert.equal(m.redelivered, n > 1);
  }
  assert.equal(await c.next({ expires: 1000 }), null);
  const info = await c.info();
  assert.equal(info.delivered.consumer_seq, 3);
  assert.equal(info.num_ack_pending, 0);
  await jsm.streams.delete("JSMAXD");
});

test("work-queue and interest retention remove what was acked", LIMIT, async () => {
  const wq = RetentionPolicy.Workqueue;
  await jsm.streams.add({ name: "JSWQ", subjects: ["jswq.>"], retention: wq });
  for (let i = 1; i <= 3; i++) await js.publish("jswq.x", sc.encode(`m${i}`));
  const w = await durable("JSWQ", "W");
  const got = [];
  for await (const m of await w.fetch({ max_messages: 3, expires: 1000 })) got.push(m);
  assert.deepEqual(got.map((m) => m.seq), [1, 2, 3]);
  await got[0].ackAck();
  await got[1].ackAck();
  await awaitMsgs("JSWQ", 1, 3);
  await jsm.streams.delete("JSWQ");

  const interest = RetentionPolicy.Interest;
  await jsm.streams.add({ name: "JSINT", subjects: ["jsint.>"], retention: interest });
  await js.publish("jsint.x", sc.encode("m1")); // nobody is interested yet: not kept
  await awaitMsgs("JSINT", 0, 0);
  const a = await durable("JSINT", "A");
  const b = await durable("JSINT", "B");
  for (let i = 2; i <= 3; i++) await js.publish("jsint.x", sc.encode(`m${i}`));
  for await (const m of await a.fetch({ max_messages: 2, expires: 1000 })) await m.ackAck();
  await awaitMsgs("JSINT", 2, 2); // B still wants both
  const fromB = await b.next({ expires: 1000 });
  expectSeq(fromB, 2);
  assert.equal(await fromB.ackAck(), true);
  await awaitMsgs("JSINT", 1, 3);
  await jsm.streams.delete("JSINT");
});

test("pull batches: partial at expiry; no_wait ends quietly, empty or not", LIMIT, async () => {
  await fixture("JSBATCH", "jsbatch", 4);
  const c = await durable("JSBATCH", "B");
  assert.deepEqual(await fetchSeqs(c, 3), [1, 2, 3]);
  const start = Date.now();
  const partial = [];
  for await (const m of await c.fetch({ max_messages: 3, expires: 1000 })) {
    partial.push(m.seq);
    m.ack();
  }
  assert.deepEqual(partial, [4]);
  assert.ok(Date.now() - start >= 900, "a partial batch waits for its expiry");
  // the legacy fetch with no_wait: what is there (408 ends it), then nothing (404 ends it)
  await js.publish("jsbatch.x", sc.encode("m5"));
  const some = [];
  for await (const m of js.fetch("JSBATCH", "B", { batch: 5, no_wait: true })) some.push(m.seq);
  assert.deepEqual(some, [5]);
  await fixture("JSEMPTY", "jsempty", 0);
  await durable("JSEMPTY", "E");
  const none = [];
  for await (const m of js.fetch("JSEMPTY", "E", { batch: 5, no_wait: true })) none.push(m.seq);
  assert.deepEqual(none, []);
  await jsm.streams.delete("JSBATCH");
  await jsm.streams.delete("JSEMPTY");
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
