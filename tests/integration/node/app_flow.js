'use strict';
// A short Node.js app flow through redis-sidecar with ioredis: strings and counters, a pipeline,
// MULTI/EXEC, WATCH, pub/sub, a Lua command. Port from argv[2] or REDIS_PORT. Exits 0 on success,
// 1 on a wrong result, 2 on the overall deadline (it never hangs).
const assert = require('node:assert/strict');
const Redis = require('ioredis');

const port = Number(process.argv[2] || process.env.REDIS_PORT || 6380);
const DEADLINE_MS = Number(process.env.FLOW_DEADLINE_MS || 30000);
const opts = {
  host: '127.0.0.1',
  port,
  connectTimeout: 5000,
  commandTimeout: 5000,
  maxRetriesPerRequest: 1,
  retryStrategy: () => null, // fail, do not reconnect forever
  lazyConnect: true,
};

const timer = setTimeout(() => {
  console.error(`app_flow: deadline of ${DEADLINE_MS} ms passed`);
  process.exit(2);
}, DEADLINE_MS);

function step(name) {
  console.log(`ok - ${name}`);
}

async function main() {
  const r = new Redis({ ...opts, connectionName: 'node-flow' });
  const sub = new Redis(opts);
  try {
    await r.connect(); // ioredis' ready check sends INFO and reads loading:0
    await sub.connect();
    step('connect (INFO ready check)');

    assert.equal(await r.ping(), 'PONG');
    assert.equal(await r.client('GETNAME'), 'node-flow');
    assert.equal(await r.set('node:greeting', 'hello'), 'OK');
    assert.equal(await r.get('node:greeting'), 'hello');
    assert.equal(await r.get('node:missing'), null);
    assert.equal(await r.incr('node:counter'), 1);
    assert.equal(await r.incrby('node:counter', 41), 42);
    assert.equal(await r.set('node:ttl', 'v', 'EX', 60), 'OK');
    const ttl = await r.ttl('node:ttl');
    assert.ok(ttl > 55 && ttl <= 60, `ttl ${ttl}`);
    await r.hset('node:user', { name: 'ada', lang: 'js' });
    assert.deepEqual(await r.hgetall('node:user'), { name: 'ada', lang: 'js' });
    step('set/get/incr/hash');

    const p = r.pipeline();
    for (let i = 0; i < 500; i++) p.set(`node:p:${i}`, String(i)).incr('node:pctr');
    p.get('node:p:499');
    const res = await p.exec();
    assert.equal(res.length, 1001);
    for (const [err] of res) assert.equal(err, null);
    assert.deepEqual(res[999], [null, 500]);
    assert.deepEqual(res[1000], [null, '499']);
    step('pipeline');

    const tx = await r.multi().set('node:tx', '1').incr('node:tx').lpush('node:txl', 'a', 'b').exec();
    assert.deepEqual(tx, [[null, 'OK'], [null, 2], [null, 2]]);
    step('multi/exec');

    await r.set('node:w', '1');
    const other = new Redis(opts);
    await other.connect();
    await r.watch('node:w');
    await other.set('node:w', '2');
    const aborted = await r.multi().set('node:w', '3').exec();
    assert.equal(aborted, null);
    assert.equal(await r.get('node:w'), '2');
    other.disconnect();
    step('watch aborted by another client');

    const got = new Promise((resolve) => {
      sub.on('message', (channel, message) => resolve([channel, message]));
    });
    assert.equal(await sub.subscribe('node:events'), 1);
    assert.equal(await r.publish('node:events', 'e1'), 1);
    assert.deepEqual(await got, ['node:events', 'e1']);
    await sub.unsubscribe('node:events');
    step('pub/sub');

    r.defineCommand('incrTwice', {
      numberOfKeys: 1,
      lua: "redis.call('INCR', KEYS[1]); return redis.call('INCR', KEYS[1])",
    });
    assert.equal(await r.incrTwice('node:lua'), 2);
    step('lua command (EVALSHA/EVAL)');

    const popper = new Redis(opts);
    await popper.connect();
    const popped = popper.blpop('node:queue', 5);
    await new Promise((res) => setTimeout(res, 100));
    await r.lpush('node:queue', 'job');
    assert.deepEqual(await popped, ['node:queue', 'job']);
    popper.disconnect();
    step('blpop woken by lpush');
  } finally {
    r.disconnect();
    sub.disconnect();
  }
}

main().then(
  () => {
    clearTimeout(timer);
    console.log('app_flow: all steps passed');
    process.exit(0);
  },
  (err) => {
    clearTimeout(timer);
    console.error('app_flow: FAILED:', err && err.stack ? err.stack : err);
    process.exit(1);
  },
);
