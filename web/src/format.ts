// Numbers, money and times as the user reads them: in their currency and timezone (their
// profile's preferred_currency and timezone), from the API's exact decimal strings. Intl formats
// a decimal string without going through a binary float first, so "0.00000001" stays itself.

type Num = string | number | null | undefined;

const cache = new Map<string, Intl.NumberFormat>();
function nf(key: string, make: () => Intl.NumberFormat) {
  let f = cache.get(key);
  if (!f) cache.set(key, (f = make()));
  return f;
}

function value(v: Num): string | number | null {
  if (v === null || v === undefined || v === "") return null;
  if (typeof v === "number") return Number.isFinite(v) ? v : null;
  return /^-?\d+(\.\d+)?$/.test(v.trim()) ? v.trim() : null;
}

// Intl's TypeScript types still say number; strings are formatted exactly (Intl.NumberFormat v3).
const fmt = (f: Intl.NumberFormat, v: string | number) => f.format(v as number);

/** Digits after the point a price needs: 2 from 1 up, more for small prices (crypto pairs). */
export function priceDigits(v: Num): number {
  const x = value(v);
  if (x === null) return 2;
  const a = Math.abs(Number(x));
  if (a === 0 || a >= 1) return 2;
  return Math.min(8, Math.max(2, 1 - Math.floor(Math.log10(a)) + 3));
}

/** 1234.5 in USD -> "$1,234.50"; "—" for a missing value. */
export function money(v: Num, currency = "USD", locale?: string): string {
  const x = value(v);
  if (x === null) return "—";
  const digits = priceDigits(x);
  const f = nf(`m|${locale}|${currency}|${digits}`, () => {
    try {
      return new Intl.NumberFormat(locale, { style: "currency", currency, minimumFractionDigits: 2, maximumFractionDigits: digits });
    } catch {
      // A code Intl does not know (USDT): the number and the code.
      return new Intl.NumberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: digits });
    }
  });
  const s = fmt(f, x);
  return f.resolvedOptions().style === "currency" ? s : `${s} ${currency}`;
}

/** A plain number with up to `digits` decimals (quantities: 8). */
export function num(v: Num, digits = 8, locale?: string): string {
  const x = value(v);
  if (x === null) return "—";
  return fmt(nf(`n|${locale}|${digits}`, () => new Intl.NumberFormat(locale, { maximumFractionDigits: digits })), x);
}

/** A percentage given in percent: 12.345 -> "+12.35 %"; signed, since these are returns. */
export function pct(v: Num, locale?: string): string {
  const x = value(v);
  if (x === null) return "—";
  const f = nf(`p|${locale}`, () => new Intl.NumberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2, signDisplay: "exceptZero" }));
  return `${fmt(f, x)} %`;
}

/** "up" / "down" / "" for colouring a signed value. */
export function trend(v: Num): "up" | "down" | "" {
  const x = value(v);
  if (x === null) return "";
  const n = Number(x);
  return n > 0 ? "up" : n < 0 ? "down" : "";
}

function validZone(tz?: string): string | undefined {
  if (!tz) return undefined;
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
    return tz;
  } catch {
    return "UTC";
  }
}

/** An ISO time in the user's timezone: "2024-03-05 14:07" (minutes) or with seconds. */
export function dateTime(iso: string | null | undefined, timeZone?: string, seconds = false): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "—";
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: validZone(timeZone),
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: seconds ? "2-digit" : undefined,
    hourCycle: "h23",
  }).formatToParts(d);
  const p = Object.fromEntries(parts.map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}${seconds ? `:${p.second}` : ""}`;
}

/** Just the date, in the user's timezone. */
export function date(iso: string | null | undefined, timeZone?: string): string {
  return dateTime(iso, timeZone).slice(0, 10);
}
