// End-to-end session against a running Tessera server, driven by the official Milvus
// Node SDK's HttpClient (@zilliz/milvus2-sdk-node, pinned in package.json).
//
//   TESSERA_ENDPOINT=http://127.0.0.1:19530 node --test sdk_session.test.mjs
//
// Contract: /work/shared/spec/REST_API.md (§1 transport, §7 endpoints, §9 Node SDK).
// The client is created with the SDK defaults (acceptInt64 unset -> the SDK sends
// "Accept-Type-Allow-Int64: false"), so every Int64 value (primary keys, Int64 fields,
// insertIds, count(*)) must come back as a decimal string.
//
// The steps run in order and build on each other. Data is generated from a seeded PRNG,
// and every read uses consistencyLevel 'Strong', so nothing depends on timing except the
// explicit polls (load state, index build, statistics), each bounded by a deadline.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { HttpClient } from '@zilliz/milvus2-sdk-node';

const ENDPOINT = process.env.TESSERA_ENDPOINT;
if (!ENDPOINT) {
  throw new Error('TESSERA_ENDPOINT is not set; expected e.g. http://127.0.0.1:19530 ' +
                  '(run.sh sets it after starting the server)');
}
const POLL_DEADLINE_MS = Number(process.env.TESSERA_E2E_POLL_DEADLINE_MS || 60000);
const STEP_TIMEOUT_MS = Math.max(120000, POLL_DEADLINE_MS * 3);

const client = new HttpClient({ endpoint: ENDPOINT, database: 'default' });

// ---------------------------------------------------------------------------------------
// Names and deterministic data

const QUICK = 'e2e_quick';
const CUSTOM = 'e2e_custom';
const RENAME_SRC = 'e2e_rename_src';
const RENAME_DST = 'e2e_rename_dst';
const ALIAS = 'e2e_alias';
const DB = 'e2e_db';
const DB_COLL = 'e2e_db_coll';
const PARTITION = 'p_extra';
const MISSING = 'e2e_no_such_collection';
const NO_DIM = 'e2e_no_dim';
const DIM = 8;
const STRONG = { consistencyLevel: 'Strong' };

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rng = mulberry32(20240611);
// float32-representable components, so what the server stores is exactly what we compute with
const randVec = () => Array.from({ length: DIM }, () => Math.fround(rng() * 2 - 1));

const l2sq = (a, b) => a.reduce((s, x, i) => s + (x - b[i]) ** 2, 0);
const dot = (a, b) => a.reduce((s, x, i) => s + x * b[i], 0);
const cosine = (a, b) => dot(a, b) / Math.sqrt(dot(a, a) * dot(b, b));

// Quick-setup collection (L2): ids 0..499, dynamic keys color / rank / info.
const N_QUICK = 500;
const COLORS = ['red', 'green', 'blue'];
const quickVecs = Array.from({ length: N_QUICK }, randVec);
const quickRow = (i) => ({
  id: i,
  vector: quickVecs[i],
  color: COLORS[i % 3],
  rank: i,
  info: { tier: i % 5, tag: `t${i % 7}` },
});

// Custom-schema collection (COSINE, HNSW): ids 1000..1299 in _default, 2000..2019 in PARTITION.
const N_CUSTOM = 300;
const BIG_BASE = 9007199254740993n; // 2^53 + 1: not representable as a JS number
const customVecs = new Map(); // id -> vector
function customRow(i, id = 1000 + i) {
  const vector = randVec();
  customVecs.set(id, vector);
  const row = {
    id,
    vector,
    title: `title-${i}`,
    age: i % 50,
    score: i * 0.25,
    flag: i % 2 === 0,
    meta: { tier: i % 4, name: `n${i}`, nested: { x: i } },
    tags: [i % 7, i % 11, 100 + (i % 3)],
    big: (BIG_BASE + BigInt(i)).toString(), // Int64 sent as a decimal string (spec §3.2)
  };
  // nullable VarChar: explicit null for i%10==0, omitted (-> null) for i%10==5
  if (i % 10 !== 5) row.note = i % 5 === 0 ? null : `note-${i}`;
  return row;
}
// The truth: what a Strong read of CUSTOM must return. id -> row (note normalised to null).
const live = new Map();
const remember = (row) => live.set(row.id, { note: null, ...row });
const liveRows = () => [...live.values()];
const CUSTOM_FIELDS = ['id', 'title', 'age', 'score', 'flag', 'meta', 'tags', 'note', 'big'];

// ---------------------------------------------------------------------------------------
// Helpers

function brief(res) {
  const s = JSON.stringify(res);
  return s && s.length > 600 ? `${s.slice(0, 600)}...` : s;
}

/** Asserts a successful envelope ({code: 0}) and returns its data. */
function ok(res, what) {
  assert.ok(res && typeof res === 'object', `${what}: no JSON object in the response`);
  assert.equal(res.code, 0, `${what}: expected code 0, got ${res.code} ` +
               `(message: ${JSON.stringify(res.message)}); response: ${brief(res)}`);
  return res.data;
}

/** Asserts an error envelope: non-zero code (== code when given), a message, no data. */
function fails(res, what, code) {
  assert.ok(res && typeof res === 'object', `${what}: no JSON object in the response`);
  assert.notEqual(res.code, 0, `${what}: expected an error, got code 0; response: ${brief(res)}`);
  assert.equal(typeof res.code, 'number', `${what}: code must be a number: ${brief(res)}`);
  if (code !== undefined) {
    assert.equal(res.code, code, `${what}: expected code ${code}; response: ${brief(res)}`);
  }
  assert.equal(typeof res.message, 'string', `${what}: error without message: ${brief(res)}`);
  assert.ok(res.message.length > 0, `${what}: empty error message`);
  assert.equal(res.data, undefined, `${what}: error response must not carry data`);
  return res;
}

/** An Int64 returned with Accept-Type-Allow-Int64: false: a decimal string. */
function assertInt64(value, expected, what) {
  assert.equal(typeof value, 'string',
               `${what}: Int64 must be a decimal string when acceptInt64 is false, got ` +
               `${typeof value} ${JSON.stringify(value)}`);
  assert.match(value, /^-?\d+$/, `${what}: not a decimal integer: ${value}`);
  if (expected !== undefined) assert.equal(value, String(expected), what);
}

/** Schema JSON fields come back as a string holding the JSON text (spec §3.3). */
function jsonField(value, what) {
  assert.equal(typeof value, 'string', `${what}: JSON field must be returned as JSON text, ` +
               `got ${JSON.stringify(value)}`);
  return JSON.parse(value);
}

/**
 * Array fields: Milvus emits the protobuf shape {"Data":{"LongData":{"data":[..]}}}
 * (spec §3.3, issue #52048); a plain JSON array is accepted too (open decision, §12.8).
 * Elements are compared as decimal strings, so Int64 elements may be numbers or strings.
 */
function arrayField(value, what) {
  let elems = value;
  if (!Array.isArray(value)) {
    assert.ok(value && typeof value === 'object' && value.Data && typeof value.Data === 'object',
              `${what}: not an array: ${JSON.stringify(value)}`);
    const inner = Object.values(value.Data)[0];
    elems = (inner && inner.data) || [];
  }
  return elems.map((x) => String(x));
}

const near = (a, b, tol, what) =>
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)),
            `${what}: ${a} is not within ${tol} of ${b}`);

function assertVector(got, want, what) {
  assert.ok(Array.isArray(got) && got.length === want.length,
            `${what}: bad vector ${JSON.stringify(got)}`);
  got.forEach((x, i) => near(x, want[i], 1e-6, `${what}[${i}]`));
}

/** Every returned field of a CUSTOM row equals the truth. */
function assertCustomRow(row, what) {
  assertInt64(row.id, undefined, `${what}.id`);
  const want = live.get(Number(row.id));
  assert.ok(want, `${what}: id ${row.id} is not a live row`);
  const has = (k) => Object.prototype.hasOwnProperty.call(row, k);
  if (has('title')) assert.equal(row.title, want.title, `${what}.title`);
  if (has('age')) assert.equal(row.age, want.age, `${what}.age`);
  if (has('score')) near(row.score, want.score, 1e-6, `${what}.score`);
  if (has('flag')) assert.equal(row.flag, want.flag, `${what}.flag`);
  if (has('meta')) assert.deepEqual(jsonField(row.meta, `${what}.meta`), want.meta, `${what}.meta`);
  if (has('tags')) {
    assert.deepEqual(arrayField(row.tags, `${what}.tags`), want.tags.map(String), `${what}.tags`);
  }
  if (has('note')) assert.equal(row.note, want.note, `${what}.note`);
  if (has('big')) assertInt64(row.big, want.big, `${what}.big`);
  if (has('vector')) assertVector(row.vector, want.vector, `${what}.vector`);
}

const idsOf = (rows) => rows.map((r) => r.id);
const sortIds = (ids) => [...ids].map(String).sort((a, b) => Number(a) - Number(b));

async function countRows(collectionName, filter = '', extra = {}) {
  const data = ok(await client.query({
    collectionName, filter, outputFields: ['count(*)'], ...STRONG, ...extra,
  }), `count(*) ${collectionName} [${filter}]`);
  assert.ok(Array.isArray(data) && data.length === 1, `count(*) shape: ${JSON.stringify(data)}`);
  assertInt64(data[0]['count(*)'], undefined, `count(*) [${filter}]`);
  return Number(data[0]['count(*)']);
}

/** Polls fn() (returning {done, state}) every intervalMs until done or the deadline. */
async function pollUntil(what, fn, { deadlineMs = POLL_DEADLINE_MS, intervalMs = 200 } = {}) {
  const deadline = Date.now() + deadlineMs;
  let last;
  for (;;) {
    const { done, state } = await fn();
    last = state;
    if (done) return state;
    if (Date.now() > deadline) {
      assert.fail(`${what}: not reached within ${deadlineMs} ms; last state: ${brief(last)}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

async function waitLoaded(collectionName, c = client) {
  return pollUntil(`${collectionName} loaded`, async () => {
    const res = await c.getCollectionLoadState({ collectionName });
    const data = ok(res, `getCollectionLoadState ${collectionName}`);
    return { done: data.loadState === 'LoadStateLoaded', state: res };
  });
}

/** Checks search hits: ordered best first, distinct ids, all with a numeric distance. */
function assertHits(hits, { metric, what, varcharPk = false }) {
  assert.ok(Array.isArray(hits), `${what}: hits must be an array: ${brief(hits)}`);
  const seen = new Set();
  for (let i = 0; i < hits.length; i++) {
    assert.equal(typeof hits[i].distance, 'number', `${what}: hit ${i} has no numeric distance`);
    if (varcharPk) assert.equal(typeof hits[i].id, 'string', `${what}: hit ${i} id`);
    else assertInt64(hits[i].id, undefined, `${what}: hit ${i} id`);
    assert.ok(!seen.has(hits[i].id), `${what}: id ${hits[i].id} returned twice`);
    seen.add(hits[i].id);
    if (i > 0) {
      const [p, c] = [hits[i - 1].distance, hits[i].distance];
      if (metric === 'L2') assert.ok(p <= c + 1e-6, `${what}: L2 hits not ascending: ${p}, ${c}`);
      else assert.ok(p >= c - 1e-6, `${what}: ${metric} hits not descending: ${p}, ${c}`);
    }
  }
}

async function cleanup() {
  // best effort: leftovers of an earlier run against the same server
  const quiet = async (p) => { try { await p; } catch { /* ignore */ } };
  await quiet(client.dropAlias({ aliasName: ALIAS }));
  for (const c of [QUICK, CUSTOM, RENAME_SRC, RENAME_DST, NO_DIM]) {
    await quiet(client.dropCollection({ collectionName: c }));
  }
  await quiet(client.dropCollection({ collectionName: DB_COLL, dbName: DB }));
  await quiet(client.dropDatabase({ dbName: DB }));
}

before(cleanup);
after(cleanup);

const step = (name, fn) => test(name, { timeout: STEP_TIMEOUT_MS }, fn);

// ---------------------------------------------------------------------------------------
// The session

step('quick-setup collection: create, describe, list, has, load state', async () => {
  ok(await client.createCollection({ collectionName: QUICK, dimension: DIM, metricType: 'L2' }),
     'createCollection quick');

  const d = ok(await client.describeCollection({ collectionName: QUICK }), 'describeCollection');
  assert.equal(d.collectionName, QUICK);
  assert.equal(d.fields.length, 2, `quick setup has 2 fields: ${brief(d.fields)}`);
  const [pk, vec] = d.fields;
  assert.equal(pk.name, 'id');
  assert.equal(pk.type, 'Int64');
  assert.equal(pk.primaryKey, true);
  assert.equal(pk.autoId, false);
  assert.equal(vec.name, 'vector');
  assert.equal(vec.type, 'FloatVector');
  assert.deepEqual(vec.params.find((p) => p.key === 'dim'), { key: 'dim', value: String(DIM) });
  assert.equal(d.shardsNum, 1);
  assert.equal(d.enableDynamicField, true);
  assert.equal(d.indexes.length, 1);
  assert.equal(d.indexes[0].fieldName, 'vector');
  assert.equal(d.indexes[0].metricType, 'L2');
  assert.ok(d.collectionID !== undefined, 'describe carries collectionID');
  assert.deepEqual(d.aliases, []);

  const list = ok(await client.listCollections(), 'listCollections');
  assert.ok(Array.isArray(list) && list.includes(QUICK), `listCollections: ${brief(list)}`);
  assert.equal(ok(await client.hasCollection({ collectionName: QUICK }), 'has').has, true);
  assert.equal(ok(await client.hasCollection({ collectionName: MISSING }), 'has missing').has,
               false);

  await waitLoaded(QUICK);
  const state = ok(await client.getCollectionLoadState({ collectionName: QUICK }), 'load state');
  assert.equal(state.loadState, 'LoadStateLoaded');
  assert.equal(state.loadProgress, 100);
  const d2 = ok(await client.describeCollection({ collectionName: QUICK }), 'describe loaded');
  assert.equal(d2.load, 'LoadStateLoaded');
});

step('custom-schema collection: create with index params and 2 shards, describe, load',
     async () => {
  ok(await client.createCollection({
    collectionName: CUSTOM,
    schema: {
      autoID: false,
      enableDynamicField: false,
      fields: [
        { fieldName: 'id', dataType: 'Int64', isPrimary: true },
        { fieldName: 'vector', dataType: 'FloatVector', elementTypeParams: { dim: DIM } },
        { fieldName: 'title', dataType: 'VarChar', elementTypeParams: { max_length: 64 } },
        { fieldName: 'age', dataType: 'Int32' },
        { fieldName: 'score', dataType: 'Float' },
        { fieldName: 'flag', dataType: 'Bool' },
        { fieldName: 'meta', dataType: 'JSON' },
        { fieldName: 'tags', dataType: 'Array', elementDataType: 'Int64',
          elementTypeParams: { max_capacity: 16 } },
        { fieldName: 'note', dataType: 'VarChar', nullable: true,
          elementTypeParams: { max_length: 64 } },
        { fieldName: 'big', dataType: 'Int64' },
      ],
    },
    indexParams: [{
      fieldName: 'vector', indexName: 'vec_hnsw', metricType: 'COSINE',
      params: { index_type: 'HNSW', M: 16, efConstruction: 64 },
    }],
    params: { shardsNum: 2 },
  }), 'createCollection custom');

  await waitLoaded(CUSTOM);

  const d = ok(await client.describeCollection({ collectionName: CUSTOM }), 'describe custom');
  assert.equal(d.collectionName, CUSTOM);
  assert.equal(d.shardsNum, 2);
  assert.equal(d.enableDynamicField, false);
  assert.equal(d.autoId, false);
  assert.equal(d.load, 'LoadStateLoaded');
  const byName = Object.fromEntries(d.fields.map((f) => [f.name, f]));
  assert.deepEqual(d.fields.map((f) => f.name), ['id', 'vector', ...CUSTOM_FIELDS.slice(1)]);
  const types = {
    id: 'Int64', vector: 'FloatVector', title: 'VarChar', age: 'Int32', score: 'Float',
    flag: 'Bool', meta: 'JSON', tags: 'Array', note: 'VarChar', big: 'Int64',
  };
  for (const [name, type] of Object.entries(types)) {
    assert.equal(byName[name].type, type, `field ${name} type`);
  }
  assert.equal(byName.id.primaryKey, true);
  assert.equal(byName.id.autoId, false);
  assert.equal(byName.tags.elementType, 'Int64');
  const param = (f, key) => (f.params || []).find((p) => p.key === key)?.value;
  assert.equal(param(byName.vector, 'dim'), String(DIM));
  assert.equal(param(byName.title, 'max_length'), '64');
  assert.equal(param(byName.tags, 'max_capacity'), '16');
  assert.equal(byName.note.nullable, true);
  assert.ok(!byName.title.nullable, 'title is not nullable');
  assert.equal(d.indexes.length, 1);
  assert.deepEqual(
    { fieldName: d.indexes[0].fieldName, indexName: d.indexes[0].indexName,
      metricType: d.indexes[0].metricType },
    { fieldName: 'vector', indexName: 'vec_hnsw', metricType: 'COSINE' });
});

step('insert: quick collection with dynamic keys, custom collection with every type',
     async () => {
  for (const [from, to] of [[0, 250], [250, N_QUICK]]) {
    const rows = [];
    for (let i = from; i < to; i++) rows.push(quickRow(i));
    const data = ok(await client.insert({ collectionName: QUICK, data: rows }), 'insert quick');
    assert.equal(Number(data.insertCount), to - from);
    assert.equal(data.insertIds.length, to - from);
    data.insertIds.forEach((id, k) => assertInt64(id, from + k, `insertIds[${k}]`));
  }

  const rows = [];
  for (let i = 0; i < N_CUSTOM; i++) rows.push(customRow(i));
  const data = ok(await client.insert({ collectionName: CUSTOM, data: rows }), 'insert custom');
  assert.equal(Number(data.insertCount), N_CUSTOM);
  assert.deepEqual(sortIds(data.insertIds), sortIds(rows.map((r) => r.id)));
  data.insertIds.forEach((id) => assertInt64(id, undefined, 'custom insertIds'));
  rows.forEach(remember);

  assert.equal(await countRows(QUICK), N_QUICK);
  assert.equal(await countRows(CUSTOM), N_CUSTOM);
});

step('search quick collection (L2): nq=1 exact match, distances, recall, dynamic keys',
     async () => {
  const anchor = 123;
  const q = quickVecs[anchor];
  const res = await client.search({
    collectionName: QUICK, data: [q], limit: 5, outputFields: ['color', 'rank', 'info'],
    ...STRONG,
  });
  const hits = ok(res, 'search nq=1');
  assert.deepEqual(res.topks, [5], 'topks for nq=1');
  assert.equal(hits.length, 5, 'nq=1: the SDK leaves a flat list of hits');
  assertHits(hits, { metric: 'L2', what: 'nq=1' });
  assertInt64(hits[0].id, anchor, 'nearest hit is the query vector itself');
  assert.ok(Math.abs(hits[0].distance) < 1e-5, `self distance ~0, got ${hits[0].distance}`);

  const exact = quickVecs.map((v, i) => ({ i, d: l2sq(q, v) })).sort((a, b) => a.d - b.d);
  hits.forEach((h, r) => {
    const i = Number(h.id);
    near(h.distance, l2sq(q, quickVecs[i]), 1e-4, `distance of hit ${i} (squared L2)`);
    assert.ok(h.distance >= exact[r].d - 1e-4, `hit ${r} beats the exact ${r}-th distance`);
    assert.equal(h.color, COLORS[i % 3], `dynamic key color of ${i}`);
    assert.equal(h.rank, i, `dynamic key rank of ${i}`);
    assert.deepEqual(h.info, { tier: i % 5, tag: `t${i % 7}` }, `dynamic key info of ${i}`);
  });
  const top5 = new Set(exact.slice(0, 5).map((e) => String(e.i)));
  const recall = hits.filter((h) => top5.has(h.id)).length;
  assert.ok(recall >= 3, `recall@5 vs brute force is ${recall}/5`);
});

step('search quick collection: nq=2 with a dynamic-key filter (SDK splits to 2-D)', async () => {
  const anchors = [12, 21]; // both red (i % 3 == 0)
  const res = await client.search({
    collectionName: QUICK, data: anchors.map((a) => quickVecs[a]), limit: 5,
    filter: 'color == "red"', outputFields: ['color', 'rank'], ...STRONG,
  });
  const data = ok(res, 'search nq=2');
  assert.deepEqual(res.topks, [5, 5], 'topks for nq=2');
  assert.equal(data.length, 2, 'nq=2: the SDK splits data into one list per query');
  data.forEach((hits, qi) => {
    assert.equal(hits.length, 5);
    assertHits(hits, { metric: 'L2', what: `nq=2 query ${qi}` });
    assertInt64(hits[0].id, anchors[qi], `query ${qi} finds itself first`);
    assert.ok(Math.abs(hits[0].distance) < 1e-5);
    for (const h of hits) {
      assert.equal(Number(h.id) % 3, 0, `filter holds for ${h.id}`);
      assert.equal(h.color, 'red');
      assert.equal(h.rank, Number(h.id));
      near(h.distance, l2sq(quickVecs[anchors[qi]], quickVecs[Number(h.id)]), 1e-4, 'distance');
    }
  });

  // more dynamic-key filters (plain key, nested JSON path, range), each checked per hit
  const cases = [
    { filter: 'info["tier"] == 2', pred: (i) => i % 5 === 2, anchor: 7 },
    { filter: 'rank >= 100 and rank < 120', pred: (i) => i >= 100 && i < 120, anchor: 110 },
    { filter: 'color in ["green", "blue"] and rank > 400', pred: (i) => i % 3 !== 0 && i > 400,
      anchor: 401 },
  ];
  for (const { filter, pred, anchor } of cases) {
    const r = await client.search({
      collectionName: QUICK, data: [quickVecs[anchor]], limit: 5, filter,
      outputFields: ['rank'], ...STRONG,
    });
    const hits = ok(r, `search [${filter}]`);
    assert.equal(hits.length, 5, `[${filter}] returns 5 hits`);
    assertHits(hits, { metric: 'L2', what: filter });
    assertInt64(hits[0].id, anchor, `[${filter}] nearest is the anchor`);
    for (const h of hits) assert.ok(pred(Number(h.id)), `[${filter}] does not hold for ${h.id}`);
  }

  // a filter that matches nothing: empty data, no split
  const none = await client.search({
    collectionName: QUICK, data: [quickVecs[0]], limit: 5, filter: 'rank < 0', ...STRONG,
  });
  assert.deepEqual(ok(none, 'search with an empty result'), []);
  assert.ok(none.topks === undefined || JSON.stringify(none.topks) === '[0]',
            `topks of an empty result: ${brief(none.topks)}`);
});

step('query and get on the quick collection: dynamic keys and the whole row', async () => {
  const rows = ok(await client.query({
    collectionName: QUICK, filter: 'rank >= 100 and rank < 110 and color == "blue"',
    outputFields: ['id', 'color', 'rank'], limit: 100, ...STRONG,
  }), 'query quick');
  assert.deepEqual(sortIds(idsOf(rows)), ['101', '104', '107']);
  for (const r of rows) {
    assertInt64(r.id, undefined, 'query id');
    assert.equal(r.color, 'blue');
    assert.equal(r.rank, Number(r.id));
  }

  const got = ok(await client.get({ collectionName: QUICK, id: 7, outputFields: ['*'], ...STRONG }),
                 'get quick *');
  assert.equal(got.length, 1);
  assertInt64(got[0].id, 7, 'get id');
  assertVector(got[0].vector, quickVecs[7], 'get vector');
  assert.equal(got[0].color, COLORS[7 % 3]);
  assert.equal(got[0].rank, 7);
  assert.deepEqual(got[0].info, { tier: 2, tag: 't0' });
  assert.ok(!('$meta' in got[0]), 'dynamic keys are flattened, $meta is not exposed');

  // default limit is 100 (spec §7.2.4)
  const dflt = ok(await client.query({ collectionName: QUICK, filter: 'rank >= 0',
                                       outputFields: ['id'], ...STRONG }), 'query no limit');
  assert.equal(dflt.length, 100);
});

// Filters over every custom field type; the query must return exactly the truth set.
const CUSTOM_FILTERS = [
  ['age < 5', (r) => r.age < 5],
  ['age >= 10 and age < 13 and flag == true', (r) => r.age >= 10 && r.age < 13 && r.flag],
  ['score > 10.5 and score <= 20', (r) => r.score > 10.5 && r.score <= 20],
  ['title like "title-1%"', (r) => r.title.startsWith('title-1')],
  ['title in ["title-3", "title-4", "title-200"]', (r) => ['title-3', 'title-4', 'title-200']
    .includes(r.title)],
  ['meta["tier"] == 2', (r) => r.meta.tier === 2],
  ['meta["nested"]["x"] >= 250', (r) => r.meta.nested.x >= 250],
  ['array_contains(tags, 3)', (r) => r.tags.includes(3)],
  ['array_contains_any(tags, [5, 6])', (r) => r.tags.includes(5) || r.tags.includes(6)],
  ['note is null', (r) => r.note === null],
  ['note is not null and age == 1', (r) => r.note !== null && r.age === 1],
  ['big == 9007199254741000', (r) => BigInt(r.big) === 9007199254741000n],
  ['big > 9007199254741200', (r) => BigInt(r.big) > 9007199254741200n],
  ['id in [1003, 1007, 1011]', (r) => [1003, 1007, 1011].includes(r.id)],
  ['not (age < 45)', (r) => !(r.age < 45)],
  ['(age == 1 or age == 2) and flag == false', (r) => (r.age === 1 || r.age === 2) && !r.flag],
];

async function checkFilterTruth(filter, pred) {
  const want = sortIds(liveRows().filter(pred).map((r) => r.id));
  const rows = ok(await client.query({
    collectionName: CUSTOM, filter, outputFields: CUSTOM_FIELDS, limit: 1000, ...STRONG,
  }), `query [${filter}]`);
  assert.deepEqual(sortIds(idsOf(rows)), want, `query [${filter}] returns exactly the matches`);
  rows.forEach((r, k) => assertCustomRow(r, `query [${filter}] row ${k}`));
  assert.equal(await countRows(CUSTOM, filter), want.length, `count(*) [${filter}]`);
  return want;
}

step('query the custom collection: filters on every type, count(*), limit/offset, get',
     async () => {
  for (const [filter, pred] of CUSTOM_FILTERS) {
    const want = await checkFilterTruth(filter, pred);
    assert.ok(want.length > 0, `filter [${filter}] should match something in this data set`);
  }

  // count(*) is an Int64: a string under acceptInt64=false
  const c = ok(await client.query({ collectionName: CUSTOM, outputFields: ['count(*)'],
                                    filter: 'flag == true', ...STRONG }), 'count(*)');
  assert.deepEqual(c, [{ 'count(*)': String(N_CUSTOM / 2) }]);

  // limit/offset pagination: disjoint pages inside the match set
  const filter = 'age < 20';
  const want = new Set(liveRows().filter((r) => r.age < 20).map((r) => String(r.id)));
  const page = async (offset) => ok(await client.query({
    collectionName: CUSTOM, filter, outputFields: ['id', 'age'], limit: 10, offset, ...STRONG,
  }), `query page offset ${offset}`);
  const p1 = await page(0);
  const p2 = await page(10);
  assert.equal(p1.length, 10);
  assert.equal(p2.length, 10);
  const all = [...idsOf(p1), ...idsOf(p2)];
  assert.equal(new Set(all).size, 20, 'pages do not overlap');
  for (const id of all) assert.ok(want.has(id), `paged id ${id} matches [${filter}]`);
  const tail = await page(want.size - 3);
  assert.equal(tail.length, 3, 'the last page is short');

  // get by ids (numbers and numeric strings), all fields
  const got = ok(await client.get({ collectionName: CUSTOM, id: [1003, 1007],
                                    outputFields: ['*'], ...STRONG }), 'get ids');
  assert.deepEqual(sortIds(idsOf(got)), ['1003', '1007']);
  got.forEach((r, k) => assertCustomRow(r, `get row ${k}`));
  for (const r of got) assert.ok('vector' in r, 'outputFields * includes the vector');
  const got2 = ok(await client.get({ collectionName: CUSTOM, id: ['1010'],
                                     outputFields: ['title', 'big'], ...STRONG }), 'get str id');
  assert.equal(got2.length, 1);
  assertCustomRow(got2[0], 'get "1010"');
  assertInt64(got2[0].big, (BIG_BASE + 10n).toString(), 'Int64 beyond 2^53 survives');
  const none = ok(await client.get({ collectionName: CUSTOM, id: [999999], ...STRONG }),
                  'get absent id');
  assert.deepEqual(none, []);
});

async function searchCustom(filter, anchorId, what, extra = {}) {
  const res = await client.search({
    collectionName: CUSTOM, data: [customVecs.get(anchorId)], limit: 5, filter,
    outputFields: CUSTOM_FIELDS.filter((f) => f !== 'id'), searchParams: { ef: 64 },
    ...STRONG, ...extra,
  });
  const hits = ok(res, what);
  assertHits(hits, { metric: 'COSINE', what });
  return hits;
}

step('search the custom collection (COSINE, HNSW ef): filters on scalars, JSON, arrays',
     async () => {
  for (const [filter, pred] of CUSTOM_FILTERS) {
    const matches = liveRows().filter(pred).sort((a, b) => a.id - b.id);
    const anchor = matches[Math.floor(matches.length / 2)].id;
    const hits = await searchCustom(filter, anchor, `search [${filter}]`);
    assert.equal(hits.length, Math.min(5, matches.length), `[${filter}] hit count`);
    assertInt64(hits[0].id, anchor, `[${filter}] nearest is the anchor`);
    near(hits[0].distance, 1, 1e-4, `[${filter}] cosine of the anchor with itself`);
    hits.forEach((h, k) => {
      assert.ok(pred(live.get(Number(h.id))), `[${filter}] does not hold for hit ${h.id}`);
      assertCustomRow(h, `[${filter}] hit ${k}`);
      near(h.distance, cosine(customVecs.get(anchor), customVecs.get(Number(h.id))), 1e-4,
           `[${filter}] cosine of hit ${h.id}`);
    });
  }

  // nq=2, search params nested under "params"
  const anchors = [1020, 1042]; // flag == true for both
  const res = await client.search({
    collectionName: CUSTOM, data: anchors.map((a) => customVecs.get(a)), limit: 5,
    filter: 'flag == true', outputFields: ['flag'], searchParams: { params: { ef: 32 } },
    ...STRONG,
  });
  const data = ok(res, 'custom nq=2');
  assert.deepEqual(res.topks, [5, 5]);
  assert.equal(data.length, 2);
  data.forEach((hits, qi) => {
    assertHits(hits, { metric: 'COSINE', what: `custom nq=2 query ${qi}` });
    assert.equal(hits.length, 5);
    assertInt64(hits[0].id, anchors[qi]);
    for (const h of hits) assert.equal(h.flag, true);
  });
});

step('delete by id list and by a scalar predicate; Strong reads no longer see them',
     async () => {
  const before = await countRows(CUSTOM);

  const d1 = ok(await client.delete({ collectionName: CUSTOM, filter: 'id in [1000, 1001, 1002]' }),
                'delete by ids');
  assert.equal(Number(d1.deleteCount), 3, `deleteCount: ${brief(d1)}`);
  [1000, 1001, 1002].forEach((id) => live.delete(id));

  const doomed = liveRows().filter((r) => r.age === 7).map((r) => r.id);
  assert.equal(doomed.length, 6);
  const d2 = ok(await client.delete({ collectionName: CUSTOM, filter: 'age == 7' }),
                'delete by predicate');
  assert.equal(Number(d2.deleteCount), doomed.length, `deleteCount: ${brief(d2)}`);
  doomed.forEach((id) => live.delete(id));

  assert.equal(await countRows(CUSTOM), before - 9);
  assert.deepEqual(ok(await client.query({
    collectionName: CUSTOM, filter: 'id in [1000, 1001, 1002]', outputFields: ['id'], ...STRONG,
  }), 'query deleted'), []);
  assert.deepEqual(ok(await client.get({ collectionName: CUSTOM, id: [1000, 1007, 1057],
                                         ...STRONG }), 'get deleted'), []);
  assert.equal(await countRows(CUSTOM, 'age == 7'), 0);

  const empty = await client.search({ collectionName: CUSTOM, data: [customVecs.get(1007)],
                                      limit: 5, filter: 'age == 7', ...STRONG });
  assert.deepEqual(ok(empty, 'search deleted'), []);
  const hits = await searchCustom('', 1007, 'search near a deleted row');
  for (const h of hits) {
    assert.ok(live.has(Number(h.id)), `deleted row ${h.id} is returned by search`);
  }
  // the truth table still holds after deletes
  for (const [filter, pred] of CUSTOM_FILTERS.slice(0, 4)) await checkFilterTruth(filter, pred);
});

step('upsert: a changed row is returned in its new version only, exactly once', async () => {
  const before = await countRows(CUSTOM);
  const oldVec = customVecs.get(1010);
  const changed = {
    id: 1010, vector: randVec(), title: 'title-10-v2', age: 49, score: 99.5, flag: false,
    meta: { tier: 9, name: 'upserted', nested: { x: -1 } }, tags: [42], note: 'upserted',
    big: '-9007199254740993',
  };
  const fresh = { ...customRow(4000, 5000), title: 'title-new' };
  customVecs.set(1010, changed.vector);

  const data = ok(await client.upsert({ collectionName: CUSTOM, data: [changed, fresh] }),
                  'upsert');
  assert.equal(Number(data.upsertCount), 2);
  assert.deepEqual(sortIds(data.upsertIds), ['1010', '5000']);
  data.upsertIds.forEach((id) => assertInt64(id, undefined, 'upsertIds'));
  remember(changed);
  remember(fresh);

  assert.equal(await countRows(CUSTOM), before + 1, 'upsert of an existing id adds no row');
  const rows = ok(await client.query({ collectionName: CUSTOM, filter: 'id == 1010',
                                       outputFields: ['*'], ...STRONG }), 'query upserted');
  assert.equal(rows.length, 1, `exactly one version of 1010: ${brief(rows)}`);
  assertCustomRow(rows[0], 'upserted row');
  assertVector(rows[0].vector, changed.vector, 'upserted vector');
  assertInt64(rows[0].big, '-9007199254740993');
  assert.equal(await countRows(CUSTOM, 'title == "title-10"'), 0, 'old version is gone');
  assert.equal(await countRows(CUSTOM, 'title == "title-10-v2"'), 1);
  const got = ok(await client.get({ collectionName: CUSTOM, id: [1010, 5000],
                                    outputFields: ['title'], ...STRONG }), 'get upserted');
  assert.deepEqual(got.map((r) => r.title).sort(), ['title-10-v2', 'title-new']);

  const hits = await searchCustom('', 1010, 'search the new vector');
  assertInt64(hits[0].id, 1010);
  near(hits[0].distance, 1, 1e-4, 'new vector matches itself');
  assert.equal(hits.filter((h) => h.id === '1010').length, 1);

  const oldHits = ok(await client.search({ collectionName: CUSTOM, data: [oldVec], limit: 10,
                                           ...STRONG }), 'search the old vector');
  const again = oldHits.filter((h) => h.id === '1010');
  assert.ok(again.length <= 1, '1010 appears at most once');
  for (const h of again) {
    near(h.distance, cosine(oldVec, changed.vector), 1e-4, 'only the new version of 1010 scores');
  }
  for (const h of oldHits) assert.ok(live.has(Number(h.id)), `stale row ${h.id}`);
});

step('partitions: create, list, insert, search/query by partition, stats, release, drop',
     async () => {
  ok(await client.createPartition({ collectionName: CUSTOM, partitionName: PARTITION }),
     'createPartition');
  const names = ok(await client.listPartitions({ collectionName: CUSTOM }), 'listPartitions');
  assert.deepEqual([...names].sort(), ['_default', PARTITION]);
  assert.equal(ok(await client.hasPartition({ collectionName: CUSTOM, partitionName: PARTITION }),
                  'hasPartition').has, true);
  const s0 = ok(await client.getPartitionStatistics({ collectionName: CUSTOM,
                                                      partitionName: PARTITION }), 'stats new');
  assert.equal(Number(s0.rowCount), 0);
  ok(await client.loadPartitions({ collectionName: CUSTOM, partitionNames: [PARTITION] }),
     'loadPartitions');

  const defaultCount = await countRows(CUSTOM);
  const rows = [];
  for (let k = 0; k < 20; k++) rows.push(customRow(500 + k, 2000 + k));
  const ins = ok(await client.insert({ collectionName: CUSTOM, partitionName: PARTITION,
                                       data: rows }), 'insert into partition');
  assert.equal(Number(ins.insertCount), 20);
  rows.forEach(remember);

  assert.equal(await countRows(CUSTOM, '', { partitionNames: [PARTITION] }), 20);
  assert.equal(await countRows(CUSTOM, '', { partitionNames: ['_default'] }), defaultCount);
  assert.equal(await countRows(CUSTOM), defaultCount + 20);

  const inPart = await searchCustom('', 2005, 'search in partition',
                                    { partitionNames: [PARTITION] });
  assert.equal(inPart.length, 5);
  assertInt64(inPart[0].id, 2005);
  for (const h of inPart) {
    assert.ok(Number(h.id) >= 2000 && Number(h.id) < 2020, `hit ${h.id} outside ${PARTITION}`);
  }
  const inDefault = await searchCustom('', 2005, 'search in _default',
                                       { partitionNames: ['_default'] });
  for (const h of inDefault) assert.ok(Number(h.id) < 2000, `hit ${h.id} outside _default`);

  ok(await client.flushCollection({ collectionName: CUSTOM }), 'flush');
  await pollUntil('partition rowCount 20', async () => {
    const res = await client.getPartitionStatistics({ collectionName: CUSTOM,
                                                      partitionName: PARTITION });
    return { done: Number(ok(res, 'partition stats').rowCount) === 20, state: res };
  });

  ok(await client.releasePartitions({ collectionName: CUSTOM, partitionNames: [PARTITION] }),
     'releasePartitions');
  fails(await client.search({ collectionName: CUSTOM, data: [customVecs.get(2005)], limit: 5,
                              partitionNames: [PARTITION], ...STRONG }),
        'search a released partition');
  ok(await client.dropPartition({ collectionName: CUSTOM, partitionName: PARTITION }),
     'dropPartition');
  rows.forEach((r) => live.delete(r.id));
  assert.deepEqual(ok(await client.listPartitions({ collectionName: CUSTOM }), 'list'),
                   ['_default']);
  assert.equal(ok(await client.hasPartition({ collectionName: CUSTOM, partitionName: PARTITION }),
                  'hasPartition dropped').has, false);
  assert.equal(await countRows(CUSTOM), defaultCount, 'rows of the dropped partition are gone');
});

async function waitIndexBuilt(collectionName, indexName) {
  return pollUntil(`index ${collectionName}.${indexName} finished`, async () => {
    const res = await client.describeIndex({ collectionName, indexName });
    const [ix] = ok(res, `describeIndex ${indexName}`);
    const done = ix.indexState === 'Finished' && Number(ix.pendingRows) === 0 &&
                 Number(ix.indexedRows) === Number(ix.totalRows) && Number(ix.totalRows) > 0;
    return { done, state: res };
  });
}

step('indexes: list, describe, build finished after flush', async () => {
  assert.deepEqual(ok(await client.listIndexes({ collectionName: QUICK }), 'listIndexes quick'),
                   ['vector']);
  assert.deepEqual(ok(await client.listIndexes({ collectionName: CUSTOM }), 'listIndexes custom'),
                   ['vec_hnsw']);

  const [q] = ok(await client.describeIndex({ collectionName: QUICK, indexName: 'vector' }),
                 'describeIndex quick');
  assert.equal(q.indexName, 'vector');
  assert.equal(q.fieldName, 'vector');
  assert.equal(q.indexType, 'AUTOINDEX');
  assert.equal(q.metricType, 'L2');

  const c = ok(await client.describeIndex({ collectionName: CUSTOM, indexName: 'vec_hnsw' }),
               'describeIndex custom');
  assert.equal(c.length, 1);
  assert.equal(c[0].indexName, 'vec_hnsw');
  assert.equal(c[0].fieldName, 'vector');
  assert.equal(c[0].indexType, 'HNSW');
  assert.equal(c[0].metricType, 'COSINE');

  ok(await client.flushCollection({ collectionName: QUICK }), 'flush quick');
  ok(await client.flushCollection({ collectionName: CUSTOM }), 'flush custom');
  const qs = await waitIndexBuilt(QUICK, 'vector');
  assert.equal(Number(qs.data[0].indexedRows), N_QUICK, 'every quick row is indexed');
  const cs = await waitIndexBuilt(CUSTOM, 'vec_hnsw');
  // deleted rows may still be counted until compaction purges them
  assert.ok(Number(cs.data[0].indexedRows) >= live.size,
            `indexedRows ${cs.data[0].indexedRows} < live rows ${live.size}`);
  assert.equal(cs.data[0].failReason || '', '');

  // sealed + indexed data answers the same as before
  const hits = await searchCustom('meta["tier"] == 1', 1021, 'search after the index build');
  assertInt64(hits[0].id, 1021);
  await checkFilterTruth(...CUSTOM_FILTERS[7]);
  assert.equal(await countRows(CUSTOM), live.size);
});

step('collection statistics after flush', async () => {
  ok(await client.flushCollection({ collectionName: QUICK }), 'flush');
  await pollUntil('quick rowCount', async () => {
    const res = await client.getCollectionStatistics({ collectionName: QUICK });
    return { done: Number(ok(res, 'get_stats').rowCount) === N_QUICK, state: res };
  });
  const s = ok(await client.getCollectionStatistics({ collectionName: CUSTOM }), 'stats custom');
  assert.ok(Number(s.rowCount) >= live.size, `custom rowCount ${s.rowCount}`);
});

step('aliases: create, describe, list, use, alter, drop', async () => {
  ok(await client.createAlias({ collectionName: QUICK, aliasName: ALIAS }), 'createAlias');
  const a = ok(await client.describeAlias({ aliasName: ALIAS }), 'describeAlias');
  assert.deepEqual({ aliasName: a.aliasName, collectionName: a.collectionName, dbName: a.dbName },
                   { aliasName: ALIAS, collectionName: QUICK, dbName: 'default' });
  assert.ok(ok(await client.listAliases({ collectionName: QUICK }), 'listAliases').includes(ALIAS));
  assert.deepEqual(ok(await client.describeCollection({ collectionName: QUICK }), 'describe')
    .aliases, [ALIAS]);
  assert.equal(await countRows(ALIAS), N_QUICK, 'query through the alias');
  const hits = ok(await client.search({ collectionName: ALIAS, data: [quickVecs[5]], limit: 1,
                                        ...STRONG }), 'search through the alias');
  assertInt64(hits[0].id, 5);

  ok(await client.alterAlias({ collectionName: CUSTOM, aliasName: ALIAS }), 'alterAlias');
  assert.equal(ok(await client.describeAlias({ aliasName: ALIAS }), 'describe altered')
    .collectionName, CUSTOM);
  assert.equal(await countRows(ALIAS), live.size, 'the alias now points at the custom collection');
  assert.ok(!ok(await client.listAliases({ collectionName: QUICK }), 'list').includes(ALIAS));
  assert.ok(ok(await client.listAliases({ collectionName: CUSTOM }), 'list').includes(ALIAS));

  ok(await client.dropAlias({ aliasName: ALIAS }), 'dropAlias');
  fails(await client.describeAlias({ aliasName: ALIAS }), 'describe a dropped alias');
  assert.ok(!ok(await client.listAliases({ collectionName: CUSTOM }), 'list').includes(ALIAS));
  assert.equal(ok(await client.hasCollection({ collectionName: CUSTOM }), 'has').has, true,
               'dropping an alias keeps the collection');
});

step('VarChar primary key (IP), release/load, rename keeps the data', async () => {
  ok(await client.createCollection({
    collectionName: RENAME_SRC, dimension: DIM, metricType: 'IP', idType: 'VarChar',
    params: { max_length: 32 },
  }), 'create VarChar pk collection');
  const d = ok(await client.describeCollection({ collectionName: RENAME_SRC }), 'describe');
  assert.equal(d.fields[0].type, 'VarChar');
  assert.equal(d.indexes[0].metricType, 'IP');
  await waitLoaded(RENAME_SRC);

  const vecs = { a: randVec(), b: randVec(), c: randVec() };
  const ins = ok(await client.insert({
    collectionName: RENAME_SRC,
    data: Object.entries(vecs).map(([id, vector]) => ({ id, vector, kind: `k-${id}` })),
  }), 'insert VarChar pk');
  assert.deepEqual(ins.insertIds, ['a', 'b', 'c']);
  const got = ok(await client.get({ collectionName: RENAME_SRC, id: ['a', 'c'],
                                    outputFields: ['id', 'kind'], ...STRONG }), 'get by string');
  assert.deepEqual(got.map((r) => [r.id, r.kind]).sort(), [['a', 'k-a'], ['c', 'k-c']]);
  const hits = ok(await client.search({ collectionName: RENAME_SRC, data: [vecs.b], limit: 3,
                                        ...STRONG }), 'search IP');
  assert.equal(hits.length, 3);
  assertHits(hits, { metric: 'IP', what: 'IP search', varcharPk: true });
  for (const h of hits) near(h.distance, dot(vecs.b, vecs[h.id]), 1e-4, `IP of ${h.id}`);

  ok(await client.releaseCollection({ collectionName: RENAME_SRC }), 'release');
  assert.equal(ok(await client.getCollectionLoadState({ collectionName: RENAME_SRC }), 'state')
    .loadState, 'LoadStateNotLoad');
  fails(await client.query({ collectionName: RENAME_SRC, filter: 'id == "a"', ...STRONG }),
        'query a released collection');
  ok(await client.loadCollection({ collectionName: RENAME_SRC }), 'load');
  await waitLoaded(RENAME_SRC);
  assert.equal(await countRows(RENAME_SRC), 3);

  ok(await client.renameCollection({ collectionName: RENAME_SRC, newCollectionName: RENAME_DST }),
     'renameCollection');
  assert.equal(ok(await client.hasCollection({ collectionName: RENAME_SRC }), 'has').has, false);
  assert.equal(ok(await client.hasCollection({ collectionName: RENAME_DST }), 'has').has, true);
  assert.equal(ok(await client.describeCollection({ collectionName: RENAME_DST }), 'describe')
    .collectionName, RENAME_DST);
  const list = ok(await client.listCollections(), 'list');
  assert.ok(list.includes(RENAME_DST) && !list.includes(RENAME_SRC), `list: ${brief(list)}`);
  await waitLoaded(RENAME_DST);
  assert.equal(await countRows(RENAME_DST), 3);
  const b = ok(await client.get({ collectionName: RENAME_DST, id: 'b', outputFields: ['kind'],
                                  ...STRONG }), 'get after rename');
  assert.deepEqual(b.map((r) => [r.id, r.kind]), [['b', 'k-b']]);
  ok(await client.dropCollection({ collectionName: RENAME_DST }), 'drop renamed');
});

step('databases: create, list, describe, isolate collections, drop', async () => {
  ok(await client.createDatabase({ dbName: DB }), 'createDatabase');
  const dbs = ok(await client.listDatabases(), 'listDatabases');
  assert.ok(dbs.includes('default') && dbs.includes(DB), `listDatabases: ${brief(dbs)}`);
  assert.equal(ok(await client.describeDatabase({ dbName: DB }), 'describeDatabase').dbName, DB);

  const dbClient = new HttpClient({ endpoint: ENDPOINT, database: DB });
  ok(await dbClient.createCollection({ collectionName: DB_COLL, dimension: DIM }), 'create in db');
  await waitLoaded(DB_COLL, dbClient);
  const ins = ok(await dbClient.insert({ collectionName: DB_COLL, data: [
    { id: 1, vector: randVec() }, { id: 2, vector: randVec() }] }), 'insert in db');
  assert.equal(Number(ins.insertCount), 2);
  const c = ok(await dbClient.query({ collectionName: DB_COLL, outputFields: ['count(*)'],
                                      ...STRONG }), 'count in db');
  assert.deepEqual(c, [{ 'count(*)': '2' }]);

  assert.ok(ok(await dbClient.listCollections({ dbName: DB }), 'list in db').includes(DB_COLL));
  assert.ok(!ok(await client.listCollections(), 'list default').includes(DB_COLL));
  assert.equal(ok(await client.hasCollection({ collectionName: DB_COLL }), 'has default').has,
               false);
  assert.equal(ok(await client.hasCollection({ collectionName: DB_COLL, dbName: DB }),
                  'has with dbName').has, true);
  fails(await client.describeCollection({ collectionName: DB_COLL }), 'not visible in default',
        100);

  ok(await dbClient.dropCollection({ collectionName: DB_COLL }), 'drop in db');
  ok(await client.dropDatabase({ dbName: DB }), 'dropDatabase');
  assert.ok(!ok(await client.listDatabases(), 'listDatabases').includes(DB));
  fails(await client.describeDatabase({ dbName: DB }), 'describe a dropped database');
});

step('error paths: unknown collection, wrong dimension, bad filters, bad rows', async () => {
  fails(await client.describeCollection({ collectionName: MISSING }), 'describe unknown', 100);
  fails(await client.getCollectionLoadState({ collectionName: MISSING }), 'load state unknown',
        100);
  fails(await client.query({ collectionName: MISSING, filter: 'id > 0' }), 'query unknown');
  fails(await client.search({ collectionName: MISSING, data: [quickVecs[0]], limit: 1 }),
        'search unknown');
  fails(await client.insert({ collectionName: MISSING, data: [quickRow(0)] }), 'insert unknown');
  fails(await client.describeIndex({ collectionName: QUICK, indexName: 'no_such_index' }),
        'describe unknown index', 700);

  // wrong dimension: nothing of the request is applied
  fails(await client.insert({ collectionName: QUICK, data: [
    { id: 9000, vector: randVec() },
    { id: 9001, vector: randVec().slice(0, DIM - 1) },
  ] }), 'insert a 7-d vector into a dim-8 collection');
  fails(await client.search({ collectionName: QUICK, data: [randVec().concat([0.5])], limit: 5 }),
        'search with a 9-d vector');
  assert.equal(await countRows(QUICK), N_QUICK, 'a rejected insert adds nothing');
  assert.equal(await countRows(QUICK, 'id in [9000, 9001]'), 0);

  // bad filter expressions
  fails(await client.query({ collectionName: QUICK, filter: 'rank >', ...STRONG }),
        'query with a dangling operator');
  fails(await client.query({ collectionName: CUSTOM, filter: 'age == 1 and (flag == true',
                             ...STRONG }), 'query with an unbalanced parenthesis');
  fails(await client.query({ collectionName: CUSTOM, filter: 'no_such_field == 3', ...STRONG }),
        'query on an unknown field without dynamic schema');
  fails(await client.search({ collectionName: QUICK, data: [quickVecs[0]], limit: 5,
                              filter: 'id in [1, 2', ...STRONG }), 'search with a bad filter');
  fails(await client.delete({ collectionName: CUSTOM, filter: 'age === 3' }),
        'delete with a bad filter');
  assert.equal(await countRows(CUSTOM), live.size, 'a rejected delete removes nothing');

  // bad rows for the custom schema
  fails(await client.insert({ collectionName: CUSTOM, data: [{ ...customRow(7000, 7000),
                                                                extra_key: 1 }] }),
        'unknown key without dynamic field');
  const noTitle = customRow(7001, 7001);
  delete noTitle.title;
  fails(await client.insert({ collectionName: CUSTOM, data: [noTitle] }),
        'missing non-nullable field');
  customVecs.delete(7000);
  customVecs.delete(7001);
  assert.equal(await countRows(CUSTOM), live.size);

  // quick setup without a dimension
  fails(await client.createCollection({ collectionName: NO_DIM }), 'create without dim');
  assert.equal(ok(await client.hasCollection({ collectionName: NO_DIM }), 'has').has, false);
});

step('drop the collections', async () => {
  for (const c of [QUICK, CUSTOM]) {
    ok(await client.dropCollection({ collectionName: c }), `drop ${c}`);
    assert.equal(ok(await client.hasCollection({ collectionName: c }), 'has').has, false);
    fails(await client.describeCollection({ collectionName: c }), `describe dropped ${c}`, 100);
  }
  const list = ok(await client.listCollections(), 'list');
  for (const c of [QUICK, CUSTOM, RENAME_SRC, RENAME_DST]) {
    assert.ok(!list.includes(c), `${c} still listed: ${brief(list)}`);
  }
});
