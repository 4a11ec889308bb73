// natsctl's client tools with --creds against nats-server in operator mode (issue 14). The
// operator, account and user JWTs and the creds file are made here with @nats-io/jwt; nats-server
// gets them through resolver: MEMORY and resolver_preload. natsctl's own server refuses operator
// mode (tests/bats/11-server-config.bats), so this runs against the reference server only.
// Needs NATSCTL and NATS_SERVER_BIN (run.sh sets both).
"use strict";
const test = require("node:test");
const assert = require("node:assert");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { spawn, spawnSync } = require("node:child_process");
const jwt = require("@nats-io/jwt");

const natsctl = process.env.NATSCTL;
const natsServer = process.env.NATS_SERVER_BIN;

// Writes the JWTs, creds files and configuration into dir; returns the creds paths.
async function makeOperator(dir) {
    const op = jwt.createOperator();
    const sys = jwt.createAccount();
    const acc = jwt.createAccount();
    const user = jwt.createUser();
    const stranger = jwt.createAccount(); // signs a user nats-server does not know
    const opJwt = await jwt.encodeOperator("op", op, { system_account: sys.getPublicKey() });
    const sysJwt = await jwt.encodeAccount("SYS", sys, {}, { signer: op });
    // the library's default account limits are zero connections and subscriptions
    const unlimited = { limits: { conn: -1, subs: -1, data: -1, payload: -1, leaf: -1, imports: -1, exports: -1, wildcards: true } };
    const accJwt = await jwt.encodeAccount("A", acc, unlimited, { signer: op });
    const userJwt = await jwt.encodeUser("u", user, acc);
    const badJwt = await jwt.encodeUser("x", jwt.createUser(), stranger);
    const creds = path.join(dir, "u.creds");
    const bad = path.join(dir, "bad.creds");
    fs.writeFileSync(creds, jwt.fmtCreds(userJwt, user), { mode: 0o600 });
    fs.writeFileSync(bad, jwt.fmtCreds(badJwt, jwt.createUser()), { mode: 0o600 });
    fs.writeFileSync(path.join(dir, "op.jwt"), opJwt);
    fs.writeFileSync(
        path.join(dir, "server.conf"),
        [
            `operator: ${path.join(dir, "op.jwt")}`,
            `system_account: ${sys.getPublicKey()}`,
            "resolver: MEMORY",
            "resolver_preload: {",
            `  ${sys.getPublicKey()}: ${sysJwt}`,
            `  ${acc.getPublicKey()}: ${accJwt}`,
            "}",
            "",
        ].join("\n"),
    );
    return { creds, bad, seed: new TextDecoder().decode(user.getSeed()) };
}

// Starts nats-server on a free port; resolves to [process, url] once its ports file exists.
async function startServer(dir) {
    const srv = spawn(
        natsServer,
        ["-a", "127.0.0.1", "-p", "-1", "--ports_file_dir", dir, "-c", path.join(dir, "server.conf")],
        { stdio: ["ignore", "ignore", "pipe"] },
    );
    let log = "";
    srv.stderr.on("data", (d) => (log += d));
    const file = path.join(dir, `nats-server_${srv.pid}.ports`);
    for (let i = 0; i < 100 && !fs.existsSync(file); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(fs.existsSync(file), `nats-server did not start: ${log}`);
    const url = JSON.parse(fs.readFileSync(file, "utf8")).nats[0];
    return [srv, url];
}

// Runs natsctl with args (never a context of the user's); resolves to {status, stdout, stderr}.
function run(args, env = {}) {
    return new Promise((resolve) => {
        const p = spawn(natsctl, ["--no-context", ...args], {
            env: { ...process.env, ...env },
            stdio: ["ignore", "pipe", "pipe"],
            timeout: 10000,
        });
        let stdout = "";
        let stderr = "";
        p.stdout.on("data", (d) => (stdout += d));
        p.stderr.on("data", (d) => (stderr += d));
        p.on("close", (status) => resolve({ status, stdout, stderr }));
    });
}

test("pub, sub, request and reply with --creds against nats-server in operator mode", async (t) => {
    assert.ok(natsctl && natsServer, "NATSCTL and NATS_SERVER_BIN must be set");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "natsctl-op-"));
    const { creds, bad, seed } = await makeOperator(dir);
    const [srv, url] = await startServer(dir);
    t.after(() => {
        srv.kill("SIGINT");
        fs.rmSync(dir, { recursive: true, force: true });
    });

    const sub = run(["sub", "-s", url, "--creds", creds, "--count", "1", "greet"]);
    // the subscription must be in place before the message: wait for the server to count it
    for (let i = 0; i < 100; i++) {
        const probe = spawnSync(natsctl, ["--no-context", "pub", "-s", url, "--creds", creds, "greet", "hello"]);
        assert.strictEqual(probe.status, 0, String(probe.stderr));
        const done = await Promise.race([sub, new Promise((r) => setTimeout(() => r(null), 100))]);
        if (done) {
            assert.strictEqual(done.status, 0, done.stderr);
            assert.strictEqual(done.stdout, "hello\n");
            break;
        }
        assert.ok(i < 99, "sub never got the message");
    }

    const reply = run(["reply", "-s", url, "--count", "1", "svc", "pong"], { NATS_CREDS: creds });
    let answer;
    for (let i = 0; i < 50; i++) {
        answer = await run(["request", "-s", url, "--creds", creds, "svc", "ping"]);
        if (answer.status === 0) break;
        await new Promise((r) => setTimeout(r, 100));
    }
    assert.strictEqual(answer.status, 0, answer.stderr);
    assert.strictEqual(answer.stdout, "pong\n");
    assert.strictEqual((await reply).status, 0);

    // no credentials, and a user of an account the server does not know: refused
    const none = await run(["pub", "-s", url, "greet", "x"]);
    assert.strictEqual(none.status, 3, none.stderr);
    const stranger = await run(["pub", "-s", url, "--creds", bad, "greet", "x"]);
    assert.strictEqual(stranger.status, 3, stranger.stderr);
    assert.match(stranger.stderr, /Authorization Violation/);
    assert.ok(!stranger.stderr.includes(seed) && !answer.stderr.includes(seed));
});
