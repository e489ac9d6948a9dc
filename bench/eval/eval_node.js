// eval_node.js - the LANGUAGE.md s.1 policy in the two JavaScript rules
// engines a team would pick instead of Dunlin: json-rules-engine (rules as
// JSON conditions, the most used on npm) and GoRules zen-engine (JSON
// Decision Model: decision tables, evaluated in Rust through N-API).
// Same facts and decisions as eval_hand.c (README.md).
// Usage: node eval_node.js rules|zen FACTS.csv REPEAT DECISIONS_OUT
'use strict';
const fs = require('fs');

const [mode, factsPath, repeatText, outPath] = process.argv.slice(2);
const repeat = Number(repeatText);

function loadFacts(path) {
  const customers = [], invoices = [];
  const lines = fs.readFileSync(path, 'utf8').split('\n');
  for (let n = 1; n < lines.length; n++) {
    if (!lines[n]) continue;
    const v = lines[n].split(',');
    let c = customers[customers.length - 1];
    if (!c || c.id !== v[0]) {
      c = {id: v[0], tier: v[1], total_overdue: Number(v[2]), avg_days_late: Number(v[3]),
           risk_score: Number(v[4]), promise_active: v[5] === '1', total_open: Number(v[6]),
           credit_limit: v[7] === '' ? null : Number(v[7]), first: invoices.length, n: 0};
      customers.push(c);
    }
    invoices.push({id: v[8], days_past_due: Number(v[9]), disputed: v[10] === '1',
                   balance: Number(v[11])});
    c.n++;
  }
  return {customers, invoices};
}

const STEPS = [60, 30, 15, 7, 1, -3];  // latest first: the first that holds wins

// ---- json-rules-engine: one engine for customers, one for invoices -------
function rulesEngines() {
  const {Engine} = require('json-rules-engine');
  const customer = new Engine([], {allowUndefinedFacts: true});
  customer.addRule({name: 'strategic', priority: 3, event: {type: 'segment', params: {rank: 3, name: 'strategic'}},
    conditions: {any: [{fact: 'tier', operator: 'equal', value: 'strategic'},
                       {fact: 'total_overdue', operator: 'greaterThanInclusive', value: 5000000}]}});
  customer.addRule({name: 'high_risk', priority: 2, event: {type: 'segment', params: {rank: 2, name: 'high_risk'}},
    conditions: {any: [{fact: 'avg_days_late', operator: 'greaterThan', value: 20},
                       {fact: 'risk_score', operator: 'greaterThanInclusive', value: 0.7}]}});
  customer.addRule({name: 'over_limit', priority: 1, event: {type: 'over_limit'},
    conditions: {all: [{fact: 'credit_limit', operator: 'notEqual', value: null},
                       {fact: 'total_open', operator: 'greaterThan', value: {fact: 'credit_limit'}}]}});
  const invoice = new Engine([], {allowUndefinedFacts: true});
  for (const days of STEPS) {
    const all = [{fact: 'disputed', operator: 'equal', value: false},
                 {fact: 'promise_active', operator: 'equal', value: false},
                 {fact: 'days_past_due', operator: 'greaterThanInclusive', value: days}];
    if (days === 60) all.push({fact: 'balance', operator: 'greaterThanInclusive', value: 50000});
    invoice.addRule({name: `step ${days}`, event: {type: 'step', params: {days}}, conditions: {all}});
  }
  return {
    async customer(c) {
      const {events} = await customer.run({tier: c.tier, total_overdue: c.total_overdue,
        avg_days_late: c.avg_days_late, risk_score: c.risk_score, total_open: c.total_open,
        credit_limit: c.credit_limit});
      let seg = {rank: 1, name: 'standard'}, over = false;
      for (const e of events) {
        if (e.type === 'over_limit') over = true;
        else if (e.params.rank > seg.rank) seg = e.params;
      }
      return {segment: seg.name, over};
    },
    async invoice(c, i) {
      const {events} = await invoice.run({disputed: i.disputed, promise_active: c.promise_active,
        days_past_due: i.days_past_due, balance: i.balance});
      let step = null;
      for (const e of events) if (step === null || e.params.days > step) step = e.params.days;
      return step;
    },
  };
}

// ---- zen-engine: two decision tables (hit policy "first") ----------------
function table(name, inputs, outputs, rows) {
  const cols = [...inputs, ...outputs];
  return {
    contentType: 'application/vnd.gorules.decision',
    nodes: [
      {id: 'in', type: 'inputNode', name: 'Request', position: {x: 0, y: 0}},
      {id: 'table', type: 'decisionTableNode', name, position: {x: 200, y: 0}, content: {
        hitPolicy: 'first',
        inputs: inputs.map((f) => ({id: f, name: f, type: 'expression', field: f})),
        outputs: outputs.map((f) => ({id: f, name: f, type: 'expression', field: f})),
        rules: rows.map((r, k) => Object.fromEntries([['_id', `r${k}`], ...cols.map((f, j) => [f, r[j]])])),
      }},
      {id: 'out', type: 'outputNode', name: 'Response', position: {x: 400, y: 0}},
    ],
    edges: [{id: 'e1', type: 'edge', sourceId: 'in', targetId: 'table'},
            {id: 'e2', type: 'edge', sourceId: 'table', targetId: 'out'}],
  };
}

function zenEngines() {
  const {ZenEngine} = require('@gorules/zen-engine');
  const engine = new ZenEngine();
  const customer = engine.createDecision(table('customer',
    ['tier', 'total_overdue', 'avg_days_late', 'risk_score', 'credit_limit != null and total_open > credit_limit'],
    ['segment', 'over'], [
      ['"strategic"', '', '', '', '', '"strategic"', ''],
      ['', '>= 5000000', '', '', '', '"strategic"', ''],
      ['', '', '> 20', '', '', '"high_risk"', ''],
      ['', '', '', '>= 0.7', '', '"high_risk"', ''],
      ['', '', '', '', '', '"standard"', ''],
    ]));
  // over_limit is its own table: "first" stops at the segment row.
  const over = engine.createDecision(table('over_limit',
    ['credit_limit != null and total_open > credit_limit'], ['over'], [['true', 'true'], ['', 'false']]));
  const rows = [['true', '', '', 'null']];
  for (const days of STEPS) rows.push(['', `>= ${days}`, days === 60 ? '>= 50000' : '', String(days)]);
  rows.push(['', '', '', 'null']);
  const invoice = engine.createDecision(table('invoice',
    ['disputed or promise_active', 'days_past_due', 'balance'], ['step'], rows));
  return {
    async customer(c) {
      const input = {tier: c.tier, total_overdue: c.total_overdue, avg_days_late: c.avg_days_late,
        risk_score: c.risk_score, total_open: c.total_open, credit_limit: c.credit_limit};
      const [s, o] = await Promise.all([customer.evaluate(input), over.evaluate(input)]);
      return {segment: s.result.segment, over: o.result.over};
    },
    async invoice(c, i) {
      const r = await invoice.evaluate({disputed: i.disputed, promise_active: c.promise_active,
        days_past_due: i.days_past_due, balance: i.balance});
      return r.result.step;
    },
  };
}

async function main() {
  const {customers, invoices} = loadFacts(factsPath);
  const e = mode === 'zen' ? zenEngines() : rulesEngines();
  const seg = new Array(customers.length), over = new Array(customers.length);
  const step = new Array(invoices.length);
  const t0 = process.hrtime.bigint();
  for (let r = 0; r < repeat; r++) {
    for (let ci = 0; ci < customers.length; ci++) {
      const c = customers[ci];
      const d = await e.customer(c);
      seg[ci] = d.segment; over[ci] = d.over;
      for (let k = c.first; k < c.first + c.n; k++) step[k] = await e.invoice(c, invoices[k]);
    }
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log((invoices.length * repeat / secs).toFixed(0));
  const out = [];
  customers.forEach((c, ci) => {
    for (let k = c.first; k < c.first + c.n; k++)
      out.push(`${invoices[k].id} ${seg[ci]} ${step[k] == null ? 'none' : step[k]}`);
    out.push(`${c.id} over_limit ${over[ci] ? 1 : 0}`);
  });
  fs.writeFileSync(outPath, out.join('\n') + '\n');
}

main().catch((err) => { console.error(err); process.exit(1); });
