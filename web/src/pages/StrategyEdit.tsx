// Create or edit a strategy without writing JSON: pair and timeframe, entry and exit rules in the
// builder, risk settings; or the JSON itself, which round-trips with the builder. The API's
// validation problems appear at the field or node they point to.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useMemo, useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { api, ApiError, get } from "../api";
import { RuleEditor, useIndicators, type Errors } from "../builder/Builder";
import { blankStrategy, describe, DocumentError, freshId, fromDocument, newKey, toDocument, type Rule, type Strategy as Model } from "../builder/model";
import { Card, ErrorBox, Loading } from "../components/ui";
import type { Page, Strategy, SymbolInfo } from "../types";

const TIMEFRAMES = ["1m", "5m", "15m", "30m", "1h", "4h", "1d", "1w"];

type StrategyFull = Strategy & { definition: unknown };

function pointerErrors(e: unknown): Errors {
  const m: Errors = new Map();
  if (e instanceof ApiError)
    for (const x of e.errors as { field: string; pointer?: string; message: string }[]) {
      const p = x.pointer ?? `/${x.field}`;
      m.set(p, [...(m.get(p) ?? []), x.message]);
    }
  return m;
}

function FieldProblems({ errs, at }: { errs: Errors; at: string[] }) {
  const list = at.flatMap((p) => [...errs].filter(([k]) => k === p || k.startsWith(`${p}/`)).flatMap(([, v]) => v));
  return list.length ? (
    <small className="field-error" role="alert">
      {list.join("; ")}
    </small>
  ) : null;
}

export function StrategyEdit() {
  const { id } = useParams();
  const nav = useNavigate();
  const qc = useQueryClient();
  const reg = useIndicators();
  const symbols = useQuery({ queryKey: ["symbols"], queryFn: () => get<Page<SymbolInfo>>("/market/symbols") });
  const existing = useQuery({ queryKey: ["strategy", id], enabled: !!id, queryFn: () => get<StrategyFull>(`/strategies/${id}`) });
  const [s, setS] = useState<Model | null>(id ? null : blankStrategy());
  const [tab, setTab] = useState<"builder" | "json">("builder");
  const [json, setJson] = useState("");
  const [jsonError, setJsonError] = useState<string | null>(null);
  const [errs, setErrs] = useState<Errors>(new Map());

  useEffect(() => {
    if (existing.data && !s) {
      try {
        setS(fromDocument(existing.data.definition));
      } catch (e) {
        setJsonError(String(e instanceof Error ? e.message : e));
      }
    }
  }, [existing.data, s]);

  const save = useMutation({
    mutationFn: (doc: unknown) => (id ? api<Strategy>("PUT", `/strategies/${id}`, doc) : api<Strategy>("POST", "/strategies", doc)),
    onSuccess: async (saved) => {
      setErrs(new Map());
      await qc.invalidateQueries({ queryKey: ["strategies"] });
      await qc.invalidateQueries({ queryKey: ["strategy", saved.id] });
      nav(`/strategies/${saved.id}`, { replace: true, state: { saved: true } });
    },
    onError: (e) => setErrs(pointerErrors(e)),
  });

  const doc = useMemo(() => (s ? toDocument(s) : null), [s]);
  if ((id && existing.isPending) || reg.isPending) return <Loading what="Loading the strategy" />;
  if (existing.error) return <ErrorBox error={existing.error} />;
  if (!s) return <ErrorBox error={jsonError ?? "this strategy's document does not fit the builder"} />;

  const update = (f: (m: Model) => void) =>
    setS((prev) => {
      const next = structuredClone(prev!);
      f(next);
      return next;
    });
  const registry = reg.data ?? [];
  const stored = symbols.data?.items ?? [];
  const ruleIndex = (r: Rule) => s.rules.indexOf(r);
  const section = (kind: "Entry" | "Exit") => {
    const ids = kind === "Entry" ? s.entry : s.exit;
    const rules = s.rules.filter((r) => r.id !== undefined && ids.includes(r.id));
    return (
      <Card
        title={`${kind} rules`}
        actions={
          <button
            type="button"
            onClick={() =>
              update((m) => {
                const rid = freshId(m, kind.toLowerCase());
                const base = blankStrategy().rules[kind === "Entry" ? 0 : 1];
                m.rules.push({ ...base, key: newKey(), id: rid, name: `${kind} ${rid.split("_")[1]}` });
                (kind === "Entry" ? m.entry : m.exit).push(rid);
              })
            }
          >
            + {kind} rule
          </button>
        }
      >
        <p className="muted small">{kind === "Entry" ? "A position opens when any entry rule holds." : "It closes when any exit rule holds (or a stop or target is hit)."}</p>
        <FieldProblems errs={errs} at={[kind === "Entry" ? "/entry_rules" : "/exit_rules"]} />
        {rules.map((r) => {
          const i = ruleIndex(r);
          return (
            <RuleEditor
              key={r.key}
              kind={kind}
              r={r}
              reg={registry}
              at={`/rules/${i}`}
              errs={errs}
              onChange={(x) => update((m) => void (m.rules[i] = x))}
              onRemove={
                rules.length > 1
                  ? () =>
                      update((m) => {
                        m.rules.splice(i, 1);
                        m.entry = m.entry.filter((x) => x !== r.id);
                        m.exit = m.exit.filter((x) => x !== r.id);
                      })
                  : undefined
              }
            />
          );
        })}
      </Card>
    );
  };
  const risk = (k: keyof NonNullable<Model["risk"]>, label: string, hint: string, max: number) => (
    <div className="field">
      <label htmlFor={`risk-${k}`}>{label}</label>
      <input
        id={`risk-${k}`}
        type="number"
        min={0}
        max={max}
        step="any"
        value={s.risk?.[k] ?? ""}
        placeholder="none"
        onChange={(e) =>
          update((m) => {
            m.risk = { ...(m.risk ?? {}) };
            if (e.target.value === "") delete m.risk[k];
            else m.risk[k] = Number(e.target.value);
          })
        }
      />
      <small className="muted">{hint}</small>
      <FieldProblems errs={errs} at={[`/risk_management/${k}`]} />
    </div>
  );

  return (
    <div className="page">
      <h1>{id ? `Edit “${s.name}”` : "New strategy"}</h1>
      <ErrorBox error={save.error && !(save.error instanceof ApiError && save.error.errors.length) ? save.error : null} />
      {errs.size > 0 && (
        <div className="error" role="alert">
          The server found {errs.size === 1 ? "a problem" : `${errs.size} problems`}; each is shown where it is.
        </div>
      )}
      <Card>
        <div className="row4">
          <div className="field">
            <label htmlFor="s-name">Name</label>
            <input id="s-name" value={s.name} onChange={(e) => update((m) => void (m.name = e.target.value))} />
            <FieldProblems errs={errs} at={["/name"]} />
          </div>
          <div className="field">
            <label htmlFor="s-asset">Pair or symbol</label>
            <input id="s-asset" list="stored-symbols" value={s.asset} onChange={(e) => update((m) => void (m.asset = e.target.value))} />
            <datalist id="stored-symbols">
              {stored.map((x) => (
                <option key={x.symbol} value={x.symbol} />
              ))}
            </datalist>
            <FieldProblems errs={errs} at={["/asset", "/asset_symbol"]} />
          </div>
          <div className="field">
            <label htmlFor="s-tf">Timeframe</label>
            <select id="s-tf" value={s.timeframe} onChange={(e) => update((m) => void (m.timeframe = e.target.value))}>
              {[...new Set([s.timeframe, ...TIMEFRAMES])].map((t) => (
                <option key={t}>{t}</option>
              ))}
            </select>
            <FieldProblems errs={errs} at={["/timeframe"]} />
          </div>
        </div>
        <div className="field">
          <label htmlFor="s-desc">Description</label>
          <input id="s-desc" value={s.description ?? ""} onChange={(e) => update((m) => void (m.description = e.target.value || undefined))} />
        </div>
      </Card>
      <div className="seg tabs" role="tablist" aria-label="Edit as">
        <button type="button" role="tab" aria-selected={tab === "builder"} aria-pressed={tab === "builder"} onClick={() => setTab("builder")}>
          Builder
        </button>
        <button
          type="button"
          role="tab"
          aria-selected={tab === "json"}
          aria-pressed={tab === "json"}
          onClick={() => {
            setJson(JSON.stringify(doc, null, 2));
            setJsonError(null);
            setTab("json");
          }}
        >
          JSON
        </button>
      </div>
      {tab === "builder" ? (
        <>
          {section("Entry")}
          {section("Exit")}
          <Card title="Risk">
            <div className="row4">
              {risk("stop_loss_pct", "Stop-loss %", "below the entry price", 100)}
              {risk("take_profit_pct", "Take-profit %", "above the entry price", 1000)}
              {risk("max_position_size", "Position size", "fraction of equity per entry, 0-1", 1)}
              {risk("max_drawdown_pct", "Halt after drawdown %", "stops trading", 100)}
            </div>
          </Card>
          <Card title="In words">
            <ul className="small">
              {s.rules.map((r) => (
                <li key={r.key}>
                  <strong>{s.entry.includes(r.id ?? "") ? "Buy" : s.exit.includes(r.id ?? "") ? "Sell" : r.signal}</strong> when{" "}
                  {r.conditions.map(describe).join(` ${r.logic === "NOT" ? "NOR" : (r.logic ?? "AND")} `)}
                </li>
              ))}
            </ul>
          </Card>
        </>
      ) : (
        <Card title="Strategy document (JSON)">
          <textarea aria-label="Strategy JSON" className="json" spellCheck={false} rows={24} value={json} onChange={(e) => setJson(e.target.value)} />
          {jsonError && (
            <div className="error" role="alert">
              {jsonError}
            </div>
          )}
          <button
            type="button"
            onClick={() => {
              try {
                setS(fromDocument(JSON.parse(json)));
                setJsonError(null);
                setTab("builder");
              } catch (e) {
                setJsonError(e instanceof DocumentError ? e.message : `Not JSON: ${e instanceof Error ? e.message : e}`);
              }
            }}
          >
            Use this JSON
          </button>
        </Card>
      )}
      <div className="actions">
        <button type="button" className="primary" disabled={save.isPending} onClick={() => save.mutate(tab === "json" ? safeParse(json) ?? doc : doc)}>
          {save.isPending ? "Saving…" : id ? "Save a new version" : "Create the strategy"}
        </button>
        <Link to={id ? `/strategies/${id}` : "/strategies"}>Cancel</Link>
      </div>
    </div>
  );
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
