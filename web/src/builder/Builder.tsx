// The rule tree editor: rules of conditions and nested AND/OR/NOT groups, each condition an
// indicator (from the server's registry, parameters held to their ranges) compared with a
// number, a range or another indicator. Problems the API found are shown at the node they point
// to (errs: JSON Pointer -> messages).
import { useQuery } from "@tanstack/react-query";
import { get } from "../api";
import {
  condition,
  group,
  indicator,
  num,
  OPERATOR_TEXT,
  OPERATORS,
  type Condition,
  type Group,
  type Logic,
  type Node,
  type Operand,
  type Operator,
  type Rule,
  type Value,
} from "./model";

export type IndicatorInfo = {
  name: string;
  title: string;
  params: { name: string; default: number; min: number; max: number; integer: boolean }[];
  outputs: string[];
  inputs: string[];
};

export function useIndicators() {
  return useQuery({
    queryKey: ["indicators"],
    staleTime: Infinity,
    queryFn: async () => (await get<{ items: IndicatorInfo[] }>("/indicators")).items,
  });
}

export type Errors = Map<string, string[]>;

/** Messages at pointer p itself, or below it but not inside a nested condition list. */
function errorsAt(errs: Errors, p: string, own = false): string[] {
  const out: string[] = [];
  for (const [k, v] of errs) {
    if (k === p) out.push(...v);
    else if (!own && k.startsWith(`${p}/`) && !k.slice(p.length).startsWith("/conditions")) out.push(...v.map((m) => `${k.slice(p.length + 1)}: ${m}`));
  }
  return out;
}

function Problems({ list }: { list: string[] }) {
  if (!list.length) return null;
  return (
    <ul className="node-errors" role="alert">
      {list.map((m, i) => (
        <li key={i}>{m}</li>
      ))}
    </ul>
  );
}

const find = (reg: IndicatorInfo[], name: string) => reg.find((i) => i.name.toLowerCase() === name.toLowerCase());

function OperandEditor({ o, reg, onChange, label }: { o: Operand; reg: IndicatorInfo[]; onChange: (o: Operand) => void; label: string }) {
  const name = o.kind === "price" ? o.price : o.indicator;
  const info = find(reg, name);
  const choose = (n: string) => {
    const i = find(reg, n);
    const params = i?.params.length ? Object.fromEntries(i.params.map((p) => [p.name, p.default])) : undefined;
    // Indicators with parameters read as the docs write them (RSI), price fields as they are (close).
    const shown = i && i.params.length ? i.name.toUpperCase() : (i?.name ?? n);
    onChange({ ...indicator(shown, params), ...(o.offset ? { offset: o.offset } : {}) } as Operand);
  };
  return (
    <span className="operand">
      <select aria-label={`${label}: indicator`} value={info?.name ?? name} onChange={(e) => choose(e.target.value)}>
        {!info && <option value={name}>{name}</option>}
        {reg.map((i) => (
          <option key={i.name} value={i.name}>
            {i.params.length ? i.name.toUpperCase() : i.name} — {i.title}
          </option>
        ))}
      </select>
      {o.kind === "indicator" &&
        info?.params.map((p) => (
          <label key={p.name} className="param">
            <span>{p.name}</span>
            <input
              type="number"
              aria-label={`${label}: ${p.name}`}
              min={p.min}
              max={p.max}
              step={p.integer ? 1 : "any"}
              value={o.params?.[p.name] ?? p.default}
              onChange={(e) => onChange({ ...o, params: { ...(o.params ?? {}), [p.name]: e.target.value === "" ? p.default : Number(e.target.value) } })}
            />
          </label>
        ))}
      {o.kind === "indicator" && info && info.outputs.length > 1 && (
        <select aria-label={`${label}: output`} value={o.output ?? info.outputs[0]} onChange={(e) => onChange({ ...o, output: e.target.value })}>
          {info.outputs.map((x) => (
            <option key={x}>{x}</option>
          ))}
        </select>
      )}
      <label className="param" title="Candles back: 0 is the current one">
        <span>back</span>
        <input
          type="number"
          aria-label={`${label}: candles back`}
          min={0}
          max={10000}
          step={1}
          value={o.offset ?? 0}
          onChange={(e) => {
            const v = Number(e.target.value);
            const { offset: _drop, ...rest } = o;
            void _drop;
            onChange(v > 0 ? ({ ...rest, offset: v } as Operand) : (rest as Operand));
          }}
        />
      </label>
    </span>
  );
}

function ValueEditor({ c, reg, onChange }: { c: Condition; reg: IndicatorInfo[]; onChange: (v: Value) => void }) {
  if (c.operator === "between") {
    const r = c.value.kind === "range" ? c.value : { kind: "range" as const, low: 0, high: 0 };
    return (
      <span className="operand">
        <input type="number" aria-label="low" step="any" value={r.low} onChange={(e) => onChange({ ...r, low: Number(e.target.value) })} /> and{" "}
        <input type="number" aria-label="high" step="any" value={r.high} onChange={(e) => onChange({ ...r, high: Number(e.target.value) })} />
      </span>
    );
  }
  const kind = c.value.kind === "operand" ? "operand" : "number";
  return (
    <span className="operand">
      <select
        aria-label="compared with"
        value={kind}
        onChange={(e) => onChange(e.target.value === "number" ? num(0) : { kind: "operand", operand: indicator("close") })}
      >
        <option value="number">a number</option>
        <option value="operand">an indicator</option>
      </select>
      {c.value.kind === "operand" ? (
        <OperandEditor o={c.value.operand} reg={reg} label="value" onChange={(operand) => onChange({ kind: "operand", operand })} />
      ) : (
        <input
          type="number"
          aria-label="value"
          step="any"
          value={c.value.kind === "number" ? c.value.value : 0}
          onChange={(e) => onChange(num(Number(e.target.value)))}
        />
      )}
    </span>
  );
}

function ConditionEditor({ c, reg, at, errs, onChange, onRemove }: { c: Condition; reg: IndicatorInfo[]; at: string; errs: Errors; onChange: (n: Node) => void; onRemove?: () => void }) {
  return (
    <div className="cond" data-pointer={at}>
      <OperandEditor o={c.left} reg={reg} label="indicator" onChange={(left) => onChange({ ...c, left })} />
      <select
        aria-label="operator"
        value={c.operator.toLowerCase()}
        onChange={(e) => {
          const operator = e.target.value as Operator;
          const value: Value = operator === "between" ? { kind: "range", low: 0, high: 100 } : c.value.kind === "range" ? num(0) : c.value;
          onChange({ ...c, operator, value });
        }}
      >
        {OPERATORS.map((op) => (
          <option key={op} value={op}>
            {OPERATOR_TEXT[op]}
          </option>
        ))}
      </select>
      <ValueEditor c={c} reg={reg} onChange={(value) => onChange({ ...c, value })} />
      {onRemove && (
        <button type="button" className="link danger" onClick={onRemove} aria-label="Remove this condition">
          ✕
        </button>
      )}
      <Problems list={errorsAt(errs, at)} />
    </div>
  );
}

function NodesEditor({ nodes, reg, at, errs, onChange }: { nodes: Node[]; reg: IndicatorInfo[]; at: string; errs: Errors; onChange: (n: Node[]) => void }) {
  const set = (i: number, n: Node) => onChange(nodes.map((x, k) => (k === i ? n : x)));
  const remove = nodes.length > 1 ? (i: number) => onChange(nodes.filter((_, k) => k !== i)) : undefined;
  return (
    <div className="nodes">
      {nodes.map((n, i) =>
        n.type === "group" ? (
          <GroupEditor key={n.key} g={n} reg={reg} at={`${at}/${i}`} errs={errs} onChange={(x) => set(i, x)} onRemove={remove && (() => remove(i))} />
        ) : (
          <ConditionEditor key={n.key} c={n} reg={reg} at={`${at}/${i}`} errs={errs} onChange={(x) => set(i, x)} onRemove={remove && (() => remove(i))} />
        ),
      )}
      <div className="node-actions">
        <button type="button" onClick={() => onChange([...nodes, condition(indicator("RSI", { period: 14 }), "less_than", num(30))])}>
          + Condition
        </button>
        <button type="button" onClick={() => onChange([...nodes, group("OR", [condition(indicator("close"), "greater_than", { kind: "operand", operand: indicator("SMA", { period: 200 }) })])])}>
          + Group
        </button>
      </div>
      <Problems list={errorsAt(errs, at, true)} />
    </div>
  );
}

function LogicSelect({ value, onChange, label }: { value: Logic; onChange: (l: Logic) => void; label: string }) {
  return (
    <select aria-label={label} value={value.toUpperCase()} onChange={(e) => onChange(e.target.value as Logic)}>
      <option value="AND">all of (AND)</option>
      <option value="OR">any of (OR)</option>
      <option value="NOT">none of (NOT)</option>
    </select>
  );
}

function GroupEditor({ g, reg, at, errs, onChange, onRemove }: { g: Group; reg: IndicatorInfo[]; at: string; errs: Errors; onChange: (n: Node) => void; onRemove?: () => void }) {
  return (
    <fieldset className={`group logic-${g.logic.toLowerCase()}`} data-pointer={at}>
      <legend>
        <LogicSelect label="group logic" value={g.logic} onChange={(logic) => onChange({ ...g, logic })} />
        {onRemove && (
          <button type="button" className="link danger" onClick={onRemove} aria-label="Remove this group">
            ✕
          </button>
        )}
      </legend>
      <Problems list={errorsAt(errs, `${at}/logic`, true)} />
      <NodesEditor nodes={g.conditions} reg={reg} at={`${at}/conditions`} errs={errs} onChange={(conditions) => onChange({ ...g, conditions })} />
    </fieldset>
  );
}

export function RuleEditor({ r, reg, at, errs, onChange, onRemove, kind }: { r: Rule; reg: IndicatorInfo[]; at: string; errs: Errors; onChange: (r: Rule) => void; onRemove?: () => void; kind: string }) {
  return (
    <fieldset className="rule" data-pointer={at}>
      <legend>
        <input aria-label={`${kind} rule name`} placeholder={`${kind} rule`} value={r.name ?? ""} onChange={(e) => onChange({ ...r, name: e.target.value || undefined })} />
        <span className="muted small">{r.signal}</span>
        {onRemove && (
          <button type="button" className="link danger" onClick={onRemove}>
            Remove rule
          </button>
        )}
      </legend>
      <p className="small">
        {kind === "Entry" ? "Buy" : "Sell"} when{" "}
        <LogicSelect label={`${kind} rule logic`} value={r.logic ?? "AND"} onChange={(logic) => onChange({ ...r, logic })} /> these hold:
      </p>
      <Problems list={errorsAt(errs, at, true).concat(["id", "name", "signal", "logic"].flatMap((k) => errorsAt(errs, `${at}/${k}`, true)))} />
      <NodesEditor nodes={r.conditions} reg={reg} at={`${at}/conditions`} errs={errs} onChange={(conditions) => onChange({ ...r, conditions })} />
    </fieldset>
  );
}
