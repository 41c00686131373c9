import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe as suite, expect, it } from "vitest";
import {
  blankStrategy,
  condition,
  describe,
  DocumentError,
  fromDocument,
  group,
  indicator,
  num,
  toDocument,
  type Node,
  type Operand,
  type Strategy,
} from "./model";

const examples = join(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "../../../examples");
const load = (f: string) => JSON.parse(readFileSync(join(examples, f), "utf8"));

suite("documents round-trip through the builder", () => {
  for (const f of readdirSync(examples).filter((x) => x.endsWith(".json"))) {
    it(`examples/${f} comes back as it was`, () => {
      const doc = load(f);
      expect(toDocument(fromDocument(doc))).toEqual(doc);
      // and a second pass changes nothing either
      expect(toDocument(fromDocument(toDocument(fromDocument(doc))))).toEqual(doc);
    });
  }

  it("keeps what the user left out out, and the spec's own names", () => {
    const doc = {
      name: "n",
      asset_symbol: "BTC/USDT",
      timeframe: "1h",
      rules: [
        {
          signal: "buy",
          conditions: [
            { price: "close", offset: 1, operator: "crosses_above", value: { indicator: "sma", params: { period: 20 } } },
            { logic: "not", conditions: [{ indicator: "RSI", operator: "between", value: [40, 60] }] },
            { indicator: "close", operator: "equals", value: 100, tolerance: 0.5 },
          ],
        },
      ],
      entry_rules: [],
      exit_rules: [],
      backtest: { initial_capital: 5000 },
      risk_management: { stop_loss_pct: 2, trailing: true },
    };
    const back = toDocument(fromDocument(doc));
    expect(back).toEqual(doc);
    expect(Object.keys(back)).toContain("asset_symbol");
    expect(Object.keys(back)).not.toContain("asset");
  });
});

suite("the builder's tree is the document the engine reads", () => {
  it("RSI < 30 AND (close > SMA(200) OR NOT volume < 1000), written by hand", () => {
    const s: Strategy = blankStrategy("ORCL", "1d");
    s.rules[0].conditions = [
      condition(indicator("RSI", { period: 14 }), "less_than", num(30)),
      group("OR", [
        condition({ kind: "price", price: "close" }, "greater_than", { kind: "operand", operand: indicator("SMA", { period: 200 }) }),
        group("NOT", [condition(indicator("volume"), "less_than", num(1000))]),
      ]),
    ];
    const doc = toDocument(s) as { rules: { conditions: unknown }[] };
    expect(doc.rules[0].conditions).toEqual([
      { indicator: "RSI", params: { period: 14 }, operator: "less_than", value: 30 },
      {
        logic: "OR",
        conditions: [
          { price: "close", operator: "greater_than", value: { indicator: "SMA", params: { period: 200 } } },
          { logic: "NOT", conditions: [{ indicator: "volume", operator: "less_than", value: 1000 }] },
        ],
      },
    ]);
    expect(describe(s.rules[0].conditions[1])).toBe("(close > SMA(200) OR NOT (volume < 1000))");
    expect(toDocument(s)).toMatchObject({ asset: "ORCL", timeframe: "1d", entry_rules: ["entry"], exit_rules: ["exit"] });
  });

  it("MACD's second output and an offset read as the user wrote them", () => {
    const c = condition(indicator("MACD", { fast: 12, slow: 26, signal: 9 }, "macd"), "crosses_above", {
      kind: "operand",
      operand: { ...indicator("MACD", { fast: 12, slow: 26, signal: 9 }, "signal"), offset: 1 } as Operand,
    });
    expect(describe(c)).toBe("MACD(12, 26, 9).macd crosses above MACD(12, 26, 9).signal [1 back]");
  });
});

suite("documents that do not fit say where", () => {
  const base = () => load("rsi_mean_reversion.json");
  const cases: [string, (d: Record<string, any>) => void, string][] = [
    ["not an object", () => undefined, ""],
    ["no name", (d) => delete d.name, "/name"],
    ["rules not a list", (d) => (d.rules = {}), "/rules"],
    ["a signal that is none", (d) => (d.rules[0].signal = "MAYBE"), "/rules/0/signal"],
    ["an unknown operator", (d) => (d.rules[1].conditions[0].operator = "bigger"), "/rules/1/conditions/0/operator"],
    ["empty conditions", (d) => (d.rules[0].conditions = []), "/rules/0/conditions"],
    ["a text value", (d) => (d.rules[0].conditions[0].value = "30"), "/rules/0/conditions/0/value"],
    ["a text parameter", (d) => (d.rules[0].conditions[0].params.period = "14"), "/rules/0/conditions/0/params/period"],
  ];
  for (const [what, change, pointer] of cases) {
    it(what, () => {
      const d = base();
      change(d);
      const input = what === "not an object" ? [d] : d;
      try {
        fromDocument(input);
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(DocumentError);
        expect((e as DocumentError).pointer).toBe(pointer);
      }
    });
  }
});

suite("random trees", () => {
  // A seeded generator: the same trees every run.
  let seed = 42;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  const operand = (): Operand =>
    rnd(3) === 0
      ? { kind: "price", price: ["open", "high", "low", "close"][rnd(4)], ...(rnd(2) ? { offset: rnd(5) } : {}) }
      : indicator(["RSI", "SMA", "EMA", "close"][rnd(4)], rnd(2) ? { period: 2 + rnd(50) } : undefined, rnd(3) === 0 ? "x" : undefined);
  const node = (depth: number): Node => {
    if (depth < 3 && rnd(3) === 0) return group((["AND", "OR", "NOT"] as const)[rnd(3)], Array.from({ length: 1 + rnd(3) }, () => node(depth + 1)));
    const k = rnd(3);
    return condition(operand(), (["less_than", "between", "crosses_above"] as const)[k], k === 1 ? { kind: "range", low: rnd(10), high: 10 + rnd(10) } : rnd(2) ? num(rnd(100)) : { kind: "operand", operand: operand() });
  };
  it("200 of them: document -> model -> document is the same document", () => {
    for (let i = 0; i < 200; i++) {
      const s = blankStrategy();
      s.rules[0].conditions = Array.from({ length: 1 + rnd(3) }, () => node(0));
      const doc = toDocument(s);
      expect(toDocument(fromDocument(JSON.parse(JSON.stringify(doc))))).toEqual(doc);
    }
  });
});
