// Profile (name, timezone, preferred currency) and broker API keys: a secret is entered once and
// only its masked hint is ever shown again.
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { z } from "zod";
import { api, get, type User } from "../api";
import { useAuth, useUser } from "../auth";
import { Card, Empty, ErrorBox, Field, Loading } from "../components/ui";
import { dateTime } from "../format";
import { useSubmit } from "../forms";
import type { ApiKey } from "../types";
import { NameFields } from "./AuthPages";

const CURRENCIES = ["USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD"];
const zones = (): string[] => {
  const f = (Intl as unknown as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf;
  return f ? ["UTC", ...f("timeZone")] : ["UTC", "Europe/London", "Europe/Paris", "America/New_York", "Asia/Tokyo"];
};

const profileSchema = z.object({
  first_name: z.string().trim().max(100),
  last_name: z.string().trim().max(100),
  timezone: z.string().min(1),
  preferred_currency: z.string().length(3),
});

function Profile() {
  const user = useUser();
  const { setUser } = useAuth();
  const [saved, setSaved] = useState(false);
  const f = useForm<z.infer<typeof profileSchema>>({
    resolver: zodResolver(profileSchema),
    defaultValues: {
      first_name: user.first_name ?? "",
      last_name: user.last_name ?? "",
      timezone: user.timezone,
      preferred_currency: user.preferred_currency,
    },
  });
  const { onSubmit, error } = useSubmit(f, Object.keys(profileSchema.shape), async (v) => {
    setSaved(false);
    setUser(await api<User>("PATCH", "/auth/me", v));
    setSaved(true);
  });
  return (
    <Card title="Profile">
      <form noValidate onSubmit={onSubmit}>
        <ErrorBox error={error} />
        <p className="muted">{user.email}</p>
        <NameFields f={f} />
        <div className="row2">
          <Field label="Timezone" error={f.formState.errors.timezone} hint="Times everywhere are shown in it">
            <select {...f.register("timezone")}>
              {zones().map((z) => (
                <option key={z}>{z}</option>
              ))}
            </select>
          </Field>
          <Field label="Preferred currency" error={f.formState.errors.preferred_currency} hint="New portfolios start in it">
            <select {...f.register("preferred_currency")}>
              {[...new Set([user.preferred_currency, ...CURRENCIES])].map((c) => (
                <option key={c}>{c}</option>
              ))}
            </select>
          </Field>
        </div>
        <button className="primary" disabled={f.formState.isSubmitting}>
          Save
        </button>{" "}
        {saved && (
          <span role="status" className="up">
            Saved.
          </span>
        )}
      </form>
    </Card>
  );
}


const keySchema = z.object({
  exchange: z.enum(["binance", "kraken", "alpaca", "coinbase"]),
  label: z.string().trim().min(1, "Name it").max(100),
  api_key: z.string().trim().min(1, "Paste the key"),
  api_secret: z.string().trim().min(1, "Paste the secret"),
  passphrase: z.string().optional(),
  is_paper: z.boolean(),
});

function ApiKeys() {
  const user = useUser();
  const qc = useQueryClient();
  const keys = useQuery({ queryKey: ["api-keys"], queryFn: () => get<{ items: ApiKey[] }>("/api-keys") });
  const f = useForm<z.infer<typeof keySchema>>({ resolver: zodResolver(keySchema), defaultValues: { exchange: "binance", is_paper: true } });
  const { onSubmit, error } = useSubmit(f, Object.keys(keySchema.shape), async (v) => {
    await api("POST", "/api-keys", { ...v, passphrase: v.passphrase || undefined });
    f.reset({ exchange: v.exchange, is_paper: v.is_paper, label: "", api_key: "", api_secret: "", passphrase: "" });
    await qc.invalidateQueries({ queryKey: ["api-keys"] });
  });
  const del = useMutation({
    mutationFn: (id: string) => api("DELETE", `/api-keys/${id}`),
    onSuccess: () => qc.invalidateQueries({ queryKey: ["api-keys"] }),
  });
  return (
    <Card title="Broker API keys">
      <ErrorBox error={keys.error ?? del.error} />
      {keys.isPending ? (
        <Loading />
      ) : (keys.data?.items.length ?? 0) === 0 ? (
        <Empty>No key stored. Keys are kept encrypted; only a masked hint is ever shown.</Empty>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Label</th>
              <th>Exchange</th>
              <th>Key</th>
              <th>Added</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {keys.data?.items.map((k) => (
              <tr key={k.id}>
                <td>
                  {k.label} {k.is_paper && <span className="tag">testnet</span>}
                </td>
                <td>{k.exchange}</td>
                <td>
                  <code>{k.key_hint}</code>
                </td>
                <td>{dateTime(k.created_at, user.timezone)}</td>
                <td>
                  <button type="button" className="link danger" onClick={() => confirm(`Delete the key “${k.label}”?`) && del.mutate(k.id)}>
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>Add a key</h3>
      <form noValidate autoComplete="off" onSubmit={onSubmit}>
        <ErrorBox error={error} />
        <div className="row2">
          <Field label="Exchange" error={f.formState.errors.exchange}>
            <select {...f.register("exchange")}>
              <option value="binance">Binance</option>
              <option value="kraken">Kraken</option>
              <option value="alpaca">Alpaca</option>
              <option value="coinbase">Coinbase</option>
            </select>
          </Field>
          <Field label="Label" error={f.formState.errors.label}>
            <input {...f.register("label")} />
          </Field>
        </div>
        <div className="row2">
          <Field label="API key" error={f.formState.errors.api_key}>
            <input spellCheck={false} {...f.register("api_key")} />
          </Field>
          <Field label="API secret" error={f.formState.errors.api_secret}
                 hint={f.watch("exchange") === "coinbase" ? "The key's PEM private key; sent once, stored encrypted"
                                                          : "Sent once, stored encrypted"}>
            {f.watch("exchange") === "coinbase" ? (
              <textarea rows={5} spellCheck={false} autoComplete="off" {...f.register("api_secret")} />
            ) : (
              <input type="password" autoComplete="new-password" {...f.register("api_secret")} />
            )}
          </Field>
        </div>
        <label className="check">
          <input type="checkbox" {...f.register("is_paper")} /> Testnet / paper account
        </label>
        <button className="primary" disabled={f.formState.isSubmitting}>
          Store the key
        </button>
      </form>
    </Card>
  );
}

export function Settings() {
  return (
    <div className="page">
      <h1>Settings</h1>
      <Profile />
      <ApiKeys />
    </div>
  );
}
