// The strategy builder's model and the strategy document (the API's JSON, src/core/rule/rule.h)
// in both directions. fromDocument(toDocument(m)) is m and toDocument(fromDocument(d)) is d for
// every document the server accepts, so the JSON view and the builder can be switched freely:
// optional fields the user left out stay out, {"price": "close"} stays a price, top-level fields
// the builder does not edit (backtest settings, ids) are kept as they were.

export type Logic = "AND" | "OR" | "NOT";
export type Signal = "BUY" | "SELL" | "HOLD";
export const OPERATORS = [
  "less_than",
  "greater_than",
  "less_equal",
  "greater_equal",
  "equals",
  "between",
  "crosses_above",
  "crosses_below",
] as const;
export type Operator = (typeof OPERATORS)[number];
export const OPERATOR_TEXT: Record<Operator, string> = {
  less_than: "<",
  greater_than: ">",
  less_equal: "≤",
  greater_equal: "≥",
  equals: "=",
  between: "between",
  crosses_above: "crosses above",
  crosses_below: "crosses below",
};
export const PRICES = ["open", "high", "low", "close", "volume"] as const;

export type Operand =
  | { kind: "indicator"; indicator: string; params?: Record<string, number>; output?: string; offset?: number }
  | { kind: "price"; price: string; offset?: number };

export type Value = { kind: "number"; value: number } | { kind: "range"; low: number; high: number } | { kind: "operand"; operand: Operand };

export type Condition = { type: "condition"; key: string; left: Operand; operator: Operator; value: Value; tolerance?: number };
export type Group = { type: "group"; key: string; logic: Logic; conditions: Node[] };
export type Node = Condition | Group;

export type Rule = { key: string; id?: string; name?: string; signal: Signal; logic?: Logic; conditions: Node[] };

export type Risk = { stop_loss_pct?: number; take_profit_pct?: number; max_position_size?: number; max_drawdown_pct?: number };

export type Strategy = {
  name: string;
  description?: string;
  asset: string;
  timeframe: string;
  rules: Rule[];
  entry: string[]; // rule ids
  exit: string[];
  risk?: Risk;
  rest: Record<string, unknown>; // other top-level fields, as they came
};

type Json = Record<string, unknown>;
let serial = 0;
/** A key for React lists: stable for a node's life, never written to the document. */
export const newKey = () => `n${++serial}`;

// --- building blocks the builder's buttons use ---

export function indicator(name: string, params?: Record<string, number>, output?: string): Operand {
  const o: Operand = { kind: "indicator", indicator: name };
  if (params) o.params = params;
  if (output) o.output = output;
  return o;
}

export function condition(left: Operand, operator: Operator, value: Value): Condition {
  return { type: "condition", key: newKey(), left, operator, value };
}

export function group(logic: Logic, conditions: Node[]): Group {
  return { type: "group", key: newKey(), logic, conditions };
}

export const num = (value: number): Value => ({ kind: "number", value });

// --- model -> document ---

function operandJson(o: Operand): Json {
  const j: Json = o.kind === "price" ? { price: o.price } : { indicator: o.indicator };
  if (o.kind === "indicator" && o.params !== undefined) j.params = { ...o.params };
  if (o.kind === "indicator" && o.output !== undefined) j.output = o.output;
  if (o.offset !== undefined) j.offset = o.offset;
  return j;
}

function nodeJson(n: Node): Json {
  if (n.type === "group") return { logic: n.logic, conditions: n.conditions.map(nodeJson) };
  // The left side is written inline: {"indicator": ..., "params": ..., "operator": ..., "value": ...}
  const j: Json = operandJson(n.left);
  j.operator = n.operator;
  j.value = n.value.kind === "number" ? n.value.value : n.value.kind === "range" ? [n.value.low, n.value.high] : operandJson(n.value.operand);
  if (n.tolerance !== undefined) j.tolerance = n.tolerance;
  return j;
}

export function ruleJson(r: Rule): Json {
  const j: Json = {};
  if (r.id !== undefined) j.id = r.id;
  if (r.name !== undefined) j.name = r.name;
  j.signal = r.signal;
  if (r.logic !== undefined) j.logic = r.logic;
  j.conditions = r.conditions.map(nodeJson);
  return j;
}

/** The document: the asset under the key it came with ("asset", or the spec's "asset_symbol"). */
export function toDocument(s: Strategy): Json {
  const { __asset_key, ...rest } = s.rest as Json & { __asset_key?: string };
  const j: Json = { ...rest, name: s.name };
  if (s.description !== undefined) j.description = s.description;
  j[__asset_key === "asset_symbol" ? "asset_symbol" : "asset"] = s.asset;
  j.timeframe = s.timeframe;
  j.rules = s.rules.map(ruleJson);
  j.entry_rules = [...s.entry];
  j.exit_rules = [...s.exit];
  if (s.risk !== undefined) j.risk_management = { ...(rest.risk_management as Json | undefined), ...s.risk };
  return j;
}

// --- document -> model ---

/** What does not fit the model, with where (a JSON Pointer): shown in the JSON view. */
export class DocumentError extends Error {
  constructor(
    readonly pointer: string,
    message: string,
  ) {
    super(`${pointer || "/"}: ${message}`);
  }
}

const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

function optNum(j: Json, k: string, at: string): number | undefined {
  if (j[k] === undefined) return undefined;
  if (!isNum(j[k])) throw new DocumentError(`${at}/${k}`, "must be a number");
  return j[k] as number;
}

function operandOf(j: Json, at: string): Operand {
  const offset = optNum(j, "offset", at);
  if (typeof j.price === "string") {
    const o: Operand = { kind: "price", price: j.price };
    if (offset !== undefined) o.offset = offset;
    return o;
  }
  if (typeof j.indicator !== "string" || !j.indicator) throw new DocumentError(`${at}/indicator`, "names an indicator or a price");
  const o: Operand = { kind: "indicator", indicator: j.indicator };
  if (j.params !== undefined) {
    if (!isObj(j.params)) throw new DocumentError(`${at}/params`, "must be an object of numbers");
    for (const [k, v] of Object.entries(j.params)) if (!isNum(v)) throw new DocumentError(`${at}/params/${k}`, "must be a number");
    o.params = { ...(j.params as Record<string, number>) };
  }
  if (j.output !== undefined) {
    if (typeof j.output !== "string") throw new DocumentError(`${at}/output`, "must be a string");
    o.output = j.output;
  }
  if (offset !== undefined) o.offset = offset;
  return o;
}

function logicOf(v: unknown, at: string): Logic {
  const s = typeof v === "string" ? v.toUpperCase() : "";
  if (s !== "AND" && s !== "OR" && s !== "NOT") throw new DocumentError(at, "must be AND, OR or NOT");
  return v as Logic;
}

function nodesOf(v: unknown, at: string): Node[] {
  if (!Array.isArray(v) || v.length === 0) throw new DocumentError(at, "must be a non-empty array");
  return v.map((c, i) => nodeOf(c, `${at}/${i}`));
}

function nodeOf(j: unknown, at: string): Node {
  if (!isObj(j)) throw new DocumentError(at, "must be an object");
  if (j.conditions !== undefined && j.operator === undefined)
    return { type: "group", key: newKey(), logic: j.logic === undefined ? "AND" : logicOf(j.logic, `${at}/logic`), conditions: nodesOf(j.conditions, `${at}/conditions`) };
  const op = typeof j.operator === "string" ? (j.operator.toLowerCase() as Operator) : undefined;
  if (!op || !OPERATORS.includes(op)) throw new DocumentError(`${at}/operator`, `must be one of ${OPERATORS.join(", ")}`);
  const left = operandOf(j, at);
  let value: Value;
  const v = j.value;
  if (isNum(v)) value = { kind: "number", value: v };
  else if (Array.isArray(v) && v.length === 2 && isNum(v[0]) && isNum(v[1])) value = { kind: "range", low: v[0], high: v[1] };
  else if (isObj(v)) value = { kind: "operand", operand: operandOf(v, `${at}/value`) };
  else throw new DocumentError(`${at}/value`, "must be a number, [low, high] or an indicator");
  const c: Condition = { type: "condition", key: newKey(), left, operator: j.operator as Operator, value };
  const tol = optNum(j, "tolerance", at);
  if (tol !== undefined) c.tolerance = tol;
  return c;
}

function ruleOf(j: unknown, at: string): Rule {
  if (!isObj(j)) throw new DocumentError(at, "must be a rule object");
  const sig = typeof j.signal === "string" ? j.signal.toUpperCase() : "";
  if (sig !== "BUY" && sig !== "SELL" && sig !== "HOLD") throw new DocumentError(`${at}/signal`, "must be BUY, SELL or HOLD");
  const r: Rule = { key: newKey(), signal: j.signal as Signal, conditions: [] };
  if (j.id !== undefined) r.id = String(j.id);
  if (j.name !== undefined) r.name = String(j.name);
  if (j.logic !== undefined) r.logic = logicOf(j.logic, `${at}/logic`);
  r.conditions = nodesOf(j.conditions, `${at}/conditions`);
  return r;
}

function ids(v: unknown, at: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) throw new DocumentError(at, "must be an array of rule ids");
  return [...v];
}

const RISK = ["stop_loss_pct", "take_profit_pct", "max_position_size", "max_drawdown_pct"] as const;

export function fromDocument(doc: unknown): Strategy {
  if (!isObj(doc)) throw new DocumentError("", "must be a JSON object");
  if (typeof doc.name !== "string") throw new DocumentError("/name", "is required");
  const asset = doc.asset ?? doc.asset_symbol;
  if (typeof asset !== "string") throw new DocumentError("/asset", "is required");
  if (typeof doc.timeframe !== "string") throw new DocumentError("/timeframe", "is required");
  if (!Array.isArray(doc.rules)) throw new DocumentError("/rules", "must be an array of rules");
  const { name, description, asset: _a, asset_symbol: _b, timeframe, rules, entry_rules, exit_rules, risk_management, ...rest } = doc;
  void _a;
  void _b;
  const s: Strategy = {
    name,
    asset,
    timeframe,
    rules: (rules as unknown[]).map((r, i) => ruleOf(r, `/rules/${i}`)),
    entry: ids(entry_rules, "/entry_rules"),
    exit: ids(exit_rules, "/exit_rules"),
    rest: doc.asset_symbol !== undefined && doc.asset === undefined ? { ...rest, __asset_key: "asset_symbol" } : rest,
  };
  if (description !== undefined) s.description = String(description);
  if (risk_management !== undefined) {
    if (!isObj(risk_management)) throw new DocumentError("/risk_management", "must be an object");
    const risk: Risk = {};
    const other: Json = {};
    for (const [k, v] of Object.entries(risk_management)) {
      if ((RISK as readonly string[]).includes(k)) {
        if (!isNum(v)) throw new DocumentError(`/risk_management/${k}`, "must be a number");
        risk[k as keyof Risk] = v;
      } else other[k] = v;
    }
    s.risk = risk;
    if (Object.keys(other).length) s.rest = { ...s.rest, risk_management: other };
  }
  return s;
}

/** A new strategy: one entry rule (BUY) and one exit rule (SELL), each with one condition. */
export function blankStrategy(asset = "ORCL", timeframe = "1d"): Strategy {
  return {
    name: "My strategy",
    asset,
    timeframe,
    rules: [
      { key: newKey(), id: "entry", name: "Entry", signal: "BUY", logic: "AND", conditions: [condition(indicator("RSI", { period: 14 }), "less_than", num(30))] },
      { key: newKey(), id: "exit", name: "Exit", signal: "SELL", logic: "AND", conditions: [condition(indicator("RSI", { period: 14 }), "greater_than", num(70))] },
    ],
    entry: ["entry"],
    exit: ["exit"],
    risk: {},
    rest: {},
  };
}

/** A rule id not yet used in s ("entry_2"). */
export function freshId(s: Strategy, base: string): string {
  const used = new Set(s.rules.map((r) => r.id));
  for (let i = 2; ; i++) if (!used.has(`${base}_${i}`)) return `${base}_${i}`;
}

/** Plain words for a condition: "RSI(14) < 30", "close crosses above EMA(100)". */
export function describeOperand(o: Operand): string {
  const off = o.offset ? ` [${o.offset} back]` : "";
  if (o.kind === "price") return `${o.price}${off}`;
  const p = o.params && Object.keys(o.params).length ? `(${Object.values(o.params).join(", ")})` : "";
  return `${o.indicator}${p}${o.output ? `.${o.output}` : ""}${off}`;
}

export function describe(n: Node): string {
  if (n.type === "group") {
    const inner = n.conditions.map(describe);
    return n.logic === "NOT" ? `NOT (${inner.join(" OR ")})` : `(${inner.join(` ${n.logic} `)})`;
  }
  const v = n.value.kind === "number" ? String(n.value.value) : n.value.kind === "range" ? `${n.value.low} and ${n.value.high}` : describeOperand(n.value.operand);
  return `${describeOperand(n.left)} ${OPERATOR_TEXT[n.operator] ?? n.operator} ${v}`;
}
